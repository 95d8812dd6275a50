// The hardware planner: fit, multi-device splits, solvers (each answer is the boundary: one more
// no longer fits), offload, rooflines, recommendations, advice, cost and power. Expected values
// are derived by hand in each test from the model's own geometry.

#include <cmath>
#include <string>

#include <gtest/gtest.h>

#include "test_util.h"
#include "vram/hardware.h"
#include "vram/planner.h"
#include "world.h"

namespace vram {
namespace {

const std::vector<Device>& Devices() { return test::PresetDevices(); }

const Device& Dev(const std::string& id) { return test::PresetDevice(id); }

HardwareConfig Hw(const std::string& id, int count = 1, SplitMode split = SplitMode::kAuto) {
  HardwareConfig hw;
  hw.device = &Dev(id);
  hw.count = count;
  hw.split = split;
  return hw;
}

InferenceRequest Req(Runtime runtime, int64_t context, int64_t batch = 1) {
  InferenceRequest r;
  r.runtime = runtime;
  r.context_tokens = context;
  r.batch = batch;
  return r;
}

using test::Ok;

constexpr uint64_t kGiB = uint64_t{1} << 30;

// --- Fit on one device ----------------------------------------------------------------------

TEST(FitTest, OneDeviceIsTheEstimateAgainstTheUsableMemory) {
  // Llama-3.1-8B in bf16, theoretical runtime, 8192 tokens, on an RTX 4090 (24 GiB).
  const ModelDescription m = test::PresetModel("llama-3.1-8b");
  const WeightPlan p = test::Plan(m, "bf16");
  const FitResult f = Ok(Fit(m, p, Req(Runtime::kTheoretical, 8192), Hw("rtx-4090")));
  const uint64_t weights = 8030261248ull * 2;                      // parameters x 2 bytes
  const uint64_t kv = 2ull * 32 * 8 * 128 * 8192 * 2;              // K and V, 32 layers, 8 heads
  const uint64_t chunk = 512;                                      // prefill chunk
  const uint64_t layer = chunk * (2 * 4096 + (32 * 128 + 2 * 8 * 128) + 3 * 14336) * 2;
  const uint64_t logits = 128256ull * 4;
  const uint64_t total = weights + kv + layer + logits;
  ASSERT_EQ(f.per_device.size(), 1u);
  EXPECT_EQ(f.per_device[0].weights_bytes, weights);
  EXPECT_EQ(f.per_device[0].kv_cache_bytes, kv);
  EXPECT_EQ(f.per_device[0].total_bytes, total);
  EXPECT_EQ(total, 17193497600ull);
  EXPECT_EQ(f.capacity_bytes, 24 * kGiB);
  EXPECT_EQ(f.headroom_bytes, static_cast<int64_t>(24 * kGiB - total));
  EXPECT_TRUE(f.fits);
  EXPECT_EQ(f.split_overhead_bytes, 0u);

  // The same workload asks for more than a 16 GiB card has.
  const FitResult small = Ok(Fit(m, p, Req(Runtime::kTheoretical, 8192), Hw("rtx-4080-super")));
  EXPECT_FALSE(small.fits);
  EXPECT_EQ(small.headroom_bytes, static_cast<int64_t>(16 * kGiB) - static_cast<int64_t>(total));
}

TEST(FitTest, AppleUsesTheMetalWorkingSetAndHeadroomIsAFractionOfIt) {
  const ModelDescription m = test::PresetModel("llama-3.1-8b");
  const WeightPlan p = test::Plan(m, "q4_k_m");
  HardwareConfig hw = Hw("apple-m1-pro-16c-16gb");
  const FitResult f = Ok(Fit(m, p, Req(Runtime::kLlamaCpp, 4096), hw));
  EXPECT_EQ(f.capacity_bytes, 11453246122ull);  // recommendedMaxWorkingSetSize, not 16 GiB
  hw.min_headroom_fraction = 0.25;
  const FitResult g = Ok(Fit(m, p, Req(Runtime::kLlamaCpp, 4096), hw));
  EXPECT_EQ(g.required_headroom_bytes, static_cast<uint64_t>(std::ceil(11453246122.0 * 0.25)));
  EXPECT_EQ(g.fits, g.headroom_bytes >= static_cast<int64_t>(g.required_headroom_bytes));
}

TEST(FitTest, VllmCapacityIsItsReservationPlusTheContextItDoesNotBudget) {
  const ModelDescription m = test::PresetModel("llama-3.1-8b");
  const WeightPlan p = test::Plan(m, "bf16");
  const FitResult f = Ok(Fit(m, p, Req(Runtime::kVllm, 8192), Hw("h100-sxm")));
  EXPECT_EQ(f.capacity_bytes,
            static_cast<uint64_t>(std::ceil(80.0 * kGiB * 0.92)) + world::kPytorchCudaContextBytes);
}

TEST(FitTest, BadHardwareNamesTheField) {
  const ModelDescription m = test::PresetModel("llama-3.1-8b");
  const WeightPlan p = test::Plan(m, "q4_k_m");
  HardwareConfig hw = Hw("rtx-4090", 0);
  Result<FitResult> r = Fit(m, p, Req(Runtime::kLlamaCpp, 4096), hw);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "gpus: must be an integer in [1, 64], got 0");
  r = Fit(m, p, Req(Runtime::kLlamaCpp, 4096), Hw("apple-m2-max-38c-64gb", 2));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("gpus: 'apple-m2-max-38c-64gb' has no interconnect"), std::string::npos);
  hw = Hw("rtx-4090");
  hw.min_headroom_fraction = 0.95;
  r = Fit(m, p, Req(Runtime::kLlamaCpp, 4096), hw);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("headroom: must be a fraction in [0, 0.9]"), std::string::npos);
  r = Fit(m, test::Plan(m, "bf16"), Req(Runtime::kVllm, 4096), Hw("apple-m2-max-38c-64gb"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("gpu: vLLM needs a discrete GPU"), std::string::npos);
}

