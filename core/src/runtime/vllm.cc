// vLLM (V1 engine): block-rounded paged KV cache, the profile run's activation peak, CUDA
// context, non-torch memory and CUDA graphs, and the gpu_memory_utilization budget that decides
// how many tokens of cache it allocates.

#include <algorithm>
#include <cmath>

#include "../numeric.h"
#include "../world.h"
#include "profile.h"

namespace vram::runtime {
namespace {

using internal::CeilDiv;
using internal::Fixed;
using internal::GiB;
using internal::RoundUp;
using internal::Thousands;

/// Bytes of the model's own dtype: the checkpoint's 16/32-bit type, 16-bit for quantized ones.
uint64_t ModelDtypeBytes(const WeightPlan& w) {
  return w.format.scheme == QuantScheme::kDense ? static_cast<uint64_t>(DTypeBytes(w.format.dense_dtype)) : 2;
}

class Vllm final : public Profile {
 public:
  Runtime id() const override { return Runtime::kVllm; }
  const char* name() const override { return "vllm"; }
  const char* display_name() const override { return "vLLM"; }
  std::vector<const char*> weight_families() const override {
    return {"dense", "fp8", "bitsandbytes", "gptq", "awq", "mxfp4"};
  }
  std::vector<const char*> option_fields() const override {
    return {"gpu_memory_utilization", "cuda_graphs", "max_num_batched_tokens", "max_num_seqs",
            "block_size"};
  }

  Status CheckWeights(const WeightFormat& f) const override {
    if (f.is_gguf()) {
      return Status(ErrorCode::kUnsupported, "weights: vllm does not run the GGUF mix '" + f.id +
                                                 "' natively; use runtime llamacpp");
    }
    if (f.scheme == QuantScheme::kExl2) {
      return Status(ErrorCode::kUnsupported,
                    "weights: vLLM cannot load EXL2; use gptq, awq, fp8 or bf16");
    }
    return Status::Ok();
  }

  CachePlan PlanCache(const InferenceRequest& r) const override {
    CachePlan plan;
    plan.tokens_per_sequence = static_cast<int64_t>(RoundUp(
        static_cast<uint64_t>(r.context_tokens), static_cast<uint64_t>(r.vllm_block_tokens)));
    const bool large = r.device_memory_bytes >= world::kVllmLargeGpuBytes;
    plan.batched_tokens = r.vllm_max_batched_tokens > 0 ? r.vllm_max_batched_tokens
                          : large                       ? world::kVllmLargeGpuBatchedTokens
                                                        : world::kVllmBatchedTokens;
    plan.max_seqs = r.vllm_max_num_seqs > 0 ? r.vllm_max_num_seqs
                    : large                 ? world::kVllmLargeGpuMaxSeqs
                                            : world::kVllmMaxSeqs;
    return plan;
  }

  int64_t LayerTokens(const ModelDescription& m, const LayerAttention& layer,
                      const InferenceRequest& r, const CachePlan& plan) const override {
    if (layer.kind == AttentionKind::kNone) return 0;
    if (layer.kind != AttentionKind::kSlidingWindow) return plan.tokens_per_sequence;
    // kv_cache_interface.py SlidingWindowSpec: cdiv(min(window - 1 + max_num_batched_tokens,
    // max_model_len), block_size) + 1 blocks, never more than the sequence's own blocks.
    const uint64_t block = static_cast<uint64_t>(r.vllm_block_tokens);
    const uint64_t span = static_cast<uint64_t>(
        std::min(layer.window_tokens - 1 + plan.batched_tokens, r.context_tokens));
    const int64_t blocks = std::min<int64_t>(
        static_cast<int64_t>(CeilDiv(span, block)) + 1,
        static_cast<int64_t>(CeilDiv(static_cast<uint64_t>(plan.tokens_per_sequence), block)));
    return blocks * r.vllm_block_tokens;
  }

