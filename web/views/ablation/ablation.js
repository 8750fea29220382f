/* ablation view — interventions from the GUI, and the comparison view: a
 * layers × heads grid (clicking a head adds it to the run's interventions,
 * which every view then shows: the engine replaces that head's hook_z with
 * zeros or its mean over the positions), and the next-token probabilities of
 * the clean run beside the intervened one, at the same sampling settings and
 * drawing with the same u, both labelled. Bars: length = probability. */
import { applyWidths, pct, replaceHtml } from '../../lib/charts.js';
import { ablationMode, ivNames, sampleKey } from '../../state.js';
import { showPiece } from '../tokens/tokens.js';

const W = (p) => (p == null ? 0 : 100 * Math.max(0, Math.min(1, p)));
const settingsText = (sp) => `T = ${sp.temperature}${sp.temperature === 0 ? ' (greedy)' : ''}, top-k ${sp.topK ? sp.topK : 'off'}, top-p ${sp.topP < 1 ? sp.topP : 'off'}`;

/** The view-model (pure; tested in Node). `pickMode` is the kind the next click adds. */
export function ablationModel(s, pickMode = 'zero') {
  const c = s.config, a = s.compare && s.compare.key === sampleKey(s) ? s.compare : null;
  const nL = c ? c.n_layer : 0, nH = c ? c.n_head : 0;
  const on = (l, h) => s.interventions.find((e) => e.kind.startsWith('ablate-') && e.layer === l && e.head === h);
  const mode = ablationMode(s.interventions);
  const shown = mode === 'zero' && !s.interventions.length ? pickMode : mode;
  const has = s.interventions.length > 0;
  const runLabel = has ? `with ${ivNames(s.interventions)}` : 'the model';
  return {
    ablatedText: has ? ivNames(s.interventions) : 'none',
    headNums: Array.from({ length: nH }, (_, h) => h + 1),
    layers: Array.from({ length: nL }, (_, l) => ({ n: l + 1, heads: Array.from({ length: nH }, (_, h) => {
      const e = on(l, h);
      return { layer: l, head: h, hn: h + 1, n: l + 1, on: !!e, mean: e?.kind === 'ablate-mean' };
    }) })),
    hasAblation: has,
    modes: [['zero', 'zeros'], ['mean', 'its mean over the positions'], ...(mode === 'mixed' ? [['mixed', 'mixed (per head)']] : [])].map(([v, n]) => ({ v, n, sel: v === shown })),
    waiting: !a && !s.errors.ablation,
    settings: settingsText(s),
    cleanLabel: 'clean model', runLabel,
    same: a && !a.intervened,
    drawClean: a ? showPiece(a.clean.piece) : '', drawRun: a ? showPiece(a.run.piece) : '',
    drawCleanId: a ? a.clean.token : '', drawRunId: a ? a.run.token : '', u: a ? a.run.uniform.toFixed(4) : '', greedy: s.temperature === 0,
    rows: a ? a.rows.map((r) => ({
      id: r.id, piece: showPiece(r.piece), clean: pct(r.clean), run: pct(r.run), cleanRaw: r.clean, runRaw: r.run,
      cleanRank: r.cleanRank ? `#${r.cleanRank}` : '', runRank: r.runRank ? `#${r.runRank}` : '',
      wc: W(r.clean), wr: W(r.run), up: r.run > r.clean, mark: a.intervened,
      delta: a.intervened ? `${r.run >= r.clean ? '+' : '−'}${(100 * Math.abs(r.run - r.clean)).toFixed(1)}pt` : '',
    })) : [],
    error: s.errors.ablation,
  };
}

export function ablationView({ templates, actions }) {
  let pickMode = 'zero';
  return {
    watch: ['compare', 'interventions', 'config', 'errors', 'temperature', 'topK', 'topP', 'seed', 'prompt', 'gen'],
    render(el, s) {
      if (!replaceHtml(el, templates.render('ablation', 'main', ablationModel(s, pickMode)))) return;
      applyWidths(el);
      const kind = () => (ablationMode(s.interventions) === 'mean' || (!s.interventions.length && pickMode === 'mean') ? 'ablate-mean' : 'ablate-zero');
      for (const b of el.querySelectorAll('.hg-cell')) b.addEventListener('click', () => actions.toggleAblate(Number(b.dataset.layer), Number(b.dataset.head), kind()));
      el.querySelector('.clear-ablate')?.addEventListener('click', () => actions.clearInterventions());
      el.querySelector('[data-field="ablateMode"]').addEventListener('change', (ev) => {
        const v = ev.target.value;
        if (v === 'mixed') return;
        pickMode = v;
        // Every ablation in the list takes the chosen kind (patches stay as they are).
        if (s.interventions.length) actions.set({ interventions: s.interventions.map((e) => (e.kind.startsWith('ablate-') ? { ...e, kind: `ablate-${v}` } : e)) });
        else { delete el.dataset.html; this.render(el, s); }
      });
    },
  };
}
