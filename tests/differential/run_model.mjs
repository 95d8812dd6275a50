// Child process of the differential test: loads one GGUF file in real llama.cpp (node-llama-cpp's
// prebuilt CPU binary), creates one context per requested setting, evaluates a few tokens in
// each, and prints one JSON object with what llama.cpp reported in its log, the process's peak
// RSS per phase, and node-llama-cpp's own memory estimates for the same settings.
//
//   node run_model.mjs <request.json>     (request: {modelPath, contexts: [{contextSize,
//                                          batchSize, flashAttention, kvType}], evalTokens})
//
// One process per model keeps the RSS of one model from counting against the next.

import { readFileSync, writeFileSync } from 'node:fs';
import { getLlama, GgmlType, LlamaLogLevel } from 'node-llama-cpp';

const request = JSON.parse(readFileSync(process.argv[2], 'utf8'));

/// Resident set size now and its peak since the last reset, in bytes (/proc/self/status).
function rss() {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kib = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)[1]) * 1024;
  return { now: kib('VmRSS'), peak: kib('VmHWM') };
}
/// Resets VmHWM to the current RSS (proc(5), /proc/pid/clear_refs, value 5; Linux 4.0+).
function resetPeak() {
  writeFileSync('/proc/self/clear_refs', '5');
}

let log = [];
const llama = await getLlama({
  gpu: false,
  build: 'never',
  usePrebuiltBinaries: true,
  skipDownload: true,
  progressLogs: false,
  logLevel: LlamaLogLevel.debug,
  logger: (level, message) => {
    if (!message.startsWith('llama_graph_n_input_tensors')) log.push(message);
  },
});

const MiB = 1024 * 1024;
const num = (s) => Number(s);
/// Every "<name> <what> buffer size = X MiB" line, as {buffer: bytes}.
function buffers(lines, what) {
  const out = {};
  const re = new RegExp(`^\\S+:\\s+(\\S+)\\s+${what} buffer size =\\s+([0-9.]+) MiB`);
  for (const line of lines) {
    const m = re.exec(line);
    if (m) out[m[1]] = (out[m[1]] ?? 0) + num(m[2]) * MiB;
  }
  return out;
}

const result = {
  llama_cpp_release: llama.llamaCppRelease,
  system_info: llama.systemInfo,
  baseline_rss: rss().now,
};

resetPeak();
const before = rss().now;
log = [];
const loadStart = Date.now();
const model = await llama.loadModel({ modelPath: request.modelPath, gpuLayers: 0, useMmap: false });
const loadLog = log;
const afterLoad = rss();
const fileSize = /print_info: file size\s+=\s+([0-9.]+) (GiB|MiB)/.exec(loadLog.join('\n'));
result.model = {
  buffers_mib: Object.fromEntries(Object.entries(buffers(loadLog, 'model')).map(([k, v]) => [k, v / MiB])),
  buffer_bytes: Object.values(buffers(loadLog, 'model')).reduce((a, b) => a + b, 0),
  file_size_printed: fileSize ? `${fileSize[1]} ${fileSize[2]}` : null,
  rss_before: before,
  rss_peak: afterLoad.peak,
  rss_after: afterLoad.now,
  nlc_formula: model.fileInsights.estimateModelResourceRequirements({ gpuLayers: 0, useMmap: false }),
  load_ms: Date.now() - loadStart,
  nlc_simulated: await model.fileInsights.estimateModelResourceRequirementsV2({ gpuLayers: 0, useMmap: false }),
};

