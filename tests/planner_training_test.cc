// The hardware planner for training: fit per GPU of the layout (exact at capacity), the largest
// micro-batch and sequence length, and what would make it fit. Every saving is the difference of
// two EstimateTraining results computed here from a request changed by hand; every cost is the
// published figure of world.h.

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "test_util.h"
#include "vram/hardware.h"
#include "vram/planner.h"
#include "world.h"

namespace vram {
namespace {

using Json = nlohmann::json;

constexpr uint64_t kGiB = uint64_t{1} << 30;
constexpr uint64_t kLlama8bParams = 8030261248;  // tests/presets_test.cc

const std::vector<Device>& Devices() { return test::PresetDevices(); }

const Device& Dev(const std::string& id) { return test::PresetDevice(id); }

HardwareConfig Hw(const Device& d, int count = 1, double headroom = 0.0) {
  HardwareConfig hw;
  hw.device = &d;
  hw.count = count;
  hw.min_headroom_fraction = headroom;
  return hw;
}

using test::Ok;

uint64_t Total(const ModelDescription& m, const TrainingRequest& r) {
  return Ok(EstimateTraining(m, r)).total_bytes;
}

TrainingRequest Lora(const std::string& targets = "q,v") {
  TrainingRequest r;
  r.mode = TrainingMode::kLora;
  r.lora_targets = Ok(ParseLoraTargets(targets));
  return r;
}

const Advice* Find(const AdviceResult& a, AdviceKind kind, const std::string& change = "") {
  for (const Advice& x : a.advice) {
    if (x.kind == kind && (change.empty() || x.change == change)) return &x;
  }
  return nullptr;
}

std::vector<std::string> Kinds(const AdviceResult& a) {
  std::vector<std::string> out;
  for (const Advice& x : a.advice) out.push_back(AdviceKindName(x.kind));
  return out;
}

// --- Fit ----------------------------------------------------------------------------------------

TEST(TrainingFitTest, FullFineTuningOfAn8BModelDoesNotFitA24GiBCard) {
  // Mixed-precision AdamW keeps 16 bytes per parameter (ZeRO paper): 2 (bf16 weights) + 4 (fp32
  // master) in weights, 2 in gradients, 4 + 4 in the two moments. 128 GB before activations.
  const ModelDescription m = test::PresetModel("llama-3.1-8b");
  const TrainingRequest r;  // full, mixed_bf16, AdamW, micro-batch 1 x 2048
  const FitResult f = Ok(FitTraining(m, r, Hw(Dev("rtx-4090"))));
  ASSERT_EQ(f.per_device.size(), 1u);
  EXPECT_TRUE(f.training);
  EXPECT_EQ(f.layout, "dp 1 x tp 1 x pp 1");
  EXPECT_EQ(f.per_device[0].weights_bytes, kLlama8bParams * 6);
  EXPECT_EQ(f.per_device[0].gradients_bytes, kLlama8bParams * 2);
  EXPECT_EQ(f.per_device[0].optimizer_bytes, kLlama8bParams * 8);
  const TrainingEstimate e = Ok(EstimateTraining(m, r));
  EXPECT_EQ(f.per_device[0].activations_bytes, e.activations_bytes);
  EXPECT_EQ(f.per_device[0].total_bytes, e.total_bytes);
  EXPECT_EQ(f.capacity_bytes, 24 * kGiB);
  EXPECT_EQ(f.headroom_bytes,
            static_cast<int64_t>(24 * kGiB) - static_cast<int64_t>(e.total_bytes));
  EXPECT_FALSE(f.fits);
  EXPECT_EQ(f.single_device_bytes, e.total_bytes);
  EXPECT_EQ(f.split_overhead_bytes, 0u);
}

TEST(TrainingFitTest, FitIsExactAtCapacityWithAndWithoutHeadroom) {
  // QLoRA of Llama-3.1-8B on a card whose memory is exactly the estimate: fits; one byte less
  // does not. With 10% headroom the card must hold total + ceil(0.1 x memory).
  const ModelDescription m = test::PresetModel("llama-3.1-8b");
  TrainingRequest r = Lora();
  r.mode = TrainingMode::kQlora;
  const uint64_t total = Total(m, r);
  Device card = Dev("rtx-4090");
  card.memory_bytes = total;
  EXPECT_TRUE(Ok(FitTraining(m, r, Hw(card))).fits);
  EXPECT_EQ(Ok(FitTraining(m, r, Hw(card))).headroom_bytes, 0);
  card.memory_bytes = total - 1;
  const FitResult over = Ok(FitTraining(m, r, Hw(card)));
  EXPECT_FALSE(over.fits);
  EXPECT_EQ(over.headroom_bytes, -1);

  card.memory_bytes = 20 * kGiB;
  const uint64_t required = static_cast<uint64_t>(std::ceil(20.0 * kGiB * 0.1));
  ASSERT_GT(20 * kGiB, total + required);  // so the boundary below is inside the card
  // Shrink the card until total + required is exactly its memory: m = total + ceil(0.1 m).
  uint64_t memory = total + required;
  while (memory - static_cast<uint64_t>(std::ceil(static_cast<double>(memory) * 0.1)) > total)
    --memory;
  while (memory - static_cast<uint64_t>(std::ceil(static_cast<double>(memory) * 0.1)) < total)
    ++memory;
  card.memory_bytes = memory;
  const FitResult at = Ok(FitTraining(m, r, Hw(card, 1, 0.1)));
  EXPECT_EQ(at.headroom_bytes, static_cast<int64_t>(at.required_headroom_bytes));
  EXPECT_TRUE(at.fits);
  card.memory_bytes = memory - 1;
  EXPECT_FALSE(Ok(FitTraining(m, r, Hw(card, 1, 0.1))).fits);
}

TEST(TrainingFitTest, TheLayoutSetsTheGpuCount) {
  // ZeRO-3 over dp 4: each of the 4 GPUs holds a quarter of the model states.
  const ModelDescription m = test::PresetModel("llama-3.1-8b");
  TrainingRequest r;
  r.dp = 4;
  r.zero_stage = 3;
  const uint64_t per_gpu = Total(m, r);
  for (int count : {1, 4}) {  // 1 = "the layout's count"
    const FitResult f = Ok(FitTraining(m, r, Hw(Dev("h100-sxm"), count)));
    EXPECT_EQ(f.devices, 4);
    ASSERT_EQ(f.per_device.size(), 4u);
    for (const DeviceLoad& l : f.per_device) EXPECT_EQ(l.total_bytes, per_gpu);
    EXPECT_EQ(f.per_device[0].optimizer_bytes, kLlama8bParams * 8 / 4);
    EXPECT_EQ(f.layout, "dp 4 x tp 1 x pp 1");
    EXPECT_TRUE(f.fits);
    TrainingRequest one = r;
    one.dp = 1;
    EXPECT_EQ(f.single_device_bytes, Total(m, one));
    EXPECT_EQ(f.split_overhead_bytes, 4 * per_gpu - Total(m, one));
  }
  Result<FitResult> wrong = FitTraining(m, r, Hw(Dev("h100-sxm"), 2));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().message(),
            "gpus: the training layout dp 4 x tp 1 x pp 1 runs on 4 GPUs; give --gpus 4 or leave "
            "it out (--dp, --tp and --pp set the GPU count), got 2");
  r.dp = 65;
  Result<FitResult> big = FitTraining(m, r, Hw(Dev("h100-sxm")));
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().message(),
            "gpus: the training layout dp 65 x tp 1 x pp 1 runs on 65 GPUs; the planner sizes at "
            "most 64");
  r.dp = 2;
  Result<FitResult> apple = FitTraining(m, r, Hw(Dev("apple-m2-max-38c-64gb")));
  ASSERT_FALSE(apple.ok());
  EXPECT_NE(apple.status().message().find("gpus: 'apple-m2-max-38c-64gb' has no interconnect"),
            std::string::npos);
}

