/* interp.test.js — issue 13 in the page: the interpretability views read the
 * engine through the worker, and every number equals a Node run of the JS API
 * (wasm/interp.js) for the same state.
 *
 *  - README's pair on the default model (clean `said Stubb. "Aye," said`,
 *    corrupted `said Queequeg. "Aye," said`, target ` Stubb`, distractor
 *    ` Queequeg`): each patching grid's cells, both baselines and the DLA
 *    parts equal the JS API's; the DLA parts add up to the total (1e-4).
 *  - Enter on a focused hook_z cell adds that patch to the run: the badge says
 *    so, and the logit lens and the sampling view then show the engine's
 *    patched numbers (JS API with the same entry); the link reproduces it,
 *    and so does the embed of the patching view; "clear" gives the clean run back.
 *  - A long grid (a 19-sentence prompt) shows progress and cancel stops it:
 *    the page shows "Cancelled" only once the worker's job has thrown at its
 *    next chunk, with fewer cells done than the grid has.
 *  - The head finder on the induction lesson model ranks its copying head
 *    (1.1, the lesson card's head) first, with the JS API's scores.
 * Numbers are read from the cells' data attributes (the engine's float32
 * values as the page received them). */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { Glassbox } from '../../wasm/glassbox.js';
import * as interp from '../../wasm/interp.js';
import { DIST, missing, problems, setup } from './helpers.js';

const skip = missing() || false; // (node 20 reads skip: null as a skip)
const MODEL = path.join(DIST, 'models/default');
const CLEAN = 'said Stubb. "Aye," said';
const CORRUPTED = 'said Queequeg. "Aye," said';
const HOOKS = ['hook_resid_pre', 'hook_attn_out', 'hook_mlp_out', 'attn.hook_z'];

async function engine(dir = MODEL) {
  const gb = await Glassbox.create({ wasm: fs.readFileSync(path.join(DIST, 'glassbox.wasm')) });
  await gb.loadModelFromUrl(pathToFileURL(`${dir}/`));
  return gb;
}

const linkOf = (o) => `?${new URLSearchParams(o).toString()}`;

/** Reads a grid's cells (data-v) once it shows hook's grid. */
async function readGrid(page, root, hook) {
  const sel = `${root} .pt-grid[data-hook="${hook}"] .pt-cell`;
  await page.waitForSelector(sel, { timeout: 20000 });
  return page.$$eval(sel, (els) => els.map((e) => Number(e.dataset.v)));
}

