/* ui_lessons.test.js — lesson mode's pure logic (no browser): which positions
 * a lesson prompt scores, the counts and pooled metrics, the per-head score
 * grids on hand-made patterns, the card look-up, the URL state of a lesson,
 * the lesson view-model and template, the sampling sub-stages; and, on the
 * real engine, engine.js lessonMeasure against every lesson.json: the
 * per-item numbers of sample_items (scores within TOL_SCORE) and every
 * claim's sample metric (within one item). */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Mustache from 'mustache';
import { LESSONS, LESSON_NAMES, additionText, clampStep, lessonModelUrl, lessonOfModel, randomRepeat } from '../../web/lessons.js';
import { SCORES, argmaxRows, cardFor, counts, findRepeat, layout, parseHeads, pool, scoreGrid } from '../../web/lib/lesson-metrics.js';
import { DEFAULTS, decodeUrl, encodeUrl, initialState, runKey } from '../../web/state.js';
import { createTemplates } from '../../web/lib/templates.js';
import { lessonModel } from '../../web/views/lesson/lesson.js';
import { SUBSTAGES, stageBarsModel } from '../../web/views/sampling/sampling.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const WASM = path.join(ROOT, 'build/wasm/glassbox.wasm');
const TOL_SCORE = 2e-3; // as tests/node/lessons.test.js: PyTorch float32 vs the engine
const bytes = (s) => Array.from(Buffer.from(s, 'utf8'));
const lessonJson = (name) => JSON.parse(fs.readFileSync(path.join(ROOT, 'models/lessons', name, 'lesson.json'), 'utf8'));
const trained = (name) => fs.existsSync(path.join(ROOT, 'models/lessons', name, 'lesson.json'));

test('findRepeat finds the repeat distance of S + S, and none without a repeat', () => {
  assert.equal(findRepeat(bytes('kQ7#vB2xLp9ZkQ7#vB2xLp9Z')), 12);
  assert.equal(findRepeat(bytes('sF7"sF7"')), 4);
  assert.equal(findRepeat(bytes('the cat sat on the mat. the cat sat on the mat.')), 24);
  assert.equal(findRepeat(bytes('abcdefghij0123456789')), 0);
  // One edited character in the repeat keeps L (the rest still matches).
  assert.equal(findRepeat(bytes('kQ7#vB2xLp9ZkQ7#vX2xLp9Z')), 12);
});

test('layout: induction halves, addition answer from "=", sort answer from ">"', () => {
  const ind = layout('induction', bytes('abcdabcd'));
  assert.equal(ind.L, 4);
  assert.deepEqual(ind.groups, ['first', 'first', 'first', null, 'repeat', 'repeat', 'repeat', null]);
  const none = layout('induction', bytes('abcdef'));
  assert.equal(none.L, 0);
  assert.equal(none.groups.filter((g) => g === 'first').length, 5);
  const add = layout('addition', bytes('045+123=8610\n'));
  assert.deepEqual(add.groups.map((g, t) => (g ? t : -1)).filter((t) => t >= 0), [7, 8, 9, 10, 11]);
  assert.ok(add.complete);
  assert.equal(add.note, '');
  assert.ok(!layout('addition', bytes('045+123=86')).complete);
  assert.match(layout('addition', bytes('45+123=861\n')).note, /format/);
  const sort = layout('sort', bytes('world>dlorw\n'));
  assert.equal(sort.L, 5);
  assert.deepEqual(sort.groups.map((g, t) => (g ? t : -1)).filter((t) => t >= 0), [5, 6, 7, 8, 9, 10]);
  assert.match(layout('sort', bytes('world')).note, /nothing to score/);
});

test('counts and pool: right predictions, exact match, per digit, first-character bets', () => {
  const ids = bytes('045+123=8610\n');
  const perfect = ids.slice(1).concat([10]);
  const lay = layout('addition', ids);
  const c = counts('addition', ids, perfect, lay);
  assert.deepEqual(c.answer, [5, 5]);
  assert.equal(c.exact, 1);
  const wrong = perfect.slice(); wrong[8] = 48; // digit 1 wrong
  const w = counts('addition', ids, wrong, lay);
  assert.deepEqual(w.digits, [true, false, true, true, true]);
  assert.equal(w.exact, 0);
  const p = pool('addition', [c, w]);
  assert.equal(p.exact, 0.5);
  assert.equal(p.digit_1, 0.5);
  assert.equal(p.digit_0, 1);
  const iids = bytes('abcdabcd');
  const ilay = layout('induction', iids);
  const preds = [97, 97, 97, 0, 98, 99, 100, 0]; // first half: always 'a'; repeat: right
  const ic = counts('induction', iids, preds, ilay);
  assert.deepEqual(ic.first, [0, 3]);
  assert.deepEqual(ic.repeat, [3, 3]);
  assert.equal(ic.x0, 3);
  const ip = pool('induction', [ic]);
  assert.equal(ip.acc_repeat, 1);
  assert.equal(ip.acc_first, 0);
  assert.equal(ip.x0_first, 1);
  assert.deepEqual(Array.from(argmaxRows(Float32Array.from([0, 2, 1, 5, 0, 0]), 2, 3)), [1, 0]);
});

