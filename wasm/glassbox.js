/* glassbox.js — the JavaScript face of the Glassbox engine (glassbox.wasm).
 *
 * One plain ES module that runs unchanged in a page, a Web Worker and Node 20.
 * It instantiates the standalone .wasm itself (no Emscripten JS glue: 3.1.6's
 * glue is broken on Node >= 18) and wraps the C API of core/glassbox.h, via
 * the flat ABI of wasm/exports.c, in one class.
 *
 *   import { Glassbox, GlassboxError } from './glassbox.js';
 *   const gb = await Glassbox.create();              // fetches ./glassbox.wasm
 *   await gb.loadModelFromUrl('models/default/', {
 *     onProgress: ({ phase, fraction }) => console.log(phase, fraction) });
 *   const { ids, pieces } = gb.tokenize('Hello world');
 *   gb.setTokens(ids);
 *   gb.runUntil(2);                                   // embed + blocks.0.attn
 *   const { data, shape } = gb.activation('blocks.0.attn.hook_pattern');
 *   gb.runAll();
 *   const step = gb.sample({ temperature: 0.8, topK: 40, topP: 0.9 });
 *   try { gb.runStage(999); } catch (e) { if (e instanceof GlassboxError) console.log(e.code, e.message); }
 *
 * Errors. Every non-zero gb_status becomes `GlassboxError` with `.code` one of
 * 'io' | 'format' | 'shape' | 'range' | 'oom' | 'arg' | 'state', and `.message`
 * the C text of gb_error_message (nothing is lost on the way). Bad arguments
 * caught in JS use the same class with code 'arg'. A wasm trap (unreachable,
 * out-of-bounds, stack overflow, a call into an unsupported import) becomes
 * `GlassboxRuntimeError`, keeps the wasm stack as `.cause`, and marks the
 * instance dead: every later call throws, except loadModel/loadModelFromUrl,
 * which start over on a fresh instance of the already compiled module.
 *
 * Zero-copy views. `activation(name)` returns a Float32Array that looks
 * straight into wasm memory for dense activations (attention scores and
 * patterns are stored packed and come back as copies; `.view` says which).
 * A view is valid only until the next call that changes the run (setTokens,
 * appendTokens, setAblation, clearAblations, add/remove/clearIntervention(s),
 * setKeepAll, loadModel, destroy)
 * or that may grow memory (any run*, activation, sample, tokenize, load...).
 * When memory grows its old ArrayBuffer is detached and old views read as
 * length 0; use the data at once or `.slice()` it to keep it. Internally the
 * wrapper re-reads `memory.buffer` after every call that may allocate.
 *
 * Pointers. wasm32 addresses are unsigned but wasm returns i32, so above 2 GB
 * they arrive negative; every pointer is normalised with `>>> 0`. Memory grows
 * on demand up to the module's 4 GB maximum.
 *
 * Loading streams. model.safetensors goes into the engine in pieces
 * (gb_load_begin/write/finish), from the download, a File/Blob, or bytes, and
 * the engine packs the weights as they arrive: a model is held once, in wasm
 * memory, and a failed or cut-off load leaves the previous model loaded.
 *
 * Progress. loadModel* report `{phase, fraction, loaded, total}` where phase is
 * 'download' (loadModelFromUrl: the streamed download), 'copy' (loadModel: the
 * streamed bytes or file) or 'parse' (gb_load_finish: tokenizer and checks,
 * 0 before, 1 after; it is one synchronous call).
 */

// ------------------------------------------------------------------ errors

const STATUS_CODES = [null, 'io', 'format', 'shape', 'range', 'oom', 'arg', 'state'];

/** A failure the engine reported (a non-zero gb_status) or a bad argument. */
export class GlassboxError extends Error {
  /** @param {string} code  'io'|'format'|'shape'|'range'|'oom'|'arg'|'state'
   *  @param {string} message  C's gb_error_message text */
  constructor(code, message) {
    super(message);
    this.name = 'GlassboxError';
    this.code = code;
  }
}

/** The wasm instance trapped (or called an import it must not); it is dead. */
export class GlassboxRuntimeError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = 'GlassboxRuntimeError';
  }
}

/** Stage names and modes, as exported constants for callers. */
export const ABLATION = Object.freeze({ none: 0, zero: 1, mean: 2 });

