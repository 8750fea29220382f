/* engine_views.test.js — what the page draws of a long run is what the
 * engine returns (issues 14 and 16), on the default model at its full
 * 256-token context:
 *  - the attention overview (one head, and the all-heads small multiples,
 *    which are downsampled 256 -> 150) and the zoom window hold exactly the
 *    values of a direct JS API call, headPatternView, and the overview's
 *    pixels are their colours (masked cells grey);
 *  - the stage view's top-neuron table is the engine's topColumns read;
 *  - the store the page chose is shown, and with the low-memory store
 *    (store=low) every step of the walk still draws, with the same overview.
 * The direct call runs in the page, on its own Glassbox instance (one thread)
 * over the run's token ids read from the tokens view. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { missing, problems, setup } from './helpers.js';

const skip = missing();
const PARA = 'She opened the door and looked out at the sea. The wind was cold, and the boats were coming home one by one, their sails dark against the evening sky. ';
const PROMPT = `${PARA.repeat(8)}At last the first boat reached the harbour`;
const url = (q) => `?prompt=${encodeURIComponent(PROMPT)}&${q}`;

/* In the page: a fresh engine on the run's ids, then one call: 'views' (headPatternView(layer, head, opts) for each
 * [layer, head, opts] of arg) or 'top' (topColumns(arg.name, {k: arg.k})). The page's CSP allows no eval: the calls are spelled here. */
async function direct(page, kind, arg) {
  return page.evaluate(async ([kind, arg]) => {
    const { Glassbox } = await import(new URL('glassbox.js', location.href).href);
    const gb = await Glassbox.create({ threads: 1 });
    await gb.loadModelFromUrl(new URL('models/default/', location.href));
    const ids = [...document.querySelectorAll('.tokens .tok-id')].map((e) => Number(e.textContent));
    gb.setTokens(ids);
    gb.runAll();
    try {
      if (kind === 'views') return arg.map(([L, h, o]) => { const v = gb.headPatternView(L, h, o); return { overview: v.overview && Array.from(v.overview), zoom: v.zoom && Array.from(v.zoom) }; });
      const t = gb.topColumns(arg.name, { k: arg.k });
      return Array.from({ length: ids.length }, (_, p) => Array.from({ length: arg.k }, (_, i) => [t.ids[p * arg.k + i], t.values[p * arg.k + i].toFixed(2)]));
    } finally { gb.destroy(); }
  }, [kind, arg]);
}

const settled = (page) => page.waitForFunction(() => document.querySelector('[data-status="ready"]') && !document.querySelector('.charts .waiting'));

