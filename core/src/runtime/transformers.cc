// Hugging Face transformers generate(): the whole prompt through each layer in one forward pass,
// eager / SDPA / flash-attention kernels, the logits of the last position, and PyTorch's CUDA
// context and cuBLAS workspace.

#include <algorithm>

#include "../numeric.h"
#include "../world.h"
#include "profile.h"

namespace vram::runtime {
namespace {

using internal::Fixed;
using internal::Thousands;

class Transformers final : public Profile {
 public:
  Runtime id() const override { return Runtime::kTransformers; }
  const char* name() const override { return "transformers"; }
  const char* display_name() const override { return "transformers"; }
  std::vector<const char*> aliases() const override { return {"hf"}; }
  std::vector<const char*> weight_families() const override {
    return {"dense", "fp8", "bitsandbytes", "gptq", "awq", "mxfp4", "exl2"};
  }
  std::vector<const char*> option_fields() const override { return {"attn_impl"}; }

  Status CheckWeights(const WeightFormat& f) const override {
    if (!f.is_gguf()) return Status::Ok();
    return Status(ErrorCode::kUnsupported, "weights: transformers does not run the GGUF mix '" +
                                               f.id + "' natively; use runtime llamacpp");
  }

  bool CachesDecompressedMla() const override { return true; }
  CacheRow RowOf(const AttentionGeometry& g, const LayerAttention& layer) const override {
    if (layer.kind == AttentionKind::kMla) {
      // transformers' DeepseekV3Attention caches the decompressed per-head K and V.
      return {g.num_query_heads * g.key_head_dim, g.num_query_heads * g.value_head_dim};
    }
    return Profile::RowOf(g, layer);
  }

  uint64_t Activations(const Workload& w, internal::Items& items,
                       InferenceEstimate* e) const override {
    // generate() runs the whole prompt through each layer in one forward pass.
    const InferenceRequest& r = w.request;
    const AttentionGeometry& g = w.model.attention;
    const uint64_t batch = static_cast<uint64_t>(r.batch);
    const uint64_t ctx = static_cast<uint64_t>(r.context_tokens);
    const uint64_t hidden = static_cast<uint64_t>(g.hidden_size);
    const uint64_t vocab = static_cast<uint64_t>(w.model.vocab_size);
    const uint64_t heads = static_cast<uint64_t>(g.num_query_heads);
    const uint64_t ffn_factor = w.gated ? 3 : 2;
    const uint64_t tokens = ctx * batch;
    const uint64_t dtype_bytes = static_cast<uint64_t>(
        DTypeBytes(w.weights.format.scheme == QuantScheme::kDense ? w.weights.format.dense_dtype
                                                                  : DType::kBF16));
    const uint64_t ffn = tokens * (ffn_factor * w.widest_ffn + 2 * hidden) * dtype_bytes;
    uint64_t attention = tokens * (2 * hidden + w.qkv_width) * dtype_bytes;
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
      items.Add("activations", "attention_scores", "Attention scores (eager)", scores, [&] {
        return std::string(
            "eager attention materializes " + std::to_string(heads) + " heads x " + Thousands(ctx) +
            " x " + Thousands(ctx) +
            " scores per sequence (model dtype, fp32 softmax and a "
            "cast copy live at once) plus the causal mask; sdpa or flash_attention_2 avoid it");
      });
      items.Add("activations", "layer_working_set", "Layer working set", peak - scores, [&] {
        return std::string("hidden state, residual and Q/K/V of the whole prompt in one layer");
      });
    } else {
      items.Add("activations", "layer_working_set", "Layer working set", peak, [&] {
        return std::string(
            "the whole prompt (" + Thousands(tokens) +
            " tokens) passes each layer at once: hidden state, residual and MLP intermediates (" +
            Thousands(w.widest_ffn) + " wide)" + (scores > 0 ? " or the padding mask" : ""));
      });
    }
    items.Add("activations", "logits", "Logits", logits, [&] {
      return std::string(
          "logits of the last position only (logits_to_keep=1), copied to fp32 for sampling");
    });
    return peak + logits;
  }

  uint64_t Overhead(const InferenceRequest& r, internal::Items& items,
                    uint64_t* budgeted) const override {
    items.Add("overhead", "cuda_context", "CUDA context", world::kPytorchCudaContextBytes, [&] {
      return std::string("PyTorch process CUDA context with lazy module loading (measured 287 MB)");
    });
    items.Add("overhead", "cublas_workspace", "cuBLAS workspace", world::kCublasWorkspaceBytes,
              [&] { return std::string("PyTorch's cuBLAS workspace for the compute stream"); });
    items.Note([&] {
      return std::string(
          "PyTorch's caching allocator may hold more than this (reserved > allocated); "
          "PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True reduces fragmentation");
    });
    return world::kPytorchCudaContextBytes + world::kCublasWorkspaceBytes;
  }

  SplitMode DefaultSplit() const override { return SplitMode::kLayer; }

  double GpuLayerSeconds(const WeightFormat& f) const override {
    // Fixed decode cost per layer of the Python-driven forward pass, by weight scheme.
    switch (f.scheme) {
      case QuantScheme::kDense:
        return world::kDecodeLayerSecondsTransformersDense;
      case QuantScheme::kLlmInt8:
      case QuantScheme::kBnb4:
        return world::kDecodeLayerSecondsTransformersBitsandbytes;
      default:
        return world::kDecodeLayerSecondsTransformersQuantized;
    }
  }
  void ThroughputNotes(const InferenceRequest& r, bool discrete_gpu, double layer_seconds,
                       double fixed_seconds, std::vector<std::string>* notes) const override {
    if (!discrete_gpu) {
      Profile::ThroughputNotes(r, discrete_gpu, layer_seconds, fixed_seconds, notes);
      return;
    }
    notes->push_back(
        "transformers' generate() drives each layer from Python: " + Fixed(layer_seconds * 1e6, 0) +
        " us per layer (" + Fixed(fixed_seconds * 1e3, 1) +
        " ms per token) on top of the memory time, measured on an A100 server; a faster CPU lowers "
        "it, torch.compile with a static cache or fused kernels remove most of it");
  }

  std::vector<KvDType> SmallerCacheTypes() const override { return {}; }
  AttentionChange FusedAttention(const InferenceRequest& r) const override {
    AttentionChange c;
    if (r.attention_impl != AttentionImpl::kEager) return c;
    c.available = true;
    c.request = r;
    c.request.attention_impl = AttentionImpl::kSdpa;
    c.change = "--attn-impl sdpa";
    c.field = FieldChange::String("attn_impl", "sdpa");
    return c;
  }
  std::vector<std::string> WeightLadder() const override { return {"bf16", "int8", "nf4-dq"}; }
};

}  // namespace

const Profile& TransformersProfile() {
  static const Transformers profile;
  return profile;
}

}  // namespace vram::runtime
