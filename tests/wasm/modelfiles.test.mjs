// web/modelfiles.js and the binding's imported models under Node: header-only reading of files,
// and an imported model behaving exactly like a config.json in every engine entry point
// (calculate, the numbers batch, the planner, decode speeds).
// Run: node --test tests/wasm/  (after the native build, for the fixture writer)

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, openAsBlob, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EngineError, ImportedModel, loadEngine } from '../../web/engine.js';
import { FIRST_READ_BYTES, ImportError, importFiles, parseRepoId, preferredGguf } from '../../web/modelfiles.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const buildDir = process.env.VRAM_WASM_DIR ?? join(root, 'build', 'wasm', 'wasm');
const tool = process.env.VRAM_CORPUS_TOOL ?? join(root, 'build', 'native-release', 'tests', 'vram_corpus_tool');
const require = createRequire(import.meta.url);
const engine = await loadEngine({
  factory: require(join(buildDir, 'vramcalc.js')),
  wasmBinary: readFileSync(join(buildDir, 'vramcalc.wasm')),
});
const hardware = readFileSync(join(root, 'presets', 'hardware.json'), 'utf8');
engine.setHardware(hardware);
const fixtures = mkdtempSync(join(tmpdir(), 'vram-modelfiles-'));
execFileSync(tool, ['import', fixtures, join(root, 'presets', 'models.json')]);
after(() => rmSync(fixtures, { recursive: true, force: true }));

/** A File over a path on disk (Node reads only the slices asked for); counts the bytes read. */
async function file(path, counter) {
  const blob = await openAsBlob(path);
  const f = new File([blob], basename(path));
  const slice = f.slice.bind(f);
  f.slice = (a, b) => {
    const part = slice(a, b);
    counter.bytes += part.size;
    return part;
  };
  return f;
}

test('a 3.4 GB GGUF is imported from a few MB of header; numbers equal calculate()', async () => {
  const counter = { bytes: 0 };
  const big = await file(join(fixtures, 'llama-3.2-3b-q8_0.gguf'), counter);
  const out = await importFiles(engine, [big]);
  assert.ok(out.model instanceof ImportedModel);
  assert.equal(out.bytesRead, counter.bytes);
  // The header is 2.6 MB: 1 MiB, then the rest in at most two more reads.
  assert.ok(counter.bytes > FIRST_READ_BYTES && counter.bytes <= 4 * FIRST_READ_BYTES, `read ${counter.bytes}`);
  assert.equal(out.model.weights_format, 'gguf-file');
  const requests = [4096, 32768, 131072].map((context) => ({ mode: 'inference', runtime: 'llamacpp', context }));
  const numbers = engine.numbers(out.model, requests);
  requests.forEach((r, i) => {
    const full = engine.calculate(r, out.model);
    assert.equal(full.inputs.weights, 'gguf-file');
    assert.equal(numbers[i].bytes.total, full.bytes.total, `context ${r.context}`);
  });
  // Another format re-plans the same geometry, as for a preset.
  const q4 = engine.calculate({ mode: 'inference', weights: 'q4_k_m' }, out.model);
  assert.equal(q4.inputs.weights, 'q4_k_m');
  assert.equal(engine.numbers(out.model, [{ mode: 'inference', weights: 'q4_k_m' }])[0].bytes.total, q4.bytes.total);
  // The planner and the decode speeds take it too.
  const fit = engine.plan({ mode: 'inference', runtime: 'llamacpp' }, out.model, { action: 'fit', gpu: 'rtx-4090' });
  assert.equal(fit.weights, 'gguf-file');
  assert.equal(fit.fit.fits, true);
  const speed = engine.decodeTokensPerSecond({ mode: 'inference', runtime: 'llamacpp' }, out.model, { id: 'rtx-4090' });
  assert.equal(speed, fit.throughput.decode_tokens_per_s);
});

test('files that are not what they claim give an ImportError naming the file', async () => {
  const counter = { bytes: 0 };
  const fake = new File([new Uint8Array(64)], 'weights.gguf');
  await assert.rejects(importFiles(engine, [fake]), (e) => e instanceof ImportError && /^weights\.gguf: /.test(e.message));
  await assert.rejects(importFiles(engine, [new File(['x'], 'notes.txt')]), /notes\.txt: not a \.gguf/);
  const part2 = await file(join(fixtures, 'qwen2.5-0.5b-q8_0-00002-of-00002.gguf'), counter);
  await assert.rejects(importFiles(engine, [part2]), /split into 2 files; also give part\(s\) 1/);
  const shard = new File([new Uint8Array([16, 0, 0, 0, 0, 0, 0, 0]), '{"a":{"dtype":"F16"'], 'model.safetensors');
  await assert.rejects(importFiles(engine, [shard, new File(['{"model_type":"llama"}'], 'config.json')]), ImportError);
  await assert.rejects(importFiles(engine, [new File(['{'], 'config.json')]), /config\.json: not valid JSON/);
});

test('an unknown handle is an error value', () => {
  const stale = new ImportedModel({ handle: 'file:999999' });
  assert.throws(() => engine.calculate({ mode: 'inference' }, stale), (e) => e instanceof EngineError && /import the file again/.test(e.message));
  assert.match(engine.numbers(stale, [{ mode: 'inference' }])[0].error.message, /no longer loaded/);
});

test('repository ids and GGUF choice', () => {
  assert.equal(parseRepoId(' Qwen/Qwen2.5-7B-Instruct '), 'Qwen/Qwen2.5-7B-Instruct');
  assert.equal(parseRepoId('https://huggingface.co/meta-llama/Llama-3.1-8B/tree/main'), 'meta-llama/Llama-3.1-8B');
  for (const bad of ['', 'llama', 'a/b/c', '../x/y', 'a/..', 'a b/c']) assert.throws(() => parseRepoId(bad), ImportError, bad);
  assert.equal(preferredGguf(['m-Q8_0.gguf', 'm-Q4_K_M-00002-of-00002.gguf', 'm-Q4_K_M-00001-of-00002.gguf']),
    'm-Q4_K_M-00001-of-00002.gguf');
  assert.equal(preferredGguf(['m-Q8_0.gguf', 'm-IQ2_XS.gguf']), 'm-Q8_0.gguf');
});
