/* engine.js — the public class: a Glassbox is one engine instance with one
 * model and one run. Each method checks its arguments, calls the engine
 * through the runtime it extends (runtime.js), and turns the flat ABI
 * (abi.js) back into plain JS values. Loading lives in load.js. See
 * glassbox.js's header for errors, zero-copy views and progress. */
import { ABLATION, INTERVENTION, IV_FIELDS, IV_NAMES, SAMPLE, SHAPE } from './abi.js';
import { toBytes } from './bytes.js';
import { GlassboxError } from './errors.js';
import { loadModel, loadModelFromUrl } from './load.js';
import { Runtime, compileWasm, toIds } from './runtime.js';

const encoder = new TextEncoder();
const utf8 = new TextDecoder('utf-8');
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** Per-token text: UTF-8 where valid, each stray byte shown as \xNN. */
function pieceText(bytes) {
  try {
    return utf8Strict.decode(bytes);
  } catch { /* fall through: not valid UTF-8 on its own */ }
  let out = '';
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i];
    const n = b >= 0xf0 && b <= 0xf4 ? 4 : b >= 0xe0 ? 3 : b >= 0xc2 && b < 0xe0 ? 2 : b < 0x80 ? 1 : 0;
    if (n > 0 && i + n <= bytes.length) {
      try {
        out += utf8Strict.decode(bytes.subarray(i, i + n));
        i += n;
        continue;
      } catch { /* invalid sequence: escape its first byte */ }
    }
    out += '\\x' + b.toString(16).toUpperCase().padStart(2, '0');
    i += 1;
  }
  return out;
}

export class Glassbox extends Runtime {
  /**
   * Compiles and instantiates glassbox.wasm.
   * @param {{wasm?: string|URL|Uint8Array|ArrayBuffer|WebAssembly.Module}} [opts]
   *   wasm: URL (http(s) or file:) or bytes; default ./glassbox.wasm next to this module.
   * @returns {Promise<Glassbox>}
   */
  static async create(opts = {}) {
    const module = await compileWasm(opts.wasm);
    const gb = new Glassbox(module);
    await gb._instantiate();
    return gb;
  }

  // ---------------------------------------------------------------- loading

  /**
   * Loads a Hugging Face GPT-2 model given as bytes. The tokenizer is either
   * vocab + merges, or tokenizerJson, or absent: config + safetensors alone is
   * a model that runs on token ids (hasTokenizer is then false, and tokenize,
   * tokenBytes and decode throw GlassboxError 'state'). On failure the
   * previous model stays.
   * @param {{config, safetensors, vocab?, merges?, tokenizerJson?}} files
   *   each Uint8Array | ArrayBuffer (config/vocab/merges/tokenizerJson may be strings;
   *   safetensors may be a Blob or File, streamed from disk without a JS copy)
   * @param {{onProgress?: (p: {phase: string, fraction: number, loaded?: number, total?: number}) => void}} [opts]
   */
  loadModel(files, opts = {}) { return loadModel(this, files, opts); }

  /**
   * Fetches a model directory (config.json, model.safetensors, and vocab.json +
   * merges.txt or tokenizer.json, or no tokenizer files) and loads it. model.safetensors is streamed
   * straight into wasm memory with 'download' progress from Content-Length.
   * @param {string|URL} baseUrl  directory URL (http(s) or file:); a trailing / is added
   * @param {{onProgress?: Function}} [opts]
   */
  loadModelFromUrl(baseUrl, opts = {}) { return loadModelFromUrl(this, baseUrl, opts); }

  /** Hyper-parameters of the loaded model, or null before one loads. */
  get config() { return this._config; }

  /** Whether the loaded model came with tokenizer files (false before one loads). */
  get hasTokenizer() { return !!this._config && this._hasTokenizer; }

  // ---------------------------------------------------------------- tokenizer

