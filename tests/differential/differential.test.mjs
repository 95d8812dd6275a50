// Differential test: vramcalc's llama.cpp profile against real llama.cpp.
//
// For each case a GGUF file of a real architecture is written with zero-filled (sparse) tensor
// data, loaded by llama.cpp (node-llama-cpp's prebuilt CPU binary, no GPU), and the buffer sizes
// llama.cpp prints (model, KV, compute) are compared with what `vramcalc --runtime llamacpp
// --json` predicts for the same model, weights, context, KV type, flash attention and ubatch.
//
// On the CPU backend there is no CUDA context and token_embd is not split off, so we compare like
// with like: llama.cpp's model buffers against the sum of every tensor (our weight plan's
// bytes_by_type), its KV buffer against our KV cache, its compute buffer against our
// compute-buffer item, and the sum of the three against the sum of ours.
//
//   cd tests/differential && npm ci --omit=optional && node --test
//   (VRAMCALC_CLI=path/to/vramcalc to use another build; results in test-artifacts/differential.json)

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';

import { BOUNDS, MODELS, ROOT } from './cases.mjs';
import { writeGguf } from './gguf_writer.mjs';
import { ggufFromHfConfig } from './models.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));

const CLI = process.env.VRAMCALC_CLI ?? join(ROOT, 'build', 'native-release', 'cli', 'vramcalc');
const MiB = 1024 * 1024;
const results = {
  generated: new Date().toISOString(),
  node_llama_cpp: JSON.parse(readFileSync(join(HERE, 'node_modules', 'node-llama-cpp', 'package.json'), 'utf8')).version,
  bounds: BOUNDS,
  cases: [],
};
const work = mkdtempSync(join(tmpdir(), 'vramcalc-differential-'));

after(() => {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
  writeFileSync(join(ROOT, 'test-artifacts', 'differential.json'), `${JSON.stringify(results, null, 1)}\n`);
});

/// vramcalc's estimate for one setting, reduced to the CPU-comparable lines.
function ours(configPath, weights, c, ubatch, nCtx, ggufPath = null) {
  // Several sequences: llama.cpp's n_ctx is shared, one stream of n_ctx / n_seq cells each.
  const sequences = c.sequences ?? 1;
  const perSequence = sequences > 1 ? Math.floor(nCtx / sequences) : c.contextSize;
  // From the GGUF file itself (its header) or from config.json under the same mix.
  const source = ggufPath ? ['--gguf', ggufPath] : ['--hf-config', configPath, '--weights', weights];
  const args = [...source, '--runtime', 'llamacpp',
    '--context', String(perSequence), '--batch', String(sequences), '--kv-dtype', c.kvType, '--flash-attn', c.flashAttention ? 'on' : 'off',
    '--ubatch', String(ubatch), '--llamacpp-backend', 'cpu', '--json'];
  const j = JSON.parse(execFileSync(CLI, args, { encoding: 'utf8' }));
  const compute = j.items.find((i) => i.key === 'compute_buffer');
  // The CPU backend's model buffer: every tensor, 32-byte aligned (the CLI's weights line).
  const model = j.bytes.weights;
  return {
    command: `vramcalc ${args.map((a) => (a.includes('/') ? 'config.json' : a)).join(' ')}`,
    model, kv: j.bytes.kv_cache, compute: compute ? compute.bytes : 0, rs: j.kv_cache.recurrent_state_bytes ?? 0,
    kv_cells: j.kv_cache.tokens_per_sequence, total: model + j.bytes.kv_cache + (compute ? compute.bytes : 0),
  };
}

const pct = (estimate, measured) => (estimate - measured) / measured;
const fmtMiB = (b) => `${(b / MiB).toFixed(2)} MiB`;
const fmtPct = (e) => `${e >= 0 ? '+' : ''}${(100 * e).toFixed(2)}%`;

