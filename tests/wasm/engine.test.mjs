// web/engine.js against the built module: the numbers-only batch must give exactly the totals of
// the full calculation, the defaults it fills must be the core's own, and errors must come back
// as thrown EngineErrors carrying the core's message.
// Run: node --test tests/wasm/  (after building the wasm preset)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CORE_DEFAULTS, EngineError, loadEngine, minimalRequest, withDefaults } from '../../web/engine.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const buildDir = process.env.VRAM_WASM_DIR ?? join(root, 'build', 'wasm', 'wasm');
const require = createRequire(import.meta.url);
const engine = await loadEngine({
  factory: require(join(buildDir, 'vramcalc.js')),
  wasmBinary: readFileSync(join(buildDir, 'vramcalc.wasm')),
});
const presets = JSON.parse(readFileSync(join(root, 'presets', 'models.json'), 'utf8')).models;
const configOf = (id) => presets.find((p) => p.id === id).config;

const BYTE_KEYS = ['weights', 'kv_cache', 'activations', 'overhead', 'total'];
function assertSameTotals(numbers, full, what) {
  assert.ok(!numbers.error, `${what}: ${numbers.error?.message}`);
  for (const k of BYTE_KEYS) assert.equal(numbers.bytes[k], full.bytes[k], `${what}: bytes.${k}`);
  for (const k of ['gradients', 'optimizer']) {
    if (full.bytes[k] !== undefined) assert.equal(numbers.bytes[k], full.bytes[k], `${what}: bytes.${k}`);
  }
  assert.equal(numbers.parameters, full.parameters, `${what}: parameters`);
  assert.equal(numbers.active_parameters, full.active_parameters, `${what}: active_parameters`);
}

test('numbers() equals calculate() over models, formats, runtimes and contexts', () => {
  const cases = [
    ['llama-3.1-8b', { runtime: 'llamacpp', weights: 'q4_k_m' }],
    ['llama-3.1-8b', { runtime: 'llamacpp', weights: 'q8_0', kv_dtype: 'q8_0', batch: 3, ubatch: 256 }],
    ['llama-3-8b', { runtime: 'llamacpp', weights: 'q4_k_m', flash_attention: false }],
    ['gemma-3-27b', { runtime: 'llamacpp', weights: 'iq4_xs' }],
    ['mixtral-8x7b', { runtime: 'vllm', weights: 'awq-4bit-g128', device_memory_bytes: 85899345920, gpu_memory_utilization: 0.9 }],
    ['qwen2.5-14b', { runtime: 'transformers', weights: 'nf4-dq', attn_impl: 'eager', batch: 2 }],
    ['deepseek-v3', { runtime: 'vllm', device_memory_bytes: 1099511627776, cuda_graphs: false, max_num_seqs: 64 }],
    ['gpt-oss-20b', { runtime: 'theoretical' }],
    ['falcon-40b', { runtime: 'transformers', weights: 'int8' }],
  ];
  for (const [id, options] of cases) {
    const requests = [1024, 4096, 8192, 32768, 131072].map((context) => minimalRequest({ model: id, ...options, context }));
    const answers = engine.numbers(configOf(id), requests);
    requests.forEach((r, i) => assertSameTotals(answers[i], engine.calculate(r, configOf(id)), `${id} ${JSON.stringify(r)}`));
  }
});

test('numbers() equals calculate() in the training modes', () => {
  const requests = [
    { model: 'llama-3.1-8b', mode: 'train', seq_len: 4096, checkpointing: 'full', zero: 3, dp: 8 },
    { model: 'llama-3.1-8b', mode: 'train', precision: 'bf16', optimizer: 'adamw_8bit', micro_batch: 2 },
    { model: 'llama-3.1-8b', mode: 'lora', lora_rank: 64, lora_targets: 'all-linear', dora: true },
    { model: 'llama-3.1-8b', mode: 'qlora', weights: 'nf4', seq_len: 8192, fused_loss: true },
  ];
  const answers = engine.numbers(configOf('llama-3.1-8b'), requests);
  requests.forEach((r, i) => {
    const full = engine.calculate(r, configOf('llama-3.1-8b'));
    assertSameTotals(answers[i], full, JSON.stringify(r));
    assert.equal(answers[i].trainable_parameters, full.trainable_parameters);
  });
});

test('the numbers cache stays exact when more models pass through it than it holds', () => {
  // 40 models x 2 rounds goes past the binding's 32-model bound, so entries are dropped and rebuilt.
  const ids = presets.slice(0, 40).map((p) => p.id);
  for (let round = 0; round < 2; round++) {
    for (const id of ids) {
      const r = minimalRequest({ model: id, weights: round ? 'q8_0' : 'bf16', runtime: 'theoretical', context: 2048 });
      assertSameTotals(engine.numbers(configOf(id), [r])[0], engine.calculate(r, configOf(id)), `${id} round ${round}`);
    }
  }
});

