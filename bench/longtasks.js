#!/usr/bin/env node
/* longtasks.js — main-thread long tasks while a learner steps, generates and
 * hovers on a long prompt, measured in headless Chromium with the Long Tasks
 * API (PerformanceObserver 'longtask': every task over 50 ms), plus the tab's
 * memory (performance.measureUserAgentSpecificMemory: JS heaps and wasm
 * memory of the page and its engine worker).
 *
 *   node bench/longtasks.js [--tokens 256] [--model URL-in-dist] [--out FILE.json]
 *
 * Needs dist/ (./build.sh) and /usr/bin/chromium. Not part of ./build.sh test:
 * it reports figures and asserts nothing. The prompt is cut to `tokens - 10`
 * tokens so that generating 10 reaches the context's length. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../tools/serve.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, def) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : def; };
const TOKENS = Number(arg('tokens', 256));
const MODEL = arg('model', 'models/default/');
const OUT = arg('out', null);
const PARA = 'She opened the door and looked out at the sea. The wind was cold, and the boats were coming home one by one, their sails dark against the evening sky. ';

async function main() {
  const server = await startServer(path.join(ROOT, 'dist'));
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--enable-blink-features=ForceEagerMeasureMemory'] });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // Long tasks and frame gaps, collected from the first script on.
  await page.addInitScript(() => {
    window.__long = [];
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long.push({ start: e.startTime, ms: e.duration }); }).observe({ type: 'longtask', buffered: true });
  });
  const settle = () => page.waitForFunction(() => document.querySelector('[data-status="ready"]') && !document.querySelector('.charts .waiting, .bars-area .waiting'), null, { timeout: 120000 });
  // A prompt of TOKENS - 10 tokens: the text is cut by the page's own tokenizer count.
  let prompt = PARA.repeat(Math.ceil(TOKENS / 30));
  await page.goto(`${server.url}?model=${encodeURIComponent(MODEL)}&keep=start&prompt=${encodeURIComponent(prompt)}`);
  await settle();
  const kept = await page.$$eval('.tokens .tok-text', (els) => els.map((e) => e.textContent.replace(/␣/g, ' ').replace(/↵/g, '\n')));
  prompt = kept.slice(0, TOKENS - 10).join('');
  await page.goto(`${server.url}?model=${encodeURIComponent(MODEL)}&prompt=${encodeURIComponent(prompt)}`);
  await settle();
  const nTok = await page.$$eval('.tokens .tok', (els) => els.length);

  const phases = {};
  const mark = () => page.evaluate(() => performance.now());
  const collect = async (name, t0) => {
    const t1 = await mark();
    const tasks = await page.evaluate(([a, b]) => window.__long.filter((e) => e.start >= a && e.start < b).map((e) => e.ms), [t0, t1]);
    // The views whose render took over 20 ms in the phase (main.js measures each render), slowest first.
    const views = await page.evaluate(([a, b]) => performance.getEntriesByType('measure').filter((e) => e.name.startsWith('render:') && e.startTime >= a && e.startTime < b && e.duration > 20)
      .sort((x, y) => y.duration - x.duration).slice(0, 6).map((e) => `${e.name.slice(7)} ${Math.round(e.duration)} ms`), [t0, t1]);
    phases[name] = { ms: Math.round(t1 - t0), longTasks: tasks.length, maxTaskMs: Math.round(Math.max(0, ...tasks)), totalLongMs: Math.round(tasks.reduce((a, b) => a + b, 0)), slowRenders: views };
  };

  // 1. Step through the whole walk with Next.
  let t0 = await mark();
  let steps = 0;
  const perStep = [];
  while (steps < 200 && await page.$eval('[data-act="next"]', (b) => !b.disabled)) {
    const a = await mark();
    try { await page.click('[data-act="next"]', { timeout: 5000 }); } catch { break; } // the last step disables Next
    await settle();
    steps++;
    const b = await mark();
    const worst = await page.evaluate(([x, y]) => Math.max(0, ...window.__long.filter((e) => e.start >= x && e.start < y).map((e) => e.ms)), [a, b]);
    const views = await page.evaluate(([x, y]) => performance.getEntriesByType('measure').filter((e) => e.name.startsWith('render:') && e.startTime >= x && e.startTime < y && e.duration > 20)
      .map((e) => `${e.name.slice(7)} ${Math.round(e.duration)} ms`), [a, b]);
    perStep.push({ views, step: await page.textContent('.stage-where').catch(() => '') + ' ' + await page.textContent('.stage-title').catch(() => ''), maxTaskMs: Math.round(worst) });
  }
  perStep.sort((x, y) => y.maxTaskMs - x.maxTaskMs);
  phases.worstSteps = perStep.slice(0, 8);
  await collect(`step (${steps} steps)`, t0);

  // 2. Generate 10 tokens (up to the context's length) on the attention pattern.
  await page.evaluate(() => { const u = new URL(location.href); u.searchParams.set('stage', 'softmax'); u.searchParams.set('layer', '1'); history.replaceState(null, '', u); });
  await page.goto(page.url());
  await settle();
  t0 = await mark();
  const before = await page.$$eval('.tokens .tok', (els) => els.length);
  await page.click('[data-act="gen10"]');
  await page.waitForFunction((n) => document.querySelectorAll('.tokens .tok').length >= n, before + 10, { timeout: 120000 });
  await settle();
  await collect('generate 10', t0);

  // 3. Hover: sweep the zoom window, drag across the overview, hover the tokens.
  t0 = await mark();
  // The stage re-renders when a late answer arrives (a new prediction): retry a sweep whose element went away.
  const sweep = async (...a) => { for (let k = 0; k < 3; k++) { try { return await sweepOnce(...a); } catch { await page.mouse.up().catch(() => {}); } } };
  const sweepOnce = async (sel, n = 40, drag = false) => {
    const el = page.locator(sel).first();
    if (!(await el.count())) return;
    await el.scrollIntoViewIfNeeded();
    const b = await el.boundingBox();
    if (!b) return;
    if (drag) await page.mouse.move(b.x + 2, b.y + 2), await page.mouse.down();
    for (let i = 0; i <= n; i++) await page.mouse.move(b.x + (b.width * i) / n, b.y + (b.height * i) / n);
    if (drag) await page.mouse.up();
  };
  await sweep('.stage-card .ov-zoom canvas');
  await sweep('.stage-card .ov-canvas', 40, true);
  await sweep('.stage-card .arcs');
  await sweep('.tokens', 60);
  await collect('hover', t0);

  let memory = null;
  try {
    memory = await page.evaluate(async () => {
      if (!performance.measureUserAgentSpecificMemory) return null;
      const m = await performance.measureUserAgentSpecificMemory();
      return { bytes: m.bytes, breakdown: m.breakdown.filter((b) => b.bytes > 1e6).map((b) => ({ mb: +(b.bytes / 1e6).toFixed(1), types: b.types, url: b.attribution?.[0]?.url?.replace(/\?.*/, '') })) };
    });
  } catch (e) { memory = { error: e.message }; }
  const heap = await page.evaluate(() => (performance.memory ? performance.memory.usedJSHeapSize : null));
  // The tab as the OS sees it: resident memory of the browser's renderer processes (the page, its
  // engine worker and the wasm heap live there), from ps, Linux only.
  let rendererMB = null;
  try {
    const root = process.pid; // the browser is a child of this process
    const rows = execFileSync('ps', ['-e', '-o', 'pid=,ppid=,rss=,args='], { encoding: 'utf8' }).split('\n').map((l) => l.trim().split(/\s+/));
    const kids = new Set([root]);
    for (let k = 0; k < 4; k++) for (const r of rows) if (kids.has(Number(r[1]))) kids.add(Number(r[0]));
    // One renderer per site instance; the page's is the largest (a spare renderer idles at a few MB).
    const rss = rows.filter((r) => kids.has(Number(r[0])) && r.slice(3).join(' ').includes('--type=renderer')).map((r) => +(Number(r[2]) / 1024).toFixed(1));
    rendererMB = { page: Math.max(...rss), all: rss };
  } catch { /* not Linux */ }
  const result = { model: MODEL, tokens: nTok + 10, phases, memoryMB: memory && memory.bytes ? +(memory.bytes / 1e6).toFixed(1) : null, memory, pageHeapMB: heap && +(heap / 1e6).toFixed(1), rendererRssMB: rendererMB, errors };
  console.log(JSON.stringify(result, null, 2));
  if (OUT) fs.writeFileSync(OUT, JSON.stringify(result, null, 2));
  await browser.close();
  await server.close();
}

main().catch((e) => { console.error(e); process.exit(1); });
