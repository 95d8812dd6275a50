#pragma once

// Constants that come from the world, not from first principles. Each one cites where it was
// measured or defined. Nothing else in the core may type such a number.

#include <cstdint>

namespace vram::world {

constexpr uint64_t kMiB = uint64_t{1} << 20;

// --- CUDA / PyTorch ---------------------------------------------------------------------------

/// Device memory taken by a PyTorch process's CUDA context with lazy module loading (the
/// default since PyTorch 1.13 / CUDA 11.7): 287,047,680 bytes measured with cudaMemGetInfo.
/// Source: https://github.com/pytorch/pytorch/pull/86509 (description). NVIDIA's ptrblck quotes
/// "~300MB" to "around 400MB" depending on the GPU: pytorch/pytorch#107667, #109888.
constexpr uint64_t kPytorchCudaContextBytes = 287047680;

/// cuBLAS workspace PyTorch keeps per handle/stream on Hopper and later: 32 MiB
/// (aten/src/ATen/cuda/CublasHandlePool.cpp, getChosenWorkspaceSize: 4096 KiB * 8 on sm90).
constexpr uint64_t kCublasWorkspaceBytes = 32 * kMiB;

/// A llama.cpp process's CUDA context plus cuBLAS handle. ggml-cuda loads far fewer kernels
/// than PyTorch; we use the same lazily-loaded context figure as a conservative bound until the
/// differential test (issue 8) measures it. Source: as kPytorchCudaContextBytes.
constexpr uint64_t kLlamaCppCudaContextBytes = kPytorchCudaContextBytes;

/// NCCL communicator buffers per GPU: NCCL_BUFFSIZE defaults to 4 MiB per channel and peer
/// for the Simple protocol, plus LL/LL128 buffers; a ring over 8 GPUs with 16-32 channels holds
/// a few hundred MiB (NCCL environment-variable docs, NCCL_BUFFSIZE). An estimate, not a
/// measurement.
constexpr uint64_t kNcclBuffersBytes = 256 * kMiB;

// --- llama.cpp (b7847, a5bb8ba4, Jan 2026) ---------------------------------------------------

/// Default physical batch (n_ubatch) and logical batch (n_batch).
/// Source: common/common.h, struct common_params: n_batch = 2048, n_ubatch = 512.
constexpr int64_t kLlamaCppDefaultUbatch = 512;
constexpr int64_t kLlamaCppDefaultBatch = 2048;

/// n_ctx (and each sequence's n_ctx_seq) is padded to a multiple of 256 cells, with or without
/// flash attention. Source: src/llama-context.cpp, GGML_PAD(n_ctx, 256) (PR 17046); b4747 used
/// 256 with -fa and 32 without.
constexpr int64_t kLlamaCppKvPadding = 256;

/// CUDA buffer rules for a weight tensor: 128-byte alignment, and quantized rows padded to a
/// multiple of 512 values. Source: ggml/src/ggml-cuda/ggml-cuda.cu,
/// ggml_backend_cuda_buffer_type_get_alignment and get_alloc_size (MATRIX_ROW_PADDING = 512).
constexpr uint64_t kCudaTensorAlignment = 128;
/// CPU buffers align tensors to 32 bytes (ggml/src/ggml-impl.h TENSOR_ALIGNMENT; GGUF's default
/// general.alignment is also 32).
constexpr uint64_t kGgmlCpuTensorAlignment = 32;
constexpr int64_t kCudaMatrixRowPadding = 512;

// --- vLLM (V1 engine) ------------------------------------------------------------------------

/// Default --gpu-memory-utilization: 0.92 since v0.21.0 (vllm-project/vllm#38284,
/// vllm/config/cache.py); 0.9 before.
constexpr double kVllmDefaultGpuMemoryUtilization = 0.92;

/// Memory vLLM's profile run attributes to non-torch allocations (NCCL, cuBLAS, CUDA runtime
/// growth) on one GPU: "non_torch_memory takes 0.16GiB" / "0.20GiB" in the worker log.
/// Source: https://github.com/vllm-project/vllm/pull/12126 and /pull/14447 (log excerpts).
constexpr uint64_t kVllmNonTorchBytes = 200 * kMiB;

/// CUDA-graph memory for the default capture sizes (1..512): real logs show 0.13-0.21 GiB for
/// 1B models and about 0.5 GiB for 7-8B models ("Graph capturing finished in N secs, took X
/// GiB", vllm PR #11349 description; gpu_model_runner.py). Since v0.21 it is estimated up front
/// and subtracted from the KV budget (VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS=1).
constexpr uint64_t kVllmCudaGraphBytes = 512 * kMiB;

/// Default KV block size in tokens. Source: vllm/config/cache.py DEFAULT_BLOCK_SIZE = 16.
constexpr int64_t kVllmBlockTokens = 16;

/// `vllm serve` scheduler defaults (vllm/engine/arg_utils.py get_batch_defaults): GPUs with at
/// least 70 GiB (except A100) get max_num_batched_tokens 8192 and max_num_seqs 1024; others
/// 2048 and 256.
constexpr uint64_t kVllmLargeGpuBytes = uint64_t{70} << 30;
constexpr int64_t kVllmLargeGpuBatchedTokens = 8192;
constexpr int64_t kVllmLargeGpuMaxSeqs = 1024;
constexpr int64_t kVllmBatchedTokens = 2048;
constexpr int64_t kVllmMaxSeqs = 256;

/// vLLM pads the vocabulary of VocabParallelEmbedding / ParallelLMHead to a multiple of 64
/// before splitting it across tensor-parallel ranks. Source:
/// vllm/model_executor/layers/vocab_parallel_embedding.py, DEFAULT_VOCAB_PADDING_SIZE = 64.
constexpr int64_t kVllmVocabPadding = 64;

// --- Throughput rooflines (planner.cc) -------------------------------------------------------
//
// Decode time per token = bytes read / (peak bandwidth x efficiency) + layers x a fixed cost per
// layer (kernel launches and synchronisation, which dominate small models on fast GPUs). Each
// pair is fitted on two llama-bench runs of ONE device and ONE model at two weight sizes (F16
// and 4-bit): the slope gives the bandwidth efficiency, the intercept the fixed cost. Every other
// measurement in tests/reference/throughput.json validates them.

/// Discrete GPUs (CUDA): RTX 4090, Llama-3-8B, tg512: Q4_K_M 130.58 t/s, F16 54.84 t/s (llama.cpp
/// May 2024). Source: https://github.com/XiongjieDai/GPU-Benchmarks-on-LLM-Inference (README,
/// "LLaMA 3" table). Every fit here is recomputed by tests/throughput_test.cc
/// (ThroughputValidationTest.CalibrationPointsGiveTheConstants).
constexpr double kDecodeBandwidthEfficiencyGpu = 0.975;
constexpr double kDecodeLayerSecondsGpu = 91.4e-6;

/// vLLM with CUDA graphs (the default) on discrete GPUs: the llama.cpp GPU pair above, unchanged.
/// 12 published single-request vLLM runs (tests/reference/throughput.json, runtime "vllm": RTX
/// 4090, RTX A6000, L4, A100 40/80 GB, 2x H100; 0.5B to 72B, one MoE; bf16 and fp8; 2025-2026
/// releases) show no bias against it: median error 8.8%, mean 15.3%, signed errors -9% to +37%,
/// every one above +8% from one source's A100 host. A free least-squares refit gives an efficiency
/// above the hardware's peak (1.055) and 123 us per layer: p90 16.9% instead of 35.5% by fitting
/// that one host, but a median of 10.1%; rejected, so vLLM gets no constants of its own. Without
/// CUDA graphs (--enforce-eager) the one published V1 run decodes 2.2x slower than this
/// (vllm-project/vllm#20469) while vLLM's 2023 engine (no CUDA graphs yet) ran 22% faster than
/// it (mlc-ai/llm-perf-bench#35): recorded, not modelled.
constexpr double kDecodeBandwidthEfficiencyVllm = kDecodeBandwidthEfficiencyGpu;
constexpr double kDecodeLayerSecondsVllm = kDecodeLayerSecondsGpu;

/// Hugging Face transformers model.generate() on discrete GPUs runs every layer's modules from
/// Python, kernel by kernel: the fixed cost per layer is 6x llama.cpp's and grows with the work a
/// quantized linear layer adds (dequantization, extra kernels, Python wrappers). The bandwidth
/// efficiency is the GPU one above (a 7B/13B pair on one A100 cannot separate it from the fixed
/// cost); the fixed cost per layer is what remains of one published run per scheme, all from
/// Hugging Face's optimum-benchmark on one A100-SXM4-80GB (AMD EPYC 7742 host), batch 1:
///  - 16-bit: Llama-2-7B fp16 + SDPA (BetterTransformer), 256-token prompt, 512 new tokens:
///    decode 41.9 tokens/s. Source: https://github.com/huggingface/optimum-benchmark/blob/f75d9f93bb14ed56058f4c70ae4670b6cf3a8ed1/examples/running-llamas/artifacts/Llama-7b/short_report.csv
///  - GPTQ/AWQ (and the other weight-only quantizations, unmeasured): LLaMA-7B GPTQ 4-bit with
///    the ExLlamaV2 kernel, same run: 35.2 tokens/s (same file).
///  - bitsandbytes: Llama-2-7B load_in_4bit (fp4), 512-token prompt, 1000 new tokens: 24.3
///    tokens/s. Source: https://github.com/huggingface/optimum-benchmark/blob/71a60178d4d68186fc6010380c811f7fff4d92eb/examples/running-llamas/A100-80GB/bnb-batch_size(1)-sequence_length(512)-new_tokens(1000)/0/inference_results.csv
/// Validation: 13 more runs (10 on the same host with other attention kernels, GPTQ kernels, model
/// sizes and lengths; the transformers docs' unfused AWQ table on an A100; a T4): median error
/// 3.7%, mean 6.0%, worst +15.7%. The cost is CPU-bound: a faster host lowers it. AutoAWQ's fused
/// modules remove most of it (three runs recorded in throughput.json, 2.8-4.8x faster than this;
/// not modelled), and so should torch.compile with a static cache (unmeasured here). LLM.int8()
/// uses the bitsandbytes figure although it is known to be slower (unmeasured here).
constexpr double kDecodeLayerSecondsTransformersDense = 533.9e-6;
constexpr double kDecodeLayerSecondsTransformersQuantized = 826.5e-6;
constexpr double kDecodeLayerSecondsTransformersBitsandbytes = 1216.3e-6;

/// Apple silicon (Metal): M2 Ultra 76-core GPU, Llama-2-7B tg128: Q4_0 94.27 t/s, F16 41.02 t/s
/// (build 8e672ef). Source: https://github.com/ggml-org/llama.cpp/discussions/4167 (summary table).
constexpr double kDecodeBandwidthEfficiencyApple = 0.859;
constexpr double kDecodeLayerSecondsApple = 154.8e-6;

/// CPU (and host RAM holding offloaded weights): i9-13900K with dual-channel DDR5-6400
/// (102.4 GB/s), LLaMA-7B Q4_0 (3.56 GiB) tg128 at 8 threads: 18.27 t/s, i.e. 70 GB/s read = 0.68
/// of peak. Source: https://github.com/ggml-org/llama.cpp/issues/34 (comment by slaren,
/// 2023-08-12). The fixed cost per layer is not separable from one point and is taken as 0.
constexpr double kDecodeBandwidthEfficiencyCpu = 0.68;
constexpr double kDecodeLayerSecondsCpu = 0.0;

/// Prefill = compute-bound: FLOPs per token (2 x matmul parameters + attention) over dense
/// TFLOPS x efficiency. llama.cpp pp512 fits (FLOPs from the model's tensors):
/// GeForce NVIDIA (their TFLOPS are the FP32-accumulate rate; llama.cpp's int8 MMQ
/// and FP16-accumulate GEMMs run faster): RTX 4090 Llama-3-8B Q4_K_M pp512 7138.99 t/s
/// (XiongjieDai README, LLaMA 3 table).
constexpr double kPrefillEfficiencyGpuConsumer = 0.682;
/// Workstation NVIDIA and AMD/Intel cards list their full-rate FP32-accumulate (or undistinguished)
/// FP16 figure, twice a GeForce card's listed rate for the same silicon (hardware.json notes), so
/// the same kernels reach half the fraction of it.
constexpr double kPrefillEfficiencyGpuFullRate = kPrefillEfficiencyGpuConsumer / 2;
/// Data-centre GPUs under llama.cpp (far from peak: MMQ is tuned for consumer cards): H100 PCIe
/// Llama-2-7B Q4_0 pp512 4868.59 t/s (XiongjieDai README, LLaMA 2 overview table). vLLM reaches
/// much more; the planner does not model that (see notes).
constexpr double kPrefillEfficiencyGpuDatacenter = 0.0884;
/// Apple: M2 Ultra 76-core Llama-2-7B Q4_0 pp512 1238.48 t/s (discussion 4167).
constexpr double kPrefillEfficiencyApple = 0.615;
/// CPU: i9-13900K LLaMA-7B pp512 at 32 threads 55.21 t/s (issue 34, slaren) = 0.74 TFLOPS
/// against a nominal FP32 FMA peak of 8 P-cores x 32 FLOP/clk x 5.5 GHz + 16 E-cores x 16
/// FLOP/clk x 4.3 GHz = 2.51 TFLOPS: 0.30 (an estimate; hardware.json's CPU TFLOPS are too).
constexpr double kPrefillEfficiencyCpu = 0.30;

/// Latency of one small tensor-parallel all-reduce (decode messages are a few KiB to tens of
/// KiB). NVLink: ~6 us for 2 H100s with NCCL NVLS inside a CUDA graph
/// (https://github.com/NVIDIA/nccl/issues/1259). PCIe: 19.4-22.3 us for 4-16 KiB with NCCL
/// between 4 GPUs behind a PCIe switch, inside a CUDA graph
/// (https://github.com/haohervchb/sglang-V100/pull/2, table). Infinity Fabric is taken as NVLink,
/// Ethernet (Gaudi RoCE) as PCIe.
constexpr double kAllReduceLatencySecondsNvlink = 6e-6;
constexpr double kAllReduceLatencySecondsPcie = 20e-6;

/// Host RAM that holds offloaded layers or experts when the user names none: dual-channel
/// DDR5-5600, 2 x 8 bytes x 5600 MT/s (JEDEC DDR5; hardware.json entry cpu-ddr5-5600-2ch).
constexpr uint64_t kDefaultHostMemoryBandwidth = 89600000000ull;

// --- Power and cost ---------------------------------------------------------------------------

/// Non-GPU draw of a workstation at full load: the 170 W TDP of hardware.json's desktop
/// reference CPU (Ryzen 9 9950X) plus 30 W for board, memory, storage and fans (estimate).
constexpr double kSystemBaseWatts = 200.0;
/// A PSU should run at no more than 80% of its rating. Cross-check: NVIDIA asks for an 850 W
/// PSU for the 450 W RTX 4090 (https://www.nvidia.com/en-us/geforce/graphics-cards/40-series/rtx-4090/,
/// "Required System Power"); (450 + 200) / 0.8 = 812.5 -> 850 W.
constexpr double kPsuLoadFraction = 0.8;
/// US average residential electricity price, April 2024: 16.88 cents/kWh. Source: EIA Electricity
/// Monthly Update, https://www.eia.gov/electricity/monthly/update/end-use.php.
constexpr double kElectricityUsdPerKwh = 0.1688;
/// Hours in an average month (8766 / 12, rounded).
constexpr double kHoursPerMonth = 730.0;

// --- Training changes (planner_training.cc: what each piece of advice costs) ----------------
//
// Speed is tokens per second of the whole job, from one published pair of runs that differ in
// that change only; quality is the relative drop of a published task score. They rank the
// advice; the planner does not time a training step.

/// Full activation checkpointing: 9174 -> 7210 tokens/s (-21.4%); chunked cross-entropy (the
/// fused loss): 8998 -> 9174 tokens/s (+2.0%). Llama 3.2 3B full fine-tuning on one A100, batch
/// 2 x 4096 packed tokens, compiled; rows "+ Chunked Cross Entropy" and "+ Activation
/// Checkpointing" of the "Optimization flags" table. Source:
/// https://github.com/pytorch/torchtune/blob/1814feb17a9038e1a8053ce93111bd26774a8db6/README.md
/// It agrees with the FLOP count: recomputation adds one forward pass (Chen et al. 2016,
/// arXiv:1604.06174), a third more compute when backward costs twice the forward (Kaplan et al.
/// 2020, arXiv:2001.08361, section 2.1), i.e. 25% fewer tokens/s.
constexpr double kFullCheckpointingSpeedChange = 7210.0 / 9174.0 - 1.0;
constexpr double kFusedLossSpeedChange = 9174.0 / 8998.0 - 1.0;

/// bitsandbytes 8-bit AdamW against fused 32-bit AdamW, Llama-2-7B full BF16 fine-tuning on
/// Alpaca, one A100: 3000 vs 3200 tokens/s, truthfulqa_mc2 42.75 vs 42.61 (no quality loss; the
/// 8-bit optimizer paper, Dettmers et al. 2022, arXiv:2110.02861, reports 32-bit parity).
/// Source: https://github.com/pytorch/ao/blob/072500abcfbdec15a429eb53160c63fb92534b85/torchao/optim/README.md
constexpr double kAdamW8bitSpeedChange = 3000.0 / 3200.0 - 1.0;
constexpr double kTruthfulQaAdamW8bit = 42.75;
constexpr double kTruthfulQaAdamW = 42.61;

/// LoRA against full fine-tuning (the torchtune table above, row "LoRA" after "+ 8-bit AdamW"):
/// 6960 -> 8210 tokens/s, +18.0%: no weight gradients for the frozen base. (Hu et al. 2021,
/// arXiv:2106.09685, section 4.2: 25% faster on GPT-3 175B.)
constexpr double kLoraSpeedChange = 8210.0 / 6960.0 - 1.0;

/// QLoRA (bitsandbytes 4-bit base) against 16-bit LoRA, HF Trainer + PEFT, Mistral-7B, r 16 on
/// q,k,v,o, micro-batch 4 x 4096 tokens, one A100-80GB: 2903.78 vs 3324.155 tokens/s (-12.6%),
/// rows baseline-peft-bnb and standard-peft. Source:
/// https://github.com/foundation-model-stack/fms-acceleration/blob/876e2ed6fc4e966785e3f4315f5ee3cdf8e3d097/scripts/benchmarks/refs/a100_80gb.csv
constexpr double kQloraSpeedChange = 2903.78 / 3324.155 - 1.0;

/// Quality of LoRA and QLoRA against full fine-tuning: QLoRA paper (Dettmers et al. 2023,
/// arXiv:2305.14314), Table 3, Super-NaturalInstructions RougeL of T5 80M, 250M, 780M, 3B and
/// 11B: full BF16 fine-tuning 40.1, 42.1, 48.0, 54.3, 62.0; LoRA BF16 40.5, 42.6, 47.1, 55.4,
/// 60.7; QLoRA NF4 + DQ 40.4, 42.7, 47.7, 55.3, 60.9. Means below. (Adapters on every linear
/// layer; Table 4 has QLoRA NF4 + DQ at 53.1 against 53.0 for 16-bit LoRA on MMLU.)
constexpr double kSniRougeLFullFinetune = (40.1 + 42.1 + 48.0 + 54.3 + 62.0) / 5;
constexpr double kSniRougeLLora = (40.5 + 42.6 + 47.1 + 55.4 + 60.7) / 5;
constexpr double kSniRougeLQlora = (40.4 + 42.7 + 47.7 + 55.3 + 60.9) / 5;
constexpr double kMmluLora = 53.0;   ///< Table 4 mean, BFloat16 (16-bit LoRA).
constexpr double kMmluQlora = 53.1;  ///< Table 4 mean, NFloat4 + DQ.

/// ZeRO-3 / FSDP full_shard: Mistral-7B full fine-tuning (HF Trainer, gradient checkpointing),
/// micro-batch 4 x 4096 tokens per GPU on A100-80GB: 3008.934 tokens/s per GPU over 2 GPUs
/// sharded against 3062.694 on one (-1.8%). Same fms-acceleration CSV as kQloraSpeedChange.
/// ZeRO-2 keeps data parallelism's communication volume (Rajbhandari et al. 2020,
/// arXiv:1910.02054, section 7); taken as free.
constexpr double kFullShardSpeedChange = 3008.934 / 3062.694 - 1.0;

/// Optimizer CPU offload (DeepSpeed ZeRO-Offload): 3.13 s per step against 1.27 s without, ViT
/// giant (1.1B), full BF16, activation checkpointing, batch 32, RTX 4070 Ti SUPER, Ryzen 5600,
/// DDR4 ("DeepSpeed is untuned"); torchao's own offload took 1.52 s. Source: the torchao README
/// of kAdamW8bitSpeedChange, "Optimizer CPU offload".
constexpr double kOptimizerOffloadStepSeconds = 3.13;
constexpr double kNoOffloadStepSeconds = 1.27;
constexpr double kOptimizerOffloadSpeedChange = kNoOffloadStepSeconds / kOptimizerOffloadStepSeconds - 1.0;

/// Smaller micro-batches use the GPU less well. Tokens/s of a micro-batch of T tokens is taken
/// as proportional to T / (T + T0): a fixed cost per micro-batch worth T0 tokens. T0 comes from
/// Mistral-7B full fine-tuning on one A100-80GB at 4096 tokens per sequence (the fms-acceleration
/// CSV above): micro-batch 4 at 3062.694 tokens/s, 8 at 3143.118, so
/// T0 = 8 x 4096 x (1 - r) / (2r - 1) with r = 3062.694 / 3143.118: about 884 tokens. (lit-gpt's
/// LoRA table, short Alpaca samples, shows the same kind of loss: micro-batch 2 -> 1 costs
/// Llama-2-7B 47% of its samples/s; tutorials/resource-tables.md.)
constexpr double kMicroBatchSpeedRatio = 3062.694 / 3143.118;
constexpr double kMicroBatchOverheadTokens =
    8.0 * 4096.0 * (1.0 - kMicroBatchSpeedRatio) / (2.0 * kMicroBatchSpeedRatio - 1.0);

/// Perplexity increase over F16 of llama.cpp's formats, percent: Llama-3-70B, wiki.test.
/// Source: https://github.com/ggml-org/llama.cpp/pull/6745 (comment by dranger003, 2024-05-03).
/// 16-bit formats are 0 by definition.
struct FormatQualityLoss {
  const char* format;
  double perplexity_increase_percent;
};
constexpr FormatQualityLoss kFormatQualityLoss[] = {
    {"gguf-f16", 0.0}, {"gguf-bf16", 0.0}, {"bf16", 0.0},    {"fp16", 0.0},     {"fp32", 0.0},
    {"q8_0", 0.03},    {"q6_k", 0.47},     {"q5_k_m", 1.23}, {"q5_k_s", 1.89},  {"q4_k_m", 4.83},
    {"q4_k_s", 6.15},  {"iq4_nl", 6.90},   {"iq4_xs", 7.07}, {"q3_k_l", 16.63}, {"q3_k_m", 18.75},
    {"iq3_m", 21.53},  {"iq3_s", 22.57},   {"q3_k_s", 28.95}, {"iq3_xs", 31.45}, {"iq3_xxs", 40.14},
    {"q2_k", 68.73},   {"iq2_m", 72.95},   {"q2_k_s", 91.94}, {"iq2_s", 95.05}, {"iq2_xs", 103.07},
    {"iq2_xxs", 135.64}, {"iq1_m", 200.95}, {"iq1_s", 248.51}};

/// The frozen base of LoRA and QLoRA when the request names none: bf16 (the PEFT default of a
/// bf16 checkpoint) and NF4 with double quantization (the QLoRA paper's recipe,
/// arXiv:2305.14314, section 3).
constexpr const char* kLoraDefaultBase = "bf16";
constexpr const char* kQloraDefaultBase = "nf4-dq";

}  // namespace vram::world
