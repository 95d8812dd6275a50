// libFuzzer target: safetensors header and index parsers, then the checkpoint laid onto a small
// model's inventory. The first byte picks the parser so one corpus covers both.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "vram/vram.h"

namespace {

const vram::ModelDescription& Model() {
  // A small MoE with biases, so that experts, fused names and biases all have a place.
  static const vram::ModelDescription model = [] {
    vram::Result<vram::ModelDescription> m = vram::ModelFromHfConfig(R"({
      "model_type": "qwen2_moe", "vocab_size": 64, "hidden_size": 32, "intermediate_size": 64,
      "moe_intermediate_size": 32, "shared_expert_intermediate_size": 32, "num_experts": 4,
      "num_experts_per_tok": 2, "num_hidden_layers": 2, "num_attention_heads": 4,
      "num_key_value_heads": 2, "mlp_only_layers": [1]})");
    return m.ok() ? std::move(m).value() : vram::ModelDescription{};
  }();
  return model;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 1) {
    (void)vram::ParseSafetensorsIndex(bytes);
    return 0;
  }
  // As the whole file (the data must follow exactly), and as a prefix (the seeds are headers).
  (void)vram::ParseSafetensorsHeader(bytes, bytes.size());
  vram::Result<vram::SafetensorsParse> parsed = vram::ParseSafetensorsHeader(bytes);
  if (!parsed.ok() || !parsed->complete) return 0;
  (void)vram::SummarizeSafetensors({parsed->header});
  vram::Result<vram::SafetensorsPlan> plan =
      vram::PlanWeightsFromSafetensors(Model(), {parsed->header});
  if (!plan.ok()) return 0;
  (void)vram::EstimateInference(Model(), plan->weights, vram::InferenceRequest{});
  return 0;
}
