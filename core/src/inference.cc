// Inference memory: weights, KV cache, transient activations and runtime overhead, itemized.

#include "numeric.h"
#include "vram/inference.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "world.h"

namespace vram {
namespace {

using internal::CeilDiv;
using internal::GiB;
using internal::RoundUp;
using internal::Thousands;


/// Cache elements one token costs in one layer, for this runtime.
struct LayerCacheRow {
  int64_t k_elements = 0;
  int64_t v_elements = 0;
};

LayerCacheRow CacheRow(const AttentionGeometry& g, const LayerAttention& layer, Runtime runtime) {
  switch (layer.kind) {
    case AttentionKind::kNone:
      return {};
    case AttentionKind::kMla:
      if (runtime == Runtime::kTransformers) {
        // transformers' DeepseekV3Attention caches the decompressed per-head K and V.
        return {g.num_query_heads * g.key_head_dim, g.num_query_heads * g.value_head_dim};
      }
      if (runtime == Runtime::kLlamaCpp) {
        // llama.cpp MLA: K holds latent + RoPE key for one "head"; V a view of the latent.
        return {g.mla_kv_lora_rank + g.mla_rope_head_dim, 0};
      }
      // One compressed latent plus the decoupled RoPE key (DeepSeek-V2 paper, section 2.1.3).
      return {g.mla_kv_lora_rank + g.mla_rope_head_dim, 0};
    case AttentionKind::kFull:
    case AttentionKind::kSlidingWindow:
      return {layer.num_kv_heads * g.key_head_dim, layer.num_kv_heads * g.value_head_dim};
  }
  return {};
}

bool IsBlockKv(KvDType d) { return d == KvDType::kQ8_0 || d == KvDType::kQ4_0; }

/// Bytes of a cache row whose length was already checked against the block size.
uint64_t RowBytes(KvDType dtype, int64_t elements) {
  const uint64_t n = static_cast<uint64_t>(elements);
  switch (dtype) {
    case KvDType::kF32: return 4 * n;
    case KvDType::kF16:
    case KvDType::kBF16: return 2 * n;
    case KvDType::kF8: return n;
    case KvDType::kQ8_0: return n / 32 * 34;
    case KvDType::kQ4_0: return n / 32 * 18;
  }
  return 2 * n;
}

}  // namespace

const char* KvDTypeName(KvDType dtype) {
  switch (dtype) {
    case KvDType::kF32: return "f32";
    case KvDType::kF16: return "f16";
    case KvDType::kBF16: return "bf16";
    case KvDType::kF8: return "fp8";
    case KvDType::kQ8_0: return "q8_0";
    case KvDType::kQ4_0: return "q4_0";
  }
  return "f16";
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
  switch (dtype) {
    case KvDType::kF32: return 4 * n;
    case KvDType::kF16:
    case KvDType::kBF16: return 2 * n;
    case KvDType::kF8: return n;
    case KvDType::kQ8_0:
    case KvDType::kQ4_0:
      // ggml block_q8_0 = 32 int8 + fp16 scale (34 B); block_q4_0 = 16 B nibbles + fp16 (18 B).
      if (n % 32 != 0) {
        return Status(ErrorCode::kUnsupported,
                      std::string("kv-dtype: ") + KvDTypeName(dtype) + " needs rows of a multiple of 32 values; this model's rows have " +
                          std::to_string(n));
      }
      return n / 32 * (dtype == KvDType::kQ8_0 ? 34 : 18);
  }
  return 2 * n;
}

const char* RuntimeName(Runtime runtime) {
  switch (runtime) {
    case Runtime::kTheoretical: return "theoretical";
    case Runtime::kLlamaCpp: return "llamacpp";
    case Runtime::kVllm: return "vllm";
    case Runtime::kTransformers: return "transformers";
  }
  return "theoretical";
}

Result<Runtime> ParseRuntime(std::string_view name) {
  if (name == "theoretical") return Runtime::kTheoretical;
  if (name == "llamacpp" || name == "llama.cpp") return Runtime::kLlamaCpp;
  if (name == "vllm") return Runtime::kVllm;
  if (name == "transformers" || name == "hf") return Runtime::kTransformers;
  return Status(ErrorCode::kNotFound, "runtime: '" + std::string(name.substr(0, 40)) +
                                          "' is not one of theoretical, llamacpp, vllm, transformers");
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
  if (IsBlockKv(r.kv_dtype) && r.runtime != Runtime::kLlamaCpp && r.runtime != Runtime::kTheoretical) {
    return Status(ErrorCode::kUnsupported,
                  std::string("kv-dtype: ") + KvDTypeName(r.kv_dtype) +
                      " is a llama.cpp cache type; with runtime " + RuntimeName(r.runtime) +
                      " use f16, bf16 or fp8");
  }
  if (r.kv_dtype == KvDType::kF8 && r.runtime == Runtime::kLlamaCpp) {
    return Status(ErrorCode::kUnsupported,
                  "kv-dtype: llama.cpp has no fp8 cache; use f16, bf16, q8_0 or q4_0");
  }
  if (IsBlockKv(r.kv_dtype) && r.runtime == Runtime::kLlamaCpp && !r.flash_attention) {
    // llama_context: "quantized V cache was requested, but this requires Flash Attention".
    return Status(ErrorCode::kUnsupported,
                  std::string("kv-dtype: a ") + KvDTypeName(r.kv_dtype) +
                      " cache needs flash attention in llama.cpp (--flash-attn on)");
  }
  return Status::Ok();
}

namespace {

/// Collects items; explanations are built only when asked for (they cost more than the numbers).
struct Builder {
  InferenceEstimate* e;
  bool explain;
  template <typename Why>
  void Add(const char* category, const char* key, const char* label, uint64_t bytes, Why why) {
    if (!explain || bytes == 0) return;
    e->items.push_back({category, key, label, bytes, why()});
  }
  template <typename Text>
  void Note(Text text) {
    if (explain) e->notes.push_back(text());
  }
};

/// Architectures whose sliding windows llama.cpp implements (iSWA cache); it gives every other
/// model a full-length cache on every layer.
bool LlamaCppHonoursWindow(const std::string& architecture) {
  return architecture == "gemma2" || architecture == "gemma3_text" || architecture == "gpt_oss";
}

/// The resolved runtime geometry of the cache.
struct CachePlan {
  int64_t tokens_per_sequence = 0;  ///< Full-attention cells per sequence after padding.
  int64_t llamacpp_ubatch = 0;
  int64_t vllm_batched_tokens = 0;
  int64_t vllm_max_seqs = 0;
};

/// Cache tokens one sequence holds in one layer.
int64_t LayerTokens(const ModelDescription& m, const LayerAttention& layer, const InferenceRequest& r,
                    const CachePlan& plan) {
  const int64_t full = plan.tokens_per_sequence;
  if (layer.kind == AttentionKind::kNone) return 0;
  if (layer.kind != AttentionKind::kSlidingWindow) return full;
  const int64_t window = layer.window_tokens;
  switch (r.runtime) {
    case Runtime::kLlamaCpp: {
      if (!LlamaCppHonoursWindow(m.architecture)) return full;
      // llama-kv-cache-iswa.cpp: PAD(min(n_ctx_seq, n_swa + n_ubatch), 256) cells per stream.
      return static_cast<int64_t>(RoundUp(static_cast<uint64_t>(std::min(full, window + plan.llamacpp_ubatch)),
                                          static_cast<uint64_t>(world::kLlamaCppKvPadding)));
    }
    case Runtime::kVllm: {
      // kv_cache_interface.py SlidingWindowSpec: cdiv(min(window - 1 + max_num_batched_tokens,
      // max_model_len), block_size) + 1 blocks, never more than the sequence's own blocks.
      const uint64_t block = static_cast<uint64_t>(r.vllm_block_tokens);
      const uint64_t span = static_cast<uint64_t>(std::min(window - 1 + plan.vllm_batched_tokens, r.context_tokens));
      const int64_t blocks = std::min<int64_t>(static_cast<int64_t>(CeilDiv(span, block)) + 1,
                                               static_cast<int64_t>(CeilDiv(static_cast<uint64_t>(full), block)));
      return blocks * r.vllm_block_tokens;
    }
    default:
      return std::min(full, window);
  }
}

}  // namespace

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
  const bool gguf = weights.format.is_gguf();
  if (r.runtime == Runtime::kLlamaCpp && !gguf) {
    return Status(ErrorCode::kUnsupported,
                  "weights: llama.cpp loads GGUF only; pick a llama.cpp mix such as q4_k_m, q8_0 "
                  "or gguf-f16 instead of '" + weights.format.id + "'");
  }
  if (r.runtime != Runtime::kLlamaCpp && r.runtime != Runtime::kTheoretical && gguf) {
    return Status(ErrorCode::kUnsupported,
                  std::string("weights: ") + RuntimeName(r.runtime) + " does not run the GGUF mix '" +
                      weights.format.id + "' natively; use runtime llamacpp");
  }
  if (r.runtime == Runtime::kVllm && weights.format.scheme == QuantScheme::kExl2) {
    return Status(ErrorCode::kUnsupported, "weights: vLLM cannot load EXL2; use gptq, awq, fp8 or bf16");
  }

