/* controls view — Prev / Next / Play (also ←, →, space), layer and head
 * pickers, "all heads", and sharing: "Copy link" (the URL carries the state)
 * and "Copy embed code" (an <iframe> snippet rendered from the embedcode
 * template, pointing at embed.html with this view's parameters). */
import { stepIndex, stepList, KIND } from '../../steps.js';

export const EMBED_VIEWS = [
  ['stage', 'this step'], ['tokens', 'tokens'], ['sampling', 'prediction & sampling'], ['ablation', 'interventions: clean vs intervened'], ['lens', 'logit lens'],
  ['lesson', 'this lesson step'],
  ['patching', 'activation patching'], ['dla', 'direct logit attribution'], ['heads', 'head finder'], ['sparsity', 'MLP sparsity'], ['reagent', 'token attribution (ReAGent)'],
];
/* Frame widths per view; the heights are only a fallback: the snippet's height
 * is measured from the view drawn at that width (actions.embedHeight). */
export const SIZES = { stage: [820, 560], tokens: [720, 200], sampling: [640, 520], ablation: [640, 520], lens: [820, 420], lesson: [960, 760],
  patching: [900, 640], dla: [720, 760], heads: [720, 900], sparsity: [820, 640], reagent: [640, 560] };

/**
 * The snippet for a view of the current state (pure; tested in Node): an
 * <iframe> whose height fits the content at the prompt it was made for, and a
 * few lines of script that keep it fitting (embed-resize.js's message) on
 * hosts that allow scripts. origin: the Glassbox site's origin, which the
 * script checks messages against.
 */
export function embedCode(templates, src, view, stage, height = null, origin = new URL(src).origin) {
  const [width, fallback] = SIZES[view] || SIZES.stage;
  const title = view === 'stage' ? (KIND[stage]?.name || 'step') : (EMBED_VIEWS.find((v) => v[0] === view)?.[1] || view);
  return templates.render('controls', 'embedcode', { src, width, height: height || fallback, title, origin }).trim();
}

export function controlsView({ templates, actions }) {
  let picked = null; // the view the learner chose to embed; by default the lesson in lesson mode, else the step
  let shareKind = null;
  let asked = 0; // the latest share request: an older one's late measurement is dropped
  return {
    watch: ['stage', 'layer', 'head', 'allHeads', 'config', 'playing', 'lesson'],
    render(el, s) {
      const shareView = picked || (s.lesson ? 'lesson' : 'stage');
      const c = s.config;
      const nL = c ? c.n_layer : 1, nH = c ? c.n_head : 1;
      const i = c ? stepIndex(s.stage, s.layer, nL) : 0;
      const vm = {
        atStart: i === 0, atEnd: c ? i === stepList(nL).length - 1 : false, playing: !!s.playing,
        layers: Array.from({ length: nL }, (_, L) => ({ v: L, n: L + 1, sel: L === s.layer })),
        heads: Array.from({ length: nH }, (_, h) => ({ v: h, n: h + 1, sel: h === s.head })),
        allHeads: s.allHeads,
        embedViews: EMBED_VIEWS.map(([v, n]) => ({ v, n, sel: v === shareView })),
      };
      const wasOpen = el.querySelector('.share-out') && !el.querySelector('.share-out').hidden;
      el.innerHTML = templates.render('controls', 'main', vm);
      const on = (act, fn) => el.querySelector(`[data-act="${act}"]`).addEventListener('click', fn);
      on('prev', () => actions.step(-1));
      on('next', () => actions.step(1));
      on('play', () => actions.togglePlay());
      for (const sel of el.querySelectorAll('select[data-field]')) sel.addEventListener('change', () => actions.set({ [sel.dataset.field]: Number(sel.value) }));
      el.querySelector('[data-field="allHeads"]').addEventListener('change', (ev) => actions.set({ allHeads: ev.target.checked }));
      const out = el.querySelector('.share-out'), text = el.querySelector('.share-text'), note = el.querySelector('.share-note');
      const show = async (kind, view = shareView) => {
        const ask = ++asked;
        shareKind = kind;
        out.hidden = false;
        el.querySelector('[data-share="view"]').parentElement.hidden = kind !== 'embed';
        let value = actions.shareUrl(false);
        if (kind === 'embed') {
          text.value = ''; note.textContent = 'measuring the view…'; out.dataset.ready = '0';
          const width = (SIZES[view] || SIZES.stage)[0];
          let height = null;
          try { height = await actions.embedHeight(view, width); } catch { /* the fallback size below */ }
          if (shareKind !== kind || ask !== asked) return; // the learner asked for something else meanwhile
          value = embedCode(templates, actions.shareUrl(true, view), view, s.stage, height, location.origin);
        }
        out.dataset.ready = '1';
        text.value = value;
        text.rows = kind === 'embed' ? 4 : 1;
        try { await navigator.clipboard.writeText(value); note.textContent = 'copied to the clipboard'; } catch { text.select(); note.textContent = 'select and copy'; }
      };
      on('tour', () => document.dispatchEvent(new CustomEvent('glassbox:intro')));
      on('link', () => show('link'));
      on('embed', () => show('embed'));
      el.querySelector('[data-share="view"]').addEventListener('change', (ev) => { picked = ev.target.value; show('embed', ev.target.value); });
      if (wasOpen && shareKind) show(shareKind);
    },
  };
}