  /**
   * GPT-2 BPE. Returns ids, byte spans [start, end) into the UTF-8 text, and
   * each token's text (stray bytes of a token that is not valid UTF-8 alone as \xNN).
   * @param {string|Uint8Array} text
   * @returns {{ids: Int32Array, spans: number[][], pieces: string[]}}
   */
  tokenize(text) {
    this._requireModel();
    const bytes = typeof text === 'string' ? encoder.encode(text) : toBytes(text, 'text');
    const cap = bytes.length + 1;
    const tp = this._copyIn(bytes);
    let ip = 0, sp = 0;
    try {
      ip = this._malloc(cap * 4);
      sp = this._malloc(cap * 8);
      this._check('gb_tokenize', this._ctx, tp, bytes.length, ip, sp, cap, this._scratch);
      const n = this.HEAP32[this._scratch >>> 2];
      const ids = this.HEAP32.slice(ip >>> 2, (ip >>> 2) + n);
      const sv = this.HEAP32.subarray(sp >>> 2, (sp >>> 2) + 2 * n);
      const spans = [];
      for (let i = 0; i < n; i++) spans.push([sv[2 * i], sv[2 * i + 1]]);
      const pieces = Array.from(ids, (id) => pieceText(this.tokenBytes(id)));
      return { ids, spans, pieces };
    } finally {
      this._free(tp); this._free(ip); this._free(sp);
    }
  }

  /** The raw bytes of one token (a copy). @param {number} id @returns {Uint8Array} */
  tokenBytes(id) {
    this._requireModel();
    const s = this._scratch;
    this._check('gb_token_bytes', this._ctx, id, s, s + 4);
    const p = this.HEAPU32[s >>> 2], n = this.HEAPU32[(s + 4) >>> 2];
    return this.HEAPU8.slice(p, p + n);
  }

  /** Token text for display (see tokenize's pieces). */
  tokenText(id) { return pieceText(this.tokenBytes(id)); }

  /** Decodes ids to a string (invalid UTF-8 becomes U+FFFD; use decodeBytes for the bytes). */
  decode(ids) { return utf8.decode(this.decodeBytes(ids)); }

  /** Concatenated bytes of ids. @returns {Uint8Array} */
  decodeBytes(ids) {
    this._requireModel();
    return this._withIds(ids, (ip, n) => {
      const s = this._scratch;
      let cap = Math.max(64, n * 16);
      for (;;) {
        const op = this._malloc(cap);
        try {
          const st = this._call('gb_decode', this._ctx, ip, n, op, cap, s);
          const len = this.HEAPU32[s >>> 2];
          if ((st === 0 || st === 4) && len > cap) { cap = len; continue; } // too small: retry once at full size
          if (st !== 0) this._throwStatus(st, 'gb_decode');
          return this.HEAPU8.slice(op, op + len);
        } finally { this._free(op); }
      }
    });
  }

  // ---------------------------------------------------------------- the run

  /** Starts a new run on these token ids (Int32Array or number[]). */
  setTokens(ids) {
    this._requireModel();
    this._withIds(ids, (p, n) => this._check('gb_set_tokens', this._ctx, p, n));
  }

  /** Extends the run; the next run* computes only the new positions (KV cache). */
  appendTokens(ids) {
    this._requireModel();
    this._withIds(ids, (p, n) => this._check('gb_append_tokens', this._ctx, p, n));
  }

  /** The run's tokens (a copy). @returns {Int32Array} */
  get tokens() {
    const n = this.numTokens;
    const p = this._call('gb_tokens', this._ctx) >>> 2 >>> 0;
    return n && p ? this.HEAP32.slice(p, p + n) : new Int32Array(0);
  }

  /** @returns {number} */
  get numTokens() { return this._call('gb_num_tokens', this._ctx); }

  /** 2 * n_layer + 2 (0 before a model loads). */
  get numStages() { return this._call('gb_num_stages', this._ctx); }

  /** How many leading stages cover all tokens. */
  get stagesDone() { return this._call('gb_stages_done', this._ctx); }

  /** "embed", "blocks.L.attn", "blocks.L.mlp" or "final". */
  stageName(s) {
    this._requireModel();
    const last = 2 * this._config.n_layer + 1;
    if (!Number.isInteger(s) || s < 0 || s > last) throw new GlassboxError('range', `stage ${s} is out of range: this model has stages 0..${last}`);
    if (s === 0) return 'embed';
    if (s === last) return 'final';
    return `blocks.${(s - 1) >> 1}.${s % 2 ? 'attn' : 'mlp'}`;
  }

