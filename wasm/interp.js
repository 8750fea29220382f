/* interp.js — the interpretability tools of the engine for JavaScript:
 * activation patching, direct logit attribution, the head finder, MLP
 * sparsity and ReAGent token attribution (core/glassbox.h, "interpretability
 * tools", says what every number means; this module only moves them).
 *
 * Plain functions that take a Glassbox instance (wasm/glassbox.js) first, so
 * the page's worker imports what it uses:
 *
 *   import { Glassbox } from './glassbox.js';
 *   import * as interp from './interp.js';
 *   gb.setTokens(corruptedIds);
 *   interp.setPatchSource(gb, cleanIds);
 *   const g = await interp.patchGridAll(gb, 'hook_resid_pre', target, distractor,
 *                                       { onProgress: (done, total) => post(done / total), signal });
 *
 * Conventions
 * - Tokens are ids (arrays or Int32Array) or a string (tokenized by the model).
 * - Patching is "denoising": the run (gb.setTokens) holds the CORRUPTED
 *   prompt, the patch source the CLEAN one; grid values are
 *   (LD_patched - LD_corrupted) / (LD_clean - LD_corrupted), LD = logit[target]
 *   - logit[distractor] at the last position; 1 = clean behaviour restored.
 * - Matrices are flat Float32Arrays, row-major, with their shape alongside:
 *   [n_layer, T] grids (rows = blocks, columns = positions), [n_layer, n_head]
 *   for heads (index layer * n_head + head).
 * - Long jobs (patchGridAll, reagent) run in chunks and await between them,
 *   so a worker can post progress and see a cancel message; pass an
 *   AbortSignal and they stop (throwing its reason) at the next chunk.
 * - Every result can be turned into named tensors by tensors(): the names are
 *   those `glassbox patch` and `glassbox attribute` write (TENSORS below).
 *
 * Uses these members of Glassbox (its internals, shared on purpose: h15's
 * split of glassbox.js keeps them): _check, _call, _malloc, _free, _ctx,
 * _scratch, _requireModel, _findHook, HEAP32/HEAPF32, config, tokenize.
 */
import { GlassboxError } from './glassbox.js';

/* The safetensors names of every result (CLI and JS agree). */
export const TENSORS = Object.freeze({
  patch: ['tokens.clean', 'tokens.corrupted', 'tokens.target', 'tokens.distractor', 'patch.ld_clean',
    'patch.ld_corrupted', 'patch.hook_resid_pre', 'patch.hook_attn_out', 'patch.hook_mlp_out', 'patch.hook_z'],
  dla: ['dla.embed', 'dla.pos_embed', 'dla.heads', 'dla.attn_bias', 'dla.mlp', 'dla.ln_final_bias',
    'dla.remainder', 'dla.total', 'dla.head_by_source'],
  heads: ['heads.tokens', 'heads.previous_token', 'heads.induction', 'heads.duplicate_token', 'heads.sink',
    'heads.virtual_induction', 'heads.outlier_share'],
  mlp: ['mlp.active_share', 'mlp.above_share'],
  reagent: ['reagent.scores', 'reagent.target'],
});

/* The patchable hooks, by their short name (blocks.L. dropped). */
export const PATCH_HOOKS = Object.freeze(['hook_resid_pre', 'hook_attn_out', 'hook_mlp_out', 'attn.hook_z']);
/* The MLP sparsity threshold the page states ("above": post-GELU > 0.1). */
export const SPARSITY_THRESHOLD = 0.1;
/* Head-finder score order (glassbox.h GB_HEAD_*). */
export const HEAD_SCORES = Object.freeze(['previousToken', 'induction', 'duplicateToken', 'sink', 'virtualInduction']);

function ids(gb, x) {
  if (typeof x === 'string') return gb.tokenize(x).ids;
  return Int32Array.from(x);
}

