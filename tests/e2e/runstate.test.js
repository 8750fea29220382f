/* runstate.test.js — issue 12 in the browser: every view is a reading of one
 * run state (prompt, generated tokens, seed, sampling settings,
 * interventions), so the page, a copied link, an embed, the native CLI and a
 * Node run of the JS API all show the same numbers for the same state.
 *
 *  - Typing a seed changes the draw at once, to the CLI's token for that
 *    state; the copied link and the embed show the same token and u.
 *  - Two ablated heads: a later block's attention pattern, the sampling view,
 *    the logit lens, Generate and the embed equal a Node run of the same
 *    state through the JS API (no Session, no page code); the comparison
 *    view labels both runs; clear gives the clean numbers back.
 *  - For checkpoints with scale_attn_by_inverse_layer_idx and with
 *    scale_attn_weights = false, the page's scores step equals the engine's
 *    blocks.L.attn.hook_attn_scores where the mask keeps it, and an
 *    independent q·k × scale (computed here) everywhere.
 * Numbers are read from the page as a learner gets them: the table cells'
 * data attributes and the heatmap's keyboard read-out (3 decimals). */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { Glassbox } from '../../wasm/glassbox.js';
import { DIST, ROOT, missing, problems, setup, waitLiveFn } from './helpers.js';
import { writeSynthModel } from './synth-model.js';

const CLI = path.join(ROOT, 'build/glassbox');
const MODEL = path.join(DIST, 'models/default');
const WASM = path.join(DIST, 'glassbox.wasm');
const skip = missing() || (!fs.existsSync(CLI) && 'build/glassbox not built');

const ids = (out) => out.trim().split(/\s+/).map(Number);
const cliGen = (prompt, n, sp, seed) => ids(execFileSync(CLI, ['generate', '--model', MODEL, '--prompt', prompt, '-n', String(n),
  '--temperature', String(sp.temperature), '--top-k', String(sp.topK), '--top-p', String(sp.topP), '--seed', String(seed), '--ids'], { encoding: 'utf8' }));

async function engine(dir = MODEL) {
  const gb = await Glassbox.create({ wasm: fs.readFileSync(WASM) });
  await gb.loadModelFromUrl(pathToFileURL(`${dir}/`));
  return gb;
}

/** A run of the JS API: prompt, generated ids, ablated heads, seed. */
function runOf(gb, prompt, gen, heads, seed) {
  gb.clearInterventions();
  gb.setTokens(gb.tokenize(prompt).ids);
  if (gen.length) gb.appendTokens(gen);
  for (const [layer, head] of heads) gb.addIntervention({ kind: 'ablate-zero', layer, head });
  gb.seed(seed);
  gb.runAll();
  return gb;
}

/** Waits until the page has the engine's answers (main.js marks them) newer than t, and has drawn them. */
const answered = (page, t, fields) => page.waitForFunction(([fs, t0]) => {
  const at = (n) => performance.getEntriesByName(n).at(-1)?.startTime ?? -1;
  const last = Math.max(...fs.map((f) => at(`glassbox:answer:${f}`)));
  return fs.every((f) => at(`glassbox:answer:${f}`) > t0) && at('glassbox:render') > last;
}, [fields, t], { timeout: 20000 });
const now = (page) => page.evaluate(() => performance.now());

const token = async (page) => Number(await page.getAttribute('[data-view="sampling"] .sampled-tok, #embed-root .sampled-tok', 'data-token'));
const waitToken = (page, want, timeout = 8000) => page.waitForFunction((w) => document.querySelector('.sampled-tok')?.dataset.token === String(w), want, { timeout });