  runStage(s) { this._check('gb_run_stage', this._ctx, s); }
  runUntil(s) { this._check('gb_run_until', this._ctx, s); }
  runAll() { this._check('gb_run_all', this._ctx); }

  /** Keep every layer's internals (true, default) or recompute them on read (false). */
  setKeepAll(keep) { this._check('gb_set_keep_all', this._ctx, keep ? 1 : 0); }

  // ---------------------------------------------------------------- activations

  /* [{id, pattern, perLayer}] for every hook, cached per instance. */
  _hooks() {
    if (!this._hookCache) {
      const n = this._call('gb_num_hooks');
      const list = [];
      for (let i = 0; i < n; i++) {
        list.push({ id: i, pattern: this._cstr(this._call('gb_hook_pattern', i)),
          perLayer: !!this._call('gb_hook_is_per_layer', i) });
      }
      this._hookCache = list;
    }
    return this._hookCache;
  }

  /**
   * Every activation name of the loaded model, in forward order: the hooks
   * before the blocks, each block's hooks layer by layer, then the rest.
   * @returns {string[]}
   */
  hookNames() {
    this._requireModel();
    const hooks = this._hooks();
    const firstBlock = hooks.findIndex((h) => h.perLayer);
    const pre = [], blocks = [], post = [];
    for (const h of hooks) if (!h.perLayer) (firstBlock < 0 || h.id < firstBlock ? pre : post).push(h.pattern);
    for (let L = 0; L < this._config.n_layer; L++) {
      for (const h of hooks) if (h.perLayer) blocks.push(h.pattern.replace('%d', String(L)));
    }
    return [...pre, ...blocks, ...post];
  }

  /* name -> [hook, layer]; throws GlassboxError('arg') for unknown names. */
  _findHook(name) {
    return this._withCString(String(name), (p) => {
      const s = this._scratch;
      this.HEAP32[s >>> 2] = -1;
      const hook = this._call('gb_hook_find', p, s);
      if (hook < 0) throw new GlassboxError('arg', `unknown activation name "${name}" (see hookNames())`);
      return [hook, this.HEAP32[s >>> 2]];
    });
  }

  _shapeOut(base) {
    const o = this.HEAP32.subarray(base >>> 2, (base >>> 2) + SHAPE.len);
    return {
      shape: Array.from(o.subarray(SHAPE.dims, SHAPE.dims + o[SHAPE.ndim])),
      numel: o[SHAPE.numel] >>> 0, dense: !!o[SHAPE.dense], ready: !!o[SHAPE.ready],
      data: o[SHAPE.data] >>> 0,
    };
  }

  /** Shape of an activation now and whether it is computed. @returns {{shape: number[], numel: number, dense: boolean, ready: boolean}} */
  activationShape(name) {
    this._requireModel();
    const [hook, layer] = this._findHook(name);
    this._check('gbw_activation_shape', this._ctx, hook, layer, this._scratch);
    const { shape, numel, dense, ready } = this._shapeOut(this._scratch);
    return { shape, numel, dense, ready };
  }

  /**
   * An activation by TransformerLens name. Dense ones are a zero-copy view into
   * wasm memory (view: true) unless opts.copy; see the invalidation rule at the
   * top of this file. Attention scores/patterns are full [H, T, T] copies
   * (masked scores -Infinity, masked pattern 0).
   * @param {string} name  e.g. "blocks.0.attn.hook_pattern"
   * @param {{copy?: boolean}} [opts]
   * @returns {{data: Float32Array, shape: number[], view: boolean}}
   */
  activation(name, opts = {}) {
    this._requireModel();
    const [hook, layer] = this._findHook(name);
    const s = this._scratch;
    this._check('gbw_activation_shape', this._ctx, hook, layer, s);
    const { dense, numel } = this._shapeOut(s);
    if (dense) {
      this._check('gbw_activation_data', this._ctx, hook, layer, s);
      const { shape, data, numel: n } = this._shapeOut(s);
      const view = this.HEAPF32.subarray(data >>> 2, (data >>> 2) + n);
      return opts.copy ? { data: view.slice(), shape, view: false } : { data: view, shape, view: true };
    }
    const p = this._malloc(numel * 4);
    try {
      this._check('gb_activation_copy', this._ctx, hook, layer, p, numel);
      this._check('gbw_activation_shape', this._ctx, hook, layer, s);
      const { shape } = this._shapeOut(s);
      return { data: this.HEAPF32.slice(p >>> 2, (p >>> 2) + numel), shape, view: false };
    } finally { this._free(p); }
  }

