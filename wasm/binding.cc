// Embind binding: plain values in and out, errors as values. No class handles cross the
// boundary, so JavaScript has nothing to delete.

#include <emscripten/bind.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <unordered_map>

#include <nlohmann/json.hpp>

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

/// A JSON string literal (quotes, backslashes and control characters escaped).
std::string JsonString(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      static const char kHex[] = "0123456789abcdef";
      out += "\\u00";
      out += kHex[(c >> 4) & 0xf];
      out += kHex[c & 0xf];
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string FormatsJson() {
  std::string out = "[";
  for (const vram::WeightFormatInfo& f : vram::ListWeightFormats()) {
    if (out.size() > 1) out += ",";
    out += "{\"id\":" + JsonString(f.id) + ",\"family\":" + JsonString(f.family) +
           ",\"description\":" + JsonString(f.description) + "}";
  }
  return out + "]";
}

/// Numbers-only batch for sweeps (the page's memory-vs-context chart, quick reference and fit
/// table): one model's config.json text and one request per line, each a calculateJson request
/// object without "config". Training modes run the full Calculate (they have no plan to reuse).
struct NumbersBatch {
  std::string config_json;
  std::string requests;  ///< Newline-separated request objects (JSON.stringify never emits '\n').
};

/// Memo of the two context-independent steps, ModelFromHfConfig and PlanWeights, keyed by their
/// exact inputs (config text, weights id), so a sweep costs one EstimateNumbers per point. Both
/// steps are pure, so the answers are those of calculateJson (tests/wasm/engine.test.mjs checks).
/// Bounded: cleared when it holds more than kMaxModels models or kMaxPlans plans of one model.
class PreparedCache {
 public:
  struct Entry {
    vram::Result<vram::ModelDescription> model;
    std::unordered_map<std::string, std::unique_ptr<vram::Result<vram::WeightPlan>>> plans;
  };

  Entry& Model(const std::string& config_json) {
    auto it = models_.find(config_json);
    if (it != models_.end()) return *it->second;
    if (models_.size() >= kMaxModels) models_.clear();
    auto entry = std::make_unique<Entry>(Entry{vram::ModelFromHfConfig(config_json), {}});
    return *models_.emplace(config_json, std::move(entry)).first->second;
  }

  static const vram::Result<vram::WeightPlan>& Plan(Entry& entry, const std::string& weights) {
    auto it = entry.plans.find(weights);
    if (it != entry.plans.end()) return *it->second;
    if (entry.plans.size() >= kMaxPlans) entry.plans.clear();
    vram::Result<vram::WeightFormat> format = vram::ResolveWeightFormat(*entry.model, weights);
    auto plan = std::make_unique<vram::Result<vram::WeightPlan>>(
        format.ok() ? vram::PlanWeights(*entry.model, *format) : vram::Result<vram::WeightPlan>(format.status()));
    return *entry.plans.emplace(weights, std::move(plan)).first->second;
  }

 private:
  static constexpr size_t kMaxModels = 32;
  static constexpr size_t kMaxPlans = 24;
  std::unordered_map<std::string, std::unique_ptr<Entry>> models_;
};

/// One-line {"error": ...} for the batch output (one object per line).
/// One-line {"error": ...} for the batch output (one object per line).
std::string ErrorLine(const vram::Status& status) {
  return std::string("{\"error\":{\"code\":") + JsonString(vram::ErrorCodeName(status.code())) +
         ",\"message\":" + JsonString(status.message()) + "}}";
}

/// One line of the batch: {"bytes": {...}, ...} or {"error": {"code", "message"}}.
std::string NumbersJson(PreparedCache::Entry& entry, const std::string& request_json) {
  vram::Result<vram::CalculatorRequest> request = vram::ParseCalculatorRequest(request_json, nullptr);
  if (!request.ok()) return ErrorLine(request.status());
  if (!entry.model.ok()) return ErrorLine(entry.model.status());
  auto n = [](uint64_t v) { return std::to_string(v); };
  if (request->is_training()) {
    vram::Result<vram::Calculation> c = vram::Calculate(*entry.model, *request);
    if (!c.ok()) return ErrorLine(c.status());
    const vram::TrainingEstimate& t = c->training;
    return "{\"bytes\":{\"weights\":" + n(t.weights_bytes) + ",\"kv_cache\":0,\"activations\":" +
           n(t.activations_bytes) + ",\"overhead\":" + n(t.overhead_bytes) + ",\"gradients\":" +
           n(t.gradients_bytes) + ",\"optimizer\":" + n(t.optimizer_bytes) + ",\"total\":" + n(t.total_bytes) +
           "},\"parameters\":" + n(static_cast<uint64_t>(c->parameters.total)) +
           ",\"active_parameters\":" + n(static_cast<uint64_t>(c->parameters.active)) +
           ",\"trainable_parameters\":" + n(static_cast<uint64_t>(t.trainable_parameters)) + "}";
  }
  const vram::Result<vram::WeightPlan>& plan = PreparedCache::Plan(entry, request->weights);
  if (!plan.ok()) return ErrorLine(plan.status());
  vram::Result<vram::InferenceEstimate> e = vram::EstimateNumbers(*entry.model, *plan, request->inference);
  if (!e.ok()) return ErrorLine(e.status());
  return "{\"bytes\":{\"weights\":" + n(e->weights_bytes) + ",\"kv_cache\":" + n(e->kv_cache_bytes) +
         ",\"activations\":" + n(e->activations_bytes) + ",\"overhead\":" + n(e->overhead_bytes) +
         ",\"total\":" + n(e->total_bytes) + "},\"parameters\":" + n(plan->parameters.total) +
         ",\"active_parameters\":" + n(plan->parameters.active) +
         ",\"kv_bytes_per_token\":" + n(e->kv_bytes_per_token) +
         ",\"bytes_read_per_token\":" + n(plan->bytes_read_per_token) +
         ",\"reserved_bytes\":" + n(e->runtime_reserved_bytes) +
         ",\"kv_capacity_tokens\":" + n(static_cast<uint64_t>(e->kv_capacity_tokens)) + "}";
}

/// The batch: a JSON array with one answer per request line, in order.
std::string EstimateNumbersBatch(const NumbersBatch& in) {
  static PreparedCache* cache = new PreparedCache();  // lives as long as the module
  PreparedCache::Entry& entry = cache->Model(in.config_json);
  std::string out = "[";
  size_t begin = 0;
  while (begin <= in.requests.size()) {
    size_t end = in.requests.find('\n', begin);
    if (end == std::string::npos) end = in.requests.size();
    if (out.size() > 1) out += ",";
    out += NumbersJson(entry, in.requests.substr(begin, end - begin));
    begin = end + 1;
  }
  return out + "]";
}

}  // namespace

