#pragma once

// The hardware-planner part of the vramcalc CLI: --gpu/--gpus/--list-gpus and the subcommands
// max-context, max-batch, best-format, offload, recommend, advise, cost. main.cc calls these
// hooks; every number comes from the core (vram/planner.h).

#include <functional>
#include <string>

#include "vram/vram.h"

namespace vramcli {

struct PlannerFlags {
  std::string action;  ///< Subcommand ("" = plain calculation).
  std::string gpu;
  int64_t gpus = 0;  ///< 0 = not given (1).
  std::string split = "auto";
  double headroom = -1;  ///< < 0 = not given.
  double host_bandwidth_gbs = 0;
  bool list_gpus = false;
  int64_t max_gpus = 8;
  std::string categories;  ///< Comma-separated, for recommend.
  int64_t limit = 10;
  double cloud_usd_per_hour = 0;
  double utilization = 1.0;
  double electricity_usd_per_kwh = -1;
  double system_watts = -1;

  bool uses_hardware() const { return !gpu.empty() || !action.empty() || gpus > 0; }
};

/// True for the planner subcommands accepted as the first argument.
bool IsPlannerSubcommand(const std::string& word);

/// Consumes a planner flag (taking its value from `value`); false when `flag` is not one.
bool ParsePlannerFlag(const std::string& flag, const std::function<std::string()>& value, PlannerFlags* flags);

/// Checks the flags against each other and applies the device to the request (vLLM sizes its
/// reservation from the device's memory). Exits with 2 on bad input.
void PrepareRequest(const PlannerFlags& flags, const std::string& presets_dir, vram::CalculatorRequest* request);

/// --list-gpus [--json].
void ListGpus(const std::string& presets_dir, bool json);

/// Runs a subcommand and prints its JSON object.
void RunAction(const PlannerFlags& flags, const std::string& presets_dir, const vram::Calculation& calculation);

/// With --gpu and no subcommand: the calculation JSON with "fits", "headroom_bytes",
/// "decode_tokens_per_s", "prefill_tokens_per_s" and "hardware" added.
std::string CalculationWithHardwareJson(const PlannerFlags& flags, const std::string& presets_dir,
                                        const vram::Calculation& calculation);

/// With --gpu and no subcommand, text mode: a few lines after the breakdown.
void PrintHardwareText(const PlannerFlags& flags, const std::string& presets_dir, const vram::Calculation& calculation);

}  // namespace vramcli