  InferenceEstimate e;
  Builder b{&e, explain};
  const AttentionGeometry& g = model.attention;
  const ParameterCounts& counts = weights.parameters;
  e.parameters = counts.total;
  e.active_parameters = counts.active;
  const uint64_t batch = static_cast<uint64_t>(r.batch);
  const uint64_t ctx = static_cast<uint64_t>(r.context_tokens);
  const uint64_t hidden = static_cast<uint64_t>(g.hidden_size);
  const uint64_t vocab = static_cast<uint64_t>(model.vocab_size);
  const uint64_t heads = static_cast<uint64_t>(g.num_query_heads);

  // --- Runtime cache geometry ----------------------------------------------------------------
  CachePlan plan;
  plan.tokens_per_sequence = r.context_tokens;
  if (r.runtime == Runtime::kLlamaCpp) {
    // llama-context.cpp: n_ctx = PAD(n_ctx, 256); one stream per sequence of
    // n_ctx_seq = PAD(n_ctx / n_seq, 256) cells; n_ubatch = min(n_batch, n_ubatch) with
    // n_batch = min(n_ctx, 2048).
    const uint64_t pad = static_cast<uint64_t>(world::kLlamaCppKvPadding);
    const uint64_t n_ctx = RoundUp(ctx * batch, pad);
    plan.tokens_per_sequence = static_cast<int64_t>(RoundUp(n_ctx / batch, pad));
    const int64_t n_batch = std::min<int64_t>(static_cast<int64_t>(ctx * batch), world::kLlamaCppDefaultBatch);
    plan.llamacpp_ubatch = std::min<int64_t>(r.ubatch_tokens, n_batch);
  } else if (r.runtime == Runtime::kVllm) {
    plan.tokens_per_sequence = static_cast<int64_t>(RoundUp(ctx, static_cast<uint64_t>(r.vllm_block_tokens)));
    const bool large = r.device_memory_bytes >= world::kVllmLargeGpuBytes;
    plan.vllm_batched_tokens = r.vllm_max_batched_tokens > 0 ? r.vllm_max_batched_tokens
                               : large ? world::kVllmLargeGpuBatchedTokens
                                       : world::kVllmBatchedTokens;
    plan.vllm_max_seqs = r.vllm_max_num_seqs > 0 ? r.vllm_max_num_seqs
                         : large ? world::kVllmLargeGpuMaxSeqs
                                 : world::kVllmMaxSeqs;
  }
  e.kv_tokens_per_sequence = plan.tokens_per_sequence;

