/* dla view — direct logit attribution of the run at its last position
 * (interp-engine.js dla; core/run/attribute.c): embeddings, each head, each
 * attention bias, each MLP, the final norm's bias and the remainder, the
 * engine's total beside the sum of those parts, and per head (on a click) its
 * split by source position. */
import { divCell, headName, num, parts, piece, put, tlName, wire, wirePickers } from '../../lib/interp-ui.js';
import { dlaKey } from '../../lib/interp-client.js';

/** The result's view-model (pure). */
export function dlaModel(s) {
  const a = s.dla && s.dla.key === dlaKey(s) ? s.dla : null;
  if (!a) return { waiting: !s.errors.dla, error: s.errors.dla, has: false };
  const L = a.nLayer, H = a.nHead;
  // The sum is of the numbers on screen, as a check a learner could do by hand.
  let sum = a.embed + a.posEmbed + a.lnFinalBias + a.remainder;
  for (const v of a.heads) sum += v;
  for (const v of a.attnBias) sum += v;
  for (const v of a.mlp) sum += v;
  let max = 1e-6;
  for (const v of a.heads) max = Math.max(max, Math.abs(v));
  for (const v of a.mlp) max = Math.max(max, Math.abs(v));
  const open = /^(\d+)\.(\d+)$/.exec(s.dlaHead || '');
  let source = null;
  if (open && +open[1] < L && +open[2] < H) {
    const l = +open[1], h = +open[2], T = a.T, row = a.bySource.slice((l * H + h) * T, (l * H + h + 1) * T);
    let m = 1e-9;
    for (const v of row) m = Math.max(m, Math.abs(v));
    source = { name: `${headName(l, h)} (${tlName(l, h)})`, v: num(a.heads[l * H + h], 4), cells: Array.from(row, (v, j) => ({ pos: j, piece: piece(a.pieces[j]), v: num(v, 4), w: (100 * Math.abs(v)) / m, neg: v < 0 })) };
  }
  return {
    has: true, error: s.errors.dla,
    last: a.T - 1, lastPiece: piece(a.pieces[a.T - 1]),
    target: piece(a.target.piece), targetId: a.target.id, distractor: piece(a.distractor.piece), distractorId: a.distractor.id,
    total: num(a.total, 4), totalRaw: a.total, sum: num(sum, 4), sumRaw: sum,
    fixed: [
      { id: 'embed', name: 'token embedding (hook_embed)', v: num(a.embed, 4) },
      { id: 'pos_embed', name: 'position embedding (hook_pos_embed)', v: num(a.posEmbed, 4) },
      { id: 'ln_final_bias', name: 'final layer norm bias', v: num(a.lnFinalBias, 4), note: 'a constant: b · (W_U[target] − W_U[distractor])' },
      { id: 'remainder', name: 'remainder', v: num(a.remainder, 6), note: 'what no component wrote: float rounding, or a patched hook_resid_pre / hook_attn_out' },
    ],
    headCols: Array.from({ length: H }, (_, h) => h + 1),
    rows: Array.from({ length: L }, (_, l) => {
      const mc = divCell(a.mlp[l], max);
      return {
        n: l + 1, l, bias: num(a.attnBias[l], 4), mlp: num(a.mlp[l], 3), mlpRaw: a.mlp[l], mlpBg: mc.bg, mlpInk: mc.ink,
        heads: Array.from({ length: H }, (_, h) => {
          const v = a.heads[l * H + h], c = divCell(v, max);
          return { lh: `${l}.${h}`, name: headName(l, h), raw: v, v: num(v, 3), bg: c.bg, ink: c.ink, open: s.dlaHead === `${l}.${h}` };
        }),
      };
    }),
    max: num(max, 3), source,
  };
}

export function dlaView({ templates, actions, store }) {
  let pickError = null;
  return {
    watch: ['dla', 'target', 'distractor', 'dlaHead', 'errors', 'prompt', 'gen', 'interventions'],
    render(el, s) {
      const { form, result } = parts(el);
      const a = s.dla;
      const t = (field, tk) => (s[field] < 0 ? '' : tk && tk.id === s[field] ? tk.piece : `#${s[field]}`);
      const typing = form.contains(document.activeElement) && document.activeElement.matches('input');
      if (!typing && put(form, templates.render('dla', 'main', {
        targetText: t('target', a?.target), distractorText: t('distractor', a?.distractor), pickError,
        targetAuto: a?.target ? `auto: ${piece(a.target.piece)}` : 'auto', distractorAuto: a?.distractor ? `auto: ${piece(a.distractor.piece)}` : 'auto',
      }))) {
        wirePickers(form, { actions, onError: (msg) => { pickError = msg; delete form.dataset.html; this.render(el, store.get()); } });
      }
      if (put(result, templates.render('dla', 'result', dlaModel(s)))) {
        for (const b of result.querySelectorAll('[data-head]')) b.addEventListener('click', () => actions.set({ dlaHead: store.get().dlaHead === b.dataset.head ? '' : b.dataset.head }));
        wire(result, { closeHead: () => actions.set({ dlaHead: '' }) });
      }
    },
  };
}