// --- Multi-device ---------------------------------------------------------------------------

TEST(SplitTest, LayerSplitPartsAddUpToTheWhole) {
  // llama.cpp, Llama-3.1-70B Q4_K_M over 2 RTX 3090s. Items 0..80 (80 = the output layer) go to
  // device floor(il x 2 / 81): layers 0-40 on the first, 41-79 and the output on the second.
  const ModelDescription m = test::PresetModel("llama-3.1-70b");
  const WeightPlan p = test::Plan(m, "q4_k_m");
  const InferenceRequest r = Req(Runtime::kLlamaCpp, 8192);
  const FitResult f = Ok(Fit(m, p, r, Hw("rtx-3090", 2)));
  ASSERT_EQ(f.per_device.size(), 2u);
  EXPECT_EQ(f.split, SplitMode::kLayer);
  EXPECT_EQ(f.per_device[0].first_layer, 0);
  EXPECT_EQ(f.per_device[0].end_layer, 41);
  EXPECT_FALSE(f.per_device[0].holds_output);
  EXPECT_EQ(f.per_device[1].first_layer, 41);
  EXPECT_EQ(f.per_device[1].end_layer, 80);
  EXPECT_TRUE(f.per_device[1].holds_output);
  const InferenceEstimate whole = Ok(EstimateNumbers(m, p, r));
  // Weights (CUDA buffers, token_embd on the CPU) and KV divide exactly; each device adds its own
  // CUDA context.
  EXPECT_EQ(f.per_device[0].weights_bytes + f.per_device[1].weights_bytes, whole.weights_bytes);
  EXPECT_EQ(f.per_device[0].weights_bytes + f.per_device[1].weights_bytes, p.cuda_device_bytes);
  EXPECT_EQ(f.per_device[0].kv_cache_bytes, whole.kv_cache_bytes / 80 * 41);
  EXPECT_EQ(f.per_device[1].kv_cache_bytes, whole.kv_cache_bytes / 80 * 39);
  EXPECT_EQ(f.per_device[0].overhead_bytes, world::kLlamaCppCudaContextBytes);
  EXPECT_EQ(f.per_device[1].overhead_bytes, world::kLlamaCppCudaContextBytes);
  // The logits live where the output layer is; the first device's compute buffer is smaller.
  EXPECT_EQ(f.per_device[1].activations_bytes, whole.activations_bytes);
  EXPECT_LT(f.per_device[0].activations_bytes, whole.activations_bytes);
  EXPECT_EQ(f.single_device_bytes, whole.total_bytes);
  EXPECT_EQ(f.split_overhead_bytes,
            f.per_device[0].total_bytes + f.per_device[1].total_bytes - whole.total_bytes);
  EXPECT_TRUE(f.fits);
}

TEST(SplitTest, DeviceBytesOfTensorsSumToThePlanForEveryGgufFamily) {
  // The planner sizes each tensor's CUDA buffer itself; the parts must add up to the plan's total
  // (tied heads, odd row lengths, MoE experts).
  for (const char* id : {"qwen2.5-7b", "gemma-2-9b", "qwen3-30b-a3b", "mixtral-8x7b", "phi-3-mini-4k", "gpt2"}) {
    const ModelDescription m = test::PresetModel(id);
    for (const char* format : {"q4_k_m", "q8_0", "iq4_xs"}) {
      const WeightPlan p = test::Plan(m, format);
      const FitResult f = Ok(Fit(m, p, Req(Runtime::kLlamaCpp, 2048), Hw("h100-sxm", 4, SplitMode::kLayer)));
      uint64_t sum = 0;
      for (const DeviceLoad& l : f.per_device) sum += l.weights_bytes;
      EXPECT_EQ(sum, p.cuda_device_bytes) << id << " " << format;
    }
  }
}

TEST(SplitTest, TensorParallelShardsEveryMatrixAndReplicatesNorms) {
  // vLLM, Llama-3.1-70B bf16, tensor parallel over 4 H100s: matrices / 4, norms whole; the
  // vocabulary (128256, a multiple of 64) splits into 32064 rows per rank.
  const ModelDescription m = test::PresetModel("llama-3.1-70b");
  const WeightPlan p = test::Plan(m, "bf16");
  const InferenceRequest r = Req(Runtime::kVllm, 8192);
  const FitResult f = Ok(Fit(m, p, r, Hw("h100-sxm", 4)));
  EXPECT_EQ(f.split, SplitMode::kTensor);
  ASSERT_EQ(f.per_device.size(), 4u);
  uint64_t norms = 0, matrices = 0;
  for (const TensorInfo& t : m.tensors) {
    (t.role == TensorRole::kNorm ? norms : matrices) += static_cast<uint64_t>(t.elements());
  }
  EXPECT_EQ(f.per_device[0].weights_bytes, (matrices / 4 + norms) * 2);
  InferenceRequest on_h100 = r;
  on_h100.device_memory_bytes = 80 * kGiB;
  const InferenceEstimate whole = Ok(EstimateNumbers(m, p, on_h100));
  EXPECT_EQ(f.per_device[0].kv_cache_bytes, whole.kv_cache_bytes / 4);  // 8 KV heads, 2 per rank
  EXPECT_EQ(f.per_device[3].total_bytes, f.per_device[0].total_bytes);

  // 16 ranks > 8 KV heads: each rank keeps one replicated head, i.e. 1/8 of the cache.
  const FitResult g = Ok(Fit(m, p, r, Hw("h100-sxm", 16)));
  EXPECT_EQ(g.per_device[0].kv_cache_bytes, whole.kv_cache_bytes / 8);

  // 64 heads do not split over 3 ranks.
  Result<FitResult> bad = Fit(m, p, r, Hw("h100-sxm", 3));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("gpus: tensor parallelism splits the 64 attention heads"), std::string::npos);
}

