// run.js — Glassbox (WASM, Node and headless Chromium) against onnxruntime-web
// (WASM backend, SIMD, Node) and llama.cpp in WASM (wllama, headless Chromium)
// on the same GPT-2-small-shaped checkpoint, each at 1 and 2 threads.
//
//   node bench/run.js            everything below, then bench/results/REPORT.md,
//                                results.json and plot.svg
//   node bench/run.js --quick    fewer repetitions (a smoke run; not for the report)
//
// Needs: build/wasm/glassbox.wasm and build/rel/libglassbox.a (./build.sh bench
// builds them, and the scalar/kernel variants), bench/node_modules
// (npm ci --prefix bench: onnxruntime-web and @wllama/wllama) and the
// checkpoint (bench/make_model.py, then bench/make_gguf.py for wllama;
// generated here when missing, with /usr/bin/python3 + python3-onnx + python3-numpy).
//
// Each runtime runs in its own child process (`node bench/run.js worker ...`,
// bench/browser.js, bench/wllama.js), one after the other, so neither disturbs
// the other's timings or memory. Every timing is the median of several
// repetitions after warm-up runs (V8 optimises a wasm function only after it
// has run). Logits are written to bench/results/tmp/ and compared here:
// Glassbox and onnxruntime-web must agree within 1e-4 relative
// (max |a - b| / max |b|), wllama's top next-token entries with Glassbox's
// logits within 1e-3 (llama.cpp's GELU reads an F16 table), or the run fails
// and wllama's times are withheld from the report.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import {
  HERE, ROOT, RESULTS, TMP, MODEL, QUICK, REPS, WARM, LOAD_REPS, T, TOL, WLLAMA_TOL, median, now, mb, promptIds, saveF32, loadF32, timeIt,
} from './common.js';
import { workerGlassbox } from './glassbox_worker.js';
import { report, plot } from './report.js';

// ------------------------------------------------------------------ onnxruntime-web

async function workerOrt(threads = 1) {
  const ort = await import(pathToFileURL(path.join(HERE, 'node_modules/onnxruntime-web/dist/ort.node.min.mjs')));
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.simd = true;
  ort.env.wasm.proxy = false;
  const ids = promptIds();
  const bytes = readFileSync(path.join(MODEL, 'model.onnx'));
  const opts = { executionProviders: ['wasm'], graphOptimizationLevel: 'all' };
  const r = { threads, version: ort.env.versions?.web ?? JSON.parse(readFileSync(path.join(HERE, 'node_modules/onnxruntime-web/package.json'))).version };
  // job 3: InferenceSession from bytes in memory. The first includes ORT's own wasm start-up.
  let t0 = now();
  let s = await ort.InferenceSession.create(bytes, opts);
  r.load_cold_ms = now() - t0;
  const loads = [];
  for (let i = 1; i < LOAD_REPS; i++) {
    await s.release();
    t0 = now();
    s = await ort.InferenceSession.create(bytes, opts);
    loads.push(now() - t0);
  }
  r.load_ms = loads.length ? median(loads) : r.load_cold_ms;
  const feeds = (tok, past = 0) => {
    const n = tok.length, S = past + n;
    const mask = new Float32Array(n * S);
    for (let i = 0; i < n; i++) for (let j = 0; j < S; j++) mask[i * S + j] = j <= past + i ? 0 : -1e9;
    return {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(tok.map(BigInt)), [1, n]),
      position_ids: new ort.Tensor('int64', BigInt64Array.from(tok.map((_, i) => BigInt(past + i))), [1, n]),
      mask: new ort.Tensor('float32', mask, [n, S]),
    };
  };
  const V = 50257;
  // job 1
  let out;
  const f64 = feeds(ids.slice(0, T));
  r.job1 = await timeIt(async () => { out = (await s.run(f64)).logits; });
  saveF32(`logits_ort${threads}_64.f32`, out.data);
  r.rss_after_job1_bytes = process.memoryUsage().rss;
  // job 2a: next token by full recompute of 65 tokens (what Transformer Explainer does)
  const f65 = feeds(ids.slice(0, T + 1));
  r.job2_full = await timeIt(async () => { out = (await s.run(f65)).logits; });
  saveF32(`logits_ort${threads}_next_full.f32`, out.data.slice(T * V, (T + 1) * V));
  await s.release();
  // job 2b: next token as one position over a past-KV graph (model_kv.onnx), past = the 64 prompt positions
  const kvBytes = readFileSync(path.join(MODEL, 'model_kv.onnx'));
  const sk = await ort.InferenceSession.create(kvBytes, opts);
  const L = 12, H = 12, D = 64;
  const empty = {};
  for (let l = 0; l < L; l++) for (const n of ['key', 'value']) empty[`past_${n}_${l}`] = new ort.Tensor('float32', new Float32Array(0), [1, H, 0, D]);
  const pre = await sk.run({ ...feeds(ids.slice(0, T)), ...empty });
  const past = {};
  for (let l = 0; l < L; l++) for (const n of ['key', 'value']) past[`past_${n}_${l}`] = pre[`present_${n}_${l}`];
  const f1 = { ...feeds([ids[T]], T), ...past };
  r.job2_kv = await timeIt(async () => { out = (await sk.run(f1)).logits; });
  saveF32(`logits_ort${threads}_next_kv.f32`, out.data);
  saveF32(`logits_ort${threads}_kv_prefill_64.f32`, pre.logits.data);
  await sk.release();
  r.max_rss_bytes = process.resourceUsage().maxRSS * 1024;
  return r;
}

