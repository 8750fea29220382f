/* views.test.js — the JS face of the head view and the store choice:
 * headPatternView's zoom equals activation('blocks.L.attn.hook_pattern') bit
 * for bit and its max overview equals a plain downsampling loop here, with
 * keepAll on and off, on 1 and 2 threads; storeBytes/chooseStore pick the
 * store by the budget. The C side is tested in tests/native/test_views.c. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { Glassbox, GlassboxError } from '../../wasm/glassbox.js';
import { ROOT, WASM, readModelFiles } from './wasm_common.js';

const MT = path.join(ROOT, 'build/wasm/glassbox-mt.wasm');
const MODEL = path.join(ROOT, 'models/default');
const missing = (!fs.existsSync(WASM) || !fs.existsSync(MT) || !fs.existsSync(path.join(MODEL, 'model.safetensors')))
  ? 'build/wasm or models/default missing' : false;

function cell(i, n, T) {
  let lo = Math.floor(i * T / n), hi = Math.floor((i + 1) * T / n);
  if (hi <= lo) hi = lo + 1;
  return [lo, Math.min(hi, T)];
}

for (const threads of [1, 2]) {
  test(`headPatternView matches the stored pattern (${threads} thread${threads > 1 ? 's' : ''})`, { skip: missing }, async () => {
    const gb = await Glassbox.create({ wasm: new URL(`file://${WASM}`), wasmThreads: new URL(`file://${MT}`), threads });
    try {
      await gb.loadModel(readModelFiles(MODEL));
      const { ids } = gb.tokenize('Call me Ishmael. Some years ago, never mind how long precisely. '.repeat(4));
      const T = Math.min(ids.length, 60), L = 2, H = 3;
      gb.setTokens(ids.slice(0, T));
      gb.runAll();
      const pat = gb.activation(`blocks.${L}.attn.hook_pattern`, { copy: true }).data.slice(H * T * T, (H + 1) * T * T);
      for (const keepAll of [true, false]) {
        gb.setKeepAll(keepAll);
        gb.runAll();
        const v = gb.headPatternView(L, H, { overview: { width: 13, height: 7, mode: 'max' }, zoom: { rows: [10, 20], keys: [3, 30] } });
        for (let r = 10; r < 20; r++)
          for (let c = 3; c < 30; c++) assert.equal(v.zoom[(r - 10) * 27 + c - 3], pat[r * T + c], `zoom ${r},${c} keepAll ${keepAll}`);
        for (let i = 0; i < 7; i++)
          for (let c = 0; c < 13; c++) {
            const [a, b] = cell(i, 7, T), [x, y] = cell(c, 13, T);
            let mx = 0;
            for (let r = a; r < b; r++) for (let k = x; k < y; k++) mx = Math.max(mx, pat[r * T + k]);
            assert.equal(v.overview[i * 13 + c], mx, `overview ${i},${c} keepAll ${keepAll}`);
          }
      }
      assert.throws(() => gb.headPatternView(L, H, { zoom: { rows: [5, 5], keys: [0, 1] } }), GlassboxError);
      assert.throws(() => gb.headPatternView(L, 99, { overview: { width: 2, height: 2 } }), GlassboxError);
      const all = gb.storeBytes(T, true), lean = gb.storeBytes(T, false);
      assert.ok(all > lean && lean > 0);
      assert.deepEqual(gb.chooseStore(T, all), { keepAll: true, bytes: all });
      assert.deepEqual(gb.chooseStore(T, all - 1), { keepAll: false, bytes: lean });
    } finally {
      gb.destroy();
    }
  });
}