  // mamba_cache_dtype = mamba_ssm_cache_dtype = "auto": the model dtype
  // (MambaStateDtypeCalculator; NemotronH overrides the SSM state to float32).
  uint64_t ConvStateBytesPerValue(const WeightPlan& w) const override { return ModelDtypeBytes(w); }
  uint64_t RecurrentStateBytesPerValue(const WeightPlan& w) const override { return ModelDtypeBytes(w); }
  std::string StateNote() const override { return "the model dtype (vLLM's mamba_cache_dtype auto)"; }

  std::string CachePaddingNote(const InferenceRequest& r) const override {
    return "; vLLM allocates whole blocks of " + std::to_string(r.vllm_block_tokens) + " tokens";
  }

  uint64_t Activations(const Workload& w, internal::Items& items,
                       InferenceEstimate* e) const override {
    // profile_run: one dummy forward of max_num_batched_tokens tokens, then logits for one
    // position per request (model dtype) and the sampler's fp32 probabilities and logprobs.
    const uint64_t hidden = static_cast<uint64_t>(w.model.attention.hidden_size);
    const uint64_t vocab = static_cast<uint64_t>(w.model.vocab_size);
    const uint64_t ffn_factor = w.gated ? 3 : 2;
    const uint64_t tokens = static_cast<uint64_t>(w.plan.batched_tokens);
    const uint64_t dtype_bytes = 2;
    const uint64_t ffn = tokens * (ffn_factor * w.widest_ffn + 2 * hidden) * dtype_bytes;
    const uint64_t attention = tokens * (2 * hidden + w.qkv_width) * dtype_bytes;
    const uint64_t seqs = std::min<uint64_t>(tokens, static_cast<uint64_t>(w.plan.max_seqs));
    const uint64_t logits = seqs * vocab * (dtype_bytes + 4 + 4);
    const uint64_t peak = std::max(ffn, attention) + logits;
    items.Add("activations", "profile_peak", "Activation peak (profile run)", peak, [&] {
      return std::string(
          "vLLM profiles one forward pass of max_num_batched_tokens = " + Thousands(tokens) +
          " tokens: 16-bit MLP intermediates (" + Thousands(w.widest_ffn) +
          " wide) plus logits and fp32 sampler copies for " + Thousands(seqs) + " requests");
    });
    return peak;
  }

  uint64_t Overhead(const InferenceRequest& r, internal::Items& items,
                    uint64_t* budgeted) const override {
    items.Add("overhead", "cuda_context", "CUDA context", world::kPytorchCudaContextBytes, [&] {
      return std::string(
          "PyTorch process CUDA context with lazy module loading (measured 287 MB); outside vLLM's "
          "gpu_memory_utilization budget");
    });
    items.Add("overhead", "non_torch", "Non-torch memory", world::kVllmNonTorchBytes, [&] {
      return std::string(
          "NCCL, cuBLAS and CUDA runtime growth that vLLM's profiler reports as non_torch_memory");
    });
    *budgeted = world::kVllmNonTorchBytes;
    if (r.cuda_graphs) {
      items.Add("overhead", "cuda_graphs", "CUDA graphs", world::kVllmCudaGraphBytes, [&] {
        return std::string(
            "captured decode graphs for batch sizes 1-512 (turn off with --enforce-eager)");
      });
      *budgeted += world::kVllmCudaGraphBytes;
    }
    return world::kPytorchCudaContextBytes + *budgeted;
  }

  bool BudgetsFromDevice() const override { return true; }

