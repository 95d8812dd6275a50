// Measures the web calculator and prints the figures (not a test: nothing here passes or fails).
//   1. cold-load transfer: bytes on the wire (gzip) for html + css + js + wasm + presets;
//   2. time to the first result on a cold load from 127.0.0.1 (median of 5 fresh browser contexts);
//   3. input -> DOM update: median and p95 over 100 input changes in headless Chromium, each
//      change recomputing and redrawing the total, breakdown, chart, fit table and quick reference;
//   4. Lighthouse scores (performance, accessibility, best practices, SEO), mobile and desktop.
//
//   node scripts/bench_web.mjs [site-dir]      (default build/site; build it with scripts/build_wasm.sh)
//   VRAM_BENCH_SKIP_LIGHTHOUSE=1 skips step 4 (it takes about a minute).

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { startServer } from './serve.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const site = resolve(process.argv[2] ?? join(root, 'build', 'site'));
const chromePath = process.env.CHROME_PATH ?? '/usr/bin/chromium';
const flags = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run'];

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const kb = (b) => `${(b / 1000).toFixed(1)} KB`;

const server = await startServer(site, 0);
const url = `http://127.0.0.1:${server.address().port}/`;
const browser = await chromium.launch({ executablePath: chromePath, args: flags });
console.log(`vramcalc web benchmark: ${site}\n${url}  (${await browser.version()})\n`);

// 1 + 2: cold loads.
const loads = [];
let transfer = null;
for (let i = 0; i < 5; i++) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const requests = [];
  page.on('requestfinished', (r) => requests.push(r));
  await page.goto(url);
  await page.waitForSelector('html[data-ready="true"]', { timeout: 30000 });
  loads.push(await page.evaluate(() => performance.getEntriesByName('vramcalc:first-result')[0].startTime));
  if (transfer === null) {
    transfer = [];
    for (const r of requests) {
      const sizes = await r.sizes();
      transfer.push({ path: new URL(r.url()).pathname, bytes: sizes.responseBodySize + sizes.responseHeadersSize, body: sizes.responseBodySize });
    }
  }
  await context.close();
}
const total = transfer.reduce((a, r) => a + r.bytes, 0);
console.log('Cold load, bytes on the wire (gzip-encoded bodies + headers):');
for (const r of transfer.sort((a, b) => b.bytes - a.bytes)) console.log(`  ${r.path.padEnd(28)} ${kb(r.bytes).padStart(10)}`);
console.log(`  ${'total'.padEnd(28)} ${kb(total).padStart(10)}   (${transfer.length} requests; budget 250 KB)`);
const staticGzip = transfer.reduce((a, r) => {
  const file = join(site, r.path === '/' ? 'index.html' : r.path);
  return a + (statSync(file, { throwIfNoEntry: false })?.isFile() ? gzipSync(readFileSync(file), { level: 9 }).length : 0);
}, 0);
console.log(`  same files gzip -9, bodies only: ${kb(staticGzip)}`);
const all = readdirSync(site).filter((f) => /\.(html|css|js|wasm)$/.test(f));
console.log(`  (site files not requested on load: ${all.filter((f) => !transfer.some((r) => r.path === `/${f}`) && f !== 'index.html').join(', ') || 'none'})\n`);
console.log(`Time to first result, cold load from 127.0.0.1: median ${median(loads).toFixed(0)} ms ` +
  `(runs: ${loads.map((x) => x.toFixed(0)).join(', ')} ms)\n`);