TEST(TrainingFitTest, MaxMicroBatchAndSeqLenAreTheBoundary) {
  const ModelDescription m = test::PresetModel("llama-3.1-8b");
  const HardwareConfig hw = Hw(Dev("rtx-4090"));
  TrainingRequest r = Lora();
  const LimitSolution seq = Ok(MaxSeqLen(m, r, hw));
  ASSERT_GT(seq.max_value, 1);
  EXPECT_LT(seq.max_value, 2048);  // LoRA q,v at 2048 tokens does not fit 24 GiB (below)
  EXPECT_FALSE(seq.limited_by_cap);
  r.seq_len = seq.max_value;
  EXPECT_TRUE(Ok(FitTraining(m, r, hw)).fits);
  EXPECT_EQ(seq.fit_at_max.per_device[0].total_bytes, Total(m, r));
  r.seq_len = seq.max_value + 1;
  EXPECT_FALSE(Ok(FitTraining(m, r, hw)).fits);

  r.seq_len = 256;
  const LimitSolution mb = Ok(MaxMicroBatch(m, r, hw));
  ASSERT_GT(mb.max_value, 1);
  r.micro_batch = mb.max_value;
  EXPECT_TRUE(Ok(FitTraining(m, r, hw)).fits);
  r.micro_batch = mb.max_value + 1;
  EXPECT_FALSE(Ok(FitTraining(m, r, hw)).fits);

  // Full fine-tuning does not fit at any micro-batch: 0.
  EXPECT_EQ(Ok(MaxMicroBatch(m, TrainingRequest{}, hw)).max_value, 0);
}

