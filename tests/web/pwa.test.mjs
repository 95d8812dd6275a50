// The installable, offline page (web/pwa.js, web/sw.js, scripts/build_sw.mjs, web/manifest.webmanifest)
// in headless Chromium: offline after one visit with the CLI's numbers, an update that waits for the
// user's reload and never mixes two builds, Chromium's own installability check, and the page
// without any service worker.
//
// Run: node --test tests/web/   (needs build/site and build/native-release/cli/vramcalc)

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { startServer } from '../../scripts/serve.mjs';
import { writeServiceWorker } from '../../scripts/build_sw.mjs';
import { FLAGS, chromePath, checkPrerequisites, runCli, site } from './helpers.mjs';

checkPrerequisites('pwa');
if (!existsSync(join(site, 'sw.js'))) throw new Error(`pwa: ${site} has no sw.js: rebuild it (bash scripts/build_wasm.sh)`);

let browser;
before(async () => {
  browser = await chromium.launch({ executablePath: chromePath, args: FLAGS });
});
after(async () => {
  await browser?.close();
});

/** A server on its own port (so its own origin, service worker and caches) for one test. */
async function serve(t, directory) {
  const server = await startServer(directory, 0);
  const stop = () => { server.close(); server.closeAllConnections(); };
  t.after(stop);
  return { origin: `http://127.0.0.1:${server.address().port}`, stop };
}

/** A fresh context and page that must log no error or warning, as in e2e.test.mjs. */
async function open(t, options = {}, allowed = []) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  t.after(async () => {
    await context.close();
    assert.deepEqual(problems.filter((p) => !allowed.some((re) => re.test(p))), [], 'the page logged no error');
  });
  return { context, page };
}

const ready = (page) => page.waitForSelector('html[data-ready="true"]', { timeout: 30000 });

/** Resolves once a service worker controls the page (the first one claims it on activation). */
const controlled = (page) => page.evaluate(async () => {
  await navigator.serviceWorker.ready;
  if (!navigator.serviceWorker.controller) {
    await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
  }
  return navigator.serviceWorker.controller.scriptURL;
});

async function setNumber(page, name, value) {
  await page.fill(`[name="${name}"]`, String(value));
  await page.press(`[name="${name}"]`, 'Tab');
}

/** The page's total equals the CLI's for the request the page made; returns that request. */
async function assertTotalIsCli(page) {
  const s = await page.evaluate(() => ({
    request: globalThis.vramcalc.last?.request ?? null,
    total: Number(document.getElementById('total').dataset.bytes),
  }));
  assert.ok(s.request, 'the page has a result');
  const { args, out } = runCli(s.request);
  assert.equal(s.total, out.bytes.total, `vramcalc ${args.join(' ')}: total bytes`);
  return s.request;
}

const cacheNames = (page) => page.evaluate(() => caches.keys());
const servedCss = (page) => page.evaluate(() => fetch('style.css').then((r) => r.text()));

test('offline: after one visit the page loads from the cache, with its query, and computes', async (t) => {
  const server = await serve(t, site);
  const { context, page } = await open(t);
  const fromNetwork = [];
  page.on('response', (r) => { if (!r.fromServiceWorker()) fromNetwork.push(r.url()); });
  await page.goto(`${server.origin}/`);
  await ready(page);
  assert.equal(await controlled(page), `${server.origin}/sw.js`);
  const version = /^const VERSION = '([0-9a-f]{16})';$/m.exec(readFileSync(join(site, 'sw.js'), 'utf8'))[1];
  assert.deepEqual(await cacheNames(page), [`vramcalc-${version}`]);

  // No network at all: the browser is offline and the server is gone.
  await context.setOffline(true);
  server.stop();
  fromNetwork.length = 0;
  await page.goto(`${server.origin}/?model=qwen2.5-7b&context=4096`);
  await ready(page);
  assert.equal(await page.evaluate(() => navigator.onLine), false);
  await setNumber(page, 'context', 16384);
  const request = await assertTotalIsCli(page);
  assert.equal(request.model, 'qwen2.5-7b', 'the query string reached the page served from the cache');
  assert.equal(request.context, 16384);
  assert.deepEqual(fromNetwork, [], 'every response came from the service worker');
});

