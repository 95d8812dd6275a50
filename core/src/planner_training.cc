// The hardware planner for training and fine-tuning: does one training step fit on the GPUs of
// its layout, the largest micro-batch and sequence length that fit, and what would make it fit.
// Memory always comes from EstimateTraining: every candidate is the request with one change,
// estimated again. What each change costs in quality and speed is a published measurement
// (world.h).

#include <algorithm>
#include <cmath>
#include <string>

#include "numeric.h"
#include "planner_internal.h"
#include "vram/planner.h"
#include "world.h"

namespace vram {

namespace {

using internal::Fixed;
using internal::LargestFitting;

constexpr int kMaxDevices = 64;
constexpr int64_t kMaxMicroBatch = 4096;
constexpr int64_t kMaxSeqLen = int64_t{1} << 20;

/// GPUs of the layout.
int64_t WorldSize(const TrainingRequest& r) { return r.tp * r.pp * r.dp; }

std::string LayoutText(const TrainingRequest& r) {
  return "dp " + std::to_string(r.dp) + " x tp " + std::to_string(r.tp) + " x pp " +
         std::to_string(r.pp);
}

std::string Gpus(int64_t n) { return std::to_string(n) + (n == 1 ? " GPU" : " GPUs"); }

std::string Percent(double fraction) { return Fixed(std::abs(fraction) * 100.0, 1) + "%"; }

/// The hardware the layout runs on: hardware.count becomes dp x tp x pp.
Result<HardwareConfig> LayoutHardware(const TrainingRequest& r, const HardwareConfig& hardware) {
  VRAM_RETURN_IF_ERROR(ValidateHardware(hardware));
  if (r.tp < 1 || r.pp < 1 || r.dp < 1) {
    return Status(ErrorCode::kOutOfRange, "dp: the layout's dp, tp and pp must be at least 1");
  }
  // An unvalidated request may hold anything: multiply only factors that cannot overflow.
  const int64_t limit = int64_t{1} << 16;
  const bool huge = r.tp > limit || r.pp > limit || r.dp > limit;
  const int64_t world = huge ? 0 : WorldSize(r);
  if (huge || world > kMaxDevices) {
    return Status(ErrorCode::kOutOfRange,
                  "gpus: the training layout " + LayoutText(r) + " runs on " +
                      (huge ? std::string("too many GPUs") : Gpus(world)) +
                      "; the planner sizes at most " + std::to_string(kMaxDevices));
  }
  if (hardware.count != 1 && hardware.count != world) {
    return Status(ErrorCode::kInvalidArgument,
                  "gpus: the training layout " + LayoutText(r) + " runs on " + Gpus(world) +
                      "; give --gpus " + std::to_string(world) +
                      " or leave it out (--dp, --tp and --pp set the GPU count), got " +
                      std::to_string(hardware.count));
  }
  HardwareConfig hw = hardware;
  hw.count = static_cast<int>(world);
  VRAM_RETURN_IF_ERROR(ValidateHardware(hw));
  return hw;
}

/// FitTraining with `hw` already the layout's hardware.
Result<FitResult> FitOnLayout(const ModelDescription& m, const TrainingRequest& r,
                              const HardwareConfig& hw) {
  Result<TrainingEstimate> e = EstimateTraining(m, r);
  if (!e.ok()) return e.status();
  FitResult f;
  f.training = true;
  f.layout = LayoutText(r);
  f.split = r.tp > 1 ? SplitMode::kTensor : SplitMode::kLayer;
  f.devices = hw.count;
  f.capacity_bytes = hw.device->usable_memory_bytes();
  f.required_headroom_bytes = static_cast<uint64_t>(
      std::ceil(static_cast<double>(f.capacity_bytes) * hw.min_headroom_fraction));
  DeviceLoad load;
  load.weights_bytes = e->weights_bytes;
  load.gradients_bytes = e->gradients_bytes;
  load.optimizer_bytes = e->optimizer_bytes;
  load.activations_bytes = e->activations_bytes;
  load.overhead_bytes = e->overhead_bytes;
  load.total_bytes = e->total_bytes;
  load.first_layer = 0;
  load.end_layer = m.attention.num_layers;
  load.holds_output = true;
  f.per_device.assign(static_cast<size_t>(hw.count), load);
  f.headroom_bytes = static_cast<int64_t>(f.capacity_bytes) - static_cast<int64_t>(e->total_bytes);
  f.fits = f.headroom_bytes >= static_cast<int64_t>(f.required_headroom_bytes);
  // The same settings on one GPU (no parallelism; ZeRO/FSDP with one rank shards nothing).
  f.single_device_bytes = e->total_bytes;
  if (hw.count > 1) {
    TrainingRequest one = r;
    one.dp = one.tp = one.pp = 1;
    one.pp_microbatches = 0;
    Result<TrainingEstimate> single = EstimateTraining(m, one);
    if (single.ok()) f.single_device_bytes = single->total_bytes;
    const uint64_t sum = e->total_bytes * static_cast<uint64_t>(hw.count);
    f.split_overhead_bytes = sum > f.single_device_bytes ? sum - f.single_device_bytes : 0;
    f.notes.push_back("training over " + f.layout + " = " + Gpus(hw.count) +
                      ": every GPU is sized as the most loaded one (the worst pipeline stage)");
  }
  if (!f.fits && e->pageable_bytes > 0 &&
      static_cast<int64_t>(f.capacity_bytes) -
              static_cast<int64_t>(e->total_bytes - e->pageable_bytes) >=
          static_cast<int64_t>(f.required_headroom_bytes)) {
    f.notes.push_back(
        "the paged optimizer's " + internal::GiB(static_cast<double>(e->pageable_bytes)) +
        " can page out to host RAM; the rest fits, at the cost of transfers every step");
  }
  if (hw.device->device_class() != DeviceClass::kDiscreteGpu) {
    f.notes.push_back(
        "training is sized for PyTorch on CUDA (its context and workspaces); other backends "
        "differ");
  }
  return f;
}

/// The largest value of one training field in [1, cap] that fits: the boundary search of
/// MaxContext and MaxBatch, over training estimates.
Result<LimitSolution> LargestTrainingField(const ModelDescription& m,
                                           const TrainingRequest& request,
                                           const HardwareConfig& hardware,
                                           int64_t TrainingRequest::*field, int64_t cap) {
  TrainingRequest r = request;
  r.*field = 1;
  Result<HardwareConfig> hw = LayoutHardware(r, hardware);
  if (!hw.ok()) return hw.status();
  VRAM_RETURN_IF_ERROR(ValidateTraining(m, r));
  LimitSolution out;
  out.cap = cap;
  auto fits = [&](int64_t value) -> Result<bool> {
    r.*field = value;
    Result<FitResult> f = FitOnLayout(m, r, *hw);
    if (!f.ok()) return f.status();
    return f->fits;
  };
  Result<int64_t> best = LargestFitting(cap, fits);
  if (!best.ok()) return best.status();
  out.max_value = *best;
  out.limited_by_cap = out.max_value == out.cap;
  r.*field = std::max<int64_t>(1, out.max_value);
  Result<FitResult> f = FitOnLayout(m, r, *hw);
  if (!f.ok()) return f.status();
  out.fit_at_max = std::move(f).value();
  return out;
}

// --- Advice -----------------------------------------------------------------------------------

struct Context {
  const ModelDescription* model = nullptr;
  TrainingRequest request;
  HardwareConfig hardware;     ///< count = the layout's GPUs.
  uint64_t current_bytes = 0;  ///< Per GPU.
};

/// Fills the memory side of `a` from the request with the change (on hardware with count 1 =
/// the changed layout's GPUs); false when the change is invalid or saves nothing.
bool Evaluate(const Context& c, const TrainingRequest& r, Advice* a) {
  HardwareConfig hw = c.hardware;
  hw.count = 1;
  Result<FitResult> f = FitTraining(*c.model, r, hw);
  if (!f.ok() || f->per_device.empty()) return false;
  const uint64_t after = f->per_device[0].total_bytes;
  if (after >= c.current_bytes) return false;
  a->saves_bytes = c.current_bytes - after;
  a->fits = f->fits;
  a->headroom_bytes = f->headroom_bytes;
  return true;
}

void Add(const Context& c, Advice a, std::vector<Advice>* out) {
  ScoreAdvice(c.hardware, &a);
  out->push_back(std::move(a));
}

/// Sharding level of ZeRO/FSDP (1 optimizer states, 2 + gradients, 3 + weights).
int ShardingLevel(const TrainingRequest& r) {
  switch (r.fsdp) {
    case FsdpStrategy::kFullShard:
    case FsdpStrategy::kHybridShard:
      return 3;
    case FsdpStrategy::kShardGradOp:
      return 2;
    case FsdpStrategy::kNone:
      break;
  }
  return r.zero_stage;
}

/// Targets of the LoRA/QLoRA candidates: every linear layer of the blocks (the QLoRA paper finds
/// these needed to match full fine-tuning), routed experts left out.
LoraTargets AllLinear() {
  LoraTargets t;
  t.q = t.k = t.v = t.o = t.gate = t.up = t.down = true;
  t.experts = false;
  return t;
}

constexpr int64_t kAdviceLoraRank = 16;

/// 16-bit LoRA against full fine-tuning: the relative drop of the QLoRA paper's mean score.
double LoraQualityLossPercent() {
  return std::max(0.0, (world::kSniRougeLFullFinetune - world::kSniRougeLLora) /
                           world::kSniRougeLFullFinetune * 100.0);
}

void AdviseAttention(const Context& c, std::vector<Advice>* out) {
  if (c.request.attention != AttentionImpl::kEager) return;
  TrainingRequest r = c.request;
  r.attention = AttentionImpl::kSdpa;
  Advice a;
  a.kind = AdviceKind::kFlashAttention;
  if (!Evaluate(c, r, &a)) return;
  a.change = "--attn-impl sdpa";
  a.apply = {FieldChange::String("attn_impl", "sdpa")};
  a.cost =
      "none: a fused attention kernel (PyTorch SDPA, FlashAttention-2) computes the same result "
      "without keeping the " +
      std::to_string(c.model->attention.num_query_heads) + " x seq^2 scores";
  Add(c, a, out);
}

void AdviseCheckpointing(const Context& c, std::vector<Advice>* out) {
  const TrainingRequest& q = c.request;
  if (q.checkpointing == Checkpointing::kNone && q.attention == AttentionImpl::kEager) {
    // Selective recomputation repeats the attention core's forward pass: its FLOPs over a step of
    // three forward passes (backward = 2 x forward).
    TrainingRequest r = q;
    r.checkpointing = Checkpointing::kSelective;
    Advice a;
    a.kind = AdviceKind::kGradientCheckpointing;
    if (Evaluate(c, r, &a)) {
      const double core = internal::AttentionFlopsPerToken(*c.model, q.seq_len);
      const double forward =
          2.0 * static_cast<double>(internal::MatmulParamsPerToken(*c.model)) + core;
      const double extra = forward > 0 ? core / (3.0 * forward) : 0.0;
      a.change = "--checkpointing selective";
      a.apply = {FieldChange::String("checkpointing", "selective")};
      a.speed_change = 1.0 / (1.0 + extra) - 1.0;
      a.cost =
          "recomputes only the attention core in the backward pass (Korthikanti et al. 2022; "
          "Megatron-LM --recompute-granularity selective): " +
          Percent(extra) + " more compute at " + std::to_string(q.seq_len) + " tokens";
      Add(c, a, out);
    }
  }
  if (q.checkpointing != Checkpointing::kFull) {
    TrainingRequest r = q;
    r.checkpointing = Checkpointing::kFull;
    Advice a;
    a.kind = AdviceKind::kGradientCheckpointing;
    if (Evaluate(c, r, &a)) {
      a.change = "--checkpointing full";
      a.apply = {FieldChange::String("checkpointing", "full")};
      a.speed_change = world::kFullCheckpointingSpeedChange;
      a.cost =
          "keeps only each layer's input and recomputes its forward pass in the backward pass "
          "(Chen et al. 2016): about " +
          Percent(world::kFullCheckpointingSpeedChange) +
          " fewer tokens/s (torchtune, Llama 3.2 3B on an A100)";
      Add(c, a, out);
    }
  }
}

void AdviseFusedLoss(const Context& c, std::vector<Advice>* out) {
  if (c.request.fused_loss) return;
  TrainingRequest r = c.request;
  r.fused_loss = true;
  Advice a;
  a.kind = AdviceKind::kFusedLoss;
  if (!Evaluate(c, r, &a)) return;
  a.change = "--fused-loss";
  a.apply = {FieldChange::Boolean("fused_loss", true)};
  a.speed_change = world::kFusedLossSpeedChange;
  a.cost =
      "none: a chunked linear + cross-entropy (torchtune CEWithChunkedOutputLoss, Liger) computes "
      "the same loss without the full logits; " +
      Percent(world::kFusedLossSpeedChange) + " more tokens/s (torchtune)";
  Add(c, a, out);
}

void AdviseOptimizer(const Context& c, std::vector<Advice>* out) {
  Optimizer to;
  switch (c.request.optimizer) {
    case Optimizer::kAdamW:
      to = Optimizer::kAdamW8bit;
      break;
    case Optimizer::kPagedAdamW:
      to = Optimizer::kPagedAdamW8bit;
      break;
    default:
      return;
  }
  TrainingRequest r = c.request;
  r.optimizer = to;
  Advice a;
  a.kind = AdviceKind::kOptimizer8bit;
  if (!Evaluate(c, r, &a)) return;
  a.change = std::string("--optimizer ") + OptimizerName(to);
  a.apply = {FieldChange::String("optimizer", OptimizerName(to))};
  a.speed_change = world::kAdamW8bitSpeedChange;
  a.cost =
      "bitsandbytes 8-bit AdamW states (Dettmers et al. 2022): no measured quality loss "
      "(Llama-2-7B truthfulqa_mc2 " +
      Fixed(world::kTruthfulQaAdamW8bit, 2) + " vs " + Fixed(world::kTruthfulQaAdamW, 2) +
      "), about " + Percent(world::kAdamW8bitSpeedChange) + " fewer tokens/s (torchao benchmark)";
  Add(c, a, out);
}

/// Tokens/s of micro-batches of `tokens` tokens, relative (world::kMicroBatchOverheadTokens).
double MicroBatchThroughput(double tokens) {
  return tokens / (tokens + world::kMicroBatchOverheadTokens);
}

void AdviseLimits(const Context& c, std::vector<Advice>* out) {
  const TrainingRequest& q = c.request;
  HardwareConfig hw = c.hardware;
  hw.count = 1;
  if (q.micro_batch > 1) {
    Result<LimitSolution> s =
        LargestTrainingField(*c.model, q, hw, &TrainingRequest::micro_batch, q.micro_batch - 1);
    if (s.ok()) {
      // Nothing fits: micro-batch 1 still shows what it saves.
      const int64_t m = std::max<int64_t>(1, s->max_value);
      TrainingRequest r = q;
      r.micro_batch = m;
      Advice a;
      a.kind = AdviceKind::kSmallerMicroBatch;
      if (Evaluate(c, r, &a)) {
        const double seq = static_cast<double>(q.seq_len);
        a.change = "--micro-batch " + std::to_string(m);
        a.apply = {FieldChange::Integer("micro_batch", m)};
        a.speed_change = MicroBatchThroughput(static_cast<double>(m) * seq) /
                             MicroBatchThroughput(static_cast<double>(q.micro_batch) * seq) -
                         1.0;
        a.cost = "accumulate gradients over " +
                 Fixed(static_cast<double>(q.micro_batch) / static_cast<double>(m), 2) +
                 "x as many micro-batches to keep the effective batch (the same updates); about " +
                 Percent(a.speed_change) + " fewer tokens/s: " + std::to_string(m * q.seq_len) +
                 " tokens per micro-batch use the GPU less well (fms-acceleration, Mistral-7B on "
                 "an A100)";
        Add(c, a, out);
      }
    }
  }
  if (q.seq_len > 1) {
    Result<LimitSolution> s =
        LargestTrainingField(*c.model, q, hw, &TrainingRequest::seq_len, q.seq_len - 1);
    if (s.ok() && s->max_value >= 1) {
      TrainingRequest r = q;
      r.seq_len = s->max_value;
      Advice a;
      a.kind = AdviceKind::kShorterSequence;
      if (Evaluate(c, r, &a)) {
        a.change = "--seq-len " + std::to_string(s->max_value);
        a.apply = {FieldChange::Integer("seq_len", s->max_value)};
        a.capability_loss =
            1.0 - static_cast<double>(s->max_value) / static_cast<double>(q.seq_len);
        a.cost = "sequences of at most " + std::to_string(s->max_value) + " tokens instead of " +
                 std::to_string(q.seq_len) + " (truncate or repack the data)";
        Add(c, a, out);
      }
    }
  }
}

/// Moves the sharding down to level 2 when QLoRA cannot shard its 4-bit weights (level 3).
void FitShardingToQlora(TrainingRequest* r, std::vector<FieldChange>* apply, std::string* change) {
  if (ShardingLevel(*r) < 3) return;
  if (r->fsdp != FsdpStrategy::kNone) {
    r->fsdp = FsdpStrategy::kShardGradOp;
    apply->push_back(FieldChange::String("fsdp", "shard_grad_op"));
    *change += " --fsdp shard_grad_op";
  } else {
    r->zero_stage = 2;
    apply->push_back(FieldChange::Integer("zero", 2));
    *change += " --zero 2";
  }
}

void AdviseAdapters(const Context& c, std::vector<Advice>* out) {
  const TrainingRequest& q = c.request;
  const std::string targets = LoraTargetsName(AllLinear());
  const std::string lora_fields =
      " --lora-rank " + std::to_string(kAdviceLoraRank) + " --lora-targets " + targets;
  if (q.mode == TrainingMode::kFull) {
    TrainingRequest r = q;
    r.mode = TrainingMode::kLora;
    r.base_weights = "bf16";
    r.lora_rank = kAdviceLoraRank;
    r.lora_targets = AllLinear();
    Advice a;
    a.kind = AdviceKind::kLora;
    if (Evaluate(c, r, &a)) {
      a.change = "--mode lora --weights bf16" + lora_fields;
      a.apply = {FieldChange::String("mode", "lora"), FieldChange::String("weights", "bf16"),
                 FieldChange::Integer("lora_rank", kAdviceLoraRank),
                 FieldChange::String("lora_targets", targets)};
      a.quality_loss_percent = LoraQualityLossPercent();
      a.speed_change = world::kLoraSpeedChange;
      a.cost =
          "rank-16 adapters on every linear layer matched full fine-tuning in the QLoRA paper "
          "(RougeL " +
          Fixed(world::kSniRougeLLora, 2) + " vs " + Fixed(world::kSniRougeLFullFinetune, 2) +
          "); on code and math LoRA learns less (Biderman et al. 2024); " +
          Percent(world::kLoraSpeedChange) + " more tokens/s (torchtune)";
      Add(c, a, out);
    }
  }
  if (q.mode == TrainingMode::kFull || q.mode == TrainingMode::kLora) {
    TrainingRequest r = q;
    r.mode = TrainingMode::kQlora;
    r.base_weights = "nf4-dq";
    Advice a;
    a.kind = AdviceKind::kQlora;
    a.change = "--mode qlora --weights nf4-dq";
    a.apply = {FieldChange::String("mode", "qlora"), FieldChange::String("weights", "nf4-dq")};
    // The 4-bit base against 16-bit LoRA (never below zero); from full fine-tuning QLoRA also
    // carries LoRA's own cost.
    const double base_loss = std::max(
        0.0, (world::kSniRougeLLora - world::kSniRougeLQlora) / world::kSniRougeLLora * 100.0);
    a.quality_loss_percent = base_loss;
    a.speed_change = world::kQloraSpeedChange;
    if (q.mode == TrainingMode::kFull) {
      r.lora_rank = kAdviceLoraRank;
      r.lora_targets = AllLinear();
      a.change += lora_fields;
      a.apply.push_back(FieldChange::Integer("lora_rank", kAdviceLoraRank));
      a.apply.push_back(FieldChange::String("lora_targets", targets));
      a.quality_loss_percent = LoraQualityLossPercent() + base_loss;
      a.speed_change = (1.0 + world::kLoraSpeedChange) * (1.0 + world::kQloraSpeedChange) - 1.0;
    }
    FitShardingToQlora(&r, &a.apply, &a.change);
    if (Evaluate(c, r, &a)) {
      a.cost = std::string(q.mode == TrainingMode::kFull ? "LoRA's cost, and " : "") +
               "a frozen 4-bit NF4 base: the QLoRA paper matched 16-bit LoRA and full fine-tuning "
               "(RougeL " +
               Fixed(world::kSniRougeLQlora, 2) + " vs " + Fixed(world::kSniRougeLLora, 2) +
               " and " + Fixed(world::kSniRougeLFullFinetune, 2) + "; MMLU " +
               Fixed(world::kMmluQlora, 1) + " vs " + Fixed(world::kMmluLora, 1) + "); " +
               Percent(a.speed_change) + (a.speed_change < 0 ? " fewer" : " more") +
               " tokens/s than now (every weight is dequantized in " +
               "every pass; fms-acceleration" +
               std::string(q.mode == TrainingMode::kFull ? ", torchtune" : "") + ")";
      Add(c, a, out);
    }
  }
}

void AdviseSharding(const Context& c, std::vector<Advice>* out) {
  const TrainingRequest& q = c.request;
  if (q.dp <= 1) return;
  const int level = ShardingLevel(q);
  const std::string over = " over the " + std::to_string(q.dp) + " data-parallel GPUs";
  if (q.fsdp == FsdpStrategy::kNone && level < 2) {
    TrainingRequest r = q;
    r.zero_stage = 2;
    Advice a;
    a.kind = AdviceKind::kShardStates;
    if (Evaluate(c, r, &a)) {
      a.change = "--zero 2";
      a.apply = {FieldChange::Integer("zero", 2)};
      a.cost = "none: ZeRO-2 shards gradients and optimizer states" + over +
               " with the communication volume of plain data parallelism (Rajbhandari et al. 2020)";
      Add(c, a, out);
    }
  }
  if (level < 3 || q.fsdp == FsdpStrategy::kHybridShard) {
    TrainingRequest r = q;
    Advice a;
    a.kind = AdviceKind::kShardStates;
    if (q.fsdp != FsdpStrategy::kNone) {
      r.fsdp = FsdpStrategy::kFullShard;
      a.change = "--fsdp full_shard";
      a.apply = {FieldChange::String("fsdp", "full_shard")};
    } else {
      r.zero_stage = 3;
      a.change = "--zero 3";
      a.apply = {FieldChange::Integer("zero", 3)};
    }
    if (Evaluate(c, r, &a)) {  // QLoRA cannot shard its 4-bit weights: invalid, skipped
      a.speed_change = world::kFullShardSpeedChange;
      a.cost = "shards the weights too" + over +
               ", gathering each layer before use (1.5x the communication of " +
               "data parallelism): " + Percent(world::kFullShardSpeedChange) +
               " fewer tokens/s per GPU (fms-acceleration, FSDP on 2 A100s)";
      Add(c, a, out);
    }
  }
}

void AdviseOffload(const Context& c, std::vector<Advice>* out) {
  const TrainingRequest& q = c.request;
  if (q.offload != Offload::kNone) return;
  TrainingRequest r = q;
  Advice a;
  a.kind = AdviceKind::kOffloadOptimizer;
  if (q.fsdp != FsdpStrategy::kNone) {
    if (ShardingLevel(q) < 3) return;  // FSDP's CPU offload moves parameters too
    r.offload = Offload::kBoth;
    a.change = "--offload both";
    a.apply = {FieldChange::String("offload", "both")};
  } else {
    r.offload = Offload::kOptimizer;
    a.change = "--offload optimizer";
    a.apply = {FieldChange::String("offload", "optimizer")};
    if (q.zero_stage == 0) {  // ZeRO-Offload runs on ZeRO-2, one GPU included
      r.zero_stage = 2;
      a.change = "--zero 2 " + a.change;
      a.apply.insert(a.apply.begin(), FieldChange::Integer("zero", 2));
    }
  }
  if (!Evaluate(c, r, &a)) return;
  Result<TrainingEstimate> e = EstimateTraining(*c.model, r);
  const double host = e.ok() ? static_cast<double>(e->host_bytes) : 0.0;
  a.speed_change = world::kOptimizerOffloadSpeedChange;
  a.cost =
      "ZeRO-Offload: optimizer states, fp32 master weights and (from ZeRO-2) gradients in host "
      "RAM (" +
      internal::GiB(host) + " per GPU), the optimizer step on the CPU: about " +
      Percent(world::kOptimizerOffloadSpeedChange) +
      " fewer tokens/s (DeepSpeed in torchao's benchmark, " +
      Fixed(world::kOptimizerOffloadStepSeconds, 2) + " s per step instead of " +
      Fixed(world::kNoOffloadStepSeconds, 2) + ")";
  Add(c, a, out);
}

void AdviseDevices(const Context& c, std::vector<Advice>* out) {
  const TrainingRequest& q = c.request;
  if (!c.hardware.device->can_pool()) return;
  const int64_t per_replica = q.tp * q.pp;
  TrainingRequest r = q;
  std::vector<FieldChange> sharding;
  std::string sharding_text;
  const bool qlora = q.mode == TrainingMode::kQlora;
  if (q.fsdp != FsdpStrategy::kNone) {
    r.fsdp = qlora ? FsdpStrategy::kShardGradOp : FsdpStrategy::kFullShard;
    if (r.fsdp != q.fsdp) sharding = {FieldChange::String("fsdp", FsdpStrategyName(r.fsdp))};
    sharding_text = std::string("FSDP ") + FsdpStrategyName(r.fsdp);
  } else {
    r.zero_stage = qlora ? std::max(2, q.zero_stage) : 3;
    if (r.zero_stage != q.zero_stage) sharding = {FieldChange::Integer("zero", r.zero_stage)};
    sharding_text = "ZeRO-" + std::to_string(r.zero_stage);
  }
  const bool newly_sharded_weights = ShardingLevel(r) >= 3 && ShardingLevel(q) < 3;
  for (int64_t dp = q.dp + 1; dp <= q.dp + 16 && dp * per_replica <= kMaxDevices; ++dp) {
    r.dp = dp;
    Advice a;
    a.kind = AdviceKind::kMoreDevices;
    if (!Evaluate(c, r, &a) || !a.fits) continue;
    const int64_t world = dp * per_replica;
    const int64_t more = world - WorldSize(q);
    a.apply = {FieldChange::Integer("dp", dp)};
    a.apply.insert(a.apply.end(), sharding.begin(), sharding.end());
    a.apply.push_back(FieldChange::Integer("gpus", world));
    a.change = "--dp " + std::to_string(dp);
    for (const FieldChange& f : sharding) {
      a.change += " --" + f.field + " " +
                  (f.type == FieldChange::Type::kInteger ? std::to_string(f.integer_value)
                                                         : f.string_value);
    }
    a.change += " --gpus " + std::to_string(world);
    a.speed_change = static_cast<double>(dp) / static_cast<double>(q.dp) *
                         (1.0 + (newly_sharded_weights ? world::kFullShardSpeedChange : 0.0)) -
                     1.0;
    const std::optional<double> unit = c.hardware.device->price_usd();
    a.extra_cost_usd = unit.value_or(0.0) * static_cast<double>(more);
    a.cost = std::to_string(more) + " more " + c.hardware.device->name +
             (unit.has_value() ? " ($" + Fixed(a.extra_cost_usd, 0) + ")" : " (no price known)") +
             ", " + sharding_text + " over " + std::to_string(dp) + " data-parallel GPUs";
    Add(c, a, out);
    return;
  }
}

}  // namespace

Result<FitResult> FitTraining(const ModelDescription& model, const TrainingRequest& request,
                              const HardwareConfig& hardware) {
  Result<HardwareConfig> hw = LayoutHardware(request, hardware);
  if (!hw.ok()) return hw.status();
  return FitOnLayout(model, request, *hw);
}

Result<LimitSolution> MaxMicroBatch(const ModelDescription& model, const TrainingRequest& request,
                                    const HardwareConfig& hardware) {
  return LargestTrainingField(model, request, hardware, &TrainingRequest::micro_batch,
                              kMaxMicroBatch);
}

Result<LimitSolution> MaxSeqLen(const ModelDescription& model, const TrainingRequest& request,
                                const HardwareConfig& hardware) {
  const int64_t cap =
      model.max_context_tokens > 0 ? std::min(model.max_context_tokens, kMaxSeqLen) : kMaxSeqLen;
  return LargestTrainingField(model, request, hardware, &TrainingRequest::seq_len, cap);
}

Result<AdviceResult> AdviseTraining(const ModelDescription& model, const TrainingRequest& request,
                                    const HardwareConfig& hardware) {
  Result<HardwareConfig> hw = LayoutHardware(request, hardware);
  if (!hw.ok()) return hw.status();
  Result<FitResult> current = FitOnLayout(model, request, *hw);
  if (!current.ok()) return current.status();
  AdviceResult out;
  out.current = std::move(current).value();
  if (out.current.fits) return out;
  Context c;
  c.model = &model;
  c.request = request;
  c.hardware = *hw;
  c.current_bytes = out.current.per_device.empty() ? 0 : out.current.per_device[0].total_bytes;
  AdviseAttention(c, &out.advice);
  AdviseFusedLoss(c, &out.advice);
  AdviseCheckpointing(c, &out.advice);
  AdviseOptimizer(c, &out.advice);
  AdviseLimits(c, &out.advice);
  AdviseAdapters(c, &out.advice);
  AdviseSharding(c, &out.advice);
  AdviseOffload(c, &out.advice);
  AdviseDevices(c, &out.advice);
  RankAdvice(&out.advice);
  return out;
}

}  // namespace vram
