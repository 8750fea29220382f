/* lesson-metrics.js — what lesson mode measures, as pure functions (no DOM,
 * no engine): which positions of a lesson prompt are scored, whether the
 * model's greedy prediction there is right, the accuracies lesson.json
 * reports, and the per-head attention scores of the model cards. Used by
 * web/engine.js in the worker and by tests/node/ui_lessons.test.js.
 *
 * The definitions are train_lessons.py's (quoted in each lesson.json "doc"),
 * so the page's live numbers on the sample equal the card's:
 *   induction  text = S + S (S random, length L). acc_first: predictions of
 *              tokens 1..L-1; acc_repeat: of tokens L+1..2L-1. Scores at
 *              t = L..2L-2 (induction, virtual) or t = 1..2L-1 (previous
 *              token, look-back ratio).
 *   addition   "AAA+BBB=SSSS\n", sum reversed: positions 7..11 predict the
 *              four answer digits and the end mark; exact = all five right.
 *   sort       "letters>sorted\n": positions L..2L predict the L sorted
 *              letters and the end mark; exact = all right.
 * A prediction at t is right iff argmax(logits[t]) == ids[t + 1] (greedy
 * decoding is exact here, so one run of the full text checks a whole answer).
 *
 * Patterns are engine layout: one Float32Array [H, T, T] per layer. */

const PLUS = 43, EQ = 61, GT = 62;

/** argmax of each row of logits [T, V]. @returns {Int32Array} [T] */
export function argmaxRows(logits, T, V) {
  const out = new Int32Array(T);
  for (let t = 0; t < T; t++) {
    let best = 0;
    const o = t * V;
    for (let v = 1; v < V; v++) if (logits[o + v] > logits[o + best]) best = v;
    out[t] = best;
  }
  return out;
}

/**
 * The repeat distance of an induction prompt: the L (2 <= L <= T - 2) whose
 * "token t equals token t - L" matches cover at least half of t = L..T-1 and
 * are the most (ties: the smaller L); 0 when no L qualifies (no repeat).
 * For S + S with S of length L this is L.
 */
export function findRepeat(ids) {
  const T = ids.length;
  let best = 0, bestM = 0;
  for (let L = 2; L <= T - 2; L++) {
    let m = 0;
    for (let t = L; t < T; t++) if (ids[t] === ids[t - L]) m++;
    if (m >= 2 && 2 * m >= T - L && m > bestM) { best = L; bestM = m; }
  }
  return best;
}

/**
 * Which positions of a prompt are scored, and in which group.
 * @param {'induction'|'addition'|'sort'} lesson
 * @param {number[]} ids
 * @param {number} [L]  the item's L when known (lesson.json items carry it)
 * @returns {{L: number, groups: (string|null)[], note: string, complete: boolean}}
 *   groups[t]: the group the prediction at t counts in ('first' | 'repeat' for
 *   induction; 'answer' for addition and sort), or null when unscored.
 */
export function layout(lesson, ids, L) {
  const T = ids.length;
  const groups = new Array(T).fill(null);
  if (lesson === 'induction') {
    L = L ?? findRepeat(ids);
    if (!L) {
      for (let t = 0; t + 1 < T; t++) groups[t] = 'first';
      return { L: 0, groups, note: 'no repeat found: every prediction is in the first part', complete: false };
    }
    for (let t = 0; t + 1 < T; t++) {
      if (t < L - 1) groups[t] = 'first';
      else if (t >= L && ids[t] === ids[t - L]) groups[t] = 'repeat';
    }
    return { L, groups, note: '', complete: true };
  }
  const mark = lesson === 'addition' ? EQ : GT;
  const at = ids.indexOf(mark);
  if (at < 0) return { L: 0, groups, note: `no “${String.fromCharCode(mark)}” in the prompt: nothing to score`, complete: false };
  // addition: "=" is at 7, the answer is 4 digits + end mark; sort: ">" is at L, L letters + end mark.
  const n = lesson === 'addition' ? 5 : at + 1;
  for (let t = at; t < Math.min(at + n, T - 1); t++) groups[t] = 'answer';
  const complete = T - 1 >= at + n;
  const formatOk = lesson !== 'addition' || (at === 7 && ids[3] === PLUS);
  return { L: lesson === 'sort' ? at : 0, groups, complete,
    note: !formatOk ? 'not the trained format AAA+BBB= (3 digits each): the model learned positions, not numbers'
      : complete ? '' : 'the answer is incomplete: type the whole answer (and ↵) to score it all' };
}

