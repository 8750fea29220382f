/* wasm_runstate.test.js — the run state through the JS API: the seed's
 * stream position, the pure sampler and the draw, interventions as entries
 * of the run, and the reads that replace model math in the page. Numbers are
 * checked against the CLI (same state, same token) or recomputed here. */
import assert from 'node:assert/strict';
import test from 'node:test';

import { CLI, createGb, fixtureDir, fixtureMissing, loadFixture, run, wasmMissing } from './wasm_common.js';

const NAME = 'tiny-f32';
const skip = wasmMissing() || fixtureMissing(NAME) || false;

test('a run rebuilt from (prompt, generated ids, seed) draws what generation drew, with no replay', { skip }, async () => {
  const gb = await createGb();
  await loadFixture(gb, NAME);
  const params = { temperature: 1.1, topK: 0, topP: 0.97 };
  const { tokens, prompt } = gb.generate('The cat', 8, { ...params, seed: 77 });
  const r = await run(CLI, ['generate', '--model', fixtureDir(NAME), '--prompt', 'The cat', '-n', '8', '--temperature', '1.1',
    '--top-p', '0.97', '--seed', '77', '--ids']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(Array.from(tokens), r.stdout.trim().split(/\s+/).map(Number).slice(-8), 'the CLI draws the same tokens');
  for (let j = 0; j < 8; j++) {
    gb.seed(77);
    gb.setTokens(prompt);
    if (j) gb.appendTokens(tokens.slice(0, j));
    gb.runAll();
    assert.equal(gb.numPromptTokens, prompt.length);
    assert.equal(gb.nextUniform(), gb.uniformAt(j), `generated token ${j} uses uniform ${j}`);
    const a = gb.sample(params, 0, { arrays: false }), b = gb.sample(params, 0, { arrays: false });
    assert.equal(a.token, tokens[j], `token ${j}`);
    assert.equal(b.token, a.token, 'sampling twice without appending: the same draw');
  }
  gb.destroy();
});

test('draw(u) is the first listed row whose cumulative probability exceeds u', { skip }, async () => {
  const gb = await createGb();
  await loadFixture(gb, NAME);
  gb.setTokens(gb.tokenize('Hello there').ids);
  gb.runAll();
  const params = { temperature: 1.5, topK: 30, topP: 0.9 };
  const d = gb.sampleDist(params, 40);
  let cum = 0;
  for (const row of d.rows) {
    cum += row.topP;
    assert.ok(Math.abs(row.cum - cum) < 1e-6, 'listed cumulative = running sum of the top-p column');
  }
  for (const u of [0, 0.1, 0.33, 0.5, 0.77, 0.999]) {
    const t = gb.draw(params, u);
    const first = d.rows.findIndex((row) => row.topP > 0 && u < row.cum);
    assert.equal(t.token, d.rows[first].id, `u = ${u}`);
    assert.equal(t.rank, first);
    assert.ok(t.cumBefore <= u && u < t.cumAfter);
  }
  assert.throws(() => gb.draw(params, 1), /u must be in \[0, 1\)/);
  gb.destroy();
});

test('interventions are entries of the run; the reads match the hooks', { skip }, async () => {
  const gb = await createGb();
  await loadFixture(gb, NAME);
  const ids = gb.tokenize('one two three four').ids;
  gb.setTokens(ids);
  gb.runAll();
  const clean = gb.activation('logits', { copy: true }).data;
  gb.addIntervention({ kind: 'ablate-zero', layer: 1, head: 2 });
  gb.addIntervention({ kind: 'ablate-mean', layer: 0, head: 0 });
  assert.deepEqual(gb.interventions().map((e) => [e.kind, e.hook, e.head, e.pos]),
    [['ablate-zero', 'blocks.1.attn.hook_z', 2, -1], ['ablate-mean', 'blocks.0.attn.hook_z', 0, -1]]);
  gb.runAll();
  const ablated = gb.activation('logits', { copy: true }).data;
  assert.notDeepEqual(ablated, clean);
  gb.clearInterventions();
  gb.setAblation(1, 2, 'zero');
  gb.setAblation(0, 0, 'mean');
  gb.runAll();
  assert.deepEqual(gb.activation('logits', { copy: true }).data, ablated, 'setAblation = the same entries');
  assert.throws(() => gb.addIntervention({ kind: 'ablate-zero', layer: 9, head: 0 }), /does not exist/);
  gb.clearAblations();
  gb.runAll();
  assert.deepEqual(gb.activation('logits', { copy: true }).data, clean, 'cleared: the clean run');

  const T = ids.length, H = gb.config.n_head;
  const full = gb.attnScoresUnmasked(1).data, masked = gb.activation('blocks.1.attn.hook_attn_scores').data;
  for (let h = 0; h < H; h++) for (let i = 0; i < T; i++) for (let j = 0; j <= i; j++) {
    assert.equal(full[(h * T + i) * T + j], masked[(h * T + i) * T + j], 'causal part = hook_attn_scores');
  }
  const top = gb.topTokens(T - 1, 3), logits = gb.activation('logits').data;
  const V = gb.config.vocab_size, row = logits.subarray((T - 1) * V, T * V);
  const best = Array.from(row.keys()).sort((a, b) => row[b] - row[a] || a - b).slice(0, 3);
  assert.deepEqual(top.map((x) => x.id), best);
  const norms = gb.rowNorms('blocks.0.hook_resid_post'), x = gb.activation('blocks.0.hook_resid_post').data, C = gb.config.n_embd;
  for (let t = 0; t < T; t++) {
    let s = 0; for (let i = 0; i < C; i++) s += x[t * C + i] ** 2;
    assert.ok(Math.abs(norms[t] - Math.sqrt(s)) <= 1e-5 * Math.sqrt(s));
  }
  gb.destroy();
});
