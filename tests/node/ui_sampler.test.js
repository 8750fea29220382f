/* ui_sampler.test.js — the draw the sampling view explains is the draw the
 * engine makes, through the JS API the page uses (glassbox.js sampleDist /
 * draw / nextUniform / sample): for 1,000 seeded draws over random prompts
 * (so random logits) and random settings, this test builds the displayed
 * order (final probability descending, ties by logit, then id) and the
 * running totals itself, in double precision from the raw logits, and checks
 * that the engine's token is the first row whose running total exceeds u,
 * that the engine's rows come in that order with those totals, and that
 * sample() at the run's RNG position is draw(nextUniform()).
 *
 * Tolerances: the engine's softmax is float32; a case where u, or the top-p
 * target, lies within 1e-5 of a running total is ambiguous at that
 * precision and is left out (at most 2% may be). Running totals agree to 1e-4. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Glassbox } from '../../wasm/glassbox.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const WASM = path.join(ROOT, 'build/wasm/glassbox.wasm');
const MODEL = path.join(ROOT, 'tests/fixtures/models/tiny-f32');
const skip = !fs.existsSync(WASM) ? 'glassbox.wasm not built' : !fs.existsSync(path.join(MODEL, 'config.json')) ? 'fixture missing' : false;
const EPS = 1e-5;

/* mulberry32: the test's own seeded randomness. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The displayed order and final distribution, from logits alone (double precision). */
function reference(logits, { temperature, topK, topP }) {
  const V = logits.length, T = temperature > 0 ? temperature : 1; // greedy: the engine shows T = 1 probabilities
  let mx = -Infinity; for (const l of logits) mx = Math.max(mx, l);
  const e = Array.from(logits, (l) => Math.exp((l - mx) / T));
  const z = e.reduce((a, b) => a + b, 0);
  const p = e.map((x) => x / z);
  const order = Array.from({ length: V }, (_, i) => i).sort((a, b) => p[b] - p[a] || logits[b] - logits[a] || a - b);
  const k = topK > 0 && topK < V ? topK : V;
  let zk = 0; for (let r = 0; r < k; r++) zk += p[order[r]];
  const pk = new Float64Array(V);
  for (let r = 0; r < k; r++) pk[order[r]] = p[order[r]] / zk;
  let n = k, near = false;
  if (topP < 1) {
    let c = 0;
    for (let r = 0; r < k; r++) {
      c += pk[order[r]];
      if (Math.abs(c - topP) < EPS) near = true;
      if (c >= topP) { n = r + 1; break; }
    }
  }
  let zp = 0; for (let r = 0; r < n; r++) zp += pk[order[r]];
  const final = new Float64Array(V);
  for (let r = 0; r < n; r++) final[order[r]] = pk[order[r]] / zp;
  const cum = []; let c = 0;
  for (const id of order) { c += final[id]; cum.push(c); }
  return { order, final, cum, survivors: n, nearCut: near };
}

test('1,000 seeded draws: the token is the first row, in the displayed order, whose running total exceeds u', { skip }, async () => {
  const gb = await Glassbox.create({ wasm: fs.readFileSync(WASM) });
  await gb.loadModelFromUrl(pathToFileURL(`${MODEL}/`));
  const V = gb.config.vocab_size, ctx = gb.config.n_positions;
  const rand = rng(12);
  const pick = (xs) => xs[Math.floor(rand() * xs.length)];
  let checked = 0, ambiguous = 0, greedy = 0, cutK = 0, cutP = 0;
  for (let i = 0; i < 1000; i++) {
    const n = 1 + Math.floor(rand() * 8);
    const prompt = Array.from({ length: n }, () => Math.floor(rand() * V));
    const gen = Array.from({ length: Math.floor(rand() * 3) }, () => Math.floor(rand() * V)).slice(0, ctx - n);
    const sp = {
      temperature: rand() < 0.1 ? 0 : Math.exp(Math.log(0.005) + rand() * Math.log(3 / 0.005)),
      topK: pick([0, 0, 1, 2, 5, 40, 1 + Math.floor(rand() * V), V + 10]),
      topP: rand() < 0.4 ? 1 : 0.02 + 0.98 * rand(),
    };
    const seed = Math.floor(rand() * 2 ** 31);
    gb.setTokens(prompt);
    if (gen.length) gb.appendTokens(gen);
    gb.seed(seed);
    gb.runAll();
    const T = gb.numTokens;
    const logits = gb.activation('logits', { copy: true }).data.slice((T - 1) * V, T * V);
    const ref = reference(logits, sp);
    const u = gb.nextUniform();
    assert.equal(u, gb.uniformAt(gen.length), 'the RNG position is the number of generated tokens');
    const d = gb.draw(sp, u);
    assert.equal(gb.sample(sp, 0, { arrays: false }).token, d.token, 'sample() = draw(nextUniform())');
    const rows = gb.sampleDist(sp, Math.min(V, 24), { arrays: false }).rows;
    const at = ref.cum.findIndex((c) => c > u);
    if (ref.nearCut || ref.cum.some((c) => Math.abs(c - u) < EPS)) { ambiguous++; continue; }
    if (sp.temperature === 0) {
      greedy++;
      assert.equal(d.token, ref.order[0], `draw ${i}: greedy takes the top row`);
    } else {
      assert.equal(d.token, ref.order[at], `draw ${i}: u = ${u}, ${JSON.stringify(sp)}: first row past u is ${ref.order[at]} (rank ${at}), engine drew ${d.token} (rank ${d.rank})`);
      assert.equal(d.rank, at);
      assert.ok(Math.abs(d.cumBefore - (at ? ref.cum[at - 1] : 0)) < 1e-4 && Math.abs(d.cumAfter - ref.cum[at]) < 1e-4, `draw ${i}: running totals`);
      assert.ok(d.cumBefore <= u && u < d.cumAfter, `draw ${i}: ${d.cumBefore} <= u < ${d.cumAfter}`);
    }
    // The rows the view lists: the same order (up to float32 near-ties) and running totals.
    rows.forEach((r, k) => {
      const id = ref.order[k];
      if (r.id !== id) {
        const a = Math.abs(Math.log(ref.final[r.id] || 1e-300) - Math.log(ref.final[id] || 1e-300));
        assert.ok(a < 1e-5 || (ref.final[id] === 0 && r.topP === 0), `draw ${i} row ${k}: engine ${r.id}, reference ${id}`);
      }
      assert.ok(Math.abs(r.cum - ref.cum[k]) < 1e-4, `draw ${i} row ${k}: running total ${r.cum} vs ${ref.cum[k]}`);
    });
    if (ref.survivors < V && sp.topK > 0 && sp.topK < V) cutK++;
    if (sp.topP < 1) cutP++;
    checked++;
  }
  console.log(`${checked} draws checked (${greedy} greedy, ${cutK} with a top-k cut, ${cutP} with top-p), ${ambiguous} left out as ambiguous at float32 precision`);
  assert.ok(ambiguous <= 20, `${ambiguous} ambiguous draws`);
  assert.ok(greedy > 50 && cutK > 200 && cutP > 300, 'the settings cover greedy, top-k and top-p');
  gb.destroy();
});
