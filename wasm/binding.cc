// Embind binding: plain values in and out, errors as values. No class handles cross the
// boundary, so JavaScript has nothing to delete.

#include <emscripten/bind.h>

#include <string>

#include "vram/vram.h"

namespace {

/// Flat request for the minimal `estimate` entry point (every field is required by Embind).
struct EstimateRequest {
  std::string config_json;
  std::string weights;
  std::string kv_dtype;
  std::string runtime;
  double context = 4096;
  double batch = 1;
};

/// Flat summary; byte counts are doubles (exact below 2^53).
struct EstimateSummary {
  bool ok = false;
  std::string error_code;
  std::string error_message;
  std::string weights;
  double parameters = 0;
  double active_parameters = 0;
  double weights_bytes = 0;
  double kv_cache_bytes = 0;
  double activations_bytes = 0;
  double overhead_bytes = 0;
  double total_bytes = 0;
};

EstimateSummary Fail(const vram::Status& status) {
  EstimateSummary s;
  s.error_code = vram::ErrorCodeName(status.code());
  s.error_message = status.message();
  return s;
}

EstimateSummary Estimate(const EstimateRequest& in) {
  vram::Result<vram::ModelDescription> model = vram::ModelFromHfConfig(in.config_json);
  if (!model.ok()) return Fail(model.status());
  vram::CalculatorRequest request;
  request.weights = in.weights;
  if (!(in.context >= 1 && in.context <= 16777216) || in.context != static_cast<int64_t>(in.context)) {
    return Fail(vram::Status(vram::ErrorCode::kOutOfRange, "context: must be an integer in [1, 16777216]"));
  }
  if (!(in.batch >= 1 && in.batch <= 65536) || in.batch != static_cast<int64_t>(in.batch)) {
    return Fail(vram::Status(vram::ErrorCode::kOutOfRange, "batch: must be an integer in [1, 65536]"));
  }
  request.inference.context_tokens = static_cast<int64_t>(in.context);
  request.inference.batch = static_cast<int64_t>(in.batch);
  if (!in.kv_dtype.empty()) {
    vram::Result<vram::KvDType> kv = vram::ParseKvDType(in.kv_dtype);
    if (!kv.ok()) return Fail(kv.status());
    request.inference.kv_dtype = *kv;
  }
  if (!in.runtime.empty()) {
    vram::Result<vram::Runtime> runtime = vram::ParseRuntime(in.runtime);
    if (!runtime.ok()) return Fail(runtime.status());
    request.inference.runtime = *runtime;
  }
  vram::Result<vram::Calculation> c = vram::Calculate(*model, request);
  if (!c.ok()) return Fail(c.status());
  EstimateSummary s;
  s.ok = true;
  s.weights = c->request.weights;
  s.parameters = static_cast<double>(c->parameters.total);
  s.active_parameters = static_cast<double>(c->parameters.active);
  s.weights_bytes = static_cast<double>(c->estimate.weights_bytes);
  s.kv_cache_bytes = static_cast<double>(c->estimate.kv_cache_bytes);
  s.activations_bytes = static_cast<double>(c->estimate.activations_bytes);
  s.overhead_bytes = static_cast<double>(c->estimate.overhead_bytes);
  s.total_bytes = static_cast<double>(c->estimate.total_bytes);
  return s;
}

std::string CalculateJson(const std::string& request_json) { return vram::CalculateJson(request_json); }

std::string FormatsJson() {
  std::string out = "[";
  for (const vram::WeightFormatInfo& f : vram::ListWeightFormats()) {
    if (out.size() > 1) out += ",";
    out += "{\"id\":\"" + f.id + "\",\"family\":\"" + f.family + "\"}";
  }
  return out + "]";
}

}  // namespace

EMSCRIPTEN_BINDINGS(vramcalc) {
  emscripten::value_object<EstimateRequest>("EstimateRequest")
      .field("config_json", &EstimateRequest::config_json)
      .field("weights", &EstimateRequest::weights)
      .field("kv_dtype", &EstimateRequest::kv_dtype)
      .field("runtime", &EstimateRequest::runtime)
      .field("context", &EstimateRequest::context)
      .field("batch", &EstimateRequest::batch);
  emscripten::value_object<EstimateSummary>("EstimateSummary")
      .field("ok", &EstimateSummary::ok)
      .field("error_code", &EstimateSummary::error_code)
      .field("error_message", &EstimateSummary::error_message)
      .field("weights", &EstimateSummary::weights)
      .field("parameters", &EstimateSummary::parameters)
      .field("active_parameters", &EstimateSummary::active_parameters)
      .field("weights_bytes", &EstimateSummary::weights_bytes)
      .field("kv_cache_bytes", &EstimateSummary::kv_cache_bytes)
      .field("activations_bytes", &EstimateSummary::activations_bytes)
      .field("overhead_bytes", &EstimateSummary::overhead_bytes)
      .field("total_bytes", &EstimateSummary::total_bytes);
  emscripten::function("estimate", &Estimate);
  emscripten::function("calculateJson", &CalculateJson);
  emscripten::function("formatsJson", &FormatsJson);
}
