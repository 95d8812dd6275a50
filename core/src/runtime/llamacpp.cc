// llama.cpp (llama-server / llama-cli) on the CUDA or CPU backend: GGUF weights with token_embd
// on the host, a cache padded to 256 cells per sequence, the compute buffer ggml-alloc reserves
// for the worst ubatch, and the process's CUDA context.

#include <algorithm>

#include "../families.h"
#include "../numeric.h"
#include "../world.h"
#include "profile.h"

namespace vram::runtime {
namespace {

using internal::GiB;
using internal::RoundUp;
using internal::Thousands;

/// Whether llama.cpp implements the family's sliding windows (iSWA cache); it gives every other
/// model a full-length cache on every layer.
bool HonoursWindow(const std::string& architecture) {
  const internal::Family* family = internal::FamilyByHfType(architecture);
  return family != nullptr && family->llamacpp_swa;
}

bool Cpu(const InferenceRequest& r) { return r.llamacpp_backend == LlamaCppBackend::kCpu; }

class LlamaCpp final : public Profile {
 public:
  Runtime id() const override { return Runtime::kLlamaCpp; }
  const char* name() const override { return "llamacpp"; }
  const char* display_name() const override { return "llama.cpp"; }
  std::vector<const char*> aliases() const override { return {"llama.cpp"}; }
  std::vector<const char*> weight_families() const override { return {"gguf"}; }
  const char* default_weights() const override { return "q4_k_m"; }
  std::vector<const char*> option_fields() const override {
    return {"llamacpp_backend", "flash_attention", "ubatch"};
  }

  Status CheckRequest(const InferenceRequest& r) const override {
    if (r.kv_dtype == KvDType::kF8) {
      return Status(ErrorCode::kUnsupported,
                    "kv-dtype: llama.cpp has no fp8 cache; use f16, bf16, q8_0 or q4_0");
    }
    if ((r.kv_dtype == KvDType::kQ8_0 || r.kv_dtype == KvDType::kQ4_0) && !r.flash_attention) {
      // llama_context: "quantized V cache was requested, but this requires Flash Attention".
      return Status(ErrorCode::kUnsupported,
                    std::string("kv-dtype: a ") + KvDTypeName(r.kv_dtype) +
                        " cache needs flash attention in llama.cpp (--flash-attn on)");
    }
    return Status::Ok();
  }

  Status CheckWeights(const WeightFormat& f) const override {
    if (f.is_gguf()) return Status::Ok();
    return Status(ErrorCode::kUnsupported,
                  "weights: llama.cpp loads GGUF only; pick a llama.cpp mix such as q4_k_m, q8_0 "
                  "or gguf-f16 instead of '" +
                      f.id + "'");
  }

  CachePlan PlanCache(const InferenceRequest& r) const override {
    // llama-context.cpp: n_ctx = PAD(n_ctx, 256); one stream per sequence of
    // n_ctx_seq = PAD(n_ctx / n_seq, 256) cells; n_ubatch = min(n_batch, n_ubatch) with
    // n_batch = min(n_ctx, 2048).
    const uint64_t ctx = static_cast<uint64_t>(r.context_tokens);
    const uint64_t batch = static_cast<uint64_t>(r.batch);
    const uint64_t pad = static_cast<uint64_t>(world::kLlamaCppKvPadding);
    const uint64_t n_ctx = RoundUp(ctx * batch, pad);
    CachePlan plan;
    plan.tokens_per_sequence = static_cast<int64_t>(RoundUp(n_ctx / batch, pad));
    const int64_t n_batch =
        std::min<int64_t>(static_cast<int64_t>(ctx * batch), world::kLlamaCppDefaultBatch);
    plan.ubatch_tokens = std::min<int64_t>(r.ubatch_tokens, n_batch);
    return plan;
  }

  int64_t LayerTokens(const ModelDescription& m, const LayerAttention& layer,
                      const InferenceRequest& r, const CachePlan& plan) const override {
    if (layer.kind == AttentionKind::kNone) return 0;
    if (layer.kind != AttentionKind::kSlidingWindow || !HonoursWindow(m.architecture)) {
      return plan.tokens_per_sequence;
    }
    // llama-kv-cache-iswa.cpp: PAD(min(n_ctx_seq, n_swa + n_ubatch), 256) cells per stream.
    return static_cast<int64_t>(
        RoundUp(static_cast<uint64_t>(
                    std::min(plan.tokens_per_sequence, layer.window_tokens + plan.ubatch_tokens)),
                static_cast<uint64_t>(world::kLlamaCppKvPadding)));
  }

