// Writes the service worker of a staged site (build/site/sw.js) from the template web/sw.js: the
// list of files the calculator needs offline, and a version that hashes their contents, so any
// change to any of them gives a new cache (and web/sw.js checks the same hash when it installs).
//
//   node scripts/build_sw.mjs [site-dir]     (default: build/site; build_web.mjs calls it)

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// Everything else is precached, so a module added to web/ is offline at once. Not: the worker itself,
// the Accuracy page (its data is rewritten after the build by scripts/build_accuracy.mjs, and the
// calculator does not need it), the embedding demo and the type declarations.
const SKIP = /^(sw\.js|accuracy[^/]*|examples\/.*|[^/]*\.d\.ts)$/;

const sha256 = (data) => createHash('sha256').update(data).digest('hex');

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]);
}

/**
 * Writes siteDir/sw.js; returns { version, files (URLs relative to the site, './' for
 * index.html), bytes (their total size) }.
 */
export function writeServiceWorker(siteDir) {
  const site = resolve(siteDir);
  const entries = walk(site)
    .map((path) => ({ path, url: relative(site, path).split(sep).join('/') }))
    .filter((e) => !SKIP.test(e.url))
    .map((e) => ({ ...e, url: e.url === 'index.html' ? './' : e.url }))
    .sort((a, b) => (a.url < b.url ? -1 : a.url > b.url ? 1 : 0));
  let list = '';
  let bytes = 0;
  for (const e of entries) {
    const body = readFileSync(e.path);
    bytes += body.length;
    list += `${e.url} ${sha256(body)}\n`;
  }
  const version = sha256(list).slice(0, 16);
  const files = entries.map((e) => e.url);
  const template = readFileSync(join(root, 'web', 'sw.js'), 'utf8');
  const sw = template
    .replace(/^const VERSION = .*;$/m, `const VERSION = '${version}';`)
    .replace(/^const FILES = .*;$/m, `const FILES = ${JSON.stringify(files)};`);
  if (!sw.includes(version) || !sw.includes(JSON.stringify(files))) throw new Error('build_sw: web/sw.js has no VERSION/FILES line');
  writeFileSync(join(site, 'sw.js'), sw);
  return { version, files, bytes };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { version, files, bytes } = writeServiceWorker(process.argv[2] ?? join(root, 'build', 'site'));
  console.log(`build_sw: ${files.length} files, ${bytes} bytes, version ${version}`);
}
