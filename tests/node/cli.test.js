// cli.test.js — the native `glassbox` tool as a user meets it: help (overall and
// per command), exit codes, one-line errors, POSIX conventions (`--`, `-`),
// each command on the shipped model, the trace's metadata, and checkpoints
// without tokenizer files (the three HF fixtures stripped of them).
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
const FIXTURES = path.join(ROOT, 'tests/fixtures/models');
const run = (...args) => spawnSync(CLI, args, { encoding: 'utf8' });
const runIn = (input, ...args) => spawnSync(CLI, args, { encoding: 'utf8', input });
const tmp = (name) => path.join(os.tmpdir(), `gb-cli-${process.pid}-${name}`);
const oneLine = (r) => { assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr); return r.stderr; };

test('glassbox --help prints usage and the exit codes, and exits 0', () => {
  const r = run('--help');
  assert.equal(r.status, 0);
  for (const cmd of ['tokenize', 'trace', 'generate']) assert.match(r.stdout, new RegExp(cmd));
  assert.match(r.stdout, /exit status: 0 done; 1 .*refused.*; 2 the command line is wrong/s);
});

test('each command has its own --help, with its options and the exit codes', () => {
  for (const [cmd, opts] of [['tokenize', ['--pieces', '--prompt-file']], ['trace', ['--out', '--batch-dim', '--tokens']],
    ['generate', ['--top-k', '--seed', '--ids', '-n N']]]) {
    for (const args of [[cmd, '--help'], [cmd, '-h'], ['help', cmd], [cmd, '--model', MODEL, '--help']]) {
      const r = run(...args);
      assert.equal(r.status, 0, args.join(' '));
      assert.match(r.stdout, new RegExp(`^usage: glassbox ${cmd}`));
      for (const o of opts) assert.ok(r.stdout.includes(o), `${cmd} --help lacks ${o}`);
      assert.match(r.stdout, /exit status: 0/);
    }
  }
});

test('--version is package.json\'s version', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const r = run('--version');
  assert.equal(r.status, 0);
  assert.equal(r.stdout.trim(), `glassbox ${pkg.version}`);
});

test('usage errors exit 2 with one line naming the problem', () => {
  for (const [args, re] of [[[], /missing command/], [['frobnicate', '--model', MODEL], /unknown command/],
    [['generate', '--prompt', 'x'], /--model DIR is required/],
    [['generate', '--model', MODEL, '--prompt', 'x', '-n', 'x'], /-n must be a whole number from 0 to 1000000, not: x/],
    [['tokenize', '--model', MODEL, '--bogus', '1'], /unknown option: --bogus/],
    [['tokenize', '--model', MODEL, '--top-k', '3', 'x'], /--top-k is not an option of tokenize/],
    [['tokenize', '--model', MODEL, 'a', 'b'], /more than one TEXT/],
    [['tokenize', '--model', MODEL, '-5'], /unknown option: -5/],
    [['trace', '--model', MODEL, '--prompt', 'x'], /--out FILE.safetensors is required/],
    [['generate', '--model', MODEL], /give --prompt TEXT/],
    [['generate', '--model', MODEL, '--prompt', 'x', '--tokens', '1'], /give the prompt once/],
    [['generate', '--model', MODEL, '--prompt', 'x', '-n'], /missing value after: -n/]]) {
    const r = run(...args);
    assert.equal(r.status, 2, args.join(' '));
    assert.match(oneLine(r), re);
  }
});

test('negative or absurd counts are refused before loading: exit 2, one line', () => {
  const base = ['generate', '--model', '/nonexistent', '--prompt', 'x'];
  for (const [opt, v, re] of [['-n', '-3', /-n must be a whole number/], ['-n', '1e9', /-n must be/], ['-n', '2.5', /-n must be/],
    ['-n', '99999999999', /-n must be/], ['--top-k', '-1', /--top-k must be a whole number/], ['--top-k', '1e30', /--top-k/],
    ['--seed', '-1', /--seed must be/], ['--seed', '1e99', /--seed/], ['--temperature', '-0.5', /--temperature must be/],
    ['--temperature', 'inf', /--temperature/], ['--top-p', '2', /--top-p must be a number in \(0, 1\]/], ['--top-p', '0', /--top-p/]]) {
    for (const args of [[...base, opt, v], [...base, `${opt}=${v}`]]) {
      if (opt === '-n' && args.length === base.length + 1) continue; // -n has no --name=value form
      const r = run(...args);
      assert.equal(r.status, 2, args.join(' '));
      assert.match(oneLine(r), re);
      assert.match(r.stderr, new RegExp(`not: ${v.replace(/[.+]/g, '\\$&')}`));
    }
  }
});

test('-- ends the options, so a text may begin with "-"', () => {
  const a = run('tokenize', '--model', MODEL, '--', '-5');
  assert.equal(a.status, 0, a.stderr);
  const b = run('tokenize', '--model', MODEL, '--', '--pieces');
  assert.equal(b.status, 0, b.stderr);
  assert.match(a.stdout, /^\d+( \d+)*\n$/);
  assert.notEqual(a.stdout, b.stdout);
  assert.equal(run('tokenize', '--model', MODEL, '--pieces', '--', '-5').stdout.trim().split('\n').length,
    a.stdout.trim().split(' ').length);
});

