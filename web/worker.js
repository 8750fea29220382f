/* worker.js — the Glassbox engine in a Web Worker, so the page never freezes.
 *
 * Protocol (one message shape each way, as wllama's worker):
 *   page -> worker   {verb: string, args: object, id: number}
 *   worker -> page   {id, result}            the verb finished
 *                    {id, error: {name, code, message}}   it failed (GlassboxError keeps C's text)
 *                    {id, progress: {phase, fraction, loaded, total}}   while loading
 * Requests run one at a time, in the order they arrive. ArrayBuffers inside a
 * result are transferred, not copied; loadFiles takes File objects, whose
 * data the structured clone shares without a copy: the small ones are read
 * here, model.safetensors is streamed into the engine by loadModel.
 *
 * Verbs (args -> result). Every question about the run carries `state`, the
 * run's description (state.js runDesc: prompt, gen, interventions, seed): the
 * Session first makes the engine's run that one (changing only what differs),
 * then answers, so an answer is a function of the state it was asked for,
 * whatever came before it.
 *   loadUrl   {url}                       -> {config, name}    fetch a model directory
 *   loadFiles {files: {config, safetensors, vocab?, merges?, tokenizerJson?}, name}
 *                                         -> {config, name}    Files (read here) or bytes
 *   tokenize  {text}                      -> {ids, pieces, spans}
 *   run       {state}                     -> run              the run's tokens
 *   generate  {state, n, sampling}        -> {gen, run}       append n sampled tokens (KV cache)
 *   step      {state, stage, layer, view} -> payload          engine.js step (view: the head the stage view shows)
 *   patternZoom {state, layer, head, r0, c0, rows, cols} -> Float32Array   a zoom window of one head's pattern
 *   predict   {state, sampling, k}        -> prediction       engine.js predict
 *   compare   {state, sampling, k}        -> {clean, run}     engine.js compare
 *   lens      {state, maxPos}             -> grid             engine.js lens
 *   lesson    {state, lesson, grids, items, focus} -> measurement   engine.js lessonMeasure
 *   memory    {}                          -> bytes of wasm memory
 * Interpretability (interp-engine.js; `job` verbs report {phase, fraction, done, total}
 * progress and stop at their next chunk on {verb: 'cancel', args: {job}}, which
 * is answered at once, outside the queue):
 *   token      {text}                                  -> the id of the one token text names (#123 or text)
 *   patchSetup {state, src, target, distractor}        -> tokens, target, distractor
 *   patchGrid  {state, src, hook, target, distractor}  -> setup + {grid}   job 'patch'
 *   dla        {state, target, distractor}             -> parts, bySource
 *   heads      {state, seed, length}                   -> head scores, outlier dims
 *   sparsity   {state, layer}                          -> shares, top neurons
 *   reagent    {state, seed, ratio, maxSteps}          -> scores              job 'reagent'
 * config carries hasTokenizer (false: a checkpoint of config.json + model.safetensors alone).
 */
import { Glassbox } from './glassbox.js';
import * as tools from './interp-engine.js';

let gb = null;
let session = null;
let queue = Promise.resolve();
const jobs = new Map(); // job name -> AbortController of the running job

/** Runs fn(signal, onProgress) as job name: a newer job of that name, or 'cancel', aborts it. */
async function job(name, progress, fn) {
  jobs.get(name)?.abort();
  const ctl = new AbortController();
  jobs.set(name, ctl);
  try {
    return await fn(ctl.signal, (done, total) => progress({ phase: name, fraction: total ? done / total : 0, done, total }));
  } finally { if (jobs.get(name) === ctl) jobs.delete(name); }
}
const withTok = (g) => ({ ...g.config, hasTokenizer: g.hasTokenizer });
/** How many threads the engine runs on, and why fewer than the cores when so (the page shows both). */
const threadsOf = (g) => ({ count: g.threads, note: g.threadsNote || null });

async function engine() {
  gb ??= await Glassbox.create({ wasm: new URL('./glassbox.wasm', import.meta.url) });
  return gb;
}

function needSession() {
  if (!session) throw Object.assign(new Error('no model is loaded yet'), { code: 'state' });
  return session;
}

