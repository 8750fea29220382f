// glassbox_worker.js — bench/run.js's Glassbox jobs, in their own process:
//   load (cold, warm, and the floor of a staged copy), job 1 (64-token prompt
//   -> next token: the last position's logits), job 2 (next token with the KV
//   cache), sampling alone, generation per token (forward + sampling), and
//   the 1,024-token head view (prefill, then clicks on other heads: the
//   engine's recomputation and downsampling, wasm memory and process RSS).
// `threads` picks the engine's thread count (glassbox-mt.wasm beside the
// module for more than one). mode 'job1' runs job 1 only (the scalar build).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import { ROOT, MODEL, QUICK, REPS, WARM, LOAD_REPS, T, median, now, promptIds, saveF32, timeIt } from './common.js';

const SAMPLE = { temperature: 0.8, topK: 40, topP: 0.95 };
const CLICK_T = 1024;
// The head views a click asks for: an overview the size of a 256 px canvas
// (max per cell, so a sharp head stays visible) and a 128 x 128 zoom.
const VIEW = { overview: { width: 256, height: 256, mode: 'max' }, zoom: { rows: [512, 640], keys: [448, 576] } };
// Activations may take what is left of a 1.5 GB tab after the weights and the
// runtime (the model's wasm memory after load, and ~150 MB for the page).
const TAB_BYTES = 1.5e9, PAGE_BYTES = 150e6;

