// The front-end session: devices, imported models by handle, and the prepared models and weight
// plans that sweeps reuse. Pure: every answer is a function of the calls made on this object.

#include "vram/session.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>
#include <unordered_map>

#include "json_fields.h"
#include "vram/vram.h"

namespace vram {
namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

constexpr std::string_view kFileRef = "@file:";

std::string DumpJson(const OrderedJson& j) {
  return j.dump(-1, ' ', false, nlohmann::detail::error_handler_t::replace);
}

/// One line of a numbers batch for an error.
std::string ErrorLine(const Status& status) {
  OrderedJson e;
  e["code"] = ErrorCodeName(status.code());
  e["field"] = status.field();
  e["message"] = status.message();
  OrderedJson j;
  j["error"] = std::move(e);
  return DumpJson(j);
}

}  // namespace

struct Session::State {
  // Imported models: a page imports a few; the oldest goes first.
  static constexpr size_t kMaxImported = 8;
  std::vector<std::pair<std::string, std::shared_ptr<const FileModel>>> imported;
  uint64_t next_handle = 1;

  std::vector<Device> devices;

  // Prepared models and weight plans, keyed by their exact inputs (config text or handle,
  // weights id), so a sweep costs one EstimateNumbers per point. Both steps are pure, so the
  // answers are those of Calculate. Bounded: cleared past kMaxModels models or kMaxPlans plans.
  struct Prepared {
    Result<ModelDescription> model = Status(ErrorCode::kInvalidArgument, "model: not prepared");
    std::unordered_map<std::string, std::unique_ptr<Result<WeightPlan>>> plans;
    std::optional<WeightPlan> stored;  ///< A model file's own weights ("" or "native").
  };
  static constexpr size_t kMaxModels = 32;
  static constexpr size_t kMaxPlans = 24;
  std::unordered_map<std::string, std::unique_ptr<Prepared>> prepared;

  const FileModel* Find(std::string_view handle) const {
    for (const auto& [h, m] : imported) {
      if (h == handle) return m.get();
    }
    return nullptr;
  }

  std::string Add(FileModel model) {
    if (imported.size() >= kMaxImported) imported.erase(imported.begin());
    std::string handle = "file:" + std::to_string(next_handle++);
    imported.emplace_back(handle, std::make_shared<const FileModel>(std::move(model)));
    return handle;
  }

  /// The imported model a request names ("config": "@file:N"), with "config" removed from the
  /// request; nullptr for a request carrying its own config.json. Fails on an unknown handle.
  Result<const FileModel*> TakeFileModel(std::string* request_json) const {
    Json root = Json::parse(*request_json, nullptr, false);
    if (!root.is_object()) return static_cast<const FileModel*>(nullptr);
    auto it = root.find("config");
    if (it == root.end() || !it->is_string()) return static_cast<const FileModel*>(nullptr);
    const std::string ref = it->get<std::string>();
    if (ref.compare(0, kFileRef.size(), kFileRef) != 0)
      return static_cast<const FileModel*>(nullptr);
    const FileModel* model = Find(std::string_view(ref).substr(1));
    if (model == nullptr) {
      return Status(ErrorCode::kNotFound, "model: the imported model '" + ref.substr(1, 40) +
                                              "' is no longer loaded; import the file again");
    }
    root.erase(it);
    *request_json = root.dump();
    return model;
  }

  Prepared& Prepare(std::string_view model_key) {
    const std::string key(model_key);
    auto it = prepared.find(key);
    if (it != prepared.end()) return *it->second;
    if (prepared.size() >= kMaxModels) prepared.clear();
    auto entry = std::make_unique<Prepared>();
    if (key.compare(0, kFileRef.size(), kFileRef) == 0) {
      const FileModel* file = Find(std::string_view(key).substr(1));
      if (file == nullptr) {
        entry->model =
            Status(ErrorCode::kNotFound, "model: the imported model is no longer loaded");
      } else {
        entry->model = file->model;
        if (file->stored) entry->stored = file->weights;
      }
    } else {
      entry->model = ModelFromHfConfig(key);
    }
    return *prepared.emplace(key, std::move(entry)).first->second;
  }

