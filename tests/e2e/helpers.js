/* helpers.js — shared setup for the browser tests (not a test itself):
 * Debian's Chromium through playwright-core, dist/ served in-process on an
 * ephemeral port, and a page wrapper that records console messages, page
 * errors and every request URL so each test can assert on them. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../../tools/serve.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DIST = path.join(ROOT, 'dist');
export const SHOTS = path.join(ROOT, 'build/screenshots');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const LAUNCH_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** Why the browser suite cannot run, or null. */
export function missing() {
  if (!fs.existsSync(path.join(DIST, 'index.html'))) return 'dist/ is not built (run ./build.sh)';
  if (!fs.existsSync(path.join(DIST, 'models/default/config.json'))) return 'dist/models/default is missing';
  if (!fs.existsSync(CHROMIUM)) return `${CHROMIUM} is not installed (apt-get install chromium)`;
  return null;
}

/** Starts the server (isolated: false leaves out COOP/COEP) and the browser; returns {url, browser, open, close}. */
export async function setup({ isolated = true } = {}) {
  const server = await startServer(DIST, 0, '127.0.0.1', { isolated });
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: LAUNCH_ARGS });
  const pages = [];
  /**
   * Opens a page at path (relative to the site) and records its traffic.
   * @returns {Promise<{page, console: {type, text}[], errors: Error[], requests: string[]}>}
   */
  async function open(rel = '', { width = 1280, height = 800, waitLive = true } = {}) {
    const context = await browser.newContext({ viewport: { width, height }, deviceScaleFactor: 1 });
    const page = await context.newPage();
    const rec = { page, context, console: [], errors: [], requests: [] };
    page.on('console', (m) => rec.console.push({ type: m.type(), text: m.text() }));
    page.on('pageerror', (e) => rec.errors.push(e));
    context.on('request', (r) => rec.requests.push(r.url()));
    context.on('weberror', (e) => rec.errors.push(e.error()));
    await page.goto(new URL(rel, server.url).href);
    if (waitLive) await waitLiveFn(page);
    pages.push(rec);
    return rec;
  }
  return {
    url: server.url, browser, open,
    async close() {
      for (const p of pages) await p.context.close().catch(() => {});
      await browser.close();
      await server.close();
    },
  };
}

/** Waits until the engine has loaded the model and the page shows live data. */
export async function waitLiveFn(page, timeout = 20000) {
  await page.waitForSelector('[data-status="ready"]', { timeout });
  await page.waitForFunction(() => !document.querySelector('.charts .waiting') && !document.querySelector('.bars-area .waiting'), null, { timeout });
}

/** Console errors and warnings (the page must have none). */
export function problems(rec) {
  return [...rec.console.filter((m) => m.type === 'error' || m.type === 'warning').map((m) => `${m.type}: ${m.text}`),
    ...rec.errors.map((e) => `pageerror: ${e && e.message}`)];
}

export async function shot(page, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

/** Screenshot of one element (a view), for looking at a view on its own. */
export async function shotEl(page, selector, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.locator(selector).screenshot({ path: path.join(SHOTS, `${name}.png`) });
}