test('the defaults engine.js fills are the core\'s own', () => {
  // A request with every field spelled out at CORE_DEFAULTS must give the same answer, echo
  // included, as the same request with those fields left to the core.
  for (const mode of ['inference', 'train', 'lora', 'qlora']) {
    const full = withDefaults({ model: 'qwen2.5-7b', mode });
    const bare = { model: 'qwen2.5-7b', mode };
    assert.deepEqual(minimalRequest(full), bare, mode);
    const a = engine.calculate(full, configOf('qwen2.5-7b'));
    const b = engine.calculate(bare, configOf('qwen2.5-7b'));
    assert.deepEqual(a, b, mode);
  }
  assert.equal(Object.keys(withDefaults({ mode: 'inference' })).length, 1 + Object.keys(CORE_DEFAULTS.inference).length);
});

test('engine.js knows every option the core echoes back', () => {
  // A new request field in the core shows up in "inputs"; the page must offer it too.
  for (const mode of ['inference', 'train', 'lora', 'qlora']) {
    const known = new Set(Object.keys(withDefaults({ mode })));
    const echoed = Object.keys(engine.calculate({ mode }, configOf('qwen2.5-7b')).inputs);
    assert.deepEqual(echoed.filter((k) => !known.has(k) && k !== 'weights'), [], mode);
  }
});

test('errors are thrown as EngineError with the core\'s message and the field it names', () => {
  const config = configOf('llama-3.1-8b');
  assert.throws(() => engine.calculate({ context: -3 }, config), (e) => e instanceof EngineError &&
    e.code === 'out_of_range' && e.field === 'context' &&
    e.message === "request: field 'context' must be an integer in [1, 16777216], got -3");
  assert.throws(() => engine.calculate({ runtime: 'vllm', kv_dtype: 'q8_0' }, config), (e) =>
    e.code === 'unsupported' && e.field === 'kv_dtype' && /^kv-dtype: q8_0 is a llama\.cpp cache type/.test(e.message));
  assert.throws(() => engine.calculate({ runtime: 'llamacpp', weights: 'bf16' }, config), (e) =>
    e.field === 'weights' && /llama\.cpp loads GGUF only/.test(e.message));
  assert.throws(() => engine.calculate({ gpu_memory_utilization: 0 }, config), (e) =>
    e.field === 'gpu_memory_utilization' && /\(0, 1\]/.test(e.message));
  assert.throws(() => engine.calculate({ context: '' }, config), (e) => e.field === 'context');
  // In a batch the error is a value per line, and the other lines still answer.
  const [bad, good] = engine.numbers(config, [{ batch: 0 }, { batch: 2 }]);
  assert.ok(bad.error instanceof EngineError);
  assert.equal(bad.error.field, 'batch');
  assert.equal(good.bytes.kv_cache, 2 * 32 * 8 * 128 * 4096 * 2 * 2);
});

test('estimate() gives the totals of one request', () => {
  const r = engine.estimate({ config_json: configOf('llama-3.1-8b'), weights: 'bf16', context: 131072 });
  assert.equal(r.kv_cache_bytes, 2 * 32 * 8 * 128 * 131072 * 2);
  assert.equal(r.parameters, 8030261248);
  assert.throws(() => engine.estimate({ config_json: configOf('llama-3.1-8b'), batch: 0 }), /^EngineError: request: field 'batch' must be an integer in \[1, 65536\]/);
});

test('formats() lists each id once, with its family and description', () => {
  const formats = engine.formats();
  assert.equal(new Set(formats.map((f) => f.id)).size, formats.length);
  const q4 = formats.find((f) => f.id === 'q4_k_m');
  assert.equal(q4.family, 'gguf');
  assert.ok(formats.find((f) => f.id === 'nf4-dq').description.includes('4.127'));
});

test('the fit table comes from the core: Mixtral Q4_K_M at 32K needs 3 RTX 4060 Ti (the old page formula said 2)', () => {
  engine.setHardware(readFileSync(join(root, 'presets', 'hardware.json'), 'utf8'));
  const request = { weights: 'q4_k_m', runtime: 'llamacpp', context: 32768 };
  const rows = engine.fitTable(request, configOf('mixtral-8x7b'));
  const row = rows.find((r) => r.gpu === 'rtx-4060-ti-16gb');
  assert.equal(row.gpus, 3);
  assert.equal(row.fits, false);
  // The same as the planner's own fit action.
  const fit = engine.plan(request, configOf('mixtral-8x7b'), { action: 'fit', gpu: 'rtx-4060-ti-16gb', gpus: 1 });
  assert.equal(fit.smallest_device_count, 3);
  assert.equal(row.headroom_bytes, fit.fit.headroom_bytes);
  // One device only, with "gpu".
  const one = engine.fitTable({ ...request, gpu: 'rtx-4090' }, configOf('mixtral-8x7b'));
  assert.equal(one.length, 1);
  assert.equal(one[0].gpu, 'rtx-4090');
});

test('runtimes() are the core profiles', () => {
  const ids = engine.runtimes().map((r) => r.id);
  assert.deepEqual(ids, ['llamacpp', 'vllm', 'transformers', 'theoretical']);
  assert.equal(engine.runtimes().find((r) => r.id === 'vllm').needs_device_memory, true);
});
