/* steps.js — the walk through the forward pass: every step a learner can stand
 * on, in order, described by ONE table (STEPS): its words (name, explanation,
 * formula), what it reads from the engine (reads) and how the stage view draws
 * it (figs). Pure data and pure functions (no DOM), shared by the page, the
 * worker (engine.js builds a step's payload from `reads`) and the Node tests.
 *
 * reads: field -> what the engine answers for it:
 *   'blocks.{L}.attn.hook_q'   an activation ({L}: the step's block, {last}: the last block)
 *   { fn: 'attnScoresUnmasked' }  gb.attnScoresUnmasked(L): [H, T, T], q·k × the model's scale, no mask
 *   { fn: 'residNorms' }       gb.rowNorms of blocks.0.hook_resid_pre and every block's hook_resid_post
 *   { fn: 'topTokens', k }     gb.topTokens(pos, k) at every position
 *   { fn: 'headPattern' }      gb.headPatternView of block L: the view's head (or every head)
 *                              whole up to 96 tokens, else an overview + the zoom window
 *   { fn: 'topNeurons', hook, k }  gb.topColumns: each position's k largest neurons
 *   { fn: 'neuronColumns', hooks: {field: hook}, by, n }  the n neurons of largest |value| of
 *                              hooks[by] (gb.topColumnsAbsMax) and every hook's values at them
 *   { fn: 'pairSample', hooks: [a, b], n }  every stride-th (a, b) pair, at most n
 *   { fn: 'predict' }          the sampling answer (main.js's predict; the stage view reuses it)
 * figs: what the stage view draws, in order; `chart` names a renderer of
 *   stage.js CHARTS and `of` the fields it may read (it can read no other:
 *   the stage view hands a renderer only those), so every number on a step is
 *   an engine answer listed here.
 *
 * A position in the walk is (stage, layer): `stage` is a step key, and `layer`
 * matters only for the per-block steps (group 'attn' or 'mlp'). Each step also
 * names the engine stage (core/glassbox.h numbering: 0 = embed, 1 + 2L =
 * block L attention, 2 + 2L = block L MLP, 1 + 2 n_layer = final) it shows.
 */

/** @typedef {{key: string, name: string, short: string, group: 'embed'|'attn'|'mlp'|'final', explain: string, formula: string,
 *   reads: Object<string, string|{fn: string, k?: number}>, figs: {chart: string, of: string[]}[]}} Step */

