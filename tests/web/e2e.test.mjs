// End to end: the built page (build/site, from scripts/build_wasm.sh) in headless Chromium, driven
// by playwright-core, served from 127.0.0.1 with the strict CSP of scripts/serve.mjs. Every number
// the page shows is checked against the native CLI (--json) for the same inputs.
//
// Run: node --test tests/web/   (needs build/site and build/native-release/cli/vramcalc)
// Env: VRAM_SITE_DIR, VRAM_CLI, CHROME_PATH override the defaults. Screenshots go to test-artifacts/.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as fmt from '../../web/format.js';
import { checkPrerequisites, cli, root, runCli, schemaDefault, siteAndBrowser } from './helpers.mjs';

const artifacts = join(root, 'test-artifacts');
checkPrerequisites('e2e');

const env = siteAndBrowser();

/** A fresh page with the checks every test shares: no request leaves the origin, no errors. */
async function open(t, { path = '/', width = 1280, colorScheme = 'light' } = {}) {
  const context = await env.browser.newContext({ viewport: { width, height: 900 }, colorScheme });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: env.origin });
  const page = await context.newPage();
  const problems = [];
  page.on('request', (r) => {
    if (!r.url().startsWith(`${env.origin}/`) && !r.url().startsWith('data:')) problems.push(`request off the origin: ${r.url()}`);
  });
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  t.after(async () => {
    await context.close();
    assert.deepEqual(problems, [], 'the page stayed on its origin and logged no error');
  });
  await page.goto(env.origin + path);
  await page.waitForSelector('html[data-ready="true"]', { timeout: 30000 });
  return page;
}

/** What the page shows: the total and each legend item, exact bytes and text. */
function shown(page) {
  return page.evaluate(() => ({
    request: globalThis.vramcalc.last?.request ?? null,
    unit: globalThis.vramcalc.state.unit,
    totalBytes: Number(document.getElementById('total').dataset.bytes),
    totalText: document.getElementById('total').textContent,
    items: [...document.querySelectorAll('#legend li')].map((li) => ({
      key: li.dataset.key, bytes: Number(li.dataset.bytes), text: li.querySelector('.legend-value').textContent,
    })),
    body: document.body.innerText,
  }));
}

/** The page's numbers equal the CLI's for the request the page made; returns that request. */
async function assertMatchesCli(page, expect = {}) {
  const s = await shown(page);
  assert.ok(s.request, `the page has a result (${await page.textContent('#error-summary')})`);
  for (const [k, v] of Object.entries(expect)) {
    assert.equal(s.request[k] ?? schemaDefault(s.request.mode, k), v, `request.${k}`);
  }
  const { args, out } = runCli(s.request);
  const what = `vramcalc ${args.join(' ')}`;
  assert.equal(s.totalBytes, out.bytes.total, `${what}: total bytes`);
  assert.equal(s.totalText, fmt.bytes(out.bytes.total, s.unit), `${what}: total as shown`);
  assert.deepEqual(s.items.map((i) => [i.key, i.bytes]), out.items.map((i) => [i.key, i.bytes]), `${what}: items`);
  assert.deepEqual(s.items.map((i) => i.text), out.items.map((i) => fmt.bytes(i.bytes, s.unit)), `${what}: items as shown`);
  assert.doesNotMatch(s.body, /NaN|undefined|Infinity/);
  return s.request;
}

async function pickModel(page, query) {
  await page.click('#model-search');
  await page.fill('#model-search', query);
  await page.press('#model-search', 'Enter');
}

async function setNumber(page, name, value) {
  await page.fill(`[name="${name}"]`, String(value));
  await page.press(`[name="${name}"]`, 'Tab');  // commits the value (change event)
}