  // --- Weights -------------------------------------------------------------------------------
  uint64_t device_weights = weights.total_bytes;
  const uint64_t host_embedding = weights.token_embedding_bytes;
  const bool llamacpp_cpu = r.runtime == Runtime::kLlamaCpp && r.llamacpp_backend == LlamaCppBackend::kCpu;
  if (r.runtime == Runtime::kLlamaCpp) {
    // llama-model.cpp: the input layer (token_embd) always stays in a CPU buffer; a tied model
    // gets a duplicate as its output tensor on the GPU (sized in the weight plan). On the CPU
    // backend every tensor sits in one host buffer.
    device_weights = llamacpp_cpu ? weights.cpu_buffer_bytes : weights.cuda_device_bytes;
  }
  e.weights_bytes = device_weights;
  b.Add("weights", "weights", "Weights", device_weights, [&] {
    char bpw[32];
    std::snprintf(bpw, sizeof bpw, "%.3f", weights.bits_per_weight);
    std::string why = Thousands(static_cast<uint64_t>(counts.total)) + " parameters stored as " +
                      weights.format.id + ", " + bpw +
                      " bits each on average (every tensor sized from its shape and the format's block layout)";
    if (llamacpp_cpu) {
      why += "; llama.cpp's CPU backend holds every tensor in host RAM, 32-byte aligned";
    } else if (r.runtime == Runtime::kLlamaCpp) {
      why += model.tied_embeddings
                 ? "; llama.cpp keeps token_embd on the CPU and a copy as the tied output head on the GPU"
                 : "; llama.cpp keeps token_embd (" + Thousands(host_embedding) + " bytes) in host RAM";
    }
    return why;
  });