const ABI_VERSION = 4;
const SHAPE = { ndim: 0, dims: 1, numel: 5, dense: 6, ready: 7, data: 8, len: 9 };
const SAMPLE = { logits: 0, scaled: 1, probs: 2, topK: 3, topP: 4, token: 5, uniform: 6, rank: 7, cumBefore: 8, cumAfter: 9, nTopK: 10, nTopP: 11, len: 12 };
/** Intervention kinds (gb_iv_kind). */
export const INTERVENTION = Object.freeze({ 'ablate-zero': 1, 'ablate-mean': 2, patch: 3 });
const IV_NAMES = Object.fromEntries(Object.entries(INTERVENTION).map(([k, v]) => [v, k]));
const encoder = new TextEncoder();
const utf8 = new TextDecoder('utf-8');
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

// ------------------------------------------------------------------ loading bytes

const isNode = typeof process !== 'undefined' && !!(process.versions && process.versions.node);

function toBytes(x, what) {
  if (x == null) return null;
  if (x instanceof Uint8Array) return x;
  if (x instanceof ArrayBuffer) return new Uint8Array(x);
  if (ArrayBuffer.isView(x)) return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  if (typeof x === 'string') return encoder.encode(x);
  throw new GlassboxError('arg', `${what}: expected Uint8Array, ArrayBuffer or string, got ${typeof x}`);
}

/* A file: URL is read with node:fs (Node's fetch has no file: support); the
 * import is dynamic so the module has no Node-only top-level import. */
async function readFileUrl(url) {
  const fs = await import('node:fs/promises');
  try {
    return new Uint8Array(await fs.readFile(url));
  } catch (e) {
    throw new GlassboxError('io', `${url.href}: cannot read: ${e.message}`);
  }
}

function resolveUrl(u) {
  if (u instanceof URL) return u;
  try {
    return new URL(u);
  } catch {
    const base = typeof location !== 'undefined' ? location.href
      : isNode ? `file://${process.cwd()}/` : undefined;
    return new URL(u, base);
  }
}

async function fetchOk(url, what) {
  let res;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new GlassboxError('io', `${what}: cannot fetch ${url.href}: ${e.message}`);
  }
  if (!res.ok) throw new GlassboxError('io', `${what}: ${url.href}: HTTP ${res.status} ${res.statusText}`);
  return res;
}

/* Reads a stream to its end, handing each chunk to onChunk. A failed read
 * becomes GlassboxError('io', ioMessage(error)); any failure, the read's or
 * onChunk's, cancels the stream (freeing a connection or a file) first. */
async function pump(stream, onChunk, ioMessage) {
  const reader = stream.getReader();
  try {
    for (;;) {
      let chunk;
      try {
        chunk = await reader.read();
      } catch (e) {
        throw new GlassboxError('io', ioMessage(e));
      }
      if (chunk.done) return;
      onChunk(chunk.value);
    }
  } catch (e) {
    reader.cancel().catch(() => {});
    throw e;
  }
}

const downloadFailed = (url) => (e) => `model.safetensors: download from ${url.href} failed: ${e.message}`;

/* A body of unknown final size (no Content-Length, or compressed), read
 * whole with 'download' progress. */
async function readBody(res, url, report) {
  const parts = [];
  let got = 0;
  await pump(res.body, (value) => {
    parts.push(value);
    got += value.length;
    report({ phase: 'download', fraction: 0, loaded: got, total: 0 });
  }, downloadFailed(url));
  const out = new Uint8Array(got);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  report({ phase: 'download', fraction: 1, loaded: got, total: got });
  return out;
}

/** Bytes of a URL (http(s), blob, data or file:), or null when optional and missing. */
async function readUrl(url, what, optional = false) {
  if (url.protocol === 'file:') {
    try {
      return await readFileUrl(url);
    } catch (e) {
      if (optional) return null;
      throw e;
    }
  }
  let res;
  try {
    res = await fetchOk(url, what);
  } catch (e) {
    if (optional) return null;
    throw e;
  }
  return new Uint8Array(await res.arrayBuffer());
}

// ------------------------------------------------------------------ wasm imports

/* The imports a STANDALONE_WASM module asks for. The engine never does I/O,
 * so fd_write only forwards stray prints to the console (a debug print should
 * not kill the page); everything that would exit or touch files throws. */
