// A stand-in for the Hugging Face hub on 127.0.0.1, serving fixture repositories from a folder
// with the hub's URL layout, Range support, CORS and its error codes. Tests never reach the real
// hub. Layout served:
//   GET /api/models/<owner>/<name>                 {"id", "siblings": [{"rfilename"}]}
//   GET /<owner>/<name>/resolve/<rev>/<file>       the file; weight files redirect (302) to /cdn/
//                                                  as the hub's LFS storage does
// Special repositories: acme/gated (401 without the token TOKEN, then as acme/tiny-llama),
// acme/denied (403), acme/limited (429 with Retry-After), acme/nocors (no CORS headers).

import { createServer } from 'node:http';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, normalize, relative } from 'node:path';

export const TOKEN = 'hf_fixture_token_123';
const ALIASES = { 'acme/gated': 'acme/tiny-llama', 'acme/nocors': 'acme/tiny-llama' };

async function listFiles(dir, base = dir) {
  const out = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...await listFiles(p, base));
    else out.push(relative(base, p));
  }
  return out.sort();
}

/** Starts the server over `hubDir` (<hubDir>/<owner>/<name>/...). `log` gets every request. */
export function startHub(hubDir) {
  const log = [];
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    const entry = { method: req.method, path: url.pathname, range: req.headers.range ?? '', bytes: 0,
      auth: req.headers.authorization ?? '' };
    log.push(entry);
    const cors = {
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Allow-Headers': 'Authorization, Range',
      'Access-Control-Expose-Headers': 'Content-Range, Content-Length, Accept-Ranges, Retry-After',
    };
    const send = (status, headers = {}, body = '') => {
      const nocors = url.pathname.includes('acme/nocors');
      res.writeHead(status, { ...(nocors ? {} : cors), ...headers });
      res.end(body);
    };
    if (req.method === 'OPTIONS') return send(204);
    const m = /^\/(?:api\/models\/)?([^/]+\/[^/]+)(?:\/resolve\/[^/]+\/(.+))?$/.exec(url.pathname) ??
      /^\/cdn\/([^/]+\/[^/]+)\/(.+)$/.exec(url.pathname);
    if (!m) return send(404, {}, 'not found');
    const repo = decodeURIComponent(m[1]);
    if (repo === 'acme/denied') return send(403, {}, 'gated: access not granted');
    if (repo === 'acme/limited') return send(429, { 'Retry-After': '30' }, 'rate limited');
    if (repo === 'acme/gated' && req.headers.authorization !== `Bearer ${TOKEN}`) return send(401, {}, 'gated');
    const dir = normalize(join(hubDir, ALIASES[repo] ?? repo));
    if (!dir.startsWith(hubDir) || !(await stat(dir).catch(() => null))?.isDirectory()) {
      return send(404, {}, 'Repository not found');
    }
    if (url.pathname.startsWith('/api/models/')) {
      const body = JSON.stringify({ id: repo, siblings: (await listFiles(dir)).map((f) => ({ rfilename: f })) });
      return send(200, { 'Content-Type': 'application/json' }, body);
    }
    const name = decodeURIComponent(m[2]);
    const path = normalize(join(dir, name));
    const info = path.startsWith(dir) ? await stat(path).catch(() => null) : null;
    if (!info?.isFile()) return send(404, {}, 'Entry not found');
    if (!url.pathname.startsWith('/cdn/') && /\.(safetensors|gguf)$/.test(name)) {
      return send(302, { Location: `/cdn/${repo}/${encodeURIComponent(name)}` });
    }
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    let start = 0;
    let end = info.size - 1;
    let status = 200;
    const headers = { 'Accept-Ranges': 'bytes', 'Content-Type': 'application/octet-stream' };
    if (range) {
      start = Number(range[1]);
      end = range[2] ? Math.min(Number(range[2]), info.size - 1) : info.size - 1;
      if (start >= info.size) return send(416, { 'Content-Range': `bytes */${info.size}` });
      status = 206;
      headers['Content-Range'] = `bytes ${start}-${end}/${info.size}`;
    }
    headers['Content-Length'] = String(end - start + 1);
    res.writeHead(status, { ...(url.pathname.includes('acme/nocors') ? {} : cors), ...headers });
    const stream = createReadStream(path, { start, end });
    stream.on('data', (chunk) => { entry.bytes += chunk.length; });
    stream.pipe(res);
    res.on('close', () => stream.destroy());
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok({ server, log, origin: `http://127.0.0.1:${server.address().port}` })));
}