test('- and --prompt-file read the text from standard input or a file, exactly', () => {
  const text = '-dash first\nline two\n';
  const want = run('tokenize', '--model', MODEL, '--', text);
  assert.equal(want.status, 0, want.stderr);
  const viaStdin = runIn(text, 'tokenize', '--model', MODEL, '-');
  const viaDashFile = runIn(text, 'tokenize', '--model', MODEL, '--prompt-file', '-');
  const f = tmp('prompt.txt');
  fs.writeFileSync(f, text);
  const viaFile = run('tokenize', '--model', MODEL, '--prompt-file', f);
  fs.unlinkSync(f);
  for (const r of [viaStdin, viaDashFile, viaFile]) {
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, want.stdout);
  }
  const gen = runIn('The ship', 'generate', '--model', MODEL, '-', '-n', '3', '--seed', '2');
  assert.equal(gen.stdout, run('generate', '--model', MODEL, '--prompt', 'The ship', '-n', '3', '--seed', '2').stdout);
  const missing = run('tokenize', '--model', MODEL, '--prompt-file', '/nonexistent/p.txt');
  assert.equal(missing.status, 1);
  assert.match(oneLine(missing), /\/nonexistent\/p\.txt: cannot open/);
});

test('engine errors exit 1 with the engine message', () => {
  let r = run('tokenize', '--model', '/nonexistent/dir', 'hi');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /\/nonexistent\/dir\/config\.json: cannot open/);
  const long = Array(300).fill('7').join(',');
  r = run('trace', '--model', MODEL, '--tokens', long, '--out', path.join(os.tmpdir(), 'gb-x.safetensors'));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /300 tokens exceed the model's context of 256 positions/);
  r = run('generate', '--model', MODEL, '--prompt', 'Hi', '-n', '300');
  assert.equal(r.status, 1);
  assert.match(oneLine(r), /\d+ prompt tokens \+ 300 new exceed the model's context of 256 positions; lower -n/);
  assert.equal(r.stdout, '', 'nothing printed before the refusal');
  r = run('trace', '--model', MODEL, '--tokens', '1,x', '--out', '/tmp/x');
  assert.equal(r.status, 1);
  assert.match(oneLine(r), /token ids must be comma-separated non-negative integers/);
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

// The trace's __metadata__, read with the tests' own safetensors reader
// (tests/node/safetensors.js), and the header checked as strictly as the
// reference library checks it: metadata strings only, the tensors covering
// the data section exactly.
function strictHeader(bytes) {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  for (const [k, v] of Object.entries(header.__metadata__)) assert.equal(typeof v, 'string', `__metadata__.${k}`);
  const ranges = Object.entries(header).filter(([k]) => k !== '__metadata__').map(([, t]) => t.data_offsets)
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let at = 0;
  for (const [b, e] of ranges) { assert.equal(b, at, 'no gap, no overlap'); at = e; }
  assert.equal(8 + n + at, bytes.length, 'the tensors cover the data section exactly');
  assert.equal((8 + n) % 8, 0, 'data 8-byte aligned');
  return header;
}

test('trace: __metadata__ says what the file holds, and the prompt round-trips', () => {
  const out = tmp('meta.safetensors');
  const prompt = 'Quote " back\\slash\ttab\nnew line \u00e9\u4e2d \ud83d\ude00 \u0001';
  const r = run('trace', '--model', MODEL + '/', '--out', out, '--', prompt);
  assert.equal(r.status, 0, r.stderr);
  const bytes = fs.readFileSync(out);
  fs.unlinkSync(out);
  const header = strictHeader(bytes);
  const m = readSafetensors(bytes).metadata;
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  assert.equal(m.format, 'glassbox-trace/1');
  assert.equal(m.glassbox_version, pkg.version);
  assert.equal(m.model, 'default');
  assert.match(m.model_path_fnv1a64, /^[0-9a-f]{16}$/);
  assert.equal(m.prompt, prompt);
  const st = readSafetensors(bytes);
  assert.deepEqual(JSON.parse(m.token_ids), Array.from(st.tensors.get('tokens').data));
  assert.deepEqual(JSON.parse(m.token_ids), run('tokenize', '--model', MODEL, '--', prompt).stdout.trim().split(' ').map(Number));
  assert.match(m.hook_names, /TransformerLens HookedTransformer/);
  assert.match(m.hook_names, /3\.0 keeps only in its compatibility mode and 4\.0 removed/);
  assert.match(m.values, /layer norm not folded/);
  assert.match(m.batch_dim, /^none/);
  assert.ok(header['blocks.0.attn.hook_pattern']);
  // bytes that are not UTF-8 become U+FFFD in the metadata (the file stays valid JSON)
  const bad = spawnSync(CLI, ['trace', '--model', MODEL, '--out', out, '-'], { input: Buffer.from([0x41, 0xff, 0x42, 0xc0, 0xaf]) });
  assert.equal(bad.status, 0, String(bad.stderr));
  const badBytes = fs.readFileSync(out);
  fs.unlinkSync(out);
  strictHeader(badBytes);
  assert.equal(readSafetensors(badBytes).metadata.prompt, 'A\ufffdB\ufffd\ufffd');
});

test('trace --batch-dim: every tensor gains a leading 1, the data unchanged', () => {
  const [a, b] = [tmp('nob.safetensors'), tmp('b.safetensors')];
  assert.equal(run('trace', '--model', MODEL, '--tokens', '5,6,7', '--out', a).status, 0);
  const r = run('trace', '--model', MODEL, '--tokens', '5,6,7', '--out', b, '--batch-dim');
  assert.equal(r.status, 0, r.stderr);
  const [x, y] = [fs.readFileSync(a), fs.readFileSync(b)];
  fs.unlinkSync(a), fs.unlinkSync(b);
  strictHeader(y);
  const [sx, sy] = [readSafetensors(x), readSafetensors(y)];
  assert.match(sy.metadata.batch_dim, /leading batch dimension of 1/);
  assert.equal(sx.tensors.size, sy.tensors.size);
  for (const [name, t] of sx.tensors) {
    const u = sy.tensors.get(name);
    assert.deepEqual(u.shape, [1, ...t.shape], name);
    assert.deepEqual(Array.from(u.data), Array.from(t.data), name);
  }
  assert.deepEqual(sy.tensors.get('blocks.0.attn.hook_pattern').shape, [1, 4, 3, 3]);
});

// A checkpoint of config.json + model.safetensors alone (each HF fixture
// without its tokenizer files) runs on ids; text says in one line that there
// is no tokenizer.
test('checkpoints without tokenizer files: trace --tokens, generate --ids run; text is refused in one line', () => {
  for (const name of ['tiny-f32', 'tiny-f16', 'tiny-bf16-untied']) {
    const dir = tmp(`bare-${name}`);
    fs.mkdirSync(dir, { recursive: true });
    for (const f of ['config.json', 'model.safetensors']) fs.copyFileSync(path.join(FIXTURES, name, f), path.join(dir, f));
    const out = path.join(dir, 'trace.safetensors');
    let r = run('trace', '--model', dir, '--tokens', '1,2,3', '--out', out);
    assert.equal(r.status, 0, `${name}: ${r.stderr}`);
    const st = readSafetensors(fs.readFileSync(out));
    assert.deepEqual(Array.from(st.tensors.get('tokens').data), [1, 2, 3]);
    assert.equal(st.metadata.prompt, '');
    // the same ids through the full checkpoint give the same activations
    const full = path.join(dir, 'full.safetensors');
    assert.equal(run('trace', '--model', path.join(FIXTURES, name), '--tokens', '1,2,3', '--out', full).status, 0);
    const sf = readSafetensors(fs.readFileSync(full));
    assert.deepEqual(Array.from(st.tensors.get('logits').data), Array.from(sf.tensors.get('logits').data), name);
    const gen = run('generate', '--model', dir, '--ids', '1,2,3', '-n', '4', '--temperature', '0');
    assert.equal(gen.status, 0, `${name}: ${gen.stderr}`);
    const ids = gen.stdout.trim().split('\n').map(Number);
    assert.equal(ids.length, 4);
    assert.ok(ids.every(Number.isInteger));
    // without --ids the continuation is printed as ids too (there is no text)
    assert.equal(run('generate', '--model', dir, '--tokens', '1,2,3', '-n', '4', '--temperature', '0').stdout, gen.stdout);
    for (const args of [['tokenize', '--model', dir, 'hello'], ['trace', '--model', dir, '--prompt', 'hello', '--out', out],
      ['generate', '--model', dir, '--prompt', 'hello']]) {
      r = run(...args);
      assert.equal(r.status, 1, args.join(' '));
      assert.match(oneLine(r), /^glassbox: this checkpoint has no tokenizer \(no vocab\.json \+ merges\.txt or tokenizer\.json\): give token ids, not text$/m);
    }
    fs.writeFileSync(path.join(dir, 'vocab.json'), '{}');
    r = run('trace', '--model', dir, '--tokens', '1', '--out', out);
    assert.equal(r.status, 1);
    assert.match(oneLine(r), /vocab\.json without merges\.txt/);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// The reference reader: Python's safetensors reads the trace and its metadata
// round-trips (tests/fixtures/make_hf_fixtures.py check-trace). Skipped, with
// the reason, where Python's safetensors is not installed.
test('trace read back by Python\'s safetensors (skips without it)', (t) => {
  const r = spawnSync('python3', [path.join(ROOT, 'tests/fixtures/make_hf_fixtures.py'), 'check-trace'], { encoding: 'utf8' });
  if (r.error || r.status === 77) {
    t.skip(`Python's safetensors is not installed here: ${(r.stdout || String(r.error)).trim()}`);
    return;
  }
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /check-trace ok/);
});