test('inference: a model and every kind of option give the CLI\'s numbers', async (t) => {
  const page = await open(t);
  await assertMatchesCli(page, { model: 'llama-3.1-8b', runtime: 'llamacpp', weights: 'q4_k_m', context: 8192 });

  await pickModel(page, 'Llama 3.1 70');
  await assertMatchesCli(page, { model: 'llama-3.1-70b' });
  await page.selectOption('[name="weights"]', 'q5_k_m');
  await assertMatchesCli(page, { weights: 'q5_k_m' });
  await setNumber(page, 'context', 32768);
  await setNumber(page, 'batch', 2);
  await assertMatchesCli(page, { context: 32768, batch: 2 });
  await page.selectOption('[name="kv_dtype"]', 'q8_0');
  await assertMatchesCli(page, { kv_dtype: 'q8_0' });
  await page.selectOption('[name="kv_dtype"]', 'f16');
  await page.uncheck('[name="flash_attention"]');
  await setNumber(page, 'ubatch', 1024);
  await assertMatchesCli(page, { flash_attention: false, ubatch: 1024 });
  await page.selectOption('[name="llamacpp_backend"]', 'cpu');
  await assertMatchesCli(page, { llamacpp_backend: 'cpu' });
  await page.selectOption('[name="llamacpp_backend"]', 'cuda');

  await page.selectOption('[name="gpu"]', 'h100-sxm');
  await page.selectOption('[name="runtime"]', 'vllm');
  await setNumber(page, 'gpu_memory_utilization', 0.85);
  await setNumber(page, 'max_num_seqs', 128);
  await page.uncheck('[name="cuda_graphs"]');
  await assertMatchesCli(page, { runtime: 'vllm', weights: 'bf16', device_memory_bytes: 85899345920, cuda_graphs: false, max_num_seqs: 128 });
  await page.selectOption('[name="weights"]', 'fp8-e4m3');
  await assertMatchesCli(page, { weights: 'fp8-e4m3' });

  await page.selectOption('[name="runtime"]', 'transformers');
  await page.selectOption('[name="attn_impl"]', 'eager');
  await page.selectOption('[name="weights"]', 'nf4-dq');
  await setNumber(page, 'context', 4096);
  await assertMatchesCli(page, { runtime: 'transformers', attn_impl: 'eager', weights: 'nf4-dq' });

  await pickModel(page, 'mixtral 8x7');
  await page.selectOption('[name="runtime"]', 'theoretical');
  await page.check('input[name="unit"][value="GiB"]');
  const r = await assertMatchesCli(page, { model: 'mixtral-8x7b', runtime: 'theoretical' });
  assert.equal(r.weights, 'nf4-dq');
  assert.match((await shown(page)).totalText, / GiB$/);
  assert.match(await page.textContent('#model-info'), /MoE: 46\.7B stored \/ 12\.9B active/);
});

test('quick reference and chart cells are the CLI\'s totals', async (t) => {
  const page = await open(t, { path: '/?context=16384&gpu=rtx-3090' });
  const cell = await page.$eval('#quick-table td[data-format="q4_k_m"]:nth-child(4)', (td) => ({
    bytes: Number(td.dataset.bytes), row: td.parentElement.querySelector('th').textContent,
  }));
  // Row 1 is Llama 3.2 1B; column 3 (4th cell) is 4-bit Q4_K_M with llama.cpp.
  assert.match(cell.row, /^Llama 3\.2 1B/);
  const { out } = runCli({ model: 'llama-3.2-1b', weights: 'q4_k_m', runtime: 'llamacpp', context: 16384 });
  assert.equal(cell.bytes, out.bytes.total);
  const quick70 = await page.$eval('#quick-table tbody tr:nth-child(7) td[data-format="q4_k_m"]', (td) => [
    Number(td.dataset.bytes), td.className, td.textContent]);
  const cli70 = runCli({ model: 'llama-3.1-70b', weights: 'q4_k_m', runtime: 'llamacpp', context: 16384 }).out.bytes.total;
  assert.equal(quick70[0], cli70);
  assert.match(quick70[1], cli70 <= 25769803776 ? /\bfits\b/ : /\bnofit\b/);  // RTX 3090: 24 GiB
  assert.match(quick70[2], /✗|✓/);
  // The chart marks the chosen context with the same total as the result.
  const label = await page.textContent('#chart .here-label');
  assert.equal(label, `16K: ${fmt.bytes((await shown(page)).totalBytes, 'GB')}`);
});

