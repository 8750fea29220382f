/* sparsity view — MLP sparsity of the run (interp-engine.js sparsity;
 * core/run/sparsity.c): the share of neurons with post-GELU activation > 0
 * and > the stated threshold per block and position, and a block's most
 * active neurons with the tokens their output weights promote. */
import { num, parts, piece, put, seqCell } from '../../lib/interp-ui.js';
import { sparsityKey } from '../../lib/interp-client.js';

const pctText = (v) => `${(100 * v).toFixed(1)}%`;

/** The result's view-model (pure). */
export function sparsityModel(s) {
  const a = s.sparsity && s.sparsity.key === sparsityKey(s) ? s.sparsity : null;
  if (!a) return { waiting: !s.errors.sparsity, error: s.errors.sparsity, has: false };
  const T = a.T, cols = Array.from({ length: T }, (_, t) => ({ pos: t, label: piece(a.pieces[t]) }));
  const table = (kind, data, caption) => ({
    kind, caption, cols,
    rows: Array.from({ length: a.nLayer }, (_, l) => ({ n: l + 1, cells: Array.from({ length: T }, (_, t) => {
      const v = data[l * T + t], c = seqCell(v);
      return { raw: v, text: pctText(v), bg: c.bg, ink: c.ink, title: `block ${l + 1}, position ${t} “${cols[t].label}”: ${pctText(v)} of the neurons ${kind === 'active' ? '> 0' : `> ${a.threshold}`}` };
    }) })),
  });
  return {
    has: true, error: s.errors.sparsity,
    tables: [table('active', a.active, 'share of neurons active (> 0)'), table('above', a.above, `share above ${a.threshold}`)],
    blockN: a.layer + 1, nNeurons: a.neurons.length,
    neurons: a.neurons.map((n) => ({ neuron: n.neuron, act: num(n.act, 3), tokens: n.tokens.map((t) => ({ id: t.id, piece: piece(t.piece), value: num(t.value, 2) })) })),
  };
}

export function sparsityView({ templates, actions }) {
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
      put(result, templates.render('sparsity', 'result', sparsityModel(s)));
    },
  };
}
