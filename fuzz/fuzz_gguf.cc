// libFuzzer target: GGUF header parser, then GGUF -> model -> weight plan -> estimate.
// Any crash, sanitizer report, leak or timeout is a bug; errors as values are expected.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "vram/vram.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // As the whole file (its tensor data must fit), and as the prefix of a larger file: the seeds
  // are headers without data, whose models are built below.
  (void)vram::ParseGgufHeader(bytes, size);
  vram::Result<vram::GgufParse> parsed = vram::ParseGgufHeader(bytes);
  if (!parsed.ok() || !parsed->complete) return 0;
  (void)vram::GgufSplitOf(parsed->header);
  (void)vram::GgufHeaderToJson(parsed->header);
  vram::Result<vram::GgufModel> model = vram::ModelFromGguf({parsed->header});
  if (!model.ok()) return 0;
  vram::InferenceRequest request;
  request.runtime = vram::Runtime::kLlamaCpp;
  request.context_tokens = 4096;
  (void)vram::EstimateInference(model->model, model->weights, request);
  vram::Result<vram::WeightFormat> q4 = vram::ParseWeightFormat("q4_k_m");
  if (q4.ok()) (void)vram::PlanWeights(model->model, *q4);
  return 0;
}