test('training, LoRA and QLoRA tabs give the CLI\'s numbers', async (t) => {
  // A CLI that cannot size training fails here, loudly: no skipping.
  execFileSync(cli, ['--model', 'gpt2', '--mode', 'train', '--json'], { encoding: 'utf8', stdio: 'pipe' });
  const page = await open(t);
  await page.click('#tab-train');
  await setNumber(page, 'seq_len', 4096);
  await page.selectOption('[name="optimizer"]', 'adamw_8bit');
  await page.selectOption('[name="checkpointing"]', 'full');
  await assertMatchesCli(page, { mode: 'train', seq_len: 4096, optimizer: 'adamw_8bit', checkpointing: 'full' });
  assert.equal(await page.isVisible('[name="context"]'), false, 'inference options are hidden in training');
  await page.click('text=Multi-GPU and offload');
  await page.selectOption('[name="zero"]', '3');
  await setNumber(page, 'dp', 8);
  await assertMatchesCli(page, { zero: 3, dp: 8 });
  await page.check('[name="fp32_gradients"]');
  await setNumber(page, 'dropout', 0.1);
  await setNumber(page, 'tp', 2);
  await page.check('[name="sequence_parallel"]');
  await setNumber(page, 'pp', 2);
  await setNumber(page, 'pp_microbatches', 4);
  await assertMatchesCli(page, { fp32_gradients: true, dropout: 0.1, tp: 2, sequence_parallel: true, pp: 2, pp_microbatches: 4 });
  await page.selectOption('[name="zero"]', '0');
  await page.selectOption('[name="fsdp"]', 'hybrid_shard');
  await setNumber(page, 'fsdp_shard_group', 4);
  await assertMatchesCli(page, { fsdp: 'hybrid_shard', fsdp_shard_group: 4 });
  for (const [k, v] of [['fsdp', 'none'], ['tp', '1'], ['pp', '1'], ['pp_microbatches', '0'], ['zero', '3']]) {
    if (k === 'fsdp' || k === 'zero') await page.selectOption(`[name="${k}"]`, v);
    else await setNumber(page, k, v);
  }
  await page.uncheck('[name="sequence_parallel"]');

  await page.click('#tab-lora');
  await setNumber(page, 'lora_rank', 64);
  await page.selectOption('[name="lora_targets"]', 'all-linear');
  await page.check('[name="dora"]');
  await setNumber(page, 'lora_dropout', 0.05);
  await assertMatchesCli(page, { mode: 'lora', lora_rank: 64, lora_targets: 'all-linear', dora: true, lora_dropout: 0.05 });

  await page.click('#tab-qlora');
  // ZeRO-3 shards 16/32-bit parameters, which a 4-bit base is not: the core says so.
  assert.match(await page.textContent('#e-mode'), /ZeRO-3/);
  assert.equal(await page.textContent('#total'), '—');
  await page.selectOption('[name="zero"]', '2');
  await page.selectOption('[name="precision"]', 'bf16');
  await page.check('[name="fused_loss"]');
  await assertMatchesCli(page, { mode: 'qlora', weights: 'nf4-dq', zero: 2, precision: 'bf16', fused_loss: true });
  const params = await page.textContent('#notes');
  assert.match(params, /Trainable parameters: [\d,]+ of [\d,]+/);
});

