/* threads.test.js — glassbox-mt.wasm on 2 threads gives the same bits as
 * glassbox.wasm on one: every activation of a 70-token prompt (two matmul row
 * blocks) on the shipped model (whose matrices are packed, so the column
 * splits run), then of a KV-cache step, and the sampled token. Also: the
 * fallback to one thread says why, and a bad thread count is refused. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { Glassbox, GlassboxError } from '../../wasm/glassbox.js';
import { ROOT, WASM, readModelFiles } from './wasm_common.js';

const MT = path.join(ROOT, 'build/wasm/glassbox-mt.wasm');
const MODEL = path.join(ROOT, 'models/default');
const missing = !fs.existsSync(WASM) || !fs.existsSync(MT) ? 'build/wasm not built yet (run ./build.sh)'
  : !fs.existsSync(path.join(MODEL, 'model.safetensors')) ? 'models/default missing' : null;

/* Every activation of the run, by name, as copies. */
function snapshot(gb) {
  const out = new Map();
  for (const name of gb.hookNames()) out.set(name, gb.activation(name, { copy: true }).data);
  return out;
}

async function session(threads) {
  const gb = await Glassbox.create({ wasm: new URL(`file://${WASM}`), wasmThreads: new URL(`file://${MT}`), threads });
  try {
    assert.equal(gb.threads, threads, `engine threads (note: ${gb.threadsNote})`);
    await gb.loadModel(readModelFiles(MODEL));
    const { ids } = gb.tokenize('The quick brown fox jumps over the lazy dog, and then it runs away. '.repeat(6));
    assert.ok(ids.length >= 71);
    gb.setTokens(ids.slice(0, 70));
    gb.runAll();
    const prompt = snapshot(gb);
    gb.appendTokens([ids[70]]);
    gb.runAll();
    const step = snapshot(gb);
    gb.seed(7);
    const token = gb.sample({ temperature: 0.8, topK: 40, topP: 0.95 }).token;
    return { prompt, step, token };
  } finally {
    gb.destroy();
  }
}

function assertSame(a, b, what) {
  assert.deepEqual([...a.keys()], [...b.keys()]);
  for (const [name, x] of a) {
    const y = b.get(name);
    assert.equal(x.length, y.length, `${what} ${name}: length`);
    const bx = new Uint32Array(x.buffer, x.byteOffset, x.length), by = new Uint32Array(y.buffer, y.byteOffset, y.length);
    let first = -1;
    for (let i = 0; i < bx.length; i++) if (bx[i] !== by[i]) { first = i; break; }
    assert.equal(first, -1, `${what} ${name}: differs from one thread at element ${first}`);
  }
}

test('2 threads give the bits of 1 thread (prompt, KV-cache step, sample)', { skip: missing ?? false }, async () => {
  const one = await session(1), two = await session(2);
  assertSame(one.prompt, two.prompt, 'prompt');
  assertSame(one.step, two.step, 'step');
  assert.equal(one.token, two.token);
});

test('without the threaded build the engine runs on one thread and says why', { skip: missing ?? false }, async () => {
  const gb = await Glassbox.create({ wasm: new URL(`file://${WASM}`), wasmThreads: new URL('file:///nonexistent/glassbox-mt.wasm'), threads: 4 });
  assert.equal(gb.threads, 1);
  assert.match(gb.threadsNote, /one thread/);
  gb.destroy();
  const one = await Glassbox.create({ wasm: new URL(`file://${WASM}`), threads: 1 });
  assert.equal(one.threads, 1);
  assert.equal(one.threadsNote, null);
  one.destroy();
});

test('a thread count outside 1..256 is refused', { skip: missing ?? false }, async () => {
  await assert.rejects(Glassbox.create({ wasm: new URL(`file://${WASM}`), threads: 0 }), GlassboxError);
});
