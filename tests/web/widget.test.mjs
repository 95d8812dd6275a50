// The embeddable widget (web/vram-widget.js, <vram-calculator>) on the demo blog post
// (web/examples/blog-post.html), in headless Chromium under the strict CSP of scripts/serve.mjs.
// Every total is checked against the native CLI (--json) for the same inputs.
//
// Run: node --test tests/web/   (needs build/site and build/native-release/cli/vramcalc)
// Env: VRAM_SITE_DIR, VRAM_CLI, CHROME_PATH override the defaults.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CSP } from '../../scripts/serve.mjs';
import * as fmt from '../../web/format.js';
import { execFileSync } from 'node:child_process';
import { checkPrerequisites, cli, root, runCli, site, siteAndBrowser } from './helpers.mjs';

const DEMO = '/examples/blog-post.html';
checkPrerequisites('widget');
if (!existsSync(join(site, 'examples', 'blog-post.html'))) {
  throw new Error(`widget: missing the demo page in ${site} (node scripts/build_web.mjs stages web/examples/)`);
}
const presetCount = JSON.parse(readFileSync(join(root, 'presets', 'models.json'), 'utf8')).models.length;
const devices = new Map(JSON.parse(readFileSync(join(root, 'presets', 'hardware.json'), 'utf8')).devices
  .map((d) => [d.id, d]));

const env = siteAndBrowser();

/** The CLI's total for inference (or a training mode when `mode` is given). */
function cliTotal({ model, weights, context, runtime = 'llamacpp', mode, seqLen }) {
  const request = mode ? { model, mode, seq_len: seqLen, ...(weights ? { weights } : {}) }
    : { model, weights, context, runtime };
  return runCli(request).out.bytes.total;
}

/** Whether `vramcalc fit` says one `gpu` holds the workload (the widget's card verdict). */
function cliFits({ model, weights, context, runtime = 'llamacpp', mode, seqLen }, gpu) {
  const args = ['fit', '--model', model, '--gpu', gpu, '--json'];
  if (mode) {
    args.push('--mode', mode, '--seq-len', String(seqLen));
    if (weights) args.push('--weights', weights);
  } else {
    args.push('--weights', weights, '--context', String(context), '--runtime', runtime);
  }
  try {
    return JSON.parse(execFileSync(cli, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })).fit.fits;
  } catch {
    return false;  // the runtime cannot use this device (vLLM on Apple silicon): exit 2
  }
}

/**
 * The demo page, with the checks every test shares: no request leaves the origin, no console error
 * or warning, no page error, no CSP violation (in any frame). `requests` counts the main frame's.
 */
async function open(t, { colorScheme = 'light', checks = true, block = null } = {}) {
  const context = await env.browser.newContext({ viewport: { width: 1000, height: 900 }, colorScheme });
  await context.addInitScript(() => {
    globalThis.cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      globalThis.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
    }, true);
  });
  const page = await context.newPage();
  if (block) await page.route(block, (r) => r.abort());
  const problems = [];
  const requests = [];
  page.on('request', (r) => {
    if (r.frame() === page.mainFrame()) requests.push(r.url().replace(env.origin, ''));
    if (!r.url().startsWith(`${env.origin}/`) && !r.url().startsWith('data:')) problems.push(`request off the origin: ${r.url()}`);
  });
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  t.after(async () => {
    const violations = await page.evaluate(() => globalThis.cspViolations).catch(() => []);
    await context.close();
    if (!checks) return;
    assert.deepEqual(violations, [], 'no CSP violation');
    assert.deepEqual(problems, [], 'the page stayed on its origin and logged no error');
  });
  const response = await page.goto(env.origin + DEMO);
  return { page, requests, response };
}

/** Waits until widget `sel` has state `state` (and, if given, total `bytes`); returns what it shows. */
async function widget(page, sel, { state = 'ready', bytes } = {}) {
  await page.waitForFunction(([s, st, b]) => {
    const w = document.querySelector(s)?.shadowRoot?.querySelector('.w');
    return w?.dataset.state === st && (b === undefined || w.querySelector('.total').dataset.bytes === String(b));
  }, [sel, state, bytes], { timeout: 20000 }).catch(() => {});  // the asserts below say what differs
  return page.evaluate((s) => {
    const r = document.querySelector(s).shadowRoot;
    return {
      state: r.querySelector('.w').dataset.state,
      bytes: r.querySelector('.total').dataset.bytes === undefined ? null : Number(r.querySelector('.total').dataset.bytes),
      total: r.querySelector('.total').textContent,
      errors: r.querySelector('.errors').textContent,
      segments: r.querySelectorAll('.bar rect.seg').length,
      fits: Object.fromEntries([...r.querySelectorAll('.card')].map((c) => [c.dataset.device, c.dataset.fits === 'true'])),
      mine: [...r.querySelectorAll('.card.mine')].map((c) => c.dataset.device),
      link: r.querySelector('.open').href,
      text: r.querySelector('.w').innerText,
    };
  }, sel);
}

