/* sampling view — the last position's next-token distribution through each
 * sampling stage (logits ÷ temperature → softmax → top-k cut → top-p cut,
 * renormalised), in the engine's order (final probability descending, ties by
 * logit, then id) with the running total and the draw: u, the seed's uniform
 * number at the run's position, marked where it falls; sliders for
 * temperature, top-k, top-p and the seed; Generate appends the drawn token
 * (the engine computes only the new position, through its KV cache). Every
 * number is the engine's (engine.js predict); nothing is recomputed here. */
import { applyWidths, fmt, pct } from '../../lib/charts.js';
import { sampleKey } from '../../state.js';
import { showPiece } from '../tokens/tokens.js';

/* Bars: every bar's length is its value on one axis (a full cell is
 * probability 1, or the largest |scaled logit| of the rows for the ÷ T
 * column), so bars compare across rows and columns. */
const W = (p) => (p == null ? 0 : 100 * Math.max(0, Math.min(1, p)));
const f4 = (x) => (x == null ? '–' : x.toFixed(4));

/** Bars' view-model from engine.js predict() (pure; tested in Node). */
export function barsModel(p) {
  const sp = p.sampling || {};
  const greedy = sp.temperature === 0;
  const pipeline = [
    { name: 'logits' },
    { name: '÷ temperature', detail: greedy ? '0: greedy' : String(sp.temperature ?? 1) },
    { name: 'softmax' },
    { name: 'top-k', detail: sp.topK ? `k = ${sp.topK}, ${p.kept.topK ?? '–'} kept` : 'off' },
    { name: 'top-p', detail: sp.topP < 1 ? `p = ${sp.topP}, ${p.kept.topP ?? '–'} kept` : 'off' },
    { name: 'renormalise' },
    { name: greedy ? 'argmax' : 'draw', detail: greedy ? showPiece(p.piece) : `u = ${f4(p.uniform)} → ${showPiece(p.piece)}` },
  ];
  const list = p.drawnRow ? [...p.rows, p.drawnRow] : p.rows;
  const rows = list.map((r, i) => {
    const before = r.rank != null ? p.cumBefore : i === 0 ? 0 : list[i - 1].cum;
    const chosen = r.id === p.token;
    return {
      id: r.id, piece: showPiece(r.piece), chosen, rank: (r.rank ?? i) + 1, gap: r.rank != null && r.rank > p.rows.length,
      logit: fmt(r.logit), scaled: r.scaled == null || greedy ? '–' : fmt(r.scaled), // greedy divides by nothing
      cols: ['prob', 'topK', 'topP'].map((c) => ({ w: W(r[c]), label: r[c] == null ? '–' : pct(r[c]), cut: c !== 'prob' && r[c] === 0 })),
      cum: f4(r.cum), cumW: W(r.cum), segL: W(before), segW: W(r.cum) - W(before), hasU: chosen && !greedy,
    };
  });
  return {
    pipeline, greedy, uL: W(p.uniform), u: f4(p.uniform), posN: p.position + 1,
    token: p.token, piece: showPiece(p.piece), uniform: f4(p.uniform), rankText: `row ${p.rank + 1}`,
    cumBefore: f4(p.cumBefore), cumAfter: f4(p.cumAfter),
    keptK: p.kept.topK ?? '–', keptP: p.kept.topP ?? '–',
    rows, more: !!p.drawnRow && p.drawnRow.rank > p.rows.length,
  };
}

/* The stages one at a time (issue 5: the bars step through them): the same
 * rows, drawn as the distribution stands after stage `sub`. */
export const SUBSTAGES = [
  { key: 'scaled', name: '÷ temperature', col: 1, pipe: 1 },
  { key: 'prob', name: 'softmax', col: 2, pipe: 2 },
  { key: 'topK', name: 'top-k cut', col: 3, pipe: 3 },
  { key: 'topP', name: 'top-p cut', col: 4, pipe: 4 },
  { key: 'renorm', name: 'renormalise', col: 4, pipe: 5 },
  { key: 'draw', name: 'draw', col: 5, pipe: 6 },
];

