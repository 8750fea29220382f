/* context-window.js — which tokens of a prompt longer than the model's context
 * the run keeps, and where that kept text starts and ends in the prompt.
 *
 * By default the most recent tokens are kept (the model then predicts what
 * follows the end of the text, as a reader expects); keep = 'start' keeps
 * the first ones instead. Pure (no DOM, no engine): the engine's tokenizer
 * gives the ids and their byte spans; the page marks the kept text in the
 * prompt box with charOffset. */

/**
 * @param {number[]} ids  the prompt's tokens
 * @param {number[][]|null} spans  each token's [start, end) byte span in the UTF-8 prompt
 * @param {number} max  the model's context (n_positions)
 * @param {'end'|'start'|string} keep  'start' keeps the first max tokens; anything else the last
 * @returns {{ids: number[], truncated: number, keep: 'end'|'start', keptBytes: [number, number]|null}}
 *   keptBytes: the kept text's byte range in the prompt, null when nothing is dropped
 */
export function keepWindow(ids, spans, max, keep = 'end') {
  const side = keep === 'start' ? 'start' : 'end';
  const truncated = Math.max(0, ids.length - max);
  if (!truncated) return { ids, truncated: 0, keep: side, keptBytes: null };
  const kept = side === 'start' ? ids.slice(0, max) : ids.slice(truncated);
  let keptBytes = null;
  if (spans && spans.length === ids.length) {
    keptBytes = side === 'start' ? [0, spans[max - 1][1]] : [spans[truncated][0], spans[ids.length - 1][1]];
  }
  return { ids: kept, truncated, keep: side, keptBytes };
}

const UTF8 = (cp) => (cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4);

/**
 * The JS string index (UTF-16) of a byte offset into text's UTF-8 encoding.
 * An offset inside a character's bytes (a token boundary can split a
 * character: GPT-2 pieces are bytes) maps to the start of that character.
 */
export function charOffset(text, byteOffset) {
  let bytes = 0, i = 0;
  while (i < text.length) {
    const cp = text.codePointAt(i);
    const n = UTF8(cp);
    if (bytes + n > byteOffset) break;
    bytes += n;
    i += cp > 0xffff ? 2 : 1;
  }
  return i;
}
