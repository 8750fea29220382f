/* long_prompt.test.js — a prompt longer than the model's context (issue 14):
 * by default the run keeps the most recent tokens, the prompt box marks
 * exactly where the kept text begins (the greyed backdrop holds the text the
 * native CLI's tokenizer puts in the dropped tokens), and one click keeps the
 * first tokens instead (carried in the URL as keep=start). */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DIST, ROOT, missing, problems, setup } from './helpers.js';

const skip = missing();
const CLI = path.join(ROOT, 'build/glassbox');
const PARA = 'She opened the door and looked out at the sea. The wind was cold, and the boats were coming home one by one, their sails dark against the evening sky. ';
const PROMPT = `${PARA.repeat(8)}At last the first boat reached the harbour`;

/** The CLI's tokens of text: [id, piece] (ASCII text: the pieces concatenate to it). */
function cliTokens(text) {
  return execFileSync(CLI, ['tokenize', '--model', path.join(DIST, 'models/default'), '--pieces', text], { encoding: 'utf8' })
    .replace(/\n$/, '').split('\n').map((l) => { const i = l.indexOf('\t'); return [Number(l.slice(0, i)), l.slice(i + 1)]; });
}

describe('a prompt longer than the context', { skip: skip || false }, () => {
  let env;
  before(async () => { env = await setup(); });
  after(async () => { await env?.close(); });

  test('keeps the most recent tokens, marks where they begin, and can keep the first instead', async () => {
    const all = cliTokens(PROMPT);
    assert.equal(all.map((t) => t[1]).join(''), PROMPT);
    const rec = await env.open(`?prompt=${encodeURIComponent(PROMPT)}`);
    const { page } = rec;
    await page.waitForSelector('#keep-note');
    const ctxLen = await page.evaluate(() => Number(/reads (\d+)/.exec(document.querySelector('#keep-note').textContent)[1]));
    assert.equal(ctxLen, 256);
    const drop = all.length - ctxLen;
    assert.ok(drop > 0);
    const ids = () => page.$$eval('.tokens .tok-id', (els) => els.map((e) => Number(e.textContent)));
    assert.deepEqual(await ids(), all.slice(drop).map((t) => t[0]), 'the last 256 tokens');
    // The backdrop greys exactly the dropped tokens' text, then the mark.
    const back = await page.evaluate(() => [...document.querySelector('.prompt-mirror').children].map((e) => [e.className, e.textContent]));
    assert.deepEqual(back.slice(0, 2), [['dropped', all.slice(0, drop).map((t) => t[1]).join('')], ['kept-mark', '']]);
    assert.equal(back[2][1], PROMPT.slice(all.slice(0, drop).map((t) => t[1]).join('').length));
    // The next token is predicted after the end of the text: the last position is the text's last token.
    await page.click('.keep-switch');
    await page.waitForFunction(() => new URLSearchParams(location.search).get('keep') === 'start');
    await page.waitForFunction((n) => document.querySelector('#keep-note')?.textContent.includes('keeps the first'), ctxLen);
    assert.deepEqual(await ids(), all.slice(0, ctxLen).map((t) => t[0]), 'the first 256 tokens');
    const back2 = await page.evaluate(() => [...document.querySelector('.prompt-mirror').children].map((e) => [e.className, e.textContent]));
    assert.deepEqual(back2.slice(0, 3).map((b) => b[0]), ['kept-mark', '', 'kept-mark']);
    assert.equal(back2[1][1], all.slice(0, ctxLen).map((t) => t[1]).join(''));
    assert.equal(back2[3][1], all.slice(ctxLen).map((t) => t[1]).join(''));
    // A link keeps the choice.
    const again = await env.open(`?keep=start&prompt=${encodeURIComponent(PROMPT)}`);
    await again.page.waitForSelector('#keep-note');
    assert.deepEqual(await again.page.$$eval('.tokens .tok-id', (els) => els.map((e) => Number(e.textContent))), all.slice(0, ctxLen).map((t) => t[0]));
    assert.deepEqual(problems(rec), []);
  });

  test('the 256-token attention pattern: an overview that fits, a zoom with labels, keys said in place', async () => {
    const rec = await env.open(`?stage=softmax&layer=1&prompt=${encodeURIComponent(PROMPT)}`);
    const { page } = rec;
    await page.waitForSelector('.stage-card .ov-canvas');
    const fit = await page.evaluate(() => {
      const cv = document.querySelector('.stage-card .ov-canvas'), card = document.querySelector('.stage-card');
      return { right: cv.getBoundingClientRect().right, cardRight: card.getBoundingClientRect().right, caption: document.querySelector('.ov-caption').textContent,
        rows: Number(cv.closest('.overview').dataset.rows), zoom: document.querySelector('.ov-zoom canvas').dataset.rows };
    });
    assert.ok(fit.right <= fit.cardRight, `the overview fits the view: ${JSON.stringify(fit)}`);
    assert.equal(fit.rows, 256);
    assert.match(fit.caption, /all 256 × 256 cells/);
    assert.equal(fit.zoom, '24');
    assert.match(await page.textContent('.ov-zoom-title'), /rows 233–256/);
    // Clicking the overview's top-left corner moves the zoom there.
    await page.locator('.stage-card .ov-canvas').scrollIntoViewIfNeeded();
    const box = await page.locator('.stage-card .ov-canvas').boundingBox();
    await page.mouse.click(box.x + 2, box.y + 2);
    // The engine answers the new window (overview.js asks the worker), then the zoom is drawn.
    const title = (re) => page.waitForFunction((src) => new RegExp(src).test(document.querySelector('.ov-zoom-title')?.textContent || ''), re.source);
    await title(/rows 1–24, columns 1–24/);
    // Focused, it takes the arrow keys and says so; Esc gives them back to stepping.
    await page.focus('.stage-card .ov-canvas');
    assert.match(await page.textContent('.kbd-hint'), /arrow keys now move the zoom window/);
    await page.keyboard.press('ArrowDown');
    await title(/rows 7–30/);
    assert.equal(await page.textContent('.stage-title'), 'Softmax: attention pattern');
    await page.keyboard.press('Escape');
    await page.keyboard.press('ArrowRight');
    await page.waitForFunction(() => document.querySelector('.stage-title')?.textContent === 'Weighted sum of values');
    assert.deepEqual(problems(rec), []);
  });
});
