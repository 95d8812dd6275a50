// The core compiled to WebAssembly must return exactly the native results on the golden cases.
// Run: node --test tests/wasm/  (after building the wasm preset)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const buildDir = process.env.VRAM_WASM_DIR ?? join(root, 'build', 'wasm', 'wasm');
const require = createRequire(import.meta.url);
const createVramModule = require(join(buildDir, 'vramcalc.js'));

const module = await createVramModule({ wasmBinary: readFileSync(join(buildDir, 'vramcalc.wasm')) });
const session = new module.Session();
const presets = JSON.parse(readFileSync(join(root, 'presets', 'models.json'), 'utf8')).models;
const configOf = (id) => presets.find((p) => p.id === id).config;
const { cases } = JSON.parse(readFileSync(join(root, 'tests', 'golden', 'cases.json'), 'utf8'));

for (const c of cases) {
  test(`wasm golden ${c.name}`, () => {
    const request = { ...c.request, config: configOf(c.request.model) };
    const actual = session.calculate(JSON.stringify(request)) + '\n';
    const expected = readFileSync(join(root, 'tests', 'golden', `${c.name}.json`), 'utf8');
    assert.equal(actual, expected);
  });
}

test('the session returns plain values and the hand-derived KV cache', () => {
  const r = JSON.parse(session.calculate(JSON.stringify({
    config: configOf('llama-3.1-8b'), weights: 'bf16', kv_dtype: 'f16', runtime: 'theoretical', context: 131072, batch: 1,
  })));
  assert.equal(r.error, undefined, r.error?.message);
  assert.equal(r.parameters, 8030261248);
  assert.equal(r.bytes.kv_cache, 2 * 32 * 8 * 128 * 131072 * 2);
});

test('errors are values with the field and range', () => {
  const r = JSON.parse(session.calculate(JSON.stringify({
    config: configOf('llama-3.1-8b'), weights: 'bf16', kv_dtype: 'f16', runtime: 'theoretical', context: -3, batch: 1,
  })));
  assert.equal(r.error.code, 'out_of_range');
  assert.match(r.error.message, /^request: field 'context' must be an integer in \[1, 16777216\]/);
  const bad = JSON.parse(session.calculate('{"config": {"model_type": "llama", "hidden_size": "x"}}'));
  assert.equal(bad.error.code, 'out_of_range');
  assert.match(bad.error.message, /'hidden_size' must be an integer/);
  const garbage = JSON.parse(session.calculate('\u0000not json'));
  assert.equal(garbage.error.code, 'parse_error');
});
