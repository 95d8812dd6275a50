// scripts/serve.mjs must never serve a file outside its folder (issue 15: '/..%2fsite-private/'
// passed a startsWith check without a separator).
// Run: node --test tests/web/serve.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../scripts/serve.mjs';

/** GET with the path sent exactly as written (fetch would normalize the dots). */
function get(port, path) {
  return new Promise((resolve, reject) => {
    const r = request({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    r.on('error', reject);
    r.end();
  });
}

test('paths that climb out of the site folder, encoded or not, get 403 or 404, never the sibling file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vram-serve-'));
  mkdirSync(join(dir, 'site'));
  mkdirSync(join(dir, 'site-private'));
  writeFileSync(join(dir, 'site', 'index.html'), 'index');
  writeFileSync(join(dir, 'site-private', 'secret.txt'), 'secret');
  const server = await startServer(join(dir, 'site'), 0);
  t.after(() => server.close());
  const { port } = server.address();
  assert.equal((await get(port, '/index.html')).body, 'index');
  for (const path of ['/..%2fsite-private/secret.txt', '/../site-private/secret.txt', '/%2e%2e/site-private/secret.txt',
    '/%2e%2e%2fsite-private%2fsecret.txt', '/..%5csite-private%5csecret.txt', '/x/..%2f..%2fsite-private/secret.txt']) {
    const { status, body } = await get(port, path);
    assert.ok(status === 403 || status === 404, `${path}: ${status}`);
    assert.notEqual(body, 'secret', path);
  }
});