  static const Result<WeightPlan>& Plan(Prepared& entry, const std::string& weights) {
    auto it = entry.plans.find(weights);
    if (it != entry.plans.end()) return *it->second;
    if (entry.plans.size() >= kMaxPlans) entry.plans.clear();
    std::unique_ptr<Result<WeightPlan>> plan;
    if (entry.stored &&
        (weights.empty() || weights == "native" || weights == entry.stored->format.id)) {
      // As CalculateStored: the file's own weights unless another format is named.
      plan = std::make_unique<Result<WeightPlan>>(*entry.stored);
    } else {
      Result<WeightFormat> format = ResolveWeightFormat(*entry.model, weights);
      plan = std::make_unique<Result<WeightPlan>>(
          format.ok() ? PlanWeights(*entry.model, *format) : Result<WeightPlan>(format.status()));
    }
    return *entry.plans.emplace(weights, std::move(plan)).first->second;
  }

  /// Calculate for a request whose model is its "config" or an imported model.
  Result<Calculation> CalculateRequest(std::string_view request_json) const {
    std::string body(request_json), config;
    Result<const FileModel*> file = TakeFileModel(&body);
    if (!file.ok()) return file.status();
    Result<CalculatorRequest> request = ParseCalculatorRequest(body, &config);
    if (!request.ok()) return request.status();
    if (*file != nullptr) return CalculateFileModel(**file, *request);
    if (config.empty()) {
      return Status(ErrorCode::kInvalidArgument,
                    "request: missing field 'config' (a config.json object)");
    }
    Result<ModelDescription> model = ModelFromHfConfig(config);
    if (!model.ok()) return model.status();
    return vram::Calculate(*model, *request);
  }
};

Session::Session() : state_(std::make_unique<State>()) {}
Session::~Session() = default;

std::string Session::SetDevices(const std::string& hardware_json) {
  Result<std::vector<Device>> devices = ParseDevices(hardware_json);
  if (!devices.ok()) return devices.status().message();
  state_->devices = std::move(devices).value();
  return "";
}

std::string Session::Calculate(const std::string& request_json) {
  std::string body(request_json);
  Result<const FileModel*> file = state_->TakeFileModel(&body);
  if (!file.ok()) return ErrorJson(file.status());
  return *file != nullptr ? CalculateJson(body, **file) : CalculateJson(body);
}

std::string Session::Numbers(const std::string& model, const std::string& requests) {
  State::Prepared& entry = state_->Prepare(model);
  auto n = [](uint64_t v) { return std::to_string(v); };
  auto answer = [&](std::string_view line) -> std::string {
    Result<CalculatorRequest> request = ParseCalculatorRequest(line, nullptr);
    if (!request.ok()) return ErrorLine(request.status());
    if (!entry.model.ok()) return ErrorLine(entry.model.status());
    if (request->is_training()) {
      // Training has no plan to reuse: the full Calculate.
      Result<Calculation> c = vram::Calculate(*entry.model, *request);
      if (!c.ok()) return ErrorLine(c.status());
      const TrainingEstimate& t = c->training;
      return "{\"bytes\":{\"weights\":" + n(t.weights_bytes) +
             ",\"kv_cache\":0,\"activations\":" + n(t.activations_bytes) +
             ",\"overhead\":" + n(t.overhead_bytes) + ",\"gradients\":" + n(t.gradients_bytes) +
             ",\"optimizer\":" + n(t.optimizer_bytes) + ",\"total\":" + n(t.total_bytes) +
             "},\"parameters\":" + n(static_cast<uint64_t>(c->parameters.total)) +
             ",\"active_parameters\":" + n(static_cast<uint64_t>(c->parameters.active)) +
             ",\"trainable_parameters\":" + n(static_cast<uint64_t>(t.trainable_parameters)) + "}";
    }
    const Result<WeightPlan>& plan = State::Plan(entry, request->weights);
    if (!plan.ok()) return ErrorLine(plan.status());
    Result<InferenceEstimate> e = EstimateNumbers(*entry.model, *plan, request->inference);
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
  };
  std::string out = "[";
  size_t begin = 0;
  while (begin <= requests.size()) {
    size_t end = requests.find('\n', begin);
    if (end == std::string::npos) end = requests.size();
    if (out.size() > 1) out += ",";
    out += answer(requests.substr(begin, end - begin));
    begin = end + 1;
  }
  return out + "]";
}

