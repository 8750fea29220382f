/* ablation view — interventions from the GUI: a layers × heads grid; clicking
 * a head ablates it (the engine replaces that head's hook_z), and the
 * bars compare the last position's next-token probabilities before and after.
 * Mean ablation replaces the output with its mean over the run's positions. */
import { applyWidths, pct, replaceHtml } from '../../lib/charts.js';
import { showPiece } from '../tokens/tokens.js';

/** The view-model (pure; tested in Node). */
export function ablationModel(s) {
  const c = s.config, a = s.ablation;
  const nL = c ? c.n_layer : 0, nH = c ? c.n_head : 0;
  const rows = a && a.rows ? a.rows : [];
  const max = Math.max(1e-9, ...rows.map((r) => Math.max(r.before ?? 0, r.after ?? 0)));
  const fresh = a && a.heads.join(',') === s.ablate.join(',') && (!a.heads.length || a.mode === s.ablateMode);
  return {
    ablatedText: s.ablate.length ? s.ablate.map((k) => { const [l, h] = k.split('.').map(Number); return `L${l + 1} h${h + 1}`; }).join(', ') : 'none',
    headNums: Array.from({ length: nH }, (_, h) => h + 1),
    layers: Array.from({ length: nL }, (_, l) => ({ n: l + 1, heads: Array.from({ length: nH }, (_, h) => ({ layer: l, head: h, hn: h + 1, n: l + 1, on: s.ablate.includes(`${l}.${h}`) })) })),
    hasAblation: s.ablate.length > 0,
    modes: [['zero', 'zeros'], ['mean', 'its mean over the prompt']].map(([v, n]) => ({ v, n, sel: v === s.ablateMode })),
    waiting: !fresh && !s.errors.ablation,
    changedText: fresh && a.heads.length ? `${(100 * a.changed).toFixed(1)}% (total variation)` : '',
    rows: fresh ? rows.map((r) => ({
      id: r.id, piece: showPiece(r.piece), before: pct(r.before), after: r.after == null ? '–' : pct(r.after),
      wb: (100 * r.before) / max, wa: r.after == null ? 0 : (100 * r.after) / max, up: r.after > r.before,
      delta: r.after == null ? '' : `${r.after >= r.before ? '+' : '−'}${(100 * Math.abs(r.after - r.before)).toFixed(1)}pt`,
    })) : [],
    error: s.errors.ablation,
  };
}

export function ablationView({ templates, actions }) {
  return {
    watch: ['ablation', 'ablate', 'ablateMode', 'config', 'errors'],
    render(el, s) {
      if (!replaceHtml(el, templates.render('ablation', 'main', ablationModel(s)))) return;
      applyWidths(el);
      for (const b of el.querySelectorAll('.hg-cell')) b.addEventListener('click', () => actions.toggleAblate(Number(b.dataset.layer), Number(b.dataset.head)));
      el.querySelector('.clear-ablate')?.addEventListener('click', () => actions.set({ ablate: [] }));
      el.querySelector('[data-field="ablateMode"]').addEventListener('change', (ev) => actions.set({ ablateMode: ev.target.value }));
    },
  };
}
