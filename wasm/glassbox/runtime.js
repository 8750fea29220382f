/* runtime.js — the engine's runtime under the public class: compiling
 * glassbox.wasm, the imports a STANDALONE_WASM module needs, instantiating it
 * (again, after a trap), the memory views, and every call into it (traps
 * become GlassboxRuntimeError and kill the instance; a non-zero gb_status
 * becomes GlassboxError with the C message), with the small helpers that move
 * strings, bytes and ids across. The Glassbox class (engine.js) extends it. */
import { ABI_VERSION, STATUS_CODES } from './abi.js';
import { fetchOk, readUrl, resolveUrl, toBytes } from './bytes.js';
import { GlassboxError, GlassboxRuntimeError } from './errors.js';

const encoder = new TextEncoder();
const utf8 = new TextDecoder('utf-8');

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

export async function compileWasm(src) {
  if (src instanceof WebAssembly.Module) return src;
  if (src == null) src = new URL('../glassbox.wasm', import.meta.url); // next to glassbox.js
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

/** ids as an Int32Array, checking each is an int32. */
export function toIds(ids) {
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

export class Runtime {
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

  // ---------------------------------------------------------------- memory and calls

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
