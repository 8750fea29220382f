/* notokenizer.test.js — issue 15 part 3 in the page: a checkpoint of
 * config.json + model.safetensors alone (tests/fixtures/models/tiny-f32
 * stripped of vocab.json and merges.txt) loads through the page's file input;
 * the prompt box says how to type ids and what to add for text; tokens show
 * as "#id"; a typed id prompt runs, and the page's top next token and the
 * logit lens equal a Node run of the JS API on the same ids; a text prompt
 * gets the one-line explanation, not a crash. Half a tokenizer (vocab.json
 * without merges.txt) is refused naming the missing file. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Glassbox } from '../../wasm/glassbox.js';
import { DIST, ROOT, missing, problems, setup } from './helpers.js';

const FIXTURE = path.join(ROOT, 'tests/fixtures/models/tiny-f32');
const skip = missing() || (!fs.existsSync(path.join(FIXTURE, 'model.safetensors')) && 'tests/fixtures/models/tiny-f32 is missing');

describe('a checkpoint without tokenizer files in the page', { skip }, () => {
  let env, dir;
  before(async () => {
    env = await setup();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glassbox-notok-'));
    for (const f of ['config.json', 'model.safetensors']) fs.copyFileSync(path.join(FIXTURE, f), path.join(dir, f));
  });
  after(async () => { await env?.close(); if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

  test('loads from the file input, shows ids, takes an id prompt, matches the JS API', async () => {
    const rec = await env.open('');
    const { page } = rec;
    await page.setInputFiles('.file-input', [path.join(dir, 'config.json'), path.join(dir, 'model.safetensors')]);
    // The note says how to type ids and exactly what to add for text.
    const note = page.locator('.ids-notice');
    try { await note.waitFor({ state: 'visible', timeout: 20000 }); } catch (e) { throw new Error(`${e.message}\nloader: ${await page.locator('[data-view="loader"]').innerText()}\n${problems(rec).join('\n')}`); }
    assert.ok(await page.locator('[data-status="ready"]').count());
    const text = await note.innerText();
    assert.match(text, /ids: 12, 7, 93/);
    assert.match(text, /vocab\.json \+ merges\.txt \(or tokenizer\.json\)/);
    // The page starts from an id prompt; now type another.
    assert.match(await page.inputValue('.prompt-input'), /^ids: /);
    const want = [5, 7, 9, 11];
    await page.fill('.prompt-input', `ids: ${want.join(', ')}`);
    await page.waitForFunction((n) => [...document.querySelectorAll('.tok .tok-text')].map((e) => e.textContent).join(' ') === n, want.map((i) => `#${i}`).join(' '), { timeout: 10000 });

    // The JS API on the same ids (the same stripped checkpoint, from bytes).
    const gb = await Glassbox.create({ wasm: fs.readFileSync(path.join(DIST, 'glassbox.wasm')) });
    await gb.loadModel({ config: fs.readFileSync(path.join(dir, 'config.json')), safetensors: fs.readFileSync(path.join(dir, 'model.safetensors')) });
    assert.equal(gb.hasTokenizer, false);
    gb.setTokens(want);
    gb.runAll();
    const top = gb.topTokens(want.length - 1, 1)[0].id;
    await page.waitForFunction((t) => document.querySelector('[data-view="sampling"] .bars-row[data-id]')?.dataset.id === String(t), top, { timeout: 10000 });
    assert.equal(await page.locator('[data-view="sampling"] .bars-row[data-id]').first().locator('.bar-tok').innerText(), `#${top}`);
    // The logit lens reads ids too: its last cell after the last block is the same top token.
    await page.locator('[data-view="lens"]').scrollIntoViewIfNeeded();
    const cell = page.locator(`[data-view="lens"] tr[data-layer="${gb.config.n_layer - 1}"] td[data-pos="${want.length - 1}"]`);
    await cell.waitFor({ timeout: 10000 });
    assert.equal(Number(await cell.getAttribute('data-id')), top);
    assert.equal(await cell.locator('.lens-tok').innerText(), `#${top}`);

    // Text cannot be tokenized: the page says so in one line and keeps working.
    await page.fill('.prompt-input', 'hello world');
    const err = page.locator('[data-view="tokens"] .view-error');
    await err.waitFor({ timeout: 10000 });
    assert.match(await err.innerText(), /no tokenizer.*ids: 12, 7, 93.*vocab\.json \+ merges\.txt/s);
    assert.deepEqual(problems(rec), []);
  });

  test('half a tokenizer is refused, naming the missing file', async () => {
    const rec = await env.open('');
    const { page } = rec;
    fs.copyFileSync(path.join(FIXTURE, 'vocab.json'), path.join(dir, 'vocab.json'));
    await page.setInputFiles('.file-input', ['config.json', 'model.safetensors', 'vocab.json'].map((f) => path.join(dir, f)));
    const e = page.locator('.load-error');
    await e.waitFor({ timeout: 10000 });
    assert.match(await e.innerText(), /merges\.txt/);
    fs.rmSync(path.join(dir, 'vocab.json'));
  });
});
