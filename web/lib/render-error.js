/* render-error.js — an error shown inside the view that failed (patchscopes'
 * idea): the message in place, the stack folded away, and the error rethrown
 * in a microtask so the console and tests still see it. Expected failures
 * (a bad checkpoint) pass rethrow = false: they are messages, not bugs. */

export function renderError(el, err, { title = 'This view failed', rethrow = true } = {}) {
  const box = document.createElement('div');
  box.className = 'view-error';
  box.setAttribute('role', 'alert');
  const h = document.createElement('strong');
  h.textContent = title;
  const msg = document.createElement('p');
  msg.textContent = err?.message || String(err);
  box.append(h, msg);
  if (err?.stack && rethrow) {
    const d = document.createElement('details');
    const s = document.createElement('summary');
    s.textContent = 'stack';
    const pre = document.createElement('pre');
    pre.textContent = err.stack;
    d.append(s, pre);
    box.append(d);
  }
  el.replaceChildren(box);
  delete el.dataset.html; // replaceHtml must draw the view again next time
  if (rethrow) queueMicrotask(() => { throw err; });
}