  // --- KV cache ------------------------------------------------------------------------------
  uint64_t kv_bytes = 0, per_token_all_layers = 0, block_bytes_all_layers = 0;
  int64_t window_layers = 0, mla_layers = 0, ignored_windows = 0;
  for (const LayerAttention& layer : g.layers) {
    const LayerCacheRow row = CacheRow(g, layer, r.runtime);
    if (IsBlockKv(r.kv_dtype) && (row.k_elements % 32 != 0 || row.v_elements % 32 != 0)) {
      return KvRowBytes(r.kv_dtype, row.k_elements % 32 != 0 ? row.k_elements : row.v_elements).status();
    }
    const uint64_t per_token = RowBytes(r.kv_dtype, row.k_elements) + RowBytes(r.kv_dtype, row.v_elements);
    per_token_all_layers += per_token;
    block_bytes_all_layers += per_token * static_cast<uint64_t>(r.vllm_block_tokens);
    const int64_t tokens = LayerTokens(model, layer, r, plan);
    kv_bytes += per_token * static_cast<uint64_t>(tokens) * batch;
    if (layer.kind == AttentionKind::kSlidingWindow) {
      ++window_layers;
      ignored_windows += tokens == plan.tokens_per_sequence && layer.window_tokens < r.context_tokens;
    }
    mla_layers += layer.kind == AttentionKind::kMla;
  }
  e.kv_cache_bytes = kv_bytes;
  e.kv_bytes_per_token = per_token_all_layers;
  b.Add("kv_cache", "kv_cache", "KV cache", kv_bytes, [&] {
    std::string why;
    if (mla_layers > 0 && r.runtime != Runtime::kTransformers) {
      why = std::to_string(mla_layers) + " MLA layers x (" + std::to_string(g.mla_kv_lora_rank) +
            " latent + " + std::to_string(g.mla_rope_head_dim) + " RoPE) values";
    } else {
      why = std::to_string(g.num_layers) + " layers x 2 (K and V) x " +
            std::to_string(g.num_kv_heads) + " KV heads x " + std::to_string(g.key_head_dim) + " dims";
      if (mla_layers > 0) why += " (transformers caches MLA's decompressed per-head K and V)";
    }
    why += " x " + std::string(KvDTypeName(r.kv_dtype)) + " = " + Thousands(per_token_all_layers) +
           " bytes per token, x " + Thousands(static_cast<uint64_t>(plan.tokens_per_sequence)) + " tokens x " +
           std::to_string(r.batch) + " sequence" + (r.batch > 1 ? "s" : "");
    if (window_layers > ignored_windows) {
      why += "; " + std::to_string(window_layers - ignored_windows) + " sliding-window layers keep only their window";
    }
    if (plan.tokens_per_sequence != r.context_tokens) {
      why += r.runtime == Runtime::kLlamaCpp ? "; llama.cpp pads each sequence's cache to a multiple of 256 cells"
                                             : "; vLLM allocates whole blocks of " + std::to_string(r.vllm_block_tokens) + " tokens";
    }
    return why;
  });
  if (ignored_windows > 0) {
    b.Note([] {
      return std::string("llama.cpp does not implement this model's sliding window; it caches the full context on every layer");
    });
  }

