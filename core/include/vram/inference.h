#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vram/formats.h"
#include "vram/model.h"
#include "vram/status.h"

namespace vram {

/// Element types a KV cache can be stored in.
enum class KvDType : uint8_t { kF32, kF16, kBF16, kF8, kQ8_0, kQ4_0 };

/// Stable lowercase name ("f16", "q8_0", ...).
const char* KvDTypeName(KvDType dtype);
/// Bytes one cached value costs on average (q8_0: 34/32).
double KvBytesPerValue(KvDType dtype);
/// Parses "f32|f16|bf16|fp8|q8_0|q4_0".
Result<KvDType> ParseKvDType(std::string_view name);
/// Bytes of `elements` cache values stored back to back in rows of `row_elements`
/// (block types pack 32 values into 34 or 18 bytes).
Result<uint64_t> KvRowBytes(KvDType dtype, int64_t row_elements);

/// The program that runs the model, which decides padding, buffers and overheads.
enum class Runtime : uint8_t { kTheoretical, kLlamaCpp, kVllm, kTransformers };

/// Stable lowercase name ("theoretical", "llamacpp", "vllm", "transformers").
const char* RuntimeName(Runtime runtime);
/// Parses a runtime name.
Result<Runtime> ParseRuntime(std::string_view name);

/// What front ends need to know of a runtime; each runtime's rules live in one file of
/// core/src/runtime/.
struct RuntimeInfo {
  Runtime id = Runtime::kTheoretical;
  std::string name;             ///< "llamacpp".
  std::string display_name;     ///< "llama.cpp".
  std::string default_weights;  ///< The format to start from: "q4_k_m".
  std::vector<std::string> weight_families;  ///< Format families it loads; empty = all.
  std::vector<std::string> option_fields;    ///< Request fields only this runtime reads.
  bool needs_device_memory = false;  ///< Its budget depends on the device (vLLM).
  bool offloads_to_host = false;     ///< Layers and experts can live in host RAM.
};

/// Every runtime, in the order front ends list them.
std::vector<RuntimeInfo> ListRuntimes();
/// One runtime's description.
RuntimeInfo DescribeRuntime(Runtime runtime);

/// The ggml backend llama.cpp runs on: CUDA (token embeddings stay on the host, CUDA context,
/// 128-byte tensor alignment) or the CPU (every tensor in host RAM, 32-byte alignment).
enum class LlamaCppBackend : uint8_t { kCuda, kCpu };

/// Stable lowercase name ("cuda", "cpu").
const char* LlamaCppBackendName(LlamaCppBackend backend);
/// Parses "cuda" or "cpu".
Result<LlamaCppBackend> ParseLlamaCppBackend(std::string_view name);

/// Attention kernel used by Hugging Face transformers.
enum class AttentionImpl : uint8_t { kEager, kSdpa, kFlashAttention2 };

/// Stable lowercase name ("eager", "sdpa", "flash_attention_2").
const char* AttentionImplName(AttentionImpl impl);
/// Parses an attention implementation name.
Result<AttentionImpl> ParseAttentionImpl(std::string_view name);

/// What the user wants to run.
struct InferenceRequest {
  int64_t context_tokens = 4096;  ///< Tokens per sequence (prompt + generated), 1..16M.
  int64_t batch = 1;              ///< Concurrent sequences, 1..65536.
  KvDType kv_dtype = KvDType::kF16;
  Runtime runtime = Runtime::kTheoretical;
  bool flash_attention = true;    ///< Fused attention kernel (llama.cpp -fa, vLLM always).
  AttentionImpl attention_impl = AttentionImpl::kSdpa;  ///< transformers only.
  int64_t ubatch_tokens = 512;    ///< llama.cpp n_ubatch; prefill chunk for the others.
  LlamaCppBackend llamacpp_backend = LlamaCppBackend::kCuda;
  double gpu_memory_utilization = 0.92;  ///< vLLM fraction of device memory it may take.
  int64_t vllm_block_tokens = 16;       ///< vLLM KV block size in tokens.
  /// vLLM profile-run size (max_num_batched_tokens); 0 = the `vllm serve` default for the device.
  int64_t vllm_max_batched_tokens = 0;
  /// vLLM max_num_seqs; 0 = the `vllm serve` default for the device.
  int64_t vllm_max_num_seqs = 0;
  bool cuda_graphs = true;         ///< vLLM: capture CUDA graphs (false = --enforce-eager).
  uint64_t device_memory_bytes = 0;  ///< Memory of the target device; 0 when unknown.
};

/// Checks every field and names the first bad one with its accepted range.
Status ValidateRequest(const InferenceRequest& request);

/// One itemized line of a breakdown.
struct BreakdownItem {
  std::string category;     ///< "weights", "kv_cache", "activations" or "overhead".
  std::string key;          ///< Stable id, e.g. "logits".
  std::string label;        ///< Short name for display.
  uint64_t bytes = 0;
  std::string explanation;  ///< One sentence: why it is this big.
};

/// The memory a workload needs, itemized, in bytes.
struct InferenceEstimate {
  int64_t parameters = 0;
  int64_t active_parameters = 0;
  uint64_t weights_bytes = 0;
  uint64_t kv_cache_bytes = 0;  ///< KV cache plus the recurrent state of recurrent layers.
  uint64_t recurrent_state_bytes = 0;  ///< Part of kv_cache_bytes: conv + recurrent state.
  uint64_t recurrent_state_bytes_per_sequence = 0;
  uint64_t activations_bytes = 0;
  uint64_t overhead_bytes = 0;
  uint64_t total_bytes = 0;  ///< On the device.
  /// Host RAM the runtime needs besides (llama.cpp keeps token embeddings, the output buffer and
  /// the mask inputs on the CPU).
  uint64_t host_bytes = 0;
  int64_t kv_tokens_per_sequence = 0;  ///< Cache slots allocated per sequence after padding.
  uint64_t kv_bytes_per_token = 0;     ///< Cache bytes one more token costs (all layers, full).
  /// vLLM: the bytes it takes from the device (utilization x memory), 0 if device unknown.
  uint64_t runtime_reserved_bytes = 0;
  /// vLLM: tokens of KV cache that fit in what it reserves, 0 if device unknown.
  int64_t kv_capacity_tokens = 0;
  std::vector<BreakdownItem> items;  ///< Sums to total_bytes.
  std::vector<std::string> notes;    ///< Assumptions and warnings, in words.
};

/// The totals only: no items, notes or strings (the fast path, well under a microsecond).
Result<InferenceEstimate> EstimateNumbers(const ModelDescription& model, const WeightPlan& weights,
                                          const InferenceRequest& request);

/// Itemizes inference memory for a model stored as `weights`, with a sentence per item.
Result<InferenceEstimate> EstimateInference(const ModelDescription& model,
                                            const WeightPlan& weights,
                                            const InferenceRequest& request);

}  // namespace vram