test('the URL holds the state: a link reproduces the result, back and forward step through it', async (t) => {
  const page = await open(t);
  const first = (await shown(page)).totalBytes;
  await pickModel(page, 'qwen2.5 32');
  await page.waitForURL(/model=qwen2\.5-32b/);
  await setNumber(page, 'context', 65536);
  await page.waitForURL(/context=65536/);
  await page.check('input[name="unit"][value="GiB"]');
  await page.waitForURL(/unit=GiB/);
  const url = page.url();
  assert.match(url, /model=qwen2\.5-32b/);
  assert.match(url, /context=65536/);
  const before = await shown(page);

  const copy = await open(t, { path: url.slice(env.origin.length) });
  const after = await shown(copy);
  assert.equal(after.totalBytes, before.totalBytes);
  assert.equal(after.totalText, before.totalText);
  assert.equal(await copy.inputValue('[name="context"]'), '65536');
  assert.equal(await copy.inputValue('#model-search'), 'Qwen2.5 32B');

  await page.goBack();  // unit back to GB
  assert.equal((await shown(page)).unit, 'GB');
  await page.goBack();  // context back to 8192
  assert.equal(await page.inputValue('[name="context"]'), '8192');
  await page.goBack();  // model back to the default
  assert.equal((await shown(page)).totalBytes, first);
  await page.goForward();
  assert.equal(await page.inputValue('#model-search'), 'Qwen2.5 32B');
});

test('invalid input shows the core\'s message next to the field, and no NaN', async (t) => {
  const page = await open(t);
  await page.fill('[name="context"]', '-5');
  assert.equal(await page.isVisible('#e-context'), true);
  assert.equal(await page.textContent('#e-context'), "request: field 'context' must be an integer in [1, 16777216], got -5");
  assert.equal(await page.getAttribute('[name="context"]', 'aria-invalid'), 'true');
  assert.match(await page.getAttribute('[name="context"]', 'aria-describedby'), /\be-context\b/);
  assert.equal(await page.textContent('#total'), '—');
  assert.match(await page.textContent('#error-summary'), /Context length/);
  await page.fill('[name="context"]', '');
  assert.match(await page.textContent('#e-context'), /must be an integer/);
  await page.fill('[name="batch"]', '1.5');
  const body = await page.evaluate(() => document.body.innerText);
  assert.doesNotMatch(body, /NaN|undefined|Infinity/);

  await page.fill('[name="context"]', '4096');
  await page.fill('[name="batch"]', '1');
  assert.equal(await page.isVisible('#e-context'), false);
  await assertMatchesCli(page, { context: 4096 });

  // A combination the core rejects: a q4_0 cache without flash attention in llama.cpp.
  await page.selectOption('[name="kv_dtype"]', 'q4_0');
  await page.uncheck('[name="flash_attention"]');
  assert.match(await page.textContent('#e-kv_dtype'), /needs flash attention/);
  await page.fill('[name="budget"]', '-1');
  assert.equal(await page.isVisible('#e-budget'), true);
  assert.doesNotMatch(await page.evaluate(() => document.body.innerText), /NaN|undefined/);
});

