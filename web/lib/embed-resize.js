/* embed-resize.js — embed.html tells the page that frames it how tall its
 * content is, so a tutorial's <iframe> can fit the view instead of cropping it.
 *
 * The message (posted to window.parent with targetOrigin '*': a height is not
 * secret, and the host's origin is not known in advance):
 *
 *   {type: 'glassbox:resize', version: 1, view: string, height: number, width: number}
 *
 *   view    the view shown (?view=: stage, tokens, sampling, ablation, lens, lesson)
 *   height  CSS px the frame's content box needs to show everything without a scroll bar
 *   width   CSS px of the content's width (the frame's width; content never overflows it)
 *
 * It is posted once the view has drawn and again whenever the content's height
 * changes (a new step, the live engine replacing the precomputed trace, fonts).
 * The "Copy embed code" snippet (views/controls) carries the few lines a host
 * needs to apply it; any host may do the same: match event.source against the
 * frame's contentWindow and set the frame's style.height to height + 'px'. */

const main = document.querySelector('main');
const view = new URLSearchParams(location.search).get('view') || 'stage';
let last = -1;

/** The content's height in CSS px (the <main> box, which holds everything shown). */
export function contentHeight() {
  return Math.ceil(main.getBoundingClientRect().height);
}

/**
 * Wide tables (the logit lens: 16 positions of 54 px cells) are zoomed down to
 * the frame's width instead of scrolling inside it; canvases and SVGs scale by
 * CSS (controls.css). Idempotent: each call measures the natural width anew.
 */
export function fitWide(root = main) {
  for (const t of root.querySelectorAll('table')) {
    t.style.zoom = '';
    const avail = t.parentElement.clientWidth, natural = t.offsetWidth;
    if (natural > avail && avail > 0) t.style.zoom = String(Math.floor((avail / natural) * 1000) / 1000);
  }
}

function post() {
  fitWide();
  const height = contentHeight();
  if (height === last || height === 0) return;
  last = height;
  window.parent.postMessage({ type: 'glassbox:resize', version: 1, view, height, width: Math.ceil(main.getBoundingClientRect().width) }, '*');
}

if (main && window.parent !== window) {
  new ResizeObserver(post).observe(main);
  window.addEventListener('load', post);
}
