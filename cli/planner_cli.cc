// vramcalc's hardware planner flags and subcommands. Reads hardware.json, parses flags, prints;
// every number comes from the core.

#include "planner_cli.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "vram/hardware.h"
#include "vram/planner.h"

namespace vramcli {

namespace {

using OrderedJson = nlohmann::ordered_json;

[[noreturn]] void Fail(const std::string& message) {
  std::fprintf(stderr, "vramcalc: error: %s\n", message.c_str());
  std::exit(2);
}

const char* const kSubcommands[] = {"fit", "max-context", "max-batch", "best-format", "offload",
                                    "recommend", "advise", "cost"};

int64_t Integer(const std::string& flag, const std::string& text, int64_t lo, int64_t hi) {
  const std::string range = "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  bool ok = !text.empty() && text.size() <= 12;
  int64_t v = 0;
  size_t i = text.size() > 0 && text[0] == '-' ? 1 : 0;
  ok = ok && i < text.size();
  for (; ok && i < text.size(); ++i) {
    ok = text[i] >= '0' && text[i] <= '9';
    v = v * 10 + (text[i] - '0');
  }
  if (!text.empty() && text[0] == '-') v = -v;
  if (!ok) Fail(flag + ": must be " + range + ", got '" + text.substr(0, 40) + "'");
  if (v < lo || v > hi) Fail(flag + ": must be " + range + ", got " + text);
  return v;
}

double Number(const std::string& flag, const std::string& text, double lo, double hi, bool lo_open) {
  char* end = nullptr;
  const double v = text.empty() ? 0 : std::strtod(text.c_str(), &end);
  const bool ok = !text.empty() && end != nullptr && *end == '\0' && v == v && v <= hi && (lo_open ? v > lo : v >= lo);
  if (!ok) {
    char range[96];
    std::snprintf(range, sizeof range, "%s%g, %g]", lo_open ? "(" : "[", lo, hi);
    Fail(flag + ": must be a number in " + range + ", got '" + text.substr(0, 40) + "'");
  }
  return v;
}

std::string HardwarePath(const std::string& dir) {
  if (!dir.empty()) return dir + "/hardware.json";
  if (const char* env = std::getenv("VRAMCALC_PRESETS")) return std::string(env) + "/hardware.json";
  return std::string(VRAM_PRESETS_DIR) + "/hardware.json";
}

std::vector<vram::Device> LoadDevices(const std::string& presets_dir) {
  const std::string path = HardwarePath(presets_dir);
  std::ifstream in(path, std::ios::binary);
  if (!in) Fail("hardware: cannot open '" + path + "'");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  vram::Result<std::vector<vram::Device>> devices = vram::ParseDevices(text);
  if (!devices.ok()) Fail(devices.status().message());
  return std::move(devices).value();
}

vram::PlannerRequest ToRequest(const PlannerFlags& f) {
  vram::PlannerRequest p;
  p.action = f.action.empty() ? "fit" : f.action;
  p.gpu = f.gpu;
  p.count = static_cast<int>(f.gpus > 0 ? f.gpus : 1);
  vram::Result<vram::SplitMode> split = vram::ParseSplitMode(f.split);
  if (!split.ok()) Fail(split.status().message());
  p.split = *split;
  p.min_headroom_fraction = f.headroom >= 0 ? f.headroom : 0.0;
  p.host_memory_bandwidth_bytes_per_s = static_cast<uint64_t>(f.host_bandwidth_gbs * 1e9);
  p.recommend.min_headroom_fraction = f.headroom >= 0 ? f.headroom : 0.1;
  p.recommend.max_devices = static_cast<int>(f.max_gpus);
  p.recommend.limit = static_cast<int>(f.limit);
  std::string rest = f.categories;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    const std::string c = rest.substr(0, comma);
    if (c != "consumer" && c != "workstation" && c != "datacenter" && c != "apple" && c != "cpu") {
      Fail("category: '" + c.substr(0, 40) + "' is not one of consumer, workstation, datacenter, apple, cpu");
    }
    p.recommend.categories.push_back(c);
    rest = comma == std::string::npos ? "" : rest.substr(comma + 1);
  }
  p.cost.cloud_usd_per_hour = f.cloud_usd_per_hour;
  p.cost.utilization = f.utilization;
  p.cost.electricity_usd_per_kwh = f.electricity_usd_per_kwh;
  p.cost.system_watts = f.system_watts;
  return p;
}

}  // namespace

