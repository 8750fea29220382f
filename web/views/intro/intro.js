/* intro view — a short, skippable introduction on a first visit: what a
 * token, an embedding, attention and sampling are, a sentence each, each with
 * a button that brings the part of the page showing it into view (and goes
 * to that step). Skipping or finishing is remembered in localStorage; the
 * shortcuts line (controls view) has a "Tour" button that starts it again
 * (a 'glassbox:intro' event on document). */

export const INTRO_KEY = 'glassbox.intro.v1';

/** The tour: where each stop points (a selector) and which step it opens. */
export const STOPS = [
  { title: 'Tokens', target: '[data-view="tokens"]',
    text: 'The model does not read letters or words but tokens: common words and pieces of words, each with an id number. The coloured chips under your prompt are its tokens.' },
  { title: 'Embeddings', target: '[data-view="stage"]', go: { stage: 'embed', layer: 0 },
    text: 'Each token is turned into a long list of numbers, its embedding: the first step of the walk shows one coloured row per token.' },
  { title: 'Attention', target: '[data-view="stage"]', go: { stage: 'softmax', layer: 0 },
    text: 'In attention, every token looks back at the tokens before it and takes in what it needs from them; the heatmap shows how strongly each token (row) looks at each earlier one (column).' },
  { title: 'Sampling', target: '[data-view="sampling"]',
    text: 'At the end the model gives every possible next token a probability, and one is drawn at random, likelier ones more often. Press ▶ Play or → to walk through every step in between.' },
];

function seen() { try { return localStorage.getItem(INTRO_KEY) === 'done'; } catch { return false; } }
function remember() { try { localStorage.setItem(INTRO_KEY, 'done'); } catch { /* private mode: shown again next time */ } }

export function introView({ templates, actions }) {
  let open = !seen(), i = 0, el = null;
  const flash = (sel) => {
    const t = document.querySelector(sel);
    if (!t) return;
    t.scrollIntoView({ behavior: 'smooth', block: 'start' });
    t.classList.add('intro-target');
    setTimeout(() => t.classList.remove('intro-target'), 2500);
  };
  const draw = () => {
    if (!el) return;
    el.hidden = !open;
    if (!open) { el.replaceChildren(); return; }
    const stop = STOPS[i];
    el.innerHTML = templates.render('intro', 'main', {
      n: i + 1, count: STOPS.length, title: stop.title, text: stop.text, first: i === 0, last: i === STOPS.length - 1,
      showLabel: `Show me the ${stop.title.toLowerCase()}`, dots: STOPS.map((_, k) => ({ on: k === i })),
    });
    const on = (act, fn) => el.querySelector(`[data-act="${act}"]`)?.addEventListener('click', fn);
    on('intro-skip', () => { remember(); open = false; draw(); });
    on('intro-done', () => { remember(); open = false; draw(); });
    on('intro-next', () => { i = Math.min(STOPS.length - 1, i + 1); draw(); el.querySelector('[data-act="intro-next"], [data-act="intro-done"]')?.focus(); });
    on('intro-back', () => { i = Math.max(0, i - 1); draw(); });
    on('intro-show', () => { if (stop.go) actions.set(stop.go); flash(stop.target); });
  };
  document.addEventListener('glassbox:intro', () => { open = true; i = 0; draw(); el?.scrollIntoView({ behavior: 'smooth', block: 'start' }); });
  return {
    watch: [],
    render(target) { el = target; draw(); },
  };
}
