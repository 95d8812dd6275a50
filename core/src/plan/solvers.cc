// Solvers: the smallest device count, the largest context or batch, the best weight format.

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

Result<DeviceCountSolution> SmallestDeviceCount(const ModelDescription& model,
                                                const WeightPlan& weights,
                                                const InferenceRequest& request,
                                                const HardwareConfig& hardware, int max_devices) {
  HardwareConfig hw = hardware;
  hw.count = 1;
  VRAM_RETURN_IF_ERROR(CheckInputs(model, weights, request, hw));
  const int top = hw.device->can_pool() ? std::max(1, std::min(max_devices, kMaxDevices)) : 1;
  // Splitting never shrinks the sum of the weights and caches over the devices, so fewer than
  // ceil((weights + cache) / capacity) devices cannot hold them: start the search there.
  int first = 1;
  if (top > 1) {
    const InferenceRequest r = ForDevice(request, *hw.device);
    Result<InferenceEstimate> whole = EstimateNumbers(model, weights, r);
    if (!whole.ok()) return whole.status();
    const uint64_t capacity = Capacity(*hw.device, r);
    if (capacity > 0) {
      const uint64_t shared = whole->weights_bytes + whole->kv_cache_bytes;
      first = static_cast<int>(
          std::min<uint64_t>(CeilDiv(shared, capacity), static_cast<uint64_t>(top)));
      first = std::max(first, 1);
    }
  }
  DeviceCountSolution out;
  for (int n = first; n <= top; ++n) {
    Result<Placement> pl = Place(model, weights, request.runtime, hw.split, n);
    if (!pl.ok()) {
      if (pl.status().code() == ErrorCode::kUnsupported) continue;  // e.g. heads not divisible by n
      return pl.status();
    }
    hw.count = n;
    Result<FitResult> f = FitPlaced(*pl, model, weights, request, hw);
    if (!f.ok()) return f.status();
    out.fit = std::move(f).value();
    if (out.fit.fits) {
      out.devices = n;
      return out;
    }
  }
  return out;
}

namespace {

/// The largest value of one request field (context or batch) in [1, cap] that still fits: a
/// binary search over the fit of a placement computed once.
Result<LimitSolution> LargestFittingField(const ModelDescription& model, const WeightPlan& weights,
                                          const InferenceRequest& request,
                                          const HardwareConfig& hardware,
                                          int64_t InferenceRequest::*field, int64_t cap) {
  InferenceRequest r = request;
  r.*field = 1;
  VRAM_RETURN_IF_ERROR(CheckInputs(model, weights, r, hardware));
  Result<Placement> pl = Place(model, weights, r.runtime, hardware.split, hardware.count);
  if (!pl.ok()) return pl.status();
  LimitSolution out;
  out.cap = cap;
  auto fits = [&](int64_t value) -> Result<bool> {
    r.*field = value;
    Result<FitResult> f = FitPlaced(*pl, model, weights, r, hardware);
    if (!f.ok()) return f.status();
    return f->fits;
  };
  Result<int64_t> best = LargestFitting(out.cap, fits);
  if (!best.ok()) return best.status();
  out.max_value = *best;
  out.limited_by_cap = out.max_value == out.cap;
  r.*field = std::max<int64_t>(1, out.max_value);
  Result<FitResult> f = FitPlaced(*pl, model, weights, r, hardware);
  if (!f.ok()) return f.status();
  out.fit_at_max = std::move(f).value();
  return out;
}

}  // namespace

Result<LimitSolution> MaxContext(const ModelDescription& model, const WeightPlan& weights,
                                 const InferenceRequest& request, const HardwareConfig& hardware,
                                 bool cap_at_model_max) {
  const int64_t cap = cap_at_model_max && model.max_context_tokens > 0
                          ? std::min(model.max_context_tokens, kMaxContext)
                          : kMaxContext;
  return LargestFittingField(model, weights, request, hardware, &InferenceRequest::context_tokens,
                             cap);
}

Result<LimitSolution> MaxBatch(const ModelDescription& model, const WeightPlan& weights,
                               const InferenceRequest& request, const HardwareConfig& hardware) {
  return LargestFittingField(model, weights, request, hardware, &InferenceRequest::batch,
                             kMaxBatch);
}

std::vector<std::string> WeightFormatLadder(Runtime runtime) {
  return runtime::ProfileOf(runtime).WeightLadder();
}

std::optional<double> WeightFormatQualityLossPercent(std::string_view id) {
  for (const world::FormatQualityLoss& row : world::kFormatQualityLoss) {
    if (id == row.format) return row.perplexity_increase_percent;
  }
  return std::nullopt;
}

Result<FormatSolution> BestWeightFormat(const ModelDescription& model,
                                        const InferenceRequest& request,
                                        const HardwareConfig& hardware,
                                        const std::vector<std::string>& candidates) {
  VRAM_RETURN_IF_ERROR(ValidateHardware(hardware));
  VRAM_RETURN_IF_ERROR(ValidateRequest(request));
  VRAM_RETURN_IF_ERROR(CheckRuntimeOnDevice(request, *hardware.device));
  const std::vector<std::string> ladder =
      candidates.empty() ? WeightFormatLadder(request.runtime) : candidates;
  FormatSolution out;
  for (const std::string& id : ladder) {
    FormatTrial trial;
    trial.format = id;
    Result<WeightFormat> format = ParseWeightFormat(id);
    if (!format.ok()) {
      trial.error = format.status().message();
      out.trials.push_back(trial);
      continue;
    }
    Result<WeightPlan> plan = PlanWeights(model, *format);
    if (!plan.ok()) {
      trial.error = plan.status().message();
      out.trials.push_back(trial);
      continue;
    }
    trial.weight_bytes = plan->total_bytes;
    trial.bits_per_weight = plan->bits_per_weight;
    Result<FitResult> f = Fit(model, *plan, request, hardware);
    if (!f.ok()) {
      trial.error = f.status().message();
      out.trials.push_back(trial);
      continue;
    }
    trial.fits = f->fits;
    trial.headroom_bytes = f->headroom_bytes;
    out.trials.push_back(trial);
    if (f->fits && out.format.empty()) {
      out.format = id;
      out.fit = std::move(f).value();
      break;
    }
  }
  return out;
}

}  // namespace vram
