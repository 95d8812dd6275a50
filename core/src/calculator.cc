#include "vram/calculator.h"

#include <cmath>

#include "json_fields.h"
#include "runtime/profile.h"
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
                              ? (training.mode == TrainingMode::kQlora ? "nf4-dq" : "bf16")
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

/// Training fields of a request object.
/// Reads an optional string field and converts it with `parse` (one of the Parse* functions).
template <typename T, typename Parser>
Status EnumField(const JsonFields& f, const char* key, Parser parse, T* out) {
  std::string text;
  VRAM_RETURN_IF_ERROR(f.String({key}, false, &text));
  if (text.empty()) return Status::Ok();
  Result<T> value = parse(text);
  if (!value.ok()) return value.status();
  *out = *value;
  return Status::Ok();
}

Status ParseTrainingFields(const JsonFields& f, TrainingRequest* t) {
  VRAM_RETURN_IF_ERROR(EnumField(f, "optimizer", ParseOptimizer, &t->optimizer));
  VRAM_RETURN_IF_ERROR(EnumField(f, "precision", ParsePrecisionRegime, &t->precision));
  VRAM_RETURN_IF_ERROR(EnumField(f, "checkpointing", ParseCheckpointing, &t->checkpointing));
  VRAM_RETURN_IF_ERROR(EnumField(f, "fsdp", ParseFsdpStrategy, &t->fsdp));
  VRAM_RETURN_IF_ERROR(EnumField(f, "offload", ParseOffload, &t->offload));
  VRAM_RETURN_IF_ERROR(EnumField(f, "lora_targets", ParseLoraTargets, &t->lora_targets));
  VRAM_RETURN_IF_ERROR(EnumField(f, "attn_impl", ParseAttentionImpl, &t->attention));
  int64_t zero = 0;
  VRAM_RETURN_IF_ERROR(f.Int({"zero"}, 0, 3, false, 0, &zero));
  t->zero_stage = static_cast<int>(zero);
  VRAM_RETURN_IF_ERROR(f.Int({"lora_rank"}, 1, 4096, false, t->lora_rank, &t->lora_rank));
  VRAM_RETURN_IF_ERROR(f.Int({"micro_batch"}, 1, 4096, false, t->micro_batch, &t->micro_batch));
  VRAM_RETURN_IF_ERROR(f.Int({"seq_len"}, 1, int64_t{1} << 20, false, t->seq_len, &t->seq_len));
  VRAM_RETURN_IF_ERROR(f.Int({"fsdp_shard_group"}, 1, 65536, false, t->fsdp_shard_group, &t->fsdp_shard_group));
  VRAM_RETURN_IF_ERROR(f.Int({"tp"}, 1, 1024, false, t->tp, &t->tp));
  VRAM_RETURN_IF_ERROR(f.Int({"pp"}, 1, 1024, false, t->pp, &t->pp));
  VRAM_RETURN_IF_ERROR(f.Int({"pp_microbatches"}, 0, 65536, false, t->pp_microbatches, &t->pp_microbatches));
  VRAM_RETURN_IF_ERROR(f.Int({"dp"}, 1, 65536, false, t->dp, &t->dp));
  VRAM_RETURN_IF_ERROR(f.Double({"dropout"}, 0.0, 0.999, t->dropout, &t->dropout));
  VRAM_RETURN_IF_ERROR(f.Double({"lora_dropout"}, 0.0, 0.999, t->lora_dropout, &t->lora_dropout));
  VRAM_RETURN_IF_ERROR(f.Bool({"fp32_gradients"}, t->fp32_gradients, &t->fp32_gradients));
  VRAM_RETURN_IF_ERROR(f.Bool({"dora"}, t->dora, &t->dora));
  VRAM_RETURN_IF_ERROR(f.Bool({"sequence_parallel"}, t->sequence_parallel, &t->sequence_parallel));
  VRAM_RETURN_IF_ERROR(f.Bool({"fused_loss"}, t->fused_loss, &t->fused_loss));
  return Status::Ok();
}

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
  static const char* const kKeys[] = {
      "model", "config", "mode", "weights", "kv_dtype", "context", "batch", "runtime",
      "flash_attention", "attn_impl", "ubatch", "gpu_memory_utilization", "device_memory_bytes",
      "cuda_graphs", "max_num_batched_tokens", "max_num_seqs", "block_size", "llamacpp_backend",
      // training
      "optimizer", "precision", "fp32_gradients", "checkpointing", "lora_rank", "lora_targets", "dora",
      "lora_dropout", "micro_batch", "seq_len", "zero", "fsdp", "fsdp_shard_group", "tp", "pp",
      "pp_microbatches", "dp", "sequence_parallel", "offload", "dropout", "fused_loss"};
  for (auto it = root.begin(); it != root.end(); ++it) {
    bool known = false;
    for (const char* k : kKeys) known = known || it.key() == k;
    if (!known) {
      return Status(ErrorCode::kInvalidArgument, "request: unknown field '" + it.key().substr(0, 40) + "'");
    }
  }
  JsonFields f(root, "request");
  CalculatorRequest r;
  InferenceRequest& q = r.inference;
  VRAM_RETURN_IF_ERROR(f.String({"model"}, false, &r.model_id));
  std::string mode;
  VRAM_RETURN_IF_ERROR(f.String({"mode"}, false, &mode));
  if (!mode.empty()) r.mode = mode;
  VRAM_RETURN_IF_ERROR(f.String({"weights"}, false, &r.weights));
  VRAM_RETURN_IF_ERROR(EnumField(f, "kv_dtype", ParseKvDType, &q.kv_dtype));
  VRAM_RETURN_IF_ERROR(EnumField(f, "runtime", ParseRuntime, &q.runtime));
  VRAM_RETURN_IF_ERROR(EnumField(f, "attn_impl", ParseAttentionImpl, &q.attention_impl));
  VRAM_RETURN_IF_ERROR(EnumField(f, "llamacpp_backend", ParseLlamaCppBackend, &q.llamacpp_backend));
  VRAM_RETURN_IF_ERROR(f.Int({"context"}, 1, int64_t{1} << 24, false, q.context_tokens, &q.context_tokens));
  VRAM_RETURN_IF_ERROR(f.Int({"batch"}, 1, 65536, false, q.batch, &q.batch));
  VRAM_RETURN_IF_ERROR(f.Int({"ubatch"}, 1, 65536, false, q.ubatch_tokens, &q.ubatch_tokens));
  VRAM_RETURN_IF_ERROR(f.Int({"max_num_batched_tokens"}, 0, int64_t{1} << 24, false,
                             q.vllm_max_batched_tokens, &q.vllm_max_batched_tokens));
  VRAM_RETURN_IF_ERROR(f.Int({"max_num_seqs"}, 0, 65536, false, q.vllm_max_num_seqs, &q.vllm_max_num_seqs));
  VRAM_RETURN_IF_ERROR(f.Int({"block_size"}, 1, 1024, false, q.vllm_block_tokens, &q.vllm_block_tokens));
  int64_t device = 0;
  VRAM_RETURN_IF_ERROR(f.Int({"device_memory_bytes"}, 0, int64_t{1} << 50, false, 0, &device));
  q.device_memory_bytes = static_cast<uint64_t>(device);
  VRAM_RETURN_IF_ERROR(f.Double({"gpu_memory_utilization"}, 0.0, 1.0, q.gpu_memory_utilization,
                                &q.gpu_memory_utilization));
  VRAM_RETURN_IF_ERROR(f.Bool({"flash_attention"}, q.flash_attention, &q.flash_attention));
  VRAM_RETURN_IF_ERROR(f.Bool({"cuda_graphs"}, q.cuda_graphs, &q.cuda_graphs));
  VRAM_RETURN_IF_ERROR(ParseTrainingFields(f, &r.training));
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
