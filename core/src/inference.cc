// Inference memory: weights, KV cache, transient activations and runtime overhead, itemized.

#include "numeric.h"
#include "vram/inference.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "runtime/profile.h"
#include "world.h"

namespace vram {
namespace {

using internal::CeilDiv;
using internal::GiB;
using internal::RoundUp;
using internal::Thousands;


/// How a cache element type is stored: `block_bytes` bytes per `block_values` values. ggml
/// block_q8_0 = 32 int8 + an fp16 scale (34 B); block_q4_0 = 16 B of nibbles + an fp16 scale (18 B).
struct KvLayout {
  KvDType dtype;
  const char* name;
  uint64_t block_values;
  uint64_t block_bytes;
};
constexpr KvLayout kKvLayouts[] = {
    {KvDType::kF32, "f32", 1, 4}, {KvDType::kF16, "f16", 1, 2},     {KvDType::kBF16, "bf16", 1, 2},
    {KvDType::kF8, "fp8", 1, 1},  {KvDType::kQ8_0, "q8_0", 32, 34}, {KvDType::kQ4_0, "q4_0", 32, 18},
};

const KvLayout& LayoutOf(KvDType dtype) {
  for (const KvLayout& l : kKvLayouts) {
    if (l.dtype == dtype) return l;
  }
  return kKvLayouts[1];
}

bool IsBlockKv(KvDType d) { return LayoutOf(d).block_values > 1; }

/// Bytes of a cache row whose length was already checked against the block size.
uint64_t RowBytes(KvDType dtype, int64_t elements) {
  const KvLayout& l = LayoutOf(dtype);
  return static_cast<uint64_t>(elements) / l.block_values * l.block_bytes;
}

}  // namespace

const char* KvDTypeName(KvDType dtype) { return LayoutOf(dtype).name; }

double KvBytesPerValue(KvDType dtype) {
  const KvLayout& l = LayoutOf(dtype);
  return static_cast<double>(l.block_bytes) / static_cast<double>(l.block_values);
}

Result<KvDType> ParseKvDType(std::string_view name) {
  if (name == "f32" || name == "fp32") return KvDType::kF32;
  if (name == "f16" || name == "fp16") return KvDType::kF16;
  if (name == "bf16") return KvDType::kBF16;
  if (name == "fp8" || name == "fp8_e4m3" || name == "fp8-e4m3" || name == "f8") return KvDType::kF8;
  if (name == "q8_0") return KvDType::kQ8_0;
  if (name == "q4_0") return KvDType::kQ4_0;
  return Status(ErrorCode::kNotFound, "kv-dtype: '" + std::string(name.substr(0, 40)) +
                                          "' is not one of f32, f16, bf16, fp8, q8_0, q4_0");
}

Result<uint64_t> KvRowBytes(KvDType dtype, int64_t row_elements) {
  const uint64_t n = static_cast<uint64_t>(row_elements);
  const KvLayout& l = LayoutOf(dtype);
  if (n % l.block_values != 0) {
    return Status(ErrorCode::kUnsupported,
                  std::string("kv-dtype: ") + l.name + " needs rows of a multiple of " + std::to_string(l.block_values) +
                      " values; this model's rows have " + std::to_string(n),
                  "kv_dtype");
  }
  return n / l.block_values * l.block_bytes;
}

const char* RuntimeName(Runtime runtime) { return runtime::ProfileOf(runtime).name(); }

Result<Runtime> ParseRuntime(std::string_view name) {
  std::string names;
  for (const runtime::Profile* p : runtime::AllProfiles()) {
    if (name == p->name()) return p->id();
    for (const char* alias : p->aliases()) {
      if (name == alias) return p->id();
    }
  }
  for (const char* n : {"theoretical", "llamacpp", "vllm", "transformers"}) {
    names += names.empty() ? n : std::string(", ") + n;
  }
  return Status(ErrorCode::kNotFound,
                "runtime: '" + std::string(name.substr(0, 40)) + "' is not one of " + names);
}

const char* LlamaCppBackendName(LlamaCppBackend backend) {
  return backend == LlamaCppBackend::kCpu ? "cpu" : "cuda";
}

Result<LlamaCppBackend> ParseLlamaCppBackend(std::string_view name) {
  if (name == "cuda" || name == "gpu") return LlamaCppBackend::kCuda;
  if (name == "cpu") return LlamaCppBackend::kCpu;
  return Status(ErrorCode::kNotFound,
                "llamacpp-backend: '" + std::string(name.substr(0, 40)) + "' is not one of cuda, cpu");
}

const char* AttentionImplName(AttentionImpl impl) {
  switch (impl) {
    case AttentionImpl::kEager: return "eager";
    case AttentionImpl::kSdpa: return "sdpa";
    case AttentionImpl::kFlashAttention2: return "flash_attention_2";
  }
  return "sdpa";
}

Result<AttentionImpl> ParseAttentionImpl(std::string_view name) {
  if (name == "eager") return AttentionImpl::kEager;
  if (name == "sdpa") return AttentionImpl::kSdpa;
  if (name == "flash_attention_2" || name == "fa2" || name == "flash") return AttentionImpl::kFlashAttention2;
  return Status(ErrorCode::kNotFound, "attn-impl: '" + std::string(name.substr(0, 40)) +
                                          "' is not one of eager, sdpa, flash_attention_2");
}

Status ValidateRequest(const InferenceRequest& r) {
  auto range = [](const char* field, int64_t v, int64_t lo, int64_t hi) -> Status {
    if (v < lo || v > hi) {
      return Status(ErrorCode::kOutOfRange, std::string(field) + ": must be an integer in [" +
                                                std::to_string(lo) + ", " + std::to_string(hi) +
                                                "], got " + std::to_string(v));
    }
    return Status::Ok();
  };
  VRAM_RETURN_IF_ERROR(range("context", r.context_tokens, 1, int64_t{1} << 24));
  VRAM_RETURN_IF_ERROR(range("batch", r.batch, 1, 65536));
  VRAM_RETURN_IF_ERROR(range("ubatch", r.ubatch_tokens, 1, 65536));
  VRAM_RETURN_IF_ERROR(range("vllm-block-size", r.vllm_block_tokens, 1, 1024));
  VRAM_RETURN_IF_ERROR(range("max-num-batched-tokens", r.vllm_max_batched_tokens, 0, int64_t{1} << 24));
  VRAM_RETURN_IF_ERROR(range("max-num-seqs", r.vllm_max_num_seqs, 0, 65536));
  if (!(r.gpu_memory_utilization > 0.0 && r.gpu_memory_utilization <= 1.0)) {
    return Status(ErrorCode::kOutOfRange,
                  "gpu-memory-utilization: must be a number in (0, 1], got " +
                      std::to_string(r.gpu_memory_utilization));
  }
  if (r.device_memory_bytes > (uint64_t{1} << 50)) {
    return Status(ErrorCode::kOutOfRange, "device memory: must be at most 1 PiB");
  }
  return runtime::ProfileOf(r.runtime).CheckRequest(r);
}

namespace {

Result<InferenceEstimate> Estimate(const ModelDescription& model, const WeightPlan& weights,
                                   const InferenceRequest& r, bool explain) {
  VRAM_RETURN_IF_ERROR(ValidateRequest(r));
  if (model.tensors.empty() || model.attention.layers.empty()) {
    return Status(ErrorCode::kInvalidArgument, "model: empty geometry or inventory");
  }
  if (weights.tensors.size() != model.tensors.size()) {
    return Status(ErrorCode::kInvalidArgument, "weights: plan does not belong to this model");
  }
  const runtime::Profile& profile = runtime::ProfileOf(r.runtime);
  VRAM_RETURN_IF_ERROR(profile.CheckWeights(weights.format));

  InferenceEstimate e;
  internal::Items items(&e, explain);
  const AttentionGeometry& g = model.attention;
  const ParameterCounts& counts = weights.parameters;
  e.parameters = counts.total;
  e.active_parameters = counts.active;
  const uint64_t batch = static_cast<uint64_t>(r.batch);
  const uint64_t ctx = static_cast<uint64_t>(r.context_tokens);

  const runtime::CachePlan plan = profile.PlanCache(r);
  e.kv_tokens_per_sequence = plan.tokens_per_sequence;

  // --- Weights -------------------------------------------------------------------------------
  e.weights_bytes = profile.DeviceWeightBytes(weights, r);
  items.Add("weights", "weights", "Weights", e.weights_bytes, [&] {
    char bpw[32];
    std::snprintf(bpw, sizeof bpw, "%.3f", weights.bits_per_weight);
    return Thousands(static_cast<uint64_t>(counts.total)) + " parameters stored as " + weights.format.id + ", " +
           bpw + " bits each on average (every tensor sized from its shape and the format's block layout)" +
           profile.WeightsNote(model, weights, r);
  });

  // --- KV cache ------------------------------------------------------------------------------
  uint64_t kv_bytes = 0, per_token_all_layers = 0, k_width = 0, v_width = 0;
  int64_t window_layers = 0, mla_layers = 0, ignored_windows = 0;
  // Layers mostly repeat: ask the profile again only when a layer differs from the one before.
  const LayerAttention* previous = nullptr;
  runtime::CacheRow row;
  uint64_t per_token = 0;
  int64_t tokens = 0;
  for (const LayerAttention& layer : g.layers) {
    if (previous == nullptr || layer.kind != previous->kind || layer.window_tokens != previous->window_tokens ||
        layer.num_kv_heads != previous->num_kv_heads) {
      row = profile.RowOf(g, layer);
      if (IsBlockKv(r.kv_dtype) && (row.k_elements % 32 != 0 || row.v_elements % 32 != 0)) {
        return KvRowBytes(r.kv_dtype, row.k_elements % 32 != 0 ? row.k_elements : row.v_elements).status();
      }
      per_token = RowBytes(r.kv_dtype, row.k_elements) + RowBytes(r.kv_dtype, row.v_elements);
      tokens = profile.LayerTokens(model, layer, r, plan);
      k_width = std::max(k_width, static_cast<uint64_t>(row.k_elements));
      v_width = std::max(v_width, static_cast<uint64_t>(row.v_elements));
      previous = &layer;
    }
    per_token_all_layers += per_token;
    kv_bytes += per_token * static_cast<uint64_t>(tokens) * batch;
    if (layer.kind == AttentionKind::kSlidingWindow) {
      ++window_layers;
      ignored_windows += tokens == plan.tokens_per_sequence && layer.window_tokens < r.context_tokens;
    }
    mla_layers += layer.kind == AttentionKind::kMla;
  }
  // --- Recurrent state: per sequence, whatever its length -------------------------------------
  uint64_t conv_values = 0, state_values = 0;
  int64_t recurrent_layers = 0;
  for (const LayerAttention& layer : g.layers) {
    conv_values += static_cast<uint64_t>(layer.conv_state_values);
    state_values += static_cast<uint64_t>(layer.recurrent_state_values);
    recurrent_layers += layer.conv_state_values > 0 || layer.recurrent_state_values > 0;
  }
  if (recurrent_layers > 0) {
    const uint64_t sequences = static_cast<uint64_t>(profile.StateSequences(r));
    e.recurrent_state_bytes_per_sequence = conv_values * profile.ConvStateBytesPerValue(weights) +
                                           state_values * profile.RecurrentStateBytesPerValue(weights);
    e.recurrent_state_bytes = e.recurrent_state_bytes_per_sequence * sequences;
    items.Add("kv_cache", "recurrent_state", "Recurrent state", e.recurrent_state_bytes, [&] {
      return std::to_string(recurrent_layers) + " recurrent layers keep a state per sequence whatever its length: " +
             Thousands(conv_values) + " conv values + " + Thousands(state_values) + " state values in " +
             profile.StateNote() + " = " + Thousands(e.recurrent_state_bytes_per_sequence) + " bytes, x " +
             Thousands(sequences) + " sequence" + (sequences > 1 ? "s" : "");
    });
  }
  e.kv_cache_bytes = kv_bytes + e.recurrent_state_bytes;
  e.kv_bytes_per_token = per_token_all_layers;
  items.Add("kv_cache", "kv_cache", "KV cache", kv_bytes, [&] {
    std::string why;
    if (mla_layers > 0 && !profile.CachesDecompressedMla()) {
      why = std::to_string(mla_layers) + " MLA layers x (" + std::to_string(g.mla_kv_lora_rank) + " latent + " +
            std::to_string(g.mla_rope_head_dim) + " RoPE) values";
    } else {
      int64_t kv_layers = 0;
      for (const LayerAttention& layer : g.layers) kv_layers += layer.kind != AttentionKind::kNone;
      why = std::to_string(kv_layers) + (kv_layers < g.num_layers ? " attention layers" : " layers") +
            " x 2 (K and V) x " + std::to_string(g.num_kv_heads) + " KV heads x " +
            std::to_string(g.key_head_dim) + " dims";
      if (mla_layers > 0) why += " (transformers caches MLA's decompressed per-head K and V)";
    }
    why += " x " + std::string(KvDTypeName(r.kv_dtype)) + " = " + Thousands(per_token_all_layers) +
           " bytes per token, x " + Thousands(static_cast<uint64_t>(plan.tokens_per_sequence)) + " tokens x " +
           std::to_string(r.batch) + " sequence" + (r.batch > 1 ? "s" : "");
    if (window_layers > ignored_windows) {
      why += "; " + std::to_string(window_layers - ignored_windows) + " sliding-window layers keep only their window";
    }
    if (plan.tokens_per_sequence != r.context_tokens) why += profile.CachePaddingNote(r);
    return why;
  });
  if (ignored_windows > 0) items.Note([&] { return profile.IgnoredWindowNote(); });

  // --- Activations (transient peak) ----------------------------------------------------------
  runtime::Workload w{model, weights, r, plan};
  for (const LayerFeedForward& f : model.feed_forward) {
    const uint64_t width =
        f.moe ? static_cast<uint64_t>(f.experts_per_token * f.expert_intermediate_size + f.shared_intermediate_size)
              : static_cast<uint64_t>(f.intermediate_size);
    w.widest_ffn = std::max(w.widest_ffn, width);
    w.gated = w.gated && f.gated;
  }
  w.qkv_width = static_cast<uint64_t>(g.num_query_heads * g.key_head_dim + 2 * g.num_kv_heads * g.key_head_dim);
  w.k_width = k_width;
  w.v_width = v_width;
  e.activations_bytes = profile.Activations(w, items, &e);

  // --- Runtime overhead and budget -----------------------------------------------------------
  uint64_t budgeted_overhead = 0;
  e.overhead_bytes = profile.Overhead(r, items, &budgeted_overhead);
  e.total_bytes = e.weights_bytes + e.kv_cache_bytes + e.activations_bytes + e.overhead_bytes;
  if (profile.BudgetsFromDevice()) {
    const runtime::Budget budget = profile.KvBudget(
        r, e, budgeted_overhead, per_token_all_layers * static_cast<uint64_t>(r.vllm_block_tokens));
    e.runtime_reserved_bytes = budget.reserved_bytes;
    e.kv_capacity_tokens = budget.kv_capacity_tokens;
    profile.BudgetNotes(r, e, items);
  }
  if (model.max_context_tokens > 0 && r.context_tokens > model.max_context_tokens) {
    items.Note([&] {
      return "context " + Thousands(ctx) + " exceeds the model's max_position_embeddings " +
             Thousands(static_cast<uint64_t>(model.max_context_tokens));
    });
  }
  for (const std::string& warning : model.warnings) items.Note([&] { return warning; });
  return e;
}

}  // namespace

Result<InferenceEstimate> EstimateNumbers(const ModelDescription& model, const WeightPlan& weights,
                                          const InferenceRequest& request) {
  return Estimate(model, weights, request, /*explain=*/false);
}

Result<InferenceEstimate> EstimateInference(const ModelDescription& model, const WeightPlan& weights,
                                            const InferenceRequest& request) {
  return Estimate(model, weights, request, /*explain=*/true);
}

}  // namespace vram