// --- Advice -----------------------------------------------------------------------------------

TEST(TrainingAdviseTest, FullFineTuningOn24GiBListsEveryCandidateWithExactSavings) {
  const ModelDescription m = test::PresetModel("llama-3.1-8b");
  const TrainingRequest r;
  const HardwareConfig hw = Hw(Dev("rtx-4090"));
  const AdviceResult a = Ok(AdviseTraining(m, r, hw));
  ASSERT_FALSE(a.current.fits);
  const uint64_t now = Total(m, r);
  const LoraTargets all_linear = Ok(ParseLoraTargets("q,k,v,o,gate,up,down"));

  TrainingRequest lora = r;
  lora.mode = TrainingMode::kLora;
  lora.base_weights = "bf16";
  lora.lora_rank = 16;
  lora.lora_targets = all_linear;
  TrainingRequest qlora = lora;
  qlora.mode = TrainingMode::kQlora;
  qlora.base_weights = "nf4-dq";
  TrainingRequest eight_bit = r;
  eight_bit.optimizer = Optimizer::kAdamW8bit;
  TrainingRequest checkpointing = r;
  checkpointing.checkpointing = Checkpointing::kFull;
  TrainingRequest fused = r;
  fused.fused_loss = true;
  TrainingRequest offload = r;
  offload.zero_stage = 2;
  offload.offload = Offload::kOptimizer;
  struct Expected {
    AdviceKind kind;
    const TrainingRequest* changed;
  };
  for (const Expected& x :
       {Expected{AdviceKind::kLora, &lora}, Expected{AdviceKind::kQlora, &qlora},
        Expected{AdviceKind::kOptimizer8bit, &eight_bit},
        Expected{AdviceKind::kGradientCheckpointing, &checkpointing},
        Expected{AdviceKind::kFusedLoss, &fused},
        Expected{AdviceKind::kOffloadOptimizer, &offload}}) {
    const Advice* found = Find(a, x.kind);
    ASSERT_NE(found, nullptr) << AdviceKindName(x.kind);
    const uint64_t after = Total(m, *x.changed);
    EXPECT_EQ(found->saves_bytes, now - after) << AdviceKindName(x.kind);
    EXPECT_EQ(found->headroom_bytes, static_cast<int64_t>(24 * kGiB) - static_cast<int64_t>(after))
        << AdviceKindName(x.kind);
    EXPECT_EQ(found->fits, after <= 24 * kGiB) << AdviceKindName(x.kind);
  }
  // 8-bit AdamW: two 1-byte moments plus an fp32 scale per 256 values instead of 8 bytes.
  EXPECT_GT(Find(a, AdviceKind::kOptimizer8bit)->saves_bytes, kLlama8bParams * 59 / 10);
  // Only QLoRA fits one card; LoRA with a 16-bit base (16 GB) and 2048-token activations does not.
  EXPECT_TRUE(Find(a, AdviceKind::kQlora)->fits);
  EXPECT_FALSE(Find(a, AdviceKind::kLora)->fits);

  // The one more GPU: ZeRO-3 over the fewest data-parallel RTX 4090s that fit.
  const Advice* more = Find(a, AdviceKind::kMoreDevices);
  ASSERT_NE(more, nullptr);
  TrainingRequest sharded = r;
  sharded.zero_stage = 3;
  sharded.dp = 12;
  EXPECT_FALSE(Ok(FitTraining(m, sharded, hw)).fits);
  sharded.dp = 13;
  EXPECT_TRUE(Ok(FitTraining(m, sharded, hw)).fits);
  EXPECT_EQ(more->change, "--dp 13 --zero 3 --gpus 13");
  EXPECT_EQ(more->saves_bytes, now - Total(m, sharded));
  EXPECT_DOUBLE_EQ(more->extra_cost_usd, 2000.0 * 12);
  EXPECT_DOUBLE_EQ(more->loss, 12.0);  // $24000 over the $2000 card
  EXPECT_EQ(more->loss_class, "hardware");

  // Costs: the published figures.
  const double lora_loss =
      (world::kSniRougeLFullFinetune - world::kSniRougeLLora) / world::kSniRougeLFullFinetune;
  EXPECT_NEAR(lora_loss, (49.30 - 49.26) / 49.30, 1e-12);
  EXPECT_DOUBLE_EQ(Find(a, AdviceKind::kLora)->loss, lora_loss);
  EXPECT_EQ(Find(a, AdviceKind::kLora)->loss_class, "quality");
  EXPECT_DOUBLE_EQ(Find(a, AdviceKind::kLora)->speed_change, 8210.0 / 6960.0 - 1.0);
  EXPECT_DOUBLE_EQ(Find(a, AdviceKind::kQlora)->loss,
                   lora_loss);  // faster than full, LoRA's quality
  EXPECT_DOUBLE_EQ(Find(a, AdviceKind::kOptimizer8bit)->loss, 0.0625);  // 3000 vs 3200 tokens/s
  EXPECT_DOUBLE_EQ(Find(a, AdviceKind::kGradientCheckpointing)->loss, 1.0 - 7210.0 / 9174.0);
  EXPECT_DOUBLE_EQ(Find(a, AdviceKind::kOffloadOptimizer)->loss, 1.0 - 1.27 / 3.13);
  EXPECT_DOUBLE_EQ(Find(a, AdviceKind::kFusedLoss)->loss, 0.0);
  EXPECT_EQ(Find(a, AdviceKind::kFusedLoss)->loss_class, "none");

  // Ranked by the inference rule: those that fit first, then least loss, then most saved.
  const std::vector<std::string> order = {
      "qlora",          "more_devices",           "fused_loss",       "lora",
      "optimizer_8bit", "gradient_checkpointing", "offload_optimizer"};
  EXPECT_EQ(Kinds(a), order);

  // The change as request fields.
  const Advice* l = Find(a, AdviceKind::kLora);
  ASSERT_EQ(l->apply.size(), 4u);
  EXPECT_EQ(l->apply[0].field, "mode");
  EXPECT_EQ(l->apply[0].string_value, "lora");
  EXPECT_EQ(l->apply[1].field, "weights");
  EXPECT_EQ(l->apply[1].string_value, "bf16");
  EXPECT_EQ(l->apply[2].field, "lora_rank");
  EXPECT_EQ(l->apply[2].integer_value, 16);
  EXPECT_EQ(l->apply[3].string_value, "q,k,v,o,gate,up,down");
}