test('the vramcalc CLI is built', () => {
  assert.ok(existsSync(CLI), `vramcalc not found at ${CLI}: build it first (scripts/test.sh does) or set VRAMCALC_CLI`);
});

for (const m of MODELS) {
  test(`${m.label}, ${m.mix}`, { timeout: 15 * 60 * 1000 }, (t) => {
    assert.ok(existsSync(CLI), `vramcalc not found at ${CLI}`);
    const dir = join(work, `${m.id}-${m.mix}`);
    mkdirSync(dir, { recursive: true });
    const configPath = join(dir, 'config.json');
    writeFileSync(configPath, JSON.stringify(m.config));
    const gguf = join(dir, 'model.gguf');
    const layout = writeGguf(gguf, ggufFromHfConfig(m.config, m.mix, { name: m.id }));
    const request = join(dir, 'request.json');
    writeFileSync(request, JSON.stringify({ modelPath: gguf, contexts: m.contexts, evalTokens: 2, threads: 1 }));
    const child = spawnSync(process.execPath, [join(HERE, 'run_model.mjs'), request], {
      cwd: HERE, encoding: 'utf8', maxBuffer: 64 * MiB,
    });
    assert.equal(child.status, 0, `llama.cpp run failed for ${m.id}:\n${child.stderr}\n${child.stdout?.slice(-4000)}`);
    const run = JSON.parse(child.stdout.trim().split('\n').pop());
    // The same estimate read from the file's header must be the config.json one (checkGguf).
    const fromFile = m.checkGguf
      ? run.contexts.map((c) => (c.error ? null : ours(configPath, m.weights, c.request, c.n_ubatch, c.n_ctx, gguf)))
      : [];
    rmSync(gguf, { force: true });
    results.llama_cpp_release = run.llama_cpp_release;
    results.system_info = run.system_info;

    const misses = [];
    for (const c of run.contexts) {
      assert.ok(!c.error, `${m.id} ${JSON.stringify(c.request)}: context failed: ${c.error}\n${(c.log_tail ?? []).join('\n')}`);
      const o = ours(configPath, m.weights, c.request, c.n_ubatch, c.n_ctx);
      const f = fromFile[run.contexts.indexOf(c)];
      if (f) {
        for (const line of ['model', 'kv', 'rs', 'compute']) {
          if (f[line] !== o[line]) misses.push(`${m.id} ctx=${c.request.contextSize}: --gguf ${line} ${f[line]} B vs config.json ${o[line]} B`);
        }
      }
      // Our kv_cache line holds the KV cache and the recurrent state; llama.cpp prints them as
      // its KV and RS buffers.
      const measured = { model: run.model.buffer_bytes, kv: c.kv_bytes + c.rs_bytes, compute: c.compute_bytes, rs: c.rs_bytes };
      measured.total = measured.model + measured.kv + measured.compute;
      const cells = c.kv_caches.map((k) => k.cells);
      const name = `${m.id} ${m.mix} ctx=${c.request.contextSize} seqs=${c.request.sequences ?? 1} kv=${c.request.kvType} fa=${c.request.flashAttention ? 'on' : 'off'} ubatch=${c.n_ubatch}`;
      const row = {
        id: m.id, label: m.label, mix: m.mix, weights: m.weights, ...c.request, n_ctx: c.n_ctx, n_ubatch: c.n_ubatch,
        flash_attn: c.flash_attn, kv_caches: c.kv_caches, rs_bytes: c.rs_bytes, file_bytes: layout.fileBytes, tensor_bytes: layout.tensorDataBytes,
        measured, ours: o,
        error: { model: pct(o.model, measured.model), kv: pct(o.kv, measured.kv), compute: pct(o.compute, measured.compute), total: pct(o.total, measured.total) },
        output_buffer: c.output_bytes,
        rss: {
          model_delta: run.model.rss_peak - run.model.rss_before,
          context_delta: c.rss_peak - c.rss_before,
          peak_delta: run.model.rss_after - run.model.rss_before + c.rss_peak - c.rss_before,
        },
        node_llama_cpp: {
          formula: run.model.nlc_formula.cpuRam + c.nlc_formula.cpuRam,
          simulated: run.model.nlc_simulated.cpuRam + c.nlc_simulated.cpuRam,
          context_formula: c.nlc_formula.cpuRam, context_simulated: c.nlc_simulated.cpuRam,
        },
        timings_ms: { load: run.model.load_ms, create: c.create_ms, eval: c.eval_ms },
      };
      row.rss.error_vs_total = pct(o.total, row.rss.peak_delta);
      row.node_llama_cpp.error_formula = pct(row.node_llama_cpp.formula, measured.total);
      row.node_llama_cpp.error_simulated = pct(row.node_llama_cpp.simulated, measured.total);
      results.cases.push(row);

      t.diagnostic(`${name}: model ${fmtMiB(o.model)} vs ${fmtMiB(measured.model)} (${fmtPct(row.error.model)}); ` +
        `KV ${fmtMiB(o.kv)} vs ${fmtMiB(measured.kv)} (cells ${o.kv_cells} vs ${cells.join('+')}); ` +
        `compute ${fmtMiB(o.compute)} vs ${fmtMiB(measured.compute)} (${fmtPct(row.error.compute)}); ` +
        `total ${fmtMiB(o.total)} vs ${fmtMiB(measured.total)} (${fmtPct(row.error.total)}); ` +
        `peak RSS delta ${fmtMiB(row.rss.peak_delta)} (ours ${fmtPct(row.rss.error_vs_total)}); ` +
        `node-llama-cpp formula ${fmtMiB(row.node_llama_cpp.formula)} (${fmtPct(row.node_llama_cpp.error_formula)})`);

      // KV: exact to the printed precision (llama.cpp prints MiB with 2 decimals), and a cache of
      // the full context must have exactly our cell count.
      if (Math.abs(o.kv / MiB - measured.kv / MiB) > 0.005 + 1e-9) {
        misses.push(`${name}: KV ours ${o.kv} B (${fmtMiB(o.kv)}) vs llama.cpp ${fmtMiB(measured.kv)}: must match exactly`);
      }
      // The recurrent state alone: exact too (f32 rows, one per sequence).
      if (Math.abs(o.rs / MiB - measured.rs / MiB) > 0.005 + 1e-9) {
        misses.push(`${name}: RS ours ${o.rs} B (${fmtMiB(o.rs)}) vs llama.cpp ${fmtMiB(measured.rs)}: must match exactly`);
      }
      if (cells.length > 0 && !cells.includes(o.kv_cells)) {
        misses.push(`${name}: KV cells ours ${o.kv_cells} vs llama.cpp ${cells.join(', ')}`);
      }
      for (const [line, bound] of Object.entries({ ...BOUNDS, ...(m.bounds ?? {}) })) {
        if (Math.abs(row.error[line]) > bound) {
          misses.push(`${name}: ${line} ours ${o[line]} B (${fmtMiB(o[line])}) vs llama.cpp ${Math.round(measured[line])} B ` +
            `(${fmtMiB(measured[line])}): error ${fmtPct(row.error[line])}, bound ${100 * bound}%`);
        }
      }
      // What llama.cpp reports must be what the process really holds: the model and KV buffers
      // are resident (the compute buffer is reserved and pages in as graphs run).
      if (row.rss.peak_delta < 0.98 * (measured.model + measured.kv)) {
        misses.push(`${name}: peak RSS grew by ${fmtMiB(row.rss.peak_delta)}, less than the model + KV buffers ${fmtMiB(measured.model + measured.kv)}`);
      }
    }
    assert.equal(run.contexts.length, m.contexts.length);
    assert.deepEqual(misses, [], `\n${misses.join('\n')}`);
  });
}
