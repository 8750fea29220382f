/* unpadded.js — the addition lesson's "Your turn" suggests an unpadded
 * 45+123=: say plainly why this model cannot answer it, show what it does
 * predict there (the engine's own next-token prediction, state.predict), and
 * offer the same sum in the trained format, which it does answer. Pure. */
import { additionText } from '../../lessons.js';
import { pct } from '../../lib/charts.js';
import { showPiece } from '../tokens/tokens.js';

/**
 * @param {string} lesson  the lesson shown
 * @param {string} prompt  the prompt text
 * @param {object|null} predict  state.predict (rows by probability) for this prompt, or null
 * @returns {null | {why: string, guess: string, padded: string, paddedLabel: string}}
 */
export function unpaddedHelp(lesson, prompt, predict) {
  if (lesson !== 'addition') return null;
  const m = /^(\d{1,3})\+(\d{1,3})=([0-9]*)\n?$/.exec(prompt);
  if (!m || (m[1].length === 3 && m[2].length === 3)) return null;
  const a = Number(m[1]), b = Number(m[2]);
  const padded = additionText(a, b);
  const top = predict && predict.rows && predict.rows[0];
  return {
    why: `This model cannot answer ${m[1]}+${m[2]}=: it only ever saw both numbers padded to three digits (AAA+BBB=), and it finds each digit by its position, not by reading the number. Here the “+” sits at position ${m[1].length} instead of 3, so the positions it reads hold the wrong digits, and the sum ${a + b} (written backwards: ${[...String(a + b).padStart(4, '0')].reverse().join('')}) is not what it computes.`,
    guess: top ? `Its most likely next character after “${prompt.replace(/\n$/, '').slice(-4)}” is “${showPiece(top.piece)}” (${pct(top.prob)}).` : '',
    padded,
    paddedLabel: `Try it in the trained format: ${padded.trim()}`,
  };
}
