/* ui_overview.test.js — overview.js's honest downsampling: every cell lands in
 * exactly one pixel, each pixel holds the max (or the signed largest
 * magnitude) of its cells, all-masked pixels are marked, and the O(n) colour
 * limit is within one histogram bin of the exact quantile (sorted here). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { binMatrix, quantileAbs, needsOverview, zoomShape, naturalSize } from '../../web/lib/overview.js';

/** A seeded pseudo-random matrix with a causal mask (j > i masked). */
function matrix(rows, cols, seed = 7, causal = false) {
  let x = seed;
  const rnd = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const m = Array.from({ length: rows }, () => Array.from({ length: cols }, rnd));
  return (i, j) => (causal && j > i ? null : m[i][j]);
}

test('binning: each pixel is the max (or signed absmax) over exactly its cells', () => {
  for (const [rows, cols, bh, bw] of [[256, 256, 100, 100], [37, 11, 5, 4], [10, 10, 10, 10], [1024, 768, 420, 560]]) {
    const get = matrix(rows, cols, rows + cols, rows === cols);
    for (const mode of ['max', 'absmax']) {
      const { data, empty } = binMatrix(get, rows, cols, bh, bw, mode);
      // Independent: assign each cell to its pixel by scaling its index, then reduce.
      const best = new Map();
      for (let i = 0; i < rows; i++) {
        for (let j = 0; j < cols; j++) {
          const v = get(i, j);
          if (v === null) continue;
          // Pixel y starts at row floor(y * rows / bh): cell i is in the last pixel starting at or before it.
          const y = Math.ceil(((i + 1) * bh) / rows) - 1, x = Math.ceil(((j + 1) * bw) / cols) - 1;
          const k = y * bw + x, b = best.get(k);
          if (b === undefined || (mode === 'max' ? v > b : Math.abs(v) > Math.abs(b))) best.set(k, v);
        }
      }
      for (let k = 0; k < bh * bw; k++) {
        if (!best.has(k)) { assert.equal(empty[k], 1, `pixel ${k} should be empty`); continue; }
        assert.equal(empty[k], 0);
        assert.equal(data[k], Math.fround(best.get(k)), `${rows}x${cols} -> ${bh}x${bw} ${mode} pixel ${k}`);
      }
    }
  }
});

test('the colour limit is the 99th percentile of |value| within one histogram bin', () => {
  const rows = 300, cols = 200, get = matrix(rows, cols, 3, true);
  const a = [];
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) { const v = get(i, j); if (v !== null) a.push(Math.abs(v)); }
  a.sort((x, y) => x - y);
  const exact = a[Math.floor(0.99 * a.length)], top = a[a.length - 1];
  const q = quantileAbs(get, rows, cols, 0.99);
  assert.ok(q >= exact && q - exact <= top / 2048 + 1e-12, `${q} vs exact ${exact}`);
  assert.equal(quantileAbs(() => null, 3, 3), 1e-6);
});

test('large matrices switch to the overview; the zoom window shows full-resolution cells', () => {
  const labels = (n) => Array.from({ length: n }, (_, i) => `tok${i}`);
  assert.equal(needsOverview({ rows: 24, cols: 24, cell: 20, rowLabels: labels(24), colLabels: labels(24) }), false);
  assert.equal(needsOverview({ rows: 256, cols: 256, cell: 12, rowLabels: labels(256), colLabels: labels(256) }), true);
  assert.equal(needsOverview({ rows: 256, cols: 256, maxWidth: 1000, rowLabels: labels(256) }), true, 'T x C at 256 rows is too tall');
  const o = { rows: 256, cols: 256, cell: 12, rowLabels: labels(256), colLabels: labels(256), maxWidth: 800 };
  const z = zoomShape(o);
  assert.equal(z.zr, 24); assert.equal(z.zc, 24); assert.ok(z.cell >= 12);
  const tc = { rows: 256, cols: 256, maxWidth: 1200, rowLabels: labels(256) };
  const zt = zoomShape(tc);
  assert.equal(zt.zc, 256, 'all columns fit at the natural cell width');
  assert.equal(zt.cell, naturalSize(tc).cw);
});