test('fit table: sorted, filtered by vendor and budget, from the core\'s total', async (t) => {
  const page = await open(t, { path: '/?model=llama-3.1-70b&context=32768' });
  const total = (await shown(page)).totalBytes;
  await page.selectOption('[name="vendor"]', 'apple');
  const rows = await page.$$eval('#fit-body tr', (trs) => trs.map((tr) => tr.dataset.id));
  assert.ok(rows.length > 0 && rows.every((id) => id.startsWith('apple-')));
  await page.selectOption('[name="vendor"]', 'all');
  await setNumber(page, 'budget', 3000);
  const costs = await page.$$eval('#fit-body tr td:nth-child(5)', (tds) => tds.map((td) => Number(td.textContent.replace(/[$,]/g, ''))));
  assert.ok(costs.length > 0 && costs.every((c) => c <= 3000), `costs within budget: ${costs}`);
  for (let i = 1; i < costs.length; i++) assert.ok(costs[i - 1] <= costs[i], 'sorted by cost');
  await setNumber(page, 'budget', '');
  assert.equal(await page.$$eval('#fit-body tr', (trs) => trs.length), 20, 'the first 20 rows');
  await page.click('#fit-more');
  assert.equal(await page.$$eval('#fit-body tr', (trs) => trs.length), 87, 'all 87 devices');
  await page.waitForURL(/rows=all/);
  await page.click('#fit-table th[data-sort="usable"] button');
  assert.equal(await page.getAttribute('#fit-table th[data-sort="usable"]', 'aria-sort'), 'ascending');
  // The RTX 4090 row: usable 24 GiB, headroom = 24 GiB - total, GPUs needed as `vramcalc fit` says.
  const row = await page.$eval('#fit-body tr[data-id="rtx-4090"]', (tr) => [...tr.children].map((c) => c.textContent));
  assert.equal(row[1], fmt.bytes(25769803776, 'GB'));
  assert.equal(row[2], fmt.signedBytes(25769803776 - total, 'GB'));
  const gpus = cliFit('llama-3.1-70b', 'rtx-4090', 32768).smallest_device_count;
  assert.equal(gpus, 3);
  assert.equal(row[3], String(gpus));
  // Decode tokens/s comes from the core's planner: the CLI's figure for the same GPU count.
  const planned = JSON.parse(execFileSync(cli, ['--model', 'llama-3.1-70b', '--weights', 'q4_k_m', '--runtime', 'llamacpp',
    '--context', '32768', '--gpu', 'rtx-4090', '--gpus', String(gpus), '--json'], { encoding: 'utf8' }));
  assert.ok(planned.fits && planned.decode_tokens_per_s > 0, 'the planner fits it on that many cards');
  assert.equal(row[5], fmt.sig3(planned.decode_tokens_per_s));
});

/** `vramcalc fit` (llama.cpp, Q4_K_M) as JSON. */
function cliFit(model, gpu, context) {
  return JSON.parse(execFileSync(cli, ['fit', '--model', model, '--weights', 'q4_k_m', '--runtime', 'llamacpp',
    '--context', String(context), '--gpu', gpu, '--json'], { encoding: 'utf8' }));
}

// Issue 12: the page's GPU column came from a JavaScript formula and said one fewer than the core
// in these cases (2, 10 and 15). Now the core draws the table.
test('fit table: the GPUs column equals vramcalc fit where the old page formula was one short', async (t) => {
  for (const [model, context, gpu, expected] of [['mixtral-8x7b', 32768, 'rtx-4060-ti-16gb', 3],
    ['llama-3.1-405b', 8192, 'rtx-4090', 11], ['llama-3.1-405b', 8192, 'rtx-4060-ti-16gb', 16]]) {
    const page = await open(t, { path: `/?model=${model}&runtime=llamacpp&weights=q4_k_m&context=${context}&rows=all` });
    await shown(page);
    const cells = await page.$eval(`#fit-body tr[data-id="${gpu}"]`, (tr) => [...tr.children].map((c) => c.textContent));
    const fit = cliFit(model, gpu, context);
    assert.equal(fit.smallest_device_count, expected, `${model} on ${gpu}: vramcalc fit`);
    assert.equal(cells[3], String(expected), `${model} on ${gpu}: the page`);
    assert.equal(cells[5], fmt.sig3(JSON.parse(execFileSync(cli, ['--model', model, '--weights', 'q4_k_m',
      '--runtime', 'llamacpp', '--context', String(context), '--gpu', gpu, '--gpus', String(expected), '--json'],
    { encoding: 'utf8' })).decode_tokens_per_s), `${model} on ${gpu}: speed at that count`);
    await page.close();
  }
});