  // llama_memory_recurrent: type_r = type_s = GGML_TYPE_F32, hard-coded at every call site of
  // llama_model::create_memory, in max(1, n_seq_max) cells (src/llama-model.cpp, v0.5.0).
  uint64_t ConvStateBytesPerValue(const WeightPlan& w) const override { return 4; }
  uint64_t RecurrentStateBytesPerValue(const WeightPlan& w) const override { return 4; }
  int64_t StateSequences(const InferenceRequest& r) const override { return std::max<int64_t>(1, r.batch); }
  std::string StateNote() const override { return "f32 (llama.cpp keeps recurrent state in f32)"; }

  std::string CachePaddingNote(const InferenceRequest& r) const override {
    return "; llama.cpp pads each sequence's cache to a multiple of 256 cells";
  }
  std::string IgnoredWindowNote() const override {
    return "llama.cpp does not implement this model's sliding window; it caches the full context "
           "on every layer";
  }

  uint64_t DeviceWeightBytes(const WeightPlan& w, const InferenceRequest& r) const override {
    // llama-model.cpp: the input layer (token_embd) always stays in a CPU buffer; a tied model
    // gets a duplicate as its output tensor on the GPU (sized in the weight plan). On the CPU
    // backend every tensor sits in one host buffer.
    return Cpu(r) ? w.cpu_buffer_bytes : w.cuda_device_bytes;
  }

  std::string WeightsNote(const ModelDescription& m, const WeightPlan& w,
                          const InferenceRequest& r) const override {
    if (Cpu(r)) return "; llama.cpp's CPU backend holds every tensor in host RAM, 32-byte aligned";
    return m.tied_embeddings ? "; llama.cpp keeps token_embd on the CPU and a copy as the tied "
                               "output head on the GPU"
                             : "; llama.cpp keeps token_embd (" +
                                   Thousands(w.token_embedding_bytes) + " bytes) in host RAM";
  }

  uint64_t TensorDeviceBytes(const ModelDescription& m, const WeightPlan& p,
                             size_t i) const override {
    const TensorInfo& t = m.tensors[i];
    if (!p.format.is_gguf()) return p.tensors[i].bytes;
    if (t.role == TensorRole::kTokenEmbedding && !m.tied_embeddings) return 0;
    return LlamaCppCudaTensorBytes(t, p.tensors[i]);
  }
  bool TokenEmbeddingOnHost() const override { return true; }

