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

export function samplingBars(templates, p) { return templates.render('sampling', 'bars', barsModel(p)); }

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
      area.innerHTML = samplingBars(templates, s.predict);
      applyWidths(area);
    },
  };
}
