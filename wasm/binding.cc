// Embind binding: plain values in and out, errors as values. No class handles cross the
// boundary, so JavaScript has nothing to delete.

#include <emscripten/bind.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>

#include "vram/vram.h"

namespace {

// --- Models read from files (the page's drop zone and "Load from Hugging Face") ------------------
// The page reads only header bytes (File.slice or HTTP Range) and hands them over; the model built
// from them is kept here under a handle ("file:1", ...) so that every later call (calculation,
// sweeps, planner) reuses it. The page passes the handle as "config": "@file:1".

struct ImportedModels {
  static constexpr size_t kMaxModels = 8;  // a page imports a few; the oldest goes first
  std::vector<std::pair<std::string, std::shared_ptr<const vram::FileModel>>> models;
  uint64_t next = 1;

  const vram::FileModel* Find(std::string_view handle) const {
    for (const auto& [h, m] : models) {
      if (h == handle) return m.get();
    }
    return nullptr;
  }
  std::string Add(vram::FileModel model) {
    if (models.size() >= kMaxModels) models.erase(models.begin());
    std::string handle = "file:" + std::to_string(next++);
    models.emplace_back(handle, std::make_shared<const vram::FileModel>(std::move(model)));
    return handle;
  }
};

ImportedModels& Imported() {
  static ImportedModels* imported = new ImportedModels();  // lives as long as the module
  return *imported;
}

constexpr std::string_view kFileRef = "@file:";

/// The imported model a request refers to ("config": "@file:N"), with that key removed from
/// `request_json`; nullptr (and the text untouched) for an ordinary request. `error` is set when
/// the handle is unknown.
const vram::FileModel* TakeFileModel(std::string* request_json, std::string* error) {
  if (request_json->find(std::string("\"config\":\"") + std::string(kFileRef)) == std::string::npos)
    return nullptr;
  nlohmann::json root = nlohmann::json::parse(*request_json, nullptr, false);
  if (!root.is_object() || !root.contains("config") || !root["config"].is_string()) return nullptr;
  const std::string ref = root["config"].get<std::string>();
  if (ref.compare(0, kFileRef.size(), kFileRef) != 0) return nullptr;
  const vram::FileModel* model = Imported().Find(std::string_view(ref).substr(1));
  if (model == nullptr) {
    *error = vram::ErrorJson(vram::Status(vram::ErrorCode::kNotFound,
                                          "model: the imported model '" + ref.substr(1, 40) +
                                              "' is no longer loaded; import the file again"));
    return nullptr;
  }
  root.erase("config");
  *request_json = root.dump();
  return model;
}

/// How much of a model file's header the prefix holds: {"complete": true, ...} with facts the page
/// needs before importing (a GGUF's split position), {"complete": false, "bytes_needed": N}, or
/// {"error": ...}. `kind` is "gguf" or "safetensors"; `file_size` the whole file's size (0 =
/// unknown). The page grows the prefix until it is complete; a large file is never read whole.
std::string ProbeModelFile(const std::string& kind, const std::string& prefix, double file_size) {
  nlohmann::ordered_json out;
  const uint64_t size =
      file_size >= 0 && file_size < 9.007199254740992e15 ? static_cast<uint64_t>(file_size) : 0;
  if (kind == "gguf") {
    vram::Result<vram::GgufParse> p = vram::ParseGgufHeader(prefix, size);
    if (!p.ok()) return vram::ErrorJson(p.status());
    out["complete"] = p->complete;
    if (!p->complete) {
      out["bytes_needed"] = p->bytes_needed;
      return out.dump();
    }
    vram::Result<vram::GgufSplit> split = vram::GgufSplitOf(p->header);
    if (!split.ok()) return vram::ErrorJson(split.status());
    out["header_bytes"] = p->header.data_offset;
    out["split_index"] = split->index;
    out["split_count"] = split->count;
    const vram::GgufValue* name = p->header.Find("general.name");
    out["name"] =
        name != nullptr && name->type == vram::GgufType::kString ? name->string_value : "";
    return out.dump(-1, ' ', false, nlohmann::detail::error_handler_t::replace);
  }
  if (kind == "safetensors") {
    vram::Result<vram::SafetensorsParse> p = vram::ParseSafetensorsHeader(prefix, size);
    if (!p.ok()) return vram::ErrorJson(p.status());
    out["complete"] = p->complete;
    if (!p->complete) {
      out["bytes_needed"] = p->bytes_needed;
      return out.dump();
    }
    out["header_bytes"] = p->header.data_offset;
    out["tensors"] = p->header.tensors.size();
    return out.dump();
  }
  if (kind == "index") {
    vram::Result<vram::SafetensorsIndex> index = vram::ParseSafetensorsIndex(prefix);
    if (!index.ok()) return vram::ErrorJson(index.status());
    out["complete"] = true;
    out["shards"] = index->shards;
    out["tensors"] = index->tensors;
    return out.dump(-1, ' ', false, nlohmann::detail::error_handler_t::replace);
  }
  return vram::ErrorJson(vram::Status(vram::ErrorCode::kInvalidArgument,
                                      "kind: must be 'gguf', 'safetensors' or 'index'"));
}

/// Builds a model from header prefixes and keeps it: `spec_json` is {"kind": "gguf" |
/// "safetensors", "source": display name, "config": config.json text (safetensors), "index":
/// index.json text or ""}; `parts` a JS array of {bytes: Uint8Array (a complete header prefix),
/// size: the file's size}. Returns the FileModelSummaryJson object plus "handle", or an error.
std::string ImportModel(const std::string& spec_json, const emscripten::val& parts) {
  using vram::ErrorCode;
  using vram::Status;
  const nlohmann::json spec = nlohmann::json::parse(spec_json, nullptr, false);
  auto text = [&](const char* key) {
    return spec.is_object() && spec.contains(key) && spec[key].is_string()
               ? spec[key].get<std::string>()
               : std::string();
  };
  const std::string kind = text("kind");
  const size_t count = parts.isArray() ? parts["length"].as<size_t>() : 0;
  if (count == 0 || count > 256) {
    return vram::ErrorJson(Status(ErrorCode::kInvalidArgument, "files: give 1 to 256 model files"));
  }
  // Every part must be a complete header prefix; `parse` is ParseGgufHeader or
  // ParseSafetensorsHeader (their results both have `complete` and `header`).
  auto parse_parts = [&](const char* what, auto parse, auto* headers) -> vram::Status {
    for (size_t i = 0; i < count; ++i) {
      const emscripten::val part = parts[i];
      auto p =
          parse(part["bytes"].as<std::string>(), static_cast<uint64_t>(part["size"].as<double>()));
      if (!p.ok()) return p.status();
      if (!p->complete)
        return Status(ErrorCode::kParseError,
                      std::string(what) + ": the header prefix is incomplete");
      headers->push_back(std::move(p->header));
    }
    return vram::Status::Ok();
  };
  vram::Result<vram::FileModel> model =
      Status(ErrorCode::kInvalidArgument, "kind: must be 'gguf' or 'safetensors'");
  if (kind == "gguf") {
    std::vector<vram::GgufHeader> headers;
    const Status parsed = parse_parts(
        "gguf", [](const std::string& b, uint64_t n) { return vram::ParseGgufHeader(b, n); },
        &headers);
    if (!parsed.ok()) return vram::ErrorJson(parsed);
    model = vram::FileModelFromGguf(headers);
  } else if (kind == "safetensors") {
    vram::Result<vram::ModelDescription> base = vram::ModelFromHfConfig(text("config"));
    if (!base.ok()) return vram::ErrorJson(base.status());
    std::vector<vram::SafetensorsHeader> headers;
    const Status parsed = parse_parts(
        "safetensors",
        [](const std::string& b, uint64_t n) { return vram::ParseSafetensorsHeader(b, n); },
        &headers);
    if (!parsed.ok()) return vram::ErrorJson(parsed);
    vram::Result<vram::SafetensorsIndex> index = vram::SafetensorsIndex{};
    if (!text("index").empty()) {
      index = vram::ParseSafetensorsIndex(text("index"));
      if (!index.ok()) return vram::ErrorJson(index.status());
    }
    model = vram::FileModelFromSafetensors(std::move(base).value(), headers,
                                           text("index").empty() ? nullptr : &*index);
  }
  if (!model.ok()) return vram::ErrorJson(model.status());
  const std::string source = text("source");
  nlohmann::ordered_json out =
      nlohmann::ordered_json::parse(vram::FileModelSummaryJson(*model, source), nullptr, false);
  out["handle"] = Imported().Add(std::move(model).value());
  return out.dump(-1, ' ', false, nlohmann::detail::error_handler_t::replace);
}

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
  if (!(in.context >= 1 && in.context <= 16777216) ||
      in.context != static_cast<int64_t>(in.context)) {
    return Fail(
        vram::Status(vram::ErrorCode::kOutOfRange, "context: must be an integer in [1, 16777216]"));
  }
  if (!(in.batch >= 1 && in.batch <= 65536) || in.batch != static_cast<int64_t>(in.batch)) {
    return Fail(
        vram::Status(vram::ErrorCode::kOutOfRange, "batch: must be an integer in [1, 65536]"));
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
    std::optional<vram::WeightPlan> stored;  ///< A model file's own weights ("" or "native").
  };

