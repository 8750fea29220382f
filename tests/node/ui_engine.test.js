/* ui_engine.test.js — web/engine.js (what the worker answers for the views)
 * on the real engine in Node:
 *  - the run state: a description (prompt, gen, interventions, seed) gives
 *    the same answers however the Session got there (fresh, appended,
 *    interventions toggled, seed changed), and the draw equals the native
 *    CLI's `generate --seed` for that state (no replay anywhere);
 *  - every step's payload is shaped by T and the config, and its numbers are
 *    the engine's hooks (the scores step is hook_attn_scores where the mask
 *    keeps it);
 *  - the precomputed trace (dist/trace/default.json) is the live engine's
 *    answer for its state. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Glassbox } from '../../wasm/glassbox.js';
import { Session } from '../../web/engine.js';
import { stepList, stepId, KIND } from '../../web/steps.js';
import { DEFAULTS } from '../../web/state.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const WASM = path.join(ROOT, 'build/wasm/glassbox.wasm');
const CLI = path.join(ROOT, 'build/glassbox');
const MODEL = path.join(ROOT, 'models/default');
const TRACE = path.join(ROOT, 'dist/trace/default.json');
const skip = !fs.existsSync(WASM) ? 'glassbox.wasm not built' : !fs.existsSync(CLI) ? 'CLI not built'
  : !fs.existsSync(path.join(MODEL, 'config.json')) ? 'models/default not present' : false;

async function session(dir = MODEL) {
  const gb = await Glassbox.create({ wasm: fs.readFileSync(WASM) });
  await gb.loadModelFromUrl(pathToFileURL(`${dir}/`));
  return new Session(gb);
}

const cliGen = (prompt, n, { temperature, topK, topP }, seed) => execFileSync(CLI, ['generate', '--model', MODEL, '--prompt', prompt, '-n', String(n),
  '--temperature', String(temperature), '--top-k', String(topK), '--top-p', String(topP), '--seed', String(seed), '--ids'], { encoding: 'utf8' }).trim().split(/\s+/).map(Number);

test('the draw is a function of the state: equal to the CLI, however the session got there', { skip }, async () => {
  const s = await session();
  const prompt = 'Once upon a time';
  for (const [t, k, p] of [[0.9, 20, 0.9], [1.5, 0, 1], [0, 0, 1], [0.7, 5, 0.5]]) {
    const sampling = { temperature: t, topK: k, topP: p };
    const want = cliGen(prompt, 6, sampling, 9);
    const st = { prompt, gen: [], interventions: [], seed: 9 };
    s.sync(st);
    assert.equal(s.predict({ sampling }).token, want[0]);
    // Another seed first, an intervention, the lens: none of it moves the draw for the state.
    s.sync({ ...st, seed: 123 });
    s.sync({ ...st, interventions: [{ kind: 'ablate-zero', layer: 1, head: 1 }] });
    s.lens({});
    s.sync(st);
    assert.equal(s.predict({ sampling }).token, want[0], `t=${t}: back at the state`);
    assert.deepEqual(s.generate({ n: 2, sampling }).gen, want.slice(0, 2));
    assert.equal(s.predict({ sampling, k: 5 }).token, want[2]);
    assert.deepEqual(s.generate({ n: 4, sampling }).gen, want, `t=${t} k=${k} p=${p}`);
    // A link carries the generated ids: a fresh session continues the same stream.
    const s2 = await session();
    s2.sync({ ...st, gen: want.slice(0, 3) });
    assert.equal(s2.predict({ sampling }).token, want[3], 'a fresh run of the link draws the same next token');
    assert.equal(s2.predict({ sampling }).uniform, s.gb.uniformAt(3), 'with uniform number 3 of the stream');
    s2.gb.destroy();
  }
});

test('a seed change is only a seed change; gen shrinking rebuilds the run', { skip }, async () => {
  const s = await session();
  const sampling = { temperature: 1, topK: 0, topP: 1 };
  const prompt = 'The cat sat on the mat because it was';
  for (const seed of [1, 2, 3, 4]) {
    const want = cliGen(prompt, 2, sampling, seed);
    s.sync({ prompt, gen: [], interventions: [], seed });
    assert.equal(s.predict({ sampling }).token, want[0], `seed ${seed}`);
    s.sync({ prompt, gen: [want[0]], interventions: [], seed });
    assert.equal(s.predict({ sampling }).token, want[1], `seed ${seed}, second token`);
  }
  s.sync({ prompt, gen: [5, 6, 7], interventions: [], seed: 1 });
  s.sync({ prompt, gen: [5], interventions: [], seed: 1 });
  assert.deepEqual(s.runInfo().ids.slice(-2), [s.promptIds.at(-1), 5]);
  assert.equal(s.gb.numTokens, s.promptIds.length + 1);
  assert.equal(s.gb.numPromptTokens, s.promptIds.length, 'generated tokens stay generated');
});

/* Block L's whole pattern [H, T, T] as the stage view receives it for every head (T <= 96: whole heads). */
const patternOf = (s, L) => s.step('softmax', L, { allHeads: true }).fields.pattern.heads.flatMap((e) => Array.from(e.full));

