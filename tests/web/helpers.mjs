// Shared by the tests in tests/web/: paths, Chromium flags and the CLI's answer for a page request
// (the same mapping as tests/web/e2e.test.mjs).

import { after, before } from 'node:test';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../../scripts/serve.mjs';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const site = resolve(process.env.VRAM_SITE_DIR ?? join(root, 'build', 'site'));
export const cli = resolve(process.env.VRAM_CLI ?? join(root, 'build', 'native-release', 'cli', 'vramcalc'));
export const chromePath = process.env.CHROME_PATH ?? '/usr/bin/chromium';
export const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run'];

export function checkPrerequisites(what) {
  for (const [name, path] of [['built site (bash scripts/build_wasm.sh)', join(site, 'index.html')],
    ['native CLI (the native stage of scripts/test.sh)', cli], ['Chromium (apt-get install chromium)', chromePath]]) {
    if (!existsSync(path)) throw new Error(`${what}: missing ${name}: ${path}`);
  }
}

/** The request schema as the CLI prints it (`vramcalc --schema`): each field's flag and style. */
let schema = null;
function flagsOf(key) {
  schema ??= JSON.parse(execFileSync(cli, ['--schema'], { encoding: 'utf8' }));
  return schema.filter((f) => f.key === key);
}

/** The core's default of a request field in a mode (from the schema), or undefined. */
export function schemaDefault(mode, key) {
  const inScope = { all: () => true, inference: (m) => m === 'inference', training: (m) => m !== 'inference',
    lora: (m) => m === 'lora' || m === 'qlora' };
  return flagsOf(key).find((f) => inScope[f.scope](mode ?? 'inference'))?.default;
}

/** The CLI's --json answer for the request the page sent to the core. The model is the request's
 * preset unless `modelArgs` names files (['--gguf', path], ['--safetensors', path], ...). */
export function runCli(request, modelArgs = ['--model', request.model]) {
  const args = [...modelArgs, '--json'];
  for (const [k, v] of Object.entries(request)) {
    if (k === 'model' || (k === 'weights' && v === 'native')) continue;  // 'native': the files' own
    if (k === 'device_memory_bytes') {
      args.push('--device-memory-gib', String(v / 2 ** 30));
      continue;
    }
    const [field] = flagsOf(k);
    if (!field || !field.flag) throw new Error(`no CLI flag for request field '${k}'`);
    if (field.flag_style === 'value') args.push(field.flag, String(v));
    else if (field.flag_style === 'on_off') args.push(field.flag, v ? 'on' : 'off');
    else if (field.flag_style === 'sets_true') { if (v) args.push(field.flag); }
    else if (field.flag_style === 'sets_false') { if (!v) args.push(field.flag); }
  }
  return { args, out: JSON.parse(execFileSync(cli, args, { encoding: 'utf8' })) };
}

/**
 * For a test file: serves `dir` on 127.0.0.1 (scripts/serve.mjs, with its CSP; `serverOptions`
 * as startServer's) and launches Chromium once, before its tests; both stop after them. The
 * returned object's `origin`, `browser` and `server` are set when the tests run.
 */
export function siteAndBrowser(dir = site, serverOptions = {}) {
  const env = { origin: '', browser: null, server: null };
  before(async () => {
    env.server = await startServer(dir, 0, typeof serverOptions === 'function' ? serverOptions() : serverOptions);
    env.origin = `http://127.0.0.1:${env.server.address().port}`;
    env.browser = await chromium.launch({ executablePath: chromePath, args: FLAGS });
  });
  after(async () => {
    await env.browser?.close();
    env.server?.close();
  });
  return env;
}
