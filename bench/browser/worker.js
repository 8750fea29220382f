// worker.js — Glassbox's jobs in a module Web Worker of headless Chromium
// (where the page runs the engine), driven by bench/browser.js. The repo
// root is served with COOP/COEP (tools/serve.js), so threads are available.
import { Glassbox } from '../../wasm/glassbox.js';

const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[s.length >> 1]; };
const now = () => performance.now();
const SAMPLE = { temperature: 0.8, topK: 40, topP: 0.95 };
const VIEW = { overview: { width: 256, height: 256, mode: 'max' }, zoom: { rows: [512, 640], keys: [448, 576] } };

async function run({ threads, ids, reps, warm, gen, click }) {
  const base = new URL('../../', import.meta.url);
  const gb = await Glassbox.create({ wasm: new URL('build/wasm/glassbox.wasm', base), threads });
  if (gb.threads !== threads) throw new Error(`asked for ${threads} threads, got ${gb.threads}: ${gb.threadsNote}`);
  let t0 = now();
  await gb.loadModelFromUrl(new URL('bench/results/tmp/model/', base).href);
  const r = { threads, load_from_url_ms: now() - t0 };
  const ids64 = ids.slice(0, 64), next = ids[64];
  const p = [];
  for (let i = 0; i < warm + reps; i++) {
    t0 = now();
    gb.setTokens(ids64);
    gb.runAll();
    gb.sample({ temperature: 0 }, 0, { arrays: false }); // the token only, as bench/glassbox_worker.js
    if (i >= warm) p.push(now() - t0);
  }
  r.job1_ms = median(p);
  const k = [];
  for (let i = 0; i < warm + reps; i++) {
    gb.setTokens(ids64);
    gb.runAll();
    t0 = now();
    gb.appendTokens([next]);
    gb.runAll();
    gb.sample({ temperature: 0 }, 0, { arrays: false }); // the token only, as bench/glassbox_worker.js
    if (i >= warm) k.push(now() - t0);
  }
  r.job2_kv_ms = median(k);
  gb.setTokens(ids64);
  gb.runAll();
  gb.seed(1);
  const g = [];
  for (let i = 0; i < warm + gen; i++) {
    t0 = now();
    const step = gb.sample(SAMPLE, 0, { arrays: false });
    gb.appendTokens([step.token]);
    gb.runAll();
    if (i >= warm) g.push(now() - t0);
  }
  r.generate_ms = median(g);
  if (click) {
    const T = 1024, budget = 1.5e9 - gb.memoryBytes - 150e6;
    const store = gb.chooseStore(T, budget);
    gb.setKeepAll(store.keepAll);
    t0 = now();
    gb.setTokens(Array.from({ length: T }, (_, i) => ids[i % ids.length]));
    gb.runAll();
    r.prefill1024_ms = now() - t0;
    const c = [];
    for (const [l, h] of [[0, 1], [5, 3], [11, 7], [3, 0], [8, 11], [6, 6], [2, 9]]) {
      t0 = now();
      gb.headPatternView(l, h, VIEW);
      c.push(now() - t0);
    }
    r.click1024 = { keep_all: store.keepAll, click_median_ms: median(c.slice(1)), click_max_ms: Math.max(...c.slice(1)), wasm_memory_bytes: gb.memoryBytes };
  }
  gb.destroy();
  return r;
}

self.onmessage = async (e) => {
  try {
    self.postMessage({ ok: await run(e.data) });
  } catch (err) {
    self.postMessage({ error: String(err && err.stack ? err.stack : err) });
  }
};
