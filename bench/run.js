// run.js — Glassbox (WASM, Node, one thread) against onnxruntime-web (WASM
// backend, SIMD, numThreads = 1) on the same GPT-2-small-shaped checkpoint.
//
//   node bench/run.js            everything below, then bench/results/REPORT.md,
//                                results.json and plot.svg
//   node bench/run.js --quick    fewer repetitions (a smoke run; not for the report)
//
// Needs: build/wasm/glassbox.wasm and build/rel/libglassbox.a (./build.sh bench
// builds them, and the scalar/kernel variants), bench/node_modules
// (npm ci --prefix bench) and the checkpoint (bench/make_model.py; generated here
// when missing, with /usr/bin/python3 + python3-onnx + python3-numpy).
//
// Each runtime runs in its own child process (`node bench/run.js worker ...`),
// one after the other, so neither disturbs the other's timings or memory. Every
// timing is the median of several repetitions after warm-up runs (V8 optimises
// a wasm function only after it has run). Logits are written to
// bench/results/tmp/ and compared here: the runtimes must agree within 1e-4
// relative (max |a - b| / max |b|), or the run fails.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(HERE);
const RESULTS = path.join(HERE, 'results');
const TMP = path.join(RESULTS, 'tmp');
const MODEL = path.join(TMP, 'model');
const QUICK = process.argv.includes('--quick');
const REPS = QUICK ? 3 : 9;          // timed repetitions per job (median reported)
const WARM = QUICK ? 1 : 3;          // untimed warm-up runs before them
const LOAD_REPS = QUICK ? 2 : 4;     // model loads (the first, cold one, is reported apart)
const T = 64;
const TOL = 1e-4;
const PROMPT = 'The quick brown fox jumps over the lazy dog. ' +
  'Glassbox runs GPT-2 one stage at a time and keeps every activation, so a reader can look inside ' +
  'the model while it writes. This paragraph is long enough to give sixty-four tokens of prompt, ' +
  'and a sixty-fifth for the next step, which is the token the benchmark appends.';

const median = (a) => { const s = [...a].sort((x, y) => x - y); return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const now = () => performance.now();
const mb = (b) => b / 2 ** 20;

function promptIds() {
  const require = createRequire(import.meta.url);
  const { encode } = require(path.join(ROOT, 'node_modules/gpt-3-encoder'));
  const ids = encode(PROMPT);
  if (ids.length < T + 1) throw new Error(`prompt has ${ids.length} tokens, need ${T + 1}`);
  return ids.slice(0, T + 1); // 64 for the prompt, the 65th is "the next token"
}

function saveF32(name, a) { writeFileSync(path.join(TMP, name), Buffer.from(a.buffer, a.byteOffset, a.byteLength)); }
function loadF32(name) { const b = readFileSync(path.join(TMP, name)); return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4); }

// ------------------------------------------------------------------ workers

async function timeIt(fn, reps = REPS, warm = WARM) {
  for (let i = 0; i < warm; i++) await fn();
  const ts = [];
  for (let i = 0; i < reps; i++) { const t0 = now(); await fn(); ts.push(now() - t0); }
  return { median_ms: median(ts), min_ms: Math.min(...ts), max_ms: Math.max(...ts), reps };
}