describe('interpretability views on the default model', { skip }, () => {
  let env, gb, target, distractor, cleanIds, corrIds;
  before(async () => {
    env = await setup();
    gb = await engine();
    target = gb.tokenize(' Stubb').ids[0];
    distractor = gb.tokenize(' Queequeg').ids[0];
    cleanIds = gb.tokenize(CLEAN).ids;
    corrIds = gb.tokenize(CORRUPTED).ids;
    assert.equal(cleanIds.length, corrIds.length, "README's pair has equal token counts");
  });
  after(async () => { await env?.close(); });

  const state = { prompt: CORRUPTED, src: CLEAN };

  test('patching grids and DLA equal the JS API for the same state', async () => {
    const base = { ...state, tgt: String(target), dis: String(distractor) };
    const rec = await env.open(linkOf(base));
    const { page } = rec;
    await page.locator('[data-view="patching"]').scrollIntoViewIfNeeded();
    gb.clearInterventions();
    gb.setTokens(corrIds);
    interp.setPatchSource(gb, cleanIds);
    for (const hook of HOOKS) {
      if (hook !== 'hook_resid_pre') await page.click(`[data-view="patching"] [data-act="hook"][data-hook="${hook}"]`);
      const want = await interp.patchGridAll(gb, hook, target, distractor);
      const got = await readGrid(page, '[data-view="patching"]', hook);
      assert.equal(got.length, want.values.length, `${hook}: ${want.rows} × ${want.cols} cells`);
      for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i] - want.values[i]) <= 1e-6, `${hook} cell ${i}: page ${got[i]}, JS API ${want.values[i]}`);
      assert.equal(Number(await page.getAttribute('[data-ld-clean]', 'data-ld-clean')), want.ldClean);
      assert.equal(Number(await page.getAttribute('[data-ld-corrupted]', 'data-ld-corrupted')), want.ldCorrupted);
    }
    await page.waitForFunction(() => /ph=attn\.hook_z/.test(location.search), null, { timeout: 5000 });
    // README's finding: head 3.2 restores the most of any head.
    const z = await readGrid(page, '[data-view="patching"]', 'attn.hook_z');
    assert.equal(z.indexOf(Math.max(...z)), 3 * gb.config.n_head + 2);

    // DLA on the run (the corrupted prompt) with the same tokens.
    await page.locator('[data-view="dla"]').scrollIntoViewIfNeeded();
    await page.waitForSelector('[data-view="dla"] [data-dla-total]', { timeout: 20000 });
    gb.setTokens(corrIds);
    const d = interp.dla(gb, target, distractor);
    assert.equal(Number(await page.getAttribute('[data-dla-total]', 'data-dla-total')), d.total);
    const heads = await page.$$eval('[data-view="dla"] [data-head]', (els) => els.map((e) => Number(e.dataset.v)));
    assert.deepEqual(heads, Array.from(d.heads));
    const sum = Number(await page.getAttribute('[data-dla-sum]', 'data-dla-sum'));
    assert.ok(Math.abs(sum - d.total) <= 1e-4, `parts ${sum} vs total ${d.total}`);
    // A head's attribution by source position opens on a click.
    await page.click('[data-view="dla"] [data-head="3.2"]');
    await page.waitForSelector('[data-view="dla"] .dla-src .rg-row');
    assert.equal(await page.locator('[data-view="dla"] .dla-src .rg-row').count(), corrIds.length);
    await page.waitForFunction(() => /dh=3\.2/.test(location.search), null, { timeout: 5000 });
    assert.deepEqual(problems(rec), []);
  });

  test('Enter on a cell patches the run; later views, the link and the embed show the engine\'s patched numbers', async () => {
    const base = { ...state, tgt: String(target), dis: String(distractor), ph: 'attn.hook_z' };
    const rec = await env.open(linkOf(base));
    const { page } = rec;
    await page.locator('[data-view="patching"]').scrollIntoViewIfNeeded();
    await readGrid(page, '[data-view="patching"]', 'attn.hook_z');
    const H = gb.config.n_head, cell = 3 * H + 2;
    // Keyboard: focus the cell, press Enter.
    await page.focus(`[data-view="patching"] .pt-cell[data-cell="${cell}"]`);
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => /iv=p3\.2~attn\.hook_z/.test(decodeURIComponent(location.search)), null, { timeout: 5000 });
    const badge = page.locator('[data-view="lens"] .iv-badge');
    await badge.waitFor({ state: 'visible' });
    assert.match(await badge.innerText(), /1 activation patched/);

    // The engine's patched run, through the JS API.
    gb.clearInterventions();
    gb.setTokens(corrIds);
    interp.setPatchSource(gb, cleanIds);
    const lensOf = () => {
      gb.runAll();
      const T = gb.numTokens, L = gb.config.n_layer - 1;
      return Array.from({ length: T }, (_, t) => gb.logitLens(L, t, 1)[0]);
    };
    const clean = lensOf();
    gb.addIntervention({ kind: 'patch', hook: 'blocks.3.attn.hook_z', layer: 3, head: 2 });
    const patched = lensOf();
    const last = corrIds.length - 1;
    assert.notEqual(patched[last].prob, clean[last].prob, 'the patch changes the last position');
    const readLens = async (p) => {
      await p.locator('[data-view="lens"], #embed-root').first().scrollIntoViewIfNeeded();
      const sel = `[data-view="lens"] tr[data-layer="${gb.config.n_layer - 1}"] td[data-pos="${last}"]`;
      await p.waitForSelector(sel);
      return { id: Number(await p.getAttribute(sel, 'data-id')), p: Number(await p.getAttribute(sel, 'data-p')) };
    };
    await page.locator('[data-view="lens"]').scrollIntoViewIfNeeded();
    await page.waitForFunction(([L, t, want]) => {
      const td = document.querySelector(`[data-view="lens"] tr[data-layer="${L}"] td[data-pos="${t}"]`);
      return td && Number(td.dataset.p) === want;
    }, [gb.config.n_layer - 1, last, patched[last].prob], { timeout: 10000 });
    assert.deepEqual(await readLens(page), { id: patched[last].id, p: patched[last].prob });
    // Sampling: the first row is the patched run's most likely token.
    const top = gb.topTokens(last, 1)[0];
    await page.waitForFunction((id) => document.querySelector('[data-view="sampling"] .bars-row[data-id]')?.dataset.id === String(id), top.id, { timeout: 10000 });

    // The link reproduces it.
    await page.waitForTimeout(300); // the URL is written 150 ms after the last change
    const link = new URL(page.url());
    const rec2 = await env.open(link.search);
    assert.deepEqual(await readLens(rec2.page), { id: patched[last].id, p: patched[last].prob });
    await rec2.page.locator('[data-view="patching"]').scrollIntoViewIfNeeded();
    await rec2.page.waitForSelector(`[data-view="patching"] .pt-cell.applied[data-cell="${cell}"]`, { timeout: 20000 });
    // The embed of the patching view shows the same grid and badge.
    const emb = await env.open(`embed.html${link.search}&view=patching`, { waitLive: false });
    await emb.page.waitForSelector('[data-status="ready"]', { timeout: 20000 });
    const ez = await readGrid(emb.page, '#embed-root', 'attn.hook_z');
    gb.clearInterventions();
    gb.setTokens(corrIds);
    const want = await interp.patchGridAll(gb, 'attn.hook_z', target, distractor);
    assert.deepEqual(ez, Array.from(want.values));
    assert.match(await emb.page.locator('#embed-root .iv-badge').innerText(), /1 activation patched/);

    // Clear: back to the clean run's numbers.
    await page.click('[data-view="lens"] .iv-clear');
    await page.waitForFunction(([L, t, w]) => Number(document.querySelector(`[data-view="lens"] tr[data-layer="${L}"] td[data-pos="${t}"]`)?.dataset.p) === w,
      [gb.config.n_layer - 1, last, clean[last].prob], { timeout: 10000 });
    assert.deepEqual([...problems(rec), ...problems(rec2), ...problems(emb)], []);
  });

  test('a long grid shows progress, and cancel stops it', async () => {
    // 19 sentences: the same token count in both, a grid of n_layer × ~150 cells.
    const many = (name) => Array.from({ length: 19 }, () => `said ${name}. "Aye," said`).join(' ');
    const rec = await env.open(linkOf({ prompt: many('Queequeg'), src: many('Stubb'), tgt: String(target), dis: String(distractor) }));
    const { page } = rec;
    await page.locator('[data-view="patching"]').scrollIntoViewIfNeeded();
    const bar = page.locator('[data-view="patching"] .iv-progress');
    await bar.waitFor({ timeout: 20000 });
    await page.waitForFunction(() => Number(document.querySelector('[data-view="patching"] .iv-progress')?.getAttribute('aria-valuenow')) > 0, null, { timeout: 20000 });
    await page.click('[data-view="patching"] [data-act="cancel"]');
    await page.waitForSelector('[data-view="patching"] .pt-cancelled', { timeout: 20000 });
    assert.equal(await page.locator('[data-view="patching"] .pt-grid').count(), 0, 'no grid: the job stopped before its end');
    assert.equal(await bar.count(), 0);
    // The worker is free again: the sampling view answers a new seed.
    await page.fill('input[data-field="seed"]', '7');
    await page.locator('input[data-field="seed"]').press('Enter');
    await page.waitForFunction(() => /seed=7/.test(location.search) && document.querySelector('[data-view="sampling"] .sampled-tok'), null, { timeout: 20000 });
    assert.deepEqual(problems(rec), []);
  });
});