/** The widget shows the CLI's total for `inputs`, and fit verdicts that follow from it. */
async function assertWidget(page, sel, inputs) {
  const expected = cliTotal(inputs);
  const w = await widget(page, sel, { bytes: expected });
  const what = `${sel} ${JSON.stringify(inputs)}`;
  assert.equal(w.state, 'ready', `${what}: ready (${w.errors})`);
  assert.equal(w.bytes, expected, `${what}: total bytes = CLI`);
  assert.equal(w.total, fmt.bytes(expected, 'GB'), `${what}: total as shown`);
  assert.doesNotMatch(w.text, /NaN|undefined|Infinity/);
  for (const [id, fits] of Object.entries(w.fits)) {
    assert.equal(fits, cliFits(inputs, id), `${what}: fits ${id} as vramcalc fit says`);
  }
  return w;
}

test('two widgets with different models show the CLI\'s totals from one wasm instance and one presets fetch', async (t) => {
  const { page, requests } = await open(t);
  const llama = await assertWidget(page, '#w-llama', { model: 'llama-3.1-8b', weights: 'q4_k_m', context: 32768 });
  const qwen = await assertWidget(page, '#w-qwen', { model: 'qwen2.5-14b', weights: 'q5_k_m', context: 16384 });
  assert.notEqual(llama.bytes, qwen.bytes);
  // The bar has one segment per item of the core's breakdown.
  const items = runCli({ model: 'llama-3.1-8b', weights: 'q4_k_m', context: 32768, runtime: 'llamacpp' }).out.items;
  assert.equal(llama.segments, items.length);
  assert.ok(items.length >= 4, 'weights, KV cache, compute buffer, CUDA context');
  assert.deepEqual(Object.keys(llama.fits), ['rtx-4060-ti-16gb', 'rtx-4090', 'rtx-5090', 'apple-m4-max-40c-128gb', 'h100-sxm']);
  assert.deepEqual(llama.mine, ['rtx-4060-ti-16gb']);
  assert.deepEqual(qwen.mine, ['rtx-4090']);
  // 9.47 GB fits a 16 GiB card; the link opens the full page with the same state.
  assert.equal(llama.fits['rtx-4060-ti-16gb'], true);
  const link = new URL(llama.link);
  assert.equal(link.pathname, '/index.html');
  assert.deepEqual(Object.fromEntries(link.searchParams), {
    model: 'llama-3.1-8b', mode: 'inference', runtime: 'llamacpp', weights: 'q4_k_m', context: '32768', batch: '1',
    kv_dtype: 'f16', gpu: 'rtx-4060-ti-16gb',
  });
  // A third widget added later and a recompute reuse the same module and presets.
  await page.evaluate(() => {
    const w = document.createElement('vram-calculator');
    w.id = 'w-late';
    w.setAttribute('model', 'gemma-2-9b');
    w.setAttribute('weights', 'q8_0');
    w.setAttribute('context', '4096');
    document.querySelector('article').append(w);
  });
  await assertWidget(page, '#w-late', { model: 'gemma-2-9b', weights: 'q8_0', context: 4096 });
  const count = (path) => requests.filter((u) => u === path).length;
  assert.equal(count('/vramcalc.wasm'), 1, 'vramcalc.wasm fetched once');
  assert.equal(count('/vramcalc.js'), 1, 'vramcalc.js loaded once');
  assert.equal(count('/presets/models.json'), 1, 'models.json fetched once');
  assert.equal(count('/presets/hardware.json'), 1, 'hardware.json fetched once');
  assert.equal(requests.filter((u) => u.endsWith('app.js')).length, 0, 'the widget does not load the page');
});

const PROPS = ['font-family', 'font-size', 'color', 'background-color', 'border-top-width', 'border-top-style',
  'border-top-color', 'text-transform', 'letter-spacing', 'fill', 'list-style-type', 'margin-top', 'padding-top'];

/** Computed PROPS of every element matching `sel` in `root` (document or a widget's shadow root). */
function stylesOf(page, hostSel, sel) {
  return page.evaluate(([h, s, props]) => {
    const scope = h ? document.querySelector(h).shadowRoot : document;
    return [...scope.querySelectorAll(s)].map((el) => {
      const cs = getComputedStyle(el);
      return Object.fromEntries(props.map((p) => [p, cs.getPropertyValue(p)]));
    });
  }, [hostSel, sel, PROPS]);
}