/**
 * Counts for one prompt: per group, right and scored predictions; exact (every
 * scored prediction right, the answer complete); per answer digit (addition);
 * x0: first-part predictions that are the prompt's first token (induction).
 */
export function counts(lesson, ids, preds, lay) {
  const c = { first: [0, 0], repeat: [0, 0], answer: [0, 0], digits: [], x0: 0 };
  lay.groups.forEach((g, t) => {
    if (!g) return;
    const ok = preds[t] === ids[t + 1];
    if (g === 'first' && preds[t] === ids[0]) c.x0 += 1;
    c[g][0] += ok ? 1 : 0; c[g][1] += 1;
    if (lesson === 'addition') c.digits.push(ok);
  });
  c.exact = lay.complete && c.answer[1] > 0 && c.answer[0] === c.answer[1] ? 1 : 0;
  return c;
}

/** The lesson's main metric over items' counts, as lesson.json pools it. */
export function pool(lesson, list) {
  if (lesson === 'induction') {
    const sum = (g, i) => list.reduce((s, c) => s + c[g][i], 0);
    const [cf, nf, cr, nr] = [sum('first', 0), sum('first', 1), sum('repeat', 0), sum('repeat', 1)];
    const x0 = list.reduce((s, c) => s + c.x0, 0);
    return { acc_first: nf ? cf / nf : null, acc_repeat: nr ? cr / nr : null, x0_first: nf ? x0 / nf : null, correct_first: cf, n_first: nf, correct_repeat: cr, n_repeat: nr, n: list.length };
  }
  const correct = list.reduce((s, c) => s + c.exact, 0);
  const out = { exact: list.length ? correct / list.length : null, correct, n: list.length };
  if (lesson === 'addition') {
    for (let k = 0; k < 4; k++) {
      const have = list.filter((c) => c.digits.length > k);
      out[`digit_${k}`] = have.length ? have.filter((c) => c.digits[k]).length / have.length : null;
    }
  }
  if (lesson === 'sort') {
    const [r, n] = list.reduce((s, c) => [s[0] + c.answer[0], s[1] + c.answer[1]], [0, 0]);
    out.token_acc = n ? r / n : null;
  }
  return out;
}

/** Every score the page can show: label, what it measures, grid shape. */
export const SCORES = {
  operand_score: { lesson: 'addition', label: 'operand score', grid: 'layer',
    what: 'attention from the position that writes answer digit k to the two operand digits of column k (aₖ and bₖ), summed, averaged over k = 0..2' },
  carry_score: { lesson: 'addition', label: 'carry score', grid: 'layer',
    what: 'attention from the position that writes digit k to the previous column’s digits (aₖ₋₁ and bₖ₋₁), summed, averaged over k = 1..3' },
  next_letter_score: { lesson: 'sort', label: 'next-letter score', grid: 'layer',
    what: 'attention from the position that writes the i-th sorted letter to where that letter sits in the input, averaged over i' },
  remaining_score: { lesson: 'sort', label: 'remaining score', grid: 'layer',
    what: 'attention from there to every input letter not written yet (the next letter and all larger ones)' },
  induction_score: { lesson: 'induction', label: 'induction score', grid: 'layer',
    what: 'attention from each repeated token to the token after its earlier occurrence (t → t − L + 1)' },
  prev_token_score: { lesson: 'induction', label: 'previous-token score', grid: 'layer',
    what: 'attention from each token to the one just before it (t → t − 1)' },
  lookback_ratio: { lesson: 'induction', label: 'look-back ratio', grid: 'layer',
    what: 'where a head looks, as a fraction of the way back: 1 = the previous token, 0.5 = halfway back, 0 = the first token' },
  virtual_induction_score: { lesson: 'induction', label: 'virtual induction score', grid: 'virtual',
    what: 'how much a block-2 head reads the character after the earlier occurrence (the answer) through a block-1 head: the two patterns multiplied (V-composition)' },
  virtual_match_score: { lesson: 'induction', label: 'virtual match score', grid: 'virtual',
    what: 'how much a block-2 head looks at the earlier occurrence of its own character through a block-1 head (K-composition)' },
};

/**
 * One score grid of one prompt: [layer][head] (grid 'layer') or
 * [layer-0 head g][layer-1 head h] (grid 'virtual'); null when the prompt has
 * nothing to score (no repeat, no "=" ...).
 * @param {string} name  a key of SCORES
 * @param {Float32Array[]} patterns  per layer, [H, T, T]
 */