bool IsPlannerSubcommand(const std::string& word) {
  for (const char* s : kSubcommands) {
    if (word == s) return true;
  }
  return false;
}

bool ParsePlannerFlag(const std::string& flag, const std::function<std::string()>& value, PlannerFlags* f) {
  if (flag == "--gpu") {
    f->gpu = value();
  } else if (flag == "--gpus") {
    f->gpus = Integer("gpus", value(), 1, 64);
  } else if (flag == "--split") {
    f->split = value();
    if (!vram::ParseSplitMode(f->split).ok()) Fail(vram::ParseSplitMode(f->split).status().message());
  } else if (flag == "--headroom") {
    f->headroom = Number("headroom", value(), 0.0, 0.9, false);
  } else if (flag == "--host-bandwidth-gbs") {
    f->host_bandwidth_gbs = Number("host-bandwidth-gbs", value(), 0.0, 100000.0, true);
  } else if (flag == "--list-gpus") {
    f->list_gpus = true;
  } else if (flag == "--max-gpus") {
    f->max_gpus = Integer("max-gpus", value(), 1, 64);
  } else if (flag == "--category") {
    f->categories = value();
  } else if (flag == "--limit") {
    f->limit = Integer("limit", value(), 1, 1000);
  } else if (flag == "--cloud-usd-per-hour") {
    f->cloud_usd_per_hour = Number("cloud-usd-per-hour", value(), 0.0, 1000000.0, false);
  } else if (flag == "--utilization") {
    f->utilization = Number("utilization", value(), 0.0, 1.0, true);
  } else if (flag == "--electricity-usd-per-kwh") {
    f->electricity_usd_per_kwh = Number("electricity-usd-per-kwh", value(), 0.0, 100.0, false);
  } else if (flag == "--system-watts") {
    f->system_watts = Number("system-watts", value(), 0.0, 100000.0, false);
  } else {
    return false;
  }
  return true;
}

void PrepareRequest(const PlannerFlags& f, const std::string& presets_dir, vram::CalculatorRequest* request) {
  if (f.gpus > 0 && f.gpu.empty()) Fail("gpus: needs --gpu <id> (see --list-gpus)");
  if (!f.action.empty() && f.action != "recommend" && f.gpu.empty()) {
    Fail("gpu: missing; '" + f.action + "' needs --gpu <id> (see --list-gpus)");
  }
  if (f.gpu.empty()) return;
  const std::vector<vram::Device> devices = LoadDevices(presets_dir);
  const vram::Device* d = vram::FindDevice(devices, f.gpu);
  if (d == nullptr) {
    Fail("gpu: unknown device '" + f.gpu.substr(0, 60) + "' (see --list-gpus for the " + std::to_string(devices.size()) +
         " ids)");
  }
  vram::HardwareConfig hw;
  hw.device = d;
  hw.count = static_cast<int>(f.gpus > 0 ? f.gpus : 1);
  hw.min_headroom_fraction = f.headroom >= 0 ? f.headroom : 0.0;
  vram::Status s = vram::ValidateHardware(hw);
  if (!s.ok()) Fail(s.message());
  // vLLM sizes its reservation (and its scheduler defaults) from the device; the planner does the
  // same internally, so only vLLM's echoed inputs change.
  if (vram::DescribeRuntime(request->inference.runtime).needs_device_memory) request->inference.device_memory_bytes = d->usable_memory_bytes();
}

void ListGpus(const std::string& presets_dir, bool json) {
  const std::vector<vram::Device> devices = LoadDevices(presets_dir);
  if (json) {
    std::printf("%s\n", vram::DevicesToJson(devices).c_str());
    return;
  }
  for (const vram::Device& d : devices) {
    std::printf("%-26s %-40s %8.2f GiB %7.0f GB/s", d.id.c_str(), d.name.c_str(),
                static_cast<double>(d.usable_memory_bytes()) / (1024.0 * 1024.0 * 1024.0),
                static_cast<double>(d.memory_bandwidth_bytes_per_s) / 1e9);
    if (d.price_usd().has_value()) std::printf("  $%.0f", *d.price_usd());
    std::printf("\n");
  }
  std::printf("(GiB = 2^30 bytes usable by the model; GB/s = 10^9 bytes per second)\n");
}

