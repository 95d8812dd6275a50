// The iframe embed mode (?embed=1) and the Embed dialog, in headless Chromium against the CLI:
// the compact view renders in the demo blog post's iframe and posts its height, and the
// dialog's snippets, pasted into a host page, show the same numbers as the app.
//
// Run: node --test tests/web/embed.test.mjs  (needs build/site and the native CLI)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPrerequisites, runCli, site, siteAndBrowser } from './helpers.mjs';

checkPrerequisites('embed');
const env = siteAndBrowser();

async function newPage(t, width = 1100) {
  const context = await env.browser.newContext({ viewport: { width, height: 900 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: env.origin });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  t.after(async () => {
    await context.close();
    assert.deepEqual(problems, []);
  });
  return page;
}

test('iframe mode: compact, the CLI\'s numbers, and the host sizes it from the posted height', async (t) => {
  const page = await newPage(t);
  await page.goto(`${env.origin}/examples/blog-post.html`);
  const frameEl = page.locator('iframe').first();
  const frame = await (await frameEl.elementHandle()).contentFrame();
  await frame.waitForSelector('html[data-ready="true"]', { timeout: 30000 });
  const inside = await frame.evaluate(() => ({
    request: globalThis.vramcalc.last.request,
    total: Number(document.getElementById('total').dataset.bytes),
    chrome: ['.top', '.foot', '.how', '#import', '[aria-labelledby="h-fit"]', '.tabs']
      .map((q) => document.querySelector(q)).filter((el) => el && el.getClientRects().length > 0).map((el) => el.outerHTML.slice(0, 40)),
    fields: [...document.querySelectorAll('#mode-panel .field')].filter((el) => el.getClientRects().length > 0)
      .map((el) => el.querySelector('[name]')?.name),
    height: Math.ceil(document.documentElement.getBoundingClientRect().height),
    full: document.getElementById('embed-full').href,
  }));
  assert.equal(inside.request.model, 'mixtral-8x7b');
  assert.equal(inside.total, runCli(inside.request).out.bytes.total);
  assert.deepEqual(inside.chrome, [], 'no page chrome in the embed');
  assert.deepEqual(inside.fields, ['runtime', 'weights', 'context', 'batch', 'kv_dtype']);
  assert.doesNotMatch(inside.full, /embed=1/);
  assert.match(inside.full, /model=mixtral-8x7b/);
  // The host (examples/blog.js) set the iframe's height from the message.
  await page.waitForFunction((h) => Number(document.querySelector('iframe').height) === h, inside.height);
  assert.ok(inside.height > 300 && inside.height < 1400, `height ${inside.height}`);
  // A change inside re-posts: a longer context adds a note? At least the height stays in sync.
  await frame.fill('[name="context"]', '65536');
  await frame.press('[name="context"]', 'Tab');
  await frame.waitForFunction(() => globalThis.vramcalc.last.request.context === 65536);
  const after2 = await frame.evaluate(() => Math.ceil(document.documentElement.getBoundingClientRect().height));
  await page.waitForFunction((h) => Number(document.querySelector('iframe').height) === h, after2);
});

test('Embed dialog: the pasted widget and iframe snippets show the app\'s numbers', async (t) => {
  const page = await newPage(t);
  await page.goto(`${env.origin}/?model=qwen2.5-14b&weights=q5_k_m&context=16384&gpu=rtx-4090`);
  await page.waitForSelector('html[data-ready="true"]', { timeout: 30000 });
  const appTotal = await page.evaluate(() => Number(document.getElementById('total').dataset.bytes));
  await page.click('#embed-open');
  assert.ok(await page.isVisible('#embed-dialog'));
  const widget = await page.inputValue('#embed-widget');
  const iframe = await page.inputValue('#embed-iframe');
  assert.equal(widget, `<script type="module" src="${env.origin}/vram-widget.js"></script>\n` +
    '<vram-calculator model="qwen2.5-14b" runtime="llamacpp" weights="q5_k_m" context="16384" gpu="rtx-4090"></vram-calculator>');
  assert.ok(iframe.startsWith(`<iframe src="${env.origin}/?model=qwen2.5-14b&amp;weights=q5_k_m&amp;context=16384&amp;embed=1&amp;runtime=llamacpp"`), iframe);
  await page.click('#embed-copy-widget');
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), widget);
  await page.keyboard.press('Escape');
  assert.ok(!(await page.isVisible('#embed-dialog')));

  // A host page made of the two snippets (served by the test, as a blog would).
  const host = await newPage(t);
  await host.route(`${env.origin}/host.html`, (route) => route.fulfill({
    contentType: 'text/html', body: `<!doctype html><title>host</title><h1>My post</h1>${widget}\n${iframe}`,
  }));
  await host.goto(`${env.origin}/host.html`);
  await host.waitForFunction(() => document.querySelector('vram-calculator')?.shadowRoot?.querySelector('[data-bytes]')?.dataset.bytes);
  const widgetTotal = await host.evaluate(() => Number(document.querySelector('vram-calculator').shadowRoot.querySelector('[data-bytes]').dataset.bytes));
  assert.equal(widgetTotal, appTotal, 'the widget shows the app\'s total');
  const frame = await (await host.locator('iframe').elementHandle()).contentFrame();
  await frame.waitForSelector('html[data-ready="true"]', { timeout: 30000 });
  assert.equal(await frame.evaluate(() => Number(document.getElementById('total').dataset.bytes)), appTotal);
  const posted = await frame.evaluate(() => Math.ceil(document.documentElement.getBoundingClientRect().height));
  await host.waitForFunction((h) => Number(document.querySelector('iframe').height) === h, posted);
});

test('the widget from another origin, under exactly the CSP its docs give, shows the CLI\'s total', async (t) => {
  const { createServer } = await import('node:http');
  const csp = `default-src 'none'; script-src ${env.origin} 'wasm-unsafe-eval'; connect-src ${env.origin}; base-uri 'none'`;
  const host = createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': csp });
    res.end(`<!doctype html><title>another site</title><p>A post on another host.</p>
<script type="module" src="${env.origin}/vram-widget.js"></script>
<vram-calculator model="mistral-small-24b" weights="q6_k" context="24576" gpu="rtx-5090"></vram-calculator>`);
  });
  await new Promise((ok) => host.listen(0, '127.0.0.1', ok));
  t.after(() => host.close());
  const page = await newPage(t);
  const violations = [];
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) violations.push(m.text()); });
  await page.goto(`http://127.0.0.1:${host.address().port}/`);
  await page.waitForFunction(() => document.querySelector('vram-calculator')?.shadowRoot?.querySelector('[data-bytes]')?.dataset.bytes);
  const total = await page.evaluate(() => Number(document.querySelector('vram-calculator').shadowRoot.querySelector('[data-bytes]').dataset.bytes));
  const { out } = runCli({ model: 'mistral-small-24b', mode: 'inference', weights: 'q6_k', context: 24576, runtime: 'llamacpp' });
  assert.equal(total, out.bytes.total);
  assert.deepEqual(violations, []);
});
