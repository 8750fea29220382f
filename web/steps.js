/* steps.js — the walk through the forward pass: every step a learner can stand
 * on, in order, with its plain-language explanation and formula. Pure data and
 * pure functions (no DOM), shared by the page, the worker and the Node tests.
 *
 * A position in the walk is (stage, layer): `stage` is one of STEP_KEYS, and
 * `layer` matters only for the per-block stages (group 'attn' or 'mlp').
 * Each step also names the engine stage (core/glassbox.h numbering: 0 = embed,
 * 1 + 2L = block L attention, 2 + 2L = block L MLP, 1 + 2 n_layer = final)
 * whose activations it shows.
 */

/** @typedef {{key: string, name: string, short: string, group: 'embed'|'attn'|'mlp'|'final', explain: string, formula: string}} StepKind */

/** @type {StepKind[]} in forward order; a block's steps repeat per layer. */
export const STEP_KINDS = [
  { key: 'embed', group: 'embed', name: 'Embeddings', short: 'embed',
    explain: 'Each token id picks one row of the token-embedding table, and each position picks one row of the position-embedding table. Their sum is the vector the model actually reads: what the token is, plus where it is. This sum starts the residual stream that every block reads from and writes to.',
    formula: 'x₀[t] = W_E[token t] + W_P[t]' },
  { key: 'ln1', group: 'attn', name: 'Layer norm 1', short: 'LN',
    explain: 'Before attention, each position’s vector is normalised: subtract its mean, divide by its standard deviation, then scale and shift by learned weights. This keeps the numbers in a steady range however large the residual stream grows. The scale column shows each position’s standard deviation.',
    formula: 'LN(x) = γ ⊙ (x − mean(x)) / √(var(x) + ε) + β' },
  { key: 'qkv', group: 'attn', name: 'Queries, keys, values', short: 'Q·K·V',
    explain: 'One matrix multiply turns every normalised vector into a query (what this position is looking for), a key (what it offers to others) and a value (what it passes on if chosen). They are split into heads; each head works with its own small slice.',
    formula: 'q = LN(x)·W_Q + b_Q,  k = LN(x)·W_K + b_K,  v = LN(x)·W_V + b_V' },
  { key: 'scores', group: 'attn', name: 'Attention scores', short: 'scores',
    explain: 'Every query is compared with every key by a dot product, divided by √d_head so the scores do not grow with the head size. Row i holds how well position i’s query matches each position’s key. Here the whole grid is shown, including the future positions the next step hides.',
    formula: 'score[i, j] = q_i · k_j / √d_head' },
  { key: 'mask', group: 'attn', name: 'Causal mask', short: 'mask',
    explain: 'A language model must not peek at the future, so every score above the diagonal (a key after the query) is set to −∞. After softmax those positions get exactly zero weight. Position i can only look at positions 0..i.',
    formula: 'score[i, j] = −∞ for j > i' },
  { key: 'softmax', group: 'attn', name: 'Softmax: attention pattern', short: 'softmax',
    explain: 'Each row of scores becomes a probability distribution: exponentiate and divide by the row sum. Row i now says how much position i attends to each earlier position; every row sums to 1. The arcs show the same weights: hover a token to see where it looks.',
    formula: 'A[i, j] = exp(score[i, j]) / Σ_j′ exp(score[i, j′])' },
  { key: 'mix', group: 'attn', name: 'Weighted sum of values', short: 'Σ A·v',
    explain: 'Each position’s output for this head is the average of the value vectors, weighted by its attention row. This is the only place where information moves between positions.',
    formula: 'z_i = Σ_j A[i, j] · v_j' },
  { key: 'concat', group: 'attn', name: 'Heads concatenated', short: 'concat',
    explain: 'The outputs of all heads are laid side by side, giving one vector of the model’s width per position again. Each band of columns is one head.',
    formula: 'z = [z⁽¹⁾ ‖ z⁽²⁾ ‖ … ‖ z⁽ᴴ⁾]' },
  { key: 'proj', group: 'attn', name: 'Output projection', short: 'proj',
    explain: 'A final matrix mixes the heads’ outputs together and maps them back into the residual stream’s space. This is what attention writes into the stream.',
    formula: 'attn_out = z·W_O + b_O' },
  { key: 'resid1', group: 'attn', name: 'Residual add (attention)', short: '+',
    explain: 'Attention does not replace the stream, it adds to it. The block’s input plus attention’s output is the new residual stream, which the MLP reads next.',
    formula: 'x_mid = x + attn_out' },
  { key: 'ln2', group: 'mlp', name: 'Layer norm 2', short: 'LN',
    explain: 'The MLP also reads a normalised copy of the stream: the same recipe as layer norm 1, with its own learned scale and shift. The stream itself is left untouched; only this copy goes into the MLP.',
    formula: 'LN(x_mid) = γ₂ ⊙ (x_mid − mean) / √(var + ε) + β₂' },
  { key: 'up', group: 'mlp', name: 'MLP up-projection', short: 'up',
    explain: 'Each position is processed on its own now. A matrix widens the vector to the MLP size (four times the model width in GPT-2): each of these numbers is one “neuron”. The table lists each position’s most active neurons.',
    formula: 'h = LN(x_mid)·W_in + b_in' },
  { key: 'gelu', group: 'mlp', name: 'GELU', short: 'GELU',
    explain: 'A smooth non-linearity: large positive inputs pass through, negative ones are squashed towards zero. Without it, the whole network would collapse into one linear map. Compare each neuron before and after.',
    formula: 'GELU(h) = ½ h (1 + tanh(√(2/π) (h + 0.044715 h³)))' },
  { key: 'down', group: 'mlp', name: 'MLP down-projection', short: 'down',
    explain: 'A second matrix maps the active neurons back to the model width. This is what the MLP writes into the residual stream.',
    formula: 'mlp_out = GELU(h)·W_out + b_out' },
  { key: 'resid2', group: 'mlp', name: 'Residual add (MLP)', short: '+',
    explain: 'The MLP’s output is added to the stream, finishing the block. The chart below shows the stream’s length at each position after every block: it usually grows as layers add more.',
    formula: 'x_next = x_mid + mlp_out' },
  { key: 'lnf', group: 'final', name: 'Final layer norm', short: 'LN',
    explain: 'After the last block, the stream is normalised one more time, ready to be compared with every token in the vocabulary. Everything the blocks added is now in this one vector per position.',
    formula: 'x_f = LN_f(x_L)' },
  { key: 'logits', group: 'final', name: 'Logits', short: 'logits',
    explain: 'The final vector is multiplied by the token-embedding table (transposed): one score, a logit, per vocabulary token. A higher logit means the model thinks that token is more likely next. Shown: each position’s top guesses.',
    formula: 'logits = x_f · W_Eᵀ' },
  { key: 'sample', group: 'final', name: 'Sampling', short: 'sample',
    explain: 'The last position’s logits are divided by the temperature, turned into probabilities by softmax, cut to the top-k tokens and then to the smallest set whose mass reaches top-p, renormalised, and one token is drawn with the seeded random number generator. The same seed and settings always draw the same token, here and in the command-line tool.',
    formula: 'p = softmax(logits / T) → top-k → top-p → renormalise → draw' },
];