std::string Session::Plan(const std::string& request_json) {
  std::string body(request_json);
  Result<const FileModel*> file = state_->TakeFileModel(&body);
  if (!file.ok()) return ErrorJson(file.status());
  return PlannerJsonWithDevices(body, state_->devices, *file);
}

std::string Session::FitTable(const std::string& request_json) {
  Json root = Json::parse(request_json, nullptr, false);
  if (!root.is_object())
    return ErrorJson(Status(ErrorCode::kParseError, "request: not a JSON object"));
  root["action"] = "fit-table";
  return Plan(root.dump());
}

std::string Session::DecodeTokens(const std::string& request_json,
                                  const std::string& targets_json) {
  const Json targets = Json::parse(targets_json, nullptr, false);
  Json out = Json::array();
  if (!targets.is_array()) return out.dump();
  Result<Calculation> c = state_->CalculateRequest(request_json);
  for (const Json& t : targets) {
    if (!c.ok() || c->request.is_training()) {
      out.push_back(nullptr);
      continue;
    }
    const Device* device = nullptr;
    if (t.is_object() && t.contains("gpu") && t["gpu"].is_string()) {
      device = FindDevice(state_->devices, t["gpu"].get<std::string>());
    }
    HardwareConfig hardware;
    hardware.device = device;
    if (t.is_object() && t.contains("gpus") && t["gpus"].is_number_integer()) {
      hardware.count = static_cast<int>(std::clamp<int64_t>(t["gpus"].get<int64_t>(), 1, 64));
    }
    // The same figure the CLI prints with --gpu: the speed when the configuration fits.
    Result<FitResult> fit = device ? Fit(c->model, c->weights, c->request.inference, hardware)
                                   : Result<FitResult>(Status(ErrorCode::kNotFound, "gpu"));
    Result<ThroughputEstimate> speed =
        fit.ok() && fit->fits
            ? EstimateThroughput(c->model, c->weights, c->request.inference, hardware)
            : Result<ThroughputEstimate>(Status(ErrorCode::kOutOfRange, "fit"));
    if (speed.ok()) {
      out.push_back(std::round(speed->decode_tokens_per_s * 100.0) / 100.0);  // as the CLI rounds
    } else {
      out.push_back(nullptr);
    }
  }
  return out.dump();
}

std::string Session::ProbeModelFile(const std::string& kind, const std::string& prefix,
                                    uint64_t file_size) const {
  OrderedJson out;
  if (kind == "gguf") {
    Result<GgufParse> p = ParseGgufHeader(prefix, file_size);
    if (!p.ok()) return ErrorJson(p.status());
    out["complete"] = p->complete;
    if (!p->complete) {
      out["bytes_needed"] = p->bytes_needed;
      return DumpJson(out);
    }
    Result<GgufSplit> split = GgufSplitOf(p->header);
    if (!split.ok()) return ErrorJson(split.status());
    out["header_bytes"] = p->header.data_offset;
    out["split_index"] = split->index;
    out["split_count"] = split->count;
    const GgufValue* name = p->header.Find("general.name");
    out["name"] = name != nullptr && name->type == GgufType::kString ? name->string_value : "";
    return DumpJson(out);
  }
  if (kind == "safetensors") {
    Result<SafetensorsParse> p = ParseSafetensorsHeader(prefix, file_size);
    if (!p.ok()) return ErrorJson(p.status());
    out["complete"] = p->complete;
    if (!p->complete) {
      out["bytes_needed"] = p->bytes_needed;
      return DumpJson(out);
    }
    out["header_bytes"] = p->header.data_offset;
    out["tensors"] = p->header.tensors.size();
    return DumpJson(out);
  }
  if (kind == "index") {
    Result<SafetensorsIndex> index = ParseSafetensorsIndex(prefix);
    if (!index.ok()) return ErrorJson(index.status());
    out["complete"] = true;
    out["shards"] = index->shards;
    out["tensors"] = index->tensors;
    return DumpJson(out);
  }
  return ErrorJson(
      Status(ErrorCode::kInvalidArgument, "kind: must be 'gguf', 'safetensors' or 'index'"));
}