test('keyboard: skip link, model picker, tabs, options, sorting and copying work without a mouse', async (t) => {
  const page = await open(t);
  const focusedId = () => page.evaluate(() => document.activeElement?.id || document.activeElement?.className);
  await page.keyboard.press('Tab');
  assert.equal(await focusedId(), 'skip');
  for (let i = 0; i < 10 && (await focusedId()) !== 'model-search'; i++) await page.keyboard.press('Tab');
  assert.equal(await focusedId(), 'model-search');
  await page.keyboard.type('gemma 3 27');
  assert.equal(await page.getAttribute('#model-search', 'aria-expanded'), 'true');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowUp');
  assert.match(await page.getAttribute('#model-search', 'aria-activedescendant'), /^mo-gemma-3-27b$/);
  await page.keyboard.press('Enter');
  assert.equal(await page.getAttribute('#model-search', 'aria-expanded'), 'false');
  await assertMatchesCli(page, { model: 'gemma-3-27b' });

  await page.focus('#tab-inference');
  await page.keyboard.press('ArrowRight');
  assert.equal(await focusedId(), 'tab-train');
  assert.equal(await page.getAttribute('#tab-train', 'aria-selected'), 'true');
  await page.keyboard.press('ArrowLeft');
  assert.equal(await page.getAttribute('#tab-inference', 'aria-selected'), 'true');

  await page.focus('[name="batch"]');
  await page.keyboard.press('ArrowUp');
  await assertMatchesCli(page, { batch: 2 });
  await page.focus('[name="flash_attention"]');
  await page.keyboard.press('Space');
  await assertMatchesCli(page, { flash_attention: false });

  await page.focus('#fit-table th[data-sort="gpus"] button');
  await page.keyboard.press('Enter');
  assert.equal(await page.getAttribute('#fit-table th[data-sort="gpus"]', 'aria-sort'), 'ascending');
  await page.keyboard.press('Enter');
  assert.equal(await page.getAttribute('#fit-table th[data-sort="gpus"]', 'aria-sort'), 'descending');

  await page.focus('#copy-md');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.getElementById('copy-status').textContent.startsWith('Copied'));
  const md = await page.evaluate(() => navigator.clipboard.readText());
  const s = await shown(page);
  assert.match(md, /^\*\*Gemma 3 27B/);
  assert.ok(md.includes('| Component | Memory | Why |'));
  assert.ok(md.includes(`| **Total** | **${s.totalText}** |`));
  await page.focus('#copy-text');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.getElementById('copy-status').textContent === 'Copied text.');
  const text = await page.evaluate(() => navigator.clipboard.readText());
  assert.ok(text.split('\n').some((l) => l.startsWith('Total') && l.includes(s.totalText)));

  await page.focus('#theme');
  await page.keyboard.press('Enter');
  assert.equal(await page.getAttribute('html', 'data-theme'), 'light');
  await page.keyboard.press('Enter');
  assert.equal(await page.getAttribute('html', 'data-theme'), 'dark');
  // Every interactive control has an accessible name.
  const unnamed = await page.evaluate(() => [...document.querySelectorAll('input, select, button, [role="tab"]')]
    .filter((el) => el.offsetParent !== null)
    .filter((el) => !(el.labels?.length || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || el.textContent.trim()))
    .map((el) => el.outerHTML.slice(0, 80)));
  assert.deepEqual(unnamed, []);
});

test('screenshots at 1280 and 390 px, light and dark (test-artifacts/)', async (t) => {
  mkdirSync(artifacts, { recursive: true });
  for (const width of [1280, 390]) {
    for (const colorScheme of ['light', 'dark']) {
      const page = await open(t, { path: '/?model=llama-3.1-70b&context=32768', width, colorScheme });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `no horizontal scrolling at ${width} px (overflow ${overflow} px)`);
      if (width === 390 && colorScheme === 'light') {
        await page.setViewportSize({ width: 360, height: 800 });
        const narrow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        assert.ok(narrow <= 0, `no horizontal scrolling at 360 px (overflow ${narrow} px)`);
        await page.setViewportSize({ width, height: 900 });
      }
      // Sections below the fold are laid out only when scrolled to (content-visibility: auto);
      // render them all for a full-page picture.
      await page.evaluate(() => document.documentElement.classList.add('render-all'));
      await page.screenshot({ path: join(artifacts, `page-${width}-${colorScheme}.png`), fullPage: true });
    }
  }
});

