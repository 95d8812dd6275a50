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

}  // namespace vram::world