/** Reads a heatmap through its keyboard read-out: rows × cols numbers (masked: -Infinity). */
async function readHeatmap(page, selector, rows = null) {
  const cv = page.locator(selector);
  const R = Number(await cv.getAttribute('data-rows')), C = Number(await cv.getAttribute('data-cols'));
  const want = rows || Array.from({ length: R }, (_, i) => i);
  await cv.focus();
  const live = cv.locator('xpath=following-sibling::span[@aria-live]');
  const out = [];
  let at = 0;
  for (const i of want) {
    while (at < i) { await page.keyboard.press('ArrowDown'); at++; }
    await page.keyboard.press('Home');
    const row = [];
    for (let j = 0; j < C; j++) {
      if (j) await page.keyboard.press('ArrowRight');
      const text = await live.textContent();
      const m = /: (\S+) \(row (\d+) of \d+, column (\d+) of \d+\)$/.exec(text);
      assert.ok(m && Number(m[2]) === i + 1 && Number(m[3]) === j + 1, `read-out ${text}`);
      row.push(m[1] === '−∞' ? -Infinity : Number(m[1].replace('−', '-')));
    }
    out.push(row);
  }
  return out;
}
const near = (a, b, what) => assert.ok(a === b || Math.abs(a - b) <= 6e-4 + 1e-3 * Math.abs(b), `${what}: page ${a}, engine ${b}`);

