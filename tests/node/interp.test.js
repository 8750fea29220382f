/* interp.test.js — wasm/interp.js through the built module.
 *
 * - Against the float64 PyTorch reference (tests/fixtures/interp/*.safetensors,
 *   make_interp_fixtures.py): patching grids, DLA, head scores and MLP sparsity
 *   on the default model, tiny-f32 and the induction lesson. Tolerances as
 *   tests/native/test_interp.c: LD-scaled 1e-4 (grids divided by the gap),
 *   1e-4 for head scores, one position / two neurons for threshold counts.
 * - Against the native CLI (`glassbox patch`, `glassbox attribute` on the
 *   default model): the same tensor names, values within 1e-5 (same C, other
 *   SIMD order).
 * - Progress and cancel: patchGridAll and reagent report every chunk and stop
 *   at an aborted signal, leaving the engine usable.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import * as interp from '../../wasm/interp.js';
import { readSafetensors } from './safetensors.js';
import { CLI, ROOT, createGb, readModelFiles, run, wasmMissing } from './wasm_common.js';

const skip = wasmMissing() || false;
const ref = (name) => readSafetensors(fs.readFileSync(path.join(ROOT, 'tests/fixtures/interp', `${name}.safetensors`))).tensors;
const maxAbs = (a, b) => { assert.equal(a.length, b.length); let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i])); return m; };

const MODELS = [
  { name: 'default', dir: 'models/default', heads: { seed: 1, length: 20, lo: 0, hi: 4095, bos: 4095 } },
  { name: 'tiny-f32', dir: 'tests/fixtures/models/tiny-f32', heads: null },
  { name: 'induction', dir: 'models/lessons/induction', heads: { seed: 1, length: 20, lo: 32, hi: 127, bos: -1 } },
];

for (const m of MODELS) {
  test(`interp.js matches PyTorch on ${m.name}`, { skip }, async () => {
    const gb = await createGb();
    await gb.loadModel(readModelFiles(path.join(ROOT, m.dir)));
    const r = ref(m.name), c = gb.config;
    const clean = r.get('tokens.clean').data, corr = r.get('tokens.corrupted').data;
    const t = r.get('tokens.target').data[0], d = r.get('tokens.distractor').data[0];
    const ldc = r.get('patch.ld_clean').data[0], ldx = r.get('patch.ld_corrupted').data[0];
    const tolLd = 1e-4 * Math.max(1, Math.abs(ldc)), tolGrid = tolLd / Math.abs(ldc - ldx);
    gb.setTokens(corr);
    interp.setPatchSource(gb, clean);
    assert.deepEqual(Array.from(interp.patchSourceTokens(gb)), Array.from(clean));
    for (const hook of interp.PATCH_HOOKS) {
      const g = await interp.patchGridAll(gb, hook, t, d);
      const key = `patch.${hook.replace(/^attn\./, '')}`;
      const e = maxAbs(g.values, r.get(key).data);
      console.log(`  ${m.name} ${key}: max error ${e.toExponential(2)} (tol ${tolGrid.toExponential(2)})`);
      assert.ok(e <= tolGrid, `${key}: ${e}`);
      assert.ok(Math.abs(g.ldClean - ldc) <= tolLd && Math.abs(g.ldCorrupted - ldx) <= tolLd);
    }
    gb.setTokens(clean);
    const a = interp.dla(gb, t, d);
    a.bySource = interp.dlaBySource(gb, t, d);
    const named = interp.tensors('dla', a);
    for (const k of ['dla.embed', 'dla.pos_embed', 'dla.heads', 'dla.attn_bias', 'dla.mlp', 'dla.ln_final_bias', 'dla.total', 'dla.head_by_source']) {
      const e = maxAbs(named[k].data, r.get(k).data);
      assert.ok(e <= tolLd, `${k}: ${e}`);
    }
    let sum = a.embed + a.posEmbed + a.lnFinalBias;
    for (const x of [...a.heads, ...a.attnBias, ...a.mlp]) sum += x;
    assert.ok(Math.abs(sum - a.total) <= 1e-4 * Math.max(1, Math.abs(a.total)), `DLA parts ${sum} vs total ${a.total}`);
    const sp = interp.mlpSparsity(gb);
    assert.ok(maxAbs(sp.active, r.get('mlp.active_share').data) <= 2 / c.d_mlp + 1e-6);
    assert.ok(maxAbs(sp.above, r.get('mlp.above_share').data) <= 2 / c.d_mlp + 1e-6);
    const hs = m.heads ?? { seed: 1, length: Math.min(6, (c.n_positions - 1) >> 1), lo: 0, hi: c.vocab_size - 1, bos: c.vocab_size - 1 };
    const h = interp.headFinder(gb, hs);
    assert.deepEqual(Array.from(h.tokens), Array.from(r.get('heads.tokens').data));
    const ht = interp.tensors('heads', h);
    for (const k of ['heads.previous_token', 'heads.induction', 'heads.duplicate_token', 'heads.sink', 'heads.virtual_induction']) {
      assert.ok(maxAbs(ht[k].data, r.get(k).data) <= 1e-4, k);
    }
    assert.ok(maxAbs(h.outlierShare, r.get('heads.outlier_share').data) <= 1 / h.tokens.length + 1e-6);
    assert.deepEqual(Array.from(gb.tokens), Array.from(clean), 'the head finder put the run back');
  });
}

test('interp.js and the CLI write the same tensors under the same names', { skip: skip || (!fs.existsSync(CLI) && 'CLI not built') }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gb-interp-'));
  const model = path.join(ROOT, 'models/default');
  const clean = 'said Stubb. "Aye," said', corrupted = 'said Queequeg. "Aye," said';
  const p = await run(CLI, ['patch', '--model', model, '--clean', clean, '--corrupted', corrupted, '--target', ' Stubb',
    '--distractor', ' Queequeg', '--out', path.join(dir, 'p.safetensors')]);
  assert.equal(p.code, 0, p.stderr);
  const a = await run(CLI, ['attribute', '--model', model, '--prompt', clean, '--target', ' Stubb', '--distractor', ' Queequeg',
    '--heads-hi', '4095', '--heads-bos', '4095', '--reagent-steps', '64', '--out', path.join(dir, 'a.safetensors')]);
  assert.equal(a.code, 0, a.stderr);
  const cp = readSafetensors(fs.readFileSync(path.join(dir, 'p.safetensors'))).tensors;
  const ca = readSafetensors(fs.readFileSync(path.join(dir, 'a.safetensors'))).tensors;

  const gb = await createGb();
  await gb.loadModel(readModelFiles(model));
  const ci = gb.tokenize(clean).ids, xi = gb.tokenize(corrupted).ids;
  const t = gb.tokenize(' Stubb').ids[0], d = gb.tokenize(' Queequeg').ids[0];
  gb.setTokens(xi);
  interp.setPatchSource(gb, ci);
  const grids = [];
  for (const hook of interp.PATCH_HOOKS) grids.push(await interp.patchGridAll(gb, hook, t, d));
  const js = interp.tensors('patch', { tokens: { clean: ci, corrupted: xi, target: t, distractor: d }, grids });
  assert.deepEqual(Object.keys(js).sort(), [...cp.keys()].sort());
  for (const [k, v] of Object.entries(js)) {
    assert.deepEqual(v.shape, cp.get(k).shape, k);
    assert.ok(maxAbs(v.data, cp.get(k).data) <= 1e-5, `${k} differs from the CLI`);
  }
  gb.setTokens(ci);
  const dl = interp.dla(gb, t, d);
  dl.bySource = interp.dlaBySource(gb, t, d);
  const h = interp.headFinder(gb, { seed: 1, length: 20, lo: 0, hi: 4095, bos: 4095 });
  const rg = await interp.reagent(gb, { seed: 1, ratio: 0.3, maxSteps: 64 });
  const all = { ...interp.tensors('dla', dl), ...interp.tensors('heads', h), ...interp.tensors('mlp', interp.mlpSparsity(gb)),
    ...interp.tensors('reagent', rg) };
  for (const [k, v] of Object.entries(all)) {
    assert.ok(ca.has(k), `the CLI lacks ${k}`);
    assert.deepEqual(v.shape, ca.get(k).shape, k);
    assert.ok(maxAbs(v.data, ca.get(k).data) <= 1e-5, `${k} differs from the CLI`);
  }
  fs.rmSync(dir, { recursive: true });
});

test('patchGridAll and reagent report progress and stop when aborted', { skip }, async () => {
  const gb = await createGb();
  await gb.loadModel(readModelFiles(path.join(ROOT, 'models/lessons/addition')));
  const ids = (s) => Array.from(s, (ch) => ch.charCodeAt(0));
  gb.setTokens(ids('045+124='));
  interp.setPatchSource(gb, ids('045+123='));
  const seen = [];
  const g = await interp.patchGridAll(gb, 'hook_resid_pre', 56, 57, { onProgress: (done, total) => seen.push([done, total]) });
  assert.deepEqual(seen, [[8, 16], [16, 16]]);
  assert.ok(Math.abs(g.values[6] - 1) < 1e-4, 'patching b0 at block 0 restores the clean answer');
  const ac = new AbortController();
  await assert.rejects(interp.patchGridAll(gb, 'hook_resid_pre', 56, 57, { onProgress: () => ac.abort(), signal: ac.signal }),
    (e) => e.name === 'AbortError');
  const again = await interp.patchGridAll(gb, 'attn.hook_z', 56, 57);
  assert.ok(again.values[0] > 0.9, 'head 0.0 restores after a cancelled grid');
  for (const [grid, cell] of [[again, 0], [g, 6]]) { // a clicked cell, applied to the run, gives the cell's value
    gb.addIntervention(interp.cellIntervention(grid, cell));
    const { ldCorrupted } = interp.patchBaselines(gb, 56, 57);
    assert.ok(Math.abs((ldCorrupted - grid.ldCorrupted) / (grid.ldClean - grid.ldCorrupted) - grid.values[cell]) < 1e-5);
    gb.clearInterventions();
  }
  gb.setTokens(ids('045+123='));
  const steps = [];
  const rg = await interp.reagent(gb, { seed: 1, maxSteps: 400, onProgress: (s) => steps.push(s) });
  assert.ok(steps.length >= 4 && rg.target === '8'.charCodeAt(0));
  const top2 = [...rg.scores.keys()].sort((i, j) => rg.scores[j] - rg.scores[i]).slice(0, 2).sort();
  assert.deepEqual(top2, [2, 6], 'the units digit depends on a0 and b0');
  const ac2 = new AbortController();
  await assert.rejects(interp.reagent(gb, { onProgress: () => ac2.abort(), signal: ac2.signal }), (e) => e.name === 'AbortError');
  assert.deepEqual(Array.from(gb.tokens), ids('045+123='), 'the run holds its own tokens after a cancel');
  const top = interp.neuronTopTokens(gb, 0, 0, 5);
  assert.equal(top.ids.length, 5);
  assert.ok(top.values[0] >= top.values[4]);
  const tn = interp.mlpTopNeurons(gb, 1, -1, 3);
  assert.ok(tn.acts[0] >= tn.acts[2]);
});