TEST(SplitTest, MlaLatentCacheIsReplicatedOnEveryRank) {
  const ModelDescription m = test::PresetModel("deepseek-v3");
  const WeightPlan p = test::Plan(m, "fp8-e4m3-block128");
  const InferenceRequest r = Req(Runtime::kVllm, 4096);
  const FitResult f = Ok(Fit(m, p, r, Hw("h200-sxm", 8)));
  EXPECT_EQ(f.per_device[0].kv_cache_bytes, 61ull * (512 + 64) * 2 * 4096);
}

TEST(SplitTest, SmallestDeviceCountIsTheBoundary) {
  const ModelDescription m = test::PresetModel("llama-3.1-70b");
  const WeightPlan p = test::Plan(m, "bf16");
  const InferenceRequest r = Req(Runtime::kVllm, 32768);
  const DeviceCountSolution s = Ok(SmallestDeviceCount(m, p, r, Hw("h100-sxm")));
  ASSERT_GT(s.devices, 1);
  EXPECT_TRUE(s.fit.fits);
  EXPECT_TRUE(Ok(Fit(m, p, r, Hw("h100-sxm", s.devices))).fits);
  for (int n = 1; n < s.devices; ++n) {
    Result<FitResult> f = Fit(m, p, r, Hw("h100-sxm", n));
    if (f.ok()) {
      EXPECT_FALSE(f->fits) << n;  // counts that cannot split the heads are skipped
    }
  }
}

// --- Solvers --------------------------------------------------------------------------------

TEST(SolverTest, MaxContextIsTheBoundaryDerivedByHand) {
  // Theoretical runtime, Llama-3.1-8B bf16 on 24 GiB: past 512 tokens only the cache grows, by
  // 131072 bytes per token, so the answer is floor(free / 131072).
  const ModelDescription m = test::PresetModel("llama-3.1-8b");
  const WeightPlan p = test::Plan(m, "bf16");
  const uint64_t fixed = 8030261248ull * 2 + 512ull * 57344 * 2 + 128256ull * 4;
  const uint64_t expected = (24 * kGiB - fixed) / 131072;
  EXPECT_EQ(expected, 73624u);
  const LimitSolution s = Ok(MaxContext(m, p, Req(Runtime::kTheoretical, 1), Hw("rtx-4090")));
  EXPECT_EQ(s.max_value, static_cast<int64_t>(expected));
  EXPECT_FALSE(s.limited_by_cap);
  EXPECT_TRUE(s.fit_at_max.fits);
  EXPECT_FALSE(Ok(Fit(m, p, Req(Runtime::kTheoretical, s.max_value + 1), Hw("rtx-4090"))).fits);

  // With 10% of the card kept free.
  HardwareConfig hw = Hw("rtx-4090");
  hw.min_headroom_fraction = 0.1;
  const uint64_t reserve = static_cast<uint64_t>(std::ceil(24.0 * kGiB * 0.1));
  const LimitSolution t = Ok(MaxContext(m, p, Req(Runtime::kTheoretical, 1), hw));
  EXPECT_EQ(t.max_value, static_cast<int64_t>((24 * kGiB - fixed - reserve) / 131072));
}

TEST(SolverTest, MaxContextWithLlamaCppPaddingAndAcrossDevicesIsTheBoundary) {
  struct Case {
    const char* model;
    const char* format;
    Runtime runtime;
    const char* gpu;
    int count;
  };
  const Case cases[] = {
      {"llama-3.1-8b", "q4_k_m", Runtime::kLlamaCpp, "rtx-3060-12gb", 1},
      {"gemma-2-9b", "q8_0", Runtime::kLlamaCpp, "rtx-4070", 1},
      {"llama-3.1-70b", "q4_k_m", Runtime::kLlamaCpp, "rtx-3090", 2},
      {"qwen2.5-32b", "awq-4bit-g128", Runtime::kVllm, "rtx-4090", 2},
      {"mistral-small-24b", "bf16", Runtime::kTransformers, "rtx-a6000", 1},
  };
  for (const Case& c : cases) {
    const ModelDescription m = test::PresetModel(c.model);
    const WeightPlan p = test::Plan(m, c.format);
    const LimitSolution s = Ok(MaxContext(m, p, Req(c.runtime, 1), Hw(c.gpu, c.count), false));
    ASSERT_GT(s.max_value, 0) << c.model;
    EXPECT_TRUE(Ok(Fit(m, p, Req(c.runtime, s.max_value), Hw(c.gpu, c.count))).fits) << c.model;
    EXPECT_FALSE(Ok(Fit(m, p, Req(c.runtime, s.max_value + 1), Hw(c.gpu, c.count))).fits) << c.model;
  }
  // llama.cpp pads the cache to 256 cells, so its boundary is a multiple of 256.
  const ModelDescription m = test::PresetModel("llama-3.1-8b");
  const LimitSolution s = Ok(MaxContext(m, test::Plan(m, "q4_k_m"), Req(Runtime::kLlamaCpp, 1), Hw("rtx-3060-12gb")));
  EXPECT_EQ(s.max_value % 256, 0);
}