  // ---------------------------------------------------------------- sampling
  //
  // The run's sampling state is (seed, settings, tokens): generated token i
  // (counted from the end of the prompt setTokens set) is drawn with uniform
  // number i of the seed's stream, greedy included. Nothing is replayed:
  // sampleDist() is pure, draw(u) draws with a given u, nextUniform() is the u
  // the run's next token uses, and sample() = draw(nextUniform()).
  // Rows come in the display order: probability descending, ties by logit,
  // then id; the draw takes the first row whose cumulative top-p probability
  // exceeds u (core/run/sample.c).

  /** Sets the run's seed. @param {number|bigint} n  taken as uint64 */
  seed(n) {
    let v;
    try { v = BigInt.asUintN(64, BigInt(n)); } catch { throw new GlassboxError('arg', `seed ${n} is not an integer`); }
    this._call('gbw_seed', this._ctx, Number(v & 0xffffffffn) | 0, Number(v >> 32n) | 0);
  }

  /** The uniform in [0, 1) the run's next draw uses (index = generated tokens so far). */
  nextUniform() { this._requireModel(); return this._call('gb_next_uniform', this._ctx); }

  /** Uniform number i of the seed's stream. */
  uniformAt(i) { this._requireModel(); return this._call('gb_uniform_at', this._ctx, i | 0); }

  /** Tokens setTokens set (the rest of numTokens were appended: generated). */
  get numPromptTokens() { return this._ctx ? this._call('gb_num_prompt_tokens', this._ctx) : 0; }

  _params({ temperature = 1, topK = 0, topP = 1 } = {}) { return [temperature, topK | 0, topP]; }

  /* Reads the trace array at s; distributions copied only when asked. */
  _trace(s, withArrays) {
    const V = this._config.vocab_size;
    const o = this.HEAPU32.slice(s >>> 2, (s >>> 2) + SAMPLE.len);
    const f = this.HEAPF32.slice(s >>> 2, (s >>> 2) + SAMPLE.len);
    const out = {
      token: o[SAMPLE.token] | 0, uniform: f[SAMPLE.uniform], rank: o[SAMPLE.rank] | 0,
      cumBefore: f[SAMPLE.cumBefore], cumAfter: f[SAMPLE.cumAfter],
      kept: { topK: o[SAMPLE.nTopK] | 0, topP: o[SAMPLE.nTopP] | 0 },
    };
    if (withArrays) {
      const arr = (i) => this.HEAPF32.slice(o[i] >>> 2, (o[i] >>> 2) + V);
      Object.assign(out, { logits: arr(SAMPLE.logits), scaled: arr(SAMPLE.scaled), probs: arr(SAMPLE.probs), topK: arr(SAMPLE.topK), topP: arr(SAMPLE.topP) });
    }
    return out;
  }

  /* The first n rows of the last sampling answer, each stage's value per row. */
  _rows(n) {
    const V = this._config.vocab_size;
    n = Math.max(0, Math.min(V, n | 0));
    if (!n) return [];
    const s = this._scratch;
    const o = this.HEAPU32.slice(s >>> 2, (s >>> 2) + SAMPLE.len);
    const ip = this._malloc(n * 8);
    try {
      this._check('gb_sample_rows', this._ctx, n, ip, ip + n * 4);
      const ids = this.HEAP32.slice(ip >>> 2, (ip >>> 2) + n), cum = this.HEAPF32.slice((ip >>> 2) + n, (ip >>> 2) + 2 * n);
      const at = (i, id) => this.HEAPF32[(o[i] >>> 2) + id];
      return Array.from(ids, (id, r) => ({
        id, logit: at(SAMPLE.logits, id), scaled: at(SAMPLE.scaled, id), prob: at(SAMPLE.probs, id),
        topK: at(SAMPLE.topK, id), topP: at(SAMPLE.topP, id), cum: cum[r],
      }));
    } finally { this._free(ip); }
  }

