// Bring your own model, end to end in headless Chromium: files given through the picker, dropped
// on the page or pasted, and repositories loaded from a stand-in hub on 127.0.0.1 (never the real
// one). The numbers must equal the native CLI's for the same files (--gguf, --safetensors,
// --hf-config), and the page must read only the headers: a 3.4 GB sparse GGUF is imported while
// every byte the page reads from it is counted.
//
// Run: node --test tests/web/import.test.mjs  (needs build/site, the native CLI and
// build/native-release/tests/vram_corpus_tool, which writes the fixture files)

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startServer } from '../../scripts/serve.mjs';
import { checkPrerequisites, chromePath, FLAGS, root, runCli, site } from './helpers.mjs';
import { startHub, TOKEN } from './hub_server.mjs';

checkPrerequisites('import');
const tool = process.env.VRAM_CORPUS_TOOL ?? join(root, 'build', 'native-release', 'tests', 'vram_corpus_tool');
const fixtures = mkdtempSync(join(tmpdir(), 'vram-import-'));
execFileSync(tool, ['import', fixtures, join(root, 'presets', 'models.json')]);
const hubDir = join(fixtures, 'hub');
const tinyRepo = join(hubDir, 'acme', 'tiny-llama');

let server;
let hub;
let browser;
let origin;
before(async () => {
  hub = await startHub(hubDir);
  server = await startServer(site, 0, { connectSrc: [hub.origin] });
  origin = `http://127.0.0.1:${server.address().port}`;
  browser = await chromium.launch({ executablePath: chromePath, args: FLAGS });
});
after(async () => {
  await browser?.close();
  server?.close();
  hub?.server.close();
  rmSync(fixtures, { recursive: true, force: true });
});

/** A fresh page on the calculator; every byte it reads from a Blob/File is counted. */
async function open(t, { query = '', offline = false } = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.addInitScript(() => {
    // Counts what the page reads from files: every read goes through Blob.slice + arrayBuffer,
    // text() or a FileReader; a whole-file read would show up here.
    globalThis.__bytesRead = 0;
    const ab = Blob.prototype.arrayBuffer;
    Blob.prototype.arrayBuffer = function arrayBuffer() {
      globalThis.__bytesRead += this.size;
      return ab.call(this);
    };
    const text = Blob.prototype.text;
    Blob.prototype.text = function textRead() {
      globalThis.__bytesRead += this.size;
      return text.call(this);
    };
    for (const m of ['readAsArrayBuffer', 'readAsText', 'readAsDataURL', 'readAsBinaryString']) {
      const f = FileReader.prototype[m];
      FileReader.prototype[m] = function read(blob, ...rest) {
        globalThis.__bytesRead += blob.size;
        return f.call(this, blob, ...rest);
      };
    }
  });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource|CORS|blocked by CORS/.test(m.text())) problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  t.after(async () => {
    await context.close();
    assert.deepEqual(problems, [], 'no page errors');
  });
  await page.goto(`${origin}/${query}`);
  await page.waitForSelector('html[data-ready="true"]', { timeout: 30000 });
  if (offline) await context.setOffline(true);
  await page.click('#import summary');
  return page;
}

async function status(page, pattern) {
  try {
    await page.waitForFunction((p) => new RegExp(p).test(document.getElementById('import-status').textContent),
      pattern.source, { timeout: 20000 });
  } catch (error) {
    throw new Error(`import status '${await page.textContent('#import-status')}' never matched ${pattern}`);
  }
  return page.textContent('#import-status');
}

/** The page's result equals the CLI's for the same model files. */
async function assertLikeCli(page, modelArgs) {
  const shown = await page.evaluate(() => ({
    request: globalThis.vramcalc.last?.request, total: Number(document.getElementById('total').dataset.bytes),
    items: [...document.querySelectorAll('#legend li')].map((li) => [li.dataset.key, Number(li.dataset.bytes)]),
    error: document.getElementById('error-summary').textContent,
  }));
  assert.ok(shown.request, `a result (${shown.error})`);
  const { out } = runCli(shown.request, modelArgs);
  assert.equal(shown.total, out.bytes.total, `total of ${modelArgs.join(' ')}`);
  assert.deepEqual(shown.items, out.items.map((i) => [i.key, i.bytes]));
  return { shown, out };
}