TEST(SolverTest, MaxContextStopsAtTheModelsLimit) {
  const ModelDescription m = test::PresetModel("llama-2-7b");  // max_position_embeddings 4096
  const LimitSolution s = Ok(MaxContext(m, test::Plan(m, "q4_0"), Req(Runtime::kLlamaCpp, 1), Hw("h100-sxm")));
  EXPECT_EQ(s.max_value, 4096);
  EXPECT_TRUE(s.limited_by_cap);
}

TEST(SolverTest, MaxBatchIsTheBoundaryDerivedByHand) {
  // Theoretical runtime: every sequence of 4096 tokens costs its cache, its prefill chunk and its
  // logits: 131072 x 4096 + 512 x 57344 x 2 + 128256 x 4 bytes.
  const ModelDescription m = test::PresetModel("llama-3.1-8b");
  const WeightPlan p = test::Plan(m, "bf16");
  const uint64_t per_sequence = 131072ull * 4096 + 512ull * 57344 * 2 + 128256ull * 4;
  const uint64_t expected = (24 * kGiB - 8030261248ull * 2) / per_sequence;
  EXPECT_EQ(expected, 16u);
  const LimitSolution s = Ok(MaxBatch(m, p, Req(Runtime::kTheoretical, 4096), Hw("rtx-4090")));
  EXPECT_EQ(s.max_value, 16);
  EXPECT_FALSE(Ok(Fit(m, p, Req(Runtime::kTheoretical, 4096, 17), Hw("rtx-4090"))).fits);
  // Nothing fits at all: 0.
  const LimitSolution none = Ok(MaxBatch(m, p, Req(Runtime::kTheoretical, 4096), Hw("rtx-3060-12gb")));
  EXPECT_EQ(none.max_value, 0);
}

TEST(SolverTest, BestWeightFormatIsTheFirstOnTheLadderThatFits) {
  const ModelDescription m = test::PresetModel("llama-3.1-70b");
  const FormatSolution s = Ok(BestWeightFormat(m, Req(Runtime::kLlamaCpp, 8192), Hw("rtx-4090", 2)));
  ASSERT_FALSE(s.format.empty());
  EXPECT_TRUE(s.fit.fits);
  ASSERT_FALSE(s.trials.empty());
  EXPECT_EQ(s.trials.back().format, s.format);
  for (size_t i = 0; i + 1 < s.trials.size(); ++i) EXPECT_FALSE(s.trials[i].fits) << s.trials[i].format;
  // 2 x 24 GiB: Q5_K_S (48.7 GB of weights) does not fit next to the cache, Q4_K_M does.
  EXPECT_EQ(s.format, "q4_k_m");
  EXPECT_EQ(s.trials[s.trials.size() - 2].format, "q5_k_s");
  EXPECT_EQ(WeightFormatQualityLossPercent("q4_k_m"), 4.83);
  EXPECT_FALSE(WeightFormatQualityLossPercent("nf4").has_value());
}

// --- Offload --------------------------------------------------------------------------------

TEST(OffloadTest, LayerOffloadKeepsTheLastLayersThatFit) {
  // Llama-3.1-8B gguf-f16 (every layer alike) on a 12 GiB RTX 3060, 4096 tokens: the GPU holds
  // the CUDA context, a compute buffer without the logits (the output layer stays in RAM) and
  // g x (one layer's tensors + its cache); g is the largest that fits.
  const ModelDescription m = test::PresetModel("llama-3.1-8b");
  const WeightPlan p = test::Plan(m, "gguf-f16");
  uint64_t layer = 0;
  for (size_t i = 0; i < m.tensors.size(); ++i) {
    if (m.tensors[i].layer == 0) layer += (p.tensors[i].bytes + 127) / 128 * 128;
  }
  const uint64_t kv = 2ull * 8 * 128 * 2 * 4096;
  // The compute buffer of identical layers without the output head: the estimator's own for the
  // model with no vocabulary.
  ModelDescription headless = m;
  headless.vocab_size = 0;
  const uint64_t compute = Ok(EstimateNumbers(headless, p, Req(Runtime::kLlamaCpp, 4096))).activations_bytes;
  const uint64_t fixed = compute + world::kLlamaCppCudaContextBytes;
  const int64_t expected = static_cast<int64_t>((12 * kGiB - fixed) / (layer + kv));
  const OffloadPlan o = Ok(PlanLayerOffload(m, p, Req(Runtime::kLlamaCpp, 4096), Hw("rtx-3060-12gb")));
  EXPECT_EQ(o.total_layers, 33);
  EXPECT_EQ(o.gpu_layers, expected);
  EXPECT_EQ(o.gpu_bytes, fixed + static_cast<uint64_t>(expected) * (layer + kv));
  EXPECT_TRUE(o.possible);
  // The speed: GPU layers read at the GPU's rate, the rest (and the output head) from RAM.
  EXPECT_GT(o.host_read_bytes_per_token, 0u);
  const double seconds =
      static_cast<double>(o.gpu_read_bytes_per_token) / (360e9 * world::kDecodeBandwidthEfficiencyGpu) +
      static_cast<double>(o.host_read_bytes_per_token) /
          (static_cast<double>(world::kDefaultHostMemoryBandwidth) * world::kDecodeBandwidthEfficiencyCpu) +
      32 * world::kDecodeLayerSecondsGpu;
  EXPECT_NEAR(o.decode_tokens_per_s, 1.0 / seconds, 1e-9);

  // Everything fits on a bigger card: -ngl 33 and the whole estimate.
  const OffloadPlan all = Ok(PlanLayerOffload(m, p, Req(Runtime::kLlamaCpp, 4096), Hw("rtx-4090")));
  EXPECT_EQ(all.gpu_layers, 33);
  EXPECT_EQ(all.gpu_bytes, Ok(EstimateNumbers(m, p, Req(Runtime::kLlamaCpp, 4096))).total_bytes);
}

