/* wasm_model.test.js — the WASM engine on the fixture models, through wasm/glassbox.js:
 * activations vs the Hugging Face reference, the KV cache, keep_all, sampling,
 * error paths that must leave the loaded model usable, the zero-copy rule,
 * and loading over http (tools/serve.js) with progress. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';

import { GlassboxError } from '../../wasm/glassbox.js';
import { startServer } from '../../tools/serve.js';
import { readSafetensors, toNumbers } from './safetensors.js';
import {
  FIXTURES, MODELS, TOL_NATIVE_REL, TOL_REF_REL, assertClose, createGb, fileUrl, fixtureDir, fixtureMissing,
  loadFixture, readModelFiles, relError, sameShape, wasmMissing,
} from './wasm_common.js';

const skipReason = (name) => wasmMissing() || fixtureMissing(name);

/* The reference prompts of a fixture: [{i, tokens, tensors: Map(hook -> {shape, data})}]. */
function referencePrompts(name) {
  const file = path.join(fixtureDir(name), 'reference.safetensors');
  if (!fs.existsSync(file)) return null;
  const { tensors, metadata } = readSafetensors(fs.readFileSync(file));
  const prompts = [];
  for (let i = 0; tensors.has(`p${i}.tokens`); i++) {
    const hooks = new Map();
    for (const [k, v] of tensors) if (k.startsWith(`p${i}.`) && k !== `p${i}.tokens`) hooks.set(k.slice(`p${i}.`.length), v);
    prompts.push({ i, tokens: toNumbers(tensors.get(`p${i}.tokens`).data), hooks, metadata });
  }
  return prompts;
}

for (const name of MODELS) {
  test(`${name}: activations match the Hugging Face reference (rel <= ${TOL_REF_REL})`, async (t) => {
    const why = skipReason(name);
    if (why) return t.skip(why);
    const prompts = referencePrompts(name);
    if (!prompts || !prompts.length) return t.skip(`${name}/reference.safetensors missing or has no p0.tokens`);
    const gb = await createGb();
    await loadFixture(gb, name);
    const known = new Set(gb.hookNames());
    // The reference records each prompt's text and HF's ids: the tokenizer must agree.
    const texts = prompts[0].metadata.prompts ? JSON.parse(prompts[0].metadata.prompts) : [];
    for (const [i, { text, ids }] of texts.entries()) {
      assert.deepEqual(Array.from(gb.tokenize(text).ids), ids, `p${i} tokenize(${JSON.stringify(text.slice(0, 40))})`);
      assert.equal(gb.decode(ids), text, `p${i} decode`);
      assert.deepEqual(ids, prompts[i].tokens, `p${i}: metadata ids = p${i}.tokens`);
    }
    let compared = 0;
    for (const keepAll of [true, false]) {
      gb.setKeepAll(keepAll);
      for (const p of prompts) {
        gb.setTokens(p.tokens);
        gb.runAll();
        assert.ok(p.hooks.has('logits'), `p${p.i}.logits missing from the reference`);
        for (const [hook, ref] of p.hooks) {
          if (!known.has(hook)) continue; // e.g. HF-only extras
          const a = gb.activation(hook);
          assert.ok(sameShape(a.shape, ref.shape), `${hook}: shape ${a.shape} vs reference ${ref.shape}`);
          assertClose(`${name} p${p.i} ${hook}${keepAll ? '' : ' (keep_all 0)'}`, a.data, ref.data, TOL_REF_REL);
          compared++;
        }
      }
    }
    assert.ok(compared >= 2 * prompts.length, 'compared at least the logits');
    gb.destroy();
  });

  test(`${name}: generation with the KV cache equals running the whole sequence`, async (t) => {
    const why = skipReason(name);
    if (why) return t.skip(why);
    const gb = await createGb();
    await loadFixture(gb, name);
    const prompt = 'The quick';
    const params = { temperature: 0.8, topK: 40, topP: 0.9, seed: 7 };
    const n = gb.config.n_positions - gb.tokenize(prompt).ids.length + 3; // runs into the context end
    const a = gb.generate(prompt, n, params);
    const b = gb.generate(prompt, n, params);
    assert.deepEqual(b.tokens, a.tokens, 'same seed, same tokens');
    assert.equal(a.prompt.length + a.tokens.length, gb.config.n_positions, 'generate stops at n_positions');
    assert.throws(() => gb.appendTokens([0]), (e) => e instanceof GlassboxError && e.code === 'range', 'the context is full');
    const cached = gb.activation('logits', { copy: true }).data; // the run built by appendTokens
    gb.setTokens([...a.prompt, ...a.tokens]);
    gb.runAll();
    assertClose(`${name} logits: KV cache vs full run`, cached, gb.activation('logits').data, TOL_NATIVE_REL);
    // Greedy sampling takes the argmax of the last row.
    const s = gb.sample({ temperature: 0 });
    const V = gb.config.vocab_size;
    const last = gb.activation('logits').data.subarray(-V);
    assert.equal(s.token, last.indexOf(Math.max(...last)));
    assert.equal(s.logits.length, V);
    for (const k of ['scaled', 'probs', 'topK', 'topP']) assert.equal(s[k].length, V, k);
    gb.destroy();
  });
}