test('update: a new build waits, the page keeps the old files until "Reload", then runs the new one', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vramcalc-pwa-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(site, dir, { recursive: true });
  const a = writeServiceWorker(dir);
  const server = await serve(t, dir);
  const { page } = await open(t);
  await page.goto(`${server.origin}/`);
  await ready(page);
  await controlled(page);
  const cssA = await servedCss(page);
  assert.deepEqual(await cacheNames(page), [`vramcalc-${a.version}`]);

  /** Asks for an update and resolves with the state the new worker reaches: installed or redundant. */
  const update = () => page.evaluate(async () => {
    const reg = await navigator.serviceWorker.getRegistration();
    const settled = new Promise((resolve) => reg.addEventListener('updatefound', () => {
      const w = reg.installing;
      w.addEventListener('statechange', () => { if (w.state === 'installed' || w.state === 'redundant') resolve(w.state); });
    }, { once: true }));
    await reg.update();
    return settled;
  });

  // A deploy half done: the new sw.js is up, the new style.css is not. The new worker refuses the set.
  const marker = '\n/* build B */\n';
  appendFileSync(join(dir, 'style.css'), marker);
  const b = writeServiceWorker(dir);
  assert.notEqual(b.version, a.version);
  writeFileSync(join(dir, 'style.css'), cssA);
  assert.equal(await update(), 'redundant');
  assert.deepEqual(await cacheNames(page), [`vramcalc-${a.version}`]);
  assert.equal(await page.$eval('.pwa-update', (e) => e.textContent), '', 'no banner for a failed install');

  // The deploy completes: the worker installs into its own cache and waits for the user.
  appendFileSync(join(dir, 'style.css'), marker);
  assert.equal(await update(), 'installed');
  const banner = page.getByRole('status').filter({ hasText: 'Update available' });
  await banner.waitFor();
  assert.equal(await banner.textContent(), 'Update available — Reload');
  assert.deepEqual((await cacheNames(page)).sort(), [`vramcalc-${a.version}`, `vramcalc-${b.version}`].sort());
  assert.equal(await servedCss(page), cssA, 'while B waits, the page gets A\'s files');
  // A plain reload keeps build A (the banner comes back for the waiting worker).
  await page.reload();
  await ready(page);
  await banner.waitFor();
  assert.equal(await servedCss(page), cssA, 'after a reload too');
  assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector('.pwa-update')).position), 'fixed');

  await Promise.all([page.waitForEvent('load'), banner.getByRole('button', { name: 'Reload' }).click()]);
  await ready(page);
  assert.equal(await servedCss(page), `${cssA}${marker}`, 'after "Reload" the page gets B\'s files');
  assert.deepEqual(await cacheNames(page), [`vramcalc-${b.version}`], 'A\'s cache is gone');
  assert.equal(await page.$eval('.pwa-update', (e) => e.textContent), '');
  assert.equal(await page.evaluate(() => navigator.serviceWorker.getRegistration().then((r) => r.waiting)), null);
  await assertTotalIsCli(page);
});

function paeth(a, b, c) {
  const p = a + b - c;
  const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Width, height and RGBA pixels of an 8-bit RGBA or RGB PNG (ISO/IEC 15948 filters 0–4). */
function decodePng(buf) {
  assert.equal(buf.subarray(0, 8).toString('hex'), '89504e470d0a1a0a', 'PNG signature');
  let width = 0;
  let height = 0;
  let type = 0;
  const idat = [];
  for (let o = 8; o < buf.length;) {
    const len = buf.readUInt32BE(o);
    const name = buf.toString('latin1', o + 4, o + 8);
    const data = buf.subarray(o + 8, o + 8 + len);
    if (name === 'IHDR') {
      [width, height, type] = [data.readUInt32BE(0), data.readUInt32BE(4), data[9]];
      assert.equal(data[8], 8, 'bit depth 8');
      assert.ok(type === 6 || type === 2, 'RGBA or RGB');
    }
    if (name === 'IDAT') idat.push(data);
    o += 12 + len;
  }
  const bpp = type === 6 ? 4 : 3;
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * bpp;
  const px = Buffer.alloc(width * height * 4, 255);
  let prev = Buffer.alloc(stride);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)];
    const line = Buffer.from(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)));
    for (let i = 0; i < stride; i++) {
      const left = i >= bpp ? line[i - bpp] : 0;
      const up = prev[i];
      const ul = i >= bpp ? prev[i - bpp] : 0;
      line[i] = (line[i] + [0, left, up, (left + up) >> 1, paeth(left, up, ul)][f]) & 0xff;
    }
    for (let x = 0; x < width; x++) line.copy(px, (y * width + x) * 4, x * bpp, x * bpp + bpp);
    prev = line;
  }
  return { width, height, px };
}

