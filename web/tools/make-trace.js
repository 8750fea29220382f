#!/usr/bin/env node
/* make-trace.js — precomputes what the page shows first, so it draws before
 * the model loads (STYLE.md §13). Runs at build time in Node, through the same
 * engine.js the worker uses, on the same glassbox.wasm:
 *
 *   node web/tools/make-trace.js MODEL_DIR WASM OUT.json
 *
 * It writes the answers for one state (the default model and prompt, no
 * generated tokens, no interventions, the default seed and sampling): the
 * run, the first step's payload, the sampling answer, the comparison and the
 * logit lens. main.js shows them only while the URL asks for that state.
 * Floats keep 4 significant digits; −∞ is written as null (the views read
 * null as masked). tests/node/ui_engine.test.js checks it against the engine. */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [modelDir, wasmPath, out] = process.argv.slice(2);
if (!modelDir || !wasmPath || !out) { console.error('usage: make-trace.js MODEL_DIR WASM OUT.json'); process.exit(2); }
const here = path.dirname(new URL(import.meta.url).pathname);
const { Glassbox } = await import(pathToFileURL(path.resolve(here, '../../wasm/glassbox.js')));
const { Session } = await import(pathToFileURL(path.resolve(here, '../engine.js')));
const { stepId } = await import(pathToFileURL(path.resolve(here, '../steps.js')));
const { DEFAULTS } = await import(pathToFileURL(path.resolve(here, '../state.js')));

const gb = await Glassbox.create({ wasm: fs.readFileSync(wasmPath) });
await gb.loadModelFromUrl(pathToFileURL(path.resolve(modelDir) + '/'));
const session = new Session(gb);
const sampling = { temperature: DEFAULTS.temperature, topK: DEFAULTS.topK, topP: DEFAULTS.topP };
const state = { prompt: DEFAULTS.prompt, gen: [], interventions: [], seed: DEFAULTS.seed };
const run = session.sync(state);
const trace = {
  version: 2, model: DEFAULTS.model, prompt: DEFAULTS.prompt, seed: DEFAULTS.seed, sampling,
  config: { ...gb.config }, run,
  // Only the first step: the rest arrive from the live engine a moment later
  // (every step of the default model would be ~3 MB of JSON).
  steps: { [stepId(DEFAULTS.stage, DEFAULTS.layer)]: session.step(DEFAULTS.stage, DEFAULTS.layer) },
  predict: session.predict({ sampling, k: 12 }),
  compare: session.compare({ sampling, k: 8 }),
  lens: session.lens({ maxPos: 16 }),
};
const round = (v) => (Number.isFinite(v) ? Number(v.toPrecision(4)) : null);
const json = JSON.stringify(trace, (k, v) => (ArrayBuffer.isView(v) ? Array.from(v, round) : typeof v === 'number' && !Number.isInteger(v) ? round(v) : v));
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, json);
console.log(`trace: ${out} (${(json.length / 1024).toFixed(0)} KB, ${run.ids.length} tokens)`);
