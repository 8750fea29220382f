/* plain.js — for each step of the walk, one line for someone who has never
 * seen the math ("what am I looking at"), and the TransformerLens hook names
 * the step shows, as secondary labels for those who want them. Pure data. */

/** step key -> the line; {L} is replaced by the block number (1-based). */
export const PLAIN = Object.freeze({
  embed: 'Each token is turned into a long list of numbers (one coloured row per token): one list says which token it is, one says where it stands, and they are added.',
  ln1: 'Block {L} first rescales each token’s numbers so none is huge or tiny; nothing moves between tokens yet.',
  qkv: 'Each token makes three lists: a question (query), a label (key) that answers other tokens’ questions, and what it would pass on (value).',
  scores: 'Every token’s question is compared with every token’s label: a high number means “this one looks relevant to me”.',
  mask: 'A token may not look at tokens that come after it (they are not written yet), so those comparisons are blanked out.',
  softmax: 'The comparisons become shares that add up to 100%: how much each token listens to each earlier token. Bright cells are strong attention.',
  mix: 'Each token takes in a blend of what the earlier tokens pass on, weighted by those shares: this is how information moves between words.',
  concat: 'The several attention heads each did this on their own; their results are placed side by side.',
  proj: 'A final mix turns the heads’ results into one update for each token.',
  resid1: 'The update is added to the token’s running notes (the residual stream); nothing is thrown away.',
  ln2: 'Block {L} rescales the notes again before its second part.',
  up: 'Each token, on its own now, is checked against many learned patterns (“neurons”); each number says how strongly a pattern matches.',
  gelu: 'Weak or negative matches are switched off, strong ones pass: this bend is what lets the model learn more than straight lines.',
  down: 'The active patterns are turned back into an update for the token’s notes.',
  resid2: 'That update is added to the notes too, and block {L} is done; the next block starts from these notes.',
  lnf: 'After the last block the notes are rescaled one last time.',
  logits: 'The notes are compared with every word in the vocabulary: each token’s row lists the words the model thinks could come next.',
  sample: 'Only the last token’s guesses matter for writing: one next token is drawn at random, likelier words more often.',
});

/** step key -> hook names shown (TransformerLens names; {L} is the 0-based block). */
export const HOOKS = Object.freeze({
  embed: ['hook_embed', 'hook_pos_embed', 'blocks.0.hook_resid_pre'],
  ln1: ['blocks.{L}.ln1.hook_scale', 'blocks.{L}.ln1.hook_normalized'],
  qkv: ['blocks.{L}.attn.hook_q', 'blocks.{L}.attn.hook_k', 'blocks.{L}.attn.hook_v'],
  scores: ['q·k/√d (before the mask)'],
  mask: ['blocks.{L}.attn.hook_attn_scores'],
  softmax: ['blocks.{L}.attn.hook_pattern'],
  mix: ['blocks.{L}.attn.hook_z'],
  concat: ['blocks.{L}.attn.hook_z'],
  proj: ['blocks.{L}.hook_attn_out'],
  resid1: ['blocks.{L}.hook_resid_mid'],
  ln2: ['blocks.{L}.ln2.hook_normalized'],
  up: ['blocks.{L}.mlp.hook_pre'],
  gelu: ['blocks.{L}.mlp.hook_post'],
  down: ['blocks.{L}.hook_mlp_out'],
  resid2: ['blocks.{L}.hook_resid_post'],
  lnf: ['ln_final.hook_normalized'],
  logits: ['logits'],
  sample: ['logits (last position)'],
});

/** The line and hook labels for a step (layer 0-based). */
export function plainFor(stage, layer = 0) {
  const line = (PLAIN[stage] || PLAIN.embed).replace(/\{L\}/g, String(layer + 1));
  const hooks = (HOOKS[stage] || []).map((h) => h.replace(/\{L\}/g, String(layer)));
  return { line, hooks };
}
