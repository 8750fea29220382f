/* tokens view — the prompt box and its tokens as coloured pieces with ids
 * (and the raw bytes of pieces that are not plain printable text). The text
 * box is rendered once so typing is never interrupted; the pieces re-render
 * as the run changes. A prompt longer than the context is marked in the box
 * itself: the text left out is greyed on a backdrop behind the textarea, with
 * a mark where the kept text begins (context-window.js says which part). */
import { applyWidths } from '../../lib/charts.js';
import { TOKEN_TINTS } from '../../lib/colors.js';
import { charOffset } from '../../lib/context-window.js';

const enc = new TextEncoder();

/** Bytes of a piece as hex (pieces carry stray bytes as \xNN), or '' for plain text. */
export function pieceBytes(piece) {
  if (!/\\x[0-9A-F]{2}/.test(piece) && /^[\x21-\x7e]*$/.test(piece.replace(/^ /, ''))) return '';
  const out = [];
  for (let i = 0; i < piece.length;) {
    const m = /^\\x([0-9A-F]{2})/.exec(piece.slice(i));
    if (m) { out.push(parseInt(m[1], 16)); i += 4; continue; }
    const cp = piece.codePointAt(i);
    const ch = String.fromCodePoint(cp);
    out.push(...enc.encode(ch));
    i += ch.length;
  }
  return out.map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' ');
}

/** How a piece is drawn: spaces as ␣, newlines as ↵, tabs as ⇥. */
export const showPiece = (p) => p.replace(/ /g, '␣').replace(/\n/g, '↵').replace(/\r/g, '␍').replace(/\t/g, '⇥') || '∅';

/** The chips' view-model (pure, tested in Node). */
export function tokensModel(run, error) {
  const ids = run ? run.ids : [];
  const tokens = ids.map((id, i) => ({
    i, id, text: showPiece(run.pieces[i]), bytes: pieceBytes(run.pieces[i]),
    gen: i >= run.nPrompt, tint: TOKEN_TINTS[i % TOKEN_TINTS.length],
  }));
  const nGen = run ? ids.length - run.nPrompt : 0;
  return {
    tokens, error, hasGen: nGen > 0,
    ...keepNote(run),
    ...storeNote(run),
    summary: run ? `${run.nPrompt} prompt token${run.nPrompt === 1 ? '' : 's'}${nGen ? ` + ${nGen} generated` : ''} · ␣ is a space, the small number the token id` : 'tokenizing…',
  };
}

const mb = (b) => `${Math.round(b / 1e6).toLocaleString('en')} MB`;

/**
 * Which activation store the engine runs this prompt in, and why (pure): the
 * engine's worker chose it by what fits the tab (engine.js _chooseStore).
 */
