#!/usr/bin/env node
/* longtasks.js — main-thread long tasks while a learner steps, generates and
 * hovers on a long prompt, measured in headless Chromium with the Long Tasks
 * API (PerformanceObserver 'longtask': every task over 50 ms), plus the tab's
 * memory (performance.measureUserAgentSpecificMemory: JS heaps and wasm
 * memory of the page and its engine worker).
 *
 *   node bench/longtasks.js                 both runs below -> bench/results/longtasks.json + LONGTASKS.md
 *   node bench/longtasks.js --only small    the default model at 256 tokens (stepping, generating, hovering)
 *   node bench/longtasks.js --only big      1,024 tokens on a GPT-2-small-shaped checkpoint: prefill, a click
 *                                           on another layer/head drawn end to end (median, max), Long Tasks, memory
 *                                           then, at 1,014 tokens, stepping (the first --big-steps), generating 10, hovering
 *   [--tokens 256] [--model URL-in-dist] [--big-model DIR] [--clicks 10] [--big-steps 16] [--out FILE.json]
 *
 * --big-model: a Hugging Face GPT-2 directory (default bench/results/tmp/model, the
 * 124M random-weights checkpoint bench/run.js makes; ./build.sh bench runs this after it).
 * Its four files are hard-linked (or copied) into dist/bench-model/ for the run and removed after.
 *
 * Needs dist/ (./build.sh) and /usr/bin/chromium. Not part of ./build.sh test:
 * it reports figures and asserts nothing. The small run's prompt is cut to
 * `tokens - 10` tokens so that generating 10 reaches the context's length. */
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
const ONLY = arg('only', null);
const BIG = path.resolve(ROOT, arg('big-model', 'bench/results/tmp/model'));
const CLICKS = Number(arg('clicks', 10));
const STEPS_BIG = Number(arg('big-steps', 16));
const RESULTS = path.join(ROOT, 'bench/results');
const PARA = 'She opened the door and looked out at the sea. The wind was cold, and the boats were coming home one by one, their sails dark against the evening sky. ';

async function newPage(browser) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // Long tasks, collected from the first script on.
  await page.addInitScript(() => {
    window.__long = [];
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long.push({ start: e.startTime, ms: e.duration }); }).observe({ type: 'longtask', buffered: true });
  });
  return { page, errors };
}

/** The tab's memory: what the page and its worker hold (measureUserAgentSpecificMemory), the JS heap, the renderer's RSS. */
async function memoryOf(page) {
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
  return { memoryMB: memory && memory.bytes ? +(memory.bytes / 1e6).toFixed(1) : null, memory, pageHeapMB: heap && +(heap / 1e6).toFixed(1), rendererRssMB: rendererMB };
}

/** Waits until the page is live and its stage and sampling views have drawn. */
const settled = (page) => () => page.waitForFunction(() => document.querySelector('[data-status="ready"]') && !document.querySelector('.charts .waiting, .bars-area .waiting'), null, { timeout: 300000 });

/** The text of the first n tokens the page at url shows (url null: the page as it is), cut by the page's own tokenizer. */
async function tokensText(page, url, n) {
  if (url) await page.goto(url);
  await settled(page)();
  const kept = await page.$$eval('.tokens .tok-text', (els) => els.map((e) => e.textContent.replace(/␣/g, ' ').replace(/↵/g, '\n')));
  return kept.slice(0, n).join('');
}

async function small(browser, server) {
  const { page, errors } = await newPage(browser);
  // A prompt of TOKENS - 10 tokens, so that generating 10 reaches the context's length.
  const base = `${server.url}?model=${encodeURIComponent(MODEL)}`;
  const prompt = await tokensText(page, `${base}&keep=start&prompt=${encodeURIComponent(PARA.repeat(Math.ceil(TOKENS / 30)))}`, TOKENS - 10);
  await page.goto(`${base}&prompt=${encodeURIComponent(prompt)}`);
  await settled(page)();
  const nTok = await page.$$eval('.tokens .tok', (els) => els.length);
  const phases = await walk(page, {});
  const result = { model: MODEL, tokens: nTok + 10, phases, ...(await memoryOf(page)), errors };
  await page.close();
  return result;
}

