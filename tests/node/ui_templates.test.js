/* ui_templates.test.js — every view's Mustache template renders from its
 * view-model, the embed snippet is well formed, and the pure helpers the
 * worker uses compute what they claim (no browser). */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import vm from 'node:vm';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Mustache from 'mustache';
import { createTemplates, escapeHtml, splitSections } from '../../web/lib/templates.js';
import { initialState } from '../../web/state.js';
import { embedCode } from '../../web/views/controls/controls.js';
import { tokensModel, pieceBytes, showPiece } from '../../web/views/tokens/tokens.js';
import { stagemapModel } from '../../web/views/stagemap/stagemap.js';
import { barsModel } from '../../web/views/sampling/sampling.js';
import { ablationModel } from '../../web/views/ablation/ablation.js';
import { lensModel } from '../../web/views/lens/lens.js';
import { fullScores, softmax, topIndices } from '../../web/engine.js';

const WEB = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web');
const VIEWS = fs.readdirSync(path.join(WEB, 'views'));

async function templates() {
  const t = createTemplates(Mustache, async (p) => fs.readFileSync(path.join(WEB, p), 'utf8'));
  for (const v of VIEWS) await t.preload(v);
  return t;
}

const config = { n_layer: 2, n_head: 3, n_embd: 12, n_positions: 16, vocab_size: 50, d_head: 4, d_mlp: 48 };
const run = { ids: [10, 11, 12, 40], pieces: ['Hi', ' there', '\\xE2', ' ok'], nPrompt: 3 };

test('each view has its .js, .mustache and .css, and exports <name>View', async () => {
  for (const v of VIEWS) {
    for (const ext of ['js', 'mustache', 'css']) assert.ok(fs.existsSync(path.join(WEB, 'views', v, `${v}.${ext}`)), `${v}.${ext}`);
    const mod = await import(path.join(WEB, 'views', v, `${v}.js`));
    assert.equal(typeof mod[`${v}View`], 'function', `${v}View`);
  }
});

test('templates split into sections', () => {
  assert.deepEqual(splitSections('a\n{{!section:x}}\nb\n{{!section:y-z}}\nc'), { main: 'a', x: 'b', 'y-z': 'c' });
});

test('templates contain no inline styles or scripts the CSP would block', () => {
  for (const v of VIEWS) {
    const t = fs.readFileSync(path.join(WEB, 'views', v, `${v}.mustache`), 'utf8');
    const sections = splitSections(t);
    for (const [name, body] of Object.entries(sections)) {
      if (v === 'controls' && name === 'embedcode') continue; // the snippet is for the host page
      assert.doesNotMatch(body, /style=|<script|on[a-z]+=/i, `${v}#${name}`);
    }
  }
});

test('the tokens view shows ids, bytes for odd pieces, and marks generated tokens', async () => {
  const t = await templates();
  const vm = tokensModel(run, null);
  const html = t.render('tokens', 'chips', vm);
  assert.equal((html.match(/class="tok[ "]/g) || []).length, 4);
  assert.match(html, /tok-gen/);
  assert.match(html, /1 generated/);
  assert.equal(pieceBytes('\\xE2'), 'E2');
  assert.equal(pieceBytes(' é'), '20 C3 A9');
  assert.equal(pieceBytes(' there'), '');
  assert.equal(showPiece(' a\n'), '␣a↵');
});

test('the stage map marks where you are', async () => {
  const t = await templates();
  const s = { ...initialState(), config, stage: 'softmax', layer: 1 };
  const html = t.render('stagemap', 'main', stagemapModel(s));
  assert.match(html, /step 20 of 32/);
  assert.match(html, /class="map-node map-block on" data-stage="softmax" data-layer="1"/);
  assert.match(html, /class="map-step on" data-stage="softmax"/);
});

