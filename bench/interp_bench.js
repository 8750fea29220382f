/* interp_bench.js — how long the interpretability tools take in WebAssembly
 * (what the page's worker runs), on a GPT-2-small-shaped model (12 layers,
 * 12 heads, 768 wide, vocab 50257; seeded random weights from
 * tests/e2e/synth-model.js) and on models/default, with 16-token prompts.
 *
 *   node bench/interp_bench.js [--reps 3]     (after ./build.sh: build/wasm/glassbox.wasm)
 *
 * Reports the median of --reps runs per tool, and each as a multiple of one
 * plain 16-token forward pass (the ratio is what carries to other machines).
 * Timing is reported, never asserted. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Glassbox } from '../wasm/glassbox.js';
import * as interp from '../wasm/interp.js';
import { writeSynthModel } from '../tests/e2e/synth-model.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const reps = Number(process.argv[process.argv.indexOf('--reps') + 1]) || 3;

function files(dir) {
  const rd = (f) => fs.readFileSync(path.join(dir, f));
  return { config: rd('config.json'), safetensors: rd('model.safetensors'), vocab: rd('vocab.json'), merges: rd('merges.txt') };
}

async function time(fn) {
  const ms = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return ms[ms.length >> 1];
}

async function bench(label, dir) {
  const gb = await Glassbox.create({ wasm: fs.readFileSync(path.join(ROOT, 'build/wasm/glassbox.wasm')) });
  await gb.loadModel(files(dir));
  const V = gb.config.vocab_size, T = 16;
  const clean = Array.from({ length: T }, (_, i) => (i * 7919 + 13) % (V - 1));
  const corr = clean.slice();
  corr[3] = (corr[3] + 101) % (V - 1);
  const target = 11, distractor = 12;
  const forward = await time(() => { gb.setTokens(corr); gb.runAll(); });
  gb.setTokens(corr);
  interp.setPatchSource(gb, clean);
  const rows = [['one forward pass, 16 tokens (logits included)', forward]];
  for (const hook of interp.PATCH_HOOKS) {
    const { rows: r, cols } = interp.patchGridShape(gb, hook);
    rows.push([`patching grid ${hook} (${r} x ${cols} cells)`,
      await time(() => interp.patchGridAll(gb, hook, target, distractor))]);
  }
  gb.setTokens(clean);
  gb.runAll();
  rows.push(['DLA table (every head, MLP, embeddings)', await time(() => interp.dla(gb, target, distractor))]);
  rows.push(['DLA by source position (every head)', await time(() => interp.dlaBySource(gb, target, distractor))]);
  rows.push(['head finder (length 20 repeated, 41 tokens)', await time(() => interp.headFinder(gb, { length: 20, bos: V - 1, hi: V - 1 }))]);
  rows.push(['MLP sparsity (every block and position)', await time(() => interp.mlpSparsity(gb))]);
  rows.push(['ReAGent, 32 steps', await time(() => interp.reagent(gb, { maxSteps: 32 }))]);
  console.log(`\n${label}: ${gb.config.n_layer} layers, ${gb.config.n_head} heads, n_embd ${gb.config.n_embd}, vocab ${V}; ` +
    `median of ${reps}, ${os.cpus().length} CPUs (${os.cpus()[0].model})`);
  for (const [name, ms] of rows) {
    console.log(`  ${name.padEnd(52)} ${ms.toFixed(1).padStart(9)} ms  ${(ms / forward).toFixed(1).padStart(6)} x forward`);
  }
  gb.destroy();
}

const small = path.join(ROOT, 'bench/results/tmp/gpt2-small-synth');
if (!fs.existsSync(path.join(small, 'model.safetensors'))) {
  writeSynthModel(small, { layers: 12, heads: 12, embd: 768, ctx: 1024, seed: 7 });
}
await bench('GPT-2-small-shaped (random weights)', small);
await bench('models/default', path.join(ROOT, 'models/default'));
