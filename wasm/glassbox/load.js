/* load.js — loading a model into the engine: bytes, a File/Blob, or a URL,
 * always as one stream (gb_load_begin / gb_load_write / gb_load_finish): the
 * small files are copied in whole, model.safetensors goes in piece by piece
 * through one staging buffer, and the engine places each weight once, so a
 * model is held once, in wasm memory, never whole in JS. The Glassbox
 * methods loadModel and loadModelFromUrl call these with the instance. */
import { CONFIG_FIELDS } from './abi.js';
import { downloadFailed, fetchOk, pump, readBody, readUrl, resolveUrl, toBytes } from './bytes.js';
import { GlassboxError } from './errors.js';

const yieldToEventLoop = () => new Promise((r) => setTimeout(r, 0));
/* Streaming loads copy model.safetensors in through one buffer of this size:
 * small enough to stay in cache between the copy and the engine's packing. */
const STAGE_BYTES = 256 << 10;
/* ... and report progress this often. */
const PROGRESS_STEP = 16 << 20;

/* Glassbox.loadModel (documented there). */
export async function loadModel(gb, files, opts = {}) {
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
  await gb._revive();
  const report = opts.onProgress || (() => {});
  const total = blob ? blob.size : parts.safetensors.length;
  const load = beginStream(gb, parts, total);
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
function beginStream(gb, parts, total) {
  const len = (k) => (parts[k] ? parts[k].length : 0);
  const tj = !!parts.tokenizerJson;
  if (!(total >= 0 && total <= 0xffffffff)) { // size_t is 32 bits in wasm: a larger size would wrap
    throw new GlassboxError('oom', `model.safetensors is ${(total / 1e9).toFixed(2)} GB; gb WebAssembly engine can address 4 GB in all`);
  }
  const ptrs = {};
  let stage = 0;
  const cleanup = () => {
    if (!gb._dead) gb._call('gb_load_cancel', gb._ctx); // no-op once finished
    gb._free(stage);
    for (const p of Object.values(ptrs)) gb._free(p);
  };
  try {
    for (const k of ['config', 'vocab', 'merges', 'tokenizerJson']) if (parts[k]) ptrs[k] = gb._copyIn(parts[k]);
    stage = gb._malloc(STAGE_BYTES);
    gb._check('gb_load_begin', gb._ctx, ptrs.config, len('config'), total);
  } catch (e) { cleanup(); throw e; }
  return {
    write: (bytes) => {
      for (let at = 0; at < bytes.length; at += STAGE_BYTES) {
        const piece = bytes.subarray(at, at + STAGE_BYTES);
        gb.HEAPU8.set(piece, stage);
        gb._check('gb_load_write', gb._ctx, stage, piece.length);
      }
    },
    finish: async (report) => {
      report({ phase: 'parse', fraction: 0 });
      await yieldToEventLoop(); // let a page paint "parsing" before the synchronous call
      gb._check('gb_load_finish', gb._ctx,
        tj ? 0 : ptrs.vocab || 0, tj ? 0 : len('vocab'),
        tj ? 0 : ptrs.merges || 0, tj ? 0 : len('merges'),
        ptrs.tokenizerJson || 0, len('tokenizerJson'));
      gb._config = readConfig(gb);
      gb._hasTokenizer = gb._call('gb_has_tokenizer', gb._ctx) === 1;
      gb._hookCache = null;
      report({ phase: 'parse', fraction: 1 });
    },
    cleanup,
  };
}

/* Glassbox.loadModelFromUrl (documented there). */
export async function loadModelFromUrl(gb, baseUrl, opts = {}) {
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
    return loadModel(gb, { config, safetensors, vocab, merges, tokenizerJson }, opts);
  }
  await gb._revive();
  const res = await fetchOk(stUrl, 'model.safetensors');
  const total = Number(res.headers.get('content-length'));
  const encoded = (res.headers.get('content-encoding') || 'identity') !== 'identity';
  const parts = { config, vocab, merges, tokenizerJson };
  // Content-Length counts compressed bytes when the body is encoded: then the
  // size is known only at the end, and the body is read whole first.
  if (!(total > 0) || encoded) {
    const safetensors = await readBody(res, stUrl, report);
    return loadModel(gb, { ...parts, safetensors }, opts);
  }
  let load;
  try {
    load = beginStream(gb, parts, total);
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

/* gbw_config: CONFIG_FIELDS as int32s, then layer_norm_epsilon as a float. */
function readConfig(gb) {
  const s = gb._scratch, n = CONFIG_FIELDS.length;
  gb._check('gbw_config', gb._ctx, s, s + 4 * n);
  const i = gb.HEAP32.subarray(s >>> 2, (s >>> 2) + n);
  const c = Object.fromEntries(CONFIG_FIELDS.map((k, j) => [k, i[j]]));
  return Object.freeze({ ...c, layer_norm_epsilon: gb.HEAPF32[(s >>> 2) + n] });
}