describe('head finder on the induction lesson model', { skip: skip || (!fs.existsSync(path.join(DIST, 'models/lessons/induction/model.safetensors')) && 'the induction lesson model is not in dist/') }, () => {
  let env;
  before(async () => { env = await setup(); });
  after(async () => { await env?.close(); });

  test('ranks the copying head 1.1 first, with the JS API\'s scores', async () => {
    const rec = await env.open(linkOf({ model: 'models/lessons/induction/', prompt: 'abcdefabcdef' }));
    const { page } = rec;
    await page.locator('[data-view="heads"]').scrollIntoViewIfNeeded();
    await page.waitForSelector('[data-view="heads"] .hf-table tbody tr', { timeout: 20000 });
    const first = await page.getAttribute('[data-view="heads"] .hf-table tbody tr', 'data-head');
    assert.equal(first, '1.1');
    const gb = await engine(path.join(DIST, 'models/lessons/induction'));
    const r = interp.headFinder(gb, { seed: 1, length: 20, lo: 32, hi: 127 });
    const shown = await page.$$eval('[data-view="heads"] .hf-table tbody tr[data-head="1.1"] td', (els) => els.map((e) => [e.dataset.score, Number(e.textContent.replace('−', '-'))]));
    for (const [k, v] of shown) assert.ok(Math.abs(v - r[k][5]) <= 5e-4, `${k}: page ${v}, JS API ${r[k][5]}`);
    // A click opens its attention pattern: the softmax step of block 2, head 2 (1-based on screen).
    await page.click('[data-view="heads"] .hf-table tbody tr[data-head="1.1"] .hf-open');
    await page.waitForFunction(() => /stage=softmax/.test(location.search) && /layer=1/.test(location.search) && /head=1/.test(location.search), null, { timeout: 5000 });
    assert.deepEqual(problems(rec), []);
  });
});
