// JSON for the planner actions: one object per action, stable key order, bytes as integers,
// speeds rounded to 0.01 tokens/s.

#include <cmath>
#include <optional>

#include <nlohmann/json.hpp>

#include "json_fields.h"
#include "vram/calculator.h"
#include "vram/config.h"
#include "vram/planner.h"
#include "runtime/profile.h"

namespace vram {

namespace {

using OrderedJson = nlohmann::ordered_json;

/// Rounds to a multiple of `unit` (a power of ten), printed without binary noise (114.1, not
/// 114.10000000000001).
double Round(double v, double unit) {
  const double scale = std::round(1.0 / unit);
  return std::round(v * scale) / scale;
}

OrderedJson Optional(const std::optional<double>& v, double unit) {
  return v.has_value() ? OrderedJson(Round(*v, unit)) : OrderedJson(nullptr);
}

OrderedJson FitJson(const FitResult& f) {
  OrderedJson j;
  j["fits"] = f.fits;
  j["headroom_bytes"] = f.headroom_bytes;
  j["devices"] = f.devices;
  if (f.training) {
    j["layout"] = f.layout;
  } else {
    j["split"] = SplitModeName(f.split);
  }
  j["capacity_bytes"] = f.capacity_bytes;
  j["required_headroom_bytes"] = f.required_headroom_bytes;
  j["single_device_bytes"] = f.single_device_bytes;
  j["split_overhead_bytes"] = f.split_overhead_bytes;
  OrderedJson per = OrderedJson::array();
  for (const DeviceLoad& l : f.per_device) {
    OrderedJson d;
    d["weights"] = l.weights_bytes;
    if (f.training) {  // a training step: no KV cache, no layer split
      d["gradients"] = l.gradients_bytes;
      d["optimizer"] = l.optimizer_bytes;
      d["activations"] = l.activations_bytes;
      d["overhead"] = l.overhead_bytes;
      d["total"] = l.total_bytes;
      per.push_back(std::move(d));
      continue;
    }
    d["kv_cache"] = l.kv_cache_bytes;
    d["activations"] = l.activations_bytes;
    d["overhead"] = l.overhead_bytes;
    d["total"] = l.total_bytes;
    d["layers"] = OrderedJson::array({l.first_layer, l.end_layer});
    d["holds_output"] = l.holds_output;
    per.push_back(std::move(d));
  }
  j["per_device"] = std::move(per);
  j["notes"] = f.notes;
  return j;
}

OrderedJson FitTableJson(const std::vector<FitTableRow>& rows) {
  OrderedJson out = OrderedJson::array();
  for (const FitTableRow& r : rows) {
    OrderedJson j;
    j["gpu"] = r.device->id;
    j["capacity_bytes"] = r.capacity_bytes;
    j["headroom_bytes"] = r.headroom_bytes;
    j["fits"] = r.fits_one;
    j["gpus"] = r.devices_needed > 0 ? OrderedJson(r.devices_needed) : OrderedJson(nullptr);
    j["decode_tokens_per_s"] = r.devices_needed > 0 && r.decode_tokens_per_s > 0
                                   ? OrderedJson(Round(r.decode_tokens_per_s, 0.01))
                                   : OrderedJson(nullptr);
    j["price_usd"] = Optional(r.price_usd, 0.01);
    if (!r.unsupported.empty()) j["unsupported"] = r.unsupported;
    out.push_back(std::move(j));
  }
  return out;
}

OrderedJson ThroughputJson(const ThroughputEstimate& t) {
  OrderedJson j;
  j["decode_tokens_per_s"] = Round(t.decode_tokens_per_s, 0.01);
  j["decode_tokens_per_s_at_start"] = Round(t.decode_tokens_per_s_at_start, 0.01);
  j["prefill_tokens_per_s"] = Round(t.prefill_tokens_per_s, 0.01);
  j["batch_decode_tokens_per_s"] = Round(t.batch_decode_tokens_per_s, 0.01);
  j["compute_bound_batch"] = t.compute_bound_batch;
  j["weight_bytes_read_per_token"] = t.weight_bytes_read_per_token;
  j["kv_bytes_read_per_token"] = t.kv_bytes_read_per_token;
  j["memory_ms_per_token"] = Round(t.memory_seconds_per_token * 1e3, 0.001);
  j["fixed_ms_per_token"] = Round(t.fixed_seconds_per_token * 1e3, 0.001);
  j["communication_ms_per_token"] = Round(t.communication_seconds_per_token * 1e3, 0.001);
  j["bandwidth_efficiency"] = t.bandwidth_efficiency;
  j["compute_efficiency"] = t.compute_efficiency;
  j["compute_tflops"] = t.compute_tflops;
  j["notes"] = t.notes;
  return j;
}

OrderedJson OffloadJson(const OffloadPlan& o) {
  OrderedJson j;
  j["possible"] = o.possible;
  j["gpu_layers"] = o.gpu_layers;
  j["total_layers"] = o.total_layers;
  j["cpu_moe_layers"] = o.cpu_moe_layers;
  j["gpu_bytes"] = o.gpu_bytes;
  j["headroom_bytes"] = o.headroom_bytes;
  j["host_bytes"] = o.host_bytes;
  j["gpu_read_bytes_per_token"] = o.gpu_read_bytes_per_token;
  j["host_read_bytes_per_token"] = o.host_read_bytes_per_token;
  j["decode_tokens_per_s"] = Round(o.decode_tokens_per_s, 0.01);
  j["notes"] = o.notes;
  return j;
}

OrderedJson RecommendationsJson(const std::vector<Recommendation>& list) {
  OrderedJson out = OrderedJson::array();
  for (const Recommendation& r : list) {
    OrderedJson j;
    j["gpu"] = r.device_id;
    j["name"] = r.device_name;
    j["gpus"] = r.count;
    j["split"] = SplitModeName(r.split);
    j["price_usd"] = Round(r.price_usd, 0.01);
    j["price_basis"] = r.price_basis;
    j["headroom_bytes"] = r.headroom_bytes;
    j["decode_tokens_per_s"] = Round(r.decode_tokens_per_s, 0.01);
    j["tokens_per_s_per_1000_usd"] = Round(r.tokens_per_s_per_1000_usd, 0.001);
    j["reason"] = r.reason;
    out.push_back(std::move(j));
  }
  return out;
}

OrderedJson FieldChangesJson(const std::vector<FieldChange>& changes) {
  OrderedJson j = OrderedJson::object();
  for (const FieldChange& c : changes) {
    switch (c.type) {
      case FieldChange::Type::kString: j[c.field] = c.string_value; break;
      case FieldChange::Type::kInteger: j[c.field] = c.integer_value; break;
      case FieldChange::Type::kBoolean: j[c.field] = c.boolean_value; break;
    }
  }
  return j;
}

/// The "fits_now", "current" and "advice" keys of the advise action.
void AdviceJson(const AdviceResult& a, OrderedJson* j) {
  (*j)["fits_now"] = a.current.fits;
  (*j)["current"] = FitJson(a.current);
  OrderedJson list = OrderedJson::array();
  for (const Advice& x : a.advice) {
    OrderedJson aj;
    aj["kind"] = AdviceKindName(x.kind);
    aj["change"] = x.change;
    aj["apply"] = FieldChangesJson(x.apply);
    aj["saves_bytes"] = x.saves_bytes;
    aj["fits"] = x.fits;
    aj["headroom_bytes"] = x.headroom_bytes;
    aj["quality_loss_percent"] = Round(x.quality_loss_percent, 0.001);
    aj["speed_change"] = Round(x.speed_change, 0.001);
    aj["capability_loss"] = Round(x.capability_loss, 0.001);
    aj["extra_cost_usd"] = Round(x.extra_cost_usd, 0.01);
    aj["loss"] = Round(x.loss, 0.0001);
    aj["loss_class"] = x.loss_class;
    aj["cost"] = x.cost;
    list.push_back(std::move(aj));
  }
  (*j)["advice"] = std::move(list);
}

OrderedJson CostJson(const CostEstimate& c) {
  OrderedJson j;
  j["price_usd"] = Optional(c.price_usd, 0.01);
  j["price_per_gb_usd"] = Optional(c.price_per_gb_usd, 0.01);
  j["system_power_watts"] = Optional(c.system_power_watts, 0.1);
  j["psu_watts"] = c.psu_watts.has_value() ? OrderedJson(*c.psu_watts) : OrderedJson(nullptr);
  j["power_usd_per_hour"] = Optional(c.power_usd_per_hour, 0.0001);
  j["breakeven_hours"] = Optional(c.breakeven_hours, 0.1);
  j["breakeven_months"] = Optional(c.breakeven_months, 0.01);
  j["notes"] = c.notes;
  return j;
}

Result<HardwareConfig> HardwareOf(const std::vector<Device>& devices, const PlannerRequest& p) {
  HardwareConfig hw;
  hw.device = FindDevice(devices, p.gpu);
  if (hw.device == nullptr) {
    return Status(ErrorCode::kNotFound, "gpu: unknown device '" + p.gpu.substr(0, 60) + "' (see --list-gpus for the " +
                                            std::to_string(devices.size()) + " ids)");
  }
  hw.count = p.count;
  hw.split = p.split;
  hw.min_headroom_fraction = p.min_headroom_fraction;
  hw.host_memory_bandwidth_bytes_per_s = p.host_memory_bandwidth_bytes_per_s;
  VRAM_RETURN_IF_ERROR(ValidateHardware(hw));
  return hw;
}

OrderedJson HardwareEcho(const HardwareConfig& hw) {
  OrderedJson j;
  j["gpu"] = hw.device->id;
  j["name"] = hw.device->name;
  j["gpus"] = hw.count;
  j["split"] = SplitModeName(hw.split);
  j["usable_memory_bytes"] = hw.device->usable_memory_bytes();
  j["memory_bandwidth_bytes_per_s"] = hw.device->memory_bandwidth_bytes_per_s;
  j["min_headroom_fraction"] = hw.min_headroom_fraction;
  return j;
}

std::string Dump(const OrderedJson& j) { return j.dump(2, ' ', false, nlohmann::detail::error_handler_t::replace); }

OrderedJson LimitJson(const char* key, const LimitSolution& s, std::optional<bool> one_more_fits) {
  OrderedJson j;
  j[key] = s.max_value;
  j["cap"] = s.cap;
  j["limited_by_cap"] = s.limited_by_cap;
  j["one_more_fits"] = one_more_fits.has_value() ? OrderedJson(*one_more_fits) : OrderedJson(nullptr);
  j["fit_at_max"] = FitJson(s.fit_at_max);
  return j;
}

}  // namespace

Result<std::string> PlannerActionJson(const ModelDescription& model, const WeightPlan& weights,
                                      const InferenceRequest& request, const std::vector<Device>& devices,
                                      const PlannerRequest& planner) {
  OrderedJson j;
  j["action"] = planner.action;
  j["weights"] = weights.format.id;
  j["runtime"] = RuntimeName(request.runtime);
  j["context"] = request.context_tokens;
  j["batch"] = request.batch;
  j["kv_dtype"] = KvDTypeName(request.kv_dtype);
  if (planner.action == "recommend") {
    Result<RecommendResult> r = Recommend(model, weights, request, devices, planner.recommend);
    if (!r.ok()) return r.status();
    j["min_headroom_fraction"] = planner.recommend.min_headroom_fraction;
    j["max_gpus"] = planner.recommend.max_devices;
    j["devices_considered"] = r->devices_considered;
    j["devices_without_price"] = r->devices_without_price;
    j["single_device"] = RecommendationsJson(r->single_device);
    j["multi_device"] = RecommendationsJson(r->multi_device);
    j["best_value"] = RecommendationsJson(r->best_value);
    return Dump(j);
  }
  Result<HardwareConfig> hwr = HardwareOf(devices, planner);
  if (!hwr.ok()) return hwr.status();
  const HardwareConfig& hw = *hwr;
  j["hardware"] = HardwareEcho(hw);
  if (planner.action == "fit") {
    Result<FitResult> f = Fit(model, weights, request, hw);
    if (!f.ok()) return f.status();
    j["fit"] = FitJson(*f);
    Result<ThroughputEstimate> t = EstimateThroughput(model, weights, request, hw);
    if (!t.ok()) return t.status();
    j["throughput"] = ThroughputJson(*t);
    Result<DeviceCountSolution> n = SmallestDeviceCount(model, weights, request, hw);
    if (!n.ok()) return n.status();
    j["smallest_device_count"] = n->devices > 0 ? OrderedJson(n->devices) : OrderedJson(nullptr);
  } else if (planner.action == "max-context" || planner.action == "max-batch") {
    const bool context = planner.action == "max-context";
    Result<LimitSolution> s = context ? MaxContext(model, weights, request, hw) : MaxBatch(model, weights, request, hw);
    if (!s.ok()) return s.status();
    std::optional<bool> one_more;
    if (!s->limited_by_cap && s->max_value >= 1) {
      InferenceRequest r = request;
      (context ? r.context_tokens : r.batch) = s->max_value + 1;
      Result<FitResult> f = Fit(model, weights, r, hw);
      if (!f.ok()) return f.status();
      one_more = f->fits;
    }
    j["result"] = LimitJson(context ? "max_context_tokens" : "max_batch", *s, one_more);
  } else if (planner.action == "best-format") {
    Result<FormatSolution> s = BestWeightFormat(model, request, hw);
    if (!s.ok()) return s.status();
    j["format"] = s->format.empty() ? OrderedJson(nullptr) : OrderedJson(s->format);
    j["fit"] = s->format.empty() ? OrderedJson(nullptr) : FitJson(s->fit);
    OrderedJson trials = OrderedJson::array();
    for (const FormatTrial& t : s->trials) {
      OrderedJson tj;
      tj["format"] = t.format;
      tj["weight_bytes"] = t.weight_bytes;
      tj["bits_per_weight"] = Round(t.bits_per_weight, 0.0001);
      tj["fits"] = t.fits;
      tj["headroom_bytes"] = t.headroom_bytes;
      const std::optional<double> loss = WeightFormatQualityLossPercent(t.format);
      tj["perplexity_increase_percent"] = loss.has_value() ? OrderedJson(*loss) : OrderedJson(nullptr);
      if (!t.error.empty()) tj["error"] = t.error;
      trials.push_back(std::move(tj));
    }
    j["trials"] = std::move(trials);
  } else if (planner.action == "offload") {
    Result<OffloadPlan> layers = PlanLayerOffload(model, weights, request, hw);
    if (!layers.ok()) return layers.status();
    j["layers"] = OffloadJson(*layers);
    if (weights.routed_expert_bytes > 0) {
      Result<OffloadPlan> experts = PlanExpertOffload(model, weights, request, hw);
      if (!experts.ok()) return experts.status();
      j["experts"] = OffloadJson(*experts);
    } else {
      j["experts"] = nullptr;
    }
  } else if (planner.action == "advise") {
    Result<AdviceResult> a = Advise(model, weights, request, hw);
    if (!a.ok()) return a.status();
    AdviceJson(*a, &j);
  } else if (planner.action == "cost") {
    Result<CostEstimate> c = EstimateCost(*hw.device, hw.count, planner.cost);
    if (!c.ok()) return c.status();
    j["cost"] = CostJson(*c);
  } else {
    return Status(ErrorCode::kInvalidArgument,
                  "action: '" + planner.action.substr(0, 40) +
                      "' is not one of fit, max-context, max-batch, best-format, offload, recommend, advise, cost");
  }
  return Dump(j);
}

Result<std::string> HardwareSummaryJson(const ModelDescription& model, const WeightPlan& weights,
                                        const InferenceRequest& request, const std::vector<Device>& devices,
                                        const PlannerRequest& planner) {
  Result<HardwareConfig> hwr = HardwareOf(devices, planner);
  if (!hwr.ok()) return hwr.status();
  const HardwareConfig& hw = *hwr;
  Result<FitResult> f = Fit(model, weights, request, hw);
  if (!f.ok()) return f.status();
  Result<ThroughputEstimate> t = EstimateThroughput(model, weights, request, hw);
  if (!t.ok()) return t.status();
  OrderedJson j;
  j["fits"] = f->fits;
  j["headroom_bytes"] = f->headroom_bytes;
  j["decode_tokens_per_s"] = f->fits ? OrderedJson(Round(t->decode_tokens_per_s, 0.01)) : OrderedJson(nullptr);
  j["prefill_tokens_per_s"] = f->fits ? OrderedJson(Round(t->prefill_tokens_per_s, 0.01)) : OrderedJson(nullptr);
  OrderedJson h = HardwareEcho(hw);
  h["fit"] = FitJson(*f);
  h["throughput"] = ThroughputJson(*t);
  if (!f->fits && runtime::ProfileOf(request.runtime).OffloadsToHost() && hw.count == 1) {
    Result<OffloadPlan> o = PlanLayerOffload(model, weights, request, hw);
    if (o.ok()) h["offload"] = OffloadJson(*o);
  }
  j["hardware"] = std::move(h);
  return Dump(j);
}

namespace {

/// The training workload as the planner answers echo it.
void TrainingEcho(const std::string& action, const TrainingRequest& t, OrderedJson* j) {
  (*j)["action"] = action;
  (*j)["mode"] = TrainingModeName(t.mode);
  std::string weights = t.base_weights;
  if (t.mode == TrainingMode::kFull) {
    weights = PrecisionRegimeName(t.precision);
  } else if (weights.empty() || weights == "native") {
    weights = t.mode == TrainingMode::kQlora ? "nf4-dq" : "bf16";
  }
  (*j)["weights"] = weights;
  (*j)["optimizer"] = OptimizerName(t.optimizer);
  (*j)["precision"] = PrecisionRegimeName(t.precision);
  (*j)["checkpointing"] = CheckpointingName(t.checkpointing);
  (*j)["micro_batch"] = t.micro_batch;
  (*j)["seq_len"] = t.seq_len;
  (*j)["dp"] = t.dp;
  (*j)["tp"] = t.tp;
  (*j)["pp"] = t.pp;
  (*j)["zero"] = t.zero_stage;
  (*j)["fsdp"] = FsdpStrategyName(t.fsdp);
  (*j)["offload"] = OffloadName(t.offload);
}

/// The hardware of a training layout: the planner's device with count = dp x tp x pp.
Result<HardwareConfig> TrainingHardwareOf(const ModelDescription& model, const TrainingRequest& request,
                                          const std::vector<Device>& devices, const PlannerRequest& planner) {
  Result<HardwareConfig> hw = HardwareOf(devices, planner);
  if (!hw.ok()) return hw.status();
  // FitTraining resolves the layout's GPU count (and checks --gpus against it).
  Result<FitResult> f = FitTraining(model, request, *hw);
  if (!f.ok()) return f.status();
  HardwareConfig out = *hw;
  out.count = f->devices;
  return out;
}

}  // namespace

Result<std::string> TrainingPlannerActionJson(const ModelDescription& model, const TrainingRequest& request,
                                              const std::vector<Device>& devices, const PlannerRequest& planner) {
  static const char* const kActions[] = {"fit", "max-batch", "max-context", "advise", "cost"};
  bool known = false;
  for (const char* a : kActions) known = known || planner.action == a;
  if (!known) {
    return Status(ErrorCode::kUnsupported,
                  "action: '" + planner.action.substr(0, 40) + "' plans inference; with mode '" +
                      TrainingModeName(request.mode) + "' use one of fit, max-batch (micro-batch), max-context "
                      "(sequence length), advise, cost");
  }
  OrderedJson j;
  TrainingEcho(planner.action, request, &j);
  Result<HardwareConfig> hwr = TrainingHardwareOf(model, request, devices, planner);
  if (!hwr.ok()) return hwr.status();
  const HardwareConfig& hw = *hwr;
  j["hardware"] = HardwareEcho(hw);
  if (planner.action == "fit") {
    Result<FitResult> f = FitTraining(model, request, hw);
    if (!f.ok()) return f.status();
    j["fit"] = FitJson(*f);
    j["throughput"] = nullptr;  // a training step is not timed
    // The fewest GPUs that fit with more data-parallel replicas of the same layout.
    OrderedJson smallest = nullptr;
    if (hw.device->can_pool() || hw.count == 1) {
      for (int64_t dp = 1; dp * request.tp * request.pp <= 64; ++dp) {
        TrainingRequest r = request;
        r.dp = dp;
        HardwareConfig one = hw;
        one.count = 1;
        Result<FitResult> g = FitTraining(model, r, one);
        if (g.ok() && g->fits) {
          smallest = g->devices;
          break;
        }
        if (!hw.device->can_pool()) break;
      }
    }
    j["smallest_device_count"] = std::move(smallest);
  } else if (planner.action == "max-context" || planner.action == "max-batch") {
    const bool seq = planner.action == "max-context";
    Result<LimitSolution> s = seq ? MaxSeqLen(model, request, hw) : MaxMicroBatch(model, request, hw);
    if (!s.ok()) return s.status();
    std::optional<bool> one_more;
    if (!s->limited_by_cap && s->max_value >= 1) {
      TrainingRequest r = request;
      (seq ? r.seq_len : r.micro_batch) = s->max_value + 1;
      Result<FitResult> f = FitTraining(model, r, hw);
      if (!f.ok()) return f.status();
      one_more = f->fits;
    }
    j["result"] = LimitJson(seq ? "max_seq_len" : "max_micro_batch", *s, one_more);
  } else if (planner.action == "advise") {
    Result<AdviceResult> a = AdviseTraining(model, request, hw);
    if (!a.ok()) return a.status();
    AdviceJson(*a, &j);
  } else {
    Result<CostEstimate> c = EstimateCost(*hw.device, hw.count, planner.cost);
    if (!c.ok()) return c.status();
    j["cost"] = CostJson(*c);
  }
  return Dump(j);
}

Result<std::string> TrainingHardwareSummaryJson(const ModelDescription& model, const TrainingRequest& request,
                                                const std::vector<Device>& devices, const PlannerRequest& planner) {
  Result<HardwareConfig> hwr = TrainingHardwareOf(model, request, devices, planner);
  if (!hwr.ok()) return hwr.status();
  const HardwareConfig& hw = *hwr;
  Result<FitResult> f = FitTraining(model, request, hw);
  if (!f.ok()) return f.status();
  OrderedJson j;
  j["fits"] = f->fits;
  j["headroom_bytes"] = f->headroom_bytes;
  j["decode_tokens_per_s"] = nullptr;  // a training step is not timed
  j["prefill_tokens_per_s"] = nullptr;
  OrderedJson h = HardwareEcho(hw);
  h["fit"] = FitJson(*f);
  h["throughput"] = nullptr;
  j["hardware"] = std::move(h);
  return Dump(j);
}

std::string PlannerJson(std::string_view request_json, std::string_view hardware_json) {
  Result<std::vector<Device>> devices = ParseDevices(hardware_json);
  if (!devices.ok()) return ErrorJson(devices.status());
  return PlannerJsonWithDevices(request_json, *devices);
}

std::string PlannerJsonWithDevices(std::string_view request_json, const std::vector<Device>& device_list,
                                   const FileModel* file_model) {
  const auto error = ErrorJson;
  if (request_json.size() > ConfigLimits::kMaxTextBytes + 8192) {
    return error(Status(ErrorCode::kLimitExceeded, "request: larger than the config.json limit"));
  }
  internal::Json root = internal::ParseJson(request_json);
  if (root.is_discarded() || !root.is_object()) return error(Status(ErrorCode::kParseError, "request: not a JSON object"));
  internal::JsonFields f(root, "request");
  PlannerRequest p;
  std::string split;
  int64_t count = 1, max_gpus = p.recommend.max_devices, limit = p.recommend.limit;
  double headroom = -1, host = 0;
  Status s = f.String({"action"}, false, &p.action);
  if (s.ok() && p.action.empty()) p.action = "summary";
  if (s.ok()) s = f.String({"gpu"}, false, &p.gpu);
  if (s.ok()) s = f.Int({"gpus"}, 1, 64, false, 1, &count);
  if (s.ok()) s = f.String({"split"}, false, &split);
  if (s.ok()) s = f.Double({"headroom"}, 0.0, 0.9, -1.0, &headroom);
  if (s.ok()) s = f.Double({"host_bandwidth_gbs"}, 0.0, 100000.0, 0.0, &host);
  if (s.ok()) s = f.Int({"max_gpus"}, 1, 64, false, max_gpus, &max_gpus);
  if (s.ok()) s = f.Int({"limit"}, 1, 1000, false, limit, &limit);
  if (s.ok()) s = f.Double({"cloud_usd_per_hour"}, 0.0, 1e6, 0.0, &p.cost.cloud_usd_per_hour);
  if (s.ok()) s = f.Double({"utilization"}, 0.0, 1.0, 1.0, &p.cost.utilization);
  if (s.ok()) s = f.Double({"electricity_usd_per_kwh"}, 0.0, 100.0, -1.0, &p.cost.electricity_usd_per_kwh);
  if (s.ok()) s = f.Double({"system_watts"}, 0.0, 100000.0, -1.0, &p.cost.system_watts);
  if (!s.ok()) return error(s);
  if (!split.empty()) {
    Result<SplitMode> mode = ParseSplitMode(split);
    if (!mode.ok()) return error(mode.status());
    p.split = *mode;
  }
  p.count = static_cast<int>(count);
  p.min_headroom_fraction = headroom >= 0 ? headroom : 0.0;
  p.host_memory_bandwidth_bytes_per_s = static_cast<uint64_t>(host * 1e9);
  p.recommend.min_headroom_fraction = headroom >= 0 ? headroom : 0.1;
  p.recommend.max_devices = static_cast<int>(max_gpus);
  p.recommend.limit = static_cast<int>(limit);
  if (const internal::Json* cats = f.Find({"categories"})) {
    if (!cats->is_array()) return error(Status(ErrorCode::kInvalidArgument, "request: field 'categories' must be an array of strings"));
    for (const internal::Json& c : *cats) {
      if (!c.is_string()) return error(Status(ErrorCode::kInvalidArgument, "request: field 'categories' must be an array of strings"));
      p.recommend.categories.push_back(c.get<std::string>());
    }
  }
  static const char* const kPlannerKeys[] = {"action", "gpu", "gpus", "split", "headroom", "host_bandwidth_gbs",
                                             "max_gpus", "categories", "limit", "cloud_usd_per_hour", "utilization",
                                             "electricity_usd_per_kwh", "system_watts"};
  for (const char* k : kPlannerKeys) root.erase(k);
  std::string config;
  Result<CalculatorRequest> request = ParseCalculatorRequest(root.dump(), &config);
  if (!request.ok()) return error(request.status());
  if (file_model == nullptr && config.empty()) {
    return error(Status(ErrorCode::kInvalidArgument, "request: missing field 'config' (a config.json object)"));
  }
  if (file_model != nullptr && !config.empty()) {
    return error(Status(ErrorCode::kInvalidArgument,
                        "request: field 'config' is not used with a model read from files (it has its own)"));
  }
  const std::vector<Device>* devices = &device_list;
  if (p.action != "recommend" && p.action != "fit-table" && !request->is_training()) {
    const Device* d = FindDevice(*devices, p.gpu);
    if (d == nullptr) {
      return error(Status(ErrorCode::kNotFound, "gpu: unknown device '" + p.gpu.substr(0, 60) + "'"));
    }
    if (runtime::ProfileOf(request.value().inference.runtime).BudgetsFromDevice()) {
      request.value().inference.device_memory_bytes = d->usable_memory_bytes();
    }
  }
  Result<Calculation> c = Status(ErrorCode::kInvalidArgument, "request: no model");
  if (file_model != nullptr) {
    c = CalculateFileModel(*file_model, *request);
  } else {
    Result<ModelDescription> model = ModelFromHfConfig(config);
    if (!model.ok()) return error(model.status());
    c = Calculate(*model, *request);
  }
  if (!c.ok()) return error(c.status());
  const bool training = c->request.is_training();
  if (p.action == "fit-table") {
    // "gpu" narrows the table to one device (the page's chosen card).
    std::vector<Device> one;
    if (!p.gpu.empty()) {
      const Device* d = FindDevice(*devices, p.gpu);
      if (d == nullptr) return error(Status(ErrorCode::kNotFound, "gpu: unknown device '" + p.gpu.substr(0, 60) + "'"));
      one.push_back(*d);
      devices = &one;
    }
    Result<std::vector<FitTableRow>> rows =
        training ? TrainingFitTable(c->model, c->request.training, *devices)
                 : FitTable(c->model, c->weights, c->request.inference, *devices);
    if (!rows.ok()) return error(rows.status());
    OrderedJson j;
    j["action"] = "fit-table";
    j["devices"] = FitTableJson(*rows);
    return Dump(j);
  }
  if (p.action == "summary") {
    Result<std::string> extra =
        training ? TrainingHardwareSummaryJson(c->model, c->request.training, *devices, p)
                 : HardwareSummaryJson(c->model, c->weights, c->request.inference, *devices, p);
    if (!extra.ok()) return error(extra.status());
    OrderedJson j = OrderedJson::parse(CalculationToJson(*c), nullptr, false);
    const OrderedJson add = OrderedJson::parse(*extra, nullptr, false);
    for (auto it = add.begin(); it != add.end(); ++it) j[it.key()] = it.value();
    return Dump(j);
  }
  Result<std::string> out = training ? TrainingPlannerActionJson(c->model, c->request.training, *devices, p)
                                     : PlannerActionJson(c->model, c->weights, c->request.inference, *devices, p);
  if (!out.ok()) return error(out.status());
  return *out;
}

}  // namespace vram