test('CSS isolation: the host\'s global rules do not reach inside, the widget\'s rules do not leak out', async (t) => {
  const { page } = await open(t);
  await widget(page, '#w-llama');
  await widget(page, '#w-qwen');

  // Inside: blog.css sets serif !important, purple, dashed orange div borders, black SVG fills,
  // html { font-size: 10px }, .total { font-size: 12px }, .card { red border }, yellow selects.
  const inside = await page.evaluate(() => {
    const r = document.querySelector('#w-llama').shadowRoot;
    const cs = (sel) => getComputedStyle(r.querySelector(sel));
    return {
      w: cs('.w'), controls: cs('.controls'), result: cs('.result'), total: cs('.total'), card: cs('.card:not(.mine)'),
      select: cs('select'), rect: cs('rect.c-weights'), link: cs('.open'), name: cs('.name'),
    };
  });
  for (const [name, cs] of Object.entries(inside)) {
    assert.doesNotMatch(cs.fontFamily, /Georgia|Times/, `${name}: host font-family stays out`);
    assert.notEqual(cs.color, 'rgb(128, 0, 128)', `${name}: host colour stays out`);
    assert.notEqual(cs.letterSpacing, '0.36px', `${name}: host letter-spacing stays out`);
  }
  assert.match(inside.w.fontFamily, /^system-ui/);
  assert.equal(inside.w.fontSize, '15px', 'sized in px/em, not by the host\'s rem');
  assert.equal(inside.w.color, 'rgb(27, 31, 36)');
  assert.equal(inside.controls.borderTopWidth, '0px', 'host div { border } stays out');
  assert.equal(inside.result.borderTopStyle, 'none');
  assert.equal(inside.total.fontSize, '28.5px', 'host .total { font-size: 12px } stays out');
  assert.equal(inside.card.borderTopColor, 'rgb(211, 216, 223)', 'host .card { border: red } stays out');
  assert.notEqual(inside.select.backgroundColor, 'rgb(255, 255, 0)', 'host select { background } stays out');
  assert.equal(inside.rect.fill, 'rgb(47, 111, 223)', 'host rect { fill: black !important } stays out');
  assert.equal(inside.link.color, 'rgb(36, 86, 199)', 'host a { color: green } stays out');
  assert.equal(inside.name.backgroundColor, 'rgba(0, 0, 0, 0)', 'host .name stays out');

  // Outside: host elements named like the widget's own (p.total, li.card, div.w.controls, button,
  // a, select) compute the same with the widgets as on the same page without the widget script.
  const host = ['p.total', 'ul.fits', 'li.card', 'div.w', 'button', 'a', 'p', 'h1', 'body'];
  const withWidgets = {};
  for (const sel of host) withWidgets[sel] = await stylesOf(page, null, sel);
  assert.equal(withWidgets['p.total'][0]['font-size'], '12px');
  assert.equal(withWidgets['li.card'][0]['border-top-color'], 'rgb(255, 0, 0)');
  assert.equal(withWidgets.button[0]['background-color'], 'rgb(255, 105, 180)');
  const bare = await open(t, { block: '**/vram-widget.js', checks: false });
  await bare.page.waitForLoadState('load');
  assert.equal(await bare.page.evaluate(() => customElements.get('vram-calculator')), undefined);
  for (const sel of host) {
    assert.deepEqual(withWidgets[sel], await stylesOf(bare.page, null, sel), `host ${sel}: same computed style`);
  }
});

