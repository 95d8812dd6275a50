// Recommendation: which devices run a workload, cheapest and best value first.

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

// --- Recommendation ---------------------------------------------------------------------------

Result<RecommendResult> Recommend(const ModelDescription& model, const WeightPlan& weights,
                                  const InferenceRequest& request,
                                  const std::vector<Device>& devices,
                                  const RecommendOptions& options) {
  VRAM_RETURN_IF_ERROR(ValidateRequest(request));
  if (options.max_devices < 1 || options.max_devices > kMaxDevices) {
    return Status(ErrorCode::kOutOfRange, "max-gpus: must be an integer in [1, " +
                                              std::to_string(kMaxDevices) + "], got " +
                                              std::to_string(options.max_devices));
  }
  if (!(options.min_headroom_fraction >= 0.0 && options.min_headroom_fraction <= 0.9)) {
    return Status(ErrorCode::kOutOfRange, "headroom: must be a fraction in [0, 0.9], got " +
                                              std::to_string(options.min_headroom_fraction));
  }
  if (options.limit < 1 || options.limit > 1000) {
    return Status(ErrorCode::kOutOfRange,
                  "limit: must be an integer in [1, 1000], got " + std::to_string(options.limit));
  }
  std::map<int, Result<Placement>> placements;
  auto placement = [&](int n) -> const Result<Placement>& {
    auto it = placements.find(n);
    if (it == placements.end()) {
      it = placements.emplace(n, Place(model, weights, request.runtime, SplitMode::kAuto, n)).first;
    }
    return it->second;
  };
  RecommendResult out;
  std::vector<Recommendation> all;
  for (const Device& d : devices) {
    const bool wanted = options.categories.empty()
                            ? d.category != "cpu"
                            : std::find(options.categories.begin(), options.categories.end(),
                                        d.category) != options.categories.end();
    if (!wanted || !CheckRuntimeOnDevice(request, d).ok()) continue;
    ++out.devices_considered;
    HardwareConfig hw;
    hw.device = &d;
    hw.min_headroom_fraction = options.min_headroom_fraction;
    const int top = d.can_pool() ? options.max_devices : 1;
    for (int n = 1; n <= top; ++n) {
      const Result<Placement>& pl = placement(n);
      if (!pl.ok()) continue;
      hw.count = n;
      Result<FitResult> f = FitPlaced(*pl, model, weights, request, hw);
      if (!f.ok()) return f.status();
      if (!f->fits) continue;
      const std::optional<double> unit = d.price_usd();
      if (!unit.has_value()) {
        ++out.devices_without_price;
        break;
      }
      Result<ThroughputEstimate> t = ThroughputPlaced(*pl, model, weights, request, hw);
      if (!t.ok()) return t.status();
      Recommendation rec;
      rec.device_id = d.id;
      rec.device_name = d.name;
      rec.count = n;
      rec.split = pl->split;
      rec.price_usd = *unit * n;
      rec.price_basis = d.street_price_usd.has_value() ? "street " + d.street_price_date : "launch";
      rec.headroom_bytes = f->headroom_bytes;
      rec.decode_tokens_per_s = t->decode_tokens_per_s;
      rec.tokens_per_s_per_1000_usd =
          rec.price_usd > 0 ? t->decode_tokens_per_s / rec.price_usd * 1000.0 : 0;
      rec.reason = (n == 1 ? std::string("fits on one ") : std::to_string(n) + " x ") + d.name +
                   (n == 1 ? "" : std::string(" (") + SplitModeName(pl->split) + " split)") +
                   " with " + GiBText(f->headroom_bytes) + " to spare per device; about " +
                   Fixed(t->decode_tokens_per_s, 1) + " tokens/s at the full context; $" +
                   Fixed(rec.price_usd, 0) + " (" + rec.price_basis + ")";
      all.push_back(rec);
      break;  // the smallest count that fits
    }
  }
  auto by_price = [](const Recommendation& a, const Recommendation& b) {
    return a.price_usd != b.price_usd ? a.price_usd < b.price_usd
                                      : a.decode_tokens_per_s > b.decode_tokens_per_s;
  };
  for (const Recommendation& r : all)
    (r.count == 1 ? out.single_device : out.multi_device).push_back(r);
  std::sort(out.single_device.begin(), out.single_device.end(), by_price);
  std::sort(out.multi_device.begin(), out.multi_device.end(), by_price);
  out.best_value = all;
  std::sort(out.best_value.begin(), out.best_value.end(),
            [](const Recommendation& a, const Recommendation& b) {
              return a.tokens_per_s_per_1000_usd != b.tokens_per_s_per_1000_usd
                         ? a.tokens_per_s_per_1000_usd > b.tokens_per_s_per_1000_usd
                         : a.price_usd < b.price_usd;
            });
  const size_t limit = static_cast<size_t>(options.limit);
  if (out.single_device.size() > limit) out.single_device.resize(limit);
  if (out.multi_device.size() > limit) out.multi_device.resize(limit);
  if (out.best_value.size() > limit) out.best_value.resize(limit);
  return out;
}

}  // namespace vram