// ------------------------------------------------------------------ orchestration

function sh(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'inherit'], ...opts });
}

function lastJson(text) {
  const line = text.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (!line) throw new Error(`no JSON result in:\n${text}`);
  return JSON.parse(line);
}

function worker(...args) {
  const p = spawnSync(process.execPath, [fileURLToPath(import.meta.url), 'worker', ...args, ...(QUICK ? ['--quick'] : [])],
    { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'inherit'] });
  if (p.status !== 0) throw new Error(`worker ${args.join(' ')} failed (status ${p.status}):\n${p.stdout}`);
  return lastJson(p.stdout);
}

function ensureModel() {
  const need = ['config.json', 'model.safetensors', 'vocab.json', 'merges.txt', 'model.onnx', 'model_kv.onnx'];
  if (need.every((f) => existsSync(path.join(MODEL, f)))) return;
  console.log('== generating the checkpoint (bench/make_model.py)');
  const py = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const ok = spawnSync(py, ['-c', 'import onnx, numpy'], { stdio: 'ignore' }).status === 0;
  if (!ok) {
    if (process.getuid && process.getuid() === 0) {
      sh('apt-get', ['update', '-q'], { stdio: 'inherit' });
      sh('apt-get', ['install', '-y', '-q', 'python3-onnx', 'python3-numpy'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    } else {
      throw new Error('bench needs python3-onnx and python3-numpy: run  sudo apt-get install -y python3-onnx python3-numpy');
    }
  }
  sh(py, [path.join(HERE, 'make_model.py'), MODEL], { stdio: 'inherit' });
}

/* model.gguf for wllama: the same weights as model.safetensors, rewritten
 * whenever the safetensors file is newer. */
function ensureGguf() {
  const gguf = path.join(MODEL, 'model.gguf');
  if (existsSync(gguf) && statSync(gguf).mtimeMs >= statSync(path.join(MODEL, 'model.safetensors')).mtimeMs) return;
  console.log('== writing the checkpoint as GGUF (bench/make_gguf.py)');
  sh(existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3', [path.join(HERE, 'make_gguf.py'), MODEL], { stdio: 'inherit' });
}

/* wllama's next-token top entries (log-softmax with ids) against Glassbox's
 * logits z for the same position: llama.cpp gives log p_i = z_i - logsumexp,
 * so its logits are known up to one constant c (softmax ignores it), taken as
 * the mean of (log p_i - z_i) over the listed ids. Returns max over the listed
 * ids of |log p_i - c - z_i| / max |z|, or, if larger, how far above the
 * lowest listed logit a token Glassbox ranks higher is left out of the list
 * (the list must be the top of the same distribution). */
function topAgreement(top, z) {
  let m = 0;
  for (let i = 0; i < z.length; i++) m = Math.max(m, Math.abs(z[i]));
  const c = top.reduce((a, e) => a + e.logprob - z[e.id], 0) / top.length;
  let d = 0, low = Infinity;
  for (const e of top) { d = Math.max(d, Math.abs(e.logprob - c - z[e.id])); low = Math.min(low, e.logprob - c); }
  const listed = new Set(top.map((e) => e.id));
  for (let i = 0; i < z.length; i++) if (!listed.has(i) && z[i] > low) d = Math.max(d, z[i] - low);
  return d / m;
}

/* The count of entries whose bits differ (threads must give the same bits: 0). */
function bitsDiffer(a, b) {
  if (a.length !== b.length) return a.length + b.length;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length), y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  let n = 0;
  for (let i = 0; i < x.length; i++) n += x[i] !== y[i];
  return n;
}

/* max |a - b| / max |b| */
function relDiff(a, b) {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let d = 0, m = 0;
  for (let i = 0; i < a.length; i++) { d = Math.max(d, Math.abs(a[i] - b[i])); m = Math.max(m, Math.abs(b[i])); }
  return d / m;
}

function machine() {
  const lscpu = (() => { try { return sh('lscpu', []); } catch { return ''; } })();
  const field = (k) => (lscpu.match(new RegExp(`^${k}:\\s*(.*)$`, 'm')) || [])[1] || '?';
  const emcc = (() => { try { return sh('emcc', ['--version']).split('\n')[0]; } catch { return '?'; } })();
  return {
    cpu: field('Model name'), cpus: field('CPU\\(s\\)'), threads_per_core: field('Thread\\(s\\) per core'),
    l2: field('L2 cache'), node: process.version, emcc, os: `${os.type()} ${os.release()}`,
    mem_gb: +(os.totalmem() / 2 ** 30).toFixed(1), date: new Date().toISOString(),
  };
}

async function main() {
  mkdirSync(TMP, { recursive: true });
  ensureModel();
  ensureGguf();
  const wasm = path.join(ROOT, 'build/wasm/glassbox.wasm');
  const scalarWasm = path.join(TMP, 'glassbox-scalar.wasm');
  const ortWasm = path.join(HERE, 'node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm');
  for (const f of [wasm, path.join(HERE, 'node_modules/onnxruntime-web/package.json'), path.join(HERE, 'node_modules/@wllama/wllama/package.json')]) {
    if (!existsSync(f)) throw new Error(`missing ${f}: run ./build.sh bench (builds, then npm ci --prefix bench)`);
  }
  const ids = promptIds();
  const res = { machine: machine(), quick: QUICK, reps: REPS, warmup: WARM, tokens: T, prompt_ids: ids };

  console.log('== kernels (WASM)');
  res.kernels_wasm = lastJson(sh('node', ['bench/kernels_bench.mjs', 'build/kernels_bench.wasm', QUICK ? '0.2' : '0.5']));
  console.log(JSON.stringify(res.kernels_wasm));
  console.log('== kernels (native)');
  res.kernels_native = lastJson(sh('build/kernels_bench', [QUICK ? '0.2' : '0.5']));
  console.log(JSON.stringify(res.kernels_native));

  // Each runtime at 1 and 2 threads, each in its own process, one after the other.
  for (const n of [1, 2]) {
    console.log(`== glassbox (wasm, SIMD, ${n} thread${n > 1 ? 's' : ''})`);
    res[`glassbox${n}`] = worker('glassbox', wasm, String(n));
    console.log(JSON.stringify(res[`glassbox${n}`]));
    console.log(`== onnxruntime-web (wasm, SIMD, ${n} thread${n > 1 ? 's' : ''})`);
    res[`ort${n}`] = worker('ort', String(n));
    res[`ort${n}`].wasm_bytes = statSync(ortWasm).size;
    console.log(JSON.stringify(res[`ort${n}`]));
  }
  console.log('== llama.cpp in WASM (wllama) in headless Chromium, 1 and 2 threads');
  res.wllama = lastJson(sh('node', ['bench/wllama.js', ...(QUICK ? ['--quick'] : [])]));
  console.log(JSON.stringify(res.wllama));
  console.log('== glassbox in headless Chromium (module worker, 1 and 2 threads; first view of the explainer)');
  res.browser = lastJson(sh('node', ['bench/browser.js', ...(QUICK ? ['--quick'] : [])]));
  console.log(JSON.stringify(res.browser));
  res.glassbox = res.glassbox1;
  res.ort = res.ort1;
  res.glassbox_mt_wasm_bytes = statSync(path.join(ROOT, 'build/wasm/glassbox-mt.wasm')).size;
  console.log('== glassbox native (build/bench_native)');
  res.native = lastJson(sh(path.join(ROOT, 'build/bench_native'), [MODEL, ids.slice(0, T).join(','), String(REPS), String(WARM)]));
  console.log(JSON.stringify(res.native));
  if (existsSync(scalarWasm)) {
    console.log('== glassbox (wasm, scalar kernels)');
    res.glassbox_scalar = worker('glassbox', scalarWasm, '1', 'job1');
    console.log(JSON.stringify(res.glassbox_scalar));
  }

  // agreement: every position's logits, and the next token's
  const gb64 = loadF32('logits_gb1_64.f32'), ort64 = loadF32('logits_ort1_64.f32');
  res.agreement = {
    job1_all_positions: relDiff(gb64, ort64),
    two_threads_vs_one_bits: bitsDiffer(loadF32('logits_gb2_64.f32'), gb64),
    job2_kv_vs_ort_full: relDiff(loadF32('logits_gb1_next.f32'), loadF32('logits_ort1_next_full.f32')),
    ort_kv_vs_ort_full: relDiff(loadF32('logits_ort1_next_kv.f32'), loadF32('logits_ort1_next_full.f32')),
    ort_kv_prefill_vs_ort: relDiff(loadF32('logits_ort1_kv_prefill_64.f32'), ort64),
    ort2_vs_ort1: relDiff(loadF32('logits_ort2_64.f32'), ort64),
    native_vs_wasm: relDiff(loadF32('logits_native_64.f32'), gb64),
  };
  if (res.glassbox_scalar) res.agreement.scalar_vs_ort = relDiff(loadF32('logits_gb_scalar_64.f32'), ort64);
  // wllama: its top next-token entries after the 64-token prompt and after the
  // KV step, against Glassbox's logits there. Its times are reported only if
  // every one agrees.
  const V = gb64.length / T, gbLast = gb64.subarray((T - 1) * V), gbNext = loadF32('logits_gb1_next.f32');
  res.agreement_wllama = {};
  for (const c of res.wllama.configs) {
    for (const n of [1, 2]) {
      const w = c[`wllama${n}`];
      res.agreement_wllama[`wllama_${c.key}_${n}t_64_vs_glassbox`] = topAgreement(w.top64, gbLast);
      res.agreement_wllama[`wllama_${c.key}_${n}t_next_kv_vs_glassbox`] = topAgreement(w.top65, gbNext);
    }
  }
  res.wllama.agrees = Object.values(res.agreement_wllama).every((v) => v <= WLLAMA_TOL);
  writeFileSync(path.join(RESULTS, 'results.json'), JSON.stringify(res, null, 1) + '\n');
  writeFileSync(path.join(RESULTS, 'plot.svg'), plot(res));
  writeFileSync(path.join(RESULTS, 'REPORT.md'), report(res));
  console.log(readFileSync(path.join(RESULTS, 'REPORT.md'), 'utf8'));
  const bad = Object.entries(res.agreement).filter(([, v]) => !(v <= TOL));
  const badW = Object.entries(res.agreement_wllama).filter(([, v]) => !(v <= WLLAMA_TOL));
  if (badW.length) {
    console.error(`\nFAIL: wllama's logits disagree with Glassbox's beyond ${WLLAMA_TOL} relative (${badW.map(([k, v]) => `${k} = ${v}`).join(', ')}): model.gguf is not the bench model, its times are withheld`);
    process.exitCode = 1;
  }
  if (bad.length) {
    console.error(`\nFAIL: logits disagree beyond ${TOL} relative: ${bad.map(([k, v]) => `${k} = ${v}`).join(', ')}`);
    process.exit(1);
  }
  if (badW.length) process.exit(1);
  console.log(`wllama agrees within ${WLLAMA_TOL} relative (${Object.entries(res.agreement_wllama).map(([k, v]) => `${k} ${v.toExponential(2)}`).join(', ')})`);
  console.log(`logits agree within ${TOL} relative (${Object.entries(res.agreement).map(([k, v]) => `${k} ${v.toExponential(2)}`).join(', ')})`);
}

// ------------------------------------------------------------------ entry

const [mode, ...rest] = process.argv.slice(2).filter((a) => a !== '--quick');
if (mode === 'report') { // regenerate REPORT.md and plot.svg from results.json
  const r = JSON.parse(readFileSync(path.join(RESULTS, 'results.json'), 'utf8'));
  writeFileSync(path.join(RESULTS, 'plot.svg'), plot(r));
  writeFileSync(path.join(RESULTS, 'REPORT.md'), report(r));
} else if (mode === 'worker') {
  const [which, ...args] = rest;
  const r = which === 'ort' ? await workerOrt(Number(args[0] || 1))
    : await workerGlassbox(path.resolve(args[0]), Number(args[1] || 1), args[2] || '');
  console.log(JSON.stringify(r));
} else {
  await main();
}
