/* bytes.js — where a model's bytes come from: JS values (toBytes), file: URLs
 * (node:fs, imported dynamically so the module stays browser-safe), and
 * fetch, with streams read chunk by chunk (pump) so a download or a File can
 * go into the engine without ever being whole in JS memory. Every failure is
 * a GlassboxError('io' or 'arg') naming the URL or the argument. */
import { GlassboxError } from './errors.js';

const encoder = new TextEncoder();

const isNode = typeof process !== 'undefined' && !!(process.versions && process.versions.node);

/** Bytes of a Uint8Array, ArrayBuffer, typed array or string (UTF-8), or null. */
export function toBytes(x, what) {
  if (x == null) return null;
  if (x instanceof Uint8Array) return x;
  if (x instanceof ArrayBuffer) return new Uint8Array(x);
  if (ArrayBuffer.isView(x)) return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  if (typeof x === 'string') return encoder.encode(x);
  throw new GlassboxError('arg', `${what}: expected Uint8Array, ArrayBuffer or string, got ${typeof x}`);
}

/* A file: URL is read with node:fs (Node's fetch has no file: support); the
 * import is dynamic so the module has no Node-only top-level import. */
async function readFileUrl(url) {
  const fs = await import('node:fs/promises');
  try {
    return new Uint8Array(await fs.readFile(url));
  } catch (e) {
    throw new GlassboxError('io', `${url.href}: cannot read: ${e.message}`);
  }
}

export function resolveUrl(u) {
  if (u instanceof URL) return u;
  try {
    return new URL(u);
  } catch {
    const base = typeof location !== 'undefined' ? location.href
      : isNode ? `file://${process.cwd()}/` : undefined;
    return new URL(u, base);
  }
}

export async function fetchOk(url, what) {
  let res;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new GlassboxError('io', `${what}: cannot fetch ${url.href}: ${e.message}`);
  }
  if (!res.ok) throw new GlassboxError('io', `${what}: ${url.href}: HTTP ${res.status} ${res.statusText}`);
  return res;
}

/* Reads a stream to its end, handing each chunk to onChunk. A failed read
 * becomes GlassboxError('io', ioMessage(error)); any failure, the read's or
 * onChunk's, cancels the stream (freeing a connection or a file) first. */
export async function pump(stream, onChunk, ioMessage) {
  const reader = stream.getReader();
  try {
    for (;;) {
      let chunk;
      try {
        chunk = await reader.read();
      } catch (e) {
        throw new GlassboxError('io', ioMessage(e));
      }
      if (chunk.done) return;
      onChunk(chunk.value);
    }
  } catch (e) {
    reader.cancel().catch(() => {});
    throw e;
  }
}

export const downloadFailed = (url) => (e) => `model.safetensors: download from ${url.href} failed: ${e.message}`;

/* A body of unknown final size (no Content-Length, or compressed), read
 * whole with 'download' progress. */
export async function readBody(res, url, report) {
  const parts = [];
  let got = 0;
  await pump(res.body, (value) => {
    parts.push(value);
    got += value.length;
    report({ phase: 'download', fraction: 0, loaded: got, total: 0 });
  }, downloadFailed(url));
  const out = new Uint8Array(got);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  report({ phase: 'download', fraction: 1, loaded: got, total: got });
  return out;
}

/** Bytes of a URL (http(s), blob, data or file:), or null when optional and missing. */
export async function readUrl(url, what, optional = false) {
  if (url.protocol === 'file:') {
    try {
      return await readFileUrl(url);
    } catch (e) {
      if (optional) return null;
      throw e;
    }
  }
  let res;
  try {
    res = await fetchOk(url, what);
  } catch (e) {
    if (optional) return null;
    throw e;
  }
  return new Uint8Array(await res.arrayBuffer());
}
