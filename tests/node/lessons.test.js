/* lessons.test.js — the lesson models (models/lessons/<name>/) through the
 * JavaScript API give the numbers the native engine and the model cards give.
 *
 * For each lesson that has been trained (its lesson.json exists):
 *  - the four "sample_items" of lesson.json: tokenize gives one token per byte,
 *    and the per-item correct counts and attention scores computed from
 *    activation('logits') and activation('blocks.L.attn.hook_pattern') equal
 *    PyTorch's (counts within TOL_COUNT, scores within TOL_SCORE), the same
 *    tolerances as tests/native/test_lessons.c;
 *  - item 0 run through the native CLI (build/glassbox trace) gives the same
 *    logits and patterns as the wasm engine (rel <= TOL_NATIVE_REL);
 *  - the whole sample: the main metric and every claim of lesson.json, with
 *    the claim's heads ablated through setAblation, equal PyTorch's sample
 *    numbers and satisfy the claim's bound.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';

import { readSafetensors, toNumbers } from './safetensors.js';
import { CLI, ROOT, TOL_NATIVE_REL, assertClose, createGb, readModelFiles, run, wasmMissing } from './wasm_common.js';

const LESSONS = process.env.GLASSBOX_LESSONS ? path.resolve(process.env.GLASSBOX_LESSONS) : path.join(ROOT, 'models/lessons');
const TOL_COUNT = 1;
const TOL_SCORE = 2e-3;
// Names starting with "virtual_" are [layer-0 head][layer-1 head] grids of the two-step
// path 1.h -> 0.g (the product of the two patterns); the others are [layer][head].
const SCORE_NAMES = {
  induction: ['induction_score', 'prev_token_score', 'lookback_ratio', 'virtual_induction_score', 'virtual_match_score'],
  addition: ['operand_score', 'carry_score'],
  sort: ['next_letter_score', 'remaining_score'],
};

function lessonMissing(name) {
  return fs.existsSync(path.join(LESSONS, name, 'lesson.json')) ? null : `models/lessons/${name}/lesson.json missing (not trained yet)`;
}

/** Runs one item; returns {ok: bool[] (argmax == next token), patterns: [layer] -> Float32Array [H,T,T], T}. */
function runItem(gb, ids, withPatterns) {
  gb.setTokens(ids);
  gb.runAll();
  const { data: lg, shape } = gb.activation('logits');
  const [T, V] = shape.slice(-2);
  const ok = [];
  for (let t = 0; t + 1 < T; t++) {
    let best = 0;
    for (let v = 1; v < V; v++) if (lg[t * V + v] > lg[t * V + best]) best = v;
    ok.push(best === ids[t + 1]);
  }
  const patterns = withPatterns
    ? Array.from({ length: gb.config.n_layer }, (_, l) => gb.activation(`blocks.${l}.attn.hook_pattern`).data)
    : null;
  return { ok, patterns, T };
}

/** The metrics of lesson.json for one item, as counts. */
function itemCounts(name, it, ok) {
  const L = it.L;
  const sum = (a, b) => ok.slice(a, b).reduce((s, x) => s + (x ? 1 : 0), 0);
  if (name === 'induction') return { correct_first: sum(0, L - 1), correct_repeat: sum(L, 2 * L - 1) };
  const [from, to] = name === 'addition' ? [7, 12] : [L, 2 * L + 1];
  return { correct: sum(from, to) === to - from ? 1 : 0, tokens: sum(from, to) };
}

/** Per-head scores of one item, {name: grid}, as train_lessons.py defines them. */
function itemScores(name, it, ids, patterns, nHead, T) {
  const L = it.L;
  const grid = (score) => patterns.map((P, l) => Array.from({ length: nHead }, (_, h) => score(P, h, l)));
  const at = (P, h, q, k) => P[h * T * T + q * T + k];
  const mean = (from, to, f) => { let s = 0; for (let t = from; t < to; t++) s += f(t); return s / (to - from); };
  if (name === 'induction') {
    // (P1h @ P0g)[t, j]: how much of token j head 1.h reads through head 0.g
    const virt = (offset) => Array.from({ length: nHead }, (_, g) => Array.from({ length: nHead }, (_, h) => mean(L, 2 * L - 1, (t) => {
      let s = 0;
      for (let k = 0; k <= t; k++) s += at(patterns[1], h, t, k) * at(patterns[0], g, k, t - L + offset);
      return s;
    })));
    return {
      induction_score: grid((P, h) => mean(L, 2 * L - 1, (t) => at(P, h, t, t - L + 1))),
      prev_token_score: grid((P, h) => mean(1, 2 * L, (t) => at(P, h, t, t - 1))),
      lookback_ratio: grid((P, h) => mean(1, 2 * L, (t) => { let m = 0; for (let j = 0; j <= t; j++) m += j * at(P, h, t, j); return m / t; })),
      virtual_induction_score: virt(1),
      virtual_match_score: virt(0),
    };
  }
  if (name === 'addition') {
    return {
      operand_score: grid((P, h) => mean(0, 3, (k) => at(P, h, 7 + k, 2 - k) + at(P, h, 7 + k, 6 - k))),
      carry_score: grid((P, h) => mean(1, 4, (k) => at(P, h, 7 + k, 3 - k) + at(P, h, 7 + k, 7 - k))),
    };
  }
  const sortScore = (s) => grid((P, h) => mean(0, L, (i) => {
    const next = ids[L + 1 + i];
    let sum = 0;
    for (let j = 0; j < L; j++) if (s === 0 ? ids[j] === next : ids[j] >= next) sum += at(P, h, L + i, j);
    return sum;
  }));
  return { next_letter_score: sortScore(0), remaining_score: sortScore(1) };
}

