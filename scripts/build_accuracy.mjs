// Builds the accuracy report's data: every published reference figure (tests/reference/*.json,
// presets' stated parameter counts) computed again through the CLI, plus the latest differential
// run against real llama.cpp (test-artifacts/differential.json), with the error of each case and
// the median and p90 absolute percentage error per kind.
//
//   node scripts/build_accuracy.mjs [--cli build/native-release/cli/vramcalc] [--out web/accuracy-data.json]
//
// Without a differential results file the differential section of the existing output is kept
// (run `bash scripts/test.sh` or the differential stage first to refresh it).

import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
};
const cli = resolve(arg('--cli', process.env.VRAMCALC_CLI ?? join(root, 'build', 'native-release', 'cli', 'vramcalc')));
const out = resolve(arg('--out', join(root, 'web', 'accuracy-data.json')));
const differentialPath = resolve(arg('--differential', join(root, 'test-artifacts', 'differential.json')));
if (!existsSync(cli)) {
  console.error(`build_accuracy: vramcalc not found at ${cli} (build it, or pass --cli)`);
  process.exit(2);
}
const readJson = (path) => JSON.parse(readFileSync(join(root, path), 'utf8'));
const GiB = 2 ** 30;

/// What each kind of case compares, its bound and the test that asserts it.
const KINDS = {
  parameters: { label: 'Parameter counts', group: 'weights', bound: 0.01, test: 'tests/presets_test.cc', what: 'parameters counted from the tensor inventory vs the count the publisher states' },
  gguf_tensor_bytes: { label: 'GGUF tensor bytes', group: 'weights', bound: 0.02, test: 'tests/reference_test.cc', what: "llama.cpp quantization mixes: llama.cpp's own size table (4-decimal bits per weight) and llama-bench's model_size" },
  gguf_file_bytes: { label: 'Published .gguf files', group: 'weights', bound: 0.002, test: 'tests/reference_test.cc', what: 'whole published files; the file adds its metadata (tokenizer) to the tensors' },
  llamacpp_model_buffer: { label: 'llama.cpp model buffer (CUDA)', group: 'runtime', bound: 1e-4, bound_text: 'to the printed 0.01 MiB', test: 'tests/reference_runtime_test.cc', what: 'the GPU model buffer llama.cpp prints when it loads a model' },
  llamacpp_kv: { label: 'llama.cpp KV buffer (CUDA)', group: 'runtime', bound: 1e-4, bound_text: 'to the printed 0.01 MiB', test: 'tests/reference_runtime_test.cc', what: 'the KV cache buffer llama.cpp prints (exact)' },
  llamacpp_compute: { label: 'llama.cpp compute buffer (CUDA)', group: 'runtime', bound: 0.10, test: 'tests/reference_runtime_test.cc', what: "ggml-alloc's reserved compute buffer" },
  vllm_weights: { label: 'vLLM weights', group: 'runtime', bound: 0.02, test: 'tests/reference_runtime_test.cc', what: "vLLM's 'model weights take' line" },
  vllm_activation: { label: 'vLLM activation peak', group: 'runtime', bound: 0.10, test: 'tests/reference_runtime_test.cc', what: "vLLM's profile-run activation peak" },
  vllm_kv_budget: { label: 'vLLM KV budget', group: 'runtime', bound: 0.10, test: 'tests/reference_runtime_test.cc', what: 'memory vLLM leaves for KV blocks' },
  vllm_kv_tokens: { label: 'vLLM KV tokens', group: 'runtime', bound: 0.001, test: 'tests/reference_runtime_test.cc', what: "tokens of KV cache vLLM fits in the memory it reports available" },
  training_peak: { label: 'Fine-tuning peak', group: 'training', bound: 0.10, test: 'tests/reference_training_test.cc', what: 'published peak GPU memory of training runs' },
  decode_llamacpp: { label: 'Decode tokens/s, llama.cpp', group: 'speed', bound: 0.35, bound_text: '35% (median ≤ 8.5%)', test: 'tests/throughput_test.cc', what: 'published single-request llama.cpp generation speeds (llama-bench tg) vs the memory roofline' },
  prefill_llamacpp: { label: 'Prefill tokens/s, llama.cpp', group: 'speed', bound: 0.50, bound_text: '50% (median ≤ 15%)', test: 'tests/throughput_test.cc', what: 'published llama-bench pp speeds vs the compute roofline' },
  decode_vllm: { label: 'Decode tokens/s, vLLM', group: 'speed', bound: 0.45, bound_text: '45% (median ≤ 10%)', test: 'tests/throughput_test.cc', what: 'published vLLM runs at concurrency 1 (CUDA graphs on)' },
  decode_transformers: { label: 'Decode tokens/s, transformers', group: 'speed', bound: 0.20, bound_text: '20% (median ≤ 5%)', test: 'tests/throughput_test.cc', what: 'published transformers generate() runs at batch 1' },
  diff_model: { label: 'Differential: model buffer', group: 'differential', bound: 0.01, test: 'tests/differential/differential.test.mjs', what: 'real llama.cpp (CPU) model buffers vs the sum of our tensor bytes' },
  diff_kv: { label: 'Differential: KV buffer', group: 'differential', bound: 1e-4, bound_text: 'to the printed 0.01 MiB', test: 'tests/differential/differential.test.mjs', what: 'real llama.cpp KV buffer (exact)' },
  diff_compute: { label: 'Differential: compute buffer', group: 'differential', bound: 0.10, test: 'tests/differential/differential.test.mjs', what: 'real llama.cpp compute buffer' },
  diff_total: { label: 'Differential: total', group: 'differential', bound: 0.05, test: 'tests/differential/differential.test.mjs', what: 'model + KV + compute buffers' },
};