test('planner views: "what would make it fit" and the cheapest hardware are the CLI\'s, and Apply applies', async (t) => {
  const page = await open(t, { path: '/?model=llama-3.1-70b&context=32768' });
  await page.waitForSelector('#advice-list li');
  const request = await page.evaluate(() => globalThis.vramcalc.last.request);
  const planner = (action, extra) => {
    const { args } = runCli(request);
    return JSON.parse(execFileSync(cli, [action, ...args, '--gpu', 'rtx-4090', '--headroom', '0.1', ...extra], { encoding: 'utf8' }));
  };
  const advise = planner('advise', []);
  const shownAdvice = await page.evaluate(() => [...document.querySelectorAll('#advice-list li')]
    .map((li) => [li.dataset.kind, Number(li.dataset.saves), li.querySelector('.advice-change').textContent]));
  assert.deepEqual(shownAdvice, advise.advice.slice(0, 8).map((a) => [a.kind, a.saves_bytes, a.change]));
  assert.match(await page.textContent('#advice-caption'), /needs 27\.5 GB more than NVIDIA GeForce RTX 4090/);
  // Apply the quantized KV cache: the page's request gains kv_dtype and its total is the CLI's.
  const i = advise.advice.findIndex((a) => a.apply?.kv_dtype === 'q8_0');
  assert.ok(i >= 0 && i < 8);
  await page.click(`#advice-list [data-advice="${i}"]`);
  await page.waitForFunction(() => globalThis.vramcalc.last.request.kv_dtype === 'q8_0');
  await assertMatchesCli(page, { kv_dtype: 'q8_0', context: 32768, model: 'llama-3.1-70b' });
  // Cheapest hardware: the planner's recommendation for the same request (drawn a task later).
  await page.waitForFunction(() => document.getElementById('recommend').dataset.for ===
    JSON.stringify(globalThis.vramcalc.last.request));
  const { args } = runCli(await page.evaluate(() => globalThis.vramcalc.last.request));
  const recommend = JSON.parse(execFileSync(cli, ['recommend', ...args, '--headroom', '0.1', '--limit', '5'], { encoding: 'utf8' }));
  const columns = await page.evaluate(() => [...document.querySelectorAll('#recommend ol')]
    .map((ol) => [...ol.children].map((li) => [li.dataset.gpu, Number(li.dataset.gpus)])));
  assert.deepEqual(columns, [recommend.single_device, recommend.multi_device, recommend.best_value]
    .filter((l) => l.length).map((l) => l.map((r) => [r.gpu, r.gpus])));
  assert.ok(columns[0].length > 0, 'at least one single device holds Llama-3.1-70B at q4_k_m with a q8_0 cache');
});

test('training advice: full fine-tuning that does not fit lists the core\'s changes; Apply QLoRA switches the mode', async (t) => {
  const page = await open(t, { path: '/?model=llama-3.1-8b&mode=train' });
  await page.waitForSelector('#advice-list li');
  const { args } = runCli(await page.evaluate(() => globalThis.vramcalc.last.request));
  const advise = JSON.parse(execFileSync(cli, ['advise', ...args, '--gpu', 'rtx-4090', '--headroom', '0.1'], { encoding: 'utf8' }));
  assert.equal(advise.fits_now, false);
  const shown = await page.evaluate(() => [...document.querySelectorAll('#advice-list li')]
    .map((li) => [li.dataset.kind, Number(li.dataset.saves)]));
  assert.deepEqual(shown, advise.advice.slice(0, 8).map((a) => [a.kind, a.saves_bytes]));
  const i = advise.advice.findIndex((a) => a.kind === 'qlora');
  await page.click(`#advice-list [data-advice="${i}"]`);
  await page.waitForFunction(() => globalThis.vramcalc.last.request.mode === 'qlora');
  assert.equal(await page.getAttribute('#tab-qlora', 'aria-selected'), 'true');
  await assertMatchesCli(page, { mode: 'qlora', weights: 'nf4-dq', lora_rank: 16, lora_targets: 'q,k,v,o,gate,up,down' });
  assert.match(await page.textContent('#fit-line'), /fits on NVIDIA GeForce RTX 4090/);
});
