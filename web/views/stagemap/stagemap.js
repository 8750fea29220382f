/* stagemap view — always shows where the learner is: embeddings, the blocks,
 * the final norm, logits and sampling, with the current block opened into its
 * steps (layer norm, Q/K/V, scores, mask, softmax, weighted sum, concat,
 * projection, residual; layer norm, MLP up, GELU, down, residual). Every node
 * jumps there. */
import { STEPS, KIND, stepIndex, stepList, isBlock } from '../../steps.js';

/** The map's view-model (pure). */
export function stagemapModel(s) {
  const nL = s.config ? s.config.n_layer : 0;
  const inBlock = isBlock(s.stage);
  const mk = (k) => ({ key: k.key, name: k.name, short: k.short, layer: s.layer, on: k.key === s.stage });
  return {
    stepNo: nL ? stepIndex(s.stage, s.layer, nL) + 1 : 1,
    stepCount: nL ? stepList(nL).length : '…',
    embedOn: s.stage === 'embed',
    blocks: Array.from({ length: nL }, (_, L) => ({ n: L + 1, layer: L, stage: inBlock ? s.stage : 'ln1', on: inBlock && L === s.layer, compact: nL > 6 })),
    finals: ['lnf', 'logits', 'sample'].map((k) => ({ key: k, name: KIND[k].name, on: s.stage === k })),
    inBlock, blockN: s.layer + 1,
    attn: STEPS.filter((k) => k.group === 'attn').map(mk),
    mlp: STEPS.filter((k) => k.group === 'mlp').map(mk),
  };
}

export function stagemapView({ templates, actions }) {
  return {
    watch: ['stage', 'layer', 'config'],
    render(el, s) {
      el.innerHTML = templates.render('stagemap', 'main', stagemapModel(s));
      for (const b of el.querySelectorAll('button[data-stage]')) {
        b.addEventListener('click', () => actions.goto(b.dataset.stage, b.dataset.layer != null ? Number(b.dataset.layer) : null));
      }
    },
  };
}