function hookId(gb, hook) {
  const short = String(hook).replace(/^blocks\.\d+\./, '');
  if (!PATCH_HOOKS.includes(short)) {
    throw new GlassboxError('arg', `"${hook}" cannot be patched: use one of ${PATCH_HOOKS.join(', ')}`);
  }
  return gb._findHook(`blocks.0.${short}`)[0];
}

/* Runs fn(ptr) with n floats (or ints) of wasm scratch, freed afterwards. */
function withBuf(gb, bytes, fn) {
  const p = gb._malloc(bytes);
  try { return fn(p); } finally { gb._free(p); }
}

function f32(gb, p, n) { return gb.HEAPF32.slice(p >>> 2, (p >>> 2) + n); }
function i32(gb, p, n) { return gb.HEAP32.slice(p >>> 2, (p >>> 2) + n); }

function withIds(gb, a, fn) {
  return withBuf(gb, Math.max(1, a.length) * 4, (p) => { gb.HEAP32.set(a, p >>> 2); return fn(p, a.length); });
}

function seedHalves(seed) {
  const s = BigInt.asUintN(64, BigInt(seed));
  return [Number(s & 0xffffffffn) | 0, Number(s >> 32n) | 0];
}

const tick = () => new Promise((r) => setTimeout(r, 0));

// ---------------------------------------------------------------- activation patching

/** Runs the clean prompt (no interventions) and keeps what patches read. The run is kept. */
export function setPatchSource(gb, clean) {
  gb._requireModel();
  const a = ids(gb, clean);
  withIds(gb, a, (p, n) => gb._check('gb_set_patch_source', gb._ctx, p, n));
}

export function clearPatchSource(gb) { gb._requireModel(); gb._check('gb_clear_patch_source', gb._ctx); }

/** The patch source's tokens (empty without one). @returns {Int32Array} */
export function patchSourceTokens(gb) {
  if (!gb.config) return new Int32Array(0);
  const p = gb._call('gb_patch_source_tokens', gb._ctx, gb._scratch) >>> 0;
  const n = gb.HEAP32[gb._scratch >>> 2];
  return p ? i32(gb, p, n) : new Int32Array(0);
}

/** @returns {{ldClean: number, ldCorrupted: number}} */
export function patchBaselines(gb, target, distractor) {
  gb._requireModel();
  const s = gb._scratch;
  gb._check('gb_patch_baselines', gb._ctx, target | 0, distractor | 0, s, s + 4);
  return { ldClean: gb.HEAPF32[s >>> 2], ldCorrupted: gb.HEAPF32[(s >>> 2) + 1] };
}

/** @returns {{rows: number, cols: number}} rows = blocks; cols = positions, or heads for attn.hook_z */
export function patchGridShape(gb, hook) {
  gb._requireModel();
  return { rows: gb.config.n_layer, cols: gb._call('gb_patch_grid_cols', gb._ctx, hookId(gb, hook)) };
}

/** Cells [first, first + count) of a grid (row-major). @returns {Float32Array} */
export function patchGrid(gb, hook, target, distractor, first, count) {
  gb._requireModel();
  const h = hookId(gb, hook);
  return withBuf(gb, Math.max(1, count) * 4, (p) => {
    gb._check('gb_patch_grid', gb._ctx, h, target | 0, distractor | 0, first | 0, count | 0, p);
    return f32(gb, p, count);
  });
}

/**
 * A whole grid in chunks of `chunk` cells (default: one block's row), with
 * progress and cancel between chunks.
 * @returns {Promise<{hook, rows, cols, values: Float32Array, ldClean, ldCorrupted}>}
 */
