// The fit table: every device of the catalogue against one workload, with the planner's own
// rules (capacity, placement, headroom, speed), so the page shows what `vramcalc fit` says.

#include <algorithm>

#include "vram/planner.h"

namespace vram {

Result<std::vector<FitTableRow>> FitTable(const ModelDescription& model, const WeightPlan& weights,
                                          const InferenceRequest& request,
                                          const std::vector<Device>& devices, int max_devices) {
  std::vector<FitTableRow> rows;
  rows.reserve(devices.size());
  for (const Device& d : devices) {
    FitTableRow row;
    row.device = &d;
    HardwareConfig hw;
    hw.device = &d;
    Result<FitResult> one = Fit(model, weights, request, hw);
    if (!one.ok()) {
      // A device this runtime or layout cannot use (vLLM on a Mac): the row says why. The request
      // itself was checked by the estimate before the table.
      row.capacity_bytes = d.usable_memory_bytes();
      row.headroom_bytes = -1;
      row.unsupported = one.status().message();
      rows.push_back(row);
      continue;
    }
    row.capacity_bytes = one->capacity_bytes;
    row.headroom_bytes = one->headroom_bytes;
    row.fits_one = one->fits;
    if (one->fits) {
      row.devices_needed = 1;
    } else {
      Result<DeviceCountSolution> n = SmallestDeviceCount(model, weights, request, hw, max_devices);
      if (n.ok()) {
        row.devices_needed = n->devices;
      } else {
        row.unsupported = n.status().message();
      }
    }
    if (row.devices_needed > 0) {
      hw.count = row.devices_needed;
      Result<ThroughputEstimate> t = EstimateThroughput(model, weights, request, hw);
      if (t.ok()) row.decode_tokens_per_s = t->decode_tokens_per_s;
      if (d.street_price_usd.has_value()) row.price_usd = *d.street_price_usd * row.devices_needed;
    }
    rows.push_back(row);
  }
  return rows;
}

Result<std::vector<FitTableRow>> TrainingFitTable(const ModelDescription& model,
                                                  const TrainingRequest& request,
                                                  const std::vector<Device>& devices) {
  std::vector<FitTableRow> rows;
  rows.reserve(devices.size());
  const int64_t layout = request.dp * request.tp * request.pp;
  for (const Device& d : devices) {
    FitTableRow row;
    row.device = &d;
    HardwareConfig hw;
    hw.device = &d;
    Result<FitResult> f = FitTraining(model, request, hw);
    if (!f.ok()) {
      // A layout of several GPUs on a device that cannot pool them: the row says why.
      row.capacity_bytes = d.usable_memory_bytes();
      row.headroom_bytes = -1;
      row.unsupported = f.status().message();
      rows.push_back(row);
      continue;
    }
    row.capacity_bytes = f->capacity_bytes;
    row.headroom_bytes = f->headroom_bytes;
    row.fits_one = f->fits;
    row.devices_needed = f->fits ? static_cast<int>(layout) : 0;
    if (row.devices_needed > 0 && d.street_price_usd.has_value()) {
      row.price_usd = *d.street_price_usd * row.devices_needed;
    }
    rows.push_back(row);
  }
  return rows;
}

}  // namespace vram