describe('one run state', { skip: skip || false }, () => {
  let env, gb;
  before(async () => { env = await setup(); gb = await engine(); });
  after(async () => { gb?.destroy(); await env?.close(); });

  test('typing a seed changes the draw at once, to the CLI’s token; the link and the embed show the same token and u', async () => {
    const sp = { temperature: 0.9, topK: 20, topP: 0.9 };
    const rec = await env.open('?t=0.9&k=20&p=0.9');
    const { page } = rec;
    const prompt = await page.inputValue('.prompt-input');
    const first = await token(page);
    assert.equal(first, cliGen(prompt, 1, sp, 42)[0], 'seed 42 (the default)');
    let seed = 7;
    while (cliGen(prompt, 1, sp, seed)[0] === first) seed++;
    const want = cliGen(prompt, 2, sp, seed);
    const mark = (n) => page.evaluate((x) => performance.getEntriesByName(`glassbox:answer:${x}`).at(-1)?.startTime ?? -1, n);
    // The live engine's first answers (the page may have drawn the precomputed trace before them).
    await page.waitForFunction(() => ['run', 'stepData', 'predict'].every((x) => performance.getEntriesByName(`glassbox:answer:${x}`).length));
    const t0 = await page.evaluate(() => performance.now());
    await page.fill('input[data-field="seed"]', String(seed));
    await waitToken(page, want[0]);
    // A seed is only a seed: the sampling answer is recomputed, the run and the step are not.
    assert.ok(await mark('predict') > t0);
    assert.ok(await mark('run') < t0 && await mark('stepData') < t0, 'no forward pass or step read for a new seed');
    const u = await page.getAttribute('.sampled-tok', 'data-u');
    gb.seed(seed);
    assert.equal(u, gb.uniformAt(0).toFixed(4), 'u is uniform 0 of the seed’s stream');
    // The drawn row is the first whose running total exceeds u.
    const rows = await page.$$eval('.bars .bars-row[data-id]', (els) => els.map((e) => ({ id: Number(e.dataset.id), cum: Number(e.dataset.cum) })));
    const k = rows.findIndex((r) => r.cum > Number(u));
    assert.equal(rows[k].id, want[0], `u = ${u}, running totals ${rows.map((r) => r.cum)}`);
    // The copied link reproduces it on a fresh page.
    await page.click('[data-act="link"]');
    const link = await page.inputValue('.share-text');
    assert.match(link, new RegExp(`[?&]seed=${seed}(&|$)`));
    const rec2 = await env.open(link);
    assert.equal(await token(rec2.page), want[0]);
    assert.equal(await rec2.page.getAttribute('.sampled-tok', 'data-u'), u);
    // The embed of the sampling view too.
    await page.click('[data-act="embed"]');
    await page.selectOption('[data-share="view"]', 'sampling');
    await page.waitForFunction(() => /view=sampling/.test(document.querySelector('.share-text').value));
    const src = /src="([^"]+)"/.exec(await page.inputValue('.share-text'))[1].replace(/&amp;/g, '&');
    const rec3 = await env.open(src);
    await waitToken(rec3.page, want[0]);
    assert.equal(await rec3.page.getAttribute('.sampled-tok', 'data-u'), u);
    // Generate uses the same seed: it appends the CLI's tokens.
    await page.click('[data-act="gen1"]');
    await page.waitForFunction(() => document.querySelectorAll('.tokens .tok-gen').length === 1 && !document.querySelector('[data-act="gen1"]').disabled);
    assert.equal(Number(await page.textContent('.tokens .tok-gen .tok-id')), want[0]);
    await waitToken(page, want[1]);
    for (const r of [rec, rec2, rec3]) assert.deepEqual(problems(r), []);
  });

  test('two ablated heads: every view shows the intervened run (Node run of the JS API); clear gives the clean one back', async () => {
    const sp = { temperature: 0.8, topK: 40, topP: 0.95 }, seed = 42;
    const heads = [[0, 1], [0, 2]];
    const rec = await env.open('');
    const { page } = rec;
    const prompt = await page.inputValue('.prompt-input');
    const T = gb.tokenize(prompt).ids.length;
    // The Node run: clean and intervened numbers, and the head of block 4 the ablation moves most.
    runOf(gb, prompt, [], [], seed);
    const clean = { token: gb.sample(sp).token, pat: gb.activation('blocks.3.attn.hook_pattern', { copy: true }).data };
    runOf(gb, prompt, [], heads, seed);
    const ivd = { token: gb.sample(sp).token, rows: gb.sampleDist(sp, 12).rows, pat: gb.activation('blocks.3.attn.hook_pattern', { copy: true }).data };
    ivd.lens = [-1, 0, 1, 2, 3].map((L) => Array.from({ length: T }, (_, t) => gb.logitLens(L, t, 1)[0]));
    let head = 0, moved = 0;
    for (let h = 0; h < 4; h++) for (let j = 0; j < T; j++) {
      const k = (h * T + T - 1) * T + j, d = Math.abs(ivd.pat[k] - clean.pat[k]);
      if (d > moved) { moved = d; head = h; }
    }
    assert.ok(moved > 0.01, `the ablation barely moves block 4 (${moved})`);
    assert.equal(await token(page), clean.token);

    await page.click(`.hg-cell[data-layer="${heads[0][0]}"][data-head="${heads[0][1]}"]`);
    await page.waitForFunction(() => new URLSearchParams(location.search).get('iv') === 'z0.1');
    const t1 = await now(page);
    await page.click(`.hg-cell[data-layer="${heads[1][0]}"][data-head="${heads[1][1]}"]`);
    await page.waitForFunction(() => new URLSearchParams(location.search).get('iv') === 'z0.1,z0.2');
    await answered(page, t1, ['run', 'stepData', 'predict']);
    await waitToken(page, ivd.token);
    // One badge on every view of the run.
    const badges = await page.$$eval('.iv-badge:not([hidden])', (els) => els.map((e) => e.closest('[data-view]').dataset.view + ': ' + e.textContent));
    assert.deepEqual(badges.map((b) => b.split(':')[0]).sort(), ['ablation', 'lens', 'sampling', 'stage', 'tokens']);
    for (const b of badges) assert.match(b, /2 heads ablated.*L1 h2, L1 h3.*clear/);
    // Sampling: the engine's rows, in its order, with its running totals.
    const rows = await page.$$eval('[data-view="sampling"] .bars .bars-row[data-id]', (els) => els.map((e) => [Number(e.dataset.id), Number(e.dataset.cum)]));
    assert.deepEqual(rows.map((r) => r[0]), ivd.rows.map((r) => r.id));
    rows.forEach(([, cum], i) => near(cum, ivd.rows[i].cum, `running total row ${i}`));
    // The comparison view: both runs labelled, at the same settings.
    await page.locator('[data-view="ablation"]').scrollIntoViewIfNeeded();
    await page.waitForSelector('.ab-row[data-id]');
    assert.match(await page.textContent('.ab-headrow'), /clean model.*with L1 h2, L1 h3/);
    assert.match(await page.textContent('.ab-settings'), /T = 0\.8, top-k 40, top-p 0\.95/);
    assert.equal(Number(await page.getAttribute('[data-clean-token]', 'data-clean-token')), clean.token);
    assert.equal(Number(await page.getAttribute('[data-run-token]', 'data-run-token')), ivd.token);
    // The logit lens of the intervened run.
    await page.locator('[data-view="lens"]').scrollIntoViewIfNeeded();
    await page.waitForSelector('table.lens .lens-cell');
    const lens = await page.$$eval('table.lens tr[data-layer]', (trs) => trs.map((tr) => [Number(tr.dataset.layer), [...tr.querySelectorAll('.lens-cell')].map((c) => [Number(c.dataset.pos), Number(c.dataset.id), Number(c.dataset.p)])]));
    for (const [L, cells] of lens) for (const [pos, id, p] of cells) { assert.equal(id, ivd.lens[L + 1][pos].id, `lens ${L} @${pos}`); near(p, ivd.lens[L + 1][pos].prob, `lens p ${L} @${pos}`); }
    // A stage view of a later block: block 4's attention pattern, the head the ablation moves most.
    await page.selectOption('select[data-field="head"]', { value: String(head) });
    await page.click('.map-block[data-layer="3"]');
    const t2 = await now(page);
    await page.click('.map-step[data-stage="softmax"]');
    await answered(page, t2, ['stepData']);
    await page.waitForFunction(() => document.querySelector('.charts')?.dataset.stage === 'softmax' && document.querySelector('canvas.attn-map'));
    const [last] = await readHeatmap(page, 'canvas.attn-map', [T - 1]);
    last.forEach((v, j) => near(v, ivd.pat[(head * T + T - 1) * T + j], `pattern head ${head + 1}, key ${j}`));
    // Generate: the engine's intervened draw is appended.
    await page.click('[data-act="gen1"]');
    await page.waitForFunction(() => document.querySelectorAll('.tokens .tok-gen').length === 1 && !document.querySelector('[data-act="gen1"]').disabled);
    assert.equal(Number(await page.textContent('.tokens .tok-gen .tok-id')), ivd.token);
    runOf(gb, prompt, [ivd.token], heads, seed);
    const next = gb.sample(sp).token;
    await waitToken(page, next);
    // The embed of that state shows the same draw, with the badge.
    await page.click('[data-act="embed"]');
    await page.selectOption('[data-share="view"]', 'sampling');
    await page.waitForFunction(() => /view=sampling/.test(document.querySelector('.share-text').value));
    const src = /src="([^"]+)"/.exec(await page.inputValue('.share-text'))[1].replace(/&amp;/g, '&');
    assert.match(src, /iv=z0\.1%2Cz0\.2/);
    const rec2 = await env.open(src);
    await waitToken(rec2.page, next);
    assert.match(await rec2.page.textContent('.iv-badge'), /2 heads ablated/);
    // Clear: the clean run's numbers, everywhere.
    const t3 = await now(page);
    await page.click('[data-view="sampling"] .iv-clear');
    await page.waitForFunction(() => !new URLSearchParams(location.search).has('iv'));
    await answered(page, t3, ['run', 'stepData', 'predict']);
    runOf(gb, prompt, [ivd.token], [], seed);
    const cleanNext = gb.sample(sp).token;
    await waitToken(page, cleanNext);
    assert.equal(await page.$$eval('.iv-badge:not([hidden])', (e) => e.length), 0);
    await page.waitForFunction(() => document.querySelector('.charts')?.dataset.stage === 'softmax' && document.querySelector('canvas.attn-map'));
    runOf(gb, prompt, [ivd.token], [], seed);
    const cleanPat = gb.activation('blocks.3.attn.hook_pattern', { copy: true }).data, T1 = T + 1;
    const [row] = await readHeatmap(page, 'canvas.attn-map', [T - 1]);
    row.forEach((v, j) => near(v, j <= T - 1 ? cleanPat[(head * T1 + T - 1) * T1 + j] : 0, `clean pattern key ${j}`));
    assert.deepEqual(problems(rec), []);
    assert.deepEqual(problems(rec2), []);
  });

  /* Written here by synth-model.js (random weights, GPT-2's tokenizer), and
   * the Hugging Face fixtures of the same configs when tests/fixtures has them. */
  const FIX = path.join(ROOT, 'tests/fixtures/models');
  const variants = [
    ['scale_attn_by_inverse_layer_idx', () => writeSynthModel(path.join(ROOT, 'build/e2e-scale-by-layer'), { layers: 3, heads: 2, embd: 32, ctx: 32, seed: 11, config: { scale_attn_by_inverse_layer_idx: true } })],
    ['scale_attn_weights = false', () => writeSynthModel(path.join(ROOT, 'build/e2e-unscaled-attn'), { layers: 3, heads: 2, embd: 32, ctx: 32, seed: 11, config: { scale_attn_weights: false } })],
    ...['tiny-scale-by-layer', 'tiny-unscaled-attn'].filter((f) => fs.existsSync(path.join(FIX, f, 'config.json'))).map((f) => [`the fixture ${f}`, () => path.join(FIX, f)]),
  ];
  for (const [name, make] of variants) {
    test(`the scores step equals the engine's hook for a checkpoint with ${name}`, async () => {
      const dir = make();
      const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
      const H = cfg.n_head, D = cfg.n_embd / cfg.n_head, L = cfg.n_layer - 1;
      const rec = await env.open('');
      const { page } = rec;
      const files = ['config.json', 'model.safetensors', 'vocab.json', 'merges.txt'].filter((f) => fs.existsSync(path.join(dir, f)));
      await page.setInputFiles('.file-input', files.map((f) => path.join(dir, f)));
      await page.waitForFunction((want) => document.querySelector('.model-config')?.textContent.includes(want), `${cfg.n_layer} layers · ${H} heads`);
      await waitLiveFn(page);
      const prompt = 'Hi there, you';
      await page.fill('.prompt-input', prompt);
      const g = await engine(dir);
      const pids = g.tokenize(prompt).ids, T = pids.length;
      await page.waitForFunction((n) => document.querySelectorAll('.tokens .tok').length === n, T);
      await page.click(`.map-block[data-layer="${L}"]`);
      await page.click('.map-step[data-stage="scores"]');
      g.setTokens(pids); g.runAll();
      const hook = g.activation(`blocks.${L}.attn.hook_attn_scores`, { copy: true }).data;
      const q = g.activation(`blocks.${L}.attn.hook_q`, { copy: true }).data, k = g.activation(`blocks.${L}.attn.hook_k`, { copy: true }).data;
      // The scale as Hugging Face's GPT2Attention applies it, from config.json alone.
      const scale = (cfg.scale_attn_weights === false ? 1 : 1 / Math.sqrt(D)) / (cfg.scale_attn_by_inverse_layer_idx ? L + 1 : 1);
      for (let h = 0; h < Math.min(H, 2); h++) {
        await page.selectOption('select[data-field="head"]', { value: String(h) });
        await page.waitForFunction((hh) => document.querySelector('.charts')?.dataset.stage === 'scores' && document.querySelector('.charts')?.dataset.attnHead === String(hh), h);
        const grid = await readHeatmap(page, 'canvas.attn-map');
        let oldWay = 0;
        for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) {
          let dot = 0; for (let d = 0; d < D; d++) dot += q[(i * H + h) * D + d] * k[(j * H + h) * D + d];
          near(grid[i][j], dot * scale, `head ${h} [${i}, ${j}] vs q·k × scale`);
          if (j <= i) near(grid[i][j], hook[(h * T + i) * T + j], `head ${h} [${i}, ${j}] vs hook_attn_scores`);
          oldWay = Math.max(oldWay, Math.abs(dot / Math.sqrt(D) - dot * scale));
        }
        assert.ok(oldWay > 1e-3, 'q·k/√d would differ here (the test can fail)');
      }
      g.destroy();
      assert.deepEqual(problems(rec), []);
    });
  }
});