result.contexts = [];
for (const c of request.contexts) {
  const kvType = c.kvType === 'q8_0' ? GgmlType.Q8_0 : c.kvType === 'q4_0' ? GgmlType.Q4_0 : GgmlType.F16;
  const entry = { request: c };
  try {
    const nlcOptions = {
      contextSize: c.contextSize, modelGpuLayers: 0, batchSize: c.batchSize, sequences: c.sequences ?? 1,
      flashAttention: c.flashAttention, kvCacheKeyType: kvType, kvCacheValueType: kvType,
    };
    entry.nlc_formula = model.fileInsights.estimateContextResourceRequirements(nlcOptions);
    entry.nlc_simulated = await model.fileInsights.estimateContextResourceRequirementsV2(nlcOptions);
    const contextStart = Date.now();
    const rssBefore = rss().now;
    resetPeak();
    log = [];
    const context = await model.createContext({
      contextSize: c.contextSize,
      batchSize: c.batchSize,
      sequences: c.sequences ?? 1,
      threads: request.threads ?? 1,
      flashAttention: c.flashAttention,
      experimentalKvCacheKeyType: kvType,
      experimentalKvCacheValueType: kvType,
      ignoreMemorySafetyChecks: true,
      failedCreationRemedy: false,
    });
    entry.context_size = context.contextSize;
    entry.batch_size = context.batchSize;
    // Run the graph for a few tokens: proves the file really works and pages in what it touches.
    entry.create_ms = Date.now() - contextStart;
    const evalStart = Date.now();
    const sequence = context.getSequence();
    const tokens = Array.from({ length: request.evalTokens ?? 2 }, (_, i) => 300 + i);
    await sequence.evaluateWithoutGeneratingNewTokens(tokens);
    entry.eval_ms = Date.now() - evalStart;
    const peak = rss();
    await context.dispose();
    // The 4-decimal compute line is printed when the native context is freed; wait for it.
    for (let i = 0; i < 40 && !log.some((l) => l.startsWith('~llama_context:')); i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const lines = log.slice();
    const text = lines.join('\n');
    const grab = (re) => {
      const m = re.exec(text);
      return m ? m[1] : null;
    };
    entry.n_ctx = num(grab(/llama_context: n_ctx\s+=\s+(\d+)/));
    entry.n_ubatch = num(grab(/llama_context: n_ubatch\s+=\s+(\d+)/));
    entry.n_batch = num(grab(/llama_context: n_batch\s+=\s+(\d+)/));
    entry.flash_attn = grab(/llama_context: flash_attn\s+=\s+(\w+)/);
    entry.output_bytes = Object.values(buffers(lines, ' output')).reduce((a, b) => a + b, 0);
    entry.kv_bytes = Object.values(buffers(lines, 'KV')).reduce((a, b) => a + b, 0);
    // Recurrent layers: llama_memory_recurrent's "RS buffer size" (conv + state rows, f32).
    entry.rs_bytes = Object.values(buffers(lines, 'RS')).reduce((a, b) => a + b, 0);
    entry.n_seq_max = num(grab(/llama_context: n_seq_max\s+=\s+(\d+)/)) || (c.sequences ?? 1);
    // One summary line per cache (iSWA has two): cells, layers, K and V sizes.
    entry.kv_caches = [];
    for (const m of text.matchAll(/llama_kv_cache: size =\s+([0-9.]+) MiB \(\s*(\d+) cells,\s+(\d+) layers,.*K \((\w+)\):\s+([0-9.]+) MiB, V \((\w+)\):\s+([0-9.]+) MiB/g)) {
      entry.kv_caches.push({ mib: num(m[1]), cells: num(m[2]), layers: num(m[3]), k_type: m[4], k_mib: num(m[5]), v_type: m[6], v_mib: num(m[7]) });
    }
    // sched_reserve prints the compute buffer with 2 decimals when the context is created; the
    // debug line printed when it is freed has 4. Use the finer one when it agrees.
    const reserved = Object.values(buffers(lines, 'compute')).reduce((a, b) => a + b, 0);
    const precise = [...text.matchAll(/~llama_context:\s+(\S+) compute buffer size is\s+([0-9.]+) MiB/g)]
      .reduce((a, m) => a + num(m[2]) * MiB, 0);
    entry.compute_bytes = Math.abs(precise - reserved) <= 0.01 * MiB ? precise : reserved;
    entry.rss_before = rssBefore;
    entry.rss_peak = peak.peak;
    entry.swa_cells = grab(/creating\s+SWA KV cache, size = (\d+) cells/);
    entry.non_swa_cells = grab(/creating non-SWA KV cache, size = (\d+) cells/);
  } catch (error) {
    entry.error = String(error?.stack ?? error);
    entry.log_tail = log.slice(-20);
  }
  result.contexts.push(entry);
}
await model.dispose();
await llama.dispose();
process.stdout.write(`${JSON.stringify(result)}\n`);