/** The single-stage bars' view-model for sub-stage sub (pure; tested in Node). */
export function stageBarsModel(p, sub) {
  sub = Math.max(0, Math.min(SUBSTAGES.length - 1, sub | 0));
  const st = SUBSTAGES[sub], sp = p.sampling || {};
  const rows = p.rows;
  const cutK = (r) => r.topK === 0, cutP = (r) => r.topP === 0 && !cutK(r);
  let val, label, cut, neg = () => false;
  if (st.key === 'scaled') {
    const xs = rows.map((r) => r.scaled ?? r.logit);
    const m = Math.max(1e-9, ...xs.map(Math.abs));
    val = (r, i) => (100 * Math.abs(xs[i])) / m; label = (r, i) => fmt(xs[i]); cut = () => false; neg = (r, i) => xs[i] < 0;
  } else if (st.key === 'prob' || st.key === 'topK' || st.key === 'topP') {
    val = (r) => W(r.prob); label = (r) => pct(r.prob);
    cut = st.key === 'prob' ? () => false : st.key === 'topK' ? cutK : (r) => cutK(r) || cutP(r);
  } else {
    val = (r) => W(r.topP); label = (r) => pct(r.topP); cut = (r) => r.topP === 0;
  }
  const nK = rows.filter(cutK).length, nP = rows.filter(cutP).length;
  const greedy = sp.temperature === 0;
  const drawn = `${showPiece(p.piece)} (${p.rank < rows.length ? `row ${p.rank + 1}` : `row ${p.rank + 1}, below the rows shown`})`;
  const say = {
    scaled: greedy ? 'Temperature 0 is greedy: the largest logit wins, whatever the rest (the probabilities shown are at T = 1, for comparison).' : `Each logit is divided by the temperature T = ${sp.temperature ?? 1}: below 1 the gaps widen, above 1 they shrink. Bar length: |value| against the largest shown.`,
    prob: 'Softmax turns the scaled logits into probabilities that sum to 1.',
    topK: sp.topK ? `Top-k = ${sp.topK} keeps only the ${sp.topK} most likely tokens${nK ? `: ${nK} of the rows shown are cut` : ': every row shown survives'}.` : 'Top-k is off: nothing is cut.',
    topP: sp.topP < 1 ? `Top-p = ${sp.topP} keeps the smallest set of the most likely tokens whose mass reaches ${sp.topP}${nP ? `: ${nP} more rows are cut` : ': no further row shown is cut'}.` : 'Top-p is off: nothing more is cut.',
    renorm: 'The survivors are scaled up so they sum to 1 again.',
    draw: greedy ? `Greedy: the most likely token is taken, ${drawn}; no random number is used.`
      : `The rows are in the order shown (final probability, largest first), each with its running total. The seed’s uniform number for generated token ${p.position + 1} is u = ${f4(p.uniform)}. The first row whose running total exceeds u is drawn: ${drawn}, whose running total goes from ${f4(p.cumBefore)} (not above u) to ${f4(p.cumAfter)} (above u).`,
  }[st.key];
  return {
    sub, say, last: sub === SUBSTAGES.length - 1, first: sub === 0,
    subs: SUBSTAGES.map((x, i) => ({ i, name: x.name, on: i === sub, past: i < sub })),
    rows: rows.map((r, i) => ({ id: r.id, piece: showPiece(r.piece), w: cut(r) ? 0 : val(r, i), ghost: cut(r) ? val(r, i) : 0, label: cut(r) ? 'cut' : label(r, i), cut: cut(r), neg: neg(r, i), chosen: st.key === 'draw' && r.id === p.token })),
  };
}

let sub = SUBSTAGES.length - 1; // shared by the sampling view and the stage view's sampling step
let playing = 0;

/**
 * Draws the bars of prediction p into area: the pipeline, the stage-by-stage
 * bars with their controls (Prev / Play / Next and one button per stage;
 * the current stage's column and pipeline box are highlighted), and the
 * side-by-side table of every stage.
 */