TEST(OffloadTest, ExpertOffloadMovesTheFirstLayersExpertsToRam) {
  // Qwen3-30B-A3B Q4_K_M on a 12 GiB card: --n-cpu-moe N is the smallest N for which the rest
  // fits; each token then reads its 8 of 128 experts of those N layers from RAM.
  const ModelDescription m = test::PresetModel("qwen3-30b-a3b");
  const WeightPlan p = test::Plan(m, "q4_k_m");
  const InferenceRequest r = Req(Runtime::kLlamaCpp, 8192);
  const OffloadPlan o = Ok(PlanExpertOffload(m, p, r, Hw("rtx-3060-12gb")));
  ASSERT_TRUE(o.possible);
  const uint64_t whole = Ok(EstimateNumbers(m, p, r)).total_bytes;
  auto moved = [&](int64_t n, bool device) {
    uint64_t bytes = 0;
    for (size_t i = 0; i < m.tensors.size(); ++i) {
      const TensorInfo& t = m.tensors[i];
      if (!t.is_routed_expert() || t.layer >= n) continue;
      uint64_t b = p.tensors[i].bytes;
      if (device) {
        const GgmlTypeInfo* info = FindGgmlTypeByName(p.tensors[i].type);
        if (info->block_elements > 1 && t.ne[0] % 512 != 0) b += static_cast<uint64_t>((512 - t.ne[0] % 512) / info->block_elements * info->block_bytes);
        b = (b + 127) / 128 * 128;
      } else {
        b = b / 128 * 8;  // 8 of 128 experts read per token
      }
      bytes += b;
    }
    return bytes;
  };
  const int64_t n = o.cpu_moe_layers;
  ASSERT_GT(n, 0);
  EXPECT_EQ(o.gpu_bytes, whole - moved(n, true));
  EXPECT_LE(o.gpu_bytes, 12 * kGiB);
  EXPECT_GT(whole - moved(n - 1, true), 12 * kGiB);  // one layer fewer does not fit
  EXPECT_EQ(o.host_read_bytes_per_token, moved(n, false));
  // Only experts move: attention, routers and the cache stay, so it is far faster than offloading
  // whole layers.
  const OffloadPlan layers = Ok(PlanLayerOffload(m, p, r, Hw("rtx-3060-12gb")));
  EXPECT_GT(o.decode_tokens_per_s, layers.decode_tokens_per_s);

  Result<OffloadPlan> dense = PlanExpertOffload(test::PresetModel("llama-3.1-8b"),
                                                test::Plan(test::PresetModel("llama-3.1-8b"), "q4_k_m"), r, Hw("rtx-3060-12gb"));
  ASSERT_FALSE(dense.ok());
  EXPECT_NE(dense.status().message().find("mixture-of-experts"), std::string::npos);
}

// --- Throughput -----------------------------------------------------------------------------

TEST(ThroughputTest, DecodeIsBytesOverBandwidthPlusAFixedCostPerLayer) {
  const ModelDescription m = test::PresetModel("llama-3.1-8b");
  const WeightPlan p = test::Plan(m, "q4_k_m");
  const InferenceRequest r = Req(Runtime::kLlamaCpp, 4096);
  const ThroughputEstimate t = Ok(EstimateThroughput(m, p, r, Hw("rtx-4090")));
  // token_embd stays on the CPU; the GPU reads every other tensor once per token, plus the cache
  // of 4096 tokens (131072 bytes each).
  EXPECT_EQ(t.weight_bytes_read_per_token, p.cuda_device_bytes);
  EXPECT_EQ(t.kv_bytes_read_per_token, 131072ull * 4096);
  const double seconds = static_cast<double>(p.cuda_device_bytes + 131072ull * 4096) /
                             (1008e9 * world::kDecodeBandwidthEfficiencyGpu) +
                         32 * world::kDecodeLayerSecondsGpu;
  EXPECT_NEAR(t.decode_tokens_per_s, 1.0 / seconds, 1e-9);
  // An empty cache reads the 256 cells llama.cpp pads to.
  const double start = static_cast<double>(p.cuda_device_bytes + 131072ull * 256) /
                           (1008e9 * world::kDecodeBandwidthEfficiencyGpu) +
                       32 * world::kDecodeLayerSecondsGpu;
  EXPECT_NEAR(t.decode_tokens_per_s_at_start, 1.0 / start, 1e-9);
  EXPECT_GT(t.prefill_tokens_per_s, 10 * t.decode_tokens_per_s);
}