export function scoreGrid(name, ids, patterns, H, lay) {
  const T = ids.length, L = lay.L;
  const at = (P, h, q, k) => (q >= 0 && q < T && k >= 0 && k < T ? P[(h * T + q) * T + k] : 0);
  const grid = (f) => patterns.map((P, l) => Array.from({ length: H }, (_, h) => f(P, h, l)));
  const mean = (ts, f) => (ts.length ? ts.reduce((s, t) => s + f(t), 0) / ts.length : null);
  const range = (a, b) => Array.from({ length: Math.max(0, b - a) }, (_, i) => a + i);
  const nullIfEmpty = (g) => (g.some((row) => row.some((v) => v == null)) ? null : g);
  switch (name) {
    case 'operand_score':
      if (T < 10) return null;
      return grid((P, h) => mean([0, 1, 2], (k) => at(P, h, 7 + k, 2 - k) + at(P, h, 7 + k, 6 - k)));
    case 'carry_score':
      if (T < 11) return null;
      return grid((P, h) => mean([1, 2, 3], (k) => at(P, h, 7 + k, 3 - k) + at(P, h, 7 + k, 7 - k)));
    case 'next_letter_score':
    case 'remaining_score': {
      if (!L) return null;
      const is = range(0, Math.min(L, T - L - 1));
      const hit = name === 'next_letter_score' ? (a, b) => a === b : (a, b) => a >= b;
      return nullIfEmpty(grid((P, h) => mean(is, (i) => {
        const next = ids[L + 1 + i];
        let s = 0;
        for (let j = 0; j < L; j++) if (hit(ids[j], next)) s += at(P, h, L + i, j);
        return s;
      })));
    }
    case 'induction_score':
    case 'prev_token_score':
    case 'lookback_ratio': {
      if (name === 'induction_score' && !L) return null;
      const rep = repeatPositions(lay);
      if (name === 'induction_score') return nullIfEmpty(grid((P, h) => mean(rep, (t) => at(P, h, t, t - L + 1))));
      if (name === 'prev_token_score') return grid((P, h) => mean(range(1, T), (t) => at(P, h, t, t - 1)));
      return grid((P, h) => mean(range(1, T), (t) => { let m = 0; for (let j = 0; j <= t; j++) m += j * at(P, h, t, j); return m / t; }));
    }
    case 'virtual_induction_score':
    case 'virtual_match_score': {
      if (!L || patterns.length < 2) return null;
      const rep = repeatPositions(lay), off = name === 'virtual_induction_score' ? 1 : 0;
      const [P0, P1] = patterns;
      return nullIfEmpty(Array.from({ length: H }, (_, g) => Array.from({ length: H }, (_, h) => mean(rep, (t) => {
        let s = 0;
        const j = t - L + off;
        for (let k = 0; k <= t; k++) s += at(P1, h, t, k) * at(P0, g, k, j);
        return s;
      }))));
    }
    default:
      throw new Error(`unknown score "${name}"`);
  }
}

/** Positions scored as the repeated part (induction), in order. */
function repeatPositions(lay) {
  const out = [];
  lay.groups.forEach((g, t) => { if (g === 'repeat') out.push(t); });
  return out;
}

/* ------------------------------------------------------------ lesson.json */

const sameHeads = (a, b) => a.length === b.length && a.every(([l, h]) => b.some(([m, k]) => m === l && k === h));

/** "L.H" strings -> [[L, H]], sorted. */
export const parseHeads = (list) => list.map((s) => s.split('.').map(Number)).sort((a, b) => a[0] - b[0] || a[1] - b[1]);

/**
 * What lesson.json says for this ablation (heads as [[L, H]], mode): the
 * measured sample/held-out metrics (from single_head_ablations or
 * group_ablations; the baseline when no head is ablated) and the claim with
 * its bound, when the card makes one. Nulls where the card is silent.
 */
export function cardFor(lessonJson, heads, mode) {
  if (!lessonJson) return null;
  const main = lessonJson.main_metric;
  const find = (part) => {
    if (!part) return null;
    if (!heads.length) return part.metrics;
    const all = [...(part.single_head_ablations || []), ...(part.group_ablations || [])];
    const hit = all.find((a) => a.mode === mode && sameHeads(a.heads, heads));
    return hit ? hit.metrics : null;
  };
  const claim = (lessonJson.claims || []).find((c) => c.metric === main && (heads.length ? c.mode === mode && sameHeads(c.heads, heads) : c.mode === 'none')) || null;
  return { main, sample: find(lessonJson.sample), heldout: find(lessonJson.heldout), claim };
}
