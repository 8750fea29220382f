/* embed_fit.test.js — embeds fit the tutorial page that frames them (issue 14).
 *
 * A host page served from ANOTHER origin (a tiny loopback server in this test,
 * without the site's isolation headers, as a teacher's page would be) frames
 * every view kind, using the snippet "Copy embed code" produces on the main
 * page, at three prompt lengths (short, a paragraph, longer than the model's
 * context). Each snippet is framed twice: as given (its script applies the
 * embed's glassbox:resize messages) and with the script ignoring it (the
 * static height alone must fit). In every frame: no scroll bar (content
 * height and width within the frame's), nothing drawn past the right edge. */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { missing, problems, setup, shot, waitLiveFn } from './helpers.js';

const skip = missing();
const VIEWS = ['stage', 'tokens', 'sampling', 'ablation', 'lens'];
const PARA = 'She opened the door and looked out at the sea. The wind was cold, and the boats were coming home one by one, their sails dark against the evening sky. ';
const PROMPTS = {
  short: 'The cat sat on the mat',
  paragraph: PARA + 'Nobody on the shore said a word.',
  long: PARA.repeat(8), // more tokens than the default model's 256-token context
};

/** A host page server on its own port: another origin than the Glassbox site. */
function hostServer() {
  const pages = new Map();
  const server = http.createServer((req, res) => {
    const body = pages.get(req.url);
    res.writeHead(body ? 200 : 404, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(body || 'not found');
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${server.address().port}/`, pages,
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
  })));
}

/** The snippet the main page's "Copy embed code" gives for view. */
async function snippet(page, view) {
  await page.click('[data-act="embed"]');
  await page.waitForSelector('.share-out:not([hidden])');
  if (await page.inputValue('[data-share="view"]') !== view) await page.selectOption('[data-share="view"]', view);
  await page.waitForFunction((v) => {
    const out = document.querySelector('.share-out'), t = document.querySelector('.share-text').value;
    return out.dataset.ready === '1' && document.querySelector('[data-share="view"]').value === v
      && (v === 'stage' ? !/[?&]view=/.test(t) : t.includes(`view=${v}`));
  }, view);
  return page.inputValue('.share-text');
}

/** What a frame shows: its viewport, its content's extent, anything drawn past the right edge. */
const inspect = (frame) => frame.evaluate(() => {
  const main = document.querySelector('main');
  const over = [...main.querySelectorAll('*')].filter((e) => e.getBoundingClientRect().right > innerWidth + 0.5 && e.getClientRects().length)
    .map((e) => `${e.tagName.toLowerCase()}.${e.className}`);
  return {
    innerHeight, innerWidth, scrollHeight: document.documentElement.scrollHeight, scrollWidth: document.documentElement.scrollWidth,
    content: Math.ceil(main.getBoundingClientRect().height), over: over.slice(0, 5),
  };
});

describe('embeds on another origin fit their frames', { skip: skip || false }, () => {
  let env, host;
  before(async () => { env = await setup(); host = await hostServer(); });
  after(async () => { await env?.close(); await host?.close(); });

  const CASES = [
    ...Object.entries(PROMPTS).map(([len, prompt]) => [`every view kind, ${len} prompt`, len, `?stage=softmax&layer=1&prompt=${encodeURIComponent(prompt)}`, VIEWS]),
    // The lesson view, on the addition lesson's model, at three prompts (trained format, unpadded, a carry into every column).
    ...[['045+123=8610\n', 'lesson-a'], ['45+123=', 'lesson-b'], ['999+001=0001\n', 'lesson-c']].map(([p, len]) => [`the lesson view, prompt ${JSON.stringify(p)}`, len, `?lesson=addition&ls=1&prompt=${encodeURIComponent(p)}`, ['lesson']]),
  ];
  for (const [title, len, query, views] of CASES) {
    test(`${title}: no inner scroll bar, nothing cut, with and without the host script`, async () => {
      const VIEWS = views;
      // The snippets, made on the main page.
      const main = await env.open(query);
      main.page.setDefaultTimeout(90000);
      await waitLiveFn(main.page);
      await main.page.waitForFunction(() => !document.querySelector('.lesson-live .waiting'));
      const codes = {};
      for (const v of VIEWS) codes[v] = await snippet(main.page, v);
      assert.deepEqual(problems(main), []);
      await main.context.close();

      // Each snippet twice: as given, and with its frame out of the script's reach (static height only).
      const frames = VIEWS.flatMap((v) => [
        `<h2>${v}, sized by the script</h2>\n${codes[v].replace('<iframe ', `<iframe id="${v}-live" `)}`,
        `<h2>${v}, static height</h2>\n${codes[v].replace(/<script>[\s\S]*<\/script>/, '').replace('<iframe ', `<iframe id="${v}-static" `).replace(' data-glassbox', '')}`,
      ]);
      host.pages.set(`/${len}.html`, `<!doctype html><meta charset="utf-8"><title>A tutorial</title><body style="font:16px serif;max-width:1000px;margin:20px auto">\n<h1>Tutorial</h1>\n${frames.join('\n<p>Some text between the frames.</p>\n')}\n</body>`);
      const ctx = await env.browser.newContext({ viewport: { width: 1100, height: 900 }, deviceScaleFactor: 1 });
      const page = await ctx.newPage();
      page.setDefaultTimeout(90000); // ten frames each start an engine: slow on a busy 2-core machine, never a bound
      const errors = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${host.url}${len}.html`);
      try {
        for (const v of VIEWS) {
          for (const kind of ['live', 'static']) {
            const el = await page.$(`#${v}-${kind}`);
            await el.scrollIntoViewIfNeeded();
            const frame = await el.contentFrame();
            await frame.waitForURL(/^https?:/); // a frame not yet navigated has no URL
            assert.notEqual(new URL(frame.url()).origin, new URL(host.url).origin, 'the embed is on another origin');
            await waitLiveFn(frame, 90000);
            await frame.waitForFunction(() => !document.querySelector('.waiting')); // every view's data has arrived
            if (kind === 'live') {
              // The frame takes the height the embed reports.
              const want = (await inspect(frame)).content;
              await page.waitForFunction(([id, h]) => document.getElementById(id).clientHeight === h, [`${v}-live`, want]);
            }
            const r = await inspect(frame);
            const label = `${v} (${kind}, ${len} prompt): ${JSON.stringify(r)}`;
            assert.ok(r.content <= r.innerHeight, `content taller than the frame: ${label}`);
            assert.ok(r.scrollHeight <= r.innerHeight, `vertical scroll bar: ${label}`);
            assert.ok(r.scrollWidth <= r.innerWidth, `horizontal scroll bar: ${label}`);
            assert.deepEqual(r.over, [], `drawn past the right edge: ${label}`);
            if (kind === 'static') assert.ok(r.innerHeight - r.content < 40, `static height far too tall: ${label}`);
          }
        }
        await shot(page, `embed-host-${len}`);
        assert.deepEqual(errors, []);
      } finally {
        await ctx.close();
      }
    });
  }
});