TEST(ThroughputTest, BatchedDecodeGrowsUntilItTurnsComputeBound) {
  const ModelDescription m = test::PresetModel("llama-3.1-8b");
  const WeightPlan p = test::Plan(m, "bf16");
  const ThroughputEstimate t = Ok(EstimateThroughput(m, p, Req(Runtime::kVllm, 256, 64), Hw("h100-sxm")));
  EXPECT_GT(t.batch_decode_tokens_per_s, 20 * t.decode_tokens_per_s);
  ASSERT_GT(t.compute_bound_batch, 1);
  // Below the knee the step is memory-bound: 64 sequences cost about one sequence's weight read.
  const ThroughputEstimate at = Ok(EstimateThroughput(m, p, Req(Runtime::kVllm, 256, t.compute_bound_batch), Hw("h100-sxm")));
  const ThroughputEstimate past = Ok(EstimateThroughput(m, p, Req(Runtime::kVllm, 256, 4 * t.compute_bound_batch), Hw("h100-sxm")));
  // Past the knee, 4x the batch no longer buys 4x the tokens.
  EXPECT_LT(past.batch_decode_tokens_per_s, 4 * at.batch_decode_tokens_per_s * 0.9);
  // A long context stays memory-bound at any batch: every sequence reads its own cache.
  const ThroughputEstimate long_ctx = Ok(EstimateThroughput(m, p, Req(Runtime::kVllm, 65536), Hw("h100-sxm")));
  EXPECT_EQ(long_ctx.compute_bound_batch, 0);
}

TEST(ThroughputTest, TensorParallelPaysAllReducesThatNvlinkMakesCheap) {
  // Llama-3.1-8B bf16 over 2 devices: 2 all-reduces per layer of hidden x 2 bytes; ring cost
  // latency + 2 (t - 1) / t x bytes / per-direction bandwidth.
  const ModelDescription m = test::PresetModel("llama-3.1-8b");
  const WeightPlan p = test::Plan(m, "bf16");
  const InferenceRequest r = Req(Runtime::kVllm, 2048);
  const ThroughputEstimate pcie = Ok(EstimateThroughput(m, p, r, Hw("rtx-4090", 2)));
  const ThroughputEstimate nvlink = Ok(EstimateThroughput(m, p, r, Hw("h100-sxm", 2)));
  const double bytes = 4096 * 2;
  EXPECT_NEAR(pcie.communication_seconds_per_token,
              2 * 32 * (world::kAllReduceLatencySecondsPcie + bytes / 32e9), 1e-12);
  EXPECT_NEAR(nvlink.communication_seconds_per_token,
              2 * 32 * (world::kAllReduceLatencySecondsNvlink + bytes / 450e9), 1e-12);
  // Each rank reads half of the matrices.
  const ThroughputEstimate one = Ok(EstimateThroughput(m, p, r, Hw("rtx-4090")));
  EXPECT_LT(pcie.weight_bytes_read_per_token, one.weight_bytes_read_per_token * 0.51);
  EXPECT_GT(pcie.decode_tokens_per_s, one.decode_tokens_per_s);
  // A layer split takes turns: no faster than one device.
  const ThroughputEstimate layer = Ok(EstimateThroughput(m, p, r, Hw("rtx-4090", 2, SplitMode::kLayer)));
  EXPECT_NEAR(layer.decode_tokens_per_s, one.decode_tokens_per_s, one.decode_tokens_per_s * 0.01);
}

TEST(ThroughputTest, MoeReadsOnlyTheRoutedExperts) {
  const ModelDescription m = test::PresetModel("qwen3-30b-a3b");
  const WeightPlan p = test::Plan(m, "q4_k_m");
  const ThroughputEstimate t = Ok(EstimateThroughput(m, p, Req(Runtime::kLlamaCpp, 1), Hw("rtx-4090")));
  EXPECT_LT(t.weight_bytes_read_per_token, p.cuda_device_bytes / 4);
  EXPECT_NEAR(static_cast<double>(t.weight_bytes_read_per_token),
              static_cast<double>(p.bytes_read_per_token - p.token_embedding_bytes / static_cast<uint64_t>(m.vocab_size)),
              static_cast<double>(p.bytes_read_per_token) * 0.01);
}

// --- Recommendation -------------------------------------------------------------------------

TEST(RecommendTest, CheapestFirstEachTheSmallestCountThatFits) {
  const ModelDescription m = test::PresetModel("llama-3.1-70b");
  const WeightPlan p = test::Plan(m, "q4_k_m");
  const InferenceRequest r = Req(Runtime::kLlamaCpp, 8192);
  RecommendOptions o;
  o.limit = 1000;
  const RecommendResult rec = Ok(Recommend(m, p, r, Devices(), o));
  ASSERT_FALSE(rec.single_device.empty());
  ASSERT_FALSE(rec.multi_device.empty());
  for (size_t i = 1; i < rec.single_device.size(); ++i) {
    EXPECT_LE(rec.single_device[i - 1].price_usd, rec.single_device[i].price_usd);
  }
  for (size_t i = 1; i < rec.best_value.size(); ++i) {
    EXPECT_GE(rec.best_value[i - 1].tokens_per_s_per_1000_usd, rec.best_value[i].tokens_per_s_per_1000_usd);
  }
  for (const std::vector<Recommendation>* list : {&rec.single_device, &rec.multi_device}) {
    for (const Recommendation& x : *list) {
      HardwareConfig hw = Hw(x.device_id, x.count);
      hw.min_headroom_fraction = 0.1;
      EXPECT_TRUE(Ok(Fit(m, p, r, hw)).fits) << x.device_id;
      if (x.count > 1) {
        hw.count = x.count - 1;
        EXPECT_FALSE(Ok(Fit(m, p, r, hw)).fits) << x.device_id << " x " << x.count;
      }
      EXPECT_NE(Dev(x.device_id).category, "cpu");
      EXPECT_DOUBLE_EQ(x.price_usd, *Dev(x.device_id).price_usd() * x.count);
      EXPECT_FALSE(x.reason.empty());
    }
  }
  // 42 GB of weights: no 24 GiB card alone; two RTX 3090s are among the cheapest pairs.
  for (const Recommendation& x : rec.single_device) EXPECT_GE(Dev(x.device_id).usable_memory_bytes(), 40 * kGiB);
  bool pair_3090 = false;
  for (const Recommendation& x : rec.multi_device) pair_3090 = pair_3090 || (x.device_id == "rtx-3090" && x.count == 2);
  EXPECT_TRUE(pair_3090);

  RecommendOptions bad = o;
  bad.max_devices = 0;
  Result<RecommendResult> e = Recommend(m, p, r, Devices(), bad);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().message(), "max-gpus: must be an integer in [1, 64], got 0");
}

