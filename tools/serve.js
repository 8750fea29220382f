#!/usr/bin/env node
/* serve.js — a small static file server for dist/ (no dependencies).
 *
 *   node tools/serve.js [DIR=dist] [PORT=8000]
 *
 * Serves DIR with the MIME types the site needs (application/wasm lets the
 * browser compile glassbox.wasm while it downloads), sends
 * Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy:
 * require-corp (cross-origin isolation, which SharedArrayBuffer and precise
 * timers need), and never serves anything outside DIR. For tests:
 *
 *   import { startServer } from '../../tools/serve.js';
 *   const { url, close } = await startServer('dist');   // ephemeral port
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.safetensors': 'application/octet-stream',
  '.bin': 'application/octet-stream',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.mustache': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
};

const HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-cache',
};

function send(res, status, text) {
  res.writeHead(status, { ...HEADERS, 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(`${status} ${text}\n`);
}

/* Maps a request path to a file under root, or null if it would escape root. */
function resolveInRoot(root, urlPath) {
  let rel;
  try {
    rel = decodeURIComponent(urlPath.split('?')[0].split('#')[0]);
  } catch {
    return null;
  }
  if (rel.includes('\0')) return null;
  const file = path.resolve(root, '.' + path.posix.normalize('/' + rel));
  return file === root || file.startsWith(root + path.sep) ? file : null;
}

/* Without cross-origin isolation (a static host that cannot send COOP/COEP) the page falls back to one thread: tests serve that way too. */
const ISOLATION = ['Cross-Origin-Opener-Policy', 'Cross-Origin-Embedder-Policy'];

function handler(root, isolated) {
  const headers = isolated ? HEADERS : Object.fromEntries(Object.entries(HEADERS).filter(([k]) => !ISOLATION.includes(k)));
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed');
    let file = resolveInRoot(root, req.url || '/');
    if (!file) return send(res, 403, 'forbidden');
    fs.stat(file, (err, st) => {
      if (!err && st.isDirectory()) {
        if (!req.url.split('?')[0].endsWith('/')) {
          res.writeHead(301, { ...headers, Location: req.url.split('?')[0] + '/' });
          return res.end();
        }
        file = path.join(file, 'index.html');
        try { st = fs.statSync(file); } catch (e) { err = e; }
      }
      if (err || !st.isFile()) return send(res, 404, 'not found');
      // Symlinks must not lead out of root either.
      let real;
      try { real = fs.realpathSync(file); } catch { return send(res, 404, 'not found'); }
      if (real !== root && !real.startsWith(root + path.sep)) return send(res, 403, 'forbidden');
      const type = MIME[path.extname(file).toLowerCase()] || 'application/octet-stream';
      res.writeHead(200, { ...headers, 'Content-Type': type, 'Content-Length': st.size });
      if (req.method === 'HEAD') return res.end();
      fs.createReadStream(file).on('error', () => res.destroy()).pipe(res);
    });
  };
}

/**
 * Starts serving dir. port 0 (default) picks a free port. isolated: false
 * leaves out COOP/COEP, as a plain static host would.
 * @returns {Promise<{server: http.Server, port: number, url: string, close: () => Promise<void>}>}
 */
export function startServer(dir = 'dist', port = 0, host = '127.0.0.1', { isolated = true } = {}) {
  const root = fs.realpathSync(path.resolve(dir));
  const server = http.createServer(handler(root, isolated));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const p = server.address().port;
      resolve({
        server, port: p, url: `http://${host === '0.0.0.0' ? 'localhost' : host}:${p}/`,
        close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
      });
    });
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const dir = process.argv[2] || 'dist';
  const port = Number(process.argv[3] || 8000);
  if (!fs.existsSync(dir)) {
    console.error(`serve.js: ${dir}: no such directory (run ./build.sh first)`);
    process.exit(1);
  }
  startServer(dir, port, 'localhost').then(({ url }) => {
    console.log(`serving ${path.resolve(dir)} at ${url}`);
  }, (e) => {
    console.error(`serve.js: cannot listen on port ${port}: ${e.message}`);
    process.exit(1);
  });
}