/** A [H, T, T] pattern whose head h puts weight w(q) = {k: p} on row q. */
function pattern(H, T, rows) {
  const P = new Float32Array(H * T * T);
  for (const [h, q, k, p] of rows) P[(h * T + q) * T + k] += p;
  return P;
}

test('score grids on hand-made patterns: a perfect column head scores 1, others 0', () => {
  const ids = bytes('045+123=8610\n'), T = ids.length, lay = layout('addition', ids);
  const rows = [];
  for (let k = 0; k < 4; k++) { rows.push([1, 7 + k, 2 - k, 0.5], [1, 7 + k, 6 - k, 0.5]); } // head 1: column k
  for (let k = 1; k < 4; k++) { rows.push([2, 7 + k, 3 - k, 0.5], [2, 7 + k, 7 - k, 0.5]); } // head 2: previous column
  const P0 = pattern(3, T, rows), P1 = new Float32Array(3 * T * T);
  const op = scoreGrid('operand_score', ids, [P0, P1], 3, lay);
  assert.deepEqual(op.map((r) => r.map((v) => +v.toFixed(6))), [[0, 1, 0], [0, 0, 0]]);
  const ca = scoreGrid('carry_score', ids, [P0, P1], 3, lay);
  assert.equal(+ca[0][2].toFixed(6), 1);
  // Induction: a previous-token head in layer 0 and an induction head in layer 1.
  const iids = bytes('abcdeabcde'), iT = iids.length, ilay = layout('induction', iids);
  const prev = [], ind = [];
  for (let t = 1; t < iT; t++) prev.push([0, t, t - 1, 1]);
  for (let t = 0; t < iT; t++) ind.push([0, t, t >= 5 ? t - 5 + 1 : 0, 1]);
  const Q0 = pattern(2, iT, prev), Q1 = pattern(2, iT, ind);
  assert.equal(scoreGrid('prev_token_score', iids, [Q0, Q1], 2, ilay)[0][0], 1);
  assert.equal(scoreGrid('induction_score', iids, [Q0, Q1], 2, ilay)[1][0], 1);
  // Through the previous-token head, the induction head reads the earlier occurrence itself.
  assert.equal(scoreGrid('virtual_match_score', iids, [Q0, Q1], 2, ilay)[0][0], 1);
  assert.equal(scoreGrid('induction_score', bytes('abcdef'), [Q0, Q1].map(() => new Float32Array(2 * 36)), 2, layout('induction', bytes('abcdef'))), null);
  for (const name of Object.keys(SCORES)) assert.ok(SCORES[name].label && SCORES[name].what, name);
});

test('cardFor finds the card’s numbers and claim for an ablation', () => {
  const j = {
    main_metric: 'exact',
    claims: [{ what: 'baseline', heads: [], mode: 'none', metric: 'exact', op: '>=', sample: 1, bound: 0.99 },
      { what: 'h', heads: [[0, 2]], mode: 'zero', metric: 'exact', op: '<=', sample: 0, bound: 0.1 }],
    sample: { metrics: { exact: 1 }, single_head_ablations: [{ heads: [[0, 2]], mode: 'zero', metrics: { exact: 0 } }], group_ablations: [{ heads: [[0, 1], [0, 2]], mode: 'zero', metrics: { exact: 0.5 } }] },
  };
  assert.equal(cardFor(j, [], 'zero').sample.exact, 1);
  assert.equal(cardFor(j, [], 'zero').claim.what, 'baseline');
  assert.equal(cardFor(j, parseHeads(['0.2']), 'zero').claim.bound, 0.1);
  assert.equal(cardFor(j, parseHeads(['0.2', '0.1']), 'zero').sample.exact, 0.5);
  assert.equal(cardFor(j, parseHeads(['0.3']), 'zero').sample, null);
  assert.equal(cardFor(j, parseHeads(['0.2']), 'mean').sample, null);
});

