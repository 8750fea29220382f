/* sparsity view — MLP sparsity of the run (interp-engine.js sparsity;
 * core/run/sparsity.c): the share of neurons with post-GELU activation > 0
 * and > the stated threshold per block and position, and a block's most
 * active neurons with the tokens their output weights promote.
 *
 * A long run's grids show a window of COLS positions with buttons to move it
 * (two 256-column grids of titled cells were a 56 ms main-thread task at every
 * generated token); the window starts at the run's last COLS positions. */
import { num, parts, piece, put, seqCell } from '../../lib/interp-ui.js';
import { sparsityKey } from '../../lib/interp-client.js';

const pctText = (v) => `${(100 * v).toFixed(1)}%`;

/** Positions the grids show at once. */
export const COLS = 32;

/**
 * The result's view-model (pure). from: the first position shown (clamped;
 * null: the last COLS positions).
 */
export function sparsityModel(s, from = null) {
  const a = s.sparsity && s.sparsity.key === sparsityKey(s) ? s.sparsity : null;
  if (!a) return { waiting: !s.errors.sparsity, error: s.errors.sparsity, has: false };
  const T = a.T, n = Math.min(T, COLS);
  const t0 = Math.max(0, Math.min(T - n, from == null ? T - n : from));
  const cols = Array.from({ length: n }, (_, i) => ({ pos: t0 + i, label: piece(a.pieces[t0 + i]) }));
  const table = (kind, data, caption) => ({
    kind, caption, cols,
    rows: Array.from({ length: a.nLayer }, (_, l) => ({ n: l + 1, cells: cols.map(({ pos: t, label }) => {
      const v = data[l * T + t], c = seqCell(v);
      return { raw: v, text: pctText(v), bg: c.bg, ink: c.ink, title: `block ${l + 1}, position ${t} “${label}”: ${pctText(v)} of the neurons ${kind === 'active' ? '> 0' : `> ${a.threshold}`}` };
    }) })),
  });
  return {
    has: true, error: s.errors.sparsity, from: t0,
    window: T > n ? { from: t0 + 1, to: t0 + n, T, first: t0 === 0, last: t0 + n === T } : null,
    tables: [table('active', a.active, 'share of neurons active (> 0)'), table('above', a.above, `share above ${a.threshold}`)],
    blockN: a.layer + 1, nNeurons: a.neurons.length,
    neurons: a.neurons.map((n) => ({ neuron: n.neuron, act: num(n.act, 3), tokens: n.tokens.map((t) => ({ id: t.id, piece: piece(t.piece), value: num(t.value, 2) })) })),
  };
}

export function sparsityView({ templates, actions }) {
  let from = null; // the learner's window; null follows the run's end
  const draw = (result, s) => {
    const vm = sparsityModel(s, from);
    put(result, templates.render('sparsity', 'result', vm));
    for (const b of result.querySelectorAll('[data-cols]')) {
      b.onclick = () => { from = Math.max(0, vm.from + (b.dataset.cols === 'next' ? COLS : -COLS)); draw(result, s); };
    }
  };
  return {
    watch: ['sparsity', 'mlpLayer', 'config', 'errors', 'prompt', 'gen', 'interventions'],
    render(el, s) {
      const { form, result } = parts(el);
      const c = s.config;
      const vm = {
        dMlp: c ? c.d_mlp : '', threshold: s.sparsity?.threshold ?? 0.1,
        layers: Array.from({ length: c ? c.n_layer : 0 }, (_, l) => ({ l, n: l + 1, sel: l === s.mlpLayer })),
      };
      if (put(form, templates.render('sparsity', 'main', vm))) {
        const sel = form.querySelector('[data-field="mlpLayer"]');
        sel.addEventListener('change', () => actions.set({ mlpLayer: Number(sel.value) }));
      }
      draw(result, s);
    },
  };
}