  /**
   * The last position's next-token distribution at every stage, without
   * drawing (pure), and its first `rows` rows in the display order with their
   * cumulative top-p probability. arrays: false skips the five [vocab] copies.
   * @param {{temperature?: number, topK?: number, topP?: number}} params  defaults 1, 0 (off), 1 (off)
   * @returns {{kept: {topK: number, topP: number}, rows: object[], logits?: Float32Array, scaled?: Float32Array,
   *            probs?: Float32Array, topK?: Float32Array, topP?: Float32Array}}
   */
  sampleDist(params, rows = 0, { arrays = true } = {}) {
    this._requireModel();
    this._check('gbw_sample_distribution', this._ctx, ...this._params(params), this._scratch);
    const t = this._trace(this._scratch, arrays);
    delete t.token; delete t.uniform; delete t.rank; delete t.cumBefore; delete t.cumAfter;
    return { ...t, rows: this._rows(rows) };
  }

  /**
   * Draws with a given u in [0, 1): the first row whose cumulative top-p
   * probability exceeds u (greedy: the top row). Same shape as sample().
   */
  draw(params, u, rows = 0, { arrays = false } = {}) {
    this._requireModel();
    this._check('gbw_sample_draw', this._ctx, ...this._params(params), u, this._scratch);
    return { ...this._trace(this._scratch, arrays), rows: this._rows(rows) };
  }

  /**
   * The run's next token: draw(params, nextUniform()). Does not append it.
   * @returns {{token: number, uniform: number, rank: number, cumBefore: number, cumAfter: number,
   *            kept: {topK: number, topP: number}, logits, scaled, probs, topK, topP: Float32Array, rows: object[]}}
   */
  sample(params, rows = 0, { arrays = true } = {}) {
    this._requireModel();
    this._check('gbw_sample', this._ctx, ...this._params(params), this._scratch);
    return { ...this._trace(this._scratch, arrays), rows: this._rows(rows) };
  }

  /**
   * Tokenizes prompt, runs it, then n times: sample, append, run (the KV cache
   * makes each step compute one position). Stops early at the context length.
   * @param {string|number[]|Int32Array} prompt  text, or token ids
   * @param {number} n  tokens to generate
   * @param {{temperature?, topK?, topP?, seed?: number|bigint, onToken?: (id: number, i: number) => void}} [params]
   * @returns {{prompt: Int32Array, tokens: Int32Array, text: string}}  text (a getter) decodes the new tokens
   */
  generate(prompt, n, params = {}) {
    this._requireModel();
    const ids = typeof prompt === 'string' ? this.tokenize(prompt).ids : toIds(prompt);
    if (params.seed !== undefined) this.seed(params.seed);
    this.setTokens(ids);
    this.runAll();
    const out = [];
    for (let i = 0; i < n && this.numTokens < this._config.n_positions; i++) {
      this._check('gbw_sample', this._ctx, ...this._params(params), this._scratch);
      const tok = this.HEAP32[(this._scratch >>> 2) + SAMPLE.token];
      out.push(tok);
      if (params.onToken) params.onToken(tok, i);
      this.appendTokens([tok]);
      this.runAll();
    }
    const tokens = Int32Array.from(out);
    const self = this;
    return { prompt: ids, tokens, get text() { return self.decode(tokens); } };
  }

  // ---------------------------------------------------------------- interventions
  //
  // An intervention is an entry of the run: every activation, the sampler and
  // the logit lens read the intervened run. Adding or removing one invalidates
  // the run from its block on (the next run* recomputes only that).

  /**
   * Adds an entry ({kind: 'ablate-zero'|'ablate-mean'|'patch', layer, head, hook, pos});
   * hook defaults to blocks.L.attn.hook_z, head to -1, pos to -1 (every position).
   * An entry on the same (hook, layer, head, pos) replaces the old one.
   */
  addIntervention({ kind, layer, head = -1, hook, pos = -1 }) {
    this._requireModel();
    const k = INTERVENTION[kind];
    if (k === undefined) throw new GlassboxError('arg', `intervention kind "${kind}" is not one of ${Object.keys(INTERVENTION).join(', ')}`);
    const [h] = this._findHook(hook ?? `blocks.${layer | 0}.attn.hook_z`);
    this._check('gbw_add_intervention', this._ctx, k, h, layer | 0, head | 0, pos | 0);
  }

