// tokenizer_parity.test.js — Glassbox's GPT-2 tokenizer against npm's
// gpt-3-encoder (OpenAI's encoder.json / vocab.bpe with a JS port of encoder.py)
// on 12,000 varied strings made from a fixed seed at test time.
//
// The strings and gpt-3-encoder's ids go to build/tokenizer_parity_cases.jsonl,
// then the native test binary checks every line (`test_tokenizer --cases`):
// identical ids, byte spans that tile the text, exact decode.
//
// U+0085 and U+FEFF are left out: JavaScript's \s disagrees with GPT-2's
// pattern on exactly those two (shared/REFERENCES.md). They are checked natively
// against the published algorithm instead (tests/fixtures/tokenizer/gpt2_nel_bom_cases.jsonl).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'build', 'asan', 'test_tokenizer');
const CASES = join(ROOT, 'build', 'tokenizer_parity_cases.jsonl');
const N_CASES = 12000;
const require = createRequire(import.meta.url);

// ------------------------------------------------------------------ generator

// mulberry32: small, seeded, the same on every machine.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FRAGMENTS = {
  words: ['hello', 'World', 'GPT', 'transformer', 'attention', 'the', 'a', 'Of', 'NASA',
    'iPhone', 'café', 'naïve', 'résumé', 'straße', 'Ærø', 'İstanbul', 'ǅemal', 'x', 'Zürich'],
  contractions: ["don't", "DON'T", "Don'T", "we'll", "WE'LL", "I'm", "I'M", "you're", "YOU'RE",
    "they've", "THEY'VE", "she'd", "SHE'D", "it's", "IT'S", "'s", "'t", "'re", "'ve", "'m", "'ll",
    "'d", "''", "'", "rock'n'roll", "o'clock", "'S", "’s", "can’t"],
  emoji: ['🙂', '😀', '👍🏽', '👩‍💻', '👨‍👩‍👧‍👦', '🏳️‍🌈', '🇯🇵', '🇺🇸', '1️⃣', '#️⃣', '❤️',
    '✌🏿', '🧑🏻‍🤝‍🧑🏾', '🫠', '🐍', '🦀', '💩', '™', '©', '⚠️'],
  cjk: ['日本語', 'のテキスト', '中文字符', '한국어', 'カタカナ', 'ひらがな', '漢字', '𠀋𡈽', '〜', '、。',
    '「引用」', 'ｆｕｌｌｗｉｄｔｈ', '１２３', '㈱', 'ｶﾀｶﾅ'],
  scripts: ['مرحبا بالعالم', 'العربية', 'नमस्ते दुनिया', 'हिन्दी', 'สวัสดีครับ', 'ภาษาไทย',
    'שלום', 'Привет мир', 'Ελληνικά', 'Ἀθῆναι', 'ქართული', 'Հայերեն', 'ᚠᚢᚦ', 'ꦗꦮ', 'ߒߞߏ',
    '𓀀𓁐', 'ⲕⲟⲡⲧⲓⲕⲏ', 'ᠮᠣᠩᠭᠣᠯ', 'ትግርኛ', 'தமிழ்', 'বাংলা'],
  marks: ['e\u0301', 'a\u0308\u0304', 'Z̴̡̛͇a̸l̷g̶o', 'n\u0303', '\u0301', 'ĉ̂', 'अ\u093c',
    'क्\u200dष', '\u200b', '\u200c', '\u200d', '\u2060', 'a\u20dd', '\u0e31\u0e49'],
  numbers: ['0', '7', '42', '1999', '3.14159', '1,000,000', '-17', '+3e-8', '0x1F', '²', '½', '⅔',
    'Ⅻ', '٣٤٥', '०१२', '๑๒๓', '①②', '𝟘𝟙', '1st', '2nd', '10%', '$5.99', '€100'],
  punct: ['!', '?', '...', '!!!', '?!', '—', '–', '…', '(', ')', '[', ']', '{', '}', '<', '>',
    '«»', '“quoted”', '‘single’', '"', '#', '@', '&&', '||', '::', '->', '=>', '/*', '*/', '~',
    '^', '`', '\\', '|', '¿', '¡', '§', '¶', '•', '·', '°', '±', '×', '÷', '<|endoftext|>'],
  urls: ['https://example.com/path?q=1&r=two#frag', 'http://localhost:8000/',
    'user@example.org', 'www.wikipedia.org/wiki/GPT-2', 'ftp://a.b/c.tar.gz', 'C:\\Users\\x',
    '/usr/local/bin', '../..', 'file.txt', '@handle', '#hashtag'],
  code: ['int main(void) { return 0; }', 'for (i = 0; i < n; i++)', 'def f(x):\n    return x',
    'const y = a ?? b;', 'if (x != y) {', '#include <stdio.h>', 'x[i] += 1;', '    ',
    '\t\treturn;', 'SELECT * FROM t;', '<div class="a">', '</div>', '```js', '$ ls -la',
    '// comment', '"""doc"""', 'λx.x', 'a_b_c', 'camelCaseName', 'SNAKE_CASE'],
  spaces: [' ', '  ', '   ', '        ', '\t', '\t\t', '\n', '\n\n', '\n\n\n', '\r\n', '\r',
    ' \n', '\n ', ' \t ', '\u00a0', '\u3000', '\u2028', '\u2029', '\u000b', '\u000c', '\u2003',
    '\u202f', '\u205f', '\u1680', ' \u00a0 ', '\u3000\u3000'],
};
const CATEGORIES = Object.keys(FRAGMENTS);

