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
import { initialState, runKey, sampleKey } from '../../web/state.js';
import { embedCode } from '../../web/views/controls/controls.js';
import { tokensModel, pieceBytes, showPiece, grownFrom } from '../../web/views/tokens/tokens.js';
import { stagemapModel } from '../../web/views/stagemap/stagemap.js';
import { SUBSTAGES, barsModel, stageBarsModel } from '../../web/views/sampling/sampling.js';
import { ablationModel } from '../../web/views/ablation/ablation.js';
import { lensModel } from '../../web/views/lens/lens.js';

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
  const html = t.render('tokens', 'chipItems', vm);
  assert.equal((html.match(/class="tok[ "]/g) || []).length, 4);
  assert.match(html, /tok-gen/);
  assert.match(t.render('tokens', 'chipsHead', vm), /1 generated/);
  // A generated token appends chips; any other change redraws them all.
  const keys = vm.tokens.map((x) => `${x.id}|${x.gen}`);
  assert.equal(grownFrom(keys.slice(0, 3), vm.tokens), 3);
  assert.equal(grownFrom(keys, vm.tokens), 4);
  assert.equal(grownFrom([], vm.tokens), 0);
  assert.equal(grownFrom([...keys, '5|true'], vm.tokens), 0);
  assert.equal(grownFrom(['999|false', ...keys.slice(1, 3)], vm.tokens), 0);
  assert.equal(grownFrom([...keys.slice(0, 3), keys[3].replace('|true', '|false')], vm.tokens), 0); // a generated token became prompt
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

test('sampling bars, comparison and lens render from engine-shaped data', async () => {
  const t = await templates();
  // Rows in the engine's order with running totals; u = 0.85 falls in row 2 (0.7 <= u < 0.9).
  const p = { token: 12, piece: ' x', rank: 1, uniform: 0.85, cumBefore: 0.7, cumAfter: 0.9, position: 0, kept: { topK: 3, topP: 3 },
    sampling: { temperature: 1, topK: 3, topP: 1 },
    rows: [{ id: 11, piece: 'a', logit: 2, scaled: 2, prob: 0.6, topK: 0.7, topP: 0.7, cum: 0.7 },
      { id: 12, piece: ' x', logit: 1, scaled: 1, prob: 0.2, topK: 0.2, topP: 0.2, cum: 0.9 },
      { id: 13, piece: 'q', logit: 0.5, scaled: 0.5, prob: 0.1, topK: 0.1, topP: 0.1, cum: 1 }], drawnRow: null };
  const vm = barsModel(p);
  const bars = t.render('sampling', 'bars', { ...vm, one: stageBarsModel(p, SUBSTAGES.length - 1) });
  assert.match(bars, /data-token="12"/);
  assert.match(bars, /bars-row chosen" role="row" data-id="12" data-rank="2" data-cum="0\.9000"/);
  assert.match(bars, /u-mark u-here/);
  assert.deepEqual(vm.rows.map((r) => [r.segL, Math.round(r.segW * 1e6) / 1e6]), [[0, 70], [70, 20], [90, 10]], 'each running-total segment spans its row');
  assert.deepEqual(vm.rows[0].cols.map((c) => c.w), [60, 70, 70], 'a bar is its probability');
  const say = stageBarsModel(p, SUBSTAGES.length - 1).say;
  assert.match(say, /u = 0\.8500/);
  assert.match(say, /␣x \(row 2\)/);
  assert.match(say, /from 0\.7000 \(not above u\) to 0\.9000 \(above u\)/);
  // A drawn row below the rows shown is listed after a gap, with its rank.
  const far = barsModel({ ...p, token: 99, rank: 40, cumBefore: 0.95, cumAfter: 0.951, drawnRow: { id: 99, piece: 'z', logit: -1, scaled: -1, prob: 0.001, topK: 0.001, topP: 0.001, cum: 0.951, rank: 40 } });
  assert.equal(far.rows.at(-1).rank, 41);
  assert.ok(far.rows.at(-1).gap && far.rows.at(-1).chosen);

  const iv = [{ kind: 'ablate-zero', layer: 1, head: 2 }];
  const s = { ...initialState(), config, run, interventions: iv };
  s.compare = { key: sampleKey(s), intervened: true, interventions: iv, clean: { token: 1, piece: 'q', rank: 0, uniform: 0.5 }, run: { token: 2, piece: 'r', rank: 0, uniform: 0.5 },
    rows: [{ id: 1, piece: 'q', clean: 0.5, run: 0.3 }, { id: 2, piece: 'r', clean: 0.2, run: 0.4 }] };
  const abm = ablationModel(s);
  const ab = t.render('ablation', 'main', abm);
  assert.match(ab, /class="hg-cell on" data-layer="1" data-head="2"/);
  assert.match(ab, /−20\.0pt/);
  assert.match(ab, /<span>clean model<\/span><span>with L2 h3<\/span>/, 'both columns labelled');
  assert.match(ab, /T = 0\.8, top-k 40, top-p 0\.95/, 'at the sampling settings');
  assert.deepEqual(abm.rows.map((r) => [r.wc, r.wr]), [[50, 30], [20, 40]], 'bars are probabilities');
  assert.ok(ablationModel({ ...s, seed: 9 }).waiting, 'an answer for another seed is not shown');
  const lens = { key: runKey(s), from: 0, T: 2, rows: [{ layer: -1, cells: [{ pos: 0, id: 3, piece: 'a', prob: 0.5 }, { pos: 1, id: 4, piece: 'b', prob: 0.1 }] },
    { layer: 0, cells: [{ pos: 0, id: 3, piece: 'a', prob: 0.6 }, { pos: 1, id: 5, piece: 'c', prob: 0.2 }] }] };
  const lh = t.render('lens', 'main', lensModel({ ...s, lens }));
  assert.match(lh, /block 1[\s\S]*embeddings/);
  assert.equal((lh.match(/lens-cell/g) || []).length, 4);
  assert.ok(lensModel({ ...s, lens, interventions: [] }).waiting, 'a lens of another run is not shown');
});
