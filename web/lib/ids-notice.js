/* ids-notice.js — the notice above the prompt when the loaded checkpoint has
 * no tokenizer files: the prompt is token ids (how to type them), tokens are
 * shown as "#123", and what to add to type text. main.js draws it. */
import { NO_TOKENIZER } from './ids.js';

/** Draws the notice for state s into slot (hidden when the model has a tokenizer). */
export function renderIdsNotice(slot, s) {
  const on = !!(s.config && s.config.hasTokenizer === false);
  slot.className = 'ids-notice';
  slot.hidden = !on;
  slot.setAttribute('role', 'note');
  slot.textContent = on ? `${NO_TOKENIZER} Tokens are shown by id, as #123.` : '';
}