/** @type {Step[]} in forward order; a block's steps repeat per layer. */
export const STEPS = [
  { key: 'embed', group: 'embed', name: 'Embeddings', short: 'embed',
    explain: 'Each token id picks one row of the token-embedding table, and each position picks one row of the position-embedding table. Their sum is the vector the model actually reads: what the token is, plus where it is. This sum starts the residual stream that every block reads from and writes to.',
    formula: 'x₀[t] = W_E[token t] + W_P[t]',
    reads: { tok: 'hook_embed', pos: 'hook_pos_embed', sum: 'blocks.0.hook_resid_pre' },
    figs: [
      { chart: 'matrix', of: ['tok'], title: 'Token embedding W_E[token]', note: 'one row per token, one column per dimension', share: 'embed' },
      { chart: 'matrix', of: ['pos'], title: '+ Position embedding W_P[t]', share: 'embed' },
      { chart: 'matrix', of: ['sum'], title: '= Input to block 1', share: 'embed' },
    ] },
  { key: 'ln1', group: 'attn', name: 'Layer norm 1', short: 'LN',
    explain: 'Before attention, each position’s vector is normalised: subtract its mean, divide by its standard deviation, then scale and shift by learned weights. This keeps the numbers in a steady range however large the residual stream grows. The scale column shows each position’s standard deviation.',
    formula: 'LN(x) = γ ⊙ (x − mean(x)) / √(var(x) + ε) + β',
    reads: { x: 'blocks.{L}.hook_resid_pre', scale: 'blocks.{L}.ln1.hook_scale', out: 'blocks.{L}.ln1.hook_normalized' },
    figs: [
      { chart: 'matrix', of: ['x'], title: 'Residual stream in' },
      { chart: 'lnScale', of: ['scale'], title: 'Scale √(var + ε)' },
      { chart: 'matrix', of: ['out'], title: 'Normalised' },
    ] },
  { key: 'qkv', group: 'attn', name: 'Queries, keys, values', short: 'Q·K·V',
    explain: 'One matrix multiply turns every normalised vector into a query (what this position is looking for), a key (what it offers to others) and a value (what it passes on if chosen). They are split into heads; each head works with its own small slice.',
    formula: 'q = LN(x)·W_Q + b_Q,  k = LN(x)·W_K + b_K,  v = LN(x)·W_V + b_V',
    reads: { q: 'blocks.{L}.attn.hook_q', k: 'blocks.{L}.attn.hook_k', v: 'blocks.{L}.attn.hook_v' },
    figs: [
      { chart: 'qkv', of: ['q', 'k', 'v'] },
    ] },
  { key: 'scores', group: 'attn', name: 'Attention scores', short: 'scores',
    explain: 'Every query is compared with every key by a dot product, times the model’s scale: 1/√d_head in GPT-2, so the scores do not grow with the head size (some checkpoints also divide by the block number, or leave the scale out; the engine reads that from config.json). Row i holds how well position i’s query matches each position’s key. Here the whole grid is shown, including the future positions the next step hides.',
    formula: 'score[i, j] = q_i · k_j × scale   (GPT-2: scale = 1/√d_head)',
    reads: { scores: { fn: 'attnScoresUnmasked' } },
    figs: [
      { chart: 'attn', of: ['scores'], title: 'Scores q·k × scale', note: 'upper triangle: future keys' },
    ] },
  { key: 'mask', group: 'attn', name: 'Causal mask', short: 'mask',
    explain: 'A language model must not peek at the future, so every score above the diagonal (a key after the query) is set to −∞. After softmax those positions get exactly zero weight. Position i can only look at positions 0..i.',
    formula: 'score[i, j] = −∞ for j > i',
    reads: { masked: 'blocks.{L}.attn.hook_attn_scores' },
    figs: [
      { chart: 'attn', of: ['masked'], title: 'Masked scores', note: 'hatched cells are −∞' },
    ] },
  { key: 'softmax', group: 'attn', name: 'Softmax: attention pattern', short: 'softmax',
    explain: 'Each row of scores becomes a probability distribution: exponentiate and divide by the row sum. Row i now says how much position i attends to each earlier position; every row sums to 1. The arcs show the same weights: hover a token to see where it looks.',
    formula: 'A[i, j] = exp(score[i, j]) / Σ_j′ exp(score[i, j′])',
    reads: { pattern: { fn: 'headPattern' } },
    figs: [
      { chart: 'attn', of: ['pattern'], prob: true, title: 'Attention pattern', note: 'each row sums to 1' },
      { chart: 'arcs', of: ['pattern'], title: 'Where each token looks', note: 'hover or tab to a token to see its row' },
    ] },
  { key: 'mix', group: 'attn', name: 'Weighted sum of values', short: 'Σ A·v',
    explain: 'Each position’s output for this head is the average of the value vectors, weighted by its attention row. This is the only place where information moves between positions.',
    formula: 'z_i = Σ_j A[i, j] · v_j',
    reads: { pattern: { fn: 'headPattern' }, v: 'blocks.{L}.attn.hook_v', z: 'blocks.{L}.attn.hook_z' },
    figs: [
      { chart: 'attn', of: ['pattern'], prob: true, title: 'Pattern A' },
      { chart: 'headMatrix', of: ['v'], title: 'Values v' },
      { chart: 'headMatrix', of: ['z'], title: 'Output z = A·v' },
    ] },
  { key: 'concat', group: 'attn', name: 'Heads concatenated', short: 'concat',
    explain: 'The outputs of all heads are laid side by side, giving one vector of the model’s width per position again. Each band of columns is one head.',
    formula: 'z = [z⁽¹⁾ ‖ z⁽²⁾ ‖ … ‖ z⁽ᴴ⁾]',
    reads: { z: 'blocks.{L}.attn.hook_z' },
    figs: [
      { chart: 'matrix', of: ['z'], title: 'All heads side by side', bands: true },
    ] },
  { key: 'proj', group: 'attn', name: 'Output projection', short: 'proj',
    explain: 'A final matrix mixes the heads’ outputs together and maps them back into the residual stream’s space. This is what attention writes into the stream.',
    formula: 'attn_out = z·W_O + b_O',
    reads: { z: 'blocks.{L}.attn.hook_z', out: 'blocks.{L}.hook_attn_out' },
    figs: [
      { chart: 'matrix', of: ['z'], title: 'Concatenated heads z' },
      { chart: 'matrix', of: ['out'], title: 'Attention output z·W_O + b_O' },
    ] },
  { key: 'resid1', group: 'attn', name: 'Residual add (attention)', short: '+',
    explain: 'Attention does not replace the stream, it adds to it. The block’s input plus attention’s output is the new residual stream, which the MLP reads next.',
    formula: 'x_mid = x + attn_out',
    reads: { x: 'blocks.{L}.hook_resid_pre', d: 'blocks.{L}.hook_attn_out', out: 'blocks.{L}.hook_resid_mid' },
    figs: [
      { chart: 'matrix', of: ['x'], title: 'Block input x', share: 'resid' },
      { chart: 'matrix', of: ['d'], title: '+ attention output', share: 'resid' },
      { chart: 'matrix', of: ['out'], title: '= x_mid', share: 'resid' },
    ] },
  { key: 'ln2', group: 'mlp', name: 'Layer norm 2', short: 'LN',
    explain: 'The MLP also reads a normalised copy of the stream: the same recipe as layer norm 1, with its own learned scale and shift. The stream itself is left untouched; only this copy goes into the MLP.',
    formula: 'LN(x_mid) = γ₂ ⊙ (x_mid − mean) / √(var + ε) + β₂',
    reads: { x: 'blocks.{L}.hook_resid_mid', scale: 'blocks.{L}.ln2.hook_scale', out: 'blocks.{L}.ln2.hook_normalized' },
    figs: [
      { chart: 'matrix', of: ['x'], title: 'Residual stream (after attention)' },
      { chart: 'lnScale', of: ['scale'], title: 'Scale √(var + ε)' },
      { chart: 'matrix', of: ['out'], title: 'Normalised' },
    ] },
  { key: 'up', group: 'mlp', name: 'MLP up-projection', short: 'up',
    explain: 'Each position is processed on its own now. A matrix widens the vector to the MLP size (four times the model width in GPT-2): each of these numbers is one “neuron”. The table lists each position’s most active neurons.',
    formula: 'h = LN(x_mid)·W_in + b_in',
    reads: { x: 'blocks.{L}.ln2.hook_normalized', pre: 'blocks.{L}.mlp.hook_pre', top: { fn: 'topNeurons', hook: 'blocks.{L}.mlp.hook_pre', k: 5 } },
    figs: [
      { chart: 'matrix', of: ['x'], title: 'Normalised input' },
      { chart: 'matrix', of: ['pre'], title: 'MLP pre-activations h', colName: 'neuron' },
      { chart: 'neurons', of: ['top'], title: 'Top neurons per position', note: 'largest pre-activations' },
    ] },
  { key: 'gelu', group: 'mlp', name: 'GELU', short: 'GELU',
    explain: 'A smooth non-linearity: large positive inputs pass through, negative ones are squashed towards zero. Without it, the whole network would collapse into one linear map. Compare each neuron before and after.',
    formula: 'GELU(h) = ½ h (1 + tanh(√(2/π) (h + 0.044715 h³)))',
    reads: { cols: { fn: 'neuronColumns', hooks: { pre: 'blocks.{L}.mlp.hook_pre', post: 'blocks.{L}.mlp.hook_post' }, by: 'post', n: 24 },
      points: { fn: 'pairSample', hooks: ['blocks.{L}.mlp.hook_pre', 'blocks.{L}.mlp.hook_post'], n: 4000 } },
    figs: [
      { chart: 'neuronPair', of: ['cols'], titles: ['Before GELU (h)', 'After GELU'] },
      { chart: 'geluPoints', of: ['points'], title: 'GELU(h) for every neuron and position', note: 'each dot is one (h, GELU(h)) pair of this prompt' },
    ] },
  { key: 'down', group: 'mlp', name: 'MLP down-projection', short: 'down',
    explain: 'A second matrix maps the active neurons back to the model width. This is what the MLP writes into the residual stream.',
    formula: 'mlp_out = GELU(h)·W_out + b_out',
    reads: { cols: { fn: 'neuronColumns', hooks: { post: 'blocks.{L}.mlp.hook_post' }, by: 'post', n: 32 }, out: 'blocks.{L}.hook_mlp_out' },
    figs: [
      { chart: 'neuronSubset', of: ['cols'], title: 'Active neurons GELU(h)' },
      { chart: 'matrix', of: ['out'], title: 'MLP output' },
    ] },
  { key: 'resid2', group: 'mlp', name: 'Residual add (MLP)', short: '+',
    explain: 'The MLP’s output is added to the stream, finishing the block. The chart below shows the stream’s length at each position after every block: it usually grows as layers add more.',
    formula: 'x_next = x_mid + mlp_out',
    reads: { x: 'blocks.{L}.hook_resid_mid', d: 'blocks.{L}.hook_mlp_out', out: 'blocks.{L}.hook_resid_post', norms: { fn: 'residNorms' } },
    figs: [
      { chart: 'matrix', of: ['x'], title: 'x_mid', share: 'resid' },
      { chart: 'matrix', of: ['d'], title: '+ MLP output', share: 'resid' },
      { chart: 'matrix', of: ['out'], title: '= block output', share: 'resid' },
      { chart: 'norms', of: ['norms'], title: '‖residual stream‖ layer by layer' },
    ] },
  { key: 'lnf', group: 'final', name: 'Final layer norm', short: 'LN',
    explain: 'After the last block, the stream is normalised one more time, ready to be compared with every token in the vocabulary. Everything the blocks added is now in this one vector per position.',
    formula: 'x_f = LN_f(x_L)',
    reads: { x: 'blocks.{last}.hook_resid_post', scale: 'ln_final.hook_scale', out: 'ln_final.hook_normalized' },
    figs: [
      { chart: 'matrix', of: ['x'], title: 'Residual stream after the last block' },
      { chart: 'lnScale', of: ['scale'], title: 'Scale √(var + ε)' },
      { chart: 'matrix', of: ['out'], title: 'Normalised' },
    ] },
  { key: 'logits', group: 'final', name: 'Logits', short: 'logits',
    explain: 'The final vector is multiplied by the token-embedding table (transposed): one score, a logit, per vocabulary token. A higher logit means the model thinks that token is more likely next. Shown: each position’s top guesses.',
    formula: 'logits = x_f · W_Eᵀ',
    reads: { top: { fn: 'topTokens', k: 5 } },
    figs: [
      { chart: 'logits', of: ['top'], title: 'Top next-token guesses at every position', note: 'the last row is what gets sampled' },
    ] },
  { key: 'sample', group: 'final', name: 'Sampling', short: 'sample',
    explain: 'The last position’s logits are divided by the temperature, turned into probabilities by softmax, cut to the top-k tokens and then to the smallest set whose mass reaches top-p, and renormalised. The survivors are listed from most to least likely with a running total; a seeded uniform number u picks the first row whose running total is larger than u. The same seed and settings always draw the same token, here and in the command-line tool.',
    formula: 'p = renormalise(top-p(top-k(softmax(logits / T))));  token = first row (p descending) with Σ p > u',
    reads: { predict: { fn: 'predict' } },
    figs: [
      { chart: 'sample', of: ['predict'] },
    ] },
];