function pick(r, list) { return list[Math.floor(r() * list.length)]; }

// A random code point anywhere in Unicode but the surrogates, NEL and BOM
// (assigned or not: class tables and JavaScript both follow Unicode 17).
function randomChar(r) {
  const planes = [[0x20, 0x7f], [0xa0, 0x800], [0x800, 0xd800], [0xe000, 0x10000],
    [0x10000, 0x20000], [0x20000, 0x110000]];
  for (;;) {
    const [lo, hi] = pick(r, planes);
    const cp = lo + Math.floor(r() * (hi - lo));
    if (cp !== 0x85 && cp !== 0xfeff) return String.fromCodePoint(cp);
  }
}

function makeText(r) {
  const style = r();
  let parts = [];
  const n = 1 + Math.floor(r() * (style < 0.05 ? 120 : 12));
  const focus = pick(r, CATEGORIES);
  for (let i = 0; i < n; i++) {
    const x = r();
    if (x < 0.1) parts.push(randomChar(r));
    else if (x < 0.45) parts.push(pick(r, FRAGMENTS[focus]));
    else parts.push(pick(r, FRAGMENTS[pick(r, CATEGORIES)]));
    const sep = r();
    if (sep < 0.5) parts.push(' ');
    else if (sep < 0.6) parts.push(pick(r, FRAGMENTS.spaces));
  }
  let text = parts.join('');
  if (r() < 0.15) text = pick(r, FRAGMENTS.spaces) + text;     // leading whitespace
  if (r() < 0.15) text = text + pick(r, FRAGMENTS.spaces);      // trailing whitespace
  if (r() < 0.05) text = text.toUpperCase();
  return text.replace(/[\u0085\ufeff]/g, ' ');
}

function makeCases(encode) {
  const r = rng(20241125);
  const cases = [];
  for (let i = 0; i < N_CASES; i++) {
    const text = makeText(r);
    cases.push({ text, ids: encode(text) });
  }
  return cases;
}

// ------------------------------------------------------------------ tests

test('GPT-2 tokenizer: native ids equal gpt-3-encoder on 12,000 varied strings', () => {
  assert.ok(existsSync(BIN), `${BIN} is missing: run \`make tests\` (or ./build.sh test) first`);
  const { encode, decode } = require('gpt-3-encoder');
  const cases = makeCases(encode);
  const texts = new Set(cases.map((c) => c.text));
  assert.ok(texts.size > 10000, `only ${texts.size} distinct strings`);
  for (const c of cases.slice(0, 200)) assert.equal(decode(c.ids), c.text); // the reference is sane
  mkdirSync(dirname(CASES), { recursive: true });
  writeFileSync(CASES, cases.map((c) => JSON.stringify(c)).join('\n') + '\n');
  const run = spawnSync(BIN, ['--cases', CASES], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 26 });
  const out = `${run.stdout}\n${run.stderr}`;
  assert.equal(run.status, 0, `native parity failed:\n${out.slice(0, 6000)}`);
  assert.match(run.stdout, new RegExp(`${N_CASES} cases, 0 differ`));
});

// encoder.py itself (re-written in tools/gpt2_reference.py, Python `regex`)
// should agree with gpt-3-encoder wherever NEL and BOM are absent; this
// checks the reference chain, and skips where Python's regex is missing.
test('GPT-2 tokenizer: gpt-3-encoder agrees with the encoder.py algorithm (first 2,000)', (t) => {
  const probe = spawnSync('python3', ['-c', 'import regex'], { encoding: 'utf8' });
  if (probe.status !== 0) { t.skip('python3 with the regex module is not installed'); return; }
  const { encode } = require('gpt-3-encoder');
  const cases = makeCases(encode).slice(0, 2000);
  const enc = require.resolve('gpt-3-encoder/encoder.json');
  const run = spawnSync('python3', [join(ROOT, 'tools', 'gpt2_reference.py'), enc,
    join(dirname(enc), 'vocab.bpe')], {
    input: cases.map((c) => JSON.stringify(c.text)).join('\n') + '\n',
    encoding: 'utf8', maxBuffer: 1 << 26,
  });
  assert.equal(run.status, 0, run.stderr);
  const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, cases.length);
  const differ = lines.filter((l, i) => JSON.stringify(l.ids) !== JSON.stringify(cases[i].ids));
  assert.deepEqual(differ.slice(0, 3), [], `${differ.length} strings differ`);
});