test('installable: the manifest and its icons, and Chromium reports no installability error', async (t) => {
  const server = await serve(t, site);
  // A profile on disk: Chromium never installs from an off-the-record context (browser.newContext()).
  const profile = mkdtempSync(join(tmpdir(), 'vramcalc-pwa-profile-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: chromePath, args: FLAGS });
  t.after(async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  });
  const page = context.pages()[0] ?? await context.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.goto(`${server.origin}/`);
  await ready(page);
  const manifestUrl = new URL(await page.getAttribute('link[rel="manifest"]', 'href'), `${server.origin}/`).href;
  const res = await fetch(manifestUrl);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/manifest+json');
  const m = await res.json();
  // The fields Chromium's installability check reads (chromium/src components/webapps/browser/
  // installable/installable_evaluator.cc: a name or short_name, a valid start_url, an installable
  // display mode, a PNG/SVG/WebP icon of purpose "any" of at least 144 px; a secure origin, which
  // 127.0.0.1 is; no service worker since Chrome 108 on Android and 112 on desktop,
  // developer.chrome.com/blog/update-install-criteria), and those a good install needs besides
  // (web.dev/learn/pwa/web-app-manifest).
  for (const field of ['id', 'name', 'short_name', 'description', 'start_url', 'scope']) {
    assert.equal(typeof m[field], 'string', field);
    assert.ok(m[field].length > 0, field);
  }
  assert.equal(m.start_url, './');
  assert.equal(m.scope, './');
  assert.equal(m.display, 'standalone');
  assert.match(m.theme_color, /^#[0-9a-f]{6}$/);
  assert.match(m.background_color, /^#[0-9a-f]{6}$/);
  assert.notEqual(m.prefer_related_applications, true);

  const icons = [...m.icons, { src: await page.getAttribute('link[rel="apple-touch-icon"]', 'href'), sizes: '180x180', type: 'image/png', purpose: 'apple' }];
  for (const icon of icons) {
    const r = await fetch(new URL(icon.src, manifestUrl));
    assert.equal(r.status, 200, icon.src);
    assert.equal(r.headers.get('content-type'), icon.type, icon.src);
    const body = Buffer.from(await r.arrayBuffer());
    if (icon.type === 'image/svg+xml') {
      assert.equal(icon.sizes, 'any');
      assert.match(body.toString('utf8'), /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" viewBox="0 0 32 32">/);
      continue;
    }
    const { width, height, px } = decodePng(body);
    assert.equal(`${width}x${height}`, icon.sizes, icon.src);
    if (icon.purpose === 'any') continue;
    // Maskable (and Apple's) icons are opaque, and everything outside the safe zone, a centred circle
    // of radius 40% (web.dev/articles/maskable-icon), is plain background: masks never cut the logo.
    const bg = px.readUInt32BE(0);
    let inside = 0;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const v = px.readUInt32BE((y * width + x) * 4);
        assert.equal(v & 0xff, 0xff, `${icon.src} opaque at ${x},${y}`);
        const r2 = ((x + 0.5) / width - 0.5) ** 2 + ((y + 0.5) / height - 0.5) ** 2;
        if (r2 > 0.4 ** 2) assert.equal(v, bg, `${icon.src}: ${x},${y} outside the safe zone is background`);
        else if (v !== bg) inside++;
      }
    }
    assert.ok(inside > width * height * 0.15, `${icon.src}: the logo fills the safe zone (${inside} px)`);
  }
  assert.ok(m.icons.some((i) => i.purpose === 'maskable' && i.sizes === '512x512'), 'a 512 px maskable icon');
  assert.ok(m.icons.some((i) => i.purpose === 'any' && i.sizes === '512x512' && i.type === 'image/png'), 'a 512 px icon');

  const cdp = await page.context().newCDPSession(page);
  const parsed = await cdp.send('Page.getAppManifest');
  assert.deepEqual(parsed.errors, [], 'Chromium parsed the manifest without error');
  assert.equal(parsed.url, manifestUrl);
  const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
  assert.deepEqual(installabilityErrors, [], 'Chromium: installable');
  assert.deepEqual(problems, []);
});

test('without a service worker (blocked, or missing on the host) the page loads and computes; embed mode registers none', async (t) => {
  const server = await serve(t, site);
  const { page } = await open(t, { serviceWorkers: 'block' }, [/^console warning: Service Worker registration blocked by Playwright$/]);
  await page.goto(`${server.origin}/?context=16384`);
  await ready(page);
  await setNumber(page, 'context', 12288);
  assert.equal((await assertTotalIsCli(page)).context, 12288);
  assert.equal(await page.evaluate(() => navigator.serviceWorker?.controller ?? null), null);

  // A host without sw.js: registration fails and the page carries on. (Chromium itself logs the 404
  // of a worker script, whatever the page does with the rejection: that one message is allowed.)
  const dir = mkdtempSync(join(tmpdir(), 'vramcalc-pwa-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(site, dir, { recursive: true });
  rmSync(join(dir, 'sw.js'));
  const bare = await serve(t, dir);
  const nosw = await open(t, {}, [/^console error: A bad HTTP response code \(404\) was received when fetching the script\.$/]);
  await nosw.page.goto(`${bare.origin}/`);
  await ready(nosw.page);
  const registered = await nosw.page.evaluate(() => navigator.serviceWorker.register('sw.js').then(() => 'yes', () => 'no'));
  assert.equal(registered, 'no');
  await setNumber(nosw.page, 'context', 12288);
  assert.equal((await assertTotalIsCli(nosw.page)).context, 12288);

  // ?embed=1: pwa.js does nothing (it creates its live region before registering, synchronously).
  const other = await open(t);
  await other.page.goto(`${server.origin}/?embed=1`);
  await ready(other.page);
  assert.equal(await other.page.$('.pwa-update'), null);
  await other.page.goto(`${server.origin}/`);
  await ready(other.page);
  assert.notEqual(await other.page.$('.pwa-update'), null);
});