export function storeNote(run) {
  const st = run && run.store;
  if (!st) return { store: '' };
  return st.keepAll
    ? { store: `Full store: every activation of this run is kept (${mb(st.bytes)}).`, storeLow: false }
    : { store: `Low-memory store: views recompute what they show. ${st.mode === 'low' ? 'The link asks for it (store=low)' : `Keeping every activation would take ${mb(st.fullBytes)}, over this tab's ${mb(st.budget)} budget`}; this store takes ${mb(st.bytes)}.`, storeLow: true };
}

/** The note on a prompt longer than the context, and the switch to keep the other end (pure). */
export function keepNote(run) {
  if (!run || !run.truncated) return { truncated: '' };
  const n = run.nPrompt + run.truncated;
  const end = run.keep !== 'start';
  return {
    truncated: `Your prompt is ${n} tokens; this model reads ${run.context}. It keeps the ${end ? 'last' : 'first'} ${run.context}: the ${end ? 'beginning' : 'end'} of your text (greyed in the box) is left out, and the kept text ${end ? 'begins' : 'ends'} at the blue mark.`,
    switchTo: end ? 'start' : 'end',
    switchText: `keep the ${end ? 'first' : 'last'} ${run.context} instead`,
  };
}

/**
 * The prompt box's backdrop: the text left out greyed and a mark where the
 * kept text begins (or ends), at the same places as the textarea's own text.
 * Returns [dropped-before, kept, dropped-after] as JS string ranges.
 */
export function keptRanges(prompt, run) {
  if (!run || !run.truncated || !run.keptBytes) return null;
  const a = charOffset(prompt, run.keptBytes[0]), b = charOffset(prompt, run.keptBytes[1]);
  return { before: prompt.slice(0, a), kept: prompt.slice(a, b), after: prompt.slice(b) };
}

function drawMirror(el, prompt, run) {
  const mirror = el.querySelector('.prompt-mirror'), ta = el.querySelector('.prompt-input');
  const r = keptRanges(prompt, run);
  mirror.hidden = !r;
  if (!r) return;
  mirror.replaceChildren();
  const add = (tag, cls, text) => { const e = document.createElement(tag); if (cls) e.className = cls; e.textContent = text; mirror.append(e); return e; };
  if (r.before) add('mark', 'dropped', r.before);
  const mark = add('span', 'kept-mark', '');
  mark.title = 'the kept text begins here';
  add('span', '', r.kept);
  if (r.after) { add('span', 'kept-mark', '').title = 'the kept text ends here'; add('mark', 'dropped', r.after); }
  add('span', '', '\u200b'); // a trailing newline still gets its line
  syncMirror(mirror, ta);
  // Show the mark (unless the learner is in the box): the backdrop lays out as the textarea, so its offset is the textarea's.
  const key = `${prompt.length}|${run.keep}|${run.keptBytes}`;
  if (document.activeElement !== ta && mirror.dataset.shown !== key) {
    mirror.dataset.shown = key;
    ta.scrollTop = Math.max(0, mark.offsetTop - ta.clientHeight / 3);
    mirror.scrollTop = ta.scrollTop;
  }
}

/* The backdrop wraps exactly as the textarea does: same content width, same scroll. */
function syncMirror(mirror, ta) {
  mirror.style.width = `${ta.offsetWidth}px`;
  mirror.style.height = `${ta.offsetHeight}px`;
  mirror.style.paddingRight = `${10 + ta.offsetWidth - ta.clientWidth - 2}px`; // the scroll bar's width
  mirror.scrollTop = ta.scrollTop;
}

/** How many of the chips on screen (keys "id|gen") the new tokens keep as they are: all of them, or 0. */
export function grownFrom(shown, tokens) {
  if (!shown.length || tokens.length < shown.length) return 0;
  for (let i = 0; i < shown.length; i++) if (shown[i] !== `${tokens[i].id}|${tokens[i].gen}`) return 0;
  return shown.length;
}

export function tokensView({ templates, actions }) {
  let shown = []; // the chips on screen, "id|gen" each
  return {
    watch: ['run', 'prompt', 'errors'],
    render(el, s) {
      if (!el.querySelector('.prompt-input')) {
        el.innerHTML = templates.render('tokens', 'main', {});
        shown = [];
        const ta = el.querySelector('.prompt-input');
        ta.value = s.prompt;
        ta.addEventListener('input', () => actions.set({ prompt: ta.value, gen: [] }));
        const mirror = el.querySelector('.prompt-mirror');
        ta.addEventListener('scroll', () => syncMirror(mirror, ta));
        new ResizeObserver(() => syncMirror(mirror, ta)).observe(ta);
      }
      const ta = el.querySelector('.prompt-input');
      if (document.activeElement !== ta && ta.value !== s.prompt) ta.value = s.prompt;
      const area = el.querySelector('.tok-area');
      const vm = tokensModel(s.run, s.errors.tokens);
      const head = area.querySelector('.tok-head'), list = area.querySelector('.tokens'), foot = area.querySelector('.tok-foot');
      head.innerHTML = templates.render('tokens', 'chipsHead', vm);
      foot.innerHTML = templates.render('tokens', 'chipsFoot', vm);
      head.querySelector('.reset-gen')?.addEventListener('click', () => actions.resetGenerated());
      foot.querySelector('.keep-switch')?.addEventListener('click', (ev) => actions.set({ keep: ev.currentTarget.dataset.keep }));
      // A run that only grew (a generated token) appends its new chips: redrawing 1,000 chips per
      // token was a 27 ms render and as much layout on the main thread.
      const n = grownFrom(shown, vm.tokens);
      const add = document.createElement('template');
      add.innerHTML = templates.render('tokens', 'chipItems', { tokens: vm.tokens.slice(n) });
      applyWidths(add.content);
      if (n) list.append(add.content); else list.replaceChildren(add.content);
      shown = vm.tokens.map((t) => `${t.id}|${t.gen}`);
      // The backdrop shows the run's window only when the run is of the text in the box.
      drawMirror(el, ta.value, s.run && s.run.key && s.run.prompt === s.prompt && ta.value === s.prompt ? s.run : null);
    },
  };
}
