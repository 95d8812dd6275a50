// Training memory, with expected values derived by hand in each test.

#include <gtest/gtest.h>

#include "test_util.h"

namespace vram {
namespace {

TrainingEstimate Train(const std::string& id, const TrainingRequest& r) {
  Result<TrainingEstimate> e = EstimateTraining(test::PresetModel(id), r);
  EXPECT_TRUE(e.ok()) << e.status().message();
  return e.ok() ? std::move(e).value() : TrainingEstimate{};
}

uint64_t ItemBytes(const TrainingEstimate& e, const std::string& key) {
  for (const BreakdownItem& item : e.items) {
    if (item.key == key) return item.bytes;
  }
  return 0;
}

constexpr uint64_t kLlama2Params = 6738415616;

TEST(TrainingTest, LoraTrainableParametersOnLlama2) {
  // 32 layers x 2 modules (q_proj, v_proj) x rank 8 x (4096 in + 4096 out).
  TrainingRequest r;
  r.mode = TrainingMode::kLora;
  r.lora_rank = 8;
  r.lora_targets = ParseLoraTargets("q_proj,v_proj").value();
  EXPECT_EQ(CountTrainableParameters(test::PresetModel("llama-2-7b"), r), 32 * 2 * 8 * (4096 + 4096));
  EXPECT_EQ(CountTrainableParameters(test::PresetModel("llama-2-7b"), r), 4194304);
  // DoRA adds one magnitude per output feature of each adapted module.
  r.dora = true;
  EXPECT_EQ(CountTrainableParameters(test::PresetModel("llama-2-7b"), r), 4194304 + 32 * 2 * 4096);
  // all-linear on Llama-2-7B: q,k,v,o (4096x4096) and gate,up (4096->11008), down (11008->4096).
  r.dora = false;
  r.lora_targets = ParseLoraTargets("all-linear").value();
  EXPECT_EQ(CountTrainableParameters(test::PresetModel("llama-2-7b"), r),
            32 * 8 * (4 * (4096 + 4096) + 3 * (4096 + 11008)));
}

TEST(TrainingTest, MixedPrecisionAdamWHolds16Or18BytesPerParameter) {
  // ZeRO paper / Transformer Math 101: 2 (bf16 weights) + 4 (fp32 master) + 2 or 4 (gradients)
  // + 8 (two fp32 moments).
  TrainingRequest r;
  const TrainingEstimate bf16_grads = Train("llama-2-7b", r);
  EXPECT_EQ(bf16_grads.weights_bytes + bf16_grads.gradients_bytes + bf16_grads.optimizer_bytes, 16 * kLlama2Params);
  r.fp32_gradients = true;
  const TrainingEstimate fp32_grads = Train("llama-2-7b", r);
  EXPECT_EQ(fp32_grads.weights_bytes + fp32_grads.gradients_bytes + fp32_grads.optimizer_bytes, 18 * kLlama2Params);
  r.fp32_gradients = false;
  r.precision = PrecisionRegime::kFp32;  // 4 + 4 + 8
  const TrainingEstimate fp32 = Train("llama-2-7b", r);
  EXPECT_EQ(fp32.weights_bytes + fp32.gradients_bytes + fp32.optimizer_bytes, 16 * kLlama2Params);
  r.precision = PrecisionRegime::kBf16;  // 2 + 2 + 2 x 2, no master
  const TrainingEstimate pure = Train("llama-2-7b", r);
  EXPECT_EQ(pure.weights_bytes + pure.gradients_bytes + pure.optimizer_bytes, 8 * kLlama2Params);
}

TEST(TrainingTest, ZeroThreeDividesModelStatesByTheGpuCount) {
  TrainingRequest r;
  r.zero_stage = 3;
  r.dp = 8;
  const TrainingEstimate e = Train("llama-2-7b", r);
  EXPECT_EQ(ItemBytes(e, "weights"), 2 * kLlama2Params / 8);
  EXPECT_EQ(ItemBytes(e, "master_weights"), 4 * kLlama2Params / 8);
  EXPECT_EQ(e.gradients_bytes, 2 * kLlama2Params / 8);
  EXPECT_EQ(e.optimizer_bytes, 8 * kLlama2Params / 8);
  // Plus the all-gathered 16-bit weights of one layer and the next (prefetch).
  const uint64_t layer = 4 * 4096ull * 4096 + 3 * 4096ull * 11008 + 2 * 4096;
  EXPECT_EQ(ItemBytes(e, "gathered_parameters"), 2 * layer * 2);
  // Stage 1 shards only the optimizer states and master weights; stage 2 the gradients too.
  r.zero_stage = 1;
  const TrainingEstimate z1 = Train("llama-2-7b", r);
  EXPECT_EQ(z1.gradients_bytes, 2 * kLlama2Params);
  EXPECT_EQ(z1.optimizer_bytes, kLlama2Params);
  r.zero_stage = 2;
  EXPECT_EQ(Train("llama-2-7b", r).gradients_bytes, 2 * kLlama2Params / 8);
  // FSDP full_shard is ZeRO-3; hybrid_shard shards within a group of 4.
  r.zero_stage = 0;
  r.fsdp = FsdpStrategy::kHybridShard;
  r.fsdp_shard_group = 4;
  EXPECT_EQ(Train("llama-2-7b", r).optimizer_bytes, 8 * kLlama2Params / 4);
}

TEST(TrainingTest, KorthikantiGptLayerIsASpecialCase) {
  // GPT-2 small: LayerNorm, plain 4h GELU MLP, 12 heads, h = 768. With dropout, eager attention
  // and 16-bit activations one layer keeps s*b*h*(34 + 5*a*s/h) bytes (Korthikanti et al. 2022,
  // section 4.1).
  TrainingRequest r;
  r.precision = PrecisionRegime::kMixedFp16;
  r.attention = AttentionImpl::kEager;
  r.dropout = 0.1;
  r.micro_batch = 4;
  r.seq_len = 1024;
  const uint64_t s = 1024, b = 4, h = 768, a = 12;
  EXPECT_EQ(Train("gpt2", r).activation_bytes_per_layer, s * b * h * 34 + 5 * a * s * s * b);
  // Tensor parallel t = 2 without sequence parallelism: s*b*h*(10 + 24/t + 5*a*s/(h*t)).
  r.tp = 2;
  EXPECT_EQ(Train("gpt2", r).activation_bytes_per_layer, s * b * h * (10 + 24 / 2) + 5 * a * s * s * b / 2);
  // With sequence parallelism everything divides by t: s*b*h*(34/t + 5*a*s/(h*t)).
  r.sequence_parallel = true;
  EXPECT_EQ(Train("gpt2", r).activation_bytes_per_layer, s * b * h * 34 / 2 + 5 * a * s * s * b / 2);
}

TEST(TrainingTest, FlashAttentionDropsTheSequenceSquaredTerm) {
  TrainingRequest r;
  r.seq_len = 4096;
  r.attention = AttentionImpl::kEager;
  const TrainingEstimate eager = Train("llama-2-7b", r);
  r.attention = AttentionImpl::kFlashAttention2;
  const TrainingEstimate flash = Train("llama-2-7b", r);
  // Eager keeps the 16-bit softmax output (32 heads x 4096^2) and the KV heads expanded (already
  // 32 for Llama-2); flash keeps an fp32 log-sum-exp per head and row instead.
  const uint64_t per_layer = 2ull * 32 * 4096 * 4096 - 4ull * 32 * 4096;
  EXPECT_EQ(eager.activations_bytes - flash.activations_bytes, 32 * per_layer);
}

TEST(TrainingTest, CheckpointingKeepsLayerInputsPlusOneLayer) {
  TrainingRequest r;
  r.seq_len = 2048;
  const TrainingEstimate none = Train("llama-2-7b", r);
  r.checkpointing = Checkpointing::kFull;
  const TrainingEstimate full = Train("llama-2-7b", r);
  const uint64_t inputs = 32ull * 2 * 2048 * 4096;
  EXPECT_EQ(ItemBytes(full, "saved_activations"), inputs);
  EXPECT_EQ(ItemBytes(full, "recompute"), none.activation_bytes_per_layer);
  EXPECT_EQ(ItemBytes(none, "saved_activations"), 32 * none.activation_bytes_per_layer);
  // Logits and loss: 2048 positions x 32000 vocabulary x (bf16 + fp32 + fp32 log-softmax), plus
  // the final norm's input.
  EXPECT_EQ(ItemBytes(full, "logits_loss"), 2048ull * 32000 * (2 + 4 + 4) + 2ull * 2048 * 4096);
}

TEST(TrainingTest, QloraBaseIsNf4WithDoubleQuantization) {
  TrainingRequest r;
  r.mode = TrainingMode::kQlora;
  r.lora_rank = 64;
  r.lora_targets = ParseLoraTargets("all-linear").value();
  const ModelDescription m = test::PresetModel("llama-2-7b");
  const TrainingEstimate e = Train("llama-2-7b", r);
  const uint64_t base = test::Plan(m, "nf4-dq").total_bytes;
  const uint64_t trainable = static_cast<uint64_t>(CountTrainableParameters(m, r));
  EXPECT_EQ(e.weights_bytes, base + 4 * trainable);  // adapters in fp32
  EXPECT_EQ(e.gradients_bytes, 4 * trainable);
  // AdamW on A (64 x d_in) and B (d_out x 64) of every module: two fp32 moments.
  EXPECT_EQ(e.optimizer_bytes, 8 * trainable);
  // One 16-bit dequantized copy of the largest linear weight (11008 x 4096).
  EXPECT_EQ(ItemBytes(e, "dequant"), 11008ull * 4096 * 2);
}

TEST(TrainingTest, OptimizerStatesByHand) {
  const uint64_t p = kLlama2Params;
  TrainingRequest r;
  r.optimizer = Optimizer::kSgd;
  EXPECT_EQ(Train("llama-2-7b", r).optimizer_bytes, 0u);
  r.optimizer = Optimizer::kLion;
  EXPECT_EQ(Train("llama-2-7b", r).optimizer_bytes, 4 * p);
  r.optimizer = Optimizer::kSgdMomentum;
  EXPECT_EQ(Train("llama-2-7b", r).optimizer_bytes, 4 * p);
  // 8-bit AdamW: matrices get 2 bytes plus 2 fp32 absmax per 256 values; the 4096-value norms
  // (not under min_8bit_size 4096) too.
  r.optimizer = Optimizer::kAdamW8bit;
  const ModelDescription m = test::PresetModel("llama-2-7b");
  uint64_t expected = 0;
  for (const TensorInfo& t : m.tensors) {
    const uint64_t n = static_cast<uint64_t>(t.elements());
    expected += n < 4096 ? 8 * n : 2 * n + 2 * ((n + 255) / 256) * 4;
  }
  EXPECT_EQ(Train("llama-2-7b", r).optimizer_bytes, expected);
  // Adafactor: rows + cols per matrix, in fp32.
  r.optimizer = Optimizer::kAdafactor;
  uint64_t factored = 0;
  for (const TensorInfo& t : m.tensors) factored += t.n_dims >= 2 ? 4 * (t.ne[0] + t.ne[1]) : 4 * t.ne[0];
  EXPECT_EQ(Train("llama-2-7b", r).optimizer_bytes, factored);
  // Paged AdamW: the same states, but pageable to the host.
  r.optimizer = Optimizer::kPagedAdamW;
  const TrainingEstimate paged = Train("llama-2-7b", r);
  EXPECT_EQ(paged.optimizer_bytes, 8 * p);
  EXPECT_EQ(paged.pageable_bytes, 8 * p);
}

TEST(TrainingTest, OffloadMovesStatesToTheHost) {
  TrainingRequest r;
  r.zero_stage = 2;
  r.dp = 4;
  r.offload = Offload::kOptimizer;
  const TrainingEstimate e = Train("llama-2-7b", r);
  EXPECT_EQ(e.optimizer_bytes, 0u);
  EXPECT_EQ(e.gradients_bytes, 0u);
  EXPECT_EQ(ItemBytes(e, "master_weights"), 0u);
  // Host per rank: fp32 master + two moments (12 B) and fp32 gradients (4 B), sharded over 4.
  EXPECT_EQ(e.host_bytes, 4 * kLlama2Params / 4 + 8 * kLlama2Params / 4 + 4 * kLlama2Params / 4);
}

TEST(TrainingTest, PipelineFirstStageHoldsMicroBatchesInFlight) {
  // 1F1B: stage 0 keeps p micro-batches of its L/p layers, i.e. all L layers' worth.
  TrainingRequest r;
  r.pp = 4;
  r.pp_microbatches = 16;
  r.checkpointing = Checkpointing::kNone;
  const TrainingEstimate single = Train("llama-2-7b", TrainingRequest{});
  const TrainingEstimate pipelined = Train("llama-2-7b", r);
  EXPECT_EQ(ItemBytes(pipelined, "saved_activations"), ItemBytes(single, "saved_activations"));
}

TEST(TrainingTest, NonsenseCombinationsSayWhy) {
  struct Case {
    TrainingRequest r;
    const char* part;
  };
  std::vector<Case> cases;
  TrainingRequest r;
  r.mode = TrainingMode::kQlora;
  r.zero_stage = 3;
  r.dp = 2;
  cases.push_back({r, "qlora: ZeRO-3/FSDP parameter sharding"});
  r = {};
  r.tp = 3;
  cases.push_back({r, "tp: 3 does not divide the 32 attention heads"});
  r = {};
  r.offload = Offload::kParams;
  cases.push_back({r, "offload: parameter offload needs parameter sharding"});
  r = {};
  r.zero_stage = 2;
  r.fsdp = FsdpStrategy::kFullShard;
  cases.push_back({r, "use either --zero or --fsdp"});
  r = {};
  r.pp = 64;
  cases.push_back({r, "pp: must be at most the 32 layers"});
  r = {};
  r.micro_batch = 0;
  cases.push_back({r, "micro-batch: must be an integer in [1, 4096], got 0"});
  for (const Case& c : cases) {
    Result<TrainingEstimate> e = EstimateTraining(test::PresetModel("llama-2-7b"), c.r);
    ASSERT_FALSE(e.ok()) << c.part;
    EXPECT_NE(e.status().message().find(c.part), std::string::npos) << e.status().message();
  }
  EXPECT_FALSE(ParseLoraTargets("q,zz").ok());
  EXPECT_FALSE(ParseOptimizer("adam9").ok());
}

TEST(TrainingTest, ItemsSumToTotalAcrossRegimes) {
  for (const char* id : {"llama-3.1-8b", "mixtral-8x7b", "gemma-2-9b", "deepseek-v3", "gpt-oss-20b", "phi-3-mini-4k"}) {
    for (TrainingMode mode : {TrainingMode::kFull, TrainingMode::kLora, TrainingMode::kQlora}) {
      TrainingRequest r;
      r.mode = mode;
      r.checkpointing = Checkpointing::kFull;
      const TrainingEstimate e = Train(id, r);
      uint64_t sum = 0;
      for (const BreakdownItem& item : e.items) sum += item.bytes;
      EXPECT_EQ(sum, e.total_bytes) << id << " " << TrainingModeName(mode);
      EXPECT_GT(e.trainable_parameters, 0) << id;
    }
  }
}

}  // namespace
}  // namespace vram