/// A calculator request object (the wasm/JSON form) as CLI flags.
function flags(request) {
  const args = [];
  const map = {
    model: '--model', mode: '--mode', weights: '--weights', kv_dtype: '--kv-dtype', context: '--context', batch: '--batch',
    runtime: '--runtime', attn_impl: '--attn-impl', ubatch: '--ubatch', gpu_memory_utilization: '--gpu-memory-utilization',
    max_num_batched_tokens: '--max-num-batched-tokens', max_num_seqs: '--max-num-seqs', optimizer: '--optimizer',
    precision: '--precision-regime', checkpointing: '--checkpointing', lora_rank: '--lora-rank', lora_targets: '--lora-targets',
    lora_dropout: '--lora-dropout', micro_batch: '--micro-batch', seq_len: '--seq-len', zero: '--zero', fsdp: '--fsdp',
    fsdp_shard_group: '--fsdp-shard-group', tp: '--tp', pp: '--pp', pp_microbatches: '--pp-microbatches', dp: '--dp',
    offload: '--offload', dropout: '--dropout',
  };
  const switches = { dora: '--dora', fused_loss: '--fused-loss', sequence_parallel: '--sequence-parallel', fp32_gradients: '--fp32-grads' };
  for (const [key, value] of Object.entries(request)) {
    if (key in map) args.push(map[key], String(value));
    else if (key in switches) { if (value) args.push(switches[key]); }
    else if (key === 'flash_attention') args.push('--flash-attn', value ? 'on' : 'off');
    else if (key === 'cuda_graphs') { if (!value) args.push('--enforce-eager'); }
    else if (key === 'device_memory_bytes') args.push('--device-memory-gib', String(value / GiB));
    else throw new Error(`build_accuracy: request field ${key} has no CLI flag`);
  }
  return args;
}
const cache = new Map();
function run(request) {
  const args = [...flags(request), '--json'];
  const key = args.join(' ');
  if (!cache.has(key)) cache.set(key, JSON.parse(execFileSync(cli, args, { encoding: 'utf8' })));
  return { json: cache.get(key), command: `vramcalc ${args.join(' ')}` };
}
const weightBytes = (j) => Object.values(j.weights.bytes_by_type).reduce((a, b) => a + b, 0);
const presetList = readJson('presets/models.json').models;

const cases = [];
const add = (c) => cases.push({ ...c, error: (c.estimate - c.measured) / c.measured });

// Parameter counts: the presets' stated counts, with their sources.
const counted = new Map(JSON.parse(execFileSync(cli, ['--list-models', '--json'], { encoding: 'utf8' })).map((m) => [m.id, m]));
for (const p of presetList) {
  if (!p.stated_parameters) continue;
  // Some publishers count a tied head's stored duplicate (tests/presets_test.cc does the same).
  const twice = p.stated_counts_tied_head_twice ? p.config.vocab_size * p.config.hidden_size : 0;
  add({
    id: `params-${p.id}`, kind: 'parameters', label: p.name, unit: 'parameters', estimate: counted.get(p.id).parameters + twice,
    measured: p.stated_parameters, published: p.stated_parameters.toLocaleString('en-US'), source: p.stated_parameters_source,
    source_detail: p.stated_parameters_note ?? '', command: `vramcalc --list-models --json (${p.id})`, asserted: true,
    note: twice ? 'the publisher counts the tied head twice; so does this estimate' : '',
  });
}

