#!/usr/bin/env node
/* timing.js — step and click-to-update times of the page, for the record
 * (not a test: speed is reported, never asserted). In Chromium on dist/:
 *   node tests/e2e/timing.js                 the default model
 *   node tests/e2e/timing.js --gpt2-small    a GPT-2-small-shaped random checkpoint (build/e2e-gpt2-small)
 * Each time runs from the click (or key, or typed seed) to the page's last
 * render after the engine's answers for the new state arrived (main.js marks
 * glassbox:answer:<field> and glassbox:render). Median of the repeats. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, setup } from './helpers.js';
import { writeSynthModel } from './synth-model.js';

const small = process.argv.includes('--gpt2-small');
const DIR = path.join(ROOT, 'build/e2e-gpt2-small');

/** ms from act() until every answer in `fields` is newer than the act, then the render after them. */
async function time(page, act, fields, timeout = 120000) {
  const t0 = await page.evaluate(() => performance.now());
  await act();
  const done = await page.waitForFunction(([fs, t]) => {
    const at = (n) => performance.getEntriesByName(n).at(-1)?.startTime ?? -1;
    const last = Math.max(...fs.map((f) => at(`glassbox:answer:${f}`)));
    if (fs.some((f) => at(`glassbox:answer:${f}`) < t)) return false;
    const r = at('glassbox:render');
    return r > last ? r : false;
  }, [fields, t0], { timeout, polling: 20 });
  return (await done.jsonValue()) - t0;
}
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (xs) => `${median(xs).toFixed(0)} ms (median of ${xs.length}; ${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`;

const env = await setup();
try {
  const rec = await env.open('', { waitLive: !small });
  const { page } = rec;
  const t0 = Date.now();
  if (small) {
    if (!fs.existsSync(path.join(DIR, 'model.safetensors'))) writeSynthModel(DIR, { layers: 12, heads: 12, embd: 768, ctx: 1024 });
    await page.setInputFiles('.dir-input', DIR);
    await page.waitForFunction(() => /12 layers/.test(document.querySelector('.model-config')?.textContent || '') && document.querySelector('[data-status="ready"]'), null, { timeout: 180000 });
    await page.waitForFunction(() => !document.querySelector('.charts .waiting') && !document.querySelector('.bars-area .waiting'), null, { timeout: 60000 });
  }
  const cfg = await page.textContent('.model-config');
  console.log(`model: ${cfg}${small ? ` (loaded in ${Date.now() - t0} ms)` : ''}`);
  console.log(`machine: ${os.cpus().length} × ${os.cpus()[0].model}, load average ${os.loadavg()[0].toFixed(1)}`);
  // Scroll the comparison and lens into view so they are computed too (they are only while on screen).
  await page.setViewportSize({ width: 1280, height: 4000 });
  const T = await page.$$eval('.tokens .tok', (e) => e.length);
  console.log(`prompt: ${T} tokens`);

  const steps = [];
  await page.click('.map-block[data-layer="0"]');
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  for (let i = 0; i < 14; i++) steps.push(await time(page, () => page.keyboard.press('ArrowRight'), ['stepData']));
  console.log(`step (→, next step's payload drawn): ${fmt(steps)}`);

  const seeds = [];
  for (let i = 0; i < 5; i++) seeds.push(await time(page, () => page.fill('input[data-field="seed"]', String(100 + i)), ['predict', 'compare']));
  console.log(`seed typed → draw and comparison updated: ${fmt(seeds)}`);

  const temps = [];
  for (const v of ['0.5', '1', '0.7']) temps.push(await time(page, () => page.$eval('input[data-field="temperature"]', (e, x) => { e.value = x; e.dispatchEvent(new Event('input', { bubbles: true })); }, v), ['predict', 'compare']));
  console.log(`temperature moved → sampling updated: ${fmt(temps)}`);

  const ablate = [];
  for (let i = 0; i < 4; i++) {
    const h = i % 2;
    ablate.push(await time(page, () => page.click(`.hg-cell[data-layer="0"][data-head="${h}"]`), ['run', 'stepData', 'predict', 'compare', 'lens']));
  }
  console.log(`head ablation clicked → every view updated (step, sampling, comparison, lens): ${fmt(ablate)}`);

  const gens = [];
  for (let i = 0; i < 3; i++) {
    gens.push(await time(page, async () => {
      await page.click('[data-act="gen1"]');
      await page.waitForFunction((n) => document.querySelectorAll('.tokens .tok-gen').length === n && !document.querySelector('[data-act="gen1"]').disabled, i + 1, { timeout: 120000 });
    }, ['predict', 'lens']));
  }
  console.log(`Generate (one token) → every view updated: ${fmt(gens)}`);

  const prompts = [];
  for (const p of ['The cat sat on the mat', 'Once upon a time there was']) prompts.push(await time(page, () => page.fill('.prompt-input', p), ['run', 'stepData', 'predict', 'lens']));
  console.log(`prompt typed → every view updated (includes the 120 ms typing debounce): ${fmt(prompts)}`);
} finally {
  await env.close();
}
