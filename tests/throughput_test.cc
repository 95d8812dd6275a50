// The speed rooflines against published single-request measurements of llama.cpp, vLLM and
// Hugging Face transformers (tests/reference/throughput.json). The calibration entries must
// reproduce the constants of core/src/world.h; every entry prints estimate vs measured and must
// stay within its bound (35% unless the entry documents why the model is weaker there), except
// 'recorded' entries, which document what the model does not cover and are printed only.

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
  Runtime runtime = Runtime::kLlamaCpp;
  bool recorded = false;  ///< Printed, not asserted.
  bool decode = true;
  double measured = 0;
  double estimate = 0;
  uint64_t bytes = 0;  ///< Decode: weight + KV bytes read per token.
  double memory_seconds = 0;  ///< Decode: bytes over bandwidth x efficiency.
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
    m.recorded = x["role"] == "recorded";
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
    Result<Runtime> runtime = ParseRuntime(x["runtime"].get<std::string>());
    if (!runtime.ok()) {
      ADD_FAILURE() << m.id << ": " << runtime.status().message();
      continue;
    }
    m.runtime = r.runtime = *runtime;
    if (r.runtime == Runtime::kLlamaCpp) r.flash_attention = false;  // llama-bench's default then
    if (x.contains("attn_impl")) {
      Result<AttentionImpl> impl = ParseAttentionImpl(x["attn_impl"].get<std::string>());
      if (!impl.ok()) {
        ADD_FAILURE() << m.id << ": " << impl.status().message();
        continue;
      }
      r.attention_impl = *impl;
    }
    if (x.contains("kv_dtype")) {
      Result<KvDType> kv = ParseKvDType(x["kv_dtype"].get<std::string>());
      if (!kv.ok()) {
        ADD_FAILURE() << m.id << ": " << kv.status().message();
        continue;
      }
      r.kv_dtype = *kv;
    }
    if (x.contains("cuda_graphs")) r.cuda_graphs = x["cuda_graphs"].get<bool>();
    r.context_tokens = m.decode ? std::max<int64_t>(1, x["depth_tokens"].get<int64_t>()) : x["prompt_tokens"].get<int64_t>();
    Result<ThroughputEstimate> t = EstimateThroughput(model, plan, r, hw);
    if (!t.ok()) {
      ADD_FAILURE() << m.id << ": " << t.status().message();
      continue;
    }
    m.estimate = m.decode ? t->decode_tokens_per_s : t->prefill_tokens_per_s;
    m.bytes = t->weight_bytes_read_per_token + t->kv_bytes_read_per_token;
    m.memory_seconds = t->memory_seconds_per_token;
    m.fixed_seconds = t->fixed_seconds_per_token;
    m.layers = static_cast<int64_t>(model.attention.layers.size());
    m.bandwidth = static_cast<double>(hw.device->memory_bandwidth_bytes_per_s);
    // What the run allocated: llama-bench's prompt + generated tokens, else the request's.
    InferenceRequest bench = r;
    if (r.runtime == Runtime::kLlamaCpp) {
      bench.context_tokens = m.decode ? 512 + 2 * x["depth_tokens"].get<int64_t>() : r.context_tokens;
    } else {
      bench.context_tokens = x["prompt_tokens"].get<int64_t>() + x["output_tokens"].get<int64_t>();
    }
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

/// transformers' fixed cost per layer that reproduces one decode measurement at the GPU bandwidth
/// efficiency: (1 / measured - memory seconds) / layers.
double FitLayerSeconds(const std::string& id) {
  const Measurement* m = Find(id);
  if (m == nullptr) return 0;
  return (1.0 / m->measured - m->memory_seconds) / static_cast<double>(m->layers);
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
  const double dense = FitLayerSeconds("hfob-a100-llama2-7b-fp16-sdpa");
  const double quantized = FitLayerSeconds("hfob-a100-llama-7b-gptq-exllamav2");
  const double bnb = FitLayerSeconds("hfob2-a100-llama2-7b-bnb-fp4");
  std::printf("transformers decode fits (us per layer): 16-bit %.1f, GPTQ/AWQ %.1f, bitsandbytes %.1f\n", dense * 1e6,
              quantized * 1e6, bnb * 1e6);
  EXPECT_NEAR(world::kDecodeLayerSecondsTransformersDense, dense, 0.5e-6);
  EXPECT_NEAR(world::kDecodeLayerSecondsTransformersQuantized, quantized, 0.5e-6);
  EXPECT_NEAR(world::kDecodeLayerSecondsTransformersBitsandbytes, bnb, 0.5e-6);
}

/// |error| statistics of one group of validation points.
struct ErrorStats {
  size_t n = 0;
  double median = 0, mean = 0, p90 = 0, worst = 0;
  size_t within_35 = 0;
};