async function workerGlassbox(wasmPath, only1) {
  const { Glassbox } = await import(pathToFileURL(path.join(ROOT, 'wasm/glassbox.js')));
  const [ids64, next] = [promptIds().slice(0, T), promptIds()[T]];
  const wasmBytes = readFileSync(wasmPath);
  const files = {
    config: readFileSync(path.join(MODEL, 'config.json')),
    safetensors: readFileSync(path.join(MODEL, 'model.safetensors')),
    vocab: readFileSync(path.join(MODEL, 'vocab.json')),
    merges: readFileSync(path.join(MODEL, 'merges.txt')),
  };
  const r = { wasm: path.relative(ROOT, wasmPath), wasm_bytes: wasmBytes.length };
  // job 3: load to ready, from bytes in memory. Cold = compile + instantiate + load.
  let t0 = now();
  let gb = await Glassbox.create({ wasm: wasmBytes });
  await gb.loadModel(files);
  r.load_cold_ms = now() - t0;
  // Phases of each warm load from loadModel's progress events: 'copy' (the
  // streaming load: model.safetensors through a 256 KB staging buffer, each
  // piece placed or packed once by gb_load_write) and 'parse' (gb_load_finish:
  // header, config, tokenizer, checks; the F32 weights stay where they are).
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
  const V = gb.config?.vocab_size ?? 50257;
  // job 1: 64-token prompt, full forward (every activation kept), next-token logits
  let last;
  const job1 = async () => {
    gb.setTokens(ids64);
    gb.runAll();
    const lg = gb.activation('logits').data;
    last = lg.slice((T - 1) * V, T * V);
  };
  const reps = only1 ? Math.max(1, REPS >> 2) : REPS, warm = only1 ? 1 : WARM;
  r.job1 = await timeIt(job1, reps, warm);
  saveF32(`logits_${only1 ? 'gb_scalar' : 'gb'}_64.f32`, gb.activation('logits').data.slice());
  r.wasm_memory_bytes = gb._memory.buffer.byteLength;
  r.rss_after_job1_bytes = process.memoryUsage().rss;
  if (!only1) {
    // job 2: the next token at position 64, with the KV cache (the 64 stored positions)
    const ts = [];
    for (let i = 0; i < WARM + REPS; i++) {
      gb.setTokens(ids64);
      gb.runAll();
      t0 = now();
      gb.appendTokens([next]);
      gb.runAll();
      last = gb.activation('logits').data.slice(T * V, (T + 1) * V);
      if (i >= WARM) ts.push(now() - t0);
    }
    r.job2_kv = { median_ms: median(ts), min_ms: Math.min(...ts), max_ms: Math.max(...ts), reps: REPS };
    saveF32('logits_gb_next.f32', last);
  }
  r.max_rss_bytes = process.resourceUsage().maxRSS * 1024;
  return r;
}