test('a GGUF file: the file\'s own weights, the CLI\'s numbers, and only its header is read', async (t) => {
  const page = await open(t);
  const file = join(fixtures, 'llama-3.2-1b-q4_k_m.gguf');
  await page.setInputFiles('#import-files', file);
  const text = await status(page, /^Loaded/);
  assert.match(text, /1\.24B parameters; weights/);
  const { out } = await assertLikeCli(page, ['--gguf', file]);
  assert.equal(out.inputs.weights, 'gguf-file');
  assert.equal(await page.inputValue('[name="weights"]'), 'native');
  assert.equal(await page.inputValue('[name="runtime"]'), 'llamacpp');
  // Every mode works on it like on a preset: LoRA re-plans the same geometry.
  await page.click('#tab-lora');
  await page.waitForFunction(() => globalThis.vramcalc.last?.request.mode === 'lora');
  await assertLikeCli(page, ['--gguf', file]);
  // The link cannot carry a file: it says so, and the link opens on a preset without an error.
  assert.match(await page.textContent('#model-info'), /a link cannot carry/);
  const link = await page.evaluate(() => location.search);
  assert.doesNotMatch(link, /weights=native/);
  const again = await open(t, { query: link });
  assert.equal(await again.getAttribute('html', 'data-state'), 'ok', await again.textContent('#error-summary'));
});

test('a 3.4 GB sparse GGUF: the numbers appear and the page reads a few MB of it', async (t) => {
  const page = await open(t);
  const file = join(fixtures, 'llama-3.2-3b-q8_0.gguf');
  const size = statSync(file).size;
  assert.ok(size > 3e9, `fixture size ${size}`);
  await page.setInputFiles('#import-files', file);
  await status(page, /^Loaded/);
  await assertLikeCli(page, ['--gguf', file]);
  const read = await page.evaluate(() => globalThis.__bytesRead);
  // The header is 2.6 MB (a 128,256-token vocabulary): one 1 MiB read, then what the parser asks.
  assert.ok(read >= 2.5e6 && read <= 8 * 2 ** 20, `bytes read: ${read} of ${size}`);
  assert.match(await page.textContent('#import-status'), /read \d\.\d+ MB of 3\.4\d GB/);
});

test('a split GGUF needs every part; one part alone is named as incomplete', async (t) => {
  const page = await open(t);
  const parts = [1, 2].map((i) => join(fixtures, `qwen2.5-0.5b-q8_0-0000${i}-of-00002.gguf`));
  await page.setInputFiles('#import-files', parts[1]);
  assert.match(await status(page, /split/), /split into 2 files; also give part\(s\) 1/);
  await page.setInputFiles('#import-files', parts);
  await status(page, /^Loaded/);
  await assertLikeCli(page, ['--gguf', parts[0]]);
});

test('safetensors shards with config.json and the index; a missing piece is named', async (t) => {
  const page = await open(t);
  const names = ['config.json', 'model.safetensors.index.json', 'model-00001-of-00002.safetensors',
    'model-00002-of-00002.safetensors'];
  await page.setInputFiles('#import-files', names.slice(1).map((n) => join(tinyRepo, n)));
  assert.match(await status(page, /config\.json/), /drop the config\.json from the same folder too/);
  await page.setInputFiles('#import-files', names.slice(0, 3).map((n) => join(tinyRepo, n)));
  assert.match(await status(page, /not dropped/), /model-00002-of-00002\.safetensors/);
  await page.setInputFiles('#import-files', names.map((n) => join(tinyRepo, n)));
  await status(page, /^Loaded/);
  // llama.cpp cannot load safetensors: the page moved to vLLM, as the CLI must be told.
  assert.equal(await page.inputValue('[name="runtime"]'), 'vllm');
  await assertLikeCli(page, ['--safetensors', join(tinyRepo, 'model.safetensors.index.json')]);
});

test('a dropped config.json is shareable: the link carries it and reproduces the numbers', async (t) => {
  const page = await open(t);
  const config = readFileSync(join(tinyRepo, 'config.json'), 'utf8');
  await page.evaluate((text) => {
    const dt = new DataTransfer();
    dt.items.add(new File([text], 'config.json', { type: 'application/json' }));
    const zone = document.getElementById('drop-zone');
    for (const type of ['dragenter', 'dragover', 'drop']) {
      zone.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
    }
  }, config);
  await status(page, /^Loaded/);
  const { shown } = await assertLikeCli(page, ['--hf-config', join(tinyRepo, 'config.json')]);
  await page.waitForFunction(() => location.search.includes('config='));
  const link = await page.evaluate(() => location.href);
  const again = await open(t, { query: link.slice(link.indexOf('?')) });
  await again.waitForFunction(() => globalThis.vramcalc.last);
  const total = await again.evaluate(() => Number(document.getElementById('total').dataset.bytes));
  assert.equal(total, shown.total, 'the shared link gives the same total');
  assert.match(await again.textContent('#model-info'), /the link to this page carries its config\.json/);
});