  // --- Activations (transient peak) ----------------------------------------------------------
  uint64_t widest_ffn = 0;  // per-token intermediate width of the widest layer
  bool gated = true;
  for (const LayerFeedForward& f : model.feed_forward) {
    const uint64_t w = f.moe ? static_cast<uint64_t>(f.experts_per_token * f.expert_intermediate_size +
                                                     f.shared_intermediate_size)
                             : static_cast<uint64_t>(f.intermediate_size);
    widest_ffn = std::max(widest_ffn, w);
    gated = gated && f.gated;
  }
  const uint64_t ffn_factor = gated ? 3 : 2;  // gate and up outputs plus their product, or up + act
  const uint64_t qkv_width = static_cast<uint64_t>(g.num_query_heads * g.key_head_dim +
                                                   2 * g.num_kv_heads * g.key_head_dim);
  uint64_t activations = 0;
  switch (r.runtime) {
    case Runtime::kTheoretical: {
      // One prefill chunk of `ubatch` tokens per sequence through one layer, fused attention,
      // 16-bit activations; logits for the last position of each sequence in fp32.
      const uint64_t chunk = std::min<uint64_t>(ctx, static_cast<uint64_t>(r.ubatch_tokens)) * batch;
      const uint64_t layer_ws = chunk * (2 * hidden + qkv_width + ffn_factor * widest_ffn) * 2;
      const uint64_t logits = batch * vocab * 4;
      b.Add("activations", "layer_working_set", "Layer working set", layer_ws, [&] { return std::string("one layer's live tensors for a prefill chunk of " + Thousands(chunk) +
                " tokens: hidden state and residual, Q/K/V, MLP intermediates (" +
                Thousands(widest_ffn) + " wide) in 16-bit; attention is fused so no score matrix"); });
      b.Add("activations", "logits", "Logits", logits, [&] { return std::string("fp32 logits over " + Thousands(vocab) + " tokens for the last position of each sequence"); });
      activations = layer_ws + logits;
      break;
    }
    case Runtime::kLlamaCpp: {
      // llama-context.cpp sched_reserve: the graph is reserved for n_ubatch tokens, all producing
      // logits, against the full cache; ggml-alloc's peak is the largest live set. Softmax runs
      // in place on the scores (ggml-alloc.c ggml_op_can_inplace), so KQ counts once. The CPU
      // backend also computes the token-embedding rows that CUDA leaves on the host. Checked
      // against real llama.cpp v0.5.0 on the CPU (tests/differential) and llama.cpp's CUDA logs.
      const uint64_t ubatch = static_cast<uint64_t>(plan.llamacpp_ubatch);
      const uint64_t n_kv = static_cast<uint64_t>(plan.tokens_per_sequence);
      const uint64_t embed_rows = llamacpp_cpu ? ubatch * 4 * hidden : 0;
      uint64_t k_width = 0, v_width = 0;
      for (const LayerAttention& layer : g.layers) {
        const LayerCacheRow row = CacheRow(g, layer, r.runtime);
        k_width = std::max(k_width, static_cast<uint64_t>(row.k_elements));
        v_width = std::max(v_width, static_cast<uint64_t>(row.v_elements));
      }
      const uint64_t logits = ubatch * 4 * (vocab + hidden) + embed_rows;
      const uint64_t attention =
          r.flash_attention ? 0
                            : ubatch * 4 * (heads * n_kv + n_kv + 4 * hidden + k_width + v_width) + embed_rows;
      const uint64_t mask = n_kv * ubatch * (r.flash_attention ? 2 : 4);
      const uint64_t ffn = ubatch * 4 * (ffn_factor * widest_ffn + 3 * hidden) + mask + embed_rows;
      const uint64_t compute = std::max({logits, attention, ffn});
      b.Add("activations", "compute_buffer", "Compute buffer", compute, [&] {
        const std::string what =
            compute == logits ? "the fp32 logits of all " + Thousands(ubatch) + " ubatch positions x " +
                                    Thousands(vocab) + " vocabulary, plus the final hidden state"
            : compute == attention ? "the fp32 attention scores (softmaxed in place), " + std::to_string(heads) +
                                         " heads x " + Thousands(n_kv) + " cells x " + Thousands(ubatch) +
                                         " tokens (no flash attention)"
                                   : "one layer's fp32 MLP intermediates for the ubatch plus the attention mask";
        return "llama.cpp reserves its compute buffer for the worst ubatch (" + Thousands(ubatch) +
               " tokens against " + Thousands(n_kv) + " cells); the largest live set is " + what;
      });
      activations = compute;
      const uint64_t output_buffer = vocab * batch * 4;
      if (llamacpp_cpu) {
        // The output buffer (n_vocab x n_seq fp32) is host RAM, which is the device here.
        b.Add("activations", "output_buffer", "Output buffer", output_buffer, [&] {
          return std::string("fp32 logits of the last position of each sequence, kept for sampling");
        });
        activations += output_buffer;
      } else {
        // Host side: the output buffer and the CPU compute buffer holding the token-embedding
        // rows and the fp32 mask.
        e.host_bytes = host_embedding + output_buffer + (hidden + n_kv) * ubatch * 4;
        b.Note([&] {
          return "host RAM: " + GiB(e.host_bytes) + " (token embeddings, output buffer and CPU compute buffer)";
        });
      }
      break;
    }
    case Runtime::kVllm: {
      // profile_run: one dummy forward of max_num_batched_tokens tokens, then logits for one
      // position per request (model dtype) and the sampler's fp32 probabilities and logprobs.
      const uint64_t tokens = static_cast<uint64_t>(plan.vllm_batched_tokens);
      const uint64_t dtype_bytes = 2;
      const uint64_t ffn = tokens * (ffn_factor * widest_ffn + 2 * hidden) * dtype_bytes;
      const uint64_t attention = tokens * (2 * hidden + qkv_width) * dtype_bytes;
      const uint64_t seqs = std::min<uint64_t>(tokens, static_cast<uint64_t>(plan.vllm_max_seqs));
      const uint64_t logits = seqs * vocab * (dtype_bytes + 4 + 4);
      const uint64_t peak = std::max(ffn, attention) + logits;
      b.Add("activations", "profile_peak", "Activation peak (profile run)", peak, [&] { return std::string("vLLM profiles one forward pass of max_num_batched_tokens = " + Thousands(tokens) +
                " tokens: 16-bit MLP intermediates (" + Thousands(widest_ffn) +
                " wide) plus logits and fp32 sampler copies for " + Thousands(seqs) + " requests"); });
      activations = peak;
      break;
    }
    case Runtime::kTransformers: {
      // generate() runs the whole prompt through each layer in one forward pass.
      const uint64_t tokens = ctx * batch;
      const uint64_t dtype_bytes = static_cast<uint64_t>(DTypeBytes(
          weights.format.scheme == QuantScheme::kDense ? weights.format.dense_dtype : DType::kBF16));
      const uint64_t ffn = tokens * (ffn_factor * widest_ffn + 2 * hidden) * dtype_bytes;
      uint64_t attention = tokens * (2 * hidden + qkv_width) * dtype_bytes;
      uint64_t scores = 0;
      if (r.attention_impl == AttentionImpl::kEager) {
        // eager_attention_forward: repeat_kv copies K and V to every query head; QK^T in the model
        // dtype, softmax in fp32, cast back: scores, fp32 softmax and cast copy live together,
        // plus the 4-D causal mask.
        const uint64_t score_elements = batch * heads * ctx * ctx;
        scores = score_elements * (dtype_bytes + 4 + dtype_bytes) + batch * ctx * ctx * dtype_bytes +
                 2 * batch * heads * ctx * static_cast<uint64_t>(g.key_head_dim) * dtype_bytes;
      } else if (r.attention_impl == AttentionImpl::kSdpa && batch > 1) {
        // With padding, SDPA gets an explicit boolean mask (one byte per query x key).
        scores = batch * ctx * ctx;
      }
      attention += scores;
      // logits_to_keep = 1 (v4.45+): the last position in the model dtype, copied to fp32.
      const uint64_t logits = batch * vocab * (dtype_bytes + 4);
      const uint64_t peak = std::max(ffn, attention);
      if (r.attention_impl == AttentionImpl::kEager && attention >= ffn) {
        b.Add("activations", "attention_scores", "Attention scores (eager)", scores, [&] { return std::string("eager attention materializes " + std::to_string(heads) + " heads x " + Thousands(ctx) +
                  " x " + Thousands(ctx) + " scores per sequence (model dtype, fp32 softmax and a "
                  "cast copy live at once) plus the causal mask; sdpa or flash_attention_2 avoid it"); });
        b.Add("activations", "layer_working_set", "Layer working set", peak - scores, [&] { return std::string("hidden state, residual and Q/K/V of the whole prompt in one layer"); });
      } else {
        b.Add("activations", "layer_working_set", "Layer working set", peak, [&] { return std::string("the whole prompt (" + Thousands(tokens) +
                  " tokens) passes each layer at once: hidden state, residual and MLP intermediates (" +
                  Thousands(widest_ffn) + " wide)" + (scores > 0 ? " or the padding mask" : "")); });
      }
      b.Add("activations", "logits", "Logits", logits, [&] { return std::string("logits of the last position only (logits_to_keep=1), copied to fp32 for sampling"); });
      activations = peak + logits;
      break;
    }
  }
  e.activations_bytes = activations;