TEST(TrainingAdviseTest, LoraThatFitsWithTooLittleHeadroomGetsAdvice) {
  // LoRA q,v on Llama-3.1-8B, micro-batch 2 x 512 tokens: fits a 24 GiB card, but not with 20%
  // of it kept free.
  const ModelDescription m = test::PresetModel("llama-3.1-8b");
  TrainingRequest r = Lora();
  r.micro_batch = 2;
  r.seq_len = 512;
  EXPECT_TRUE(Ok(FitTraining(m, r, Hw(Dev("rtx-4090")))).fits);
  EXPECT_TRUE(
      Ok(AdviseTraining(m, r, Hw(Dev("rtx-4090")))).advice.empty());  // fits: nothing to advise
  const HardwareConfig hw = Hw(Dev("rtx-4090"), 1, 0.2);
  const AdviceResult a = Ok(AdviseTraining(m, r, hw));
  ASSERT_FALSE(a.current.fits);
  EXPECT_GE(a.current.headroom_bytes, 0);
  ASSERT_FALSE(a.advice.empty());
  const uint64_t now = Total(m, r);
  const int64_t required = static_cast<int64_t>(std::ceil(24.0 * kGiB * 0.2));
  for (const Advice& x : a.advice) {
    EXPECT_GT(x.saves_bytes, 0u) << x.change;
    EXPECT_EQ(x.fits, x.headroom_bytes >= required) << x.change;
  }
  EXPECT_TRUE(a.advice[0].fits);

  // Micro-batch 1 with twice the gradient accumulation fits; its cost is the fms-acceleration fit
  // T0 = 8 x 4096 x (1 - r) / (2r - 1), r = 3062.694 / 3143.118: about 884 tokens per micro-batch.
  const Advice* mb = Find(a, AdviceKind::kSmallerMicroBatch);
  ASSERT_NE(mb, nullptr);
  EXPECT_EQ(mb->change, "--micro-batch 1");
  TrainingRequest one = r;
  one.micro_batch = 1;
  EXPECT_EQ(mb->saves_bytes, now - Total(m, one));
  EXPECT_TRUE(mb->fits);
  const double ratio = 3062.694 / 3143.118;
  const double t0 = 8 * 4096 * (1 - ratio) / (2 * ratio - 1);
  EXPECT_NEAR(t0, 883.7, 0.1);
  EXPECT_NEAR(mb->speed_change, (512 / (512 + t0)) / (1024 / (1024 + t0)) - 1, 1e-12);
  EXPECT_EQ(mb->loss_class, "speed");
  ASSERT_EQ(mb->apply.size(), 1u);
  EXPECT_EQ(mb->apply[0].field, "micro_batch");
  EXPECT_EQ(mb->apply[0].integer_value, 1);

  // QLoRA keeps the user's adapters and trades 12.6% of the speed (fms-acceleration).
  const Advice* q = Find(a, AdviceKind::kQlora);
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->change, "--mode qlora --weights nf4-dq");
  TrainingRequest quantized = r;
  quantized.mode = TrainingMode::kQlora;
  quantized.base_weights = "nf4-dq";
  EXPECT_EQ(q->saves_bytes, now - Total(m, quantized));
  EXPECT_DOUBLE_EQ(q->quality_loss_percent, 0.0);  // 49.40 against 49.26: no loss
  EXPECT_DOUBLE_EQ(q->loss, 1.0 - 2903.78 / 3324.155);

  // Shorter sequences: the largest that fits with the headroom, one more does not.
  const Advice* seq = Find(a, AdviceKind::kShorterSequence);
  ASSERT_NE(seq, nullptr);
  ASSERT_EQ(seq->apply.size(), 1u);
  TrainingRequest shorter = r;
  shorter.seq_len = seq->apply[0].integer_value;
  EXPECT_TRUE(Ok(FitTraining(m, shorter, hw)).fits);
  ++shorter.seq_len;
  EXPECT_FALSE(Ok(FitTraining(m, shorter, hw)).fits);
  EXPECT_DOUBLE_EQ(seq->capability_loss,
                   1.0 - static_cast<double>(seq->apply[0].integer_value) / 512.0);
}

