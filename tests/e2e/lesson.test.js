/* lesson.test.js — lesson mode (issue 9) end to end in Chromium: a lesson is
 * picked from the page and walked from its first step to its last; the live
 * measurement on the prepared held-out prompt equals lesson.json's numbers
 * (score grids within TOL_SCORE; per-item counts exactly); an ablation click
 * moves the held-out sample's accuracy to the card's figure (within one item
 * of the sample) and a control head leaves it; editing the prompt breaks the
 * strip exactly where it should; an embed URL of a lesson step reproduces it;
 * phone width has no sideways scroll. No console errors or warnings, no
 * request off the page's origin. Screenshots go to build/screenshots/lesson-*. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DIST, ROOT, missing, problems, setup, shot, shotEl } from './helpers.js';

const TOL_SCORE = 2e-3; // PyTorch float32 vs the engine, as tests/node/lessons.test.js
const lessonJson = (name) => JSON.parse(fs.readFileSync(path.join(ROOT, 'models/lessons', name, 'lesson.json'), 'utf8'));
const skip = missing() || (!fs.existsSync(path.join(DIST, 'models/lessons/addition/lesson.json')) && 'dist/models/lessons not built');

/** Waits for a fresh measurement of step n (1-based) of the current lesson. */
async function measured(page, n) {
  await page.waitForFunction((k) => document.querySelector('.lesson-step-title')?.textContent.startsWith(`Step ${k} `)
    && document.querySelector('.lacc') && !document.querySelector('.lesson-live .waiting'), n, { timeout: 20000 });
}

/** The live grid of a score, flattened ([layer][head] or [g][h]). The grid can
 * render a frame after the step's accuracy table, so wait for its cells. */
async function liveGrid(page, name) {
  const sel = `table.lgrid[data-score="${name}"][data-panel="live"] button.lg-cell`;
  await page.waitForSelector(sel, { timeout: 20000 });
  return page.$$eval(sel, (b) => b.map((e) => Number(e.dataset.value)));
}

function assertGrid(got, want, what) {
  const w = want.flat();
  assert.equal(got.length, w.length, `${what}: shape`);
  const worst = Math.max(...got.map((v, i) => Math.abs(v - w[i])));
  assert.ok(worst <= TOL_SCORE, `${what}: differs from lesson.json by ${worst}`);
}