/**
 * A learner's session on the page as it stands: step with Next (up to maxSteps), generate 10
 * tokens on block 2's attention pattern, hover the zoom window, the overview, the arcs and the
 * tokens. Per phase: the main-thread long tasks and the slowest view renders.
 */
async function walk(page, { maxSteps = 200 }) {
  const settle = settled(page);
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

  // 0. The page's own work in the second after it first drew (views below the fold, the tools).
  let t0 = await mark();
  await page.waitForTimeout(1000);
  await collect('the second after loading', t0);

  // 1. Step through the walk with Next. A step's tasks: from its click to the next click.
  t0 = await mark();
  let steps = 0;
  const perStep = [];
  while (steps < maxSteps && await page.$eval('[data-act="next"]', (b) => !b.disabled)) {
    const a = await mark();
    try { await page.click('[data-act="next"]', { timeout: 5000 }); } catch { break; } // the last step disables Next
    await settle();
    steps++;
    perStep.push({ a, step: await page.textContent('.stage-where').catch(() => '') + ' ' + await page.textContent('.stage-title').catch(() => '') });
  }
  const end = await mark();
  for (const [i, p] of perStep.entries()) {
    const b = i + 1 < perStep.length ? perStep[i + 1].a : end;
    const worst = await page.evaluate(([x, y]) => Math.max(0, ...window.__long.filter((e) => e.start >= x && e.start < y).map((e) => e.ms)), [p.a, b]);
    p.views = await page.evaluate(([x, y]) => performance.getEntriesByType('measure').filter((e) => e.name.startsWith('render:') && e.startTime >= x && e.startTime < y && e.duration > 20)
      .map((e) => `${e.name.slice(7)} ${Math.round(e.duration)} ms`), [p.a, b]);
    p.maxTaskMs = Math.round(worst);
    delete p.a;
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

  return phases;
}

/* ------------------------------------------------------------------ 1,024 tokens on GPT-2 small */

/** The checkpoint's files in dist/bench-model/ (hard links: no copy of 500 MB when on one file system). */
function linkBigModel() {
  const dir = path.join(ROOT, 'dist/bench-model');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const f of ['config.json', 'model.safetensors', 'vocab.json', 'merges.txt']) {
    const from = path.join(BIG, f), to = path.join(dir, f);
    try { fs.linkSync(from, to); } catch { fs.copyFileSync(from, to); }
  }
  return () => fs.rmSync(dir, { recursive: true, force: true });
}

const median = (a) => { const b = [...a].sort((x, y) => x - y); return b.length ? (b[(b.length - 1) >> 1] + b[b.length >> 1]) / 2 : null; };

