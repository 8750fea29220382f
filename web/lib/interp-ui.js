/* interp-ui.js — what the interpretability views share: the two-part layout
 * (a form kept while the learner types, results redrawn on each answer), the
 * progress bar with cancel of a long job, the target/distractor picker, and
 * cell colours. No model numbers are made here: values come from the engine. */
import { replaceHtml, applyWidths } from './charts.js';
import { css, divRGB, seqRGB, ink } from './colors.js';
import { showPiece } from '../views/tokens/tokens.js';

/** The view's two parts: {form, result} children of el, created once. */
export function parts(el) {
  if (!el.querySelector(':scope > .iv-form')) {
    const form = document.createElement('div');
    form.className = 'iv-form';
    const result = document.createElement('div');
    result.className = 'iv-result';
    el.replaceChildren(form, result);
  }
  return { form: el.querySelector(':scope > .iv-form'), result: el.querySelector(':scope > .iv-result') };
}

/** Replaces a part's HTML when it changed; applies colours and widths. @returns {boolean} changed */
export function put(part, html) {
  if (!replaceHtml(part, html)) return false;
  applyWidths(part);
  for (const e of part.querySelectorAll('[data-ink]')) e.style.color = e.dataset.ink;
  return true;
}

/** Colours of a signed cell on a scale of ±max (values past it clipped). */
export function divCell(v, max) {
  const rgb = divRGB(Math.max(-max, Math.min(max, v)), max);
  return { bg: css(rgb), ink: ink(rgb) };
}

/** Colours of a share in [0, 1]. */
export function seqCell(v) {
  const rgb = seqRGB(Math.max(0, Math.min(1, v)), 1);
  return { bg: css(rgb), ink: ink(rgb) };
}

/** A head as the page names it (1-based, as the ablation grid), with TransformerLens's 0-based name. */
export const headName = (l, h) => `L${l + 1} h${h + 1}`;
export const tlName = (l, h) => `blocks.${l}.attn head ${h}`;

export const piece = (p) => showPiece(String(p ?? ''));
export const num = (v, d = 3) => (v == null || !Number.isFinite(v) ? '–' : (Math.abs(v) < 5e-4 && v !== 0 ? v.toExponential(1) : v.toFixed(d)).replace('-', '−'));

/** The progress model of a job ({key, done, total} | {cancelled} | null) for the state's key. */
export function jobModel(job, key) {
  if (!job || job.key !== key) return { running: false, cancelled: false };
  if (job.cancelled) return { running: false, cancelled: true };
  const f = job.total ? job.done / job.total : 0;
  return { running: true, cancelled: false, percent: (100 * f).toFixed(0), w: 100 * f, done: job.done, total: job.total };
}

/** Wires data-act buttons of a part to handlers {act: (button) => void}. */
export function wire(part, handlers) {
  for (const b of part.querySelectorAll('[data-act]')) {
    const fn = handlers[b.dataset.act];
    if (fn) b.addEventListener('click', () => fn(b));
  }
}

/**
 * Wires the target/distractor inputs (data-pick="target"|"distractor"): on
 * change, the text goes to the worker, which returns the one token it names
 * (#123, or text that is exactly one token) or says why not.
 */
export function wirePickers(part, { actions, onError }) {
  for (const inp of part.querySelectorAll('input[data-pick]')) {
    inp.addEventListener('change', async () => {
      const field = inp.dataset.pick;
      const text = inp.value;
      if (text.trim() === '' || text.trim() === 'auto') { actions.set({ [field]: -1 }); return; }
      try {
        const id = await actions.tokenId(text);
        onError(null);
        actions.set({ [field]: id });
      } catch (e) { onError(e.message); }
    });
  }
  for (const b of part.querySelectorAll('[data-set-token]')) {
    b.addEventListener('click', () => actions.set({ [b.dataset.setToken]: Number(b.dataset.id) }));
  }
}
