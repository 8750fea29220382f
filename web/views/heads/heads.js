/* heads view — the head finder (interp-engine.js heads; core/run/heads.c):
 * previous-token, induction, duplicate-token, sink and virtual-induction
 * scores of every head on a seeded repeated sequence, as a sortable table and
 * a block × head grid; a click opens the head's attention pattern (the walk's
 * softmax step). Also the run's outlier residual dimensions. */
import { headName, num, parts, put, seqCell, tlName } from '../../lib/interp-ui.js';
import { headsKey } from '../../lib/interp-client.js';

export const SCORES = [
  ['previousToken', 'previous-token'], ['induction', 'induction'], ['duplicateToken', 'duplicate-token'],
  ['sink', 'sink'], ['virtualInduction', 'virtual induction'],
];

/** Heads ranked by score key, best first (ties: earlier head first). @returns {{l, h, v}[]} */
export function rankHeads(a, key) {
  const H = a.nHead, list = Array.from(a[key], (v, i) => ({ l: Math.floor(i / H), h: i % H, v, i }));
  return list.sort((x, y) => y.v - x.v || x.i - y.i);
}

/* The lesson models whose card measures a head by another score than
 * induction: the induction lesson's copying head works through an earlier
 * head (its card's measure is virtual induction). */
const LESSON_SORT = { 'lessons/induction': 'virtualInduction' };

/** The column the table is sorted by: the state's, or by default induction (the lesson card's measure on a lesson model). */
export function sortKey(s) {
  if (SCORES.some((x) => x[0] === s.headSort)) return s.headSort;
  const hit = Object.keys(LESSON_SORT).find((k) => String(s.model).replace(/\/$/, '').endsWith(k));
  return hit ? LESSON_SORT[hit] : 'induction';
}

/** The result's view-model (pure). */
export function headsModel(s) {
  const a = s.heads && s.heads.key === headsKey(s) ? s.heads : null;
  if (!a) return { waiting: !s.errors.heads, error: s.errors.heads, has: false };
  const key = sortKey(s);
  const H = a.nHead, C = a.nEmbd;
  const outliers = [];
  for (let l = 0; l < a.nLayer; l++) for (let d = 0; d < C; d++) { const v = a.runOutlier[l * C + d]; if (v > 0) outliers.push({ n: l + 1, d, v, share: `${(100 * v).toFixed(0)}% of positions` }); }
  outliers.sort((x, y) => y.v - x.v);
  return {
    has: true, error: s.errors.heads, nTokens: a.tokens.length, lo: a.lo, hiIncl: a.hi - 1, ascii: a.lo === 32 && a.hi === 127,
    tokens: Array.from(a.tokens.slice(0, 24), (id) => `#${id}`).join(' ') + (a.tokens.length > 24 ? ' …' : ''),
    cols: SCORES.map(([k, label]) => ({ key: k, label, on: k === key, sort: k === key ? 'descending' : 'none' })),
    rows: rankHeads(a, key).map(({ l, h }) => ({ lh: `${l}.${h}`, name: headName(l, h), tl: tlName(l, h), l, h, vals: SCORES.map(([k]) => ({ key: k, v: num(a[k][l * H + h], 3), on: k === key })) })),
    sortLabel: SCORES.find((x) => x[0] === key)[1],
    headCols: Array.from({ length: H }, (_, h) => h + 1),
    grid: Array.from({ length: a.nLayer }, (_, l) => ({ n: l + 1, cells: Array.from({ length: H }, (_, h) => { const v = a[key][l * H + h], c = seqCell(v); return { l, h, name: headName(l, h), v: num(v, 2), bg: c.bg, ink: c.ink }; }) })),
    outliers: outliers.slice(0, 12),
  };
}

export function headsView({ templates, actions }) {
  return {
    watch: ['heads', 'headSort', 'headSeed', 'errors', 'prompt', 'gen', 'interventions'],
    render(el, s) {
      const { form, result } = parts(el);
      const a = s.heads;
      const typing = form.contains(document.activeElement) && document.activeElement.matches('input');
      if (!typing && put(form, templates.render('heads', 'main', { seed: s.headSeed, length: a ? a.length : 20 }))) {
        const inp = form.querySelector('[data-field="headSeed"]');
        inp.addEventListener('change', () => { const v = Math.trunc(Number(inp.value)); if (Number.isFinite(v) && v >= 0) actions.set({ headSeed: v }); });
      }
      if (put(result, templates.render('heads', 'result', headsModel(s)))) {
        for (const b of result.querySelectorAll('[data-sort]')) b.addEventListener('click', () => actions.set({ headSort: b.dataset.sort }));
        for (const b of result.querySelectorAll('.hf-open')) b.addEventListener('click', () => actions.openHead(Number(b.dataset.layer), Number(b.dataset.h)));
      }
    },
  };
}
