// A small static server for the built site, bound to 127.0.0.1 only. It sends a strict
// Content-Security-Policy without 'unsafe-eval' so the page is tested the way it will be hosted.
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { gzipSync } from 'node:zlib';

const root = resolve(process.argv[2] ?? 'build/site');
const port = Number(process.argv[3] ?? 8080);
const types = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.json': 'application/json', '.wasm': 'application/wasm', '.svg': 'image/svg+xml',
  '.png': 'image/png', '.webmanifest': 'application/manifest+json',
};
const compressible = new Set(['.html', '.js', '.mjs', '.css', '.json', '.wasm', '.svg', '.webmanifest']);
export const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; " +
  "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors *";

/** Serves `directory`; `connectSrc` adds origins the page may fetch from (a local hub mirror). */
export function startServer(directory = root, listenPort = port, { connectSrc = [] } = {}) {
  const csp = connectSrc.length ? CSP.replace("connect-src 'self'", `connect-src 'self' ${connectSrc.join(' ')}`) : CSP;
  const gzipped = new Map();
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://127.0.0.1');
      // Separator-aware containment: '/..%2fsite-private/x' must not reach a sibling of `directory`.
      const base = resolve(directory);
      let path = resolve(base, `.${decodeURIComponent(url.pathname)}`);
      if (path !== base && !path.startsWith(base + sep)) { res.writeHead(403).end(); return; }
      if ((await stat(path).catch(() => null))?.isDirectory()) path = join(path, 'index.html');
      let body = await readFile(path);
      const headers = {
        'Content-Type': types[extname(path)] ?? 'application/octet-stream',
        'Content-Security-Policy': csp,
        'X-Content-Type-Options': 'nosniff',
        // Public static files, as static hosts serve them: the widget may be used from other sites.
        'Access-Control-Allow-Origin': '*',
        'Cache-Control': 'no-cache',
        Vary: 'Accept-Encoding',
      };
      // Compress text and wasm the way any static host does, so transfer sizes are realistic.
      if (compressible.has(extname(path)) && /\bgzip\b/.test(req.headers['accept-encoding'] ?? '')) {
        const key = `${path}:${(await stat(path)).mtimeMs}`;
        if (!gzipped.has(key)) gzipped.set(key, gzipSync(body, { level: 9 }));
        body = gzipped.get(key);
        headers['Content-Encoding'] = 'gzip';
      }
      res.writeHead(200, headers);
      res.end(body);
    } catch {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
    }
  });
  return new Promise((ok) => server.listen(listenPort, '127.0.0.1', () => ok(server)));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await startServer();
  console.log(`vramcalc: serving ${root} on http://127.0.0.1:${port}/`);
}
