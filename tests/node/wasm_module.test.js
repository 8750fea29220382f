/* wasm_module.test.js — glassbox.wasm + wasm/glassbox.js without a real model:
 * the ABI, that the module is browser-safe, error mapping, tools/serve.js, and
 * checkpoints without tokenizer files (the HF fixtures stripped of them). */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';

import { Glassbox, GlassboxError, GlassboxRuntimeError } from '../../wasm/glassbox.js';
import { startServer } from '../../tools/serve.js';
import { pathToFileURL } from 'node:url';
import { MODELS, ROOT, WASM, createGb, fixtureDir, fixtureMissing, wasmMissing } from './wasm_common.js';
import { writeSafetensors } from './safetensors.js';

const JS = path.join(ROOT, 'wasm/glassbox.js');

test('glassbox.js and its parts have no Node-only top-level code (they must load in a page and a worker)', () => {
  const files = [JS, ...fs.readdirSync(path.join(ROOT, 'wasm/glassbox')).map((f) => path.join(ROOT, 'wasm/glassbox', f))];
  const dynamic = [];
  for (const file of files) {
    const src = fs.readFileSync(file, 'utf8');
    const code = src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    for (const m of code.matchAll(/^\s*(?:import|export)\s[^(]*?\sfrom\s+'([^']+)'/gm)) {
      assert.match(m[1], /^\.\.?\/[\w/]+\.js$/, `${path.basename(file)}: static imports are relative module files only: ${m[1]}`);
    }
    assert.doesNotMatch(code, /\brequire\s*\(|\b__dirname\b|\b__filename\b|\bBuffer\./, `${path.basename(file)}: no CommonJS or Buffer`);
    for (const line of code.split('\n')) {
      if (/\bprocess\b/.test(line)) assert.match(line, /isNode|typeof process/, `${path.basename(file)}: unguarded use of process: ${line.trim()}`);
    }
    dynamic.push(...[...code.matchAll(/import\(\s*'([^']+)'\s*\)/g)].map((m) => m[1]));
  }
  assert.deepEqual(dynamic, ['node:fs/promises'], 'the only Node import is the dynamic one for file: URLs');
  for (const file of files) assert.ok(fs.readFileSync(file, 'utf8').split('\n').length < 600, `${file} is under 600 lines`);
});

test('the page imports the module by one path in the source tree and in dist/', async () => {
  const pub = ['Glassbox', 'GlassboxError', 'GlassboxRuntimeError'];
  const src = await import(pathToFileURL(path.join(ROOT, 'web/glassbox.js')).href);
  const mod = await import(pathToFileURL(JS).href);
  assert.deepEqual(Object.keys(src).sort(), pub);
  assert.deepEqual(Object.keys(mod).sort(), pub);
  for (const k of pub) assert.equal(src[k], mod[k], `web/glassbox.js forwards ${k}`);
  assert.match(fs.readFileSync(path.join(ROOT, 'web/worker.js'), 'utf8'), /from '\.\/glassbox\.js'/);
  const dist = path.join(ROOT, 'dist/glassbox.js');
  if (fs.existsSync(dist)) { // built: dist/ holds the module itself, not the forwarder
    assert.equal(fs.readFileSync(dist, 'utf8'), fs.readFileSync(JS, 'utf8'));
    const d = await import(pathToFileURL(dist).href);
    assert.deepEqual(Object.keys(d).sort(), pub);
    for (const f of fs.readdirSync(path.join(ROOT, 'wasm/glassbox'))) assert.ok(fs.existsSync(path.join(ROOT, 'dist/glassbox', f)), `dist/glassbox/${f}`);
  }
});

test('glassbox.wasm imports only the stubs glassbox.js provides, and exports exports.txt', async (t) => {
  const why = wasmMissing();
  if (why) return t.skip(why);
  const mod = await WebAssembly.compile(fs.readFileSync(WASM));
  const allowed = /^(wasi_snapshot_preview1\.(fd_write|fd_close|fd_seek|fd_read|proc_exit|environ_sizes_get|environ_get|clock_time_get)|env\.emscripten_notify_memory_growth)$/;
  for (const imp of WebAssembly.Module.imports(mod)) {
    assert.match(`${imp.module}.${imp.name}`, allowed, `unexpected import ${imp.module}.${imp.name}`);
  }
  const exported = new Set(WebAssembly.Module.exports(mod).map((e) => e.name));
  const listed = fs.readFileSync(path.join(ROOT, 'wasm/exports.txt'), 'utf8').split('\n')
    .map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  for (const name of [...listed, 'memory']) assert.ok(exported.has(name), `missing export ${name}`);
  // and nothing is exported that glassbox.js does not call
  const js = [...fs.readdirSync(path.join(ROOT, 'wasm/glassbox')).map((f) => path.join(ROOT, 'wasm/glassbox', f)), path.join(ROOT, 'wasm/interp.js')]
    .map((f) => fs.readFileSync(f, 'utf8')).join('\n');
  for (const name of listed) assert.ok(js.includes(`'${name}'`) || js.includes(`x.${name}(`), `${name} is exported but glassbox.js never calls it`);
  console.log(`  glassbox.wasm: ${fs.statSync(WASM).size} bytes, ${listed.length} exports`);
});

test('before a model loads: typed errors, no crash', async (t) => {
  const why = wasmMissing();
  if (why) return t.skip(why);
  const gb = await createGb();
  assert.equal(gb.config, null);
  assert.equal(gb.numStages, 0);
  assert.throws(() => gb.tokenize('hi'), (e) => e instanceof GlassboxError && e.code === 'state');
  assert.throws(() => gb.runAll(), (e) => e instanceof GlassboxError && e.code === 'state' && e.message.length > 0);
  assert.throws(() => gb.setAblation(0, 0, 'halve'), (e) => e instanceof GlassboxError && e.code === 'arg');
  assert.throws(() => gb.seed(1.5), (e) => e instanceof GlassboxError && e.code === 'arg');
  gb.seed(2n ** 64n - 1n); // full uint64 range is accepted
  gb.seed(7);
  await assert.rejects(gb.loadModel({ config: '{}' }), (e) => e.code === 'arg' && /safetensors/.test(e.message));
  gb.destroy();
  assert.throws(() => gb.runAll(), GlassboxRuntimeError);
});

test('a malformed config.json is a GlassboxError carrying the C message', async (t) => {
  const why = wasmMissing();
  if (why) return t.skip(why);
  const gb = await createGb();
  const safetensors = writeSafetensors({ 'wte.weight': { shape: [1, 1], data: new Float32Array(1) } });
  await assert.rejects(
    gb.loadModel({ config: '{"n_layer": 2,', safetensors, tokenizerJson: '{}' }),
    (e) => {
      assert.ok(e instanceof GlassboxError, `got ${e}`);
      assert.equal(e.code, 'format');
      assert.match(e.message, /config\.json/, 'the C message names the file');
      console.log(`  C says: ${e.message}`);
      return true;
    });
  assert.equal(gb.config, null, 'nothing loaded');
  assert.equal(gb.dead, false, 'a reported error does not kill the instance');
});

test('tools/serve.js: MIME types, isolation headers, no traversal', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gb-serve-'));
  const files = { 'index.html': '<p>', 'a.js': '', 'b.mjs': '', 'c.wasm': '', 'd.json': '{}', 'm.safetensors': '',
    'e.svg': '<svg/>', 'f.css': '', 'g.mustache': '{{x}}' };
  fs.mkdirSync(path.join(dir, 'sub'));
  for (const [f, s] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), s);
  fs.writeFileSync(path.join(dir, 'sub', 'index.html'), 'sub');
  fs.writeFileSync(path.join(path.dirname(dir), 'gb-secret.txt'), 'secret');
  const { url, close } = await startServer(dir);
  try {
    const want = { 'index.html': 'text/html', 'a.js': 'text/javascript', 'b.mjs': 'text/javascript',
      'c.wasm': 'application/wasm', 'd.json': 'application/json', 'm.safetensors': 'application/octet-stream',
      'e.svg': 'image/svg+xml', 'f.css': 'text/css', 'g.mustache': 'text/plain' };
    for (const [f, type] of Object.entries(want)) {
      const r = await fetch(url + f);
      assert.equal(r.status, 200, f);
      assert.equal(r.headers.get('content-type').split(';')[0], type, f);
      assert.equal(r.headers.get('cross-origin-opener-policy'), 'same-origin');
      assert.equal(r.headers.get('cross-origin-embedder-policy'), 'require-corp');
    }
    assert.equal(await (await fetch(url)).text(), '<p>', '/ serves index.html');
    assert.equal(await (await fetch(url + 'sub/')).text(), 'sub');
    assert.equal((await fetch(url + 'nope.js')).status, 404);
    const base = path.basename(dir);
    for (const evil of ['../gb-secret.txt', '%2e%2e/gb-secret.txt', '..%2fgb-secret.txt', `sub/../../${base}/../gb-secret.txt`, '%00']) {
      const r = await fetch(url + evil);
      assert.notEqual(await r.text(), 'secret', `traversal via ${evil}`);
      assert.ok(r.status === 403 || r.status === 404, `${evil}: status ${r.status}`);
    }
  } finally {
    await close();
    fs.rmSync(dir, { recursive: true });
    fs.rmSync(path.join(path.dirname(dir), 'gb-secret.txt'));
  }
});

test('Glassbox.create loads the wasm over http and from a file: URL', async (t) => {
  const why = wasmMissing();
  if (why) return t.skip(why);
  const { url, close } = await startServer(path.dirname(WASM));
  try {
    const a = await Glassbox.create({ wasm: url + 'glassbox.wasm' });
    const b = await Glassbox.create({ wasm: new URL(`file://${WASM}`) });
    const c = await Glassbox.create({ wasm: fs.readFileSync(WASM) });
    for (const gb of [a, b, c]) { assert.equal(gb.config, null); gb.destroy(); }
    await assert.rejects(Glassbox.create({ wasm: url + 'missing.wasm' }), (e) => e.code === 'io' && /404/.test(e.message));
  } finally { await close(); }
});

test('a trap kills the instance; the next loadModel starts on a fresh one', async (t) => {
  const why = wasmMissing();
  if (why) return t.skip(why);
  const gb = await createGb();
  // Simulate a trap inside the engine (the real engine has no known trap to trigger).
  const real = gb._x;
  gb._x = { ...real, gb_run_all: () => { throw new WebAssembly.RuntimeError('unreachable'); } };
  assert.throws(() => gb.runAll(), (e) => e instanceof GlassboxRuntimeError && e.cause instanceof WebAssembly.RuntimeError
    && /gb_run_all/.test(e.message));
  assert.equal(gb.dead, true);
  assert.throws(() => gb.numTokens, (e) => e instanceof GlassboxRuntimeError && /dead/.test(e.message));
  const oldMemory = gb._memory;
  await assert.rejects(gb.loadModel({ config: '{', safetensors: new Uint8Array(8), tokenizerJson: '{}' }),
    (e) => e instanceof GlassboxError && e.code === 'format');
  assert.equal(gb.dead, false, 'revived');
  assert.notEqual(gb._memory, oldMemory, 'on a fresh instance');
  assert.equal(gb.numTokens, 0);
  assert.throws(() => gb._malloc(5e9), (e) => e instanceof GlassboxError && e.code === 'oom');
  gb.destroy();
  await assert.rejects(gb.loadModel({ config: '{', safetensors: new Uint8Array(8), tokenizerJson: '{}' }),
    (e) => e.code === 'state' && /destroyed/.test(e.message));
});

// config.json + model.safetensors alone: loads from bytes and from a URL,
// hasTokenizer is false, text calls throw a GlassboxError saying so, and the
// model runs on ids exactly as the full checkpoint does.
test('a checkpoint without tokenizer files loads, runs on ids, and says it has no tokenizer', async (t) => {
  const why = wasmMissing() || MODELS.map(fixtureMissing).find(Boolean);
  if (why) return t.skip(why);
  const gb = await createGb(), full = await createGb();
  for (const name of MODELS) {
    const dir = fixtureDir(name);
    const config = fs.readFileSync(path.join(dir, 'config.json'));
    const safetensors = fs.readFileSync(path.join(dir, 'model.safetensors'));
    await full.loadModelFromUrl(pathToFileURL(dir + '/'));
    assert.equal(full.hasTokenizer, true, name);
    const bare = fs.mkdtempSync(path.join(os.tmpdir(), `gb-bare-${name}-`));
    fs.writeFileSync(path.join(bare, 'config.json'), config);
    fs.writeFileSync(path.join(bare, 'model.safetensors'), safetensors);
    for (const load of [() => gb.loadModel({ config, safetensors }), () => gb.loadModelFromUrl(pathToFileURL(bare))]) {
      await load();
      assert.equal(gb.hasTokenizer, false, name);
      for (const call of [() => gb.tokenize('hello'), () => gb.tokenBytes(1), () => gb.decode([1, 2])]) {
        assert.throws(call, (e) => e instanceof GlassboxError && e.code === 'state' &&
          /^this checkpoint has no tokenizer \(no vocab\.json \+ merges\.txt or tokenizer\.json\): give token ids, not text$/.test(e.message));
      }
      const ids = [1, 2, 3];
      gb.setTokens(ids), full.setTokens(ids);
      gb.runAll(), full.runAll();
      assert.deepEqual(Array.from(gb.activation('logits').data), Array.from(full.activation('logits').data), name);
    }
    // half a tokenizer is refused, naming what is missing
    await assert.rejects(gb.loadModel({ config, safetensors, vocab: '{}' }), (e) => e.code === 'arg' && /vocab without merges/.test(e.message));
    fs.writeFileSync(path.join(bare, 'merges.txt'), '#version: 0.2\n');
    await assert.rejects(gb.loadModelFromUrl(pathToFileURL(bare)), (e) => e.code === 'io' && /merges\.txt without vocab\.json/.test(e.message));
    fs.rmSync(bare, { recursive: true, force: true });
  }
  gb.destroy(), full.destroy();
});
