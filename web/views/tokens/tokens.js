/* tokens view — the prompt box and its tokens as coloured pieces with ids
 * (and the raw bytes of pieces that are not plain printable text). The text
 * box is rendered once so typing is never interrupted; the pieces re-render
 * as the run changes. */
import { applyWidths } from '../../lib/charts.js';
import { TOKEN_TINTS } from '../../lib/colors.js';

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
    truncated: run && run.truncated ? `The prompt is longer than this model's context (${run.context} tokens): its last ${run.truncated} token${run.truncated === 1 ? ' was' : 's were'} left out.` : '',
    summary: run ? `${run.nPrompt} prompt token${run.nPrompt === 1 ? '' : 's'}${nGen ? ` + ${nGen} generated` : ''} · ␣ is a space, the small number the token id` : 'tokenizing…',
  };
}

export function tokensView({ templates, actions }) {
  return {
    watch: ['run', 'prompt', 'errors'],
    render(el, s) {
      if (!el.querySelector('.prompt-input')) {
        el.innerHTML = templates.render('tokens', 'main', {});
        const ta = el.querySelector('.prompt-input');
        ta.value = s.prompt;
        ta.addEventListener('input', () => actions.set({ prompt: ta.value, gen: [] }));
      }
      const ta = el.querySelector('.prompt-input');
      if (document.activeElement !== ta && ta.value !== s.prompt) ta.value = s.prompt;
      const area = el.querySelector('.tok-area');
      area.innerHTML = templates.render('tokens', 'chips', tokensModel(s.run, s.errors.tokens));
      applyWidths(area);
      area.querySelector('.reset-gen')?.addEventListener('click', () => actions.resetGenerated());
    },
  };
}