export async function patchGridAll(gb, hook, target, distractor, { onProgress, signal, chunk } = {}) {
  const { rows, cols } = patchGridShape(gb, hook);
  const { ldClean, ldCorrupted } = patchBaselines(gb, target, distractor);
  const total = rows * cols, values = new Float32Array(total), step = Math.max(1, chunk || cols);
  for (let first = 0; first < total; first += step) {
    signal?.throwIfAborted();
    const n = Math.min(step, total - first);
    values.set(patchGrid(gb, hook, target, distractor, first, n), first);
    onProgress?.(first + n, total);
    await tick();
  }
  return { hook: String(hook).replace(/^blocks\.\d+\./, ''), rows, cols, values, ldClean, ldCorrupted };
}

/**
 * The run entry for one grid cell, for gb.addIntervention (a click on a cell
 * applies that patch to the run; every view then shows the patched run):
 * hook_resid_pre / hook_attn_out / hook_mlp_out cells patch one position,
 * attn.hook_z cells one head at every position.
 * @returns {{kind: 'patch', hook: string, layer: number, head: number, pos: number}}
 */
export function cellIntervention(grid, cell) {
  const layer = Math.floor(cell / grid.cols), col = cell % grid.cols, z = grid.hook === 'attn.hook_z';
  return { kind: 'patch', hook: `blocks.${layer}.${grid.hook}`, layer, head: z ? col : -1, pos: z ? -1 : col };
}

// ---------------------------------------------------------------- direct logit attribution

/**
 * Direct logit attribution at the last position (glassbox.h gb_dla).
 * @returns {{heads: Float32Array, attnBias: Float32Array, mlp: Float32Array, embed: number,
 *   posEmbed: number, lnFinalBias: number, remainder: number, total: number, nLayer: number, nHead: number}}
 */
export function dla(gb, target, distractor) {
  gb._requireModel();
  const { n_layer: L, n_head: H } = gb.config;
  return withBuf(gb, 4 * (L * H + 2 * L + 5), (p) => {
    const pb = p + 4 * L * H, pm = pb + 4 * L, po = pm + 4 * L;
    gb._check('gb_dla', gb._ctx, target | 0, distractor | 0, p, pb, pm, po);
    const o = f32(gb, po, 5);
    return { heads: f32(gb, p, L * H), attnBias: f32(gb, pb, L), mlp: f32(gb, pm, L), embed: o[0], posEmbed: o[1],
      lnFinalBias: o[2], remainder: o[3], total: o[4], nLayer: L, nHead: H };
  });
}

/** Each head's DLA part by source position: Float32Array [n_layer, n_head, T]. */
export function dlaBySource(gb, target, distractor) {
  gb._requireModel();
  const { n_layer: L, n_head: H } = gb.config, T = gb.numTokens;
  return withBuf(gb, 4 * L * H * T, (p) => {
    gb._check('gb_dla_by_source', gb._ctx, target | 0, distractor | 0, p, L * H * T);
    return f32(gb, p, L * H * T);
  });
}

// ---------------------------------------------------------------- head finder

/** The head finder's sequence: [bos] + r + r (glassbox.h gb_repeated_tokens). */
export function repeatedTokens(gb, { seed = 1, length = 20, lo = 0, hi, bos = -1 } = {}) {
  gb._requireModel();
  hi ??= gb.config.vocab_size;
  const n = (bos >= 0 ? 1 : 0) + 2 * length, [sl, sh] = seedHalves(seed);
  return withBuf(gb, 4 * n, (p) => {
    const st = gb._call('gbw_repeated_tokens', sl, sh, length | 0, lo | 0, hi | 0, bos | 0, p);
    if (st !== 0) throw new GlassboxError('arg', `repeated tokens: length ${length} must be 1..128 with hi - lo >= length`);
    return i32(gb, p, n);
  });
}

/**
 * Scores every head on a seeded repeated random sequence; the run is put back.
 * Defaults: seed 1, length 20, ids from the whole vocabulary, no BOS.
 * @returns {{tokens: Int32Array, previousToken, induction, duplicateToken, sink, virtualInduction: Float32Array,
 *   outlierShare: Float32Array, nLayer: number, nHead: number, nEmbd: number}}
 */