test('the paste box reports bad JSON and a bad config where they were given', async (t) => {
  const page = await open(t);
  await page.fill('#import-paste', '{"model_type": "llama", ');
  await page.click('#import-paste-go');
  assert.match(await status(page, /not valid JSON/), /pasted config\.json: not valid JSON/);
  await page.fill('#import-paste', '{"model_type": "llama", "hidden_size": -5}');
  await page.click('#import-paste-go');
  assert.match(await status(page, /hidden_size/), /hidden_size/);
  const config = readFileSync(join(tinyRepo, 'config.json'), 'utf8');
  await page.fill('#import-paste', config);
  await page.click('#import-paste-go');
  await status(page, /^Loaded/);
  await assertLikeCli(page, ['--hf-config', join(tinyRepo, 'config.json')]);
  // A config.json too long for a link is used, and the page says the link cannot carry it.
  const long = JSON.stringify({ ...JSON.parse(config), _name_or_path: 'x'.repeat(6000) });
  await page.fill('#import-paste', long);
  await page.click('#import-paste-go');
  await status(page, /^Loaded/);
  assert.match(await page.textContent('#model-info'), /too long for a link, so links show the default model/);
  await page.waitForFunction(() => !location.search.includes('config='));
  await assertLikeCli(page, ['--hf-config', join(tinyRepo, 'config.json')]);
});

test('Hugging Face: nothing is fetched until Load; then config.json and Range reads of the headers', async (t) => {
  const page = await open(t, { query: `?hub=${encodeURIComponent(hub.origin)}` });
  assert.equal(hub.log.length, 0, 'no request to the hub before the user asks');
  await page.fill('#import-repo', 'acme/tiny-llama');
  await page.click('#import-hub-go');
  await status(page, /^Loaded/);
  await assertLikeCli(page, ['--safetensors', join(tinyRepo, 'model.safetensors.index.json')]);
  const weightReads = hub.log.filter((r) => r.path.startsWith('/cdn/'));
  assert.ok(weightReads.length >= 2 && weightReads.every((r) => /^bytes=0-\d+$/.test(r.range)), JSON.stringify(weightReads));
  // One 64 KiB Range read per shard holds its whole header (about 8 KB of JSON here).
  const served = weightReads.reduce((n, r) => n + r.bytes, 0);
  assert.equal(served, 2 * 65536, `served ${served} bytes of the 2.47 GB checkpoint`);
  assert.deepEqual(weightReads.map((r) => r.range), ['bytes=0-65535', 'bytes=0-65535']);
  // A GGUF-only repository: its GGUF header.
  await page.fill('#import-repo', 'acme/tiny-llama-GGUF');
  await page.click('#import-hub-go');
  assert.match(await status(page, /^Loaded test model/), /weights 8\d\d MB as stored/);
  await assertLikeCli(page, ['--gguf', join(hubDir, 'acme', 'tiny-llama-GGUF', 'llama-3.2-1b-q4_k_m.gguf')]);
});

test('Hugging Face errors: gated (token in memory), denied, missing, rate limit, CORS, offline', async (t) => {
  const page = await open(t, { query: `?hub=${encodeURIComponent(hub.origin)}` });
  const load = async (repo, pattern) => {
    await page.fill('#import-repo', repo);
    await page.click('#import-hub-go');
    return status(page, pattern);
  };
  assert.match(await load('not a repo', /repository:/), /owner\/name/);
  assert.ok(await page.isHidden('#import-token-row'));
  assert.match(await load('acme/gated', /401/), /gated or private \(HTTP 401\)/);
  assert.ok(await page.isVisible('#import-token-row'), 'the token field appears');
  await page.fill('#import-token', TOKEN);
  await load('acme/gated', /^Loaded/);
  assert.ok(hub.log.some((r) => r.auth === `Bearer ${TOKEN}`), 'the token went to the hub');
  assert.ok(!(await page.evaluate(() => location.href)).includes(TOKEN), 'the token is not in the URL');
  assert.ok(!(await page.evaluate(() => JSON.stringify(localStorage) + document.cookie)).includes(TOKEN));
  assert.match(await load('acme/denied', /403/), /accept its licence/);
  assert.match(await load('acme/missing', /404/), /not found \(HTTP 404\)/);
  assert.match(await load('acme/limited', /429/), /rate-limiting requests \(HTTP 429\); try again in 30 s/);
  assert.match(await load('acme/nocors', /CORS/), /did not allow this page to read it \(CORS\)/);
  await page.context().setOffline(true);
  assert.match(await load('acme/tiny-llama', /offline/), /You are offline/);
});