function makeImports(module, state) {
  const trap = (name) => () => {
    throw new GlassboxRuntimeError(`glassbox.wasm called ${name}, which the browser build does not support`);
  };
  const wasi = {
    proc_exit: (code) => {
      throw new GlassboxRuntimeError(`glassbox.wasm tried to exit (proc_exit(${code})); the engine must return errors instead`);
    },
    fd_write: (fd, iov, iovcnt, pnum) => {
      const mem = state.memory;
      const dv = new DataView(mem.buffer);
      let text = '', n = 0;
      for (let i = 0; i < iovcnt; i++) {
        const p = dv.getUint32(iov + 8 * i, true), len = dv.getUint32(iov + 8 * i + 4, true);
        text += utf8.decode(new Uint8Array(mem.buffer, p, len));
        n += len;
      }
      dv.setUint32(pnum, n, true);
      (fd === 2 ? console.error : console.log)(`[glassbox.wasm] ${text.replace(/\n$/, '')}`);
      return 0;
    },
    environ_sizes_get: (pcount, psize) => {
      const dv = new DataView(state.memory.buffer);
      dv.setUint32(pcount, 0, true);
      dv.setUint32(psize, 0, true);
      return 0;
    },
    environ_get: () => 0,
  };
  const env = {
    emscripten_notify_memory_growth: () => { state.onGrow(); },
  };
  const imports = { wasi_snapshot_preview1: wasi, env };
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.kind !== 'function') continue;
    imports[imp.module] ??= {};
    imports[imp.module][imp.name] ??= trap(`${imp.module}.${imp.name}`);
  }
  return imports;
}

async function compileWasm(src) {
  if (src instanceof WebAssembly.Module) return src;
  if (src == null) src = new URL('./glassbox.wasm', import.meta.url);
  if (typeof src === 'string' || src instanceof URL) {
    const url = resolveUrl(src);
    if (url.protocol !== 'file:' && typeof WebAssembly.compileStreaming === 'function') {
      const res = await fetchOk(url, 'glassbox.wasm');
      if ((res.headers.get('content-type') || '').startsWith('application/wasm')) {
        return WebAssembly.compileStreaming(res);
      }
      return WebAssembly.compile(await res.arrayBuffer());
    }
    src = await readUrl(url, 'glassbox.wasm');
  }
  return WebAssembly.compile(toBytes(src, 'wasm'));
}

// ------------------------------------------------------------------ helpers

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

function toIds(ids) {
  if (ids instanceof Int32Array) return ids;
  if (Array.isArray(ids) || ArrayBuffer.isView(ids)) {
    const out = Int32Array.from(ids);
    for (let i = 0; i < out.length; i++) {
      if (out[i] !== Number(ids[i])) throw new GlassboxError('arg', `token id ${ids[i]} at index ${i} is not an int32`);
    }
    return out;
  }
  throw new GlassboxError('arg', `expected an array of token ids, got ${typeof ids}`);
}

const yieldToEventLoop = () => new Promise((r) => setTimeout(r, 0));
/* Streaming loads copy model.safetensors in through one buffer of this size:
 * small enough to stay in cache between the copy and the engine's packing. */
const STAGE_BYTES = 256 << 10;
/* ... and report progress this often. */
const PROGRESS_STEP = 16 << 20;

// ------------------------------------------------------------------ the engine

export class Glassbox {
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

  /** @private use Glassbox.create() */
  constructor(module) {
    this._module = module;
    this._dead = null;     // the GlassboxRuntimeError that killed the instance
    this._ctx = 0;
    this._config = null;
    this._hookCache = null;
  }

  /* A trap killed the instance: start over on a fresh one (the compiled module is kept). */
  async _revive() {
    if (this._destroyed) throw new GlassboxError('state', 'this Glassbox was destroyed; create a new one');
    if (this._dead) await this._instantiate();
  }