test('a bad attribute shows an inline message naming it and what it accepts; the page keeps working', async (t) => {
  const { page } = await open(t);
  await widget(page, '#w-llama');
  const bad = [
    ['b-model', { model: 'no-such-model' }, ['model attribute', "unknown preset 'no-such-model'", `Accepted values (${presetCount})`]],
    ['b-context', { model: 'llama-3.1-8b', context: 'abc' }, ['context attribute', 'must be an integer in [1, 16777216]', '"abc"']],
    ['b-zero', { model: 'llama-3.1-8b', context: '0' }, ['context attribute', '[1, 16777216], got 0']],
    ['b-weights', { model: 'llama-3.1-8b', weights: 'bf16' }, ['weights attribute', 'llama.cpp loads GGUF only']],
    ['b-format', { model: 'llama-3.1-8b', weights: 'q9_z' }, ['weights attribute', "unknown format 'q9_z'", 'accepted: fp32']],
    ['b-kv', { model: 'llama-3.1-8b', 'kv-dtype': 'f12' }, ['kv-dtype attribute', 'is not one of f32, f16, bf16, fp8, q8_0, q4_0']],
    ['b-runtime', { model: 'llama-3.1-8b', runtime: 'ollama', weights: 'q4_k_m' }, ['runtime attribute', 'is not one of theoretical, llamacpp, vllm, transformers']],
    ['b-batch', { model: 'llama-3.1-8b', batch: '-1' }, ['batch attribute', '[1, 65536]']],
    ['b-gpu', { model: 'llama-3.1-8b', gpu: 'rtx-9090' }, ['gpu attribute', "unknown device 'rtx-9090'", 'Accepted values (87)']],
    ['b-unit', { model: 'llama-3.1-8b', unit: 'MB' }, ['unit attribute', 'is not one of GB, GiB']],
    ['b-theme', { model: 'llama-3.1-8b', theme: 'blue' }, ['theme attribute', 'is not one of auto, light, dark']],
    ['b-mode', { model: 'llama-3.1-8b', mode: 'serve' }, ['mode attribute', 'is not one of inference, train, lora, qlora']],
  ];
  await page.evaluate((list) => {
    for (const [id, attrs] of list) {
      const w = document.createElement('vram-calculator');
      w.id = id;
      for (const [k, v] of Object.entries(attrs)) w.setAttribute(k, v);
      document.querySelector('article').prepend(w);
    }
  }, bad);
  for (const [id, , words] of bad) {
    const w = await widget(page, `#${id}`, { state: 'error' });
    assert.equal(w.state, 'error', id);
    for (const word of words) assert.ok(w.errors.includes(word), `${id}: "${w.errors}" says ${word}`);
    assert.equal(w.bytes, null, `${id}: no total`);
  }
  // The good widgets and the host page still work.
  await assertWidget(page, '#w-llama', { model: 'llama-3.1-8b', weights: 'q4_k_m', context: 32768 });
  await page.click('#like');
  assert.equal(await page.textContent('#likes'), '1');
  // Fixing the attribute recovers.
  await page.evaluate(() => document.querySelector('#b-context').setAttribute('context', '4096'));
  await assertWidget(page, '#b-context', { model: 'llama-3.1-8b', weights: 'q4_k_m', context: 4096 });
});

test('runs under the test server\'s CSP (no unsafe-eval, no inline styles) with one constructable stylesheet', async (t) => {
  const { page, response } = await open(t);
  const csp = response.headers()['content-security-policy'];
  assert.equal(csp, CSP);
  assert.doesNotMatch(csp, /'unsafe-eval'|'unsafe-inline'/);
  await widget(page, '#w-llama');
  await widget(page, '#w-qwen');
  const sheets = await page.evaluate(() => {
    const roots = [...document.querySelectorAll('vram-calculator')].map((w) => w.shadowRoot);
    return {
      adopted: roots.map((r) => r.adoptedStyleSheets.length),
      shared: roots.every((r) => r.adoptedStyleSheets[0] === roots[0].adoptedStyleSheets[0]),
      styleElements: roots.map((r) => r.querySelectorAll('style, [style]').length),
      svgStyle: roots.map((r) => r.querySelector('svg').outerHTML.includes('style=')),
    };
  });
  assert.deepEqual(sheets, { adopted: [1, 1], shared: true, styleElements: [0, 0], svgStyle: [false, false] });
  // The violation and console checks run when the test ends (open()).
});