// GGUF sizes.
const gguf = readJson('tests/reference/gguf_sizes.json');
for (const row of gguf.quantize_table) {
  const { json, command } = run({ model: row.model, weights: row.mix });
  add({
    id: `gguf-table-${row.model}-${row.mix}`, kind: 'gguf_tensor_bytes', label: `${row.model} ${row.mix}`, unit: 'bytes',
    estimate: weightBytes(json), measured: Math.round((row.bits_per_weight * 8030261248) / 8),
    published: `${row.bits_per_weight} bits/weight, ${row.size} ${row.unit}`, source: row.source, source_detail: row.note, command, asserted: true,
  });
}
for (const row of gguf.tensor_bytes) {
  const { json, command } = run({ model: row.model, weights: row.mix });
  add({
    id: `gguf-bench-${row.model}-${row.mix}`, kind: 'gguf_tensor_bytes', label: `${row.model} ${row.mix}`, unit: 'bytes',
    estimate: weightBytes(json), measured: row.bytes, published: `${row.bytes} ${row.unit}`, source: row.source, source_detail: '', command, asserted: true,
  });
}
for (const row of gguf.files) {
  const { json, command } = run({ model: row.model, weights: row.mix });
  add({
    id: `gguf-file-${row.model}-${row.mix}-${row.bytes}`, kind: 'gguf_file_bytes', label: `${row.model} ${row.mix}`, unit: 'bytes',
    estimate: weightBytes(json), measured: row.bytes, published: `${row.bytes} ${row.unit}`, source: row.source,
    source_detail: 'tensor data + metadata; ours counts the tensors only', command, asserted: true,
  });
}

// Runtime memory lines (same quantities as tests/reference_runtime_test.cc).
for (const row of readJson('tests/reference/runtime_memory.json').rows) {
  const { json, command } = run(row.request);
  const perToken = json.kv_cache.bytes_per_token;
  const estimate = {
    llamacpp_model_buffer: () => json.bytes.weights, vllm_weights: () => json.bytes.weights,
    llamacpp_kv: () => json.bytes.kv_cache, vllm_activation: () => json.bytes.activations,
    llamacpp_compute: () => json.items.find((i) => i.key === 'compute_buffer')?.bytes ?? 0,
    vllm_kv_budget: () => json.vllm.kv_capacity_tokens * perToken,
    vllm_kv_tokens: () => Math.floor(row.available_kv_bytes / (16 * perToken)) * 16,
  }[row.kind]();
  add({
    id: row.id, kind: row.kind, label: `${row.request.model} ${row.request.weights ?? ''} (${row.runtime_version}, ${row.hardware})`.replace('  ', ' '),
    unit: row.unit === 'tokens' ? 'tokens' : 'bytes', estimate, measured: row.measured, published: `${row.published}`,
    source: row.source, source_detail: row.source_detail, command, asserted: row.asserted, note: row.why_not_asserted ?? row.note ?? '',
  });
}

// Fine-tuning peaks.
for (const row of readJson('tests/reference/training_measurements.json').rows) {
  const { json, command } = run(row.request);
  add({
    id: `train-${row.id}`, kind: 'training_peak', label: `${row.request.model} ${row.request.mode} (${row.framework})`, unit: 'bytes',
    estimate: json.bytes.total, measured: row.measured_bytes, published: `${row.published} ${row.unit}`, source: row.source,
    source_detail: row.measures, command, asserted: row.asserted, note: row.assumptions ?? '',
  });
}

// Single-request speeds (tests/reference/throughput.json), through the CLI's --gpu answer.
for (const x of readJson('tests/reference/throughput.json').measurements) {
  const decode = x.kind === 'decode';
  const kind = `${decode ? 'decode' : 'prefill'}_${x.runtime}`;
  if (!(kind in KINDS)) continue;
  const request = { model: x.model, weights: x.weights, runtime: x.runtime,
    context: decode ? Math.max(1, x.depth_tokens) : x.prompt_tokens };
  if (x.runtime === 'llamacpp') request.flash_attention = false;  // llama-bench's default then
  if (x.attn_impl) request.attn_impl = x.attn_impl;
  if (x.kv_dtype) request.kv_dtype = x.kv_dtype;
  if (x.cuda_graphs === false) request.cuda_graphs = false;
  const args = [...flags(request), '--gpu', x.hardware, '--gpus', String(x.gpus), '--json'];
  const json = JSON.parse(execFileSync(cli, args, { encoding: 'utf8' }));
  const estimate = decode ? json.decode_tokens_per_s : json.prefill_tokens_per_s;
  if (typeof estimate !== 'number') continue;
  add({
    id: `speed-${x.id}`, kind, label: `${x.model}, ${x.weights}, ${x.runtime} on ${x.gpus > 1 ? `${x.gpus} × ` : ''}${x.hardware}` +
      ` (${x.test})`, unit: 'tokens/s', estimate, measured: x.measured, published: x.quote ?? `${x.measured} tokens/s`,
    source: x.source, source_detail: x.source_detail ?? '', command: `vramcalc ${args.join(' ')}`,
    // The statistics are over validation rows: calibration rows fitted the constants.
    asserted: x.role === 'validation',
    note: { recorded: 'recorded, not asserted', calibration: 'calibration: the constants were fitted on it' }[x.role] ?? '',
  });
}