  /** Removes entry i of interventions(). */
  removeIntervention(i) { this._requireModel(); this._check('gb_remove_intervention', this._ctx, i | 0); }

  clearInterventions() { this._requireModel(); this._check('gb_clear_interventions', this._ctx); }

  /** The run's entries, in the order they were added. @returns {{kind, hook, layer, head, pos}[]} */
  interventions() {
    if (!this._ctx || !this._config) return [];
    const n = this._call('gb_num_interventions', this._ctx), s = this._scratch, out = [];
    const names = this._hooks();
    for (let i = 0; i < n; i++) {
      this._check('gbw_get_intervention', this._ctx, i, s);
      const [kind, hook, layer, head, pos] = this.HEAP32.slice(s >>> 2, (s >>> 2) + IV_FIELDS.length);
      out.push({ kind: IV_NAMES[kind], hook: names[hook].pattern.replace('%d', layer), layer, head, pos });
    }
    return out;
  }

  /** Ablates one head's hook_z: mode 'zero' | 'mean' | 'none' (removes it). */
  setAblation(layer, head, mode) {
    const m = ABLATION[mode];
    if (m === undefined) throw new GlassboxError('arg', `ablation mode "${mode}" is not one of 'zero', 'mean', 'none'`);
    this._check('gb_set_ablation', this._ctx, layer, head, m);
  }

  /** Removes the ablation entries (other interventions stay). */
  clearAblations() { this._check('gb_clear_ablations', this._ctx); }

  // ---------------------------------------------------------------- reads for views

  /* Calls fn(idsPtr, probsPtr) with k-entry buffers; returns [{id, prob}]. */
  _topList(k, what, fn) {
    this._requireModel();
    if (!Number.isInteger(k) || k < 1) throw new GlassboxError('arg', `${what}: k must be a positive integer, got ${k}`);
    const ip = this._malloc(k * 8);
    try {
      fn(ip, ip + k * 4);
      const out = [];
      for (let i = 0; i < k; i++) out.push({ id: this.HEAP32[(ip >>> 2) + i], prob: this.HEAPF32[(ip >>> 2) + k + i] });
      return out;
    } finally { this._free(ip); }
  }

  /**
   * Final layer norm + unembedding applied to the residual after block layer
   * (-1: after the embeddings) at position pos; the k most likely tokens.
   * @returns {{id: number, prob: number}[]}
   */
  logitLens(layer, pos, k = 10) {
    return this._topList(k, 'logitLens', (ip, pp) => this._check('gb_logit_lens', this._ctx, layer, pos, k, ip, pp));
  }

  /** The k most likely next tokens at position pos (softmax of the run's logits, in C). */
  topTokens(pos, k = 5) {
    return this._topList(k, 'topTokens', (ip, pp) => this._check('gb_top_tokens', this._ctx, pos, k, ip, pp));
  }

  /** Block layer's attention scores before the causal mask, [H, T, T] (the model's own scale). */
  attnScoresUnmasked(layer) {
    this._requireModel();
    const H = this._config.n_head, T = this.numTokens, n = H * T * T;
    const p = this._malloc(n * 4);
    try {
      this._check('gb_attn_scores_unmasked', this._ctx, layer, p, n);
      return { data: this.HEAPF32.slice(p >>> 2, (p >>> 2) + n), shape: [H, T, T] };
    } finally { this._free(p); }
  }

  /** L2 norm of each position's row of a [T, n] activation, e.g. "blocks.2.hook_resid_post". */
  rowNorms(name) {
    this._requireModel();
    const [hook, layer] = this._findHook(name);
    const T = this.numTokens, p = this._malloc(Math.max(1, T) * 4);
    try {
      this._check('gb_row_norms', this._ctx, hook, layer, p, T);
      return this.HEAPF32.slice(p >>> 2, (p >>> 2) + T);
    } finally { this._free(p); }
  }
}
