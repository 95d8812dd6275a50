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

}  // namespace vram::world