/// hardware.json parsed once per page load (the planner needs it on every call).
std::vector<vram::Device>& HardwareCache() {
  static std::vector<vram::Device> devices;
  return devices;
}

/// Parses hardware.json for later planJson calls; returns "" or the error message.
std::string SetHardwareJson(const std::string& text) {
  vram::Result<std::vector<vram::Device>> devices = vram::ParseDevices(text);
  if (!devices.ok()) return devices.status().message();
  HardwareCache() = std::move(devices).value();
  return "";
}

/// A planner action (see vram::PlannerJson) against the devices given to setHardwareJson.
std::string PlanJson(const std::string& request_json) {
  return vram::PlannerJsonWithDevices(request_json, HardwareCache());
}

/// Decode tokens/s of one workload on many (device, count) targets, building the model and its
/// weight plan once: `targets_json` is [{"gpu": id, "gpus": n}, ...]. Returns a JSON array with a
/// number per target, or null where it does not fit or cannot be planned.
std::string DecodeTokensBatch(const std::string& request_json, const std::string& targets_json) {
  using Json = nlohmann::json;
  const Json targets = Json::parse(targets_json, nullptr, false);
  Json out = Json::array();
  if (!targets.is_array()) return out.dump();
  auto nulls = [&]() {
    for (size_t i = 0; i < targets.size(); ++i) out.push_back(nullptr);
    return out.dump();
  };
  std::string config;
  vram::Result<vram::CalculatorRequest> request = vram::ParseCalculatorRequest(request_json, &config);
  if (!request.ok() || config.empty() || request->is_training()) return nulls();
  vram::Result<vram::ModelDescription> model = vram::ModelFromHfConfig(config);
  if (!model.ok()) return nulls();
  vram::Result<vram::Calculation> c = vram::Calculate(*model, *request);
  if (!c.ok()) return nulls();
  for (const Json& t : targets) {
    const vram::Device* device = nullptr;
    if (t.is_object() && t.contains("gpu") && t["gpu"].is_string()) {
      device = vram::FindDevice(HardwareCache(), t["gpu"].get<std::string>());
    }
    vram::HardwareConfig hardware;
    hardware.device = device;
    if (t.is_object() && t.contains("gpus") && t["gpus"].is_number_integer()) {
      hardware.count = static_cast<int>(std::clamp<int64_t>(t["gpus"].get<int64_t>(), 1, 64));
    }
    // The same figure the CLI prints with --gpu: the speed when the configuration fits.
    vram::Result<vram::FitResult> fit = device ? vram::Fit(c->model, c->weights, c->request.inference, hardware)
                                               : vram::Result<vram::FitResult>(vram::Status(vram::ErrorCode::kNotFound, "gpu"));
    vram::Result<vram::ThroughputEstimate> speed =
        fit.ok() && fit->fits ? vram::EstimateThroughput(c->model, c->weights, c->request.inference, hardware)
                              : vram::Result<vram::ThroughputEstimate>(vram::Status(vram::ErrorCode::kOutOfRange, "fit"));
    if (speed.ok()) {
      out.push_back(std::round(speed->decode_tokens_per_s * 100.0) / 100.0);  // as the CLI rounds
    } else {
      out.push_back(nullptr);
    }
  }
  return out.dump();
}

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
  emscripten::value_object<NumbersBatch>("NumbersBatch")
      .field("config_json", &NumbersBatch::config_json)
      .field("requests", &NumbersBatch::requests);
  emscripten::function("estimateNumbersBatch", &EstimateNumbersBatch);
  emscripten::function("setHardwareJson", &SetHardwareJson);
  emscripten::function("planJson", &PlanJson);
  emscripten::function("decodeTokensBatch", &DecodeTokensBatch);
}
