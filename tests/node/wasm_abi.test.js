/* wasm_abi.test.js — the ABI constants of wasm/glassbox/abi.js equal the C
 * side's: read from wasm/exports.c (GBW_SHAPE_*, GBW_SAMPLE_*, the version,
 * gbw_config's and gbw_get_intervention's field order) and core/glassbox.h
 * (gb_status, gb_ablation, gb_iv_kind), so a change on one side alone fails
 * here rather than as wrong numbers in the page. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';

import * as abi from '../../wasm/glassbox/abi.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const exportsC = fs.readFileSync(path.join(ROOT, 'wasm/exports.c'), 'utf8');
const header = fs.readFileSync(path.join(ROOT, 'core/glassbox.h'), 'utf8');

/* NAME = value pairs of C enums whose names start with prefix. */
function enumValues(src, prefix) {
  const out = {};
  for (const m of src.matchAll(new RegExp(`\\b${prefix}(\\w+)\\s*=\\s*(\\d+)`, 'g'))) out[m[1]] = Number(m[2]);
  assert.ok(Object.keys(out).length > 0, `no ${prefix}* enum found`);
  return out;
}
const camel = (s) => s.toLowerCase().replace(/_([a-z])/g, (_, c) => c.toUpperCase());

test('gbw_abi_version', () => {
  const m = exportsC.match(/int gbw_abi_version\(void\)\s*\{\s*return (\d+);/);
  assert.ok(m, 'gbw_abi_version found');
  assert.equal(abi.ABI_VERSION, Number(m[1]));
});

test('GBW_SHAPE_* and GBW_SAMPLE_* array layouts', () => {
  for (const [prefix, js] of [['GBW_SHAPE_', abi.SHAPE], ['GBW_SAMPLE_', abi.SAMPLE]]) {
    const c = Object.fromEntries(Object.entries(enumValues(exportsC, prefix)).map(([k, v]) => [camel(k), v]));
    assert.deepEqual({ ...js }, c, prefix);
  }
});

test('gbw_config and gbw_get_intervention field order', () => {
  const cfg = [...exportsC.matchAll(/out\[(\d)\] = c->(\w+);/g)].map((m) => [Number(m[1]), m[2]]);
  assert.deepEqual(cfg.map(([i]) => i), cfg.map((_, i) => i), 'gbw_config writes out[0..] in order');
  assert.deepEqual([...abi.CONFIG_FIELDS], cfg.map(([, k]) => k));
  assert.match(exportsC, new RegExp(`\\*eps = c->layer_norm_epsilon`), 'then the epsilon');
  const iv = [...exportsC.matchAll(/iv\[(\d)\] = (?:\(int32_t\))?e\.(\w+);/g)].map((m) => [Number(m[1]), m[2]]);
  assert.deepEqual(iv.map(([i]) => i), iv.map((_, i) => i));
  assert.deepEqual([...abi.IV_FIELDS], iv.map(([, k]) => k));
});

test('gb_status, gb_ablation and gb_iv_kind values', () => {
  const st = enumValues(header, 'GB_E_');
  assert.equal(abi.STATUS_CODES.length, Math.max(...Object.values(st)) + 1);
  for (const [name, v] of Object.entries(st)) assert.equal(abi.STATUS_CODES[v], name.toLowerCase(), `GB_E_${name}`);
  assert.equal(abi.STATUS_CODES[0], null, 'GB_OK has no code');
  const ab = enumValues(header, 'GB_ABLATE_');
  assert.deepEqual({ ...abi.ABLATION }, Object.fromEntries(Object.entries(ab).map(([k, v]) => [k.toLowerCase(), v])));
  const iv = enumValues(header, 'GB_IV_');
  assert.deepEqual({ ...abi.INTERVENTION }, Object.fromEntries(Object.entries(iv).map(([k, v]) => [k.toLowerCase().replace('_', '-'), v])));
  for (const [k, v] of Object.entries(abi.INTERVENTION)) assert.equal(abi.IV_NAMES[v], k);
});
