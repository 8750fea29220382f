/* embed-measure.js — how tall embed.html will be for a view of the current
 * state at a given width. "Copy embed code" writes this height into the
 * snippet, so the frame fits its content even on a host page that runs no
 * script.
 *
 * The measurement is the embed itself: a hidden same-origin <iframe> of
 * embed.html at exactly the frame's width (so the embed's media queries and
 * wrapping apply as they will on the host), started in measure mode: it takes
 * this page's state (engine results included) from its frame element instead
 * of loading a model, draws once, and posts
 *   {type: 'glassbox:measured', height}
 * to this page (main.js measureBoot). No second engine runs. */

import { fitWide } from './embed-resize.js';

const TIMEOUT_MS = 15000;

/**
 * @param {{url: string, width: number, state: object}} o  url: the embed's URL (embed.html?view=...)
 * @returns {Promise<number>} CSS px the frame's content box needs
 */
export function measureEmbed({ url, width, state }) {
  const frame = document.createElement('iframe');
  const src = new URL(url, location.href);
  src.searchParams.set('measure', '1');
  frame.src = src.href;
  frame.title = 'measuring the embed';
  frame.setAttribute('aria-hidden', 'true');
  frame.tabIndex = -1;
  // Off-screen but rendered (not display: none, which would give it no layout).
  frame.style.cssText = `position:absolute;left:-100000px;top:0;width:${width}px;height:200px;border:0;visibility:hidden`;
  frame.glassboxState = state;
  return new Promise((resolve, reject) => {
    const done = (fn, v) => { clearTimeout(timer); window.removeEventListener('message', onMessage); frame.remove(); fn(v); };
    const onMessage = (e) => {
      if (e.source !== frame.contentWindow || e.origin !== location.origin || !e.data || e.data.type !== 'glassbox:measured') return;
      done(resolve, e.data.height);
    };
    const timer = setTimeout(() => done(reject, new Error('the embed did not report its height')), TIMEOUT_MS);
    window.addEventListener('message', onMessage);
    document.body.append(frame);
  });
}

/** In embed.html: the state the measuring page handed over, or null when not measuring. */
export function measureState() {
  if (!new URLSearchParams(location.search).has('measure')) return null;
  try { return window.frameElement?.glassboxState || null; } catch { return null; }
}

/** In embed.html, after the view has drawn: tells the measuring page the content's height. */
export function reportMeasured() {
  fitWide();
  const height = Math.ceil(document.querySelector('main').getBoundingClientRect().height);
  window.parent.postMessage({ type: 'glassbox:measured', height }, location.origin);
}
