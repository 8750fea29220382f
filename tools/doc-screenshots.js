#!/usr/bin/env node
/* doc-screenshots.js — the screenshots docs/ shows for issue 14, from dist/
 * in headless Chromium: a tutorial page on another origin with two embeds
 * (made with "Copy embed code"), the first-visit tour, and a long prompt's
 * attention overview + zoom with the kept-text mark.
 *
 *   node tools/doc-screenshots.js     (needs ./build.sh and /usr/bin/chromium) */
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from './serve.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DOCS = path.join(ROOT, 'docs');
const PARA = 'She opened the door and looked out at the sea. The wind was cold, and the boats were coming home one by one, their sails dark against the evening sky. ';
const ready = (p) => p.waitForFunction(() => document.querySelector('[data-status="ready"]') && !document.querySelector('.charts .waiting, .bars-area .waiting'), null, { timeout: 60000 });

const site = await startServer(path.join(ROOT, 'dist'));
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });

// 1. The snippets, from the main page.
const main = await browser.newPage({ viewport: { width: 1280, height: 800 } });
const snippet = async (q, view) => {
  await main.goto(`${site.url}${q}`);
  await ready(main);
  await main.click('[data-act="embed"]');
  await main.waitForSelector('.share-out[data-ready="1"]');
  if (view !== 'stage') { await main.selectOption('[data-share="view"]', view); await main.waitForFunction((v) => document.querySelector('.share-out').dataset.ready === '1' && document.querySelector('.share-text').value.includes(`view=${v}`), view); }
  return main.inputValue('.share-text');
};
const a = await snippet('?stage=softmax&layer=1&head=3&prompt=The%20cat%20sat%20on%20the%20mat%20because%20it%20was%20tired', 'stage');
const b = await snippet('?prompt=The%20cat%20sat%20on%20the%20mat%20because%20it%20was%20tired', 'sampling');

// 2. A tutorial page on another origin.
const host = http.createServer((req, res) => { res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }); res.end(`<!doctype html><meta charset="utf-8"><title>Attention, a tutorial</title>
<body style="font:17px/1.5 Georgia,serif;max-width:860px;margin:24px auto;color:#222">
<h1 style="margin:0 0 8px">How a transformer decides what “it” refers to</h1>
<p>Below is block 2 of a small GPT-2, running in your browser. Each row of the heatmap is a token; the bright cells show which earlier tokens it attends to. Hover a cell to read its weight.</p>
${a}
<p>The model's final guess for the next token, with the sampling settings, is live too:</p>
${b}
<p>Both frames size themselves to their content.</p></body>`); });
await new Promise((r) => host.listen(0, '127.0.0.1', r));
const page = await browser.newPage({ viewport: { width: 900, height: 2300 } });
await page.goto(`http://127.0.0.1:${host.address().port}/`);
for (const f of await page.$$('iframe')) { const fr = await f.contentFrame(); await ready(fr); }
await page.waitForTimeout(500);
const h = await page.evaluate(() => Math.ceil(document.body.getBoundingClientRect().bottom + 24));
await page.screenshot({ path: path.join(DOCS, 'tutorial-embeds.png'), clip: { x: 0, y: 0, width: 900, height: Math.min(h, 2300) } });

// 3. The tour on a first visit.
const intro = await browser.newPage({ viewport: { width: 1100, height: 640 } });
await intro.goto(site.url);
await ready(intro);
await intro.click('[data-act="intro-next"]');
await intro.click('[data-act="intro-next"]');
await intro.screenshot({ path: path.join(DOCS, 'intro.png') });

// 4. A long prompt: the kept text marked, the attention overview and its zoom.
const long = await browser.newPage({ viewport: { width: 1100, height: 1500 } });
await long.goto(`${site.url}?stage=softmax&layer=1&prompt=${encodeURIComponent(PARA.repeat(8) + 'At last the first boat reached the harbour')}`);
await ready(long);
await long.evaluate(() => localStorage.setItem('glassbox.intro.v1', 'done'));
await long.reload();
await ready(long);
await long.locator('.prompt-box').screenshot({ path: path.join(DOCS, 'long-prompt-kept.png') });
await long.locator('.stage-card .fig-body').first().screenshot({ path: path.join(DOCS, 'long-prompt-overview.png') });

await browser.close();
host.close();
await site.close();
console.log('docs/tutorial-embeds.png docs/intro.png docs/long-prompt-kept.png docs/long-prompt-overview.png');