export async function workerGlassbox(wasmPath, threads = 1, mode = '') {
  const { Glassbox } = await import(pathToFileURL(path.join(ROOT, 'wasm/glassbox.js')));
  const only1 = mode === 'job1';
  const ids = promptIds();
  const [ids64, next] = [ids.slice(0, T), ids[T]];
  const wasmBytes = readFileSync(wasmPath);
  const mtPath = path.join(path.dirname(wasmPath), 'glassbox-mt.wasm');
  const files = {
    config: readFileSync(path.join(MODEL, 'config.json')),
    safetensors: readFileSync(path.join(MODEL, 'model.safetensors')),
    vocab: readFileSync(path.join(MODEL, 'vocab.json')),
    merges: readFileSync(path.join(MODEL, 'merges.txt')),
  };
  const create = () => Glassbox.create({ wasm: wasmBytes, wasmThreads: threads > 1 ? readFileSync(mtPath) : undefined, threads });
  const r = { wasm: path.relative(ROOT, wasmPath), wasm_bytes: wasmBytes.length, threads };
  // load to ready, from bytes in memory. Cold = compile + instantiate (+ start the threads) + load.
  let t0 = now();
  const gb = await create();
  await gb.loadModel(files);
  r.load_cold_ms = now() - t0;
  r.threads_used = gb.threads;
  if (gb.threads !== threads) throw new Error(`asked for ${threads} threads, got ${gb.threads}: ${gb.threadsNote}`);
  const loads = [], copies = [], engines = [];
  for (let i = 1; i < LOAD_REPS; i++) {
    const at = {};
    const onProgress = (p) => { const k = `${p.phase}${p.fraction}`; if (!(k in at)) at[k] = now(); };
    t0 = now();
    await gb.loadModel(files, { onProgress });
    loads.push(now() - t0);
    copies.push(at.copy1 - at.copy0);
    engines.push(at.parse1 - at.parse0);
  }
  r.load_ms = loads.length ? median(loads) : r.load_cold_ms;
  if (loads.length) r.load_phases = { copy_ms: median(copies), engine_ms: median(engines) };
  // The floor under any load from JS bytes: only copying the file into wasm
  // memory through the same 256 KB staging, nothing placed or parsed.
  const stage = new Uint8Array(new WebAssembly.Memory({ initial: 4 }).buffer);
  const plain = [];
  for (let i = 0; i < 5; i++) {
    t0 = now();
    for (let at = 0; at < files.safetensors.length; at += stage.length) stage.set(files.safetensors.subarray(at, at + stage.length));
    plain.push(now() - t0);
  }
  r.staged_copy_ms = median(plain);
  const V = gb.config.vocab_size;
  // job 1: 64-token prompt -> the next token's logits (greedy pick: the
  // sampler reads only the last position, which is all the hot path computes)
  let last;
  // The token only: each stage is still computed in C over the whole vocabulary, but JS copies
  // none of the five [vocab] arrays (the page's generate does the same; the peers return a token too).
  const NO_ARRAYS = { arrays: false };
  const job1 = async () => {
    gb.setTokens(ids64);
    gb.runAll();
    gb.sample({ temperature: 0 }, 0, NO_ARRAYS);
  };
  const reps = only1 ? Math.max(1, REPS >> 2) : REPS, warm = only1 ? 1 : WARM;
  r.job1 = await timeIt(job1, reps, warm);
  // every position's logits, computed now that they are read
  saveF32(`logits_${only1 ? 'gb_scalar' : `gb${threads}`}_64.f32`, gb.activation('logits').data.slice());
  r.wasm_memory_bytes = gb.memoryBytes;
  r.rss_after_job1_bytes = process.memoryUsage().rss;
  if (only1) return r;
  // job 2: the next token at position 64 with the KV cache
  const ts = [];
  for (let i = 0; i < WARM + REPS; i++) {
    gb.setTokens(ids64);
    gb.runAll();
    t0 = now();
    gb.appendTokens([next]);
    gb.runAll();
    gb.sample({ temperature: 0 }, 0, NO_ARRAYS);
    if (i >= WARM) ts.push(now() - t0);
  }
  last = gb.sample({ temperature: 0 }).logits; // the last run's, for the agreement checks (off the clock)
  r.job2_kv = { median_ms: median(ts), min_ms: Math.min(...ts), max_ms: Math.max(...ts), reps: REPS };
  saveF32(`logits_gb${threads}_next.f32`, last);
  // sampling alone: one draw with temperature, top-k and top-p over the
  // vocabulary (the distribution's every stage is computed for the page)
  r.sample = await timeIt(() => { gb.sample(SAMPLE, 0, NO_ARRAYS); }, REPS * 4, WARM * 4);
  // generation: per generated token, forward (KV cache) + sampling, from the 64-token prompt
  gb.setTokens(ids64);
  gb.runAll();
  gb.seed(1);
  const gen = [];
  for (let i = 0; i < WARM + (QUICK ? 8 : 24); i++) {
    t0 = now();
    const step = gb.sample(SAMPLE, 0, NO_ARRAYS);
    gb.appendTokens([step.token]);
    gb.runAll();
    if (i >= WARM) gen.push(now() - t0);
  }
  r.generate = { median_ms: median(gen), min_ms: Math.min(...gen), max_ms: Math.max(...gen), tokens: gen.length };
  // 1,024 tokens: the store the budget allows, the prefill, then clicks on other heads
  const ids1024 = Array.from({ length: CLICK_T }, (_, i) => ids[i % ids.length]);
  const budget = TAB_BYTES - gb.memoryBytes - PAGE_BYTES;
  const store = gb.chooseStore(CLICK_T, budget);
  gb.setKeepAll(store.keepAll);
  t0 = now();
  gb.setTokens(ids1024);
  gb.runAll();
  const prefill = now() - t0;
  const clicks = [];
  const heads = [[0, 1], [5, 3], [11, 7], [3, 0], [8, 11], [6, 6], [2, 9], [10, 4], [1, 5]];
  for (const [l, h] of heads) {
    t0 = now();
    const v = gb.headPatternView(l, h, VIEW);
    clicks.push(now() - t0);
    if (v.overview.length !== 256 * 256) throw new Error('head view: wrong overview size');
  }
  r.click1024 = {
    keep_all: store.keepAll, store_bytes: store.bytes, keep_all_bytes: gb.storeBytes(CLICK_T, true), budget_bytes: budget,
    prefill_ms: prefill, click_median_ms: median(clicks.slice(1)), click_max_ms: Math.max(...clicks.slice(1)),
    first_click_ms: clicks[0], wasm_memory_bytes: gb.memoryBytes, rss_bytes: process.memoryUsage().rss,
  };
  gb.destroy();
  r.max_rss_bytes = process.resourceUsage().maxRSS * 1024;
  return r;
}
