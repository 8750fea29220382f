/* top_columns.test.js — the JS face of the stage view's neuron tables:
 * topColumns (each position's k largest MLP neurons) and topColumnsAbsMax
 * (the k neurons of largest |value| anywhere) against a full ranking of
 * activation('blocks.L.mlp.hook_pre') done here, with the full store and
 * the low-memory store (which recomputes the block). The C side is tested in
 * tests/native/test_reads.c. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { Glassbox, GlassboxError } from '../../wasm/glassbox.js';
import { ROOT, WASM, readModelFiles } from './wasm_common.js';

const MODEL = path.join(ROOT, 'models/default');
const missing = (!fs.existsSync(WASM) || !fs.existsSync(path.join(MODEL, 'model.safetensors'))) ? 'build/wasm or models/default missing' : false;

/* Columns of row in this test's own order: value descending, ties by the lower column. */
const ranked = (row) => Array.from(row.keys()).sort((a, b) => row[b] - row[a] || a - b);

test('topColumns and topColumnsAbsMax equal a full ranking of the activation', { skip: missing }, async () => {
  const gb = await Glassbox.create({ wasm: new URL(`file://${WASM}`), threads: 1 });
  await gb.loadModel(readModelFiles(MODEL));
  const { ids } = gb.tokenize('The wind was cold, and the boats were coming home one by one. '.repeat(3));
  const T = ids.length, M = gb.config.d_mlp;
  gb.setTokens(ids);
  gb.runAll();
  for (const keepAll of [true, false]) {
    gb.setKeepAll(keepAll);
    gb.runAll();
    for (const L of [0, gb.config.n_layer - 1]) {
      const name = `blocks.${L}.mlp.hook_pre`;
      const x = gb.activation(name, { copy: true }).data;
      const got = gb.topColumns(name, { from: 3, count: T - 5, k: 5 });
      assert.equal(got.ids.length, (T - 5) * 5);
      for (let p = 0; p < T - 5; p++) {
        const row = x.subarray((p + 3) * M, (p + 4) * M);
        const want = ranked(row).slice(0, 5);
        assert.deepEqual(Array.from(got.ids.subarray(p * 5, p * 5 + 5)), want, `block ${L} position ${p + 3} keepAll ${keepAll}`);
        for (let i = 0; i < 5; i++) assert.equal(got.values[p * 5 + i], row[want[i]]);
      }
      const score = new Float32Array(M);
      for (let t = 0; t < T; t++) for (let m = 0; m < M; m++) score[m] = Math.max(score[m], Math.abs(x[t * M + m]));
      const top = gb.topColumnsAbsMax(name, 24);
      assert.deepEqual(Array.from(top.ids), ranked(score).slice(0, 24), `|max| columns, block ${L} keepAll ${keepAll}`);
      assert.deepEqual(Array.from(top.scores), ranked(score).slice(0, 24).map((m) => score[m]));
    }
  }
  assert.throws(() => gb.topColumns('blocks.0.mlp.hook_pre', { from: T - 1, count: 2 }), (e) => e instanceof GlassboxError && e.code === 'range');
  assert.throws(() => gb.topColumns('blocks.0.attn.hook_q'), (e) => e instanceof GlassboxError && e.code === 'arg');
  assert.throws(() => gb.topColumnsAbsMax('blocks.0.mlp.hook_pre', 0), (e) => e instanceof GlassboxError && e.code === 'arg');
  gb.destroy();
});
