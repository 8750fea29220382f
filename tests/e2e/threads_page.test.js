/* threads_page.test.js — the page says how many threads the engine runs on
 * (issue 16): served cross-origin isolated (COOP/COEP, as tools/serve.js
 * does) it is the browser's core count capped at 8, with no note; served
 * without those headers (a plain static host) it is one thread and the page
 * says why. Either way the numbers on screen are the same: the next-token
 * table of the two pages is compared cell for cell. An embed served without
 * the headers shows neither count nor note: its static height is measured on
 * the full page, so its footer must not grow a paragraph on a plain host. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { missing, problems, setup } from './helpers.js';

const skip = missing();
const URL_ = '?prompt=The%20cat%20sat%20on%20the&stage=logits';

async function shown(env) {
  const rec = await env.open(URL_);
  const { page } = rec;
  await page.waitForSelector('.model-threads');
  const r = await page.evaluate(() => ({
    count: Number(document.querySelector('.model-threads').dataset.threads),
    text: document.querySelector('.model-threads').textContent.trim(),
    note: document.querySelector('.threads-note')?.textContent.trim() || null,
    cores: navigator.hardwareConcurrency,
    isolated: self.crossOriginIsolated,
  }));
  r.table = await page.$$eval('.stage-card table tbody tr', (trs) => trs.slice(0, 10).map((tr) => tr.textContent.replace(/\s+/g, ' ').trim()));
  r.problems = problems(rec);
  return r;
}

describe('the page shows its thread count', { skip: skip || false }, () => {
  let iso, plain, a, b, embed;
  before(async () => {
    iso = await setup();
    plain = await setup({ isolated: false });
    a = await shown(iso);
    b = await shown(plain);
    const rec = await plain.open(`embed.html${URL_}`);
    embed = await rec.page.evaluate(() => ({
      isolated: self.crossOriginIsolated,
      status: !!document.querySelector('.embed-status [data-status="ready"]'),
      threads: !!document.querySelector('.model-threads, .threads-note'),
    }));
    embed.problems = problems(rec);
  });
  after(async () => { await iso?.close(); await plain?.close(); });

  test('cross-origin isolated: the browser\'s cores, capped at 8, no note', () => {
    assert.equal(a.isolated, true);
    const want = Math.max(1, Math.min(8, a.cores));
    assert.equal(a.count, want);
    assert.equal(a.text, `${want} thread${want === 1 ? '' : 's'}`);
    assert.equal(a.note, null);
    assert.deepEqual(a.problems, []);
  });

  test('without COOP/COEP: one thread, and the page says why', () => {
    assert.equal(b.isolated, false);
    assert.equal(b.count, 1);
    assert.equal(b.text, '1 thread');
    assert.match(b.note, /^The engine runs on one thread: .*cross-origin isolated.*COOP\/COEP/);
    assert.deepEqual(b.problems, []);
  });

  test('an embed without COOP/COEP keeps its footer to the status line', () => {
    assert.deepEqual(embed, { isolated: false, status: true, threads: false, problems: [] });
  });

  test('the numbers are the same on either page', () => {
    assert.ok(a.table.length >= 5, `rows: ${a.table.length}`);
    assert.deepEqual(b.table, a.table);
  });
});
