// browser.js — Glassbox in headless Chromium for bench/run.js: the repo root
// served with COOP/COEP (tools/serve.js) so the page is cross-origin isolated,
// the jobs run in a module Web Worker (bench/browser/worker.js) at 1 and 2
// threads, and the explainer's first view (dist/, the 'glassbox:first-view'
// performance mark, which tests/e2e no longer bounds) is timed.
//   node bench/browser.js [--quick]   prints one JSON line
import { chromium } from 'playwright-core';

import { ROOT, QUICK, REPS, WARM, promptIds } from './common.js';
import { startServer } from '../tools/serve.js';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

export async function browserBench() {
  const root = await startServer(ROOT), dist = await startServer(`${ROOT}/dist`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  const out = { chromium: browser.version() };
  try {
    const page = await browser.newPage();
    await page.goto(`${root.url}bench/browser/index.html`);
    out.cross_origin_isolated = await page.evaluate(() => crossOriginIsolated);
    out.hardware_concurrency = await page.evaluate(() => navigator.hardwareConcurrency);
    const ids = promptIds();
    for (const threads of [1, 2]) {
      const r = await page.evaluate((args) => new Promise((resolve) => {
        const w = new Worker('./worker.js', { type: 'module' });
        w.onmessage = (e) => { w.terminate(); resolve(e.data); };
        w.onerror = (e) => resolve({ error: e.message });
        w.postMessage(args);
      }), { threads, ids, reps: REPS, warm: WARM, gen: QUICK ? 8 : 24, click: true });
      if (r.error) throw new Error(`Chromium, ${threads} threads: ${r.error}`);
      out[`glassbox${threads}`] = r.ok;
    }
    await page.close();
    const first = [];
    for (let i = 0; i < (QUICK ? 1 : 3); i++) {
      const p = await browser.newPage();
      await p.goto(dist.url);
      await p.waitForFunction(() => performance.getEntriesByName('glassbox:first-view').length > 0, null, { timeout: 60000 });
      first.push(await p.evaluate(() => performance.getEntriesByName('glassbox:first-view')[0].startTime));
      await p.close();
    }
    out.first_view_ms = first.sort((a, b) => a - b)[first.length >> 1];
  } finally {
    await browser.close();
    await root.close();
    await dist.close();
  }
  return out;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  console.log(JSON.stringify(await browserBench()));
}