// --- Advice ---------------------------------------------------------------------------------

TEST(AdviseTest, FlashAttentionComesFirstWhenItAloneMakesItFit) {
  // Llama-3.1-8B F16, llama.cpp without flash attention, 65536 tokens on an RTX 4090: the fp32
  // score matrix (32 heads x 65536 cells x 512 tokens x 4 bytes = 4.3 GB) breaks the budget that
  // 15.0 GB of weights and 8.6 GB of cache leave.
  const ModelDescription m = test::PresetModel("llama-3.1-8b");
  const WeightPlan p = test::Plan(m, "gguf-f16");
  InferenceRequest r = Req(Runtime::kLlamaCpp, 65536);
  r.flash_attention = false;
  const AdviceResult a = Ok(Advise(m, p, r, Hw("rtx-4090")));
  EXPECT_FALSE(a.current.fits);
  ASSERT_FALSE(a.advice.empty());
  EXPECT_EQ(a.advice[0].kind, AdviceKind::kFlashAttention);
  EXPECT_TRUE(a.advice[0].fits);
  EXPECT_EQ(a.advice[0].loss, 0.0);
  InferenceRequest fa = r;
  fa.flash_attention = true;
  const FitResult with = Ok(Fit(m, p, fa, Hw("rtx-4090")));
  EXPECT_EQ(a.advice[0].saves_bytes, a.current.per_device[0].total_bytes - with.per_device[0].total_bytes);
  // Fitting changes first, each group by least loss.
  bool seen_not_fitting = false;
  for (size_t i = 0; i < a.advice.size(); ++i) {
    seen_not_fitting = seen_not_fitting || !a.advice[i].fits;
    if (seen_not_fitting) {
      EXPECT_FALSE(a.advice[i].fits);
    }
    if (i > 0 && a.advice[i].fits == a.advice[i - 1].fits) {
      EXPECT_GE(a.advice[i].loss, a.advice[i - 1].loss);
    }
    EXPECT_GT(a.advice[i].saves_bytes, 0u) << AdviceKindName(a.advice[i].kind);
  }
}

TEST(AdviseTest, ListsEveryInferenceCandidateWithItsCost) {
  const ModelDescription m = test::PresetModel("llama-3.1-8b");
  const WeightPlan p = test::Plan(m, "gguf-f16");
  // F16 (16.1 GB) plus 3 x 32768 tokens of cache (12.9 GB) on a 24 GiB card.
  const InferenceRequest r = Req(Runtime::kLlamaCpp, 32768, 3);
  const AdviceResult a = Ok(Advise(m, p, r, Hw("rtx-4090")));
  ASSERT_FALSE(a.current.fits);
  auto find = [&](AdviceKind k) -> const Advice* {
    for (const Advice& x : a.advice) {
      if (x.kind == k) return &x;
    }
    return nullptr;
  };
  for (AdviceKind k : {AdviceKind::kKvCacheDtype, AdviceKind::kWeightFormat, AdviceKind::kShorterContext,
                       AdviceKind::kSmallerBatch, AdviceKind::kOffloadLayers}) {
    EXPECT_NE(find(k), nullptr) << AdviceKindName(k);
  }
  const Advice* ctx = find(AdviceKind::kShorterContext);
  ASSERT_NE(ctx, nullptr);
  const LimitSolution s = Ok(MaxContext(m, p, r, Hw("rtx-4090"), false));
  EXPECT_EQ(ctx->change, "--context " + std::to_string(s.max_value));
  EXPECT_DOUBLE_EQ(ctx->capability_loss, 1.0 - static_cast<double>(s.max_value) / 32768.0);
  const Advice* weights = find(AdviceKind::kWeightFormat);
  ASSERT_NE(weights, nullptr);
  EXPECT_TRUE(weights->fits);
  EXPECT_GT(weights->speed_change, 0);  // smaller weights decode faster
  const Advice* offload = find(AdviceKind::kOffloadLayers);
  ASSERT_NE(offload, nullptr);
  EXPECT_LT(offload->speed_change, 0);
}