/** A metric of lesson.json over items: acc_first / acc_repeat (induction) or exact. */
function metricValue(name, metric, gb, items) {
  let c = 0, n = 0;
  for (const it of items) {
    const ids = Array.from(gb.tokenize(it.text).ids);
    const counts = itemCounts(name, it, runItem(gb, ids, false).ok);
    if (metric === 'acc_first') { c += counts.correct_first; n += it.L - 1; }
    else if (metric === 'acc_repeat') { c += counts.correct_repeat; n += it.L - 1; }
    else if (metric === 'exact') { c += counts.correct; n += 1; }
    else throw new Error(`unknown metric ${metric}`);
  }
  return { value: c / n, correct: c, n };
}

for (const name of ['induction', 'addition', 'sort']) {
  const skip = () => wasmMissing() || lessonMissing(name);
  const load = async () => {
    const lesson = JSON.parse(fs.readFileSync(path.join(LESSONS, name, 'lesson.json'), 'utf8'));
    const gb = await createGb();
    await gb.loadModel(readModelFiles(path.join(LESSONS, name)));
    return { lesson, gb };
  };

  test(`${name}: per-item counts and attention scores equal PyTorch's`, async (t) => {
    const why = skip();
    if (why) return t.skip(why);
    const { lesson, gb } = await load();
    const nHead = gb.config.n_head;
    for (const [k, it] of lesson.sample_items.entries()) {
      const ids = Array.from(gb.tokenize(it.text).ids);
      assert.deepEqual(ids, Array.from(Buffer.from(it.text, 'utf8')), `item ${k}: one token per byte, id = byte`);
      const src = lesson.sample.items[k];
      assert.equal(src.text, it.text, 'sample_items are the head of sample.items');
      const r = runItem(gb, ids, true);
      const counts = itemCounts(name, src, r.ok);
      for (const [key, want] of Object.entries(it.metrics)) {
        if (key in counts) assert.ok(Math.abs(counts[key] - want) <= TOL_COUNT, `item ${k} ${key}: ${counts[key]} vs PyTorch ${want}`);
      }
      const scores = itemScores(name, src, ids, r.patterns, nHead, r.T);
      for (const sn of SCORE_NAMES[name]) {
        assert.ok(Array.isArray(it[sn]), `item ${k}: ${sn} missing in lesson.json`);
        const want = it[sn].flat(), got = scores[sn].flat();
        assert.equal(got.length, want.length, `item ${k} ${sn}: shape`);
        const worst = Math.max(...got.map((g, i) => Math.abs(g - want[i])));
        assert.ok(worst <= TOL_SCORE, `item ${k} ${sn}: differs from PyTorch by ${worst}`);
      }
    }
    gb.destroy();
  });

  test(`${name}: wasm equals the native CLI on item 0 (logits, patterns)`, async (t) => {
    const why = skip() || (fs.existsSync(CLI) ? null : 'build/glassbox not built');
    if (why) return t.skip(why);
    const { lesson, gb } = await load();
    const text = lesson.sample_items[0].text;
    const ids = Array.from(gb.tokenize(text).ids);
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gb-lesson-')), 'trace.safetensors');
    const r = await run(CLI, ['trace', '--model', path.join(LESSONS, name), '--tokens', ids.join(','), '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const { tensors } = readSafetensors(fs.readFileSync(out));
    gb.setTokens(ids);
    gb.runAll();
    const hooks = ['logits', ...Array.from({ length: gb.config.n_layer }, (_, l) => `blocks.${l}.attn.hook_pattern`)];
    for (const hook of hooks) {
      assert.ok(tensors.has(hook), `trace lacks ${hook}`);
      assertClose(`${name} ${hook}`, gb.activation(hook, { copy: true }).data, Float32Array.from(toNumbers(tensors.get(hook).data)), TOL_NATIVE_REL);
    }
    fs.rmSync(path.dirname(out), { recursive: true, force: true });
    gb.destroy();
  });

  test(`${name}: sample accuracy and every ablation claim, through setAblation`, async (t) => {
    const why = skip();
    if (why) return t.skip(why);
    const { lesson, gb } = await load();
    const items = lesson.sample.items;
    for (const c of lesson.claims) {
      const metric = c.metric;
      gb.clearAblations();
      for (const [l, h] of c.heads) gb.setAblation(l, h, 'zero');
      const m = metricValue(name, metric, gb, items);
      const tol = TOL_COUNT / m.n;
      console.log(`  ${name} ${c.what} [${c.heads.map((x) => x.join('.')).join(',')}]: ${metric} ${m.value.toFixed(4)} (PyTorch ${c.sample}) ${c.op} ${c.bound}`);
      assert.ok(Math.abs(m.value - c.sample) <= tol + 1e-9, `${c.what}: ${m.value} vs PyTorch ${c.sample}`);
      assert.ok(c.op === '<=' ? m.value <= c.bound : m.value >= c.bound, `${c.what}: ${m.value} is not ${c.op} ${c.bound}`);
    }
    gb.clearAblations();
    gb.destroy();
  });
}