  Entry& Model(const std::string& config_json) {
    auto it = models_.find(config_json);
    if (it != models_.end()) return *it->second;
    if (models_.size() >= kMaxModels) models_.clear();
    std::unique_ptr<Entry> entry;
    if (config_json.compare(0, kFileRef.size(), kFileRef) == 0) {
      const vram::FileModel* file = Imported().Find(std::string_view(config_json).substr(1));
      entry = std::make_unique<Entry>(Entry{
          file != nullptr
              ? vram::Result<vram::ModelDescription>(file->model)
              : vram::Result<vram::ModelDescription>(vram::Status(
                    vram::ErrorCode::kNotFound, "model: the imported model is no longer loaded")),
          {},
          std::nullopt});
      if (file != nullptr && file->stored) entry->stored = file->weights;
    } else {
      entry =
          std::make_unique<Entry>(Entry{vram::ModelFromHfConfig(config_json), {}, std::nullopt});
    }
    return *models_.emplace(config_json, std::move(entry)).first->second;
  }

  static const vram::Result<vram::WeightPlan>& Plan(Entry& entry, const std::string& weights) {
    auto it = entry.plans.find(weights);
    if (it != entry.plans.end()) return *it->second;
    if (entry.plans.size() >= kMaxPlans) entry.plans.clear();
    // As CalculateStored: the file's own weights unless another format is named.
    if (entry.stored &&
        (weights.empty() || weights == "native" || weights == entry.stored->format.id)) {
      return *entry.plans
                  .emplace(weights, std::make_unique<vram::Result<vram::WeightPlan>>(*entry.stored))
                  .first->second;
    }
    vram::Result<vram::WeightFormat> format = vram::ResolveWeightFormat(*entry.model, weights);
    auto plan = std::make_unique<vram::Result<vram::WeightPlan>>(
        format.ok() ? vram::PlanWeights(*entry.model, *format)
                    : vram::Result<vram::WeightPlan>(format.status()));
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
  vram::Result<vram::CalculatorRequest> request =
      vram::ParseCalculatorRequest(request_json, nullptr);
  if (!request.ok()) return ErrorLine(request.status());
  if (!entry.model.ok()) return ErrorLine(entry.model.status());
  auto n = [](uint64_t v) { return std::to_string(v); };
  if (request->is_training()) {
    vram::Result<vram::Calculation> c = vram::Calculate(*entry.model, *request);
    if (!c.ok()) return ErrorLine(c.status());
    const vram::TrainingEstimate& t = c->training;
    return "{\"bytes\":{\"weights\":" + n(t.weights_bytes) +
           ",\"kv_cache\":0,\"activations\":" + n(t.activations_bytes) +
           ",\"overhead\":" + n(t.overhead_bytes) + ",\"gradients\":" + n(t.gradients_bytes) +
           ",\"optimizer\":" + n(t.optimizer_bytes) + ",\"total\":" + n(t.total_bytes) +
           "},\"parameters\":" + n(static_cast<uint64_t>(c->parameters.total)) +
           ",\"active_parameters\":" + n(static_cast<uint64_t>(c->parameters.active)) +
           ",\"trainable_parameters\":" + n(static_cast<uint64_t>(t.trainable_parameters)) + "}";
  }
  const vram::Result<vram::WeightPlan>& plan = PreparedCache::Plan(entry, request->weights);
  if (!plan.ok()) return ErrorLine(plan.status());
  vram::Result<vram::InferenceEstimate> e =
      vram::EstimateNumbers(*entry.model, *plan, request->inference);
  if (!e.ok()) return ErrorLine(e.status());
  return "{\"bytes\":{\"weights\":" + n(e->weights_bytes) +
         ",\"kv_cache\":" + n(e->kv_cache_bytes) + ",\"activations\":" + n(e->activations_bytes) +
         ",\"overhead\":" + n(e->overhead_bytes) + ",\"total\":" + n(e->total_bytes) +
         "},\"parameters\":" + n(plan->parameters.total) +
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
  std::string request = request_json, error;
  const vram::FileModel* file = TakeFileModel(&request, &error);
  if (!error.empty()) return error;
  return vram::PlannerJsonWithDevices(request, HardwareCache(), file);
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
  std::string config, body = request_json, error;
  const vram::FileModel* file = TakeFileModel(&body, &error);
  vram::Result<vram::CalculatorRequest> request = vram::ParseCalculatorRequest(body, &config);
  if (!error.empty() || !request.ok() || (config.empty() && file == nullptr) ||
      request->is_training())
    return nulls();
  vram::Result<vram::Calculation> c =
      vram::Status(vram::ErrorCode::kInvalidArgument, "request: no model");
  if (file != nullptr) {
    c = vram::CalculateFileModel(*file, *request);
  } else {
    vram::Result<vram::ModelDescription> model = vram::ModelFromHfConfig(config);
    if (!model.ok()) return nulls();
    c = vram::Calculate(*model, *request);
  }
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
    vram::Result<vram::FitResult> fit =
        device ? vram::Fit(c->model, c->weights, c->request.inference, hardware)
               : vram::Result<vram::FitResult>(vram::Status(vram::ErrorCode::kNotFound, "gpu"));
    vram::Result<vram::ThroughputEstimate> speed =
        fit.ok() && fit->fits
            ? vram::EstimateThroughput(c->model, c->weights, c->request.inference, hardware)
            : vram::Result<vram::ThroughputEstimate>(
                  vram::Status(vram::ErrorCode::kOutOfRange, "fit"));
    if (speed.ok()) {
      out.push_back(std::round(speed->decode_tokens_per_s * 100.0) / 100.0);  // as the CLI rounds
    } else {
      out.push_back(nullptr);
    }
  }
  return out.dump();
}

std::string CalculateJsonWithFiles(const std::string& request_json) {
  std::string request = request_json, error;
  const vram::FileModel* file = TakeFileModel(&request, &error);
  if (!error.empty()) return error;
  return file != nullptr ? vram::CalculateJson(request, *file) : vram::CalculateJson(request);
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
  emscripten::function("calculateJson", &CalculateJsonWithFiles);
  emscripten::function("formatsJson", &FormatsJson);
  emscripten::value_object<NumbersBatch>("NumbersBatch")
      .field("config_json", &NumbersBatch::config_json)
      .field("requests", &NumbersBatch::requests);
  emscripten::function("estimateNumbersBatch", &EstimateNumbersBatch);
  emscripten::function("setHardwareJson", &SetHardwareJson);
  emscripten::function("planJson", &PlanJson);
  emscripten::function("decodeTokensBatch", &DecodeTokensBatch);
  emscripten::function("probeModelFile", &ProbeModelFile);
  emscripten::function("importModel", &ImportModel);
}
