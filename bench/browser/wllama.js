// wllama.js — llama.cpp in WebAssembly (@wllama/wllama) running the bench's
// jobs in a page of headless Chromium, driven by bench/wllama.js. wllama
// runs llama.cpp in its own Web Worker (pthreads when n_threads > 1, which
// needs the cross-origin isolation tools/serve.js gives the page).
//
// wllama 3 exposes llama-server's completion API, not a forward pass: a
// prompt is text (it refuses token ids), and a completion's `n_probs` gives
// the top entries of the next token's log-softmax (before sampling), with ids.
// So each job is a completion, timed from the call to its result in JS
// (what an app sees), and llama.cpp's own timings (`timings.prompt_ms`,
// `predicted_ms`) are kept beside it. Every job checks from those timings
// that llama.cpp evaluated exactly the tokens it should (64 for the prompt,
// 1 for the KV step), so the text was tokenized into the bench's ids.
const WLLAMA = '../node_modules/@wllama/wllama/esm/';
const median = (a) => { const s = [...a].sort((x, y) => x - y); return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const stats = (ts) => ({ median_ms: median(ts), min_ms: Math.min(...ts), max_ms: Math.max(...ts), reps: ts.length });
const now = () => performance.now();
// The job Glassbox runs (temperature, then top-k, then top-p, as gb_sample),
// with llama.cpp's other samplers out of the chain.
const SAMPLE = { temperature: 0.8, top_k: 40, top_p: 0.95, min_p: 0, samplers: ['temperature', 'top_k', 'top_p'] };
const N_PROBS = 10;

const silent = { debug() {}, log() {}, info() {}, warn() {}, error: (...a) => console.error(...a) };

function expectTokens(res, prompt_n, cache_n, what) {
  const t = res.timings;
  if (!t || t.prompt_n !== prompt_n || t.cache_n !== cache_n) {
    throw new Error(`wllama ${what}: llama.cpp evaluated ${t && t.prompt_n} tokens with ${t && t.cache_n} cached, expected ${prompt_n} and ${cache_n} (the text did not tokenize into the bench's ids, or the KV cache was not reused)`);
  }
}

const topOf = (res) => res.choices[0].logprobs.content[0].top_logprobs.map((e) => ({ id: e.id, logprob: e.logprob }));

export async function run({ threads, text64, text65, reps, warm, gen, cacheType, ban, load = {} }) {
  const { Wllama } = await import(`${WLLAMA}index.js`);
  const base = new URL(WLLAMA, import.meta.url);
  let t0 = now();
  const w = new Wllama({ default: new URL('wasm/wllama.wasm', base).href }, { suppressNativeLog: true, logger: silent });
  const blob = await (await fetch(new URL('../results/tmp/model/model.gguf', import.meta.url))).blob();
  await w.loadModel([blob], {
    n_threads: threads,
    n_gpu_layers: 0, // the CPU (WebAssembly) path: headless Chromium here has no GPU
    n_ctx: 1024,
    cache_type_k: cacheType,
    cache_type_v: cacheType,
    ...load, // the configuration's llama.cpp settings (bench/wllama.js CONFIGS)
  });
  const r = { threads, multithread: w.isMultithread(), threads_used: w.getNumThreads(), load_from_url_ms: now() - t0, cache_type: cacheType };
  if (r.threads_used !== threads || r.multithread !== (threads > 1)) throw new Error(`wllama: asked for ${threads} threads, got ${r.threads_used} (multithread ${r.multithread})`);

  // (a) 64-token prompt -> next token: the whole prompt evaluated (no cached
  // prefix), greedy pick of the next token.
  const greedy = { max_tokens: 1, temperature: 0, cache_prompt: false, post_sampling_probs: false };
  const wall = [], inC = [];
  for (let i = 0; i < warm + reps; i++) {
    t0 = now();
    const res = await w.createCompletion({ prompt: text64, ...greedy, ...(i === 0 ? { n_probs: N_PROBS } : {}) });
    const dt = now() - t0;
    expectTokens(res, 64, 0, 'prompt');
    if (i === 0) r.top64 = topOf(res);
    if (i >= warm) { wall.push(dt); inC.push(res.timings.prompt_ms); }
  }
  r.job1 = { ...stats(wall), llama_prompt_ms: median(inC) };

  // (c) the next token with the KV cache: the 64-token prompt is cached by
  // one completion, then the 65-token prompt evaluates only its last token.
  const kv = [], kvC = [];
  for (let i = 0; i < warm + reps; i++) {
    // (cached or not: afterwards the cache holds exactly the 64 prompt tokens,
    // as a completion of one token does not evaluate the token it picks)
    await w.createCompletion({ prompt: text64, max_tokens: 1, temperature: 0, cache_prompt: true });
    t0 = now();
    const res = await w.createCompletion({ prompt: text65, max_tokens: 1, temperature: 0, cache_prompt: true, ...(i === 0 ? { n_probs: N_PROBS } : {}) });
    const dt = now() - t0;
    expectTokens(res, 1, 64, 'KV step');
    if (i === 0) r.top65 = topOf(res);
    if (i >= warm) { kv.push(dt); kvC.push(res.timings.prompt_ms); }
  }
  r.job2_kv = { ...stats(kv), llama_prompt_ms: median(kvC) };

  // (b) generation, sampling included: one streamed completion from the
  // 64-token prompt; each chunk is one generated token (wllama runs one
  // decode + sample per poll). The intervals between token chunks, after
  // `warm` of them; the last token's chunk comes with the final result
  // without a decode before it, so its interval is left out.
  const arrivals = [];
  let last = null;
  await w.createCompletion({
    prompt: text64, max_tokens: warm + gen + 2, ...SAMPLE, seed: 1, ignore_eos: true, cache_prompt: false,
    logit_bias: ban.map((id) => [id, false]), // never drawn (bench/wllama.js says why)
    stream: true, onData: (c) => { if (c.choices[0].finish_reason == null) arrivals.push(now()); last = c; },
  });
  const steps = arrivals.slice(1).map((t, i) => t - arrivals[i]).slice(warm, warm + gen);
  const tm = last && last.timings;
  r.generate = { ...stats(steps), tokens: steps.length, chunks: arrivals.length,
    llama_per_token_ms: tm ? tm.predicted_ms / tm.predicted_n : null, llama_predicted_n: tm ? tm.predicted_n : null };
  await w.exit();
  return r;
}
