/* touch.js — on a device without hover (a phone, a tablet), the page's
 * instructions say "tap" where they say "hover": every text node the views
 * render is rewritten as it appears (a MutationObserver), so no view has to
 * know. Charts answer taps already (a tap is a pointer event at one spot). */

const NO_HOVER = typeof matchMedia === 'function' && matchMedia('(hover: none)').matches;
const WORDS = [[/\bhovering\b/g, 'tapping'], [/\bHovering\b/g, 'Tapping'], [/\bhover over\b/g, 'tap'], [/\bHover over\b/g, 'Tap'], [/\bhover\b/g, 'tap'], [/\bHover\b/g, 'Tap']];

/** The text with hover instructions turned into touch ones (pure). */
export function touchText(text) {
  let t = text;
  for (const [re, w] of WORDS) t = t.replace(re, w);
  return t;
}

function fix(root) {
  const walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    if (/hover/i.test(n.nodeValue)) n.nodeValue = touchText(n.nodeValue);
  }
  if (root.querySelectorAll) for (const e of root.querySelectorAll('[title*="hover" i], [aria-label*="hover" i]')) {
    for (const a of ['title', 'aria-label']) if (e.hasAttribute(a)) e.setAttribute(a, touchText(e.getAttribute(a)));
  }
}

if (NO_HOVER) {
  document.documentElement.classList.add('touch');
  fix(document.body);
  new MutationObserver((list) => {
    for (const m of list) for (const n of m.addedNodes) fix(n.nodeType === 3 ? n.parentNode || document.body : n);
  }).observe(document.body, { childList: true, subtree: true });
}