// Differential run against real llama.cpp.
const previous = existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')) : null;
let differential = previous?.differential ?? null;
if (existsSync(differentialPath)) {
  const d = JSON.parse(readFileSync(differentialPath, 'utf8'));
  differential = {
    generated: d.generated, llama_cpp_release: d.llama_cpp_release, node_llama_cpp: d.node_llama_cpp ?? null,
    system_info: d.system_info, bounds: d.bounds,
    cases: d.cases.map((c) => ({
      id: `${c.id}-${c.mix}-${c.contextSize}-${c.kvType}-${c.flashAttention ? 'fa' : 'nofa'}`,
      label: `${c.label}, ${c.mix}, ctx ${c.contextSize}, KV ${c.kvType}, flash attention ${c.flashAttention ? 'on' : 'off'}, ubatch ${c.n_ubatch}`,
      measured: c.measured, ours: { model: c.ours.model, kv: c.ours.kv, compute: c.ours.compute, total: c.ours.total },
      command: c.ours.command, output_buffer: c.output_buffer, rss_peak_delta: c.rss.peak_delta,
      node_llama_cpp_formula: c.node_llama_cpp.formula, node_llama_cpp_simulated: c.node_llama_cpp.simulated,
    })),
  };
}
if (differential) {
  const source = 'https://github.com/ggml-org/llama.cpp';
  for (const c of differential.cases) {
    for (const line of ['model', 'kv', 'compute', 'total']) {
      add({
        id: `diff-${c.id}-${line}`, kind: `diff_${line}`, label: c.label, unit: 'bytes', estimate: c.ours[line], measured: c.measured[line],
        published: `llama.cpp ${differential.llama_cpp_release?.release ?? ''} log (CPU backend)`, source,
        source_detail: 'measured by tests/differential: zero-filled GGUF of this shape loaded by node-llama-cpp\'s prebuilt llama.cpp',
        command: c.command, asserted: true,
        peer: line === 'total' ? { name: "node-llama-cpp's estimate", estimate: c.node_llama_cpp_formula } : undefined,
      });
    }
  }
}

/// Median and 90th percentile of absolute percentage errors (nearest rank).
function stats(values) {
  const a = values.map(Math.abs).sort((x, y) => x - y);
  const rank = (q) => a[Math.min(a.length - 1, Math.max(0, Math.ceil(q * a.length) - 1))];
  return { n: a.length, median_ape: rank(0.5), p90_ape: rank(0.9), max_ape: a[a.length - 1] };
}
const kinds = {};
for (const [kind, meta] of Object.entries(KINDS)) {
  const errors = cases.filter((c) => c.kind === kind && (meta.group !== 'speed' || c.asserted)).map((c) => c.error);
  if (errors.length > 0) kinds[kind] = { ...meta, ...stats(errors) };
}
const peerErrors = cases.filter((c) => c.peer).map((c) => (c.peer.estimate - c.measured) / c.measured);
const result = {
  schema_version: 1,
  generated: new Date().toISOString(),
  reproduce: 'bash scripts/test.sh && node scripts/build_accuracy.mjs',
  vramcalc_cli: relative(root, cli),
  kinds,
  peer: peerErrors.length > 0 ? { name: "node-llama-cpp's own estimate (GgufInsights, same cases)", ...stats(peerErrors) } : null,
  differential: differential ? { ...differential, cases: differential.cases } : null,
  cases,
};
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(result, null, 1)}\n`);
const site = join(root, 'build', 'site');
if (existsSync(site) && dirname(out) !== site) copyFileSync(out, join(site, 'accuracy-data.json'));
const pct = (x) => `${(100 * x).toFixed(2)}%`;
console.log(`build_accuracy: ${cases.length} cases -> ${relative(root, out)}`);
for (const [kind, k] of Object.entries(kinds)) {
  console.log(`  ${k.label.padEnd(34)} n=${String(k.n).padStart(3)}  median |error| ${pct(k.median_ape).padStart(7)}  p90 ${pct(k.p90_ape).padStart(7)}  max ${pct(k.max_ape)}`);
}
if (result.peer) console.log(`  ${result.peer.name}: median |error| ${pct(result.peer.median_ape)}, p90 ${pct(result.peer.p90_ape)}`);
