// common.js — what bench/run.js and its workers share: paths, repetition
// counts, the prompt, timing and the logits files.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.dirname(HERE);
export const RESULTS = path.join(HERE, 'results');
export const TMP = path.join(RESULTS, 'tmp');
export const MODEL = path.join(TMP, 'model');
export const QUICK = process.argv.includes('--quick');
export const REPS = QUICK ? 3 : 9;          // timed repetitions per job (median reported)
export const WARM = QUICK ? 1 : 3;          // untimed warm-up runs before them
export const LOAD_REPS = QUICK ? 2 : 4;     // model loads (the first, cold one, is reported apart)
export const T = 64;
export const TOL = 1e-4;
// wllama against Glassbox: llama.cpp's CPU GELU looks its result up in an F16
// table, which alone moves the logits by ~1e-4 of their range.
export const WLLAMA_TOL = 1e-3;
export const PROMPT = 'The quick brown fox jumps over the lazy dog. ' +
  'Glassbox runs GPT-2 one stage at a time and keeps every activation, so a reader can look inside ' +
  'the model while it writes. This paragraph is long enough to give sixty-four tokens of prompt, ' +
  'and a sixty-fifth for the next step, which is the token the benchmark appends.';

export const median = (a) => { const s = [...a].sort((x, y) => x - y); return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
export const now = () => performance.now();
export const mb = (b) => b / 2 ** 20;

export function promptIds() {
  const require = createRequire(import.meta.url);
  const { encode } = require(path.join(ROOT, 'node_modules/gpt-3-encoder'));
  const ids = encode(PROMPT);
  if (ids.length < T + 1) throw new Error(`prompt has ${ids.length} tokens, need ${T + 1}`);
  return ids.slice(0, T + 1); // 64 for the prompt, the 65th is "the next token"
}

export function saveF32(name, a) { writeFileSync(path.join(TMP, name), Buffer.from(a.buffer, a.byteOffset, a.byteLength)); }
export function loadF32(name) { const b = readFileSync(path.join(TMP, name)); return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4); }

export async function timeIt(fn, reps = REPS, warm = WARM) {
  for (let i = 0; i < warm; i++) await fn();
  const ts = [];
  for (let i = 0; i < reps; i++) { const t0 = now(); await fn(); ts.push(now() - t0); }
  return { median_ms: median(ts), min_ms: Math.min(...ts), max_ms: Math.max(...ts), reps };
}


/* The prompt's first n ids as text (GPT-2's byte-level decoding): for peers
 * that take text only (wllama). They must tokenize it back into the same ids,
 * which the peer's runner checks from the number of tokens evaluated and
 * bench/run.js from the logits. */
export function promptText(n) {
  const require = createRequire(import.meta.url);
  const { decode } = require(path.join(ROOT, 'node_modules/gpt-3-encoder'));
  return decode(promptIds().slice(0, n));
}