test('interventions: every answer reads the intervened run, and clear gives the clean one back', { skip }, async () => {
  const s = await session();
  const sampling = { temperature: 0.8, topK: 40, topP: 0.95 };
  const st = { prompt: 'The cat sat on the mat because it was', gen: [], interventions: [], seed: 42 };
  const iv = [{ kind: 'ablate-zero', layer: 0, head: 1 }, { kind: 'ablate-zero', layer: 0, head: 2 }];
  s.sync(st);
  const clean = { p: s.predict({ sampling }), pat: patternOf(s, 3), lens: s.lens({}) };
  s.sync({ ...st, interventions: iv });
  const run = { p: s.predict({ sampling }), pat: patternOf(s, 3), lens: s.lens({}) };
  // The same numbers from the JS API directly (an independent path: no Session).
  const gb = await Glassbox.create({ wasm: fs.readFileSync(WASM) });
  await gb.loadModelFromUrl(pathToFileURL(`${MODEL}/`));
  gb.setTokens(s.promptIds);
  for (const e of iv) gb.setAblation(e.layer, e.head, 'zero');
  gb.runAll();
  gb.seed(42);
  assert.equal(run.p.token, gb.sample(sampling).token);
  assert.deepEqual(Array.from(run.pat), Array.from(gb.activation('blocks.3.attn.hook_pattern', { copy: true }).data));
  assert.equal(run.lens.rows[4].cells.at(-1).id, gb.logitLens(3, s.promptIds.length - 1, 1)[0].id);
  assert.notDeepEqual(Array.from(run.pat), Array.from(clean.pat), 'the ablation changes block 4');
  const cmp = s.compare({ sampling, k: 8 });
  assert.ok(cmp.intervened);
  assert.equal(cmp.clean.token, clean.p.token);
  assert.equal(cmp.run.token, run.p.token);
  assert.equal(cmp.clean.uniform, cmp.run.uniform, 'both draw with the same u');
  assert.ok(Math.abs(cmp.rows[0].clean - clean.p.rows[0].topP) < 1e-7);
  assert.equal(s.gb.interventions().length, 2, 'the comparison leaves the run intervened');
  s.sync(st);
  assert.equal(s.predict({ sampling }).token, clean.p.token, 'clear: back to the clean draw');
  assert.deepEqual(patternOf(s, 3), Array.from(clean.pat));
  gb.destroy();
});

