// Advice: the changes that would make a workload fit, with what each costs.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>

#include "../runtime/profile.h"
#include "../world.h"
#include "plan.h"

namespace vram {
using namespace plan;  // NOLINT: this folder is the planner

// --- Advice -------------------------------------------------------------------------------------

const char* AdviceKindName(AdviceKind kind) {
  switch (kind) {
    case AdviceKind::kFlashAttention:
      return "flash_attention";
    case AdviceKind::kKvCacheDtype:
      return "kv_cache_dtype";
    case AdviceKind::kWeightFormat:
      return "weight_format";
    case AdviceKind::kShorterContext:
      return "shorter_context";
    case AdviceKind::kSmallerBatch:
      return "smaller_batch";
    case AdviceKind::kOffloadLayers:
      return "offload_layers";
    case AdviceKind::kOffloadExperts:
      return "offload_experts";
    case AdviceKind::kMoreDevices:
      return "more_devices";
    case AdviceKind::kGradientCheckpointing:
      return "gradient_checkpointing";
    case AdviceKind::kLora:
      return "lora";
    case AdviceKind::kQlora:
      return "qlora";
    case AdviceKind::kSmallerMicroBatch:
      return "smaller_micro_batch";
    case AdviceKind::kOptimizer8bit:
      return "optimizer_8bit";
    case AdviceKind::kShardStates:
      return "shard_states";
    case AdviceKind::kOffloadOptimizer:
      return "offload_optimizer";
    case AdviceKind::kFusedLoss:
      return "fused_loss";
    case AdviceKind::kShorterSequence:
      return "shorter_sequence";
  }
  return "unknown";
}

FieldChange FieldChange::String(std::string field, std::string value) {
  FieldChange c;
  c.field = std::move(field);
  c.type = Type::kString;
  c.string_value = std::move(value);
  return c;
}

FieldChange FieldChange::Integer(std::string field, int64_t value) {
  FieldChange c;
  c.field = std::move(field);
  c.type = Type::kInteger;
  c.integer_value = value;
  return c;
}

FieldChange FieldChange::Boolean(std::string field, bool value) {
  FieldChange c;
  c.field = std::move(field);
  c.type = Type::kBoolean;
  c.boolean_value = value;
  return c;
}

void ScoreAdvice(const HardwareConfig& hardware, Advice* a) {
  // Each term is a fraction of something given up: quality (percent / 100), speed (only
  // slowdowns count), the asked context, batch or sequence length, and money (extra cost over
  // the cost of the hardware as it is; 1 when that is unknown).
  const double quality = a->quality_loss_percent / 100.0;
  const double speed = std::max(0.0, -a->speed_change);
  const double capability = a->capability_loss;
  double money = 0;
  if (a->extra_cost_usd > 0) {
    const std::optional<double> unit =
        hardware.device != nullptr ? hardware.device->price_usd() : std::nullopt;
    money = unit.has_value() && *unit > 0
                ? a->extra_cost_usd / (*unit * std::max(1, hardware.count))
                : 1.0;
  }
  a->loss = quality + speed + capability + money;
  const std::pair<double, const char*> terms[] = {
      {quality, "quality"}, {speed, "speed"}, {capability, "capability"}, {money, "hardware"}};
  a->loss_class = "none";
  double largest = 0;
  for (const auto& [value, name] : terms) {
    if (value > largest) {
      largest = value;
      a->loss_class = name;
    }
  }
}

void RankAdvice(std::vector<Advice>* advice) {
  std::stable_sort(advice->begin(), advice->end(), [](const Advice& a, const Advice& b) {
    if (a.fits != b.fits) return a.fits;
    if (a.loss != b.loss) return a.loss < b.loss;
    return a.saves_bytes > b.saves_bytes;
  });
}

namespace {

uint64_t MaxLoad(const FitResult& f) {
  uint64_t m = 0;
  for (const DeviceLoad& l : f.per_device) m = std::max(m, l.total_bytes);
  return m;
}

uint64_t Saves(const FitResult& before, uint64_t after_max) {
  const uint64_t b = MaxLoad(before);
  return b > after_max ? b - after_max : 0;
}

/// Relative perplexity increase of a KV cache type, percent. q8_0: llama.cpp PR 7412
/// (JohannesGaessler, LLaMA-3-8B): dPPL 0.004616 with K and V in q8_0 against 0.002443 for f16,
/// on PPL 6.232, i.e. +0.035%. fp8 is taken as q8_0 (8 bits per value; an assumption). q4_0: no
/// figure found; assumed 1% so it ranks below q8_0.
double KvQualityLossPercent(KvDType d) {
  switch (d) {
    case KvDType::kQ8_0:
    case KvDType::kF8:
      return 0.035;
    case KvDType::kQ4_0:
      return 1.0;
    default:
      return 0.0;
  }
}

void AddRanked(const AdviceContext& c, Advice a, std::vector<Advice>* out) {
  ScoreAdvice(c.hardware, &a);
  out->push_back(std::move(a));
}

double SpeedOf(const ModelDescription& m, const WeightPlan& p, const InferenceRequest& r,
               const HardwareConfig& hw) {
  Result<ThroughputEstimate> t = EstimateThroughput(m, p, r, hw);
  return t.ok() ? t->decode_tokens_per_s : 0.0;
}

void AdviseFlashAttention(const AdviceContext& c, std::vector<Advice>* out) {
  const runtime::AttentionChange fused =
      runtime::ProfileOf(c.request.runtime).FusedAttention(c.request);
  if (!fused.available) return;
  const InferenceRequest& r = fused.request;
  const std::string& change = fused.change;
  const FieldChange& field = fused.field;
  Result<FitResult> f = Fit(*c.model, *c.weights, r, c.hardware);
  if (!f.ok()) return;
  Advice a;
  a.kind = AdviceKind::kFlashAttention;
  a.change = change;
  a.apply = {field};
  a.saves_bytes = Saves(c.current, MaxLoad(*f));
  a.fits = f->fits;
  a.headroom_bytes = f->headroom_bytes;
  a.cost = "none: a fused attention kernel gives the same result without the score matrix";
  AddRanked(c, a, out);
}

void AdviseKvCache(const AdviceContext& c, std::vector<Advice>* out) {
  const std::vector<KvDType> options = runtime::ProfileOf(c.request.runtime).SmallerCacheTypes();
  const double bytes_now = KvBytesPerValue(c.request.kv_dtype);
  for (KvDType d : options) {
    const double bytes = KvBytesPerValue(d);
    if (bytes >= bytes_now) continue;
    InferenceRequest r = c.request;
    r.kv_dtype = d;
    std::string change = std::string("--kv-dtype ") + KvDTypeName(d);
    std::vector<FieldChange> apply = {FieldChange::String("kv_dtype", KvDTypeName(d))};
    runtime::ProfileOf(r.runtime).CacheTypeChange(&r, &change, &apply);
    Result<FitResult> f = Fit(*c.model, *c.weights, r, c.hardware);
    if (!f.ok()) continue;
    Advice a;
    a.kind = AdviceKind::kKvCacheDtype;
    a.change = change;
    a.apply = apply;
    a.saves_bytes = Saves(c.current, MaxLoad(*f));
    a.fits = f->fits;
    a.headroom_bytes = f->headroom_bytes;
    a.quality_loss_percent = KvQualityLossPercent(d);
    const double speed = SpeedOf(*c.model, *c.weights, r, c.hardware);
    a.speed_change = c.current_decode_tokens_per_s > 0 && speed > 0
                         ? speed / c.current_decode_tokens_per_s - 1.0
                         : 0;
    a.cost = d == KvDType::kQ4_0
                 ? "a 4-bit cache: small but unmeasured quality loss (assumed 1% perplexity)"
                 : "about +0.035% perplexity (llama.cpp PR 7412, q8_0 K and V)";
    AddRanked(c, a, out);
  }
}

void AdviseWeights(const AdviceContext& c, std::vector<Advice>* out) {
  const std::vector<std::string> ladder = WeightFormatLadder(c.request.runtime);
  const double current_loss = WeightFormatQualityLossPercent(c.weights->format.id).value_or(0.0);
  // The best format smaller than the current one that fits; if none fits, the smallest.
  Advice best, smallest;
  bool have_best = false, have_smallest = false;
  for (const std::string& id : ladder) {
    Result<WeightFormat> f = ParseWeightFormat(id);
    if (!f.ok()) continue;
    Result<WeightPlan> plan = PlanWeights(*c.model, *f);
    if (!plan.ok() || plan->total_bytes >= c.weights->total_bytes) continue;
    Result<FitResult> fit = Fit(*c.model, *plan, c.request, c.hardware);
    if (!fit.ok()) continue;
    Advice a;
    a.kind = AdviceKind::kWeightFormat;
    a.change = "--weights " + id;
    a.apply = {FieldChange::String("weights", id)};
    a.saves_bytes = Saves(c.current, MaxLoad(*fit));
    a.fits = fit->fits;
    a.headroom_bytes = fit->headroom_bytes;
    const std::optional<double> loss = WeightFormatQualityLossPercent(id);
    a.quality_loss_percent = std::max(0.0, loss.value_or(current_loss) - current_loss);
    const double speed = SpeedOf(*c.model, *plan, c.request, c.hardware);
    a.speed_change = c.current_decode_tokens_per_s > 0 && speed > 0
                         ? speed / c.current_decode_tokens_per_s - 1.0
                         : 0;
    a.cost = loss.has_value() ? "+" + Fixed(a.quality_loss_percent, 2) +
                                    "% perplexity (Llama-3-70B, llama.cpp PR 6745); " +
                                    Fixed(plan->bits_per_weight, 2) + " bits per weight"
                              : Fixed(plan->bits_per_weight, 2) +
                                    " bits per weight; no published perplexity figure";
    if (a.fits && !have_best) {
      best = a;
      have_best = true;
    }
    if (!have_smallest || MaxLoad(*fit) < MaxLoad(c.current) - smallest.saves_bytes) {
      smallest = a;
      have_smallest = true;
    }
  }
  if (have_best) {
    AddRanked(c, best, out);
  } else if (have_smallest) {
    AddRanked(c, smallest, out);
  }
}

void AdviseLimits(const AdviceContext& c, std::vector<Advice>* out) {
  Result<LimitSolution> ctx = MaxContext(*c.model, *c.weights, c.request, c.hardware, false);
  if (ctx.ok() && ctx->max_value >= 1 && ctx->max_value < c.request.context_tokens) {
    Advice a;
    a.kind = AdviceKind::kShorterContext;
    a.change = "--context " + std::to_string(ctx->max_value);
    a.apply = {FieldChange::Integer("context", ctx->max_value)};
    a.saves_bytes = Saves(c.current, MaxLoad(ctx->fit_at_max));
    a.fits = true;
    a.headroom_bytes = ctx->fit_at_max.headroom_bytes;
    a.capability_loss =
        1.0 - static_cast<double>(ctx->max_value) / static_cast<double>(c.request.context_tokens);
    a.cost = "sequences limited to " + std::to_string(ctx->max_value) + " tokens instead of " +
             std::to_string(c.request.context_tokens);
    AddRanked(c, a, out);
  }
  if (c.request.batch > 1) {
    Result<LimitSolution> b = MaxBatch(*c.model, *c.weights, c.request, c.hardware);
    if (b.ok() && b->max_value >= 1 && b->max_value < c.request.batch) {
      Advice a;
      a.kind = AdviceKind::kSmallerBatch;
      a.change = "--batch " + std::to_string(b->max_value);
      a.apply = {FieldChange::Integer("batch", b->max_value)};
      a.saves_bytes = Saves(c.current, MaxLoad(b->fit_at_max));
      a.fits = true;
      a.headroom_bytes = b->fit_at_max.headroom_bytes;
      a.capability_loss =
          1.0 - static_cast<double>(b->max_value) / static_cast<double>(c.request.batch);
      a.cost = std::to_string(b->max_value) + " concurrent sequences instead of " +
               std::to_string(c.request.batch);
      AddRanked(c, a, out);
    }
  }
}

void AdviseOffload(const AdviceContext& c, std::vector<Advice>* out) {
  if (!runtime::ProfileOf(c.request.runtime).OffloadsToHost() || c.hardware.count != 1) return;
  Result<OffloadPlan> layers = PlanLayerOffload(*c.model, *c.weights, c.request, c.hardware);
  if (layers.ok() && layers->possible && layers->gpu_layers < layers->total_layers) {
    Advice a;
    a.kind = AdviceKind::kOffloadLayers;
    a.change = "-ngl " + std::to_string(layers->gpu_layers) + " (" +
               std::to_string(layers->total_layers - layers->gpu_layers) + " of " +
               std::to_string(layers->total_layers) + " layers in RAM)";
    a.saves_bytes = Saves(c.current, layers->gpu_bytes);
    a.fits = true;
    a.headroom_bytes = layers->headroom_bytes;
    a.speed_change = c.current_decode_tokens_per_s > 0
                         ? layers->decode_tokens_per_s / c.current_decode_tokens_per_s - 1.0
                         : 0;
    a.cost = "decode about " + Fixed(layers->decode_tokens_per_s, 1) + " tokens/s instead of " +
             Fixed(c.current_decode_tokens_per_s, 1) + "; needs " +
             GiBText(static_cast<int64_t>(layers->host_bytes)) + " of RAM";
    AddRanked(c, a, out);
  }
  if (c.weights->routed_expert_bytes > 0) {
    Result<OffloadPlan> experts = PlanExpertOffload(*c.model, *c.weights, c.request, c.hardware);
    if (experts.ok() && experts->possible && experts->cpu_moe_layers > 0) {
      Advice a;
      a.kind = AdviceKind::kOffloadExperts;
      a.change = "--n-cpu-moe " + std::to_string(experts->cpu_moe_layers);
      a.saves_bytes = Saves(c.current, experts->gpu_bytes);
      a.fits = true;
      a.headroom_bytes = experts->headroom_bytes;
      a.speed_change = c.current_decode_tokens_per_s > 0
                           ? experts->decode_tokens_per_s / c.current_decode_tokens_per_s - 1.0
                           : 0;
      a.cost = "decode about " + Fixed(experts->decode_tokens_per_s, 1) +
               " tokens/s (active experts of " + std::to_string(experts->cpu_moe_layers) +
               " layers read from RAM); needs " +
               GiBText(static_cast<int64_t>(experts->host_bytes)) + " of RAM";
      AddRanked(c, a, out);
    }
  }
}

void AdviseDevices(const AdviceContext& c, std::vector<Advice>* out) {
  if (!c.hardware.device->can_pool()) return;
  HardwareConfig hw = c.hardware;
  for (int n = c.hardware.count + 1; n <= std::min(kMaxDevices, c.hardware.count + 16); ++n) {
    hw.count = n;
    Result<FitResult> f = Fit(*c.model, *c.weights, c.request, hw);
    if (!f.ok()) continue;  // e.g. heads not divisible by n
    if (!f->fits) continue;
    Advice a;
    a.kind = AdviceKind::kMoreDevices;
    a.change = "--gpus " + std::to_string(n);
    a.apply = {FieldChange::Integer("gpus", n)};
    a.saves_bytes = Saves(c.current, MaxLoad(*f));
    a.fits = true;
    a.headroom_bytes = f->headroom_bytes;
    const double speed = SpeedOf(*c.model, *c.weights, c.request, hw);
    a.speed_change = c.current_decode_tokens_per_s > 0 && speed > 0
                         ? speed / c.current_decode_tokens_per_s - 1.0
                         : 0;
    const std::optional<double> unit = c.hardware.device->price_usd();
    a.extra_cost_usd = unit.value_or(0.0) * (n - c.hardware.count);
    a.cost = std::to_string(n - c.hardware.count) + " more " + c.hardware.device->name +
             (unit.has_value() ? " ($" + Fixed(a.extra_cost_usd, 0) + ")" : " (no price known)") +
             ", " + SplitModeName(f->split) + " split";
    AddRanked(c, a, out);
    return;
  }
}

}  // namespace

Result<AdviceResult> Advise(const ModelDescription& model, const WeightPlan& weights,
                            const InferenceRequest& request, const HardwareConfig& hardware,
                            const std::vector<AdviceGenerator>& extra_generators) {
  Result<FitResult> current = Fit(model, weights, request, hardware);
  if (!current.ok()) return current.status();
  AdviceResult out;
  out.current = current.value();
  if (out.current.fits) return out;
  AdviceContext c;
  c.model = &model;
  c.weights = &weights;
  c.request = request;
  c.hardware = hardware;
  c.current = out.current;
  c.current_decode_tokens_per_s = SpeedOf(model, weights, request, hardware);
  AdviseFlashAttention(c, &out.advice);
  AdviseKvCache(c, &out.advice);
  AdviseWeights(c, &out.advice);
  AdviseLimits(c, &out.advice);
  AdviseOffload(c, &out.advice);
  AdviseDevices(c, &out.advice);
  for (const AdviceGenerator& g : extra_generators) {
    if (g) g(c, &out.advice);
  }
  RankAdvice(&out.advice);
  return out;
}

}  // namespace vram