TEST(TrainingAdviseTest, EagerAttentionGetsFlashAttentionAndSelectiveRecomputation) {
  // Eager attention keeps 32 heads x 2048^2 scores per layer; the fused kernel keeps none, and
  // selective recomputation (Korthikanti et al.) drops them for the cost of repeating QK^T and PV.
  const ModelDescription m = test::PresetModel("llama-3.1-8b");
  TrainingRequest r = Lora();
  r.attention = AttentionImpl::kEager;
  const AdviceResult a = Ok(AdviseTraining(m, r, Hw(Dev("rtx-4090"))));
  const uint64_t now = Total(m, r);
  const Advice* fa = Find(a, AdviceKind::kFlashAttention);
  ASSERT_NE(fa, nullptr);
  TrainingRequest sdpa = r;
  sdpa.attention = AttentionImpl::kSdpa;
  EXPECT_EQ(fa->saves_bytes, now - Total(m, sdpa));
  EXPECT_EQ(fa->change, "--attn-impl sdpa");
  EXPECT_DOUBLE_EQ(fa->loss, 0.0);

  const Advice* selective =
      Find(a, AdviceKind::kGradientCheckpointing, "--checkpointing selective");
  ASSERT_NE(selective, nullptr);
  TrainingRequest sel = r;
  sel.checkpointing = Checkpointing::kSelective;
  EXPECT_EQ(selective->saves_bytes, now - Total(m, sel));
  // FLOPs per token: 2 x 7,504,658,432 matmul parameters (32 layers x (2 x 4096^2 + 2 x 4096 x
  // 1024 + 3 x 4096 x 14336) + the 128256 x 4096 head) + attention 32 x 2 x 32 x (128 + 128) x
  // 2048; a step is three forward passes, the recomputation one more attention core.
  const double matmul =
      32.0 * (2 * 4096.0 * 4096 + 2 * 4096.0 * 1024 + 3 * 4096.0 * 14336) + 128256.0 * 4096;
  EXPECT_EQ(matmul, 7504658432.0);
  const double core = 32.0 * 2 * 32 * 256 * 2048;
  const double extra = core / (3 * (2 * matmul + core));
  EXPECT_NEAR(selective->speed_change, 1 / (1 + extra) - 1, 1e-12);
  EXPECT_NEAR(selective->speed_change, -0.0218, 1e-4);
  // The fused kernel costs nothing, so it ranks before the recomputation when both fit or both
  // do not.
  if (fa->fits == selective->fits) {
    EXPECT_LT(std::find_if(a.advice.begin(), a.advice.end(),
                           [](const Advice& x) { return x.kind == AdviceKind::kFlashAttention; }),
              std::find_if(a.advice.begin(), a.advice.end(), [](const Advice& x) {
                return x.change == "--checkpointing selective";
              }));
  }
}