test('the embed snippet is an iframe on embed.html with the state in its URL', async () => {
  const t = await templates();
  const code = embedCode(t, 'https://example.org/gb/embed.html?view=lens&prompt=a+%26+b&layer=1', 'lens', 'embed');
  assert.match(code, /^<iframe src="https:\/\/example\.org\/gb\/embed\.html\?view=lens&amp;prompt=a\+%26\+b&amp;layer=1" title="Glassbox: logit lens" width="\d+" height="\d+"/);
  assert.match(code, /<\/iframe>\n<script>[^<]*<\/script>$/);
  assert.match(code, /height="420"/, 'no measured height: the fallback');
  assert.match(embedCode(t, 'https://example.org/gb/embed.html?view=lens', 'lens', 'embed', 1234), /height="1234"/);
  // The host script: sizes the frame whose window sent the message, only for the Glassbox origin.
  const script = /<script>([^<]*)<\/script>/.exec(code)[1];
  const frames = [{ contentWindow: 'w1', style: {} }, { contentWindow: 'w2', style: {} }];
  let listener = null;
  const sandbox = { addEventListener: (type, fn) => { assert.equal(type, 'message'); listener = fn; }, document: { querySelectorAll: () => frames } };
  vm.runInNewContext(script, sandbox);
  listener({ origin: 'https://evil.example', source: 'w1', data: { type: 'glassbox:resize', height: 900 } });
  assert.equal(frames[0].style.height, undefined, 'a message from another origin is ignored');
  listener({ origin: 'https://example.org', source: 'w2', data: { type: 'glassbox:resize', height: 812.2 } });
  assert.deepEqual(frames.map((f) => f.style.height), [undefined, '813px']);
  listener({ origin: 'https://example.org', source: 'w2', data: { type: 'other', height: 5 } });
  assert.equal(frames[1].style.height, '813px');
  assert.equal(escapeHtml('<a href="x">\'&'), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;');
});

test('sampling bars, ablation and lens render from engine-shaped data', async () => {
  const t = await templates();
  const p = { token: 12, piece: ' x', uniform: 0.25, kept: { topK: 2, topP: 1 }, sampling: {},
    rows: [{ id: 11, piece: 'a', logit: 2, scaled: 4, prob: 0.7, topK: 0.8, topP: 1 }, { id: 12, piece: ' x', logit: 1, scaled: 2, prob: 0.2, topK: 0.2, topP: 0 }] };
  const bars = t.render('sampling', 'bars', barsModel(p));
  assert.match(bars, /data-token="12"/);
  assert.match(bars, /bars-row chosen/);
  assert.match(bars, /bar-cell cut/);
  const s = { ...initialState(), config, run, ablate: ['1.2'],
    ablation: { heads: ['1.2'], mode: 'zero', changed: 0.1, rows: [{ id: 1, piece: 'q', before: 0.5, after: 0.3 }] } };
  const ab = t.render('ablation', 'main', ablationModel(s));
  assert.match(ab, /class="hg-cell on" data-layer="1" data-head="2"/);
  assert.match(ab, /−20\.0pt/);
  const lens = { from: 0, T: 2, rows: [{ layer: -1, cells: [{ pos: 0, id: 3, piece: 'a', prob: 0.5 }, { pos: 1, id: 4, piece: 'b', prob: 0.1 }] },
    { layer: 0, cells: [{ pos: 0, id: 3, piece: 'a', prob: 0.6 }, { pos: 1, id: 5, piece: 'c', prob: 0.2 }] }] };
  const lh = t.render('lens', 'main', lensModel({ ...s, lens }));
  assert.match(lh, /block 1[\s\S]*embeddings/);
  assert.equal((lh.match(/lens-cell/g) || []).length, 4);
});

test('engine helpers: top-k indices, softmax, unmasked scores', () => {
  assert.deepEqual(topIndices([3, 9, 1, 9, 5], 3), [1, 3, 4]);
  assert.deepEqual(topIndices([1], 3), [0]);
  const p = softmax([0, Math.log(3)]);
  assert.ok(Math.abs(p[0] - 0.25) < 1e-6 && Math.abs(p[1] - 0.75) < 1e-6);
  // T=2, H=1, D=2: q = [[1,0],[0,2]], k = [[1,1],[3,0]]
  const s = fullScores([1, 0, 0, 2], [1, 1, 3, 0], 2, 1, 2);
  assert.deepEqual(Array.from(s, (v) => Number(v.toFixed(4))), [1, 3, 2, 0].map((v) => Number((v / Math.SQRT2).toFixed(4))));
});
