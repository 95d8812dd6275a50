// libFuzzer target: Hugging Face config.json -> model -> weight plans -> estimates.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "vram/vram.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  vram::Result<vram::ModelDescription> model = vram::ModelFromHfConfig(text);
  if (!model.ok()) return 0;
  // Bounded work per input: skip configs whose inventory is huge (the limits allow 4096 layers).
  if (model->tensors.size() > 20000) return 0;
  for (const char* id : {"native", "q4_k_m", "nf4-dq"}) {
    vram::Result<vram::WeightFormat> format = vram::ResolveWeightFormat(*model, id);
    if (!format.ok()) continue;
    vram::Result<vram::WeightPlan> plan = vram::PlanWeights(*model, *format);
    if (!plan.ok()) continue;
    vram::InferenceRequest request;
    request.runtime = format->is_gguf() ? vram::Runtime::kLlamaCpp : vram::Runtime::kVllm;
    (void)vram::EstimateInference(*model, *plan, request);
  }
  return 0;
}
