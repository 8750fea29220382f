/* ids.js — prompts typed as token ids, for a checkpoint without tokenizer
 * files (config.json + model.safetensors alone): "ids: 12, 7, 93", "12 7 93"
 * or "#12 #7". The engine reads these; nothing else is parsed here. */

/** Text -> ids, or null when the text is not a list of ids. */
export function parseIdList(text) {
  const t = String(text).trim().replace(/^ids\s*:\s*/i, '');
  if (!/^#?\d{1,7}([\s,]+#?\d{1,7})*$/.test(t)) return null;
  return t.split(/[\s,]+/).map((x) => Number(x.replace('#', '')));
}

/** What the page says when a checkpoint has no tokenizer: how to type ids, and what to add for text. */
export const NO_TOKENIZER = 'This checkpoint has no tokenizer, so the prompt is token ids, typed as "ids: 12, 7, 93". To type text, load vocab.json + merges.txt (or tokenizer.json) together with config.json and model.safetensors.';

const err = (code, message) => Object.assign(new Error(message), { code });

/** Text -> ids with gb's tokenizer, or the ids typed when it has none (checked against the vocabulary). */
export function idsOf(gb, text) {
  if (gb.hasTokenizer) return Array.from(gb.tokenize(text).ids);
  const ids = parseIdList(text);
  const V = gb.config.vocab_size;
  if (!ids) throw err('arg', NO_TOKENIZER);
  const bad = ids.find((id) => id >= V);
  if (bad !== undefined) throw err('arg', `token id ${bad} is outside the vocabulary (0..${V - 1})`);
  return ids;
}
