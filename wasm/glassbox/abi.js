/* abi.js — the numbers glassbox.js and glassbox.wasm must agree on: the ABI
 * version, gb_status codes, the layouts of the int32 arrays wasm/exports.c
 * flattens structs into, and the enum values of core/glassbox.h.
 * tests/node/wasm_abi.test.js reads exports.c and glassbox.h and checks every
 * value here against them; change both sides together and bump
 * gbw_abi_version. */

/* gbw_abi_version(): the module refuses to run against another. */
export const ABI_VERSION = 4;

/* gb_status: index = the C value (GB_OK = 0 has no code). */
export const STATUS_CODES = [null, 'io', 'format', 'shape', 'range', 'oom', 'arg', 'state'];

/* gbw_*_shape's out[] (GBW_SHAPE_*). */
export const SHAPE = Object.freeze({ ndim: 0, dims: 1, numel: 5, dense: 6, ready: 7, data: 8, len: 9 });

/* gbw_sample*'s out[] (GBW_SAMPLE_*); uniform and cum* hold a float's bits. */
export const SAMPLE = Object.freeze({
  logits: 0, scaled: 1, probs: 2, topK: 3, topP: 4, token: 5, uniform: 6, rank: 7,
  cumBefore: 8, cumAfter: 9, nTopK: 10, nTopP: 11, len: 12,
});

/* gbw_config's out[0..6], in order (then *eps: layer_norm_epsilon). */
export const CONFIG_FIELDS = Object.freeze(['n_layer', 'n_head', 'n_embd', 'n_positions', 'vocab_size', 'd_head', 'd_mlp']);

/* gbw_get_intervention's iv[0..4], in order. */
export const IV_FIELDS = Object.freeze(['kind', 'hook', 'layer', 'head', 'pos']);

/* gb_ablation (GB_ABLATE_*). */
export const ABLATION = Object.freeze({ none: 0, zero: 1, mean: 2 });

/* gb_iv_kind (GB_IV_*). */
export const INTERVENTION = Object.freeze({ 'ablate-zero': 1, 'ablate-mean': 2, patch: 3 });
export const IV_NAMES = Object.freeze(Object.fromEntries(Object.entries(INTERVENTION).map(([k, v]) => [v, k])));
