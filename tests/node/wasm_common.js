/* wasm_common.js — shared helpers for tests/node/wasm_*.test.js (not a test itself).
 *
 * Paths, fixture discovery with skip reasons, model loading from a directory,
 * and the one comparison the suites use: relative error = max |got - want|
 * divided by max |want| (scale-aware, so near-zero entries do not dominate).
 * Each comparison prints one line (first pairs, max abs diff, rel error).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { Glassbox } from '../../wasm/glassbox.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const WASM = path.join(ROOT, 'build/wasm/glassbox.wasm');
export const CLI = path.join(ROOT, 'build/glassbox');
/* GB_FIXTURES points the suites at other model directories (same names). */
export const FIXTURES = process.env.GB_FIXTURES ? path.resolve(process.env.GB_FIXTURES) : path.join(ROOT, 'tests/fixtures/models');
export const MODELS = ['tiny-f32', 'tiny-f16', 'tiny-bf16-untied'];

/* Tolerances, named once (see STYLE.md §14). */
export const TOL_REF_REL = 1e-4;     // WASM vs Hugging Face reference activations
export const TOL_NATIVE_REL = 1e-5;  // WASM vs the native CLI (same C, different SIMD order)

/** Why a wasm test cannot run, or null. */
export function wasmMissing() {
  return fs.existsSync(WASM) ? null : `${path.relative(ROOT, WASM)} not built yet (run ./build.sh)`;
}

/** Why a fixture model cannot be used, or null. */
export function fixtureMissing(name) {
  const dir = path.join(FIXTURES, name);
  if (!fs.existsSync(path.join(dir, 'config.json'))) return `fixture ${path.relative(ROOT, dir)} not generated yet`;
  return null;
}

export function fixtureDir(name) { return path.join(FIXTURES, name); }

let compiled = null;
/** A fresh Glassbox on the built module (compiled once per test file). */
export async function createGb() {
  compiled ??= WebAssembly.compile(fs.readFileSync(WASM));
  return Glassbox.create({ wasm: await compiled });
}

/** The loadModel argument for a Hugging Face model directory. */
export function readModelFiles(dir) {
  const rd = (f) => (fs.existsSync(path.join(dir, f)) ? fs.readFileSync(path.join(dir, f)) : null);
  const files = { config: rd('config.json'), safetensors: rd('model.safetensors') };
  const vocab = rd('vocab.json'), merges = rd('merges.txt');
  if (vocab && merges) Object.assign(files, { vocab, merges });
  else files.tokenizerJson = rd('tokenizer.json');
  return files;
}

export async function loadFixture(gb, name) {
  await gb.loadModel(readModelFiles(fixtureDir(name)));
}

export const fileUrl = (p) => pathToFileURL(p.endsWith('/') ? p : `${p}/`);

/** max|a-b|, max|b|, and their ratio; non-finite entries must match exactly. */
export function relError(got, want) {
  assert.equal(got.length, want.length, `length ${got.length} vs ${want.length}`);
  let maxAbs = 0, scale = 0, worst = -1;
  for (let i = 0; i < want.length; i++) {
    const a = got[i], b = want[i];
    if (!Number.isFinite(b) || !Number.isFinite(a)) {
      if (!Object.is(a, b) && !(Number.isNaN(a) && Number.isNaN(b))) return { maxAbs: Infinity, scale, rel: Infinity, worst: i };
      continue;
    }
    const d = Math.abs(a - b);
    if (d > maxAbs) { maxAbs = d; worst = i; }
    scale = Math.max(scale, Math.abs(b));
  }
  return { maxAbs, scale, rel: scale > 0 ? maxAbs / scale : maxAbs, worst };
}

/** Prints one line for the comparison and asserts rel <= tol. */
export function assertClose(label, got, want, tol) {
  const r = relError(got, want);
  const pairs = Array.from({ length: Math.min(3, want.length) }, (_, i) => `${fmt(got[i])}/${fmt(want[i])}`).join(' ');
  const ok = r.rel <= tol;
  console.log(`  ${ok ? 'OK    ' : 'NOT OK'} ${label}: ${pairs} max|diff| ${r.maxAbs.toExponential(2)} rel ${r.rel.toExponential(2)} (tol ${tol})`);
  assert.ok(ok, `${label}: relative error ${r.rel} > ${tol} (worst index ${r.worst}: got ${got[r.worst]}, want ${want[r.worst]})`);
}

const fmt = (x) => (Number.isFinite(x) ? x.toPrecision(5) : String(x));

/** Shapes equal once leading 1s (a batch dim) are dropped. */
export function sameShape(a, b) {
  const strip = (s) => { const c = [...s]; while (c.length > 1 && c[0] === 1) c.shift(); return c.join(','); };
  return strip(a) === strip(b);
}

/** Runs a CLI command; resolves {code, stdout, stderr}. */
export function run(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    execFile(cmd, args, { maxBuffer: 64 << 20, ...opts }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}