async function big(browser, server) {
  if (!fs.existsSync(path.join(BIG, 'model.safetensors'))) return { skipped: `${path.relative(ROOT, BIG)}/model.safetensors is missing (bench/run.js makes it)` };
  const unlink = linkBigModel();
  try {
    const { page, errors } = await newPage(browser);
    const cfg = JSON.parse(fs.readFileSync(path.join(BIG, 'config.json'), 'utf8'));
    const ctx = cfg.n_positions || cfg.n_ctx || 1024;
    // A text well over the context: the page keeps its last ctx tokens (the default).
    const prompt = PARA.repeat(Math.ceil((ctx * 1.3) / 30));
    const t0 = Date.now();
    await page.goto(`${server.url}?model=bench-model/&stage=softmax&layer=0&head=0&prompt=${encodeURIComponent(prompt)}`);
    const ready = () => page.waitForFunction(() => {
      const b = document.querySelector('.stage-card .charts');
      return document.querySelector('[data-status="ready"]') && b && !b.querySelector('.waiting') && b.querySelector('.ov-canvas') && performance.getEntriesByName('glassbox:run').length;
    }, null, { timeout: 300000, polling: 200 });
    await ready();
    const firstViewS = (Date.now() - t0) / 1000;
    const run = await page.evaluate(() => performance.getEntriesByName('glassbox:run').at(-1).detail);
    const store = await page.textContent('.store-note').catch(() => null);
    await page.waitForTimeout(1500); // let the other views settle before the clicks
    const a = await page.evaluate(() => performance.now());
    // Clicks: alternate another head and another layer; each timed from the change to the frame painted after
    // the stage shows that head's overview, to the end of the frame that paints it.
    const clicks = [];
    for (let i = 0; i < CLICKS; i++) {
      const which = i % 2 ? 'layer' : 'head';
      const n = which === 'head' ? cfg.n_head : cfg.n_layer;
      const cur = await page.$eval(`select[data-field="${which}"]`, (e) => Number(e.value));
      const next = (cur + 1 + (i >> 1)) % n === cur ? (cur + 1) % n : (cur + 1 + (i >> 1)) % n;
      const ms = await page.evaluate(async ({ which, next }) => {
        const sel = document.querySelector(`select[data-field="${which}"]`);
        const t = performance.now();
        sel.value = String(next);
        sel.dispatchEvent(new Event('change', { bubbles: true }));
        await new Promise((done) => {
          const check = () => {
            const b = document.querySelector('.stage-card .charts');
            const ok = b && !b.querySelector('.waiting') && b.querySelector('.ov-canvas') && b.dataset[which === 'head' ? 'attnHead' : 'layer'] === String(next);
            // Drawn: the next frame's rendering runs after its animation-frame callbacks, so a task queued
            // from one runs once that frame is painted.
            if (ok) requestAnimationFrame(() => { const ch = new MessageChannel(); ch.port1.onmessage = done; ch.port2.postMessage(0); }); else requestAnimationFrame(check);
          };
          check();
        });
        return performance.now() - t;
      }, { which, next });
      clicks.push({ what: `${which} ${next}`, ms: Math.round(ms) });
      await page.waitForTimeout(300);
    }
    const b = await page.evaluate(() => performance.now());
    const tasks = await page.evaluate(([x, y]) => window.__long.filter((e) => e.start >= x && e.start < y).map((e) => Math.round(e.ms)), [a, b]);
    const all = await page.evaluate(() => window.__long.map((e) => Math.round(e.ms)));
    const ms = clicks.map((c) => c.ms);
    const mem = await memoryOf(page);
    // Then a learner's session at ctx - 10 tokens (so that Generate 10 fills the context): the first
    // STEPS_BIG steps of the walk, generating, hovering.
    const text = await tokensText(page, null, ctx - 10);
    await page.goto(`${server.url}?model=bench-model/&prompt=${encodeURIComponent(text)}`);
    await settled(page)();
    const phases = await walk(page, { maxSteps: STEPS_BIG });
    const result = {
      model: `${path.relative(ROOT, BIG)} (${cfg.n_layer} layers, ${cfg.n_head} heads, n_embd ${cfg.n_embd}, vocab ${cfg.vocab_size})`,
      tokens: run.tokens, store: run.store, storeNote: store, prefillMs: Math.round(run.runMs), firstViewS: +firstViewS.toFixed(1),
      click: { median: median(ms), max: Math.max(...ms), clicks },
      clickLongTasks: { count: tasks.length, maxMs: Math.max(0, ...tasks), all: tasks },
      longTasksSinceLoad: { count: all.length, maxMs: Math.max(0, ...all) },
      ...mem, phases, memoryAfterWalkMB: (await memoryOf(page)).memoryMB, errors,
    };
    await page.close();
    return result;
  } finally { unlink(); }
}