export function headFinder(gb, { seed = 1, length = 20, lo = 0, hi, bos = -1 } = {}) {
  gb._requireModel();
  const { n_layer: L, n_head: H, n_embd: C } = gb.config;
  hi ??= gb.config.vocab_size;
  const tokens = repeatedTokens(gb, { seed, length, lo, hi, bos }), [sl, sh] = seedHalves(seed);
  return withBuf(gb, 4 * (5 * L * H + L * C), (p) => {
    const po = p + 4 * 5 * L * H;
    gb._check('gbw_head_finder', gb._ctx, sl, sh, length | 0, lo | 0, hi | 0, bos | 0, p, po);
    const out = { tokens, nLayer: L, nHead: H, nEmbd: C, outlierShare: f32(gb, po, L * C) };
    HEAD_SCORES.forEach((k, i) => { out[k] = f32(gb, p + 4 * i * L * H, L * H); });
    return out;
  });
}

/** Outlier share of the current run's hook_resid_post dims: Float32Array [n_layer, n_embd]. */
export function outlierDims(gb, sigma = 6) {
  gb._requireModel();
  const { n_layer: L, n_embd: C } = gb.config;
  return withBuf(gb, 4 * L * C, (p) => { gb._check('gb_outlier_dims', gb._ctx, sigma, p); return f32(gb, p, L * C); });
}

// ---------------------------------------------------------------- MLP sparsity

/** @returns {{active: Float32Array, above: Float32Array, threshold: number, nLayer: number, T: number}} [n_layer, T] */
export function mlpSparsity(gb, threshold = SPARSITY_THRESHOLD) {
  gb._requireModel();
  const L = gb.config.n_layer, T = gb.numTokens;
  return withBuf(gb, 8 * L * T, (p) => {
    gb._check('gb_mlp_sparsity', gb._ctx, threshold, p, p + 4 * L * T);
    return { active: f32(gb, p, L * T), above: f32(gb, p + 4 * L * T, L * T), threshold, nLayer: L, T };
  });
}

/** The k most active neurons of a block at pos (-1: max over positions). @returns {{ids: Int32Array, acts: Float32Array}} */
export function mlpTopNeurons(gb, layer, pos = -1, k = 10) {
  gb._requireModel();
  return withBuf(gb, 8 * k, (p) => {
    gb._check('gb_mlp_top_neurons', gb._ctx, layer | 0, pos | 0, k | 0, p, p + 4 * k);
    return { ids: i32(gb, p, k), acts: f32(gb, p + 4 * k, k) };
  });
}

/** The k tokens a neuron's output weights most promote (W_out row . W_U, no ln_final). */
export function neuronTopTokens(gb, layer, neuron, k = 10) {
  gb._requireModel();
  return withBuf(gb, 8 * k, (p) => {
    gb._check('gb_neuron_top_tokens', gb._ctx, layer | 0, neuron | 0, k | 0, p, p + 4 * k);
    return { ids: i32(gb, p, k), values: f32(gb, p + 4 * k, k) };
  });
}

// ---------------------------------------------------------------- ReAGent

export function reagentBegin(gb, { seed = 1, ratio = 0.3, maxSteps = 300 } = {}) {
  gb._requireModel();
  const [sl, sh] = seedHalves(seed);
  gb._check('gbw_reagent_begin', gb._ctx, sl, sh, ratio, maxSteps | 0);
}

/** Up to n more steps. @returns {{steps: number, finished: boolean}} */
export function reagentStep(gb, n = 8) {
  const s = gb._scratch;
  gb._check('gb_reagent_step', gb._ctx, n | 0, s, s + 4);
  return { steps: gb.HEAP32[s >>> 2], finished: gb.HEAP32[(s >>> 2) + 1] !== 0 };
}

