/* ui_engine.test.js — web/engine.js (what the worker computes for the views)
 * on the real engine in Node: the sampling stream matches the native CLI's
 * --seed however predict, generate, ablation and the logit lens interleave,
 * and every step of the walk has a payload of the right size. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Glassbox } from '../../wasm/glassbox.js';
import { Session, allSteps } from '../../web/engine.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const WASM = path.join(ROOT, 'build/wasm/glassbox.wasm');
const CLI = path.join(ROOT, 'build/glassbox');
const MODEL = path.join(ROOT, 'models/default');
const skip = !fs.existsSync(WASM) ? 'glassbox.wasm not built' : !fs.existsSync(CLI) ? 'CLI not built'
  : !fs.existsSync(path.join(MODEL, 'config.json')) ? 'models/default not present' : false;

async function session() {
  const gb = await Glassbox.create({ wasm: fs.readFileSync(WASM) });
  await gb.loadModelFromUrl(pathToFileURL(`${MODEL}/`));
  return new Session(gb);
}

test('sampling follows the CLI stream through predict/generate/ablation/lens', { skip }, async () => {
  const s = await session();
  const prompt = 'Once upon a time';
  for (const [t, k, p] of [[0.9, 20, 0.9], [1.5, 0, 1], [0, 0, 1], [0.7, 5, 0.5]]) {
    const sampling = { temperature: t, topK: k, topP: p };
    const want = execFileSync(CLI, ['generate', '--model', MODEL, '--prompt', prompt, '-n', '6', '--temperature', String(t),
      '--top-k', String(k), '--top-p', String(p), '--seed', '9', '--ids'], { encoding: 'utf8' }).trim().split(/\s+/).map(Number);
    s.setRun({ prompt, sampling, seed: 9 });
    assert.equal(s.predict({ sampling }).token, want[0]);
    assert.equal(s.predict({ sampling }).token, want[0], 'predict is repeatable');
    s.generate({ n: 2, sampling });
    s.ablation({ heads: ['1.1'] });
    s.lens({});
    assert.equal(s.predict({ sampling, k: 5 }).token, want[2]);
    s.generate({ n: 4, sampling });
    assert.deepEqual(s.ids.slice(s.nPrompt), want, `t=${t} k=${k} p=${p}`);
    s.setRun({ prompt, gen: 6, sampling, seed: 9 });
    assert.deepEqual(s.ids.slice(s.nPrompt), want, 'sampled again from the seed');
    s.setRun({ prompt, gen: want.slice(0, 3), sampling, seed: 9 });
    assert.deepEqual(s.ids.slice(s.nPrompt), want.slice(0, 3), 'ids from a link are appended as they are');
    s.generate({ n: 3, sampling });
    assert.deepEqual(s.ids.slice(s.nPrompt), want, 'and the RNG stream continues after them');
  }
});

test('every step has a payload shaped by T and the config', { skip }, async () => {
  const s = await session();
  s.setRun({ prompt: 'The cat sat', seed: 1 });
  const c = s.config, T = s.ids.length;
  const steps = allSteps(s);
  assert.equal(Object.keys(steps).length, 1 + 14 * c.n_layer + 3);
  assert.equal(steps.embed.tok.length, T * c.n_embd);
  assert.equal(steps['b0.softmax'].pattern.length, c.n_head * T * T);
  assert.equal(steps['b0.mask'].scores[1], -Infinity, 'masked score above the diagonal');
  assert.ok(Number.isFinite(steps['b0.scores'].scores[1]), 'unmasked scores keep the future');
  assert.equal(steps['b1.gelu'].post.length, T * c.d_mlp);
  assert.equal(steps['b1.resid2'].norms.length, (c.n_layer + 1) * T);
  assert.equal(steps.logits.top.length, T);
  // Pattern rows sum to 1.
  const pat = steps['b1.softmax'].pattern;
  for (let i = 0; i < T; i++) { let sum = 0; for (let j = 0; j < T; j++) sum += pat[i * T + j]; assert.ok(Math.abs(sum - 1) < 1e-4); }
  const ab = s.ablation({ heads: ['0.0', '0.1'] });
  assert.ok(ab.changed > 0, 'ablating heads moves probability mass');
  const long = s.setRun({ prompt: 'word '.repeat(c.n_positions + 7), seed: 1 });
  assert.equal(long.ids.length, c.n_positions, 'a long prompt is cut to the context');
  assert.ok(long.truncated > 0, 'and says how much was left out');
  s.setRun({ prompt: 'The cat sat', seed: 1 });
  const lens = s.lens({ maxPos: 2 });
  assert.equal(lens.rows.length, c.n_layer + 1);
  assert.equal(lens.rows[0].cells.length, Math.min(2, T));
});