TEST(AdviseTest, MoreDevicesAndExtraGeneratorsForTrainingModes) {
  const ModelDescription m = test::PresetModel("llama-3.1-70b");
  const WeightPlan p = test::Plan(m, "bf16");
  const InferenceRequest r = Req(Runtime::kVllm, 8192);
  AdviceGenerator training = [](const AdviceContext& c, std::vector<Advice>* out) {
    Advice a;
    a.kind = AdviceKind::kQlora;
    a.change = "--mode qlora";
    a.saves_bytes = 1;
    out->push_back(a);
  };
  const AdviceResult a = Ok(Advise(m, p, r, Hw("h100-sxm"), {training}));
  const Advice* more = nullptr;
  bool qlora = false;
  for (const Advice& x : a.advice) {
    if (x.kind == AdviceKind::kMoreDevices) more = &x;
    qlora = qlora || x.kind == AdviceKind::kQlora;
  }
  EXPECT_TRUE(qlora);
  ASSERT_NE(more, nullptr);
  const DeviceCountSolution n = Ok(SmallestDeviceCount(m, p, r, Hw("h100-sxm")));
  EXPECT_EQ(more->change, "--gpus " + std::to_string(n.devices));
  EXPECT_DOUBLE_EQ(more->extra_cost_usd, 30000.0 * (n.devices - 1));
  // A fitting configuration needs no advice.
  EXPECT_TRUE(Ok(Advise(m, p, r, Hw("h100-sxm", 4))).advice.empty());
}

// --- Cost and power -------------------------------------------------------------------------

TEST(CostTest, PricePowerPsuAndBreakEven) {
  CostOptions o;
  o.cloud_usd_per_hour = 0.5;
  o.utilization = 0.5;
  const CostEstimate c = Ok(EstimateCost(Dev("rtx-4090"), 1, o));
  EXPECT_DOUBLE_EQ(*c.price_usd, 2000.0);
  EXPECT_DOUBLE_EQ(*c.price_per_gb_usd, 2000.0 / (25769803776.0 / 1e9));
  EXPECT_DOUBLE_EQ(*c.system_power_watts, 450.0 + world::kSystemBaseWatts);
  // (450 + 200) / 0.8 = 812.5 -> 850 W, the PSU NVIDIA asks for ("Required System Power").
  EXPECT_EQ(c.psu_watts, 850);
  const double power = 0.65 * world::kElectricityUsdPerKwh;
  EXPECT_DOUBLE_EQ(*c.power_usd_per_hour, power);
  EXPECT_DOUBLE_EQ(*c.breakeven_hours, 2000.0 / (0.5 - power));
  EXPECT_DOUBLE_EQ(*c.breakeven_months, 2000.0 / (0.5 - power) / (730.0 * 0.5));

  const CostEstimate two = Ok(EstimateCost(Dev("rtx-4090"), 2, {}));
  EXPECT_EQ(two.psu_watts, 1400);  // (900 + 200) / 0.8 = 1375
  EXPECT_FALSE(two.breakeven_hours.has_value());  // no cloud price given

  CostOptions cheap_cloud;
  cheap_cloud.cloud_usd_per_hour = 0.05;  // less than the electricity
  const CostEstimate never = Ok(EstimateCost(Dev("rtx-4090"), 1, cheap_cloud));
  EXPECT_FALSE(never.breakeven_hours.has_value());

  const CostEstimate apple = Ok(EstimateCost(Dev("apple-m2-max-38c-64gb"), 1, {}));
  EXPECT_FALSE(apple.psu_watts.has_value());
  EXPECT_TRUE(apple.price_usd.has_value());

  CostOptions bad;
  bad.utilization = 0;
  Result<CostEstimate> e = EstimateCost(Dev("rtx-4090"), 1, bad);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().message(), "utilization: must be a fraction in (0, 1]");
}

// --- JSON round trip for bindings -----------------------------------------------------------

TEST(PlannerJsonTest, RequestObjectRoundTripMatchesTheCore) {
  const ModelPreset* preset = FindPreset(test::Presets(), "llama-3.1-8b");
  ASSERT_NE(preset, nullptr);
  const std::string hardware = test::ReadText(std::string(VRAM_PRESETS_DIR) + "/hardware.json");
  const std::string request = std::string("{\"model\": \"llama-3.1-8b\", \"weights\": \"q4_k_m\", ") +
                              "\"runtime\": \"llamacpp\", \"context\": 8192, \"action\": \"max-context\", " +
                              "\"gpu\": \"rtx-3060-12gb\", \"config\": " + preset->config_json + "}";
  const std::string out = PlannerJson(request, hardware);
  const ModelDescription m = test::PresetModel("llama-3.1-8b");
  const WeightPlan p = test::Plan(m, "q4_k_m");
  PlannerRequest planner;
  planner.action = "max-context";
  planner.gpu = "rtx-3060-12gb";
  EXPECT_EQ(out, Ok(PlannerActionJson(m, p, Req(Runtime::kLlamaCpp, 8192), Devices(), planner)));

  const std::string summary = PlannerJson(
      "{\"weights\": \"q4_k_m\", \"runtime\": \"llamacpp\", \"gpu\": \"rtx-4090\", \"config\": " +
          preset->config_json + "}",
      hardware);
  EXPECT_NE(summary.find("\"decode_tokens_per_s\""), std::string::npos);
  EXPECT_NE(summary.find("\"kv_cache\""), std::string::npos);  // the calculation's own keys stay

  const std::string bad = PlannerJson("{\"gpu\": \"nope\", \"config\": " + preset->config_json + "}", hardware);
  EXPECT_NE(bad.find("gpu: unknown device 'nope'"), std::string::npos) << bad;
  const std::string gpus = PlannerJson("{\"gpu\": \"rtx-4090\", \"gpus\": 0, \"config\": {}}", hardware);
  EXPECT_NE(gpus.find("field 'gpus' must be an integer in [1, 64], got 0"), std::string::npos) << gpus;
}

}  // namespace
}  // namespace vram