  // --- Runtime overhead ----------------------------------------------------------------------
  uint64_t overhead = 0;
  uint64_t vllm_budgeted_overhead = 0;
  switch (r.runtime) {
    case Runtime::kTheoretical:
      b.Note([&] { return std::string("theoretical profile: no runtime overhead, no padding; weights, exact KV cache "
                        "and the minimum transient working set only"); });
      break;
    case Runtime::kLlamaCpp:
      if (llamacpp_cpu) break;
      overhead = world::kLlamaCppCudaContextBytes;
      b.Add("overhead", "cuda_context", "CUDA context", overhead, [&] { return std::string("driver context, loaded kernels and cuBLAS handle of the process"); });
      break;
    case Runtime::kVllm: {
      b.Add("overhead", "cuda_context", "CUDA context", world::kPytorchCudaContextBytes, [&] { return std::string("PyTorch process CUDA context with lazy module loading (measured 287 MB); outside vLLM's "
            "gpu_memory_utilization budget"); });
      b.Add("overhead", "non_torch", "Non-torch memory", world::kVllmNonTorchBytes, [&] { return std::string("NCCL, cuBLAS and CUDA runtime growth that vLLM's profiler reports as non_torch_memory"); });
      vllm_budgeted_overhead = world::kVllmNonTorchBytes;
      if (r.cuda_graphs) {
        b.Add("overhead", "cuda_graphs", "CUDA graphs", world::kVllmCudaGraphBytes, [&] { return std::string("captured decode graphs for batch sizes 1-512 (turn off with --enforce-eager)"); });
        vllm_budgeted_overhead += world::kVllmCudaGraphBytes;
      }
      overhead = world::kPytorchCudaContextBytes + vllm_budgeted_overhead;
      break;
    }
    case Runtime::kTransformers:
      b.Add("overhead", "cuda_context", "CUDA context", world::kPytorchCudaContextBytes, [&] { return std::string("PyTorch process CUDA context with lazy module loading (measured 287 MB)"); });
      b.Add("overhead", "cublas_workspace", "cuBLAS workspace", world::kCublasWorkspaceBytes, [&] { return std::string("PyTorch's cuBLAS workspace for the compute stream"); });
      overhead = world::kPytorchCudaContextBytes + world::kCublasWorkspaceBytes;
      b.Note([&] { return std::string("PyTorch's caching allocator may hold more than this (reserved > allocated); "
                        "PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True reduces fragmentation"); });
      break;
  }
  e.overhead_bytes = overhead;
  e.total_bytes = e.weights_bytes + e.kv_cache_bytes + e.activations_bytes + e.overhead_bytes;