void RunAction(const PlannerFlags& f, const std::string& presets_dir, const vram::Calculation& c) {
  const std::vector<vram::Device> devices = LoadDevices(presets_dir);
  vram::Result<std::string> out =
      c.request.is_training() ? vram::TrainingPlannerActionJson(c.model, c.request.training, devices, ToRequest(f))
                              : vram::PlannerActionJson(c.model, c.weights, c.request.inference, devices, ToRequest(f));
  if (!out.ok()) Fail(out.status().message());
  OrderedJson j = OrderedJson::parse(*out, nullptr, false);
  if (j.is_discarded()) Fail("internal: planner JSON did not parse");
  OrderedJson with_model;
  with_model["model"] = c.request.model_id;
  for (auto it = j.begin(); it != j.end(); ++it) with_model[it.key()] = it.value();
  std::printf("%s\n", with_model.dump(2, ' ', false, nlohmann::detail::error_handler_t::replace).c_str());
}

/// The --gpu keys of a calculation (training or inference).
vram::Result<std::string> SummaryJson(const PlannerFlags& f, const std::vector<vram::Device>& devices,
                                      const vram::Calculation& c) {
  return c.request.is_training()
             ? vram::TrainingHardwareSummaryJson(c.model, c.request.training, devices, ToRequest(f))
             : vram::HardwareSummaryJson(c.model, c.weights, c.request.inference, devices, ToRequest(f));
}

std::string CalculationWithHardwareJson(const PlannerFlags& f, const std::string& presets_dir, const vram::Calculation& c) {
  const std::vector<vram::Device> devices = LoadDevices(presets_dir);
  vram::Result<std::string> extra = SummaryJson(f, devices, c);
  if (!extra.ok()) Fail(extra.status().message());
  OrderedJson j = OrderedJson::parse(vram::CalculationToJson(c), nullptr, false);
  const OrderedJson add = OrderedJson::parse(*extra, nullptr, false);
  if (j.is_discarded() || add.is_discarded()) Fail("internal: JSON did not parse");
  for (auto it = add.begin(); it != add.end(); ++it) j[it.key()] = it.value();
  return j.dump(2, ' ', false, nlohmann::detail::error_handler_t::replace);
}

void PrintHardwareText(const PlannerFlags& f, const std::string& presets_dir, const vram::Calculation& c) {
  const std::vector<vram::Device> devices = LoadDevices(presets_dir);
  vram::Result<std::string> extra = SummaryJson(f, devices, c);
  if (!extra.ok()) Fail(extra.status().message());
  const OrderedJson j = OrderedJson::parse(*extra, nullptr, false);
  if (j.is_discarded()) Fail("internal: JSON did not parse");
  const OrderedJson& h = j["hardware"];
  const double gib = 1024.0 * 1024.0 * 1024.0;
  const int64_t gpus = h["gpus"].get<int64_t>();
  const bool training = c.request.is_training();
  const std::string split = gpus <= 1 ? ""
                            : training ? ", " + h["fit"]["layout"].get<std::string>()
                                       : ", " + h["fit"]["split"].get<std::string>() + " split";
  std::printf("\non %lld x %s (%.2f GiB usable each%s): %s, %.2f GiB %s\n", static_cast<long long>(gpus),
              h["name"].get<std::string>().c_str(), static_cast<double>(h["fit"]["capacity_bytes"].get<uint64_t>()) / gib,
              split.c_str(), j["fits"].get<bool>() ? "fits" : "does NOT fit",
              std::abs(static_cast<double>(j["headroom_bytes"].get<int64_t>())) / gib,
              j["headroom_bytes"].get<int64_t>() >= 0 ? "to spare" : "short");
  if (training) {
    if (!j["fits"].get<bool>()) std::printf("try `vramcalc advise` for what would make it fit\n");
  } else if (j["fits"].get<bool>()) {
    std::printf("decode about %.1f tokens/s at the full context (%.1f with an empty cache), prefill about %.0f tokens/s\n",
                j["decode_tokens_per_s"].get<double>(), h["throughput"]["decode_tokens_per_s_at_start"].get<double>(),
                j["prefill_tokens_per_s"].get<double>());
  } else if (h.contains("offload") && h["offload"]["possible"].get<bool>()) {
    std::printf("with -ngl %lld (%lld of %lld layers on the GPU) it runs at about %.1f tokens/s; try `vramcalc advise`\n",
                static_cast<long long>(h["offload"]["gpu_layers"].get<int64_t>()),
                static_cast<long long>(h["offload"]["gpu_layers"].get<int64_t>()),
                static_cast<long long>(h["offload"]["total_layers"].get<int64_t>()),
                h["offload"]["decode_tokens_per_s"].get<double>());
  } else {
    std::printf("try `vramcalc advise` for what would make it fit\n");
  }
}

}  // namespace vramcli