std::string Session::ImportModel(const std::string& spec_json,
                                 const std::vector<HeaderPart>& parts) {
  const Json spec = Json::parse(spec_json, nullptr, false);
  auto text = [&](const char* key) {
    return spec.is_object() && spec.contains(key) && spec[key].is_string()
               ? spec[key].get<std::string>()
               : std::string();
  };
  const std::string kind = text("kind");
  if (parts.empty() || parts.size() > 256) {
    return ErrorJson(Status(ErrorCode::kInvalidArgument, "files: give 1 to 256 model files"));
  }
  // Every part must be a complete header prefix.
  auto parse_parts = [&](const char* what, auto parse, auto* headers) -> Status {
    for (const HeaderPart& part : parts) {
      auto p = parse(part.bytes, part.file_size);
      if (!p.ok()) return p.status();
      if (!p->complete)
        return Status(ErrorCode::kParseError,
                      std::string(what) + ": the header prefix is incomplete");
      headers->push_back(std::move(p->header));
    }
    return Status::Ok();
  };
  Result<FileModel> model =
      Status(ErrorCode::kInvalidArgument, "kind: must be 'gguf' or 'safetensors'");
  if (kind == "gguf") {
    std::vector<GgufHeader> headers;
    const Status parsed = parse_parts(
        "gguf", [](const std::string& b, uint64_t n) { return ParseGgufHeader(b, n); }, &headers);
    if (!parsed.ok()) return ErrorJson(parsed);
    model = FileModelFromGguf(headers);
  } else if (kind == "safetensors") {
    Result<ModelDescription> base = ModelFromHfConfig(text("config"));
    if (!base.ok()) return ErrorJson(base.status());
    std::vector<SafetensorsHeader> headers;
    const Status parsed = parse_parts(
        "safetensors",
        [](const std::string& b, uint64_t n) { return ParseSafetensorsHeader(b, n); }, &headers);
    if (!parsed.ok()) return ErrorJson(parsed);
    Result<SafetensorsIndex> index = SafetensorsIndex{};
    if (!text("index").empty()) {
      index = ParseSafetensorsIndex(text("index"));
      if (!index.ok()) return ErrorJson(index.status());
    }
    model = FileModelFromSafetensors(std::move(base).value(), headers,
                                     text("index").empty() ? nullptr : &*index);
  }
  if (!model.ok()) return ErrorJson(model.status());
  OrderedJson out =
      OrderedJson::parse(FileModelSummaryJson(*model, text("source")), nullptr, false);
  out["handle"] = state_->Add(std::move(model).value());
  return DumpJson(out);
}

std::string Session::FormatsJson() {
  OrderedJson out = OrderedJson::array();
  std::vector<std::string> seen;
  for (const WeightFormatInfo& f : ListWeightFormats()) {
    if (std::find(seen.begin(), seen.end(), f.id) != seen.end()) continue;  // one entry per id
    seen.push_back(f.id);
    OrderedJson j;
    j["id"] = f.id;
    j["family"] = f.family;
    j["description"] = f.description;
    out.push_back(std::move(j));
  }
  return DumpJson(out);
}

std::string Session::SchemaJson() { return RequestSchemaJson(); }

std::string Session::TraitsJson(const std::string& config_json) {
  Result<ModelDescription> model = ModelFromHfConfig(config_json);
  if (!model.ok()) return ErrorJson(model.status());
  return OrderedJson(ModelTraitNames(*model)).dump();
}

std::string Session::RuntimesJson() {
  OrderedJson out = OrderedJson::array();
  for (const RuntimeInfo& r : ListRuntimes()) {
    OrderedJson j;
    j["id"] = r.name;
    j["name"] = r.display_name;
    j["default_weights"] = r.default_weights;
    j["weight_families"] = r.weight_families;
    j["option_fields"] = r.option_fields;
    j["needs_device_memory"] = r.needs_device_memory;
    j["offloads_to_host"] = r.offloads_to_host;
    out.push_back(std::move(j));
  }
  return DumpJson(out);
}

}  // namespace vram