describe('lesson mode', { skip: skip || false }, () => {
  let env;
  before(async () => { env = await setup(); });
  after(async () => { await env?.close(); });
  const sameOrigin = (rec) => {
    const origin = new URL(env.url).origin;
    assert.deepEqual(rec.requests.filter((u) => !u.startsWith(origin) && !u.startsWith('blob:') && !u.startsWith('data:')), [], 'requests to other origins');
  };

  test('addition: pick it, walk every step, live numbers equal the card’s, ablation clicks move the sample accuracy as the card says', async () => {
    const j = lessonJson('addition');
    const rec = await env.open('');
    const { page } = rec;
    await page.click('[data-lesson="addition"]');
    await page.waitForFunction(() => /2 layers · 4 heads/.test(document.querySelector('.model-config')?.textContent || ''));
    await measured(page, 1);
    assert.equal(await page.inputValue('.prompt-input'), '045+123=8610\n');
    assert.equal(await page.$$eval('.lmk .ok', (e) => e.length), 5, 'five answer predictions right');
    assert.match(await page.textContent('tr[data-kind="sample"]'), /100\.0% exact \(200\/200\)/);
    await page.waitForFunction(() => new URLSearchParams(location.search).get('lesson') === 'addition');
    // The card's first held-out item: its operand and carry scores, measured live.
    await page.click('[data-act="heldout"]');
    await page.waitForFunction((t) => document.querySelector('.prompt-input').value === t, j.sample_items[0].text);
    await page.click('[data-act="lnext"]');
    await measured(page, 2);
    await page.waitForFunction(() => document.querySelector('.lesson-live .lstrip td')?.textContent === '3');
    assertGrid(await liveGrid(page, 'operand_score'), j.sample_items[0].operand_score, 'operand score');
    assert.ok(await page.$('.lesson-pattern canvas'), 'the focused head’s pattern');
    assert.equal(await page.textContent('.stage-title'), 'Softmax: attention pattern', 'the walk moves the stage view');
    await shotEl(page, '[data-view="lesson"]', 'lesson-addition-operand');
    await page.click('[data-act="lnext"]');
    await measured(page, 3);
    assertGrid(await liveGrid(page, 'carry_score'), j.sample_items[0].carry_score, 'carry score');
    // Clicking a head selects it (its pattern, in the lesson and the stage view).
    await page.click('table.lgrid[data-panel="live"] button.lg-cell[data-layer="0"][data-head="1"]');
    await page.waitForFunction(() => /L1 h2/.test(document.querySelector('.lesson-fig figcaption')?.textContent || ''));
    await page.click('[data-act="lnext"]');
    await measured(page, 4);
    // Break it: each click's sample accuracy equals the card's (one item of 200) and meets its claim.
    for (const [heads, sel] of [[[[0, 0]], '0.0'], [[[0, 1]], '0.1'], [[[0, 3]], '0.3']]) {
      await page.click(`[data-suggest="${sel}"]`);
      await page.waitForFunction((h) => new URLSearchParams(location.search).get('iv') === `z${h}`
        && document.querySelector('.lacc td.after') && !document.querySelector('.lesson-live .waiting'), sel);
      const claim = j.claims.find((c) => c.heads.length === 1 && c.heads[0].join() === heads[0].join());
      const live = Number(await page.getAttribute('.lcard', 'data-live'));
      const card = Number(await page.getAttribute('.lcard', 'data-card'));
      console.log(`  addition ablate ${sel}: sample exact ${live} (card ${card}; claim ${claim.op} ${claim.bound})`);
      assert.ok(Math.abs(live - claim.sample) <= 1 / 200 + 1e-9, `${sel}: ${live} vs the card's ${claim.sample}`);
      assert.ok(claim.op === '<=' ? live <= claim.bound : live >= claim.bound, `${sel}: ${live} ${claim.op} ${claim.bound}`);
      assert.match(await page.textContent('.lcard'), /matches/);
      if (sel === '0.1') await shotEl(page, '[data-view="lesson"]', 'lesson-addition-ablate');
    }
    // Restore, then edit one answer digit: the strip goes red exactly there.
    await page.click('[data-act="restore"]');
    await page.click('[data-act="lnext"]');
    await measured(page, 5);
    await page.fill('.prompt-input', '045+123=8710\n');
    await page.waitForFunction(() => document.querySelectorAll('.lmk .bad').length === 1 && !document.querySelector('.lesson-live .waiting'), null, { timeout: 10000 });
    const badAt = await page.$$eval('.lstrip tr:nth-child(2) td', (tds) => tds.findIndex((td) => td.querySelector('.bad')));
    assert.equal(badAt, 9, 'the edited digit (position 9) is the one marked wrong');
    assert.equal(await page.isDisabled('[data-act="lnext"]'), true, 'the last step');
    await page.fill('.adder input[name="a"]', '999');
    await page.fill('.adder input[name="b"]', '1');
    await page.click('.adder button');
    await page.waitForFunction(() => document.querySelector('.prompt-input').value === '999+001=0001\n');
    await page.waitForFunction(() => document.querySelectorAll('.lmk .ok').length === 5 && !document.querySelector('.lesson-live .waiting'));
    await shot(page, 'lesson-addition-page');
    // Leave: the default model comes back.
    await page.click('[data-act="leave"]');
    await page.waitForFunction(() => /4 layers/.test(document.querySelector('.model-config')?.textContent || '') && document.querySelector('[data-status="ready"]'), null, { timeout: 20000 });
    assert.ok(await page.$('[data-lesson="sort"]'));
    sameOrigin(rec);
    assert.deepEqual(problems(rec), []);
  });

  test('induction and sort: the prepared held-out prompt gives lesson.json’s scores and counts', async () => {
    for (const [name, step, grids] of [['induction', 2, ['induction_score', 'prev_token_score']], ['induction', 4, ['virtual_match_score', 'virtual_induction_score']], ['sort', 2, ['next_letter_score']]]) {
      const j = lessonJson(name), it = j.sample_items[1];
      const rec = await env.open(`?lesson=${name}&ls=${step - 1}&prompt=${encodeURIComponent(it.text)}`, { waitLive: false });
      const { page } = rec;
      await measured(page, step);
      for (const g of grids) assertGrid(await liveGrid(page, g), it[g], `${name} ${g}`);
      if (name === 'induction') {
        assert.match(await page.textContent('tr[data-kind="prompt"]'), new RegExp(`${it.metrics.correct_repeat}/${it.metrics.n_repeat} repeated · ${it.metrics.correct_first}/${it.metrics.n_first} first half`));
        assert.match(await page.textContent('.lesson-live'), new RegExp(`Repeat distance L = ${j.sample.items[1].L}`));
      } else assert.match(await page.textContent('tr[data-kind="prompt"]'), /exact/);
      if (step === 4) await shotEl(page, '[data-view="lesson"]', `lesson-${name}-virtual`);
      assert.deepEqual(problems(rec), []);
    }
  });

  test('induction: ablating the copying head breaks the repeated half; the embed URL of that step reproduces it', async () => {
    const j = lessonJson('induction');
    const rec = await env.open('?lesson=induction&ls=4', { waitLive: false });
    const { page } = rec;
    await measured(page, 5);
    const ms = await page.evaluate(() => performance.now());
    console.log(`  lesson page load to first measured step: ${ms.toFixed(0)} ms (load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} CPUs)`);
    const head = j.named_heads.induction[0].join('.');
    await page.click(`[data-suggest="${head}"]`);
    await page.waitForFunction(() => document.querySelector('.lacc td.after') && !document.querySelector('.lesson-live .waiting'));
    const claim = j.claims.find((c) => c.heads.length === 1 && c.heads[0].join('.') === head);
    const live = Number(await page.getAttribute('.lcard', 'data-live'));
    // acc_repeat pools positions: within one of the sample's repeated-half predictions (and lesson.json's rounding).
    assert.ok(Math.abs(live - claim.sample) <= 1 / j.sample.metrics.n_repeat + 1e-4, `${live} vs the card's ${claim.sample}`);
    assert.ok(live <= claim.bound);
    await shotEl(page, '[data-view="lesson"]', 'lesson-induction-ablate');
    await page.click('[data-act="embed"]');
    await page.waitForSelector('.share-out[data-ready="1"]'); // the snippet's height is measured first
    const code = await page.inputValue('.share-text');
    const src = /src="([^"]+)"/.exec(code)[1].replace(/&amp;/g, '&');
    const q = new URLSearchParams(new URL(src).search);
    assert.deepEqual([q.get('view'), q.get('lesson'), q.get('ls'), q.get('iv')], ['lesson', 'induction', '4', `z${head}`]);
    const want = { title: await page.textContent('.lesson-step-title'), after: await page.textContent('.lacc td.after'), grid: await liveGrid(page, 'virtual_match_score') };
    const rec2 = await env.open(src, { waitLive: false });
    const p2 = rec2.page;
    await measured(p2, 5);
    await p2.waitForFunction(() => document.querySelector('.lacc td.after'));
    assert.equal(await p2.textContent('.lesson-step-title'), want.title);
    assert.equal(await p2.textContent('.lacc td.after'), want.after);
    assert.deepEqual(await liveGrid(p2, 'virtual_match_score'), want.grid);
    assert.equal(await p2.$$eval('[data-view="tokens"], [data-view="stage"]', (e) => e.length), 0, 'embed shows one view');
    await shot(p2, 'lesson-embed');
    assert.deepEqual(problems(rec), []);
    assert.deepEqual(problems(rec2), []);
  });

  test('a lesson at phone width (390 px): no sideways scroll', async () => {
    const rec = await env.open('?lesson=sort&ls=3&ablate=1.3', { width: 390, height: 844, waitLive: false });
    const { page } = rec;
    await measured(page, 4);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `page is ${overflow}px wider than the screen`);
    await shotEl(page, '[data-view="lesson"]', 'lesson-sort-phone');
    assert.deepEqual(problems(rec), []);
  });
});
