// Speed of the core: one estimate on a prepared model, the whole pipeline from config.json, and a
// sweep over every preset x every catalogue format.
//   build/native-release/bench/vram_bench

#include <benchmark/benchmark.h>

#include <fstream>
#include <sstream>

#include "vram/vram.h"

namespace {

const std::vector<vram::ModelPreset>& Presets() {
  static const std::vector<vram::ModelPreset> presets = [] {
    std::ifstream in(std::string(VRAM_PRESETS_DIR) + "/models.json");
    std::stringstream ss;
    ss << in.rdbuf();
    return vram::ParseModelPresets(ss.str()).value();
  }();
  return presets;
}

vram::ModelDescription Model(const char* id) {
  return vram::ModelFromHfConfig(vram::FindPreset(Presets(), id)->config_json).value();
}

/// Numbers only: the estimate on a model and weight plan prepared once (what a UI does while the
/// user drags the context slider).
void BM_EstimatePrepared(benchmark::State& state) {
  const vram::ModelDescription model = Model("llama-3.1-70b");
  const vram::WeightPlan plan = vram::PlanWeights(model, vram::ParseWeightFormat("q4_k_m").value()).value();
  vram::InferenceRequest request;
  request.runtime = vram::Runtime::kLlamaCpp;
  request.context_tokens = 32768;
  for (auto _ : state) {
    request.context_tokens = request.context_tokens == 32768 ? 32769 : 32768;
    benchmark::DoNotOptimize(vram::EstimateNumbers(model, plan, request));
  }
}
BENCHMARK(BM_EstimatePrepared);

/// The same with the itemized explanations (strings) built.
void BM_EstimateWithExplanations(benchmark::State& state) {
  const vram::ModelDescription model = Model("llama-3.1-70b");
  const vram::WeightPlan plan = vram::PlanWeights(model, vram::ParseWeightFormat("q4_k_m").value()).value();
  vram::InferenceRequest request;
  request.runtime = vram::Runtime::kLlamaCpp;
  request.context_tokens = 32768;
  for (auto _ : state) benchmark::DoNotOptimize(vram::EstimateInference(model, plan, request));
}
BENCHMARK(BM_EstimateWithExplanations);

/// A changed weight format: re-plan every tensor (Llama-3.1-70B has 723).
void BM_PlanWeights(benchmark::State& state) {
  const vram::ModelDescription model = Model("llama-3.1-70b");
  const vram::WeightFormat format = vram::ParseWeightFormat("q4_k_m").value();
  for (auto _ : state) benchmark::DoNotOptimize(vram::PlanWeights(model, format));
}
BENCHMARK(BM_PlanWeights);

/// From config.json text to the JSON answer (what the wasm calculateJson does).
void BM_FullPipelineFromConfig(benchmark::State& state) {
  const std::string request = std::string("{\"model\":\"llama-3.1-8b\",\"weights\":\"q4_k_m\",\"runtime\":\"llamacpp\",\"config\":") +
                              vram::FindPreset(Presets(), "llama-3.1-8b")->config_json + "}";
  for (auto _ : state) benchmark::DoNotOptimize(vram::CalculateJson(request));
}
BENCHMARK(BM_FullPipelineFromConfig);

/// Every preset x every catalogue format: build, plan and estimate.
void BM_SweepAllPresetsAllFormats(benchmark::State& state) {
  std::vector<vram::ModelDescription> models;
  for (const vram::ModelPreset& p : Presets()) models.push_back(vram::ModelFromHfConfig(p.config_json).value());
  std::vector<vram::WeightFormat> formats;
  for (const vram::WeightFormatInfo& f : vram::ListWeightFormats()) formats.push_back(vram::ParseWeightFormat(f.id).value());
  int64_t estimates = 0;
  for (auto _ : state) {
    for (const vram::ModelDescription& model : models) {
      for (const vram::WeightFormat& format : formats) {
        vram::Result<vram::WeightPlan> plan = vram::PlanWeights(model, format);
        if (!plan.ok()) continue;
        vram::InferenceRequest request;
        request.runtime = format.is_gguf() ? vram::Runtime::kLlamaCpp : vram::Runtime::kTheoretical;
        benchmark::DoNotOptimize(vram::EstimateNumbers(model, *plan, request));
        ++estimates;
      }
    }
  }
  state.counters["estimates"] = benchmark::Counter(static_cast<double>(estimates), benchmark::Counter::kIsRate);
  state.counters["combinations"] = static_cast<double>(models.size() * formats.size());
}
BENCHMARK(BM_SweepAllPresetsAllFormats)->Unit(benchmark::kMillisecond);

const std::vector<vram::Device>& Devices() {
  static const std::vector<vram::Device> devices = [] {
    std::ifstream in(std::string(VRAM_PRESETS_DIR) + "/hardware.json");
    std::stringstream ss;
    ss << in.rdbuf();
    return vram::ParseDevices(ss.str()).value();
  }();
  return devices;
}

/// The page's fit table: fit and decode speed of one workload on every device (one GPU each).
void BM_FitAndSpeedAllDevices(benchmark::State& state) {
  const vram::ModelDescription model = Model("llama-3.1-8b");
  const vram::WeightPlan plan = vram::PlanWeights(model, vram::ParseWeightFormat("q4_k_m").value()).value();
  vram::InferenceRequest request;
  request.runtime = vram::Runtime::kLlamaCpp;
  request.context_tokens = 8192;
  for (auto _ : state) {
    for (const vram::Device& device : Devices()) {
      vram::HardwareConfig hardware;
      hardware.device = &device;
      vram::Result<vram::FitResult> fit = vram::Fit(model, plan, request, hardware);
      if (fit.ok() && fit->fits) benchmark::DoNotOptimize(vram::EstimateThroughput(model, plan, request, hardware));
    }
  }
  state.counters["devices"] = static_cast<double>(Devices().size());
}
BENCHMARK(BM_FitAndSpeedAllDevices)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