  if (r.runtime == Runtime::kVllm) {
    // gpu_worker.py determine_available_memory: requested = ceil(total x utilization);
    // KV = requested - (weights + torch peak + non-torch growth + CUDA-graph estimate).
    const uint64_t non_kv = e.weights_bytes + e.activations_bytes + vllm_budgeted_overhead;
    if (r.device_memory_bytes > 0) {
      e.runtime_reserved_bytes = static_cast<uint64_t>(
          std::ceil(static_cast<double>(r.device_memory_bytes) * r.gpu_memory_utilization));
      if (e.runtime_reserved_bytes > non_kv && block_bytes_all_layers > 0) {
        const uint64_t blocks = (e.runtime_reserved_bytes - non_kv) / block_bytes_all_layers;
        e.kv_capacity_tokens = static_cast<int64_t>(blocks) * r.vllm_block_tokens;
      }
      b.Note([&] { return std::string("vLLM takes " + GiB(e.runtime_reserved_bytes) + " (gpu_memory_utilization x " +
                        GiB(r.device_memory_bytes) + ") and fills what is left after weights, "
                        "activations and overhead with KV blocks: " +
                        Thousands(static_cast<uint64_t>(e.kv_capacity_tokens)) + " tokens"); });
      if (e.kv_capacity_tokens < r.context_tokens) {
        b.Note([&] { return std::string("vLLM would refuse to start: one request of " + Thousands(ctx) +
                          " tokens does not fit in the KV budget"); });
      }
    } else {
      b.Note([&] { return std::string("vLLM reserves gpu_memory_utilization x device memory regardless of need; "
                        "give a device to see what it takes and how many tokens of KV cache fit"); });
    }
  }
  if (model.max_context_tokens > 0 && r.context_tokens > model.max_context_tokens) {
    b.Note([&] { return std::string("context " + Thousands(ctx) + " exceeds the model's max_position_embeddings " +
                      Thousands(static_cast<uint64_t>(model.max_context_tokens))); });
  }
  for (const std::string& w : model.warnings) b.Note([&] { return w; });
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