test('charts.js absMax (selection, no sort) is exactly the sorted 99th percentile', async () => {
  const { absMax } = await import('../../web/lib/charts.js');
  for (const [rows, cols, seed] of [[1, 1, 1], [7, 5, 2], [64, 64, 3], [256, 100, 4]]) {
    const base = matrix(rows, cols, seed, rows === cols);
    const get = (i, j) => { const v = base(i, j); return v === null ? null : Math.round(v * 20) / 20; }; // many ties
    const a = [];
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) { const v = get(i, j); if (v !== null) a.push(Math.abs(v)); }
    a.sort((x, y) => x - y);
    const want = a[Math.min(a.length - 1, Math.floor(0.99 * a.length))] || a[a.length - 1] || 1e-6;
    assert.equal(absMax(get, rows, cols), want, `${rows}x${cols}`);
    assert.equal(absMax(get, rows, cols, (i, j) => j <= i), (() => {
      const b = [];
      for (let i = 0; i < rows; i++) for (let j = 0; j <= Math.min(i, cols - 1); j++) { const v = get(i, j); if (v !== null) b.push(Math.abs(v)); }
      b.sort((x, y) => x - y);
      return b[Math.min(b.length - 1, Math.floor(0.99 * b.length))] || b[b.length - 1] || 1e-6;
    })());
  }
  assert.equal(absMax(() => null, 3, 3), 1e-6);
});

test('a dense getter (array + stride + offset) bins, limits and counts exactly as the same cells read through a closure', async () => {
  const { dense } = await import('../../web/lib/overview.js');
  const { absMax, clipCount } = await import('../../web/lib/charts.js');
  // Three 40 × 70 matrices side by side in one row-major Float32Array (stride 210): the middle one,
  // with -Infinity (masked), NaN and a tie of opposite signs (absmax keeps the first in row order).
  const R = 40, C = 70, S = 3 * C, a = new Float32Array(R * S);
  let x = 11;
  for (let k = 0; k < a.length; k++) a[k] = ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648) * 4 - 2;
  a[5 * S + C + 3] = -Infinity; a[6 * S + C + 9] = NaN; a[0 * S + C] = 1.5; a[0 * S + C + 1] = -1.5;
  const d = dense(a, S, C), plain = (i, j) => a[C + i * S + j];
  for (const [bh, bw] of [[7, 9], [40, 70], [1, 1]]) {
    for (const mode of ['max', 'absmax']) assert.deepEqual(binMatrix(d, R, C, bh, bw, mode), binMatrix(plain, R, C, bh, bw, mode));
  }
  assert.equal(quantileAbs(d, R, C), quantileAbs(plain, R, C));
  assert.equal(absMax(d, R, C), absMax(plain, R, C));
  assert.deepEqual(clipCount(d, R, C, 1), clipCount(plain, R, C, 1));
  assert.equal(clipCount(d, R, C, 0).total, R * C - 2); // -Infinity and NaN are not values
  // The keys a query may see (j <= i): the 'lower' fast path and a keep function read the same cells.
  assert.equal(absMax(d, R, C, 'lower'), absMax(plain, R, C, (i, j) => j <= i));
  assert.notEqual(absMax(d, R, C, 'lower'), absMax(d, R, C));
});

test('absMax over a dense getter (histogram, then selection in one bin) is the sorted 99th percentile: ties, zeros, one value, outliers', async () => {
  const { dense } = await import('../../web/lib/overview.js');
  const { absMax } = await import('../../web/lib/charts.js');
  let x = 5;
  const rnd = () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
  const sorted99 = (vals) => { const v = vals.filter(Number.isFinite).map(Math.abs).sort((p, q) => p - q); return v.length ? v[Math.min(v.length - 1, Math.floor(0.99 * v.length))] || v.at(-1) || 1e-6 : 1e-6; };
  const cases = {
    random: (n) => Float32Array.from({ length: n }, () => rnd() * 2 - 1),
    ties: (n) => Float32Array.from({ length: n }, () => Math.round(rnd() * 6 - 3) / 2), // seven values
    outlier: (n) => Float32Array.from({ length: n }, (_, i) => (i === 7 ? 1e6 : (rnd() - 0.5) * 1e-3)),
    zeros: (n) => new Float32Array(n),
    one: (n) => new Float32Array(n).fill(-0.25),
  };
  for (const [name, make] of Object.entries(cases)) {
    for (const [R, C] of [[1, 1], [3, 5], [97, 131], [256, 300]]) {
      const a = make(R * C);
      assert.equal(absMax(dense(a, C), R, C), sorted99(Array.from(a)), `${name} ${R}x${C}`);
      const low = []; for (let i = 0; i < R; i++) for (let j = 0; j <= Math.min(i, C - 1); j++) low.push(a[i * C + j]);
      assert.equal(absMax(dense(a, C), R, C, 'lower'), sorted99(low), `${name} ${R}x${C} lower`);
    }
  }
});