export function mountSamplingBars(area, templates, p) {
  const bars = barsModel(p), one = stageBarsModel(p, sub);
  area.innerHTML = templates.render('sampling', 'bars', { ...bars, one, playing: !!playing });
  applyWidths(area);
  const cur = SUBSTAGES[one.sub];
  area.querySelectorAll('.pipeline li')[cur.pipe]?.classList.add('on');
  for (const row of area.querySelectorAll('.bars .bars-row:not(.bars-gap)')) row.children[cur.col + 2]?.classList.add('col-on');
  const go = (i) => { sub = Math.max(0, Math.min(SUBSTAGES.length - 1, i)); mountSamplingBars(area, templates, p); };
  const stop = () => { clearInterval(playing); playing = 0; };
  for (const b of area.querySelectorAll('[data-sub]')) b.addEventListener('click', () => { stop(); go(Number(b.dataset.sub)); });
  area.querySelector('[data-act="sub-prev"]').addEventListener('click', () => { stop(); go(sub - 1); });
  area.querySelector('[data-act="sub-next"]').addEventListener('click', () => { stop(); go(sub + 1); });
  area.querySelector('[data-act="sub-play"]').addEventListener('click', () => {
    if (playing) { stop(); go(sub); return; }
    sub = 0;
    playing = setInterval(() => {
      if (!area.isConnected || sub >= SUBSTAGES.length - 1) { stop(); if (area.isConnected) go(sub); return; }
      go(sub + 1);
    }, 900);
    go(0);
  });
}

export function samplingBars(templates, p) { return templates.render('sampling', 'bars', { ...barsModel(p), one: stageBarsModel(p, SUBSTAGES.length - 1) }); }

const FMT = { temperature: (v) => (v === 0 ? '0 (greedy)' : v.toFixed(2)), topK: (v) => (v === 0 ? 'off' : String(v)), topP: (v) => (v >= 1 ? 'off' : v.toFixed(2)) };

export function samplingView({ templates, actions }) {
  return {
    watch: ['predict', 'temperature', 'topK', 'topP', 'seed', 'errors', 'generating', 'status', 'run', 'config', 'prompt', 'gen', 'interventions'],
    render(el, s) {
      if (!el.querySelector('.sliders')) {
        el.innerHTML = templates.render('sampling', 'main', {});
        for (const inp of el.querySelectorAll('input[data-field]')) {
          inp.addEventListener('input', () => {
            const v = Number(inp.value);
            if (!Number.isFinite(v)) return;
            actions.set({ [inp.dataset.field]: inp.dataset.field === 'seed' || inp.dataset.field === 'topK' ? Math.max(0, Math.floor(v)) : v });
          });
        }
        el.querySelector('[data-act="gen1"]').addEventListener('click', () => actions.generate(1));
        el.querySelector('[data-act="gen10"]').addEventListener('click', () => actions.generate(10));
      }
      for (const inp of el.querySelectorAll('input[data-field]')) {
        const f = inp.dataset.field;
        if (document.activeElement !== inp && Number(inp.value) !== s[f]) inp.value = s[f];
        const out = el.querySelector(`[data-out="${f}"]`);
        if (out) out.textContent = FMT[f](s[f]);
      }
      const live = s.status.phase === 'ready';
      const full = s.run && s.config && s.run.ids.length >= s.config.n_positions;
      for (const b of el.querySelectorAll('[data-act^="gen"]')) b.disabled = !live || !!s.generating || full;
      el.querySelector('.gen-note').textContent = s.generating ? 'generating…' : full ? 'the context is full' : live ? '' : 'waiting for the engine…';
      const area = el.querySelector('.bars-area');
      if (s.errors.sampling) { area.innerHTML = ''; const e = document.createElement('div'); e.className = 'view-error'; e.setAttribute('role', 'alert'); e.textContent = s.errors.sampling; area.append(e); return; }
      const p = s.predict && s.predict.key === sampleKey(s) ? s.predict : null;
      if (!p) { area.innerHTML = '<p class="dim waiting">computing…</p>'; return; }
      mountSamplingBars(area, templates, p);
    },
  };
}