async function workerOrt() {
  const ort = await import(pathToFileURL(path.join(HERE, 'node_modules/onnxruntime-web/dist/ort.node.min.mjs')));
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.simd = true;
  ort.env.wasm.proxy = false;
  const ids = promptIds();
  const bytes = readFileSync(path.join(MODEL, 'model.onnx'));
  const opts = { executionProviders: ['wasm'], graphOptimizationLevel: 'all' };
  const r = { version: ort.env.versions?.web ?? JSON.parse(readFileSync(path.join(HERE, 'node_modules/onnxruntime-web/package.json'))).version };
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
  saveF32('logits_ort_64.f32', out.data);
  r.rss_after_job1_bytes = process.memoryUsage().rss;
  // job 2a: next token by full recompute of 65 tokens (what Transformer Explainer does)
  const f65 = feeds(ids.slice(0, T + 1));
  r.job2_full = await timeIt(async () => { out = (await s.run(f65)).logits; });
  saveF32('logits_ort_next_full.f32', out.data.slice(T * V, (T + 1) * V));
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
  saveF32('logits_ort_next_kv.f32', out.data);
  saveF32('logits_ort_kv_prefill_64.f32', pre.logits.data);
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
  const wasm = path.join(ROOT, 'build/wasm/glassbox.wasm');
  const scalarWasm = path.join(TMP, 'glassbox-scalar.wasm');
  const ortWasm = path.join(HERE, 'node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm');
  for (const f of [wasm, path.join(HERE, 'node_modules/onnxruntime-web/package.json')]) {
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

  console.log('== glassbox (wasm, SIMD)');
  res.glassbox = worker('glassbox', wasm);
  console.log(JSON.stringify(res.glassbox));
  console.log('== onnxruntime-web (wasm, SIMD, 1 thread)');
  res.ort = worker('ort');
  res.ort.wasm_bytes = statSync(ortWasm).size;
  console.log(JSON.stringify(res.ort));
  console.log('== glassbox native (build/bench_native)');
  res.native = lastJson(sh(path.join(ROOT, 'build/bench_native'), [MODEL, ids.slice(0, T).join(','), String(REPS), String(WARM)]));
  console.log(JSON.stringify(res.native));
  if (existsSync(scalarWasm)) {
    console.log('== glassbox (wasm, scalar kernels)');
    res.glassbox_scalar = worker('glassbox', scalarWasm, 'job1');
    console.log(JSON.stringify(res.glassbox_scalar));
  }

  // agreement: every position's logits, and the next token's
  const V = 50257;
  const gb64 = loadF32('logits_gb_64.f32'), ort64 = loadF32('logits_ort_64.f32');
  res.agreement = {
    job1_all_positions: relDiff(gb64, ort64),
    job2_kv_vs_ort_full: relDiff(loadF32('logits_gb_next.f32'), loadF32('logits_ort_next_full.f32')),
    ort_kv_vs_ort_full: relDiff(loadF32('logits_ort_next_kv.f32'), loadF32('logits_ort_next_full.f32')),
    ort_kv_prefill_vs_ort: relDiff(loadF32('logits_ort_kv_prefill_64.f32'), ort64),
    native_vs_wasm: relDiff(loadF32('logits_native_64.f32'), gb64),
  };
  if (res.glassbox_scalar) res.agreement.scalar_vs_ort = relDiff(loadF32('logits_gb_scalar_64.f32'), ort64);
  writeFileSync(path.join(RESULTS, 'results.json'), JSON.stringify(res, null, 1) + '\n');
  writeFileSync(path.join(RESULTS, 'plot.svg'), plot(res));
  writeFileSync(path.join(RESULTS, 'REPORT.md'), report(res));
  console.log(readFileSync(path.join(RESULTS, 'REPORT.md'), 'utf8'));
  const bad = Object.entries(res.agreement).filter(([, v]) => !(v <= TOL));
  if (bad.length) {
    console.error(`\nFAIL: logits disagree beyond ${TOL} relative: ${bad.map(([k, v]) => `${k} = ${v}`).join(', ')}`);
    process.exit(1);
  }
  console.log(`logits agree within ${TOL} relative (${Object.entries(res.agreement).map(([k, v]) => `${k} ${v.toExponential(2)}`).join(', ')})`);
}

// ------------------------------------------------------------------ report

const f1 = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const ratio = (a, b) => `${(a / b).toFixed(a / b < 0.1 ? 3 : 2)}×`;

function rows(r) {
  const g = r.glassbox, o = r.ort;
  return [
    ['1. 64-token prompt, full forward → logits', g.job1.median_ms, o.job1.median_ms, 0.67, 'ms', g.job1.min_ms, o.job1.min_ms],
    ['2. next token at position 64 (Glassbox KV cache vs ORT full recompute of 65)', g.job2_kv.median_ms, o.job2_full.median_ms, 0.1, 'ms', g.job2_kv.min_ms, o.job2_full.min_ms],
    ['2b. next token: Glassbox KV cache vs ORT past-KV graph (one position)', g.job2_kv.median_ms, o.job2_kv.median_ms, null, 'ms', g.job2_kv.min_ms, o.job2_kv.min_ms],
    ['3. model load to ready, from bytes in memory (median of warm loads)', g.load_ms, o.load_ms, 0.1, 'ms'],
    ['3b. first load, incl. compiling/starting the runtime', g.load_cold_ms, o.load_cold_ms, null, 'ms'],
    ['4. .wasm size', g.wasm_bytes / 1024, o.wasm_bytes / 1024, null, 'KiB'],
  ];
}

function report(r) {
  const m = r.machine, g = r.glassbox, o = r.ort, n = r.native, kw = r.kernels_wasm, kn = r.kernels_native;
  const L = [];
  L.push('# Glassbox vs onnxruntime-web', '');
  L.push(`Generated by \`./build.sh bench\` (bench/run.js) on ${m.date.slice(0, 10)}${r.quick ? ' — QUICK run, not for quoting' : ''}.`, '');
  L.push(`Machine: ${m.cpu}, ${m.cpus} CPUs (${m.threads_per_core} thread/core), ${m.mem_gb} GB RAM, ${m.os}; Node ${m.node}; ${m.emcc}; onnxruntime-web ${o.version}.`);
  L.push('The machine is shared with other builds: every time is the median of ' +
    `${r.reps} runs after ${r.warmup} warm-up runs, each runtime in its own process, one after the other.`, '');
  L.push('Model: GPT-2 small shape (12 layers, 12 heads, 768 wide, vocab 50257, context 1024; 124.4M parameters), fixed-seed random weights, F32, written by bench/make_model.py as a Hugging Face checkpoint (Glassbox) and as ONNX graphs of the same weights (onnxruntime-web: WASM backend, SIMD, `numThreads = 1`, graph optimisation `all`). Prompt: 64 tokens of English text.', '');
  L.push('| job | Glassbox (WASM) | onnxruntime-web | ratio | target | fastest run: Glassbox / ORT |', '|---|---:|---:|---:|---:|---:|');
  for (const [name, a, b, target, unit, amin, bmin] of rows(r)) {
    const fast = amin ? `${f1(amin)} / ${f1(bmin)} ms (${ratio(amin, bmin)})` : '';
    L.push(`| ${name} | ${f1(a)} ${unit} | ${f1(b)} ${unit} | ${ratio(a, b)} | ${target ? `≤ ${target}×` : ''} | ${fast} |`);
  }
  L.push('', `Glassbox's job 1 keeps every activation of the run (all hook points of all 12 layers, attention patterns, and all 64 positions' logits: ${f1(mb(g.wasm_memory_bytes))} MiB of wasm memory in all); onnxruntime-web returns only the logits. Glassbox's load streams model.safetensors into wasm memory through a 256 KB staging buffer (gb_load_begin/write/finish): the header and small tensors are copied where they lie in the file, each block's four weight matrices are scattered straight into the matmul kernel's column panels, and the LM head's panels are transposed while in cache, so the weights are written once and there is one copy of the file in wasm memory; then gb_load_finish parses the header, config.json and vocab.json + merges.txt (its tokenizer) and checks every tensor${g.load_phases ? ` — median ${f1(g.load_phases.copy_ms)} ms streaming, ${f1(g.load_phases.engine_ms)} ms finishing` : ''}. Only copying the file's bytes into wasm memory through the same staging buffer takes ${f1(g.staged_copy_ms)} ms, so a load from JS bytes cannot go below about ${f1(g.staged_copy_ms + (g.load_phases ? g.load_phases.engine_ms : 0))} ms (that copy plus the finishing step) even if placing and packing the weights were free: ${(((g.staged_copy_ms + (g.load_phases ? g.load_phases.engine_ms : 0)) / o.load_ms)).toFixed(2)}× ORT's load. ORT's includes parsing the protobuf and optimising the graph.`, '');
  L.push('## Native vs WASM, scalar vs SIMD (job 1)', '');
  L.push('| build | 64-token forward (median) | vs Glassbox WASM | fastest run |', '|---|---:|---:|---:|');
  L.push(`| Glassbox WASM, SIMD kernels (${kw.isa}) | ${f1(g.job1.median_ms)} ms | 1.00× | ${f1(g.job1.min_ms)} ms |`);
  L.push(`| Glassbox native, ${n.isa} (gcc -O2, build/rel/libglassbox.a) | ${f1(n.job1_ms)} ms | ${ratio(n.job1_ms, g.job1.median_ms)} | ${f1(n.job1_min_ms)} ms |`);
  if (r.glassbox_scalar) L.push(`| Glassbox WASM, scalar kernels (no -msimd128; ${r.glassbox_scalar.job1.reps} run) | ${f1(r.glassbox_scalar.job1.median_ms)} ms | ${ratio(r.glassbox_scalar.job1.median_ms, g.job1.median_ms)} |`);
  L.push('', `WASM / native = ${(g.job1.median_ms / n.job1_ms).toFixed(2)}× by medians, ${(g.job1.min_ms / n.job1_min_ms).toFixed(2)}× by fastest runs (target ≤ 1.3×). Native model load: ${f1(n.load_ms)} ms.`, '');
  L.push('## Matmul kernels vs this core\'s peak', '');
  L.push('Peak = 12 independent chains of 128-bit multiply then add (measured by bench/kernels_bench.c before and after the kernels, best of 12 runs). Matmul numbers are the four GPT-2 block shapes at T = 64 (median), and the LM head (64 × 768 × 50257). Peak and kernels are measured a few seconds apart: on a shared, loaded machine the two can see different contention, so the percentage is only meaningful on a quiet machine.', '');
  // Two ceilings: what this build can issue (the same loop compiled by V8 or
  // gcc), and the machine's, i.e. the best 128-bit mul+add rate either reached.
  const machinePeak = Math.max(kw.peak_gflops, kn.peak_gflops);
  L.push('| | peak mul+add of this build | block matmuls | LM head | block matmuls % of this build\'s peak | % of the machine\'s 128-bit peak |', '|---|---:|---:|---:|---:|---:|');
  for (const [name, k] of [['WASM (V8)', kw], ['native (' + kn.isa + ')', kn]]) {
    L.push(`| ${name} | ${f1(k.peak_gflops)} GFLOP/s | ${f1(k.block_matmul_gflops)} GFLOP/s | ${f1(k.lm_head_gflops)} GFLOP/s | ${(100 * k.block_matmul_gflops / k.peak_gflops).toFixed(0)}% | ${(100 * k.block_matmul_gflops / machinePeak).toFixed(0)}% |`);
  }
  L.push('', `The machine's 128-bit peak is the faster of the two builds' measurements (${f1(machinePeak)} GFLOP/s); V8's code for the same twelve-chain loop issues ${(100 * kw.peak_gflops / machinePeak).toFixed(0)}% of it.`);
  const flops = 12 * 2 * T * (768 * 2304 + 768 * 768 + 768 * 3072 + 3072 * 768) + 2 * T * 768 * 50257;
  L.push('', `A 64-token forward is ${(flops / 1e9).toFixed(1)} GFLOP of matmuls; at the WASM peak that alone is ${f1(flops / kw.peak_gflops / 1e6)} ms. Glassbox's job 1 runs at ${f1(flops / g.job1.median_ms / 1e6)} GFLOP/s overall, onnxruntime-web's at ${f1(flops / o.job1.median_ms / 1e6)}.`, '');
  L.push('## Memory', '');
  L.push('| | Glassbox WASM | onnxruntime-web | Glassbox native |', '|---|---:|---:|---:|');
  L.push(`| process RSS after load + job 1 | ${f1(mb(g.rss_after_job1_bytes))} MiB | ${f1(mb(o.rss_after_job1_bytes))} MiB | |`);
  L.push(`| peak RSS of the whole worker | ${f1(mb(g.max_rss_bytes))} MiB | ${f1(mb(o.max_rss_bytes))} MiB (also loads the past-KV graph) | ${f1(mb(n.max_rss_bytes))} MiB |`);
  L.push(`| wasm memory after job 1 | ${f1(mb(g.wasm_memory_bytes))} MiB | | |`, '');
  L.push('Both workers hold the model file bytes in JS memory as well (loads are from bytes in memory); Glassbox WASM RSS counts its whole 4 GB-capable wasm memory that has been touched, including freed blocks (wasm memory never shrinks). The model is its own file bytes (F32 weights used in place, the block matrices repacked within them), so a load needs one copy of the file in wasm memory, not two; a reload keeps the old model until the new one has loaded (a failed load leaves it usable), so the high-water mark is two models plus the activations.', '');
  L.push('## Agreement', '');
  L.push(`max |a − b| / max |b| over the logits (must be ≤ ${TOL}):`, '');
  for (const [k, v] of Object.entries(r.agreement)) L.push(`- ${k}: ${v.toExponential(2)}`);
  L.push('', '![job times](plot.svg)', '');
  return L.join('\n');
}

/* A horizontal bar chart of the timed jobs, as SVG text (no dependencies). */
function plot(r) {
  const items = rows(r).filter(([, , , , unit]) => unit === 'ms');
  const W = 760, rowH = 46, top = 40, left = 300, barMax = W - left - 90;
  const h = top + items.length * rowH + 30;
  const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${h}" fill="white"/>`,
    `<text x="10" y="22" font-size="15" font-weight="bold">Glassbox vs onnxruntime-web (WASM, 1 thread), median ms — shorter is better</text>`];
  items.forEach(([name, a, b], i) => {
    const y = top + i * rowH, max = Math.max(a, b), s = (v) => Math.max(1, (v / max) * barMax);
    out.push(`<text x="10" y="${y + 20}">${esc(name.replace(/\s*\(.*\)$/, '').slice(0, 46))}</text>`);
    out.push(`<rect x="${left}" y="${y + 4}" width="${s(a).toFixed(1)}" height="16" fill="#2b7bb9"/>`);
    out.push(`<text x="${left + s(a) + 4}" y="${y + 17}">${f1(a)} Glassbox</text>`);
    out.push(`<rect x="${left}" y="${y + 22}" width="${s(b).toFixed(1)}" height="16" fill="#e08a2c"/>`);
    out.push(`<text x="${left + s(b) + 4}" y="${y + 35}">${f1(b)} ORT</text>`);
  });
  out.push(`<text x="10" y="${h - 8}" fill="#555">${esc(r.machine.cpu)}, ${esc(r.machine.node)}; each row scaled to its longer bar</text>`, '</svg>', '');
  return out.join('\n');
}

// ------------------------------------------------------------------ entry

const [mode, ...rest] = process.argv.slice(2).filter((a) => a !== '--quick');
if (mode === 'report') { // regenerate REPORT.md and plot.svg from results.json
  const r = JSON.parse(readFileSync(path.join(RESULTS, 'results.json'), 'utf8'));
  writeFileSync(path.join(RESULTS, 'plot.svg'), plot(r));
  writeFileSync(path.join(RESULTS, 'REPORT.md'), report(r));
} else if (mode === 'worker') {
  const [which, ...args] = rest;
  const r = which === 'ort' ? await workerOrt() : await workerGlassbox(path.resolve(args[0]), args[1] === 'job1');
  console.log(JSON.stringify(r));
} else {
  await main();
}