describe('the page draws what the engine returns', { skip: skip || false }, () => {
  let env;
  before(async () => { env = await setup(); });
  after(async () => { await env?.close(); });

  for (const store of ['auto', 'low']) {
    test(`attention overview and zoom = headPatternView (store ${store})`, async () => {
      const rec = await env.open(url(`stage=softmax&layer=1&head=2${store === 'low' ? '&store=low' : ''}`));
      const { page } = rec;
      await page.waitForSelector('.stage-card .ov-canvas');
      await settled(page);
      assert.match(await page.textContent('.store-note'), store === 'low' ? /^Low-memory store: views recompute what they show/ : /^Full store/);
      const got = await page.evaluate(() => {
        const w = document.querySelector('.stage-card .ov-canvas').closest('.overview');
        const cv = w.querySelector('.ov-canvas');
        return { values: Array.from(w.values), bw: cv.width, bh: cv.height, T: Number(w.dataset.rows), zoom: { ...w.engineZoom(), data: Array.from(w.engineZoom().data) },
          caption: w.querySelector('.ov-caption').textContent };
      });
      assert.equal(got.T, 256);
      assert.match(got.caption, /computed by the engine.*grey: every cell masked/);
      const z = got.zoom;
      const [want] = await direct(page, 'views', [[1, 2, { overview: { width: got.bw, height: got.bh, mode: 'max' }, zoom: { rows: [z.r0, z.r0 + z.rows], keys: [z.c0, z.c0 + z.cols] } }]]);
      assert.deepEqual(got.values, want.overview, 'the overview the page drew is the engine\'s, value for value');
      assert.deepEqual(got.zoom.data, want.zoom, 'and the zoom window');
      // Pixels: each overview pixel above the zoom window's rows is its value's colour, or grey where every cell is masked.
      const bad = await page.evaluate(async ([vals, r0, T]) => {
        const { probRGB } = await import(new URL('lib/colors.js', location.href).href);
        const cv = document.querySelector('.stage-card .ov-canvas');
        const img = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
        const rows = Math.floor((r0 * cv.height) / T) - 2;
        let n = 0, wrong = [];
        for (let y = 0; y < rows; y++) for (let x = 0; x < cv.width; x++) {
          const p = y * cv.width + x, lo = Math.floor((x * T) / cv.width), hi = Math.max(Math.floor((y * T) / cv.height) + 1, Math.floor(((y + 1) * T) / cv.height));
          const rgb = Uint8ClampedArray.from(lo >= hi ? [228, 228, 228] : probRGB(vals[p])); // as ImageData stores it
          n++;
          if (img[4 * p] !== rgb[0] || img[4 * p + 1] !== rgb[1] || img[4 * p + 2] !== rgb[2]) wrong.push([x, y]);
        }
        return { n, wrong: wrong.slice(0, 5), count: wrong.length };
      }, [got.values, got.zoom.r0, got.T]);
      assert.ok(bad.n > 10000, `pixels checked: ${bad.n}`);
      assert.equal(bad.count, 0, `pixels off their value's colour: ${JSON.stringify(bad.wrong)}`);
      // Moving the window asks the engine again: the new region is the direct call's.
      await page.evaluate(() => document.querySelector('.stage-card .ov-canvas').closest('.overview').zoomTo(40, 10));
      await page.waitForFunction(() => document.querySelector('.stage-card .overview')?.dataset.zoom === '40,10');
      const moved = await page.evaluate(() => Array.from(document.querySelector('.stage-card .overview').engineZoom().data));
      const [wantMoved] = await direct(page, 'views', [[1, 2, { zoom: { rows: [40, 64], keys: [10, 34] } }]]);
      assert.deepEqual(moved, wantMoved.zoom);
      // Every head as small multiples: each overview downsampled by the engine (256 -> 150 px).
      await page.check('[data-field="allHeads"]');
      await page.waitForFunction(() => document.querySelectorAll('.stage-card .fig-small .overview').length === 4);
      await settled(page);
      const grid = await page.evaluate(() => [...document.querySelectorAll('.stage-card .fig-small .overview')].map((w) => ({ values: Array.from(w.values), bw: w.querySelector('canvas').width })));
      const wantGrid = await direct(page, 'views', [0, 1, 2, 3].map((h) => [1, h, { overview: { width: 150, height: 150, mode: 'max' } }]));
      assert.equal(grid[0].bw, 150);
      grid.forEach((g, h) => assert.deepEqual(g.values, wantGrid[h].overview, `head ${h + 1}'s small multiple`));
      assert.deepEqual(problems(rec), []);
    });
  }

  test('the top-neuron table is the engine\'s topColumns read, a window of positions at a time', async () => {
    const rec = await env.open(url('stage=up&layer=2'));
    const { page } = rec;
    await settled(page);
    const read = () => page.$$eval('table.neurons tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => [Number(td.querySelector('.neuron').textContent.slice(1)), td.querySelector('.dim').textContent])));
    const T = await page.$$eval('.tokens .tok', (e) => e.length);
    const want = await direct(page, 'top', { name: 'blocks.2.mlp.hook_pre', k: 5 });
    assert.equal(want.length, T);
    const rows = await read();
    assert.equal(rows.length, 32, 'a window of 32 positions');
    assert.deepEqual(rows, want.slice(T - 32), 'the last 32 positions, as the engine ranks them');
    assert.match(await page.textContent('.row-window-nav'), new RegExp(`positions ${T - 31}–${T} of ${T}`));
    await page.click('[data-rows="prev"]');
    assert.deepEqual(await read(), want.slice(T - 64, T - 32), 'earlier: the 32 positions before');
    assert.deepEqual(problems(rec), []);
  });

  test('with the low-memory store every step of the walk draws', async () => {
    const rec = await env.open('?store=low');
    const { page } = rec;
    await settled(page);
    assert.match(await page.textContent('.store-note'), /^Low-memory store: views recompute what they show\. The link asks for it/);
    let steps = 0;
    for (;;) {
      try { await page.click('[data-act="next"]', { timeout: 5000 }); } catch { break; } // the last step disables Next
      await settled(page);
      const err = await page.$('.stage-card .view-error');
      assert.equal(err, null, `step ${steps}: ${err && await err.textContent()}`);
      steps++;
    }
    assert.ok(steps > 50, `walked ${steps} steps`);
    assert.deepEqual(problems(rec), []);
  });
});
