// cli.test.js — the native `glassbox` tool as a user meets it: help, exit
// codes, one-line errors, and each command on the shipped model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSafetensors } from './safetensors.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'build/glassbox');
const MODEL = path.join(ROOT, 'models/default');
const run = (...args) => spawnSync(CLI, args, { encoding: 'utf8' });

test('glassbox --help prints usage and exits 0', () => {
  const r = run('--help');
  assert.equal(r.status, 0);
  for (const cmd of ['tokenize', 'trace', 'generate']) assert.match(r.stdout, new RegExp(cmd));
});

test('usage errors exit 2 with one line naming the problem', () => {
  for (const [args, re] of [[[], /missing command/], [['frobnicate', '--model', MODEL], /unknown command/],
    [['generate'], /--model DIR is required/], [['generate', '--model', MODEL, '-n', 'x'], /expected a number/],
    [['tokenize', '--model', MODEL, '--bogus', '1'], /unknown option/]]) {
    const r = run(...args);
    assert.equal(r.status, 2, args.join(' '));
    assert.match(r.stderr.split('\n')[0], re);
  }
});

test('engine errors exit 1 with the engine message', () => {
  let r = run('tokenize', '--model', '/nonexistent/dir', 'hi');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /\/nonexistent\/dir\/config\.json: cannot open/);
  const long = Array(300).fill('7').join(',');
  r = run('trace', '--model', MODEL, '--tokens', long, '--out', path.join(os.tmpdir(), 'gb-x.safetensors'));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /300 tokens exceed the model's context of 256 positions/);
  r = run('generate', '--model', MODEL, '--prompt', 'Hi', '--top-p', '2');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /top-p must be in \(0, 1\]/);
  r = run('trace', '--model', MODEL, '--tokens', '1,x', '--out', '/tmp/x');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /--tokens must be comma-separated/);
});

test('tokenize: ids, and --pieces with escaped whitespace', () => {
  const ids = run('tokenize', '--model', MODEL, 'The ship sailed.\n').stdout.trim().split(' ').map(Number);
  assert.ok(ids.length >= 4 && ids.every(Number.isInteger));
  const pieces = run('tokenize', '--model', MODEL, '--pieces', 'The ship sailed.\n').stdout.trim().split('\n');
  assert.equal(pieces.length, ids.length);
  assert.deepEqual(pieces.map((l) => Number(l.split('\t')[0])), ids);
  assert.equal(pieces.map((l) => l.split('\t')[1]).join(''), 'The ship sailed.\\n');
});

test('trace writes every hook, readable as safetensors', () => {
  const out = path.join(os.tmpdir(), `gb-trace-${process.pid}.safetensors`);
  const r = run('trace', '--model', MODEL, '--prompt', 'She opened the door and', '--out', out);
  assert.equal(r.status, 0, r.stderr);
  const st = readSafetensors(fs.readFileSync(out));
  fs.unlinkSync(out);
  const T = st.tensors.get('tokens').shape[0];
  assert.ok(T >= 5);
  assert.deepEqual(st.tensors.get('blocks.0.attn.hook_pattern').shape, [4, T, T]);
  assert.deepEqual(st.tensors.get('blocks.3.attn.hook_q').shape, [T, 4, 64]);
  assert.deepEqual(st.tensors.get('logits').shape, [T, 4096]);
  // 5 model-level hooks + 17 per block x 4 blocks + tokens
  assert.equal(st.tensors.size, 5 + 17 * 4 + 1);
});

test('generate: same seed, same text; greedy is deterministic', () => {
  const args = ['generate', '--model', MODEL, '--prompt', 'The president of the', '-n', '12'];
  const a = run(...args, '--seed', '5'), b = run(...args, '--seed', '5');
  assert.equal(a.status, 0, a.stderr);
  assert.equal(a.stdout, b.stdout);
  assert.ok(a.stdout.trim().length > 0);
  const g1 = run(...args, '--temperature', '0'), g2 = run(...args, '--temperature', '0', '--seed', '9');
  assert.equal(g1.stdout, g2.stdout);
});