test('lesson URL state: the lesson implies its model and first prompt, which links leave out', () => {
  const d = decodeUrl('?lesson=addition&ls=3');
  assert.equal(d.model, lessonModelUrl('addition'));
  assert.equal(d.prompt, LESSONS.addition.prompts[0].text);
  assert.equal(d.lessonStep, 3);
  const s = { ...initialState(d), interventions: [{ kind: 'ablate-zero', layer: 0, head: 1 }] };
  assert.equal(encodeUrl(s), '?iv=z0.1&lesson=addition&ls=3');
  const t = { ...s, prompt: '999+001=0001\n' };
  assert.deepEqual(decodeUrl(encodeUrl(t)).prompt, '999+001=0001\n');
  assert.equal(decodeUrl('?lesson=nope').lesson, undefined);
  assert.equal(decodeUrl('?lesson=sort&ls=99').lessonStep, 9);
  assert.equal(clampStep('sort', 99), LESSONS.sort.steps.length - 1);
  assert.equal(encodeUrl(initialState()), '');
  assert.equal(DEFAULTS.lesson, '');
  assert.equal(lessonOfModel('models/lessons/sort/'), 'sort');
  assert.equal(lessonOfModel('models/default/'), '');
});

test('the walks: 3–6 steps, a look-for text each, known scores, well-formed prompts', () => {
  for (const name of LESSON_NAMES) {
    const l = LESSONS[name];
    assert.ok(l.steps.length >= 3 && l.steps.length <= 6, name);
    for (const st of l.steps) {
      assert.ok(st.title && st.look.length > 40, `${name}: ${st.title}`);
      for (const g of st.grids) assert.equal(SCORES[g]?.lesson, name, `${name}: ${g}`);
      for (const [heads] of st.suggest || []) for (const h of heads) assert.match(h, /^\d\.\d$/);
    }
  }
  for (const p of LESSONS.addition.prompts) assert.equal(p.text, additionText(Number(p.text.slice(0, 3)), Number(p.text.slice(4, 7))));
  assert.equal(additionText(45, 123), '045+123=8610\n');
  assert.equal(additionText(1000, 1), null);
  const r = randomRepeat(10, () => 0.5);
  assert.equal(r.length, 20);
  assert.equal(r.slice(0, 10), r.slice(10));
  assert.equal(new Set(r.slice(0, 10)).size, 10);
});

test('the lesson view-model renders: off bar, waiting, and a measured step', async () => {
  const WEB = path.join(ROOT, 'web');
  const t = createTemplates(Mustache, async (p) => fs.readFileSync(path.join(WEB, p), 'utf8'));
  await t.preload('lesson');
  const off = lessonModel(initialState());
  assert.ok(off.off);
  assert.match(t.render('lesson', 'main', off), /data-lesson="induction"/);
  const s = { ...initialState(decodeUrl('?lesson=addition&ls=3')), interventions: [{ kind: 'ablate-zero', layer: 0, head: 0 }] };
  assert.ok(lessonModel(s).waiting);
  const ids = bytes(s.prompt), T = ids.length;
  const preds = Int32Array.from(ids.slice(1).concat([10]));
  const lay = layout('addition', ids);
  const grid = [[0.9, 0.1, 0.95, 0.7], [0.2, 0.2, 0.2, 0.2]];
  const c = counts('addition', ids, preds, lay);
  const bad = preds.slice(); bad[8] = 48;
  const cb = counts('addition', ids, bad, lay);
  s.run = { ids, pieces: ids.map((b) => String.fromCharCode(b)), nPrompt: T };
  s.lessonData = { key: runKey(s), lesson: 'addition', ids, T, L: 0, groups: lay.groups, note: '', complete: true, interventions: s.interventions,
    clean: { preds, guesses: lay.groups.map((g, i) => (g ? String.fromCharCode(preds[i]) : null)), counts: c },
    ablated: { preds: bad, guesses: lay.groups.map((g, i) => (g ? String.fromCharCode(bad[i]) : null)), counts: cb },
    grids: [{ name: 'operand_score', clean: grid, ablated: grid }], pattern: null,
    sample: { n: 200, clean: pool('addition', [c]), ablated: { ...pool('addition', [cb]), exact: 0.015 } } };
  s.lessonJson = { main_metric: 'exact', claims: [], sample: { single_head_ablations: [{ heads: [[0, 0]], mode: 'zero', metrics: { exact: 0.015 } }] } };
  const vm = lessonModel(s);
  assert.ok(!vm.waiting);
  assert.equal(vm.acc.card, '1.50%');
  assert.ok(vm.acc.agree);
  assert.equal(vm.grids[0].panels.length, 2);
  assert.equal(vm.strip.filter((x) => x.b && !x.b.ok).length, 1);
  const html = t.render('lesson', 'main', vm);
  assert.match(html, /data-score="operand_score"/);
  assert.match(html, /✗<i>0<\/i>/);
  assert.match(html, /Step 4 of 5/);
});