ErrorStats StatsOf(std::vector<double> e) {
  ErrorStats s;
  s.n = e.size();
  if (e.empty()) return s;
  std::sort(e.begin(), e.end());
  double sum = 0;
  for (double x : e) {
    sum += x;
    if (x <= 0.35) ++s.within_35;
  }
  s.median = e[e.size() / 2];
  s.mean = sum / static_cast<double>(e.size());
  s.p90 = e[static_cast<size_t>(std::ceil(0.9 * static_cast<double>(e.size()))) - 1];
  s.worst = e.back();
  return s;
}

/// Decode |errors| of the asserted, non-calibration entries of one runtime.
std::vector<double> DecodeErrors(Runtime runtime) {
  std::vector<double> out;
  for (const Measurement& m : All()) {
    if (!m.decode || m.recorded || m.runtime != runtime || m.raw["role"] == "calibration") continue;
    out.push_back(std::fabs((m.estimate - m.measured) / m.measured));
  }
  return out;
}

TEST(ThroughputValidationTest, EstimatesAgreeWithPublishedMeasurements) {
  ASSERT_GE(All().size(), 80u);
  std::vector<double> decode_errors, prefill_errors;
  std::printf("%-36s %-4s %10s %10s %8s %6s\n", "measurement", "role", "estimate", "measured", "error", "bound");
  for (const Measurement& m : All()) {
    const double error = (m.estimate - m.measured) / m.measured;
    const double bound = m.raw.contains("bound") ? m.raw["bound"].get<double>() : 0.35;
    const bool calibration = m.raw["role"] == "calibration";
    std::printf("%-36s %-4s %10.2f %10.2f %+7.1f%% %5.0f%%\n", m.id.c_str(),
                calibration ? "cal" : m.recorded ? "rec" : "", m.estimate, m.measured, error * 100,
                m.recorded ? 0.0 : bound * 100);
    if (m.recorded) {
      EXPECT_TRUE(m.raw.contains("weak_reason")) << m.id << " is recorded but says not why";
    } else {
      EXPECT_LE(std::fabs(error), bound) << m.id << ": estimate " << m.estimate << " vs measured " << m.measured;
    }
    if (bound != 0.35) {
      EXPECT_TRUE(m.raw.contains("weak_reason")) << m.id << " has a looser bound but no reason";
    }
    if (m.runtime != Runtime::kLlamaCpp) {
      // Every non-llama.cpp entry quotes its figure and is a single-request run.
      EXPECT_TRUE(m.raw.contains("quote") && m.raw["quote"].is_string()) << m.id;
      EXPECT_EQ(1, m.raw.value("batch", 0)) << m.id;
    }
    // The published run fits in our memory model too.
    EXPECT_TRUE(m.fits) << m.id;
    if (calibration || m.recorded || m.runtime != Runtime::kLlamaCpp) continue;
    (m.decode ? decode_errors : prefill_errors).push_back(std::fabs(error));
  }
  auto summary = [](const char* what, std::vector<double> e) {
    std::sort(e.begin(), e.end());
    double sum = 0;
    for (double x : e) sum += x;
    std::printf("%s: %zu validation points, mean |error| %.1f%%, median %.1f%%, worst %.1f%%\n", what, e.size(),
                100 * sum / static_cast<double>(e.size()), 100 * e[e.size() / 2], 100 * e.back());
  };
  summary("llama.cpp decode", decode_errors);
  summary("llama.cpp prefill", prefill_errors);
}

// Decode error per runtime (validation entries; calibration and recorded ones excluded). Each bound
// is what the constants achieve, rounded up a little. Without transformers' own fixed cost per
// layer (llama.cpp's constants, as before) its median error is 166% (mean 272%); without a fixed
// cost per layer vLLM's would be 60% (mean 123%, its 0.6B model 7x too fast).
TEST(ThroughputValidationTest, DecodeErrorPerRuntime) {
  struct Row {
    Runtime runtime;
    size_t min_points;
    double median_bound, mean_bound, p90_bound;
  };
  const Row rows[] = {
      {Runtime::kLlamaCpp, 56, 0.085, 0.12, 0.31},
      {Runtime::kVllm, 12, 0.10, 0.17, 0.37},
      {Runtime::kTransformers, 13, 0.05, 0.07, 0.15},
  };
  std::printf("%-13s %6s %8s %8s %8s %8s %10s\n", "runtime", "points", "median", "mean", "p90", "worst", "within35%");
  for (const Row& row : rows) {
    const ErrorStats s = StatsOf(DecodeErrors(row.runtime));
    std::printf("%-13s %6zu %7.1f%% %7.1f%% %7.1f%% %7.1f%% %6zu/%zu\n", RuntimeName(row.runtime), s.n, 100 * s.median,
                100 * s.mean, 100 * s.p90, 100 * s.worst, s.within_35, s.n);
    EXPECT_GE(s.n, row.min_points) << RuntimeName(row.runtime);
    EXPECT_LE(s.median, row.median_bound) << RuntimeName(row.runtime);
    EXPECT_LE(s.mean, row.mean_bound) << RuntimeName(row.runtime);
    EXPECT_LE(s.p90, row.p90_bound) << RuntimeName(row.runtime);
  }
}

}  // namespace
}  // namespace vram