TEST(TrainingAdviseTest, DataParallelGpusGetZeroShardingAndOffload) {
  // Full fine-tuning of Llama-3.1-8B over 2 data-parallel H100s without sharding: ZeRO-2 is free
  // (data parallelism's communication volume), ZeRO-3 costs 1.8% (FSDP on 2 A100s).
  const ModelDescription m = test::PresetModel("llama-3.1-8b");
  TrainingRequest r;
  r.dp = 2;
  r.seq_len = 8192;
  const HardwareConfig hw = Hw(Dev("h100-sxm"));
  const AdviceResult a = Ok(AdviseTraining(m, r, hw));
  ASSERT_FALSE(a.current.fits);
  const uint64_t now = Total(m, r);
  const Advice* z2 = Find(a, AdviceKind::kShardStates, "--zero 2");
  const Advice* z3 = Find(a, AdviceKind::kShardStates, "--zero 3");
  ASSERT_NE(z2, nullptr);
  ASSERT_NE(z3, nullptr);
  TrainingRequest two = r;
  two.zero_stage = 2;
  TrainingRequest three = r;
  three.zero_stage = 3;
  EXPECT_EQ(z2->saves_bytes, now - Total(m, two));
  EXPECT_EQ(z3->saves_bytes, now - Total(m, three));
  // ZeRO-2 halves the gradients and optimizer states (and master weights) over 2 ranks.
  EXPECT_EQ(z2->saves_bytes, kLlama8bParams * (2 + 8 + 4) / 2);
  EXPECT_DOUBLE_EQ(z2->loss, 0.0);
  EXPECT_DOUBLE_EQ(z3->loss, 1.0 - 3008.934 / 3062.694);
  // ZeRO-Offload needs a ZeRO stage: with none set, the advice adds ZeRO-2.
  const Advice* off = Find(a, AdviceKind::kOffloadOptimizer);
  ASSERT_NE(off, nullptr);
  EXPECT_EQ(off->change, "--zero 2 --offload optimizer");
  TrainingRequest offloaded = two;
  offloaded.offload = Offload::kOptimizer;
  EXPECT_EQ(off->saves_bytes, now - Total(m, offloaded));
  // QLoRA cannot shard 4-bit weights: no ZeRO-3 advice for it.
  TrainingRequest q = Lora();
  q.mode = TrainingMode::kQlora;
  q.dp = 2;
  q.micro_batch = 16;
  q.seq_len = 4096;
  const AdviceResult qa = Ok(AdviseTraining(m, q, Hw(Dev("rtx-4090"))));
  ASSERT_FALSE(qa.current.fits);
  EXPECT_EQ(Find(qa, AdviceKind::kShardStates, "--zero 3"), nullptr);
}