  Budget KvBudget(const InferenceRequest& r, const InferenceEstimate& e, uint64_t budgeted_overhead,
                  uint64_t block_bytes) const override {
    // gpu_worker.py determine_available_memory: requested = ceil(total x utilization);
    // KV = requested - (weights + torch peak + non-torch growth + CUDA-graph estimate).
    Budget b;
    if (r.device_memory_bytes == 0) return b;
    const uint64_t non_kv = e.weights_bytes + e.activations_bytes + budgeted_overhead;
    b.reserved_bytes = static_cast<uint64_t>(
        std::ceil(static_cast<double>(r.device_memory_bytes) * r.gpu_memory_utilization));
    if (b.reserved_bytes > non_kv && block_bytes > 0) {
      const uint64_t blocks = (b.reserved_bytes - non_kv) / block_bytes;
      b.kv_capacity_tokens = static_cast<int64_t>(blocks) * r.vllm_block_tokens;
    }
    return b;
  }

  void BudgetNotes(const InferenceRequest& r, const InferenceEstimate& e,
                   internal::Items& items) const override {
    if (r.device_memory_bytes == 0) {
      items.Note([&] {
        return std::string(
            "vLLM reserves gpu_memory_utilization x device memory regardless of need; "
            "give a device to see what it takes and how many tokens of KV cache fit");
      });
      return;
    }
    items.Note([&] {
      return std::string(
          "vLLM takes " + GiB(static_cast<double>(e.runtime_reserved_bytes)) +
          " (gpu_memory_utilization x " + GiB(static_cast<double>(r.device_memory_bytes)) +
          ") and fills what is left after weights, activations and overhead with KV blocks: " +
          Thousands(static_cast<uint64_t>(e.kv_capacity_tokens)) + " tokens");
    });
    if (e.kv_capacity_tokens < r.context_tokens) {
      items.Note([&] {
        return std::string("vLLM would refuse to start: one request of " +
                           Thousands(static_cast<uint64_t>(r.context_tokens)) +
                           " tokens does not fit in the KV budget");
      });
    }
  }

  uint64_t Capacity(const Device& d, const InferenceRequest& r) const override {
    // vLLM takes ceil(memory x utilization) and keeps its CUDA context outside that budget.
    const uint64_t usable = d.usable_memory_bytes();
    const uint64_t reserved =
        static_cast<uint64_t>(std::ceil(static_cast<double>(usable) * r.gpu_memory_utilization));
    return std::min(usable, reserved + world::kPytorchCudaContextBytes);
  }
  std::string CapacityNote(const InferenceRequest& r) const override {
    return "vLLM: capacity is gpu_memory_utilization x memory (" +
           Fixed(r.gpu_memory_utilization, 2) + ") plus the CUDA context it does not budget";
  }
  Status CheckDevice(const Device& d) const override {
    if (d.device_class() == DeviceClass::kDiscreteGpu) return Status::Ok();
    return Status(ErrorCode::kUnsupported,
                  "gpu: vLLM needs a discrete GPU; '" + d.id + "' is " +
                      (d.device_class() == DeviceClass::kApple ? "Apple silicon" : "a CPU system"));
  }

  double GpuBandwidthEfficiency() const override { return world::kDecodeBandwidthEfficiencyVllm; }
  double GpuLayerSeconds(const WeightFormat& format) const override {
    return world::kDecodeLayerSecondsVllm;
  }
  void ThroughputNotes(const InferenceRequest& r, bool discrete_gpu, double layer_seconds,
                       double fixed_seconds, std::vector<std::string>* notes) const override {
    notes->push_back(
        "decode uses llama.cpp's measured GPU efficiency, which published single-request vLLM runs "
        "agree with; vLLM prefill on data-centre GPUs is much faster than this");
    if (!r.cuda_graphs) {
      notes->push_back(
          "without CUDA graphs (--enforce-eager) a published vLLM V1 run decoded 2.2x slower than "
          "this estimate");
    }
  }

  std::vector<KvDType> SmallerCacheTypes() const override { return {KvDType::kF8}; }
  std::vector<std::string> WeightLadder() const override {
    return {"bf16", "fp8-e4m3", "gptq-8bit-g128", "awq-4bit-g128", "gptq-4bit-g128"};
  }
};

}  // namespace

const Profile& VllmProfile() {
  static const Vllm profile;
  return profile;
}

}  // namespace vram::runtime