/** The session with its run made the described one. */
function synced(state) {
  const s = needSession();
  s.sync(state);
  return s;
}

const verbs = {
  async loadUrl({ url }, progress) {
    const g = await engine();
    await g.loadModelFromUrl(new URL(url, self.location.href), { onProgress: progress });
    session = new tools.InterpSession(g);
    return { config: withTok(g), name: url, threads: threadsOf(g) };
  },
  async loadFiles({ files, name }, progress) {
    const g = await engine();
    // The small files are read here, off the page's thread; model.safetensors
    // stays a File, which loadModel streams into the engine with progress (the
    // weights are never whole in this worker's JS memory, only in wasm memory).
    const bytes = {};
    for (const [k, v] of Object.entries(files)) {
      if (!(v instanceof Blob) || k === 'safetensors') { bytes[k] = v; continue; }
      try { bytes[k] = new Uint8Array(await v.arrayBuffer()); } catch (e) { throw Object.assign(new Error(`${v.name || k}: cannot read the file: ${e.message}`), { code: 'io' }); }
    }
    await g.loadModel(bytes, { onProgress: progress });
    session = new tools.InterpSession(g);
    return { config: withTok(g), name, threads: threadsOf(g) };
  },
  tokenize: ({ text }) => needSession().tokenize(text),
  run: ({ state }) => synced(state).runInfo(),
  generate: ({ state, ...a }) => synced(state).generate(a),
  step: ({ state, stage, layer, view }) => synced(state).step(stage, layer, view),
  patternZoom: ({ state, ...a }) => synced(state).patternZoom(a),
  predict: ({ state, ...a }) => synced(state).predict(a),
  compare: ({ state, ...a }) => synced(state).compare(a),
  lens: ({ state, ...a }) => synced(state).lens(a),
  lesson: ({ state, ...a }) => synced(state).lessonMeasure(a),
  memory: () => (gb ? gb.memoryBytes : 0),
  token: ({ text }) => tools.tokenOf(needSession(), text),
  patchSetup: ({ state, ...a }) => tools.patchSetup(synced(state), a),
  patchGrid: ({ state, ...a }, progress) => job('patch', progress, (signal, onProgress) => tools.patchGrid(synced(state), a, { signal, onProgress })),
  dla: ({ state, ...a }) => tools.dla(synced(state), a),
  heads: ({ state, ...a }) => tools.heads(synced(state), a),
  sparsity: ({ state, ...a }) => tools.sparsity(synced(state), a),
  reagent: ({ state, ...a }, progress) => job('reagent', progress, (signal, onProgress) => tools.reagent(synced(state), a, { signal, onProgress })),
};

/* Every ArrayBuffer reachable in a result (typed arrays own fresh buffers). */
function transferables(x, out = new Set(), depth = 0) {
  if (!x || typeof x !== 'object' || depth > 4) return out;
  if (ArrayBuffer.isView(x)) { if (x.byteLength === x.buffer.byteLength) out.add(x.buffer); return out; }
  for (const v of Array.isArray(x) ? x : Object.values(x)) transferables(v, out, depth + 1);
  return out;
}

async function handle({ verb, args, id }) {
  const fn = verbs[verb];
  try {
    if (!fn) throw Object.assign(new Error(`unknown verb "${verb}"`), { code: 'arg' });
    let last = 0;
    const progress = (p) => {
      const now = Date.now();
      if (now - last < 50 && p.fraction < 1 && p.fraction > 0) return; // at most 20 updates a second
      last = now;
      self.postMessage({ id, progress: p });
    };
    const result = await fn(args || {}, progress);
    self.postMessage({ id, result }, [...transferables(result)]);
  } catch (e) {
    self.postMessage({ id, error: { name: e?.name || 'Error', code: e?.code || null, message: e?.message || String(e) } });
  }
}

self.onmessage = (ev) => {
  // A cancel must overtake the queue: the job it stops is what the queue waits on.
  if (ev.data && ev.data.verb === 'cancel') {
    jobs.get(ev.data.args?.job)?.abort(Object.assign(new Error('cancelled'), { name: 'AbortError', code: 'cancelled' }));
    self.postMessage({ id: ev.data.id, result: { cancelled: true } });
    return;
  }
  queue = queue.then(() => handle(ev.data));
};