export const STEP_KEYS = STEPS.map((s) => s.key);
export const KIND = Object.fromEntries(STEPS.map((s) => [s.key, s]));
const isBlock = (key) => KIND[key] && (KIND[key].group === 'attn' || KIND[key].group === 'mlp');
export const BLOCK_KEYS = STEP_KEYS.filter(isBlock);

/**
 * What step `key` of block `layer` reads, with the layer filled in:
 * field -> {hook: name} or {fn, layer, k?}.
 */
export function stepReads(key, layer, nLayer) {
  const st = KIND[key];
  if (!st) throw new Error(`unknown step "${key}"`);
  const L = Math.max(0, Math.min(nLayer - 1, layer | 0));
  const out = {};
  for (const [field, r] of Object.entries(st.reads)) {
    const name = (h) => h.replace('{L}', L).replace('{last}', nLayer - 1);
    if (typeof r === 'string') { out[field] = { hook: name(r) }; continue; }
    out[field] = { ...r, layer: L };
    if (r.hook) out[field].hook = name(r.hook);
    if (r.hooks) out[field].hooks = Array.isArray(r.hooks) ? r.hooks.map(name) : Object.fromEntries(Object.entries(r.hooks).map(([k, h]) => [k, name(h)]));
  }
  return out;
}

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