test('every step has a payload shaped by T and the config, read from the engine', { skip }, async () => {
  const s = await session();
  s.sync({ prompt: 'The cat sat', gen: [], interventions: [], seed: 1 });
  const c = s.config, T = s.ids.length;
  const all = stepList(c.n_layer).map((x) => s.step(x.key, x.layer));
  assert.equal(all.length, 1 + 14 * c.n_layer + 3);
  const at = (id) => all[stepList(c.n_layer).findIndex((x) => x.id === id)].fields;
  assert.equal(at('embed').tok.data.length, T * c.n_embd);
  assert.equal(at('b0.softmax').pattern.heads[0].full.length, T * T, 'a short run: the head in view, whole');
  assert.equal(at('b0.mask').masked.data[1], -Infinity, 'masked score above the diagonal');
  const sc = at('b1.scores').scores.data, masked = s.gb.activation('blocks.1.attn.hook_attn_scores', { copy: true }).data;
  for (let h = 0; h < c.n_head; h++) for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) {
    const k = (h * T + i) * T + j;
    if (j <= i) assert.equal(sc[k], masked[k], 'the scores step is hook_attn_scores where the mask keeps it');
    else assert.ok(Number.isFinite(sc[k]), 'and keeps the future');
  }
  assert.equal(at('b1.gelu').cols.post.length, T * 24);
  const nPairs = T * c.d_mlp;
  assert.equal(at('b1.gelu').points.x.length, Math.ceil(nPairs / Math.ceil(nPairs / 4000)), 'every stride-th pair, at most 4,000');
  assert.equal(at('b1.up').top.ids.length, T * 5);
  assert.equal(at('b1.resid2').norms.data.length, (c.n_layer + 1) * T);
  assert.equal(at('logits').top.rows.length, T);
  // Every field of every step is one the step table lists.
  for (const [i, x] of stepList(c.n_layer).entries()) {
    const listed = Object.keys(KIND[x.key].reads).filter((f) => KIND[x.key].reads[f].fn !== 'predict');
    assert.deepEqual(Object.keys(all[i].fields).sort(), listed.sort(), x.id);
  }
  const long = s.sync({ prompt: 'word '.repeat(c.n_positions + 7), gen: [], interventions: [], seed: 1 });
  assert.equal(long.ids.length, c.n_positions, 'a long prompt is cut to the context');
  assert.ok(long.truncated > 0, 'and says how much was left out');
  s.sync({ prompt: 'The cat sat', gen: [], interventions: [], seed: 1 });
  const lens = s.lens({ maxPos: 2 });
  assert.equal(lens.rows.length, c.n_layer + 1);
  assert.equal(lens.rows[0].cells.length, Math.min(2, T));
});

test('the precomputed trace is the live engine’s answer for its state', { skip: skip || (!fs.existsSync(TRACE) && 'dist/ not built') }, async () => {
  const trace = JSON.parse(fs.readFileSync(TRACE, 'utf8'));
  const s = await session(path.join(ROOT, 'dist/models/default'));
  assert.equal(trace.prompt, DEFAULTS.prompt);
  assert.equal(trace.seed, DEFAULTS.seed);
  assert.deepEqual(trace.sampling, { temperature: DEFAULTS.temperature, topK: DEFAULTS.topK, topP: DEFAULTS.topP });
  const run = s.sync({ prompt: trace.prompt, gen: [], interventions: [], seed: trace.seed });
  assert.deepEqual(trace.run.ids, run.ids);
  assert.deepEqual(trace.run.pieces, run.pieces);
  // Floats are written with 4 significant digits.
  const close = (a, b, what) => assert.ok(a === b || (a == null && b === -Infinity) || Math.abs(a - b) <= 6e-4 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
  const p = s.predict({ sampling: trace.sampling, k: 12 });
  assert.equal(trace.predict.token, p.token);
  assert.equal(trace.predict.rank, p.rank);
  close(trace.predict.uniform, p.uniform, 'u');
  assert.deepEqual(trace.predict.rows.map((r) => r.id), p.rows.map((r) => r.id));
  trace.predict.rows.forEach((r, i) => { for (const f of ['logit', 'prob', 'topP', 'cum']) close(r[f], p.rows[i][f], `row ${i} ${f}`); });
  for (const [id, st] of Object.entries(trace.steps)) {
    const x = stepList(s.config.n_layer).find((y) => y.id === id);
    const live = s.step(x.key, x.layer);
    for (const [f, v] of Object.entries(st.fields)) v.data.forEach((a, i) => close(a, live.fields[f].data[i], `${id}.${f}[${i}]`));
  }
  const lens = s.lens({ maxPos: 16 });
  trace.lens.rows.forEach((r, i) => r.cells.forEach((c, j) => { assert.equal(c.id, lens.rows[i].cells[j].id); close(c.prob, lens.rows[i].cells[j].prob, 'lens'); }));
  assert.equal(trace.compare.clean.token, p.token);
  assert.ok(trace.steps[stepId(DEFAULTS.stage, DEFAULTS.layer)], 'the first view is in the trace');
});