/** A phase table (long tasks per phase) and the worst steps, as markdown lines. */
function phaseRows(phases, title) {
  const L = title ? [title + ':', ''] : [];
  L.push('| phase | long tasks (> 50 ms) | longest task | total in long tasks |', '|---|---:|---:|---:|');
  for (const [k, v] of Object.entries(phases)) if (v && v.longTasks != null) L.push(`| ${k} | ${v.longTasks} | ${v.maxTaskMs} ms | ${v.totalLongMs} ms |`);
  L.push('', `Worst steps: ${(phases.worstSteps || []).slice(0, 4).map((w) => `${w.step.trim()} ${w.maxTaskMs} ms`).join('; ')}.`, '');
  return L;
}

function markdown(r) {
  const s = r.small, g = r.big;
  const L = [`## Main-thread long tasks and a 1,024-token click (bench/longtasks.js)`, '',
    `Machine: ${r.machine}. ${r.date}. Long tasks: the Long Tasks API (every task over 50 ms) in headless Chromium; memory:`,
    'performance.measureUserAgentSpecificMemory (page + engine worker + wasm memory) and the renderer process RSS. Times on a shared VM: upper bounds.', ''];
  if (s) {
    L.push(`### Default model, ${s.tokens} tokens`, '', ...phaseRows(s.phases, null),
      `Tab: ${s.memoryMB} MB (measureUserAgentSpecificMemory), renderer RSS ${s.rendererRssMB?.page} MB.`, '');
  }
  if (g && !g.skipped) {
    L.push(`### GPT-2-small shape, ${g.tokens} tokens`, '', `Model: ${g.model}. Store: ${g.store?.keepAll ? 'full' : 'low-memory'} (${Math.round((g.store?.bytes || 0) / 1e6)} MB; the full store would take ${Math.round((g.store?.fullBytes || 0) / 1e6)} MB).`, '',
      '| figure | measured | target |', '|---|---:|---:|',
      `| prefill (${g.tokens} tokens, in the engine worker) | ${(g.prefillMs / 1000).toFixed(2)} s | — |`,
      `| click on another layer/head, drawn (median of ${g.click.clicks.length}) | ${g.click.median} ms | ≤ 100 ms |`,
      `| same, max | ${g.click.max} ms | ≤ 100 ms |`,
      `| main-thread tasks over 50 ms during the clicks | ${g.clickLongTasks.count} (longest ${g.clickLongTasks.maxMs} ms) | 0 |`,
      `| tab memory (measureUserAgentSpecificMemory) | ${g.memoryMB} MB | < 1,500 MB |`,
      `| renderer process RSS | ${g.rendererRssMB?.page} MB | < 1,500 MB |`,
      `| tab memory after the session below | ${g.memoryAfterWalkMB} MB | < 1,500 MB |`, '');
    if (g.phases) L.push(...phaseRows(g.phases, `At ${g.tokens - 10} tokens (the first steps of the walk, then generating 10 up to the context, then hovering)`));
  } else if (g) L.push(`### GPT-2-small shape: skipped (${g.skipped})`, '');
  return L.join('\n');
}

async function main() {
  const server = await startServer(path.join(ROOT, 'dist'));
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--enable-blink-features=ForceEagerMeasureMemory'] });
  const result = { machine: '2-vCPU AMD EPYC VM, Chromium ' + (await browser.version()), date: new Date().toISOString().slice(0, 10) };
  try {
    if (ONLY !== 'big') result.small = await small(browser, server);
    if (ONLY !== 'small') result.big = await big(browser, server);
  } finally {
    await browser.close();
    await server.close();
  }
  console.log(JSON.stringify(result, null, 2));
  fs.writeFileSync(OUT || path.join(RESULTS, 'longtasks.json'), JSON.stringify(result, null, 2) + '\n');
  if (!OUT) fs.writeFileSync(path.join(RESULTS, 'LONGTASKS.md'), markdown(result) + '\n');
}

main().catch((e) => { console.error(e); process.exit(1); });
