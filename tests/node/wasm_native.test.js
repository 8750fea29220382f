/* wasm_native.test.js — the WASM build against the native CLI (build/glassbox)
 * on the fixture models: every activation of `glassbox trace`, the token ids
 * of `glassbox tokenize`, and the tokens of `glassbox generate --ids`. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';

import { readSafetensors, toNumbers } from './safetensors.js';
import {
  CLI, MODELS, ROOT, TOL_NATIVE_REL, assertClose, createGb, fixtureDir, fixtureMissing, loadFixture,
  run, sameShape, wasmMissing,
} from './wasm_common.js';

const skipReason = (name) => wasmMissing() || fixtureMissing(name)
  || (fs.existsSync(CLI) ? null : `${path.relative(ROOT, CLI)} not built yet (run ./build.sh)`);

const TOKENS = [1, 2, 3, 17, 42, 5, 9, 200];
const PROMPT = 'Once upon a time, in a land far away'; // for tokenize
const GEN_PROMPT = 'The cat';                             // short: the fixtures' contexts are 16..40
const MAX_NEW = 20; // fewer where the fixture's context (n_positions 16..40) is shorter

for (const name of MODELS) {
  test(`${name}: every activation of WASM equals native trace (rel <= ${TOL_NATIVE_REL})`, async (t) => {
    const why = skipReason(name);
    if (why) return t.skip(why);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gb-trace-'));
    try {
      const out = path.join(tmp, 'trace.safetensors');
      const r = await run(CLI, ['trace', '--model', fixtureDir(name), '--tokens', TOKENS.join(','), '--out', out]);
      assert.equal(r.code, 0, `glassbox trace failed: ${r.stderr}`);
      const { tensors } = readSafetensors(fs.readFileSync(out));
      const gb = await createGb();
      await loadFixture(gb, name);
      gb.setTokens(TOKENS);
      gb.runAll();
      if (tensors.has('tokens')) assert.deepEqual(toNumbers(tensors.get('tokens').data), TOKENS);
      const names = gb.hookNames();
      for (const hook of names) {
        const nat = tensors.get(hook);
        assert.ok(nat, `native trace lacks ${hook}`);
        const a = gb.activation(hook);
        assert.ok(sameShape(a.shape, nat.shape), `${hook}: shape ${a.shape} vs native ${nat.shape}`);
        assertClose(`${name} ${hook}`, a.data, nat.data, TOL_NATIVE_REL);
      }
      const extra = [...tensors.keys()].filter((k) => k !== 'tokens' && !names.includes(k));
      assert.deepEqual(extra, [], 'native and WASM list the same hooks');
      gb.destroy();
    } finally { fs.rmSync(tmp, { recursive: true }); }
  });

  test(`${name}: tokenize and generate agree token for token with the CLI`, async (t) => {
    const why = skipReason(name);
    if (why) return t.skip(why);
    const gb = await createGb();
    await loadFixture(gb, name);
    const tk = await run(CLI, ['tokenize', '--model', fixtureDir(name), '--prompt', PROMPT]);
    assert.equal(tk.code, 0, `glassbox tokenize failed: ${tk.stderr}`);
    assert.deepEqual(Array.from(gb.tokenize(PROMPT).ids), tk.stdout.trim().split(/\s+/).map(Number));
    const cases = [
      { temperature: 0.8, topK: 40, topP: 0.9, seed: 7 },
      { temperature: 0, topK: 0, topP: 1, seed: 1 },
      { temperature: 1.3, topK: 0, topP: 0.5, seed: 123456789012 },
    ];
    const n = Math.min(MAX_NEW, gb.config.n_positions - gb.tokenize(GEN_PROMPT).ids.length);
    assert.ok(n >= 5, `room to generate (${n})`);
    for (const p of cases) {
      const r = await run(CLI, ['generate', '--model', fixtureDir(name), '--prompt', GEN_PROMPT, '-n', String(n),
        '--temperature', String(p.temperature), '--top-k', String(p.topK), '--top-p', String(p.topP),
        '--seed', String(p.seed), '--ids']);
      assert.equal(r.code, 0, `glassbox generate failed: ${r.stderr}`);
      const native = r.stdout.trim().split(/\s+/).map(Number);
      const wasm = Array.from(gb.generate(GEN_PROMPT, n, p).tokens);
      console.log(`  ${name} ${JSON.stringify(p)}: ${wasm.slice(0, 8).join(' ')} ...`);
      assert.deepEqual(wasm, native, `generate ${JSON.stringify(p)}`);
    }
    gb.destroy();
  });
}