/** @returns {{scores: Float32Array, target: number}} scores [T] */
export function reagentScores(gb) {
  const T = gb.numTokens;
  return withBuf(gb, 4 * T + 4, (p) => {
    gb._check('gb_reagent_scores', gb._ctx, p, p + 4 * T);
    return { scores: f32(gb, p, T), target: gb.HEAP32[(p >>> 2) + T] };
  });
}

/** The whole ReAGent run in chunks of `chunk` steps, with progress (steps, maxSteps) and cancel. */
export async function reagent(gb, { seed = 1, ratio = 0.3, maxSteps = 300, chunk = 8, onProgress, signal } = {}) {
  reagentBegin(gb, { seed, ratio, maxSteps });
  let st = { steps: 0, finished: false };
  while (!st.finished) {
    signal?.throwIfAborted();
    st = reagentStep(gb, chunk);
    onProgress?.(st.steps, maxSteps);
    await tick();
  }
  return { ...reagentScores(gb), steps: st.steps };
}

// ---------------------------------------------------------------- named tensors

/**
 * A result as {name: {data, shape}} with the names the CLI writes.
 * kind: 'patch' (an object {tokens: {clean, corrupted, target, distractor}, grids: [patchGridAll results]}),
 * 'dla' (dla() plus bySource), 'heads' (headFinder()), 'mlp' (mlpSparsity()), 'reagent' (reagent()).
 */
export function tensors(kind, r) {
  const t = {};
  const put = (name, data, shape) => { t[name] = { data, shape }; };
  if (kind === 'patch') {
    const tk = r.tokens;
    put('tokens.clean', Int32Array.from(tk.clean), [tk.clean.length]);
    put('tokens.corrupted', Int32Array.from(tk.corrupted), [tk.corrupted.length]);
    put('tokens.target', Int32Array.of(tk.target), [1]);
    put('tokens.distractor', Int32Array.of(tk.distractor), [1]);
    for (const g of r.grids) {
      put(`patch.${g.hook.replace(/^attn\./, '')}`, g.values, [g.rows, g.cols]);
      t['patch.ld_clean'] ??= { data: Float32Array.of(g.ldClean), shape: [1] };
      t['patch.ld_corrupted'] ??= { data: Float32Array.of(g.ldCorrupted), shape: [1] };
    }
  } else if (kind === 'dla') {
    const L = r.nLayer, H = r.nHead;
    put('dla.embed', Float32Array.of(r.embed), [1]);
    put('dla.pos_embed', Float32Array.of(r.posEmbed), [1]);
    put('dla.heads', r.heads, [L, H]);
    put('dla.attn_bias', r.attnBias, [L]);
    put('dla.mlp', r.mlp, [L]);
    put('dla.ln_final_bias', Float32Array.of(r.lnFinalBias), [1]);
    put('dla.remainder', Float32Array.of(r.remainder), [1]);
    put('dla.total', Float32Array.of(r.total), [1]);
    if (r.bySource) put('dla.head_by_source', r.bySource, [L, H, r.bySource.length / (L * H)]);
  } else if (kind === 'heads') {
    const L = r.nLayer, H = r.nHead;
    put('heads.tokens', r.tokens, [r.tokens.length]);
    put('heads.previous_token', r.previousToken, [L, H]);
    put('heads.induction', r.induction, [L, H]);
    put('heads.duplicate_token', r.duplicateToken, [L, H]);
    put('heads.sink', r.sink, [L, H]);
    put('heads.virtual_induction', r.virtualInduction, [L, H]);
    put('heads.outlier_share', r.outlierShare, [L, r.nEmbd]);
  } else if (kind === 'mlp') {
    put('mlp.active_share', r.active, [r.nLayer, r.T]);
    put('mlp.above_share', r.above, [r.nLayer, r.T]);
  } else if (kind === 'reagent') {
    put('reagent.scores', r.scores, [r.scores.length]);
    put('reagent.target', Int32Array.of(r.target), [1]);
  } else {
    throw new GlassboxError('arg', `tensors: unknown kind "${kind}"`);
  }
  return t;
}