TEST(TrainingAdviseTest, OneRankingFunctionForInferenceAndTraining) {
  HardwareConfig hw = Hw(Dev("rtx-4090"), 2);
  Advice slow;
  slow.speed_change = -0.3;
  slow.quality_loss_percent = 5;  // 0.05
  ScoreAdvice(hw, &slow);
  EXPECT_DOUBLE_EQ(slow.loss, 0.35);
  EXPECT_EQ(slow.loss_class, "speed");
  Advice faster;
  faster.speed_change = 0.5;  // speed-ups cost nothing
  ScoreAdvice(hw, &faster);
  EXPECT_DOUBLE_EQ(faster.loss, 0.0);
  EXPECT_EQ(faster.loss_class, "none");
  Advice money;
  money.extra_cost_usd = 1000;  // over 2 x $2000
  ScoreAdvice(hw, &money);
  EXPECT_DOUBLE_EQ(money.loss, 0.25);
  EXPECT_EQ(money.loss_class, "hardware");
  Advice fits = slow;
  fits.fits = true;
  fits.saves_bytes = 1;
  Advice big = slow;
  big.saves_bytes = 10;
  std::vector<Advice> list = {slow, money, big, fits, faster};
  RankAdvice(&list);
  EXPECT_TRUE(list[0].fits);
  EXPECT_EQ(list[1].loss, 0.0);
  EXPECT_EQ(list[2].loss, 0.25);
  EXPECT_EQ(list[3].saves_bytes, 10u);  // equal loss: more saved first
  EXPECT_EQ(list[4].saves_bytes, 0u);
}

// --- JSON -------------------------------------------------------------------------------------