test('tiny-f32: tokenizer, stages, logit lens and ablation through the JS API', async (t) => {
  const why = skipReason('tiny-f32');
  if (why) return t.skip(why);
  const gb = await createGb();
  await loadFixture(gb, 'tiny-f32');
  const c = gb.config;
  assert.equal(c.d_head * c.n_head, c.n_embd);
  const text = 'Hello, wörld! \u{1F600}';
  const tok = gb.tokenize(text);
  assert.equal(gb.decode(tok.ids), text, 'decode(tokenize(x)) == x');
  const bytes = new TextEncoder().encode(text);
  assert.equal(tok.spans[0][0], 0);
  assert.equal(tok.spans.at(-1)[1], bytes.length);
  assert.equal(tok.pieces.length, tok.ids.length);
  for (let i = 0; i < tok.ids.length; i++) {
    assert.deepEqual(gb.tokenBytes(tok.ids[i]), bytes.subarray(...tok.spans[i]), `token ${i} bytes = its span`);
  }
  // Stages: names and stepwise progress.
  assert.equal(gb.numStages, 2 * c.n_layer + 2);
  assert.equal(gb.stageName(0), 'embed');
  assert.equal(gb.stageName(1), 'blocks.0.attn');
  assert.equal(gb.stageName(2), 'blocks.0.mlp');
  assert.equal(gb.stageName(gb.numStages - 1), 'final');
  gb.setTokens(tok.ids);
  assert.equal(gb.stagesDone, 0);
  gb.runStage(0);
  gb.runUntil(2);
  assert.equal(gb.stagesDone, 3);
  assert.throws(() => gb.runStage(gb.numStages + 5), (e) => e instanceof GlassboxError && e.code === 'range' && e.message.length > 0);
  gb.runAll();
  assert.equal(gb.stagesDone, gb.numStages);
  const names = gb.hookNames();
  assert.ok(names.includes('hook_embed') && names.includes('logits') && names.includes('blocks.0.attn.hook_pattern'));
  for (const n of names) {
    const a = gb.activation(n);
    assert.equal(a.data.length, a.shape.reduce((x, y) => x * y, 1), n);
  }
  const pat = gb.activation(`blocks.${c.n_layer - 1}.attn.hook_pattern`);
  const T = tok.ids.length;
  assert.deepEqual(pat.shape, [c.n_head, T, T]);
  assert.equal(pat.view, false, 'packed activations come back as copies');
  assert.ok(Math.abs(pat.data.subarray(0, T).reduce((x, y) => x + y, 0) - 1) < 1e-5, 'pattern rows sum to 1');
  assert.equal(pat.data[1], 0, 'masked entries are 0');
  // Logit lens after the last block is the model's own prediction.
  const V = c.vocab_size, pos = T - 1;
  const logits = gb.activation('logits').data.slice(pos * V, (pos + 1) * V);
  const lens = gb.logitLens(c.n_layer - 1, pos, 5);
  assert.equal(lens.length, 5);
  assert.equal(lens[0].id, logits.indexOf(Math.max(...logits)));
  assert.ok(lens[0].prob >= lens[1].prob);
  assert.throws(() => gb.logitLens(c.n_layer + 3, 0, 5), (e) => e.code === 'range' || e.code === 'arg');
  // Ablation changes the logits; clearing restores them exactly.
  gb.setAblation(0, 0, 'zero');
  gb.runAll();
  const ablated = gb.activation('logits', { copy: true }).data;
  gb.clearAblations();
  gb.runAll();
  const restored = gb.activation('logits').data;
  assert.ok(relError(ablated, restored).maxAbs > 0, 'ablating head 0.0 changes the logits');
  assert.equal(relError(restored.slice(pos * V, (pos + 1) * V), logits).maxAbs, 0, 'clearing ablations restores the run');
  assert.throws(() => gb.setAblation(c.n_layer, 0, 'mean'), (e) => e instanceof GlassboxError && e.code === 'range');
  gb.destroy();
});

