#include "vram/calculator.h"

#include <cmath>

#include "json_fields.h"
#include "runtime/profile.h"
#include "world.h"
#include "workload/schema_internal.h"
#include "vram/config.h"

namespace vram {

using internal::Json;
using internal::JsonFields;
using OrderedJson = nlohmann::ordered_json;

Result<WeightFormat> ResolveWeightFormat(const ModelDescription& model, std::string_view id) {
  if (id.empty() || id == "native") {
    if (!model.native_quantization.empty()) return ParseWeightFormat(model.native_quantization);
    switch (model.checkpoint_dtype) {
      case DType::kF32: return ParseWeightFormat("fp32");
      case DType::kF16: return ParseWeightFormat("fp16");
      default: return ParseWeightFormat("bf16");
    }
  }
  return ParseWeightFormat(id);
}

Result<Calculation> Calculate(const ModelDescription& model, const CalculatorRequest& request) {
  if (request.is_training()) {
    Result<TrainingMode> mode = ParseTrainingMode(request.mode);
    if (!mode.ok()) {
      return Status(ErrorCode::kNotFound,
                    "mode: '" + request.mode.substr(0, 40) + "' is not one of inference, train, lora, qlora");
    }
    TrainingRequest training = request.training;
    training.mode = *mode;
    if (training.mode == TrainingMode::kFull) {
      if (!request.weights.empty() && request.weights != "native") {
        return Status(ErrorCode::kInvalidArgument,
                      "weights: full training holds weights as set by --precision-regime; --weights "
                      "names the frozen base of lora/qlora only");
      }
    } else {
      training.base_weights = request.weights;
    }
    Result<TrainingEstimate> estimate = EstimateTraining(model, training);
    if (!estimate.ok()) return estimate.status();
    Calculation c;
    c.request = request;
    c.request.training = training;
    if (training.mode != TrainingMode::kFull) {
      c.request.weights = training.base_weights.empty() || training.base_weights == "native"
                              ? (training.mode == TrainingMode::kQlora ? world::kQloraDefaultBase
                                                                       : world::kLoraDefaultBase)
                              : training.base_weights;
    } else {
      c.request.weights = PrecisionRegimeName(training.precision);
    }
    c.model = model;
    c.parameters = CountParameters(model);
    c.training = std::move(estimate).value();
    return c;
  }
  Result<WeightFormat> format = ResolveWeightFormat(model, request.weights);
  if (!format.ok()) return format.status();
  Result<WeightPlan> plan = PlanWeights(model, *format);
  if (!plan.ok()) return plan.status();
  Result<InferenceEstimate> estimate = EstimateInference(model, *plan, request.inference);
  if (!estimate.ok()) return estimate.status();
  Calculation c;
  c.request = request;
  c.request.weights = format->id;
  c.model = model;
  c.parameters = CountParameters(model);
  c.weights = std::move(plan).value();
  c.estimate = std::move(estimate).value();
  return c;
}

namespace {

}  // namespace

Result<Calculation> CalculateStored(const ModelDescription& model, const WeightPlan& stored,
                                    const CalculatorRequest& request) {
  const bool other_format = !request.weights.empty() && request.weights != "native" &&
                            request.weights != stored.format.id;
  if (request.is_training() || other_format) return Calculate(model, request);
  Result<InferenceEstimate> estimate = EstimateInference(model, stored, request.inference);
  if (!estimate.ok()) return estimate.status();
  Calculation c;
  c.request = request;
  c.request.weights = stored.format.id;
  c.model = model;
  c.parameters = CountParameters(model);
  c.weights = stored;
  c.estimate = std::move(estimate).value();
  return c;
}

Result<Calculation> CalculateFileModel(const FileModel& file, const CalculatorRequest& request) {
  return file.stored ? CalculateStored(file.model, file.weights, request) : Calculate(file.model, request);
}

Result<CalculatorRequest> ParseCalculatorRequest(std::string_view json_text, std::string* config_json) {
  if (json_text.size() > ConfigLimits::kMaxTextBytes + 4096) {
    return Status(ErrorCode::kLimitExceeded, "request: larger than the config.json limit");
  }
  Json root = internal::ParseJson(json_text);
  if (root.is_discarded() || !root.is_object()) {
    return Status(ErrorCode::kParseError, "request: not a JSON object");
  }
  for (auto it = root.begin(); it != root.end(); ++it) {
    if (it.key() != "model" && it.key() != "config" && !internal::IsRequestFieldKey(it.key())) {
      return Status(ErrorCode::kInvalidArgument, "request: unknown field '" + it.key().substr(0, 40) + "'",
                    it.key().substr(0, 40));
    }
  }
  JsonFields f(root, "request");
  CalculatorRequest r;
  InferenceRequest& q = r.inference;
  VRAM_RETURN_IF_ERROR(f.String({"model"}, false, &r.model_id));
  VRAM_RETURN_IF_ERROR(internal::ReadRequestFields(f, &r));
  if (config_json != nullptr) {
    config_json->clear();
    const Json* config = f.Find({"config"});
    if (config != nullptr) {
      if (!config->is_object()) {
        return Status(ErrorCode::kInvalidArgument, "request: field 'config' must be a config.json object");
      }
      *config_json = config->dump();
    }
  }
  VRAM_RETURN_IF_ERROR(ValidateRequest(q));
  return r;
}

namespace {

OrderedJson ItemsJson(const std::vector<BreakdownItem>& items) {
  OrderedJson out = OrderedJson::array();
  for (const BreakdownItem& item : items) {
    OrderedJson j;
    j["category"] = item.category;
    j["key"] = item.key;
    j["label"] = item.label;
    j["bytes"] = item.bytes;
    j["explanation"] = item.explanation;
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace

namespace {

std::string TrainingToJson(const Calculation& c) {
  const TrainingRequest& t = c.request.training;
  const TrainingEstimate& e = c.training;
  OrderedJson j;
  j["model"] = c.request.model_id;
  j["architecture"] = c.model.architecture;
  OrderedJson inputs;
  inputs["mode"] = c.request.mode;
  inputs["weights"] = c.request.weights;
  inputs["optimizer"] = OptimizerName(t.optimizer);
  inputs["precision"] = PrecisionRegimeName(t.precision);
  inputs["fp32_gradients"] = t.fp32_gradients;
  inputs["checkpointing"] = CheckpointingName(t.checkpointing);
  inputs["attn_impl"] = AttentionImplName(t.attention);
  inputs["micro_batch"] = t.micro_batch;
  inputs["seq_len"] = t.seq_len;
  if (t.mode != TrainingMode::kFull) {
    inputs["lora_rank"] = t.lora_rank;
    inputs["lora_targets"] = LoraTargetsName(t.lora_targets);
    inputs["dora"] = t.dora;
  }
  inputs["zero"] = t.zero_stage;
  inputs["fsdp"] = FsdpStrategyName(t.fsdp);
  inputs["tp"] = t.tp;
  inputs["pp"] = t.pp;
  inputs["dp"] = t.dp;
  inputs["sequence_parallel"] = t.sequence_parallel;
  inputs["offload"] = OffloadName(t.offload);
  inputs["dropout"] = t.dropout;
  inputs["fused_loss"] = t.fused_loss;
  j["inputs"] = std::move(inputs);
  j["parameters"] = c.parameters.total;
  j["active_parameters"] = c.parameters.active;
  j["embedding_parameters"] = c.parameters.embedding;
  j["trainable_parameters"] = e.trainable_parameters;
  OrderedJson bytes;
  bytes["weights"] = e.weights_bytes;
  bytes["kv_cache"] = 0;
  bytes["activations"] = e.activations_bytes;
  bytes["overhead"] = e.overhead_bytes;
  bytes["gradients"] = e.gradients_bytes;
  bytes["optimizer"] = e.optimizer_bytes;
  bytes["total"] = e.total_bytes;
  j["bytes"] = std::move(bytes);
  j["host_bytes"] = e.host_bytes;
  j["pageable_bytes"] = e.pageable_bytes;
  j["activation_bytes_per_layer"] = e.activation_bytes_per_layer;
  j["items"] = ItemsJson(e.items);
  j["notes"] = e.notes;
  return j.dump(2, ' ', false, nlohmann::detail::error_handler_t::replace);
}

}  // namespace

std::string CalculationToJson(const Calculation& c) {
  if (c.request.is_training()) return TrainingToJson(c);
  const InferenceRequest& q = c.request.inference;
  const InferenceEstimate& e = c.estimate;
  OrderedJson j;
  j["model"] = c.request.model_id;
  j["architecture"] = c.model.architecture;
  OrderedJson inputs;
  inputs["mode"] = c.request.mode;
  inputs["weights"] = c.request.weights;
  inputs["kv_dtype"] = KvDTypeName(q.kv_dtype);
  inputs["context"] = q.context_tokens;
  inputs["batch"] = q.batch;
  inputs["runtime"] = RuntimeName(q.runtime);
  inputs["flash_attention"] = q.flash_attention;
  inputs["attn_impl"] = AttentionImplName(q.attention_impl);
  inputs["ubatch"] = q.ubatch_tokens;
  inputs["llamacpp_backend"] = LlamaCppBackendName(q.llamacpp_backend);
  inputs["gpu_memory_utilization"] = q.gpu_memory_utilization;
  inputs["device_memory_bytes"] = q.device_memory_bytes;
  j["inputs"] = std::move(inputs);
  j["parameters"] = c.parameters.total;
  j["active_parameters"] = c.parameters.active;
  j["embedding_parameters"] = c.parameters.embedding;
  OrderedJson bytes;
  bytes["weights"] = e.weights_bytes;
  bytes["kv_cache"] = e.kv_cache_bytes;
  bytes["activations"] = e.activations_bytes;
  bytes["overhead"] = e.overhead_bytes;
  bytes["total"] = e.total_bytes;
  j["bytes"] = std::move(bytes);
  j["host_bytes"] = e.host_bytes;
  OrderedJson weights;
  weights["bits_per_weight"] = std::round(c.weights.bits_per_weight * 1e4) / 1e4;
  weights["bytes_read_per_token"] = c.weights.bytes_read_per_token;
  weights["routed_expert_bytes"] = c.weights.routed_expert_bytes;
  OrderedJson by_type = OrderedJson::object();
  for (const auto& [type, n] : c.weights.bytes_by_type) by_type[type] = n;
  weights["bytes_by_type"] = std::move(by_type);
  j["weights"] = std::move(weights);
  OrderedJson kv;
  kv["bytes_per_token"] = e.kv_bytes_per_token;
  kv["tokens_per_sequence"] = e.kv_tokens_per_sequence;
  if (e.recurrent_state_bytes > 0) {
    kv["recurrent_state_bytes"] = e.recurrent_state_bytes;
    kv["recurrent_state_bytes_per_sequence"] = e.recurrent_state_bytes_per_sequence;
  }
  j["kv_cache"] = std::move(kv);
  if (runtime::ProfileOf(q.runtime).BudgetsFromDevice()) {
    OrderedJson vllm;
    vllm["reserved_bytes"] = e.runtime_reserved_bytes;
    vllm["kv_capacity_tokens"] = e.kv_capacity_tokens;
    j["vllm"] = std::move(vllm);
  }
  j["items"] = ItemsJson(e.items);
  j["notes"] = e.notes;
  return j.dump(2, ' ', false, nlohmann::detail::error_handler_t::replace);
}

std::string ErrorJson(const Status& status) {
  OrderedJson j;
  j["error"]["code"] = ErrorCodeName(status.code());
  j["error"]["field"] = status.field();
  j["error"]["message"] = status.message();
  return j.dump(2, ' ', false, nlohmann::detail::error_handler_t::replace);
}

std::string CalculateJson(std::string_view request_json) {
  const auto error = ErrorJson;
  std::string config;
  Result<CalculatorRequest> request = ParseCalculatorRequest(request_json, &config);
  if (!request.ok()) return error(request.status());
  if (config.empty()) {
    return error(Status(ErrorCode::kInvalidArgument, "request: missing field 'config' (a config.json object)"));
  }
  Result<ModelDescription> model = ModelFromHfConfig(config);
  if (!model.ok()) return error(model.status());
  Result<Calculation> c = Calculate(*model, *request);
  if (!c.ok()) return error(c.status());
  return CalculationToJson(*c);
}

std::string CalculateJson(std::string_view request_json, const FileModel& model) {
  std::string config;
  Result<CalculatorRequest> request = ParseCalculatorRequest(request_json, &config);
  if (!request.ok()) return ErrorJson(request.status());
  if (!config.empty()) {
    return ErrorJson(Status(ErrorCode::kInvalidArgument,
                            "request: field 'config' is not used with a model read from files (it has its own)"));
  }
  Result<Calculation> c = CalculateFileModel(model, *request);
  if (!c.ok()) return ErrorJson(c.status());
  return CalculationToJson(*c);
}

}  // namespace vram