  uint64_t Activations(const Workload& w, internal::Items& items,
                       InferenceEstimate* e) const override {
    // llama-context.cpp sched_reserve: the graph is reserved for n_ubatch tokens, all producing
    // logits, against the full cache; ggml-alloc's peak is the largest live set. Softmax runs
    // in place on the scores (ggml-alloc.c ggml_op_can_inplace), so KQ counts once. The CPU
    // backend also computes the token-embedding rows that CUDA leaves on the host. Checked
    // against real llama.cpp v0.5.0 on the CPU (tests/differential) and llama.cpp's CUDA logs.
    const InferenceRequest& r = w.request;
    const AttentionGeometry& g = w.model.attention;
    const bool cpu = Cpu(r);
    const uint64_t hidden = static_cast<uint64_t>(g.hidden_size);
    const uint64_t vocab = static_cast<uint64_t>(w.model.vocab_size);
    const uint64_t heads = static_cast<uint64_t>(g.num_query_heads);
    const uint64_t ffn_factor = w.gated ? 3 : 2;
    const uint64_t ubatch = static_cast<uint64_t>(w.plan.ubatch_tokens);
    const uint64_t n_kv = static_cast<uint64_t>(w.plan.tokens_per_sequence);
    const uint64_t embed_rows = cpu ? ubatch * 4 * hidden : 0;
    const uint64_t k_width = w.k_width, v_width = w.v_width;
    const uint64_t logits = ubatch * 4 * (vocab + hidden) + embed_rows;
    const uint64_t attention =
        r.flash_attention
            ? 0
            : ubatch * 4 * (heads * n_kv + n_kv + 4 * hidden + k_width + v_width) + embed_rows;
    const uint64_t mask = n_kv * ubatch * (r.flash_attention ? 2 : 4);
    const uint64_t ffn = ubatch * 4 * (ffn_factor * w.widest_ffn + 3 * hidden) + mask + embed_rows;
    const uint64_t compute = std::max({logits, attention, ffn});
    items.Add("activations", "compute_buffer", "Compute buffer", compute, [&] {
      const std::string what =
          compute == logits
              ? "the fp32 logits of all " + Thousands(ubatch) + " ubatch positions x " +
                    Thousands(vocab) + " vocabulary, plus the final hidden state"
          : compute == attention
              ? "the fp32 attention scores (softmaxed in place), " + std::to_string(heads) +
                    " heads x " + Thousands(n_kv) + " cells x " + Thousands(ubatch) +
                    " tokens (no flash attention)"
              : "one layer's fp32 MLP intermediates for the ubatch plus the attention mask";
      return "llama.cpp reserves its compute buffer for the worst ubatch (" + Thousands(ubatch) +
             " tokens against " + Thousands(n_kv) + " cells); the largest live set is " + what;
    });
    uint64_t activations = compute;
    const uint64_t output_buffer = vocab * static_cast<uint64_t>(r.batch) * 4;
    if (cpu) {
      // The output buffer (n_vocab x n_seq fp32) is host RAM, which is the device here.
      items.Add("activations", "output_buffer", "Output buffer", output_buffer, [&] {
        return std::string("fp32 logits of the last position of each sequence, kept for sampling");
      });
      activations += output_buffer;
    } else {
      // Host side: the output buffer and the CPU compute buffer holding the token-embedding
      // rows and the fp32 mask.
      e->host_bytes =
          w.weights.token_embedding_bytes + output_buffer + (hidden + n_kv) * ubatch * 4;
      items.Note([&] {
        return "host RAM: " + GiB(static_cast<double>(e->host_bytes)) +
               " (token embeddings, output buffer and CPU compute buffer)";
      });
    }
    return activations;
  }

  uint64_t Overhead(const InferenceRequest& r, internal::Items& items,
                    uint64_t* budgeted) const override {
    if (Cpu(r)) return 0;
    items.Add("overhead", "cuda_context", "CUDA context", world::kLlamaCppCudaContextBytes, [&] {
      return std::string("driver context, loaded kernels and cuBLAS handle of the process");
    });
    return world::kLlamaCppCudaContextBytes;
  }

  SplitMode DefaultSplit() const override { return SplitMode::kLayer; }
  Status CheckTensorSplit() const override {
    return Status(
        ErrorCode::kUnsupported,
        "split: llama.cpp's multi-GPU default is the layer split; its row split is not modelled "
        "(use --split layer)");
  }
  void ThroughputNotes(const InferenceRequest& request, bool discrete_gpu, double layer_seconds,
                       double fixed_seconds, std::vector<std::string>* notes) const override {}

  void CacheTypeChange(InferenceRequest* r, std::string* change,
                       std::vector<FieldChange>* apply) const override {
    if (r->flash_attention) return;
    r->flash_attention = true;  // llama.cpp quantizes V only with flash attention
    *change += " --flash-attn on";
    apply->push_back(FieldChange::Boolean("flash_attention", true));
  }

  AttentionChange FusedAttention(const InferenceRequest& r) const override {
    AttentionChange c;
    if (r.flash_attention) return c;
    c.available = true;
    c.request = r;
    c.request.flash_attention = true;
    c.change = "--flash-attn on";
    c.field = FieldChange::Boolean("flash_attention", true);
    return c;
  }

  std::vector<std::string> WeightLadder() const override {
    // Ordered by perplexity increase on Llama-3-70B (llama.cpp PR 6745, dranger003).
    return {"gguf-f16", "q8_0",   "q6_k",   "q5_k_m", "q5_k_s", "q4_k_m",  "q4_k_s", "iq4_nl",
            "iq4_xs",   "q3_k_l", "q3_k_m", "iq3_m",  "iq3_s",  "q3_k_s",  "iq3_xs", "iq3_xxs",
            "q2_k",     "iq2_m",  "q2_k_s", "iq2_s",  "iq2_xs", "iq2_xxs", "iq1_m",  "iq1_s"};
  }
  bool OffloadsToHost() const override { return true; }
};

}  // namespace

const Profile& LlamaCppProfile() {
  static const LlamaCpp profile;
  return profile;
}

}  // namespace vram::runtime
