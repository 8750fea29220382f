/* sampling view — the last position's next-token distribution through each
 * sampling stage (logits ÷ temperature → softmax → top-k cut → top-p cut,
 * renormalised), with the seeded draw highlighted; sliders for temperature,
 * top-k, top-p and the seed; Generate appends the sampled token (the engine
 * computes only the new position, through its KV cache). */
import { applyWidths, fmt, pct } from '../../lib/charts.js';
import { showPiece } from '../tokens/tokens.js';

/** Bars' view-model from engine.js predict() (pure; tested in Node). */
export function barsModel(p) {
  const cols = ['prob', 'topK', 'topP'];
  const max = Object.fromEntries(cols.map((c) => [c, Math.max(1e-9, ...p.rows.map((r) => r[c] ?? 0))]));
  const sp = p.sampling || {};
  const greedy = sp.temperature === 0;
  const pipeline = [
    { name: 'logits' },
    { name: '÷ temperature', detail: greedy ? '0: greedy' : String(sp.temperature ?? 1) },
    { name: 'softmax' },
    { name: 'top-k', detail: sp.topK ? `k = ${sp.topK}, ${p.kept.topK ?? '–'} kept` : 'off' },
    { name: 'top-p', detail: sp.topP < 1 ? `p = ${sp.topP}, ${p.kept.topP ?? '–'} kept` : 'off' },
    { name: 'renormalise' },
    { name: greedy ? 'argmax' : 'draw', detail: greedy ? showPiece(p.piece) : `u = ${p.uniform.toFixed(3)} → ${showPiece(p.piece)}` },
  ];
  return {
    pipeline,
    token: p.token, piece: showPiece(p.piece), uniform: p.uniform.toFixed(4),
    keptK: p.kept.topK ?? '–', keptP: p.kept.topP ?? '–',
    rows: p.rows.map((r) => ({
      id: r.id, piece: showPiece(r.piece), chosen: r.id === p.token, logit: fmt(r.logit), scaled: r.scaled == null ? '–' : fmt(r.scaled),
      cols: cols.map((c) => ({ w: r[c] == null ? 0 : (100 * r[c]) / max[c], label: r[c] == null ? '–' : pct(r[c]), cut: c !== 'prob' && r[c] === 0 })),
    })),
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
  { key: 'draw', name: 'draw', col: 4, pipe: 6 },
];

/** The single-stage bars' view-model for sub-stage sub (pure; tested in Node). */
export function stageBarsModel(p, sub) {
  sub = Math.max(0, Math.min(SUBSTAGES.length - 1, sub | 0));
  const st = SUBSTAGES[sub], sp = p.sampling || {};
  const rows = p.rows;
  const cutK = (r) => r.topK === 0, cutP = (r) => r.topP === 0 && !cutK(r);
  let val, label, cut;
  if (st.key === 'scaled') {
    const xs = rows.map((r) => r.scaled ?? r.logit), lo = Math.min(...xs), hi = Math.max(...xs);
    val = (r, i) => (hi > lo ? 8 + (92 * (xs[i] - lo)) / (hi - lo) : 100); label = (r, i) => fmt(xs[i]); cut = () => false;
  } else if (st.key === 'prob' || st.key === 'topK' || st.key === 'topP') {
    const max = Math.max(1e-9, ...rows.map((r) => r.prob ?? 0));
    val = (r) => (100 * (r.prob ?? 0)) / max; label = (r) => pct(r.prob);
    cut = st.key === 'prob' ? () => false : st.key === 'topK' ? cutK : (r) => cutK(r) || cutP(r);
  } else {
    const max = Math.max(1e-9, ...rows.map((r) => r.topP ?? 0));
    val = (r) => (100 * (r.topP ?? 0)) / max; label = (r) => pct(r.topP); cut = (r) => r.topP === 0;
  }
  const nK = rows.filter(cutK).length, nP = rows.filter(cutP).length;
  const greedy = sp.temperature === 0;
  const say = {
    scaled: greedy ? 'Temperature 0 is greedy: the largest logit wins, whatever the rest.' : `Each logit is divided by the temperature T = ${sp.temperature ?? 1}: below 1 the gaps widen, above 1 they shrink.`,
    prob: 'Softmax turns the scaled logits into probabilities that sum to 1.',
    topK: sp.topK ? `Top-k = ${sp.topK} keeps only the ${sp.topK} most likely tokens${nK ? `: ${nK} of the rows shown are cut` : ': every row shown survives'}.` : 'Top-k is off: nothing is cut.',
    topP: sp.topP < 1 ? `Top-p = ${sp.topP} keeps the smallest set of the most likely tokens whose mass reaches ${sp.topP}${nP ? `: ${nP} more rows are cut` : ': no further row shown is cut'}.` : 'Top-p is off: nothing more is cut.',
    renorm: 'The survivors are scaled up so they sum to 1 again.',
    draw: greedy ? `The most likely token is taken: ${showPiece(p.piece)}.` : `A uniform draw u = ${p.uniform.toFixed(3)} walks down the survivors’ probabilities and stops at ${showPiece(p.piece)}.`,
  }[st.key];
  return {
    sub, say, last: sub === SUBSTAGES.length - 1, first: sub === 0,
    subs: SUBSTAGES.map((x, i) => ({ i, name: x.name, on: i === sub, past: i < sub })),
    rows: rows.map((r, i) => ({ id: r.id, piece: showPiece(r.piece), w: cut(r) ? 0 : val(r, i), ghost: cut(r) ? val(r, i) : 0, label: cut(r) ? 'cut' : label(r, i), cut: cut(r), chosen: st.key === 'draw' && r.id === p.token })),
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
  for (const row of area.querySelectorAll('.bars .bars-row')) row.children[cur.col + 1]?.classList.add('col-on');
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
    watch: ['predict', 'temperature', 'topK', 'topP', 'seed', 'errors', 'generating', 'status', 'run', 'config'],
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
      if (!s.predict) { area.innerHTML = '<p class="dim waiting">computing…</p>'; return; }
      mountSamplingBars(area, templates, s.predict);
    },
  };
}