test('attribute changes and the controls recompute to the CLI\'s totals', async (t) => {
  const { page } = await open(t);
  await widget(page, '#w-llama');
  await page.evaluate(() => document.querySelector('#w-llama').setAttribute('context', '8192'));
  await assertWidget(page, '#w-llama', { model: 'llama-3.1-8b', weights: 'q4_k_m', context: 8192 });
  await page.evaluate(() => {
    const w = document.querySelector('#w-llama');
    w.setAttribute('model', 'llama-3.1-70b');
    w.setAttribute('context', '131072');
  });
  const big = await assertWidget(page, '#w-llama', { model: 'llama-3.1-70b', weights: 'q4_k_m', context: 131072 });
  assert.equal(big.fits['rtx-4090'], false);

  // The controls (labelled, found by role and name) set the attributes.
  const qwen = page.locator('#w-qwen');
  await qwen.getByRole('combobox', { name: 'Weights' }).selectOption('q4_k_m');
  assert.equal(await qwen.getAttribute('weights'), 'q4_k_m');
  await assertWidget(page, '#w-qwen', { model: 'qwen2.5-14b', weights: 'q4_k_m', context: 16384 });
  await qwen.getByRole('combobox', { name: 'Context' }).selectOption('65536');
  await assertWidget(page, '#w-qwen', { model: 'qwen2.5-14b', weights: 'q4_k_m', context: 65536 });
  // vLLM does not load GGUF: the weights fall back to its default.
  await qwen.getByRole('combobox', { name: 'Runtime' }).selectOption('vllm');
  assert.equal(await qwen.getAttribute('weights'), 'bf16');
  await assertWidget(page, '#w-qwen', { model: 'qwen2.5-14b', weights: 'bf16', context: 65536, runtime: 'vllm' });
  // Fine-tuning: the context control becomes the sequence length.
  await page.evaluate(() => {
    const w = document.querySelector('#w-qwen');
    w.setAttribute('mode', 'qlora');
    w.setAttribute('seq-len', '4096');
    w.removeAttribute('weights');  // QLoRA's default base, nf4-dq (vLLM's bf16 would be refused)
  });
  await assertWidget(page, '#w-qwen', { model: 'qwen2.5-14b', mode: 'qlora', weights: 'nf4-dq', seqLen: 4096 });
  await qwen.getByRole('combobox', { name: 'Sequence length' }).selectOption('1024');
  const q = await assertWidget(page, '#w-qwen', { model: 'qwen2.5-14b', mode: 'qlora', weights: 'nf4-dq', seqLen: 1024 });
  assert.equal(new URL(q.link).searchParams.get('qlora_weights'), 'nf4-dq');
  // GiB display, and the total is in a live region.
  await page.evaluate(() => document.querySelector('#w-llama').setAttribute('unit', 'GiB'));
  const gib = await widget(page, '#w-llama', { bytes: big.bytes });
  await page.waitForFunction(() => document.querySelector('#w-llama').shadowRoot.querySelector('.total').textContent.endsWith('GiB'));
  assert.equal((await widget(page, '#w-llama')).total, fmt.bytes(gib.bytes, 'GiB'));
  assert.equal(await page.evaluate(() => document.querySelector('#w-llama').shadowRoot.querySelector('.total').closest('[aria-live]')?.getAttribute('aria-live')), 'polite');
});

test('theming: --vram-accent and --vram-bg from the host, the theme attribute, and the host\'s dark scheme', async (t) => {
  const style = (page, sel, inner, prop) => page.evaluate(([s, i, p]) =>
    getComputedStyle(document.querySelector(s).shadowRoot.querySelector(i)).getPropertyValue(p), [sel, inner, prop]);
  const { page } = await open(t);
  await widget(page, '#w-llama');
  assert.equal(await style(page, '#w-llama', '.w', 'background-color'), 'rgb(255, 255, 255)');
  assert.equal(await style(page, '#w-llama', '.open', 'color'), 'rgb(36, 86, 199)');
  await page.evaluate(() => {
    const w = document.querySelector('#w-llama');
    w.style.setProperty('--vram-accent', 'rgb(200, 0, 100)');
    w.style.setProperty('--vram-bg', 'rgb(250, 240, 230)');
  });
  assert.equal(await style(page, '#w-llama', '.open', 'color'), 'rgb(200, 0, 100)');
  assert.equal(await style(page, '#w-llama', '.card.mine', 'border-top-color'), 'rgb(200, 0, 100)');
  assert.equal(await style(page, '#w-llama', '.w', 'background-color'), 'rgb(250, 240, 230)');
  assert.equal(await style(page, '#w-qwen', '.open', 'color'), 'rgb(36, 86, 199)', 'only the styled element changes');
  await page.evaluate(() => document.querySelector('#w-qwen').setAttribute('theme', 'dark'));
  assert.equal(await style(page, '#w-qwen', '.w', 'background-color'), 'rgb(23, 25, 30)');

  const dark = (await open(t, { colorScheme: 'dark' })).page;
  await widget(dark, '#w-llama');
  assert.equal(await style(dark, '#w-llama', '.w', 'background-color'), 'rgb(23, 25, 30)');
  assert.equal(await style(dark, '#w-llama', '.w', 'color'), 'rgb(230, 232, 235)');
  assert.equal(await style(dark, '#w-llama', 'rect.c-weights', 'fill'), 'rgb(91, 142, 240)');
  await dark.evaluate(() => document.querySelector('#w-llama').setAttribute('theme', 'light'));
  assert.equal(await style(dark, '#w-llama', '.w', 'background-color'), 'rgb(255, 255, 255)');
});
