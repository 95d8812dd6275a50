// The fit table: every device of the catalogue against one workload, with the planner's own
// rules (capacity, placement, headroom, speed), so the page shows what `vramcalc fit` says.

#include "vram/planner.h"

namespace vram {
namespace {

/// A device the runtime or layout cannot use (vLLM on a Mac, several GPUs that cannot pool): it
/// offers its memory, and the row says why.
FitTableRow UnusableRow(const Device& d, const Status& why) {
  FitTableRow row;
  row.device = &d;
  row.capacity_bytes = d.usable_memory_bytes();
  row.headroom_bytes = -1;
  row.unsupported = why.message();
  return row;
}

/// The street price of the devices needed, when both are known.
void SetPrice(const Device& d, FitTableRow* row) {
  if (row->devices_needed > 0 && d.street_price_usd.has_value()) {
    row->price_usd = *d.street_price_usd * row->devices_needed;
  }
}

}  // namespace

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
      // The request itself was checked by the estimate before the table.
      rows.push_back(UnusableRow(d, one.status()));
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
    }
    SetPrice(d, &row);
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
      rows.push_back(UnusableRow(d, f.status()));
      continue;
    }
    row.capacity_bytes = f->capacity_bytes;
    row.headroom_bytes = f->headroom_bytes;
    row.fits_one = f->fits;
    row.devices_needed = f->fits ? static_cast<int>(layout) : 0;
    SetPrice(d, &row);
    rows.push_back(row);
  }
  return rows;
}

}  // namespace vram
