// Cost and power of a set of devices.

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

// --- Cost and power ---------------------------------------------------------------------------

Result<CostEstimate> EstimateCost(const Device& device, int count, const CostOptions& options) {
  if (count < 1 || count > kMaxDevices) {
    return Status(ErrorCode::kOutOfRange, "gpus: must be an integer in [1, " +
                                              std::to_string(kMaxDevices) + "], got " +
                                              std::to_string(count));
  }
  const double system = options.system_watts < 0 ? world::kSystemBaseWatts : options.system_watts;
  const double load =
      options.psu_load_fraction <= 0 ? world::kPsuLoadFraction : options.psu_load_fraction;
  const double kwh = options.electricity_usd_per_kwh < 0 ? world::kElectricityUsdPerKwh
                                                         : options.electricity_usd_per_kwh;
  if (!(system >= 0 && system <= 100000)) {
    return Status(ErrorCode::kOutOfRange, "system-watts: must be a number in [0, 100000]");
  }
  if (!(load > 0 && load <= 1))
    return Status(ErrorCode::kOutOfRange, "psu-load: must be a fraction in (0, 1]");
  if (!(kwh >= 0 && kwh <= 100))
    return Status(ErrorCode::kOutOfRange, "electricity: must be a number in [0, 100] $/kWh");
  if (!(options.cloud_usd_per_hour >= 0 && options.cloud_usd_per_hour <= 1e6)) {
    return Status(ErrorCode::kOutOfRange, "cloud-usd-per-hour: must be a number in [0, 1000000]");
  }
  if (!(options.utilization > 0 && options.utilization <= 1)) {
    return Status(ErrorCode::kOutOfRange, "utilization: must be a fraction in (0, 1]");
  }
  CostEstimate c;
  const std::optional<double> unit = device.price_usd();
  if (unit.has_value()) {
    c.price_usd = *unit * count;
    c.price_per_gb_usd = *unit / (static_cast<double>(device.memory_bytes) / 1e9);
  } else {
    c.notes.push_back(device.id + " has no known price");
  }
  if (device.tdp_watts.has_value()) {
    c.system_power_watts = static_cast<double>(*device.tdp_watts) * count + system;
    c.psu_watts = static_cast<int>(std::ceil(*c.system_power_watts / load / 50.0 - 1e-9)) * 50;
    c.power_usd_per_hour = *c.system_power_watts / 1000.0 * kwh;
  } else {
    c.notes.push_back(device.id + " has no published TDP; power and PSU size unknown");
  }
  if (options.cloud_usd_per_hour > 0 && c.price_usd.has_value()) {
    const double own = c.power_usd_per_hour.value_or(0.0);
    if (options.cloud_usd_per_hour > own) {
      c.breakeven_hours = *c.price_usd / (options.cloud_usd_per_hour - own);
      c.breakeven_months = *c.breakeven_hours / (world::kHoursPerMonth * options.utilization);
    } else {
      c.notes.push_back(
          "renting costs less per hour than the electricity alone: buying never pays off");
    }
  }
  if (device.category == "cpu")
    c.notes.push_back("a CPU system's price and TDP are the CPU's only (no memory or board)");
  return c;
}

}  // namespace vram
