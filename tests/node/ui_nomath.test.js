/* ui_nomath.test.js — no model math in web/: the engine computes every
 * number the page shows.
 *  1. The step table (steps.js STEPS) names, for every step, what it reads
 *     from the engine; every fig (what the stage view draws) reads only
 *     fields its step lists, every listed hook exists in the engine, every
 *     chart exists in the stage view, and a renderer that asks for an
 *     unlisted field gets an error instead of a number.
 *  2. No module under web/ computes attention scores, softmax, layer norm,
 *     GELU or logits: a scan of the sources for the shapes such code takes
 *     (exp, tanh, square roots, dot-product and sum-of-squares loops, the old
 *     helpers' names). The scan is checked on the code it replaced, so it
 *     can fail. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { STEPS, stepReads } from '../../web/steps.js';
import { CHARTS, fieldsFor } from '../../web/views/stage/stage.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const WEB = path.join(ROOT, 'web');
const WASM = path.join(ROOT, 'build/wasm/glassbox.wasm');
const FNS = ['attnScoresUnmasked', 'residNorms', 'topTokens', 'predict', 'headPattern', 'topNeurons', 'neuronColumns', 'pairSample'];

test('the step table lists what every step reads and draws, and nothing else is drawn', () => {
  for (const st of STEPS) {
    const fields = Object.keys(st.reads);
    assert.ok(st.figs.length > 0, `${st.key} draws something`);
    const used = new Set();
    for (const f of st.figs) {
      assert.equal(typeof CHARTS[f.chart], 'function', `${st.key}: chart "${f.chart}" exists in the stage view`);
      for (const name of f.of) {
        assert.ok(fields.includes(name), `${st.key}: fig ${f.chart} reads "${name}", which the step does not list`);
        used.add(name);
      }
    }
    for (const name of fields) assert.ok(used.has(name), `${st.key}: "${name}" is read but never drawn`);
    for (const [name, r] of Object.entries(st.reads)) {
      if (typeof r === 'string') assert.match(r, /^(blocks\.\{(L|last)\}\.|blocks\.0\.|ln_final\.|hook_)/, `${st.key}.${name}: a hook name`);
      else assert.ok(FNS.includes(r.fn), `${st.key}.${name}: engine read ${r.fn}`);
    }
  }
  // A renderer gets only its fig's fields.
  const payload = { fields: { q: { data: new Float32Array(4) }, k: { data: new Float32Array(4) } } };
  const get = fieldsFor(payload, { chart: 'matrix', of: ['q'] });
  assert.equal(get('q').data.length, 4);
  assert.throws(() => get('k'), /does not list/);
});

test('every hook the step table names exists in the engine', { skip: !fs.existsSync(WASM) && 'glassbox.wasm not built' }, async () => {
  const { Glassbox } = await import('../../wasm/glassbox.js');
  const gb = await Glassbox.create({ wasm: fs.readFileSync(WASM) });
  await gb.loadModelFromUrl(pathToFileURL(path.join(ROOT, 'tests/fixtures/models/tiny-f32') + '/'));
  gb.setTokens([1, 2, 3]);
  gb.runAll();
  const nL = gb.config.n_layer;
  for (const st of STEPS) {
    for (let L = 0; L < nL; L++) {
      for (const [name, r] of Object.entries(stepReads(st.key, L, nL))) {
        const hooks = [r.hook, ...Object.values(r.hooks || {})].filter(Boolean);
        for (const h of hooks) assert.doesNotThrow(() => gb.activationShape(h), `${st.key} L${L}: ${name} = ${h}`);
      }
    }
  }
  gb.destroy();
});

/* What model math looks like in JS. Each rule says what it would compute. */
const RULES = [
  [/Math\.exp\s*\(/, 'exp: a softmax or GELU'],
  [/Math\.tanh\s*\(|Math\.erf/, 'tanh/erf: GELU'],
  [/Math\.sqrt\s*\(/, 'a square root: the attention scale or a norm'],
  [/Math\.log\s*\(/, 'log: log-softmax'],
  [/\+=\s*[A-Za-z_$][\w$.]*\[[^\]]+\]\s*\*\s*[A-Za-z_$][\w$.]*\[/, 'a dot-product loop: scores, logits, a projection'],
  [/\*\*\s*2|\+=\s*\(?([A-Za-z_$][\w$.]*\[[^\]]+\])\s*\*\s*\1/, 'a sum of squares: a norm or a variance'],
  [/\.sort\(\s*\(\s*[\w$]+\s*,\s*[\w$]+\s*\)\s*=>\s*[\w$.]+\[[^\]]*[A-Za-z_$]/, 'a sort by activations: picking top neurons (the engine ranks them: topColumns)'],
  [/\b(fullScores|topPerPosition|residNorms|lastProbs|softmax|layerNorm|layer_norm)\s*\(/, 'a model-math helper'],
];
/* Allowed, each with its reason. */
const ALLOW = [
  ['lib/colors.js', /Math\.sqrt\(Math\.max\(0, p\)\)/, 'the probability colour ramp is drawn on √p so small probabilities stay visible'],
];

function sources(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) { if (e.name !== 'vendor') out.push(...sources(p)); } else if (e.name.endsWith('.js') || e.name.endsWith('.mjs')) out.push(p);
  }
  return out;
}

function scan(rel, text) {
  const hits = [];
  text.split('\n').forEach((line, i) => {
    // Comments and quoted text (explanations, formulas) may name what they do not compute.
    const code = line.replace(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"/g, "''").replace(/\/\/.*$/, '').replace(/^\s*(\*|\/\*).*$/, '');
    for (const [re, what] of RULES) {
      if (!re.test(code)) continue;
      if (ALLOW.some(([f, ok]) => rel === f && ok.test(code))) continue;
      hits.push(`${rel}:${i + 1}: ${what}: ${line.trim()}`);
    }
  });
  return hits;
}

test('no module under web/ computes attention scores, softmax, layer norm, GELU or logits', () => {
  const files = sources(WEB);
  assert.ok(files.length > 15);
  const hits = files.flatMap((f) => scan(path.relative(WEB, f), fs.readFileSync(f, 'utf8')));
  assert.deepEqual(hits, []);
});

test('the scan finds the code it replaced (it can fail)', () => {
  const old = {
    scores: 'for (let d = 0; d < D; d++) acc += q[qi + d] * k[kj + d];\nout[(h * T + i) * T + j] = acc * s;',
    scale: 'const out = new Float32Array(H * T * T), s = 1 / Math.sqrt(D);',
    softmax: 'let z = 0; for (const v of row) z += Math.exp(v - max);',
    norm: 'for (let i = 0; i < C; i++) s += x[t * C + i] ** 2;',
    gelu: 'const gelu = (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));',
    helper: 'const before = this.lastProbs();',
    topNeurons: 'return Array.from(score.keys()).sort((x, y) => score[y] - score[x]).slice(0, n);',
    neuronTable: 'const row = Array.from({ length: M }, (_, m) => m).sort((x, y) => a[t * M + y] - a[t * M + x]).slice(0, k);',
    variance: 'for (let i = 0; i < C; i++) v += x[i] * x[i];',
  };
  for (const [what, code] of Object.entries(old)) assert.ok(scan('engine.js', code).length > 0, what);
});