test('tiny-f32: a failed load throws the C message and the previous model keeps working', async (t) => {
  const why = skipReason('tiny-f32');
  if (why) return t.skip(why);
  const gb = await createGb();
  await loadFixture(gb, 'tiny-f32');
  const config = gb.config;
  gb.setTokens([1, 2, 3]);
  gb.runAll();
  const before = gb.activation('logits', { copy: true }).data;
  const files = readModelFiles(fixtureDir('tiny-f32'));
  const cases = {
    'truncated safetensors': { ...files, safetensors: files.safetensors.subarray(0, files.safetensors.length - 100) },
    'safetensors header cut': { ...files, safetensors: files.safetensors.subarray(0, 20) },
    'bad config.json': { ...files, config: '{"n_layer": 2, "n_head": ' },
    'config disagrees with weights': { ...files, config: JSON.stringify({ ...JSON.parse(new TextDecoder().decode(files.config)), n_embd: 1 + config.n_embd }) },
  };
  for (const [what, bad] of Object.entries(cases)) {
    await assert.rejects(gb.loadModel(bad), (e) => {
      assert.ok(e instanceof GlassboxError, `${what}: got ${e}`);
      assert.ok(['format', 'shape', 'range', 'arg'].includes(e.code), `${what}: code ${e.code}`);
      assert.ok(e.message.length > 10 && !/failed \(/.test(e.message), `${what}: C message kept: ${e.message}`);
      console.log(`  ${what}: ${e.code}: ${e.message}`);
      return true;
    });
    assert.equal(gb.dead, false);
    assert.deepEqual(gb.config, config, `${what}: config unchanged`);
    assert.deepEqual(Array.from(gb.tokens), [1, 2, 3], `${what}: run unchanged`);
    gb.runAll();
    assert.deepEqual(gb.activation('logits').data, before, `${what}: the previous model still gives the same logits`);
    gb.setTokens([3, 2, 1]);
    gb.runAll();
    gb.setTokens([1, 2, 3]);
    gb.runAll();
  }
  gb.destroy();
});

test('tiny-f32: zero-copy views are live, and die when wasm memory grows', async (t) => {
  const why = skipReason('tiny-f32');
  if (why) return t.skip(why);
  const gb = await createGb();
  await loadFixture(gb, 'tiny-f32');
  gb.setTokens([5, 6, 7]);
  gb.runAll();
  const a = gb.activation('blocks.0.hook_resid_pre');
  assert.equal(a.view, true, 'dense activations are views');
  assert.equal(a.data.buffer, gb.HEAPF32.buffer, 'the view looks into wasm memory');
  const copy = a.data.slice();
  const b = gb.activation('blocks.0.hook_resid_pre', { copy: true });
  assert.equal(b.view, false);
  assert.notEqual(b.data.buffer, gb.HEAPF32.buffer);
  // Growing memory detaches the old buffer: old views read as empty, new ones work.
  const bytesBefore = gb.memoryBytes;
  const p = gb._malloc(bytesBefore + (64 << 20));
  assert.ok(gb.memoryBytes > bytesBefore, 'memory grew');
  assert.equal(a.data.length, 0, 'a view from before the growth is detached (length 0)');
  assert.equal(b.data.length, copy.length, 'a copy survives');
  assert.deepEqual(gb.activation('blocks.0.hook_resid_pre').data, copy, 'reading again after growth gives the same values');
  gb._free(p);
  // A new run changes the shape; the rule says re-read after run changes.
  gb.appendTokens([8]);
  gb.runAll();
  assert.equal(gb.activation('blocks.0.hook_resid_pre').shape[0], 4);
  gb.destroy();
});

test('tiny-f32: loadModelFromUrl over http (serve.js) and file:, with progress', async (t) => {
  const why = skipReason('tiny-f32');
  if (why) return t.skip(why);
  const { url, close } = await startServer(FIXTURES);
  try {
    for (const base of [`${url}tiny-f32/`, fileUrl(fixtureDir('tiny-f32')), `${url}tiny-f16`]) {
      const gb = await createGb();
      const events = [];
      await gb.loadModelFromUrl(base, { onProgress: (e) => events.push(e) });
      const phases = [...new Set(events.map((e) => e.phase))];
      assert.deepEqual(phases, ['download', 'copy', 'parse'].filter((ph) => phases.includes(ph)), `phases in order: ${phases}`);
      assert.ok(phases.includes('parse') && phases.includes('download'), `${base}: ${phases}`);
      for (const e of events) assert.ok(e.fraction >= 0 && e.fraction <= 1, `fraction ${e.fraction}`);
      assert.equal(events.at(-1).fraction, 1);
      const ref = await createGb();
      await ref.loadModel(readModelFiles(fixtureDir(String(base).includes('f16') ? 'tiny-f16' : 'tiny-f32')));
      for (const g of [gb, ref]) { g.setTokens([1, 2, 3]); g.runAll(); }
      assert.deepEqual(gb.activation('logits').data, ref.activation('logits').data, `${base}: same model`);
      gb.destroy();
      ref.destroy();
    }
    const gb = await createGb();
    await assert.rejects(gb.loadModelFromUrl(`${url}no-such-model/`), (e) => e instanceof GlassboxError && e.code === 'io');
  } finally { await close(); }
});

/* Servers that misbehave the ways real ones do: no Content-Length (chunked),
 * a compressed body (Content-Length counts the compressed bytes), and a
 * connection that drops before the announced length. */
test('tiny-f32: loadModelFromUrl with chunked, gzip and cut-off bodies', async (t) => {
  const why = skipReason('tiny-f32');
  if (why) return t.skip(why);
  const http = await import('node:http');
  const zlib = await import('node:zlib');
  const dir = fixtureDir('tiny-f32');
  const server = http.createServer((req, res) => {
    const [, mode, name] = req.url.split('/');
    const file = path.join(dir, name);
    if (!fs.existsSync(file)) { res.writeHead(404); res.end(); return; }
    const body = fs.readFileSync(file);
    if (name !== 'model.safetensors' || mode === 'plain') { res.writeHead(200, { 'content-length': body.length }); res.end(body); return; }
    if (mode === 'chunked') { res.writeHead(200); res.write(body.subarray(0, 1000)); res.end(body.subarray(1000)); return; }
    if (mode === 'gzip') {
      const z = zlib.gzipSync(body);
      res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': z.length });
      res.end(z);
      return;
    }
    if (mode === 'huge' || mode === 'big') { // announce 5 GB / 3.5 GB, send nothing
      res.writeHead(200, { 'content-length': mode === 'huge' ? 5e9 : 3.5e9 });
      res.flushHeaders();
      setTimeout(() => res.destroy(), 2000);
      return;
    }
    // cut: announce the whole file, send half, then drop the connection
    res.writeHead(200, { 'content-length': body.length });
    res.write(body.subarray(0, body.length >> 1), () => res.destroy());
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}`;
  try {
    const ref = await createGb();
    await ref.loadModel(readModelFiles(dir));
    ref.setTokens([5, 6, 7]);
    ref.runAll();
    const want = ref.activation('logits', { copy: true }).data;
    for (const mode of ['plain', 'chunked', 'gzip']) {
      const gb = await createGb();
      await gb.loadModelFromUrl(`${url}/${mode}/`);
      gb.setTokens([5, 6, 7]);
      gb.runAll();
      assert.deepEqual(gb.activation('logits').data, want, `${mode}: same model`);
      gb.destroy();
    }
    // A cut-off download fails with a message, and the model loaded before stays.
    await assert.rejects(ref.loadModelFromUrl(`${url}/cut/`), (e) => { t.diagnostic(`cut: ${e.message}`); return e instanceof GlassboxError && /model\.safetensors/.test(e.message); });
    // Sizes no load could take are refused from the header, before any byte is read.
    for (const [mode, re] of [['huge', /5\.00 GB.*4 GB/], ['big', /3\.50 GB.*the most this engine can load/]]) {
      await assert.rejects(ref.loadModelFromUrl(`${url}/${mode}/`), (e) => { t.diagnostic(`${mode}: ${e.message}`); return e instanceof GlassboxError && e.code === 'oom' && re.test(e.message); });
    }
    ref.setTokens([5, 6, 7]);
    ref.runAll();
    assert.deepEqual(ref.activation('logits').data, want, 'previous model still loaded and unchanged');
    ref.destroy();
  } finally {
    server.closeAllConnections?.();
    await new Promise((r) => server.close(r));
  }
});

test('tiny-bf16-untied: loadModel streams a Blob of model.safetensors, and a short one fails cleanly', async (t) => {
  const why = skipReason('tiny-bf16-untied');
  if (why) return t.skip(why);
  const files = readModelFiles(fixtureDir('tiny-bf16-untied'));
  const ref = await createGb();
  await ref.loadModel(files);
  ref.setTokens([3, 1, 4, 1]);
  ref.runAll();
  const want = ref.activation('logits', { copy: true }).data;
  const gb = await createGb();
  const events = [];
  await gb.loadModel({ ...files, safetensors: new Blob([files.safetensors]) }, { onProgress: (e) => events.push(e) });
  gb.setTokens([3, 1, 4, 1]);
  gb.runAll();
  assert.deepEqual(gb.activation('logits').data, want, 'same model from a Blob');
  assert.ok(events.some((e) => e.phase === 'copy' && e.fraction === 1), 'copy progress reaches 1');
  const cut = new Blob([files.safetensors.subarray(0, files.safetensors.length - 100)]);
  await assert.rejects(gb.loadModel({ ...files, safetensors: cut }), (e) => e instanceof GlassboxError && /model\.safetensors/.test(e.message));
  gb.setTokens([3, 1, 4, 1]);
  gb.runAll();
  assert.deepEqual(gb.activation('logits').data, want, 'the model loaded before still runs');
  gb.destroy();
  ref.destroy();
});