test('sampling sub-stages: cuts appear at top-k and top-p, the draw marks the token', () => {
  const p = { token: 2, piece: 'c', uniform: 0.3, sampling: { temperature: 1, topK: 2, topP: 0.5 }, kept: { topK: 2, topP: 1 },
    rows: [{ id: 2, piece: 'c', logit: 3, scaled: 3, prob: 0.6, topK: 0.66, topP: 1 }, { id: 1, piece: 'b', logit: 2.5, scaled: 2.5, prob: 0.3, topK: 0.34, topP: 0 },
      { id: 0, piece: 'a', logit: 1, scaled: 1, prob: 0.1, topK: 0, topP: 0 }] };
  const at = (key) => stageBarsModel(p, SUBSTAGES.findIndex((s) => s.key === key));
  assert.deepEqual(at('prob').rows.map((r) => r.cut), [false, false, false]);
  assert.deepEqual(at('topK').rows.map((r) => r.cut), [false, false, true]);
  assert.deepEqual(at('topP').rows.map((r) => r.cut), [false, true, true]);
  assert.equal(at('renorm').rows[0].label, '100.0%');
  assert.deepEqual(at('draw').rows.map((r) => r.chosen), [true, false, false]);
  assert.equal(at('scaled').rows[0].w, 100);
  assert.equal(at('prob').rows[1].w, 30, 'a bar is its probability: a full cell is 1');
  assert.match(at('topK').say, /1 of the rows shown are cut/);
  assert.equal(stageBarsModel(p, 99).sub, SUBSTAGES.length - 1);
});

const wasmSkip = !fs.existsSync(WASM) ? 'glassbox.wasm not built' : false;
for (const name of LESSON_NAMES) {
  test(`${name}: lessonMeasure gives lesson.json's per-item numbers and the claims' sample metrics`, { skip: wasmSkip || (!trained(name) && 'not trained') }, async () => {
    const { Glassbox } = await import('../../wasm/glassbox.js');
    const { Session } = await import('../../web/engine.js');
    const j = lessonJson(name);
    const gb = await Glassbox.create({ wasm: fs.readFileSync(WASM) });
    await gb.loadModelFromUrl(pathToFileURL(path.join(ROOT, 'models/lessons', name) + '/'));
    const s = new Session(gb);
    const names = Object.keys(SCORES).filter((k) => SCORES[k].lesson === name);
    for (const it of j.sample_items) {
      s.sync({ prompt: it.text, gen: [], interventions: [], seed: 1 });
      const m = s.lessonMeasure({ lesson: name, grids: names });
      for (const g of m.grids) {
        const want = it[g.name].flat(), got = g.clean.flat();
        const worst = Math.max(...got.map((v, i) => Math.abs(v - want[i])));
        assert.ok(worst <= TOL_SCORE, `${JSON.stringify(it.text)} ${g.name}: off by ${worst}`);
      }
      const c = m.clean.counts;
      if (name === 'induction') {
        assert.equal(c.repeat[0], it.metrics.correct_repeat);
        assert.equal(c.first[0], it.metrics.correct_first);
      } else assert.equal(c.exact, it.metrics.exact);
    }
    for (const c of j.claims) {
      const interventions = c.heads.map(([layer, head]) => ({ kind: 'ablate-zero', layer, head }));
      const before = s.sync({ prompt: j.sample_items[0].text, gen: [], interventions, seed: 1 });
      const m = s.lessonMeasure({ lesson: name, items: j.sample.items });
      const v = (m.sample.ablated || m.sample.clean)[c.metric];
      assert.ok(Math.abs(v - c.sample) <= 1 / j.sample.items.length + 1e-9, `${c.what}: ${v} vs card ${c.sample}`);
      assert.equal(m.ids.join(), before.ids.join(), 'the run is restored');
      assert.equal(gb.interventions().length, interventions.length, 'with its interventions');
      assert.equal(gb.numPromptTokens, before.nPrompt, 'and its prompt');
    }
    gb.destroy();
  });
}