TEST(TrainingPlannerJsonTest, TrainingModesAnswerSummaryFitAdviseAndLimits) {
  const ModelPreset* preset = FindPreset(test::Presets(), "llama-3.1-8b");
  ASSERT_NE(preset, nullptr);
  const std::string config = preset->config_json;
  auto plan = [&](const std::string& fields) {
    const Json j = Json::parse(
        PlannerJsonWithDevices("{" + fields + ", \"config\": " + config + "}", Devices()), nullptr,
        false);
    EXPECT_TRUE(j.is_object());
    return j;
  };
  const ModelDescription m = test::PresetModel("llama-3.1-8b");
  const uint64_t lora_total = Total(m, Lora());

  const Json summary = plan("\"mode\": \"lora\", \"gpu\": \"rtx-4090\"");
  EXPECT_EQ(summary["bytes"]["total"].get<uint64_t>(), lora_total);  // the calculation's keys stay
  EXPECT_FALSE(summary["fits"].get<bool>());
  EXPECT_EQ(summary["headroom_bytes"].get<int64_t>(),
            static_cast<int64_t>(24 * kGiB) - static_cast<int64_t>(lora_total));
  EXPECT_TRUE(summary["decode_tokens_per_s"].is_null());
  EXPECT_TRUE(summary["prefill_tokens_per_s"].is_null());
  EXPECT_EQ(summary["hardware"]["fit"]["layout"], "dp 1 x tp 1 x pp 1");
  EXPECT_EQ(summary["hardware"]["fit"]["per_device"][0]["total"].get<uint64_t>(), lora_total);

  const Json advise = plan("\"mode\": \"train\", \"action\": \"advise\", \"gpu\": \"rtx-4090\"");
  EXPECT_EQ(advise["action"], "advise");
  EXPECT_EQ(advise["mode"], "train");
  EXPECT_FALSE(advise["fits_now"].get<bool>());
  ASSERT_FALSE(advise["advice"].empty());
  EXPECT_EQ(advise["advice"][0]["kind"], "qlora");
  EXPECT_EQ(advise["advice"][0]["apply"]["mode"], "qlora");
  EXPECT_EQ(advise["advice"][0]["apply"]["weights"], "nf4-dq");
  EXPECT_EQ(advise["advice"][0]["loss_class"], "quality");
  std::vector<std::string> keys;
  for (auto it = advise["advice"][0].begin(); it != advise["advice"][0].end(); ++it)
    keys.push_back(it.key());
  // nlohmann::json sorts keys; the order itself is asserted on the ordered output below.
  EXPECT_EQ(keys.size(), 13u);
  const std::string text = PlannerJsonWithDevices(
      "{\"mode\": \"train\", \"action\": \"advise\", \"gpu\": \"rtx-4090\", \"config\": " + config +
          "}",
      Devices());
  EXPECT_LT(text.find("\"kind\""), text.find("\"change\""));
  EXPECT_LT(text.find("\"change\""), text.find("\"apply\""));
  EXPECT_LT(text.find("\"apply\""), text.find("\"saves_bytes\""));
  EXPECT_LT(text.find("\"loss\""), text.find("\"loss_class\""));
  EXPECT_LT(text.find("\"loss_class\""), text.find("\"cost\": \""));

  const Json batch = plan(
      "\"mode\": \"lora\", \"seq_len\": 256, \"action\": \"max-batch\", \"gpu\": \"rtx-4090\"");
  TrainingRequest r = Lora();
  r.seq_len = 256;
  EXPECT_EQ(batch["result"]["max_micro_batch"].get<int64_t>(),
            Ok(MaxMicroBatch(m, r, Hw(Dev("rtx-4090")))).max_value);
  EXPECT_FALSE(batch["result"]["one_more_fits"].get<bool>());
  const Json seq = plan("\"mode\": \"lora\", \"action\": \"max-context\", \"gpu\": \"rtx-4090\"");
  EXPECT_EQ(seq["result"]["max_seq_len"].get<int64_t>(),
            Ok(MaxSeqLen(m, Lora(), Hw(Dev("rtx-4090")))).max_value);

  const Json fit = plan(
      "\"mode\": \"train\", \"zero\": 3, \"dp\": 4, \"action\": \"fit\", \"gpu\": \"h100-sxm\"");
  EXPECT_EQ(fit["hardware"]["gpus"], 4);
  EXPECT_TRUE(fit["fit"]["fits"].get<bool>());
  EXPECT_TRUE(fit["throughput"].is_null());
  // The fewest data-parallel GPUs of this layout that fit: one H100 cannot hold 142 GB, two
  // sharding it with ZeRO-3 can.
  TrainingRequest z3;
  z3.zero_stage = 3;
  z3.dp = 1;
  EXPECT_FALSE(Ok(FitTraining(m, z3, Hw(Dev("h100-sxm")))).fits);
  z3.dp = 2;
  EXPECT_TRUE(Ok(FitTraining(m, z3, Hw(Dev("h100-sxm")))).fits);
  EXPECT_EQ(fit["smallest_device_count"], 2);

  const Json offload = plan("\"mode\": \"qlora\", \"action\": \"offload\", \"gpu\": \"rtx-4090\"");
  EXPECT_EQ(offload["error"]["message"],
            "action: 'offload' plans inference; with mode 'qlora' use one of fit, max-batch "
            "(micro-batch), max-context (sequence length), advise, cost");
  const Json gpus = plan("\"mode\": \"lora\", \"gpus\": 2, \"gpu\": \"rtx-4090\"");
  EXPECT_NE(gpus["error"]["message"].get<std::string>().find(
                "gpus: the training layout dp 1 x tp 1 x pp 1 runs on 1 GPU;"),
            std::string::npos);

  // A model read from files takes the same path (CalculateFileModel).
  FileModel file;
  file.model = m;
  const Json from_file = Json::parse(
      PlannerJsonWithDevices("{\"mode\": \"lora\", \"action\": \"fit\", \"gpu\": \"rtx-4090\"}",
                             Devices(), &file),
      nullptr, false);
  EXPECT_EQ(from_file["fit"]["per_device"][0]["total"].get<uint64_t>(), lora_total);
}

}  // namespace
}  // namespace vram