  async _instantiate() {
    const state = { memory: null, onGrow: () => this._refreshViews() };
    const instance = await WebAssembly.instantiate(this._module, makeImports(this._module, state));
    const x = instance.exports;
    this._x = x;
    this._dead = null;
    this._memory = state.memory = x.memory;
    this._buf = null;
    this._refreshViews();
    if (typeof x._initialize === 'function') x._initialize();
    if (typeof x.gbw_abi_version !== 'function' || x.gbw_abi_version() !== ABI_VERSION) {
      throw new GlassboxRuntimeError(`glassbox.wasm has ABI version ${x.gbw_abi_version?.()}, this glassbox.js expects ${ABI_VERSION}: rebuild both`);
    }
    this._ctx = x.gb_create() >>> 0;
    if (!this._ctx) throw new GlassboxError('oom', 'gb_create: out of memory');
    // Scratch for small out-parameters: 64 bytes, lives as long as the instance.
    this._scratch = this._malloc(64);
    this._config = null;
    this._hookCache = null;
  }

  // ---------------------------------------------------------------- memory

  /* Re-reads memory.buffer: after growth the old buffer is detached. */
  _refreshViews() {
    const buf = this._memory.buffer;
    if (buf === this._buf) return;
    this._buf = buf;
    this.HEAPU8 = new Uint8Array(buf);
    this.HEAP32 = new Int32Array(buf);
    this.HEAPU32 = new Uint32Array(buf);
    this.HEAPF32 = new Float32Array(buf);
  }

  /* Every call into wasm goes through here: traps become GlassboxRuntimeError
   * and kill the instance; views are refreshed afterwards (it may have grown). */
  _call(name, ...args) {
    if (this._dead) {
      throw new GlassboxRuntimeError(this._destroyed ? 'this Glassbox was destroyed; create a new one'
        : `this Glassbox instance is dead (${this._dead.message}); load a model again or create a new one`, { cause: this._dead });
    }
    let r;
    try {
      r = this._x[name](...args);
    } catch (e) {
      const err = e instanceof GlassboxRuntimeError ? e
        : new GlassboxRuntimeError(`glassbox.wasm trapped in ${name}: ${e && e.message}`, { cause: e });
      this._dead = err;
      throw err;
    } finally {
      if (!this._dead) this._refreshViews();
    }
    return r;
  }

  /* Calls a gb_status-returning function and throws GlassboxError on failure. */
  _check(name, ...args) {
    const st = this._call(name, ...args);
    if (st !== 0) this._throwStatus(st, name);
  }

  _throwStatus(st, name) {
    const code = STATUS_CODES[st] || `status ${st}`;
    throw new GlassboxError(code, this._cstr(this._call('gb_error_message', this._ctx)) || `${name} failed (${code})`);
  }

  _malloc(n) {
    if (!(n <= 0xffff0000)) throw new GlassboxError('oom', `cannot allocate ${n} bytes: wasm32 memory is limited to 4 GB`);
    const p = this._call('malloc', Math.max(1, n)) >>> 0;
    if (!p) throw new GlassboxError('oom', `out of wasm memory allocating ${n} bytes (wasm memory is ${this._memory.buffer.byteLength} bytes, limit 4 GB)`);
    return p;
  }

  _free(p) { if (p && !this._dead) this._call('free', p); }

  /* Copies bytes into a fresh wasm allocation; returns its pointer. */
  _copyIn(bytes) {
    const p = this._malloc(bytes.length);
    this.HEAPU8.set(bytes, p);
    return p;
  }

  _cstr(p) {
    p >>>= 0;
    if (!p) return '';
    const h = this.HEAPU8;
    let end = p;
    while (h[end]) end++;
    return utf8.decode(h.subarray(p, end));
  }

  /* Runs fn(ptr) with a NUL-terminated copy of s in wasm memory. */
  _withCString(s, fn) {
    const b = encoder.encode(s);
    const p = this._malloc(b.length + 1);
    this.HEAPU8.set(b, p);
    this.HEAPU8[p + b.length] = 0;
    try { return fn(p, b.length); } finally { this._free(p); }
  }

  _withIds(ids, fn) {
    const a = toIds(ids);
    const p = this._malloc(a.length * 4);
    this.HEAP32.set(a, p >>> 2);
    try { return fn(p, a.length); } finally { this._free(p); }
  }