export const STEP_KEYS = STEP_KINDS.map((s) => s.key);
export const KIND = Object.fromEntries(STEP_KINDS.map((s) => [s.key, s]));
const isBlock = (key) => KIND[key] && (KIND[key].group === 'attn' || KIND[key].group === 'mlp');
export const BLOCK_KEYS = STEP_KEYS.filter(isBlock);

/**
 * Every step of a model with nLayer blocks, in order.
 * @returns {{key: string, layer: number, index: number, engineStage: number, id: string}[]}
 */
export function stepList(nLayer) {
  const out = [];
  const push = (key, layer) => {
    const g = KIND[key].group;
    const engineStage = g === 'embed' ? 0 : g === 'attn' ? 1 + 2 * layer : g === 'mlp' ? 2 + 2 * layer : 1 + 2 * nLayer;
    out.push({ key, layer: isBlock(key) ? layer : -1, index: out.length, engineStage, id: stepId(key, layer) });
  };
  push('embed', -1);
  for (let L = 0; L < nLayer; L++) for (const k of BLOCK_KEYS) push(k, L);
  for (const k of ['lnf', 'logits', 'sample']) push(k, -1);
  return out;
}

/** "b2.softmax" for block steps, else the key. */
export function stepId(key, layer) { return isBlock(key) ? `b${layer}.${key}` : key; }

/** Index of (stage, layer) in stepList(nLayer); unknown stages give 0. */
export function stepIndex(stage, layer, nLayer) {
  if (!KIND[stage]) return 0;
  if (!isBlock(stage)) return stage === 'embed' ? 0 : 1 + nLayer * BLOCK_KEYS.length + ['lnf', 'logits', 'sample'].indexOf(stage);
  const L = Math.max(0, Math.min(nLayer - 1, layer | 0));
  return 1 + L * BLOCK_KEYS.length + BLOCK_KEYS.indexOf(stage);
}

/** The (stage, layer) one step away (delta = ±1), clamped to the ends. */
export function moveStep(stage, layer, delta, nLayer) {
  const list = stepList(nLayer);
  const i = Math.max(0, Math.min(list.length - 1, stepIndex(stage, layer, nLayer) + delta));
  const s = list[i];
  return { stage: s.key, layer: s.layer < 0 ? Math.max(0, Math.min(nLayer - 1, layer | 0)) : s.layer };
}

export { isBlock };
