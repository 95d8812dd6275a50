// The speed rooflines against published single-request llama.cpp measurements
// (tests/reference/throughput.json). The calibration entries must reproduce the constants of
// core/src/world.h; every entry prints estimate vs measured and must stay within its bound
// (35% unless the entry documents why the model is weaker there).

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_util.h"
#include "vram/hardware.h"
#include "vram/planner.h"
#include "world.h"

namespace vram {
namespace {

using Json = nlohmann::json;

struct Measurement {
  Json raw;
  std::string id;
  bool decode = true;
  double measured = 0;
  double estimate = 0;
  uint64_t bytes = 0;  ///< Decode: weight + KV bytes read per token.
  double fixed_seconds = 0;
  int64_t layers = 0;
  double bandwidth = 0;
  bool fits = false;
};

const std::vector<Device>& Devices() { return test::PresetDevices(); }

std::vector<Measurement> Evaluate() {
  const Json root =
      Json::parse(test::ReadText(std::string(VRAM_GOLDEN_DIR) + "/../reference/throughput.json"), nullptr, false);
  std::vector<Measurement> out;
  if (root.is_discarded() || !root.contains("measurements")) {
    ADD_FAILURE() << "tests/reference/throughput.json is missing or malformed";
    return out;
  }
  for (const Json& x : root["measurements"]) {
    Measurement m;
    m.raw = x;
    m.id = x["id"].get<std::string>();
    m.decode = x["kind"] == "decode";
    m.measured = x["measured"].get<double>();
    const ModelDescription model = test::PresetModel(x["model"].get<std::string>());
    const WeightPlan plan = test::Plan(model, x["weights"].get<std::string>());
    HardwareConfig hw;
    hw.device = FindDevice(Devices(), x["hardware"].get<std::string>());
    hw.count = x["gpus"].get<int>();
    if (hw.device == nullptr) {
      ADD_FAILURE() << m.id << ": unknown hardware";
      continue;
    }
    InferenceRequest r;
    r.runtime = Runtime::kLlamaCpp;
    r.flash_attention = false;  // llama-bench's default then
    r.context_tokens = m.decode ? std::max<int64_t>(1, x["depth_tokens"].get<int64_t>()) : x["prompt_tokens"].get<int64_t>();
    Result<ThroughputEstimate> t = EstimateThroughput(model, plan, r, hw);
    if (!t.ok()) {
      ADD_FAILURE() << m.id << ": " << t.status().message();
      continue;
    }
    m.estimate = m.decode ? t->decode_tokens_per_s : t->prefill_tokens_per_s;
    m.bytes = t->weight_bytes_read_per_token + t->kv_bytes_read_per_token;
    m.fixed_seconds = t->fixed_seconds_per_token;
    m.layers = static_cast<int64_t>(model.attention.layers.size());
    m.bandwidth = static_cast<double>(hw.device->memory_bandwidth_bytes_per_s);
    // What llama-bench allocated: prompt + generated tokens.
    InferenceRequest bench = r;
    bench.context_tokens = m.decode ? 512 + 2 * x["depth_tokens"].get<int64_t>() : r.context_tokens;
    Result<FitResult> f = Fit(model, plan, bench, hw);
    m.fits = f.ok() && f->fits;
    out.push_back(std::move(m));
  }
  return out;
}

const std::vector<Measurement>& All() {
  static const std::vector<Measurement> all = Evaluate();
  return all;
}

const Measurement* Find(const std::string& id) {
  for (const Measurement& m : All()) {
    if (m.id == id) return &m;
  }
  ADD_FAILURE() << "no measurement " << id;
  return nullptr;
}

/// Bandwidth efficiency and fixed cost per layer from two decode runs of one model on one device.
void FitDecode(const std::string& a, const std::string& b, double* efficiency, double* layer_seconds) {
  const Measurement* x = Find(a);
  const Measurement* y = Find(b);
  ASSERT_TRUE(x && y);
  const double slope = (1.0 / y->measured - 1.0 / x->measured) / static_cast<double>(y->bytes - x->bytes);
  *efficiency = 1.0 / (slope * x->bandwidth);
  *layer_seconds = (1.0 / x->measured - slope * static_cast<double>(x->bytes)) / static_cast<double>(x->layers);
}

/// The prefill efficiency that reproduces one pp measurement (the estimate is compute-bound:
/// seconds = ubatch x FLOPs / (TFLOPS x efficiency) + fixed).
double FitPrefill(const std::string& id, double efficiency_used) {
  const Measurement* m = Find(id);
  if (m == nullptr) return 0;
  const double ubatch = 512;
  const double compute_estimate = ubatch / m->estimate - m->fixed_seconds;
  const double compute_measured = ubatch / m->measured - m->fixed_seconds;
  return efficiency_used * compute_estimate / compute_measured;
}

TEST(ThroughputValidationTest, CalibrationPointsGiveTheConstants) {
  double eff = 0, layer = 0;
  FitDecode("xd-rtx4090-8b-q4_k_m-tg512", "xd-rtx4090-8b-gguf-f16-tg512", &eff, &layer);
  std::printf("GPU decode fit: efficiency %.4f, %.1f us per layer\n", eff, layer * 1e6);
  EXPECT_NEAR(world::kDecodeBandwidthEfficiencyGpu, eff, 0.0015);
  EXPECT_NEAR(world::kDecodeLayerSecondsGpu, layer, 0.5e-6);
  FitDecode("4167-m2-ultra-76c-q4_0-tg128", "4167-m2-ultra-76c-f16-tg128", &eff, &layer);
  std::printf("Apple decode fit: efficiency %.4f, %.1f us per layer\n", eff, layer * 1e6);
  EXPECT_NEAR(world::kDecodeBandwidthEfficiencyApple, eff, 0.0015);
  EXPECT_NEAR(world::kDecodeLayerSecondsApple, layer, 0.5e-6);
  const double consumer = FitPrefill("xd-rtx4090-8b-q4_k_m-pp512", world::kPrefillEfficiencyGpuConsumer);
  const double apple = FitPrefill("4167-m2-ultra-76c-q4_0-pp512", world::kPrefillEfficiencyApple);
  const double datacenter = FitPrefill("xd2-h100pcie-7b-q4_0-pp", world::kPrefillEfficiencyGpuDatacenter);
  std::printf("prefill fits: GeForce %.4f, Apple %.4f, data-centre %.4f\n", consumer, apple, datacenter);
  EXPECT_NEAR(world::kPrefillEfficiencyGpuConsumer, consumer, 0.005);
  EXPECT_NEAR(world::kPrefillEfficiencyApple, apple, 0.005);
  EXPECT_NEAR(world::kPrefillEfficiencyGpuDatacenter, datacenter, 0.001);
}

TEST(ThroughputValidationTest, EstimatesAgreeWithPublishedMeasurements) {
  ASSERT_GE(All().size(), 80u);
  std::vector<double> decode_errors, prefill_errors;
  std::printf("%-36s %-4s %10s %10s %8s %6s\n", "measurement", "role", "estimate", "measured", "error", "bound");
  for (const Measurement& m : All()) {
    const double error = (m.estimate - m.measured) / m.measured;
    const double bound = m.raw.contains("bound") ? m.raw["bound"].get<double>() : 0.35;
    const bool calibration = m.raw["role"] == "calibration";
    std::printf("%-36s %-4s %10.2f %10.2f %+7.1f%% %5.0f%%\n", m.id.c_str(), calibration ? "cal" : "",
                m.estimate, m.measured, error * 100, bound * 100);
    EXPECT_LE(std::fabs(error), bound) << m.id << ": estimate " << m.estimate << " vs measured " << m.measured;
    if (bound != 0.35) {
      EXPECT_TRUE(m.raw.contains("weak_reason")) << m.id << " has a looser bound but no reason";
    }
    // The published run fits in our memory model too.
    EXPECT_TRUE(m.fits) << m.id;
    if (!calibration) (m.decode ? decode_errors : prefill_errors).push_back(std::fabs(error));
  }
  auto summary = [](const char* what, std::vector<double> e) {
    std::sort(e.begin(), e.end());
    double sum = 0;
    for (double x : e) sum += x;
    std::printf("%s: %zu validation points, mean |error| %.1f%%, median %.1f%%, worst %.1f%%\n", what, e.size(),
                100 * sum / static_cast<double>(e.size()), 100 * e[e.size() / 2], 100 * e.back());
  };
  summary("decode", decode_errors);
  summary("prefill", prefill_errors);
}

}  // namespace
}  // namespace vram