  _requireModel() {
    if (!this._config) throw new GlassboxError('state', 'no model is loaded: call loadModel first');
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
  async loadModel(files, opts = {}) {
    // A Blob (a File the user picked) is streamed from disk: the weights are
    // never whole in JS memory, only once in wasm memory.
    const blob = typeof Blob !== 'undefined' && files.safetensors instanceof Blob ? files.safetensors : null;
    const parts = {
      config: toBytes(files.config, 'config'),
      safetensors: blob || toBytes(files.safetensors, 'safetensors'),
      vocab: toBytes(files.vocab, 'vocab'),
      merges: toBytes(files.merges, 'merges'),
      tokenizerJson: toBytes(files.tokenizerJson, 'tokenizerJson'),
    };
    if (!parts.config) throw new GlassboxError('arg', 'loadModel: config (config.json bytes) is required');
    if (!parts.safetensors) throw new GlassboxError('arg', 'loadModel: safetensors (model.safetensors bytes) is required');
    if (!parts.tokenizerJson && !parts.vocab !== !parts.merges) {
      throw new GlassboxError('arg', `loadModel: ${parts.vocab ? 'vocab without merges' : 'merges without vocab'}: give both (vocab.json, merges.txt), or tokenizerJson (tokenizer.json), or neither for a model run on token ids`);
    }
    await this._revive();
    const report = opts.onProgress || (() => {});
    const total = blob ? blob.size : parts.safetensors.length;
    const load = this._beginStream(parts, total);
    try {
      report({ phase: 'copy', fraction: 0, loaded: 0, total });
      let at = 0;
      const put = (bytes) => {
        load.write(bytes);
        at += bytes.length;
        report({ phase: 'copy', fraction: total ? Math.min(1, at / total) : 1, loaded: at, total });
      };
      if (blob) {
        await pump(blob.stream(), put, (e) => `${blob.name || 'model.safetensors'}: cannot read the file: ${e.message}`);
      } else {
        for (let i = 0; i < total; i += PROGRESS_STEP) put(parts.safetensors.subarray(i, i + PROGRESS_STEP));
      }
      if (!total) report({ phase: 'copy', fraction: 1, loaded: 0, total });
      await load.finish(report);
    } finally {
      load.cleanup();
    }
  }

  /* A streaming load (gb_load_begin/write/finish): model.safetensors goes in
   * piece by piece through one staging buffer, and the engine places or packs
   * each piece once, so a load costs one pass over the weights and one copy of
   * them in wasm memory. The small files are copied in whole. */
  _beginStream(parts, total) {
    const len = (k) => (parts[k] ? parts[k].length : 0);
    const tj = !!parts.tokenizerJson;
    if (!(total >= 0 && total <= 0xffffffff)) { // size_t is 32 bits in wasm: a larger size would wrap
      throw new GlassboxError('oom', `model.safetensors is ${(total / 1e9).toFixed(2)} GB; this WebAssembly engine can address 4 GB in all`);
    }
    const ptrs = {};
    let stage = 0;
    const cleanup = () => {
      if (!this._dead) this._call('gb_load_cancel', this._ctx); // no-op once finished
      this._free(stage);
      for (const p of Object.values(ptrs)) this._free(p);
    };
    try {
      for (const k of ['config', 'vocab', 'merges', 'tokenizerJson']) if (parts[k]) ptrs[k] = this._copyIn(parts[k]);
      stage = this._malloc(STAGE_BYTES);
      this._check('gb_load_begin', this._ctx, ptrs.config, len('config'), total);
    } catch (e) { cleanup(); throw e; }
    return {
      write: (bytes) => {
        for (let at = 0; at < bytes.length; at += STAGE_BYTES) {
          const piece = bytes.subarray(at, at + STAGE_BYTES);
          this.HEAPU8.set(piece, stage);
          this._check('gb_load_write', this._ctx, stage, piece.length);
        }
      },
      finish: async (report) => {
        report({ phase: 'parse', fraction: 0 });
        await yieldToEventLoop(); // let a page paint "parsing" before the synchronous call
        this._check('gb_load_finish', this._ctx,
          tj ? 0 : ptrs.vocab || 0, tj ? 0 : len('vocab'),
          tj ? 0 : ptrs.merges || 0, tj ? 0 : len('merges'),
          ptrs.tokenizerJson || 0, len('tokenizerJson'));
        this._config = this._readConfig();
        this._hasTokenizer = this._call('gb_has_tokenizer', this._ctx) === 1;
        this._hookCache = null;
        report({ phase: 'parse', fraction: 1 });
      },
      cleanup,
    };
  }

  /**
   * Fetches a model directory (config.json, model.safetensors, and vocab.json +
   * merges.txt or tokenizer.json, or no tokenizer files) and loads it. model.safetensors is streamed
   * straight into wasm memory with 'download' progress from Content-Length.
   * @param {string|URL} baseUrl  directory URL (http(s) or file:); a trailing / is added
   * @param {{onProgress?: Function}} [opts]
   */
  async loadModelFromUrl(baseUrl, opts = {}) {
    const base = resolveUrl(String(baseUrl).endsWith('/') ? baseUrl : `${baseUrl}/`);
    const report = opts.onProgress || (() => {});
    const at = (name) => new URL(name, base);
    const config = await readUrl(at('config.json'), 'config.json');
    let vocab = await readUrl(at('vocab.json'), 'vocab.json', true);
    let merges = await readUrl(at('merges.txt'), 'merges.txt', true);
    let tokenizerJson = null;
    if (!vocab || !merges) {
      tokenizerJson = await readUrl(at('tokenizer.json'), 'tokenizer.json', true);
      if (!tokenizerJson && (vocab || merges)) {
        throw new GlassboxError('io', `${base.href}: ${vocab ? 'vocab.json without merges.txt' : 'merges.txt without vocab.json'}: give both, or tokenizer.json, or neither for a model run on token ids`);
      }
      vocab = merges = null; // no tokenizer files: the model runs on token ids
    }
    const stUrl = at('model.safetensors');
    if (stUrl.protocol === 'file:') {
      report({ phase: 'download', fraction: 0, loaded: 0, total: 0 });
      const safetensors = await readUrl(stUrl, 'model.safetensors');
      report({ phase: 'download', fraction: 1, loaded: safetensors.length, total: safetensors.length });
      return this.loadModel({ config, safetensors, vocab, merges, tokenizerJson }, opts);
    }
    await this._revive();
    const res = await fetchOk(stUrl, 'model.safetensors');
    const total = Number(res.headers.get('content-length'));
    const encoded = (res.headers.get('content-encoding') || 'identity') !== 'identity';
    const parts = { config, vocab, merges, tokenizerJson };
    // Content-Length counts compressed bytes when the body is encoded: then the
    // size is known only at the end, and the body is read whole first.
    if (!(total > 0) || encoded) {
      const safetensors = await readBody(res, stUrl, report);
      return this.loadModel({ ...parts, safetensors }, opts);
    }
    let load;
    try {
      load = this._beginStream(parts, total);
    } catch (e) {
      res.body?.cancel().catch(() => {}); // refused before reading: free the connection
      throw e;
    }
    let got = 0;
    try {
      report({ phase: 'download', fraction: 0, loaded: 0, total });
      await pump(res.body, (value) => {
        load.write(value);
        got += value.length;
        report({ phase: 'download', fraction: Math.min(1, got / total), loaded: got, total });
      }, downloadFailed(stUrl));
      report({ phase: 'copy', fraction: 1, loaded: got, total });
      await load.finish(report);
    } finally {
      load.cleanup();
    }
  }

  _readConfig() {
    const s = this._scratch;
    this._check('gbw_config', this._ctx, s, s + 28);
    const i = this.HEAP32.subarray(s >>> 2, (s >>> 2) + 7);
    return Object.freeze({
      n_layer: i[0], n_head: i[1], n_embd: i[2], n_positions: i[3], vocab_size: i[4],
      d_head: i[5], d_mlp: i[6], layer_norm_epsilon: this.HEAPF32[(s + 28) >>> 2],
    });
  }

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
      const [kind, hook, layer, head, pos] = this.HEAP32.slice(s >>> 2, (s >>> 2) + 5);
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

  // ---------------------------------------------------------------- lifecycle

  /** Bytes of wasm linear memory now (grows on demand up to 4 GB). */
  get memoryBytes() { return this._memory.buffer.byteLength; }

  /** Whether an earlier trap killed this instance. */
  get dead() { return !!this._dead; }

  /** Frees the engine; the object is unusable afterwards. */
  destroy() {
    if (this._ctx && !this._dead) {
      this._free(this._scratch);
      this._call('gb_destroy', this._ctx);
    }
    this._ctx = 0;
    this._config = null;
    this._destroyed = true;
    this._dead = new GlassboxRuntimeError('destroy() was called');
  }
}

export default Glassbox;
