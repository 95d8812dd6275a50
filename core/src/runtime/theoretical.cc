// The theoretical minimum: exact weights and cache, the smallest transient working set, no
// runtime overhead or padding. A lower bound, not a runtime.

#include <algorithm>

#include "../numeric.h"
#include "profile.h"

namespace vram::runtime {
namespace {

using internal::Thousands;

class Theoretical final : public Profile {
 public:
  Runtime id() const override { return Runtime::kTheoretical; }
  const char* name() const override { return "theoretical"; }
  const char* display_name() const override { return "theoretical minimum"; }
  std::vector<const char*> option_fields() const override { return {"ubatch"}; }

  Status CheckRequest(const InferenceRequest& r) const override { return Status::Ok(); }

  uint64_t Activations(const Workload& w, internal::Items& items,
                       InferenceEstimate* e) const override {
    // One prefill chunk of `ubatch` tokens per sequence through one layer, fused attention,
    // 16-bit activations; logits for the last position of each sequence in fp32.
    const InferenceRequest& r = w.request;
    const uint64_t batch = static_cast<uint64_t>(r.batch);
    const uint64_t hidden = static_cast<uint64_t>(w.model.attention.hidden_size);
    const uint64_t vocab = static_cast<uint64_t>(w.model.vocab_size);
    const uint64_t ffn_factor = w.gated ? 3 : 2;
    const uint64_t chunk = std::min<uint64_t>(static_cast<uint64_t>(r.context_tokens),
                                              static_cast<uint64_t>(r.ubatch_tokens)) *
                           batch;
    const uint64_t layer_ws = chunk * (2 * hidden + w.qkv_width + ffn_factor * w.widest_ffn) * 2;
    const uint64_t logits = batch * vocab * 4;
    items.Add("activations", "layer_working_set", "Layer working set", layer_ws, [&] {
      return std::string("one layer's live tensors for a prefill chunk of " + Thousands(chunk) +
                         " tokens: hidden state and residual, Q/K/V, MLP intermediates (" +
                         Thousands(w.widest_ffn) +
                         " wide) in 16-bit; attention is fused so no score matrix");
    });
    items.Add("activations", "logits", "Logits", logits, [&] {
      return std::string("fp32 logits over " + Thousands(vocab) +
                         " tokens for the last position of each sequence");
    });
    return layer_ws + logits;
  }

  uint64_t Overhead(const InferenceRequest& r, internal::Items& items,
                    uint64_t* budgeted) const override {
    items.Note([] {
      return std::string(
          "theoretical profile: no runtime overhead, no padding; weights, exact KV cache "
          "and the minimum transient working set only");
    });
    return 0;
  }

  bool CountsCudaOverhead() const override { return false; }

  std::vector<std::string> WeightLadder() const override {
    return {"bf16", "fp8-e4m3", "int8", "q6_k", "q5_k_m", "q4_k_m", "nf4-dq", "q3_k_m", "q2_k"};
  }
};

}  // namespace

const Profile& TheoreticalProfile() {
  static const Theoretical profile;
  return profile;
}

}  // namespace vram::runtime
