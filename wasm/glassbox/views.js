/* views.js — calls for views of long runs, installed on Glassbox's prototype
 * (engine.js): the activation store's size and choice, one head's attention
 * pattern computed for the view that draws it (C: core/run/views.c), and the
 * top columns (neurons) of a [T, n] activation for the tables a view draws
 * (C: core/run/reads.c), so a page never sorts activations itself.
 * See glassbox.js's header (Views of long runs). */
import { GlassboxError } from './errors.js';

export const viewMethods = {
  /**
   * Bytes the activation store takes for a run of nTokens with this keepAll
   * (as allocated; weights not included): for choosing the store by what fits.
   */
  storeBytes(nTokens, keepAll) {
    this._requireModel();
    const p = this._malloc(8);
    try {
      this._check('gb_store_bytes', this._ctx, nTokens, keepAll ? 1 : 0, p);
      return new Float64Array(this._memory.buffer, p, 1)[0];
    } finally { this._free(p); }
  },

  /**
   * The store for a run of nTokens: keepAll when its store fits in budgetBytes
   * of activations, else the low-memory store (blocks recomputed on demand).
   * Returns { keepAll, bytes } and does not apply it (call setKeepAll).
   */
  chooseStore(nTokens, budgetBytes) {
    const all = this.storeBytes(nTokens, true);
    if (all <= budgetBytes) return { keepAll: true, bytes: all };
    return { keepAll: false, bytes: this.storeBytes(nTokens, false) };
  },

  /**
   * What a view of one head draws (C: gb_head_pattern_view), computed for
   * it: block `layer` head `head`'s attention pattern, queries x keys (T x T,
   * masked entries 0), as
   *   overview: { width, height, mode: 'max' | 'mean' } -> Float32Array
   *     [height * width], row-major: cell (i, c) covers query rows
   *     [i*T/height, (i+1)*T/height) and keys [c*T/width, (c+1)*T/width);
   *     1 <= width, height <= T.
   *   zoom: { rows: [r0, r1], keys: [c0, c1] } -> Float32Array
   *     [(r1 - r0) * (c1 - c0)] at full resolution.
   * Either may be omitted. With keepAll off only this head is recomputed (its
   * queries, scores against the kept K, softmax), not the block. Returns
   * { overview, zoom } (copies; null where not asked).
   */
  headPatternView(layer, head, { overview = null, zoom = null } = {}) {
    this._requireModel();
    if (overview && overview.mode && overview.mode !== 'max' && overview.mode !== 'mean')
      throw new GlassboxError('arg', `headPatternView: overview.mode is 'max' or 'mean', not ${overview.mode}`);
    const ow = overview ? overview.width | 0 : 0, oh = overview ? overview.height | 0 : 0;
    const mode = overview && overview.mode === 'mean' ? 1 : 0;
    const [r0, r1] = zoom ? zoom.rows : [0, 0], [c0, c1] = zoom ? zoom.keys : [0, 0];
    const on = overview ? Math.max(0, ow * oh) : 0, zn = zoom ? Math.max(0, (r1 - r0) * (c1 - c0)) : 0;
    if ((overview && !on) || (zoom && !zn))
      throw new GlassboxError('range', `headPatternView: empty ${overview && !on ? 'overview' : 'zoom'}`);
    const op = on ? this._malloc(on * 4) : 0, zp = zn ? this._malloc(zn * 4) : 0;
    try {
      this._check('gb_head_pattern_view', this._ctx, layer, head, ow, oh, mode, op, r0, r1, c0, c1, zp);
      return {
        overview: overview ? this.HEAPF32.slice(op >>> 2, (op >>> 2) + on) : null,
        zoom: zoom ? this.HEAPF32.slice(zp >>> 2, (zp >>> 2) + zn) : null,
      };
    } finally { if (op) this._free(op); if (zp) this._free(zp); }
  },

  /**
   * Each position's k largest columns of a [T, n] activation (e.g. the MLP
   * neurons of "blocks.2.mlp.hook_pre"), largest first, ties by the lower
   * column (C: gb_top_columns), for positions [from, from + count).
   * Returns { from, count, k, ids: Int32Array, values: Float32Array }, each
   * [count * k] (row i of position from + p at p * k + i).
   */
  topColumns(name, { from = 0, count = null, k = 5 } = {}) {
    this._requireModel();
    const [hook, layer] = this._findHook(name);
    const n = count == null ? this.numTokens - from : count;
    if (!Number.isInteger(k) || k < 1 || !Number.isInteger(n) || n < 1 || !Number.isInteger(from))
      throw new GlassboxError('arg', `topColumns: from, count and k must be integers (count and k positive), got ${from}, ${n}, ${k}`);
    const ip = this._malloc(n * k * 8);
    try {
      this._check('gb_top_columns', this._ctx, hook, layer, from, n, k, ip, ip + n * k * 4);
      return { from, count: n, k, ids: this.HEAP32.slice(ip >>> 2, (ip >>> 2) + n * k),
        values: this.HEAPF32.slice((ip >>> 2) + n * k, (ip >>> 2) + 2 * n * k) };
    } finally { this._free(ip); }
  },

  /**
   * The k columns of a [T, n] activation whose largest |value| over every
   * position is largest, in that order (C: gb_top_columns_absmax).
   * Returns { ids: Int32Array, scores: Float32Array } (scores: that |value|).
   */
  topColumnsAbsMax(name, k) {
    this._requireModel();
    const [hook, layer] = this._findHook(name);
    if (!Number.isInteger(k) || k < 1) throw new GlassboxError('arg', `topColumnsAbsMax: k must be a positive integer, got ${k}`);
    const ip = this._malloc(k * 8);
    try {
      this._check('gb_top_columns_absmax', this._ctx, hook, layer, k, ip, ip + k * 4);
      return { ids: this.HEAP32.slice(ip >>> 2, (ip >>> 2) + k), scores: this.HEAPF32.slice((ip >>> 2) + k, (ip >>> 2) + 2 * k) };
    } finally { this._free(ip); }
  },
};