// 3: input -> DOM, wall clock, from the input event to the new DOM laid out.
{
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(url);
  await page.waitForSelector('html[data-ready="true"]');
  const changes = [];
  const contexts = ['4096', '8192', '16384', '32768', '65536', '131072', '2048', '12000'];
  const models = ['llama-3.1-70b', 'qwen2.5-7b', 'mixtral-8x7b', 'gemma-3-27b', 'llama-3.1-8b'];
  for (let i = 0; changes.length < 100; i++) {
    changes.push(['context', contexts[i % contexts.length]]);
    changes.push(['batch', String(1 + (i % 4))]);
    changes.push(['kv_dtype', ['f16', 'q8_0', 'q4_0', 'f16'][i % 4]]);
    changes.push(['weights', ['q4_k_m', 'q8_0', 'q5_k_m', 'iq4_xs'][i % 4]]);
    changes.push(['unit', i % 2 ? 'GiB' : 'GB']);
    changes.push(['model', models[i % models.length]]);
    changes.push(['vendor', ['all', 'nvidia', 'apple', 'all'][i % 4]]);
    changes.push(['flash_attention', i % 4 !== 3]);  // off only with an f16 cache (q8_0/q4_0 need it)
  }
  const times = [];
  for (const [name, value] of changes.slice(0, 100)) {
    // Picking a model takes two user actions: opening the list (not timed), then choosing.
    if (name === 'model') await page.evaluate(() => document.getElementById('model-search').dispatchEvent(new MouseEvent('click')));
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0))));
    const t = await page.evaluate(([name, value]) => {
      const t0 = performance.now();
      if (name === 'model') {
        document.querySelector(`[role="option"][data-id="${value}"]`).click();
      } else {
        const el = document.querySelector(`[name="${name}"]${name === 'unit' ? `[value="${value}"]` : ''}`);
        if (el.type === 'checkbox' || el.type === 'radio') el.checked = name === 'unit' ? true : value;
        else el.value = value;
        el.dispatchEvent(new Event('input', { bubbles: true }));
      }
      void document.body.offsetHeight;  // style and layout of the new DOM
      return { ms: performance.now() - t0, ok: document.documentElement.dataset.state === 'ok' };
    }, [name, value]);
    times.push({ name, ...t });
  }
  // The planner views (what would make it fit, cheapest hardware) are drawn in the next task.
  const planner = [];
  for (const context of ['4096', '16384', '65536', '8192', '32768', '131072', '2048', '12000', '24576', '49152']) {
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0))));
    planner.push(await page.evaluate((value) => new Promise((done) => {
      const t0 = performance.now();
      const el = document.querySelector('[name="context"]');
      el.value = value;
      el.dispatchEvent(new Event('input', { bubbles: true }));
      const drawn = () => document.getElementById('recommend').dataset.for === JSON.stringify(globalThis.vramcalc.last.request);
      const poll = () => (drawn() ? done(performance.now() - t0) : setTimeout(poll, 0));
      poll();
    }), context));
  }
  const ms = times.map((t) => t.ms);
  const bad = times.filter((t) => !t.ok).length;
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log('Input -> DOM update (recompute + redraw total, breakdown, chart, fit table, quick reference; style and layout),');
  console.log(`100 changes: median ${median(ms).toFixed(2)} ms, p95 ${pct(ms, 95).toFixed(2)} ms, max ${Math.max(...ms).toFixed(2)} ms wall clock` +
    `${bad ? ` (${bad} of them an error result)` : ''}`);
  console.log(`  (machine load average while measuring: ${load}; the wall clock includes waiting for a core)`);
  console.log(`  input -> planner views drawn too (advice, cheapest hardware; next task), 10 context changes: median ${median(planner).toFixed(2)} ms`);
  const by = {};
  for (const t of times) (by[t.name] ??= []).push(t.ms);
  console.log(`  per kind (median wall ms): ${Object.entries(by).map(([k, v]) => `${k} ${median(v).toFixed(2)}`).join(', ')}\n`);
  await page.close();
}
await browser.close();

// 4: Lighthouse.
if (process.env.VRAM_BENCH_SKIP_LIGHTHOUSE) {
  console.log('Lighthouse: skipped (VRAM_BENCH_SKIP_LIGHTHOUSE)');
} else {
  const { default: lighthouse } = await import('lighthouse');
  const chromeLauncher = await import('chrome-launcher');
  for (const preset of ['mobile', 'desktop']) {
    const chrome = await chromeLauncher.launch({ chromePath, chromeFlags: ['--headless=new', ...flags] });
    const config = preset === 'desktop' ? (await import('lighthouse/core/config/desktop-config.js')).default : undefined;
    const result = await lighthouse(url, {
      port: chrome.port, output: 'json', logLevel: 'error',
      onlyCategories: ['performance', 'accessibility', 'best-practices', 'seo'],
    }, config);
    await chrome.kill();
    const c = result.lhr.categories;
    const score = (k) => Math.round(c[k].score * 100);
    console.log(`Lighthouse ${result.lhr.lighthouseVersion} (${preset}): performance ${score('performance')}, accessibility ${score('accessibility')}, ` +
      `best practices ${score('best-practices')}, SEO ${score('seo')}`);
    const a = result.lhr.audits;
    console.log(`  FCP ${a['first-contentful-paint'].displayValue}, LCP ${a['largest-contentful-paint'].displayValue}, ` +
      `TBT ${a['total-blocking-time'].displayValue}, CLS ${a['cumulative-layout-shift'].displayValue}`);
    const failed = Object.values(a).filter((x) => x.score !== null && x.score < 0.9 && x.scoreDisplayMode !== 'informative' &&
      x.scoreDisplayMode !== 'notApplicable' && x.scoreDisplayMode !== 'manual');
    if (failed.length) console.log(`  below 0.9: ${failed.map((x) => `${x.id} (${x.score})`).join(', ')}`);
  }
}
server.close();
