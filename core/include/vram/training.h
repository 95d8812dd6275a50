#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vram/formats.h"
#include "vram/inference.h"
#include "vram/model.h"
#include "vram/status.h"

namespace vram {

/// What is trained.
enum class TrainingMode : uint8_t {
  kFull,   ///< Every parameter.
  kLora,   ///< Low-rank adapters on a frozen base in 16-bit (or any catalogue format).
  kQlora,  ///< Low-rank adapters on a frozen 4-bit base (nf4 with double quantization).
};

/// Optimizers and the state they keep per trainable parameter.
enum class Optimizer : uint8_t {
  kAdamW,          ///< Two moments.
  kAdamW8bit,      ///< bitsandbytes: two uint8 moments with fp32 absmax per block of 256.
  kPagedAdamW,     ///< AdamW with states in CUDA unified memory (can page to the host).
  kPagedAdamW8bit, ///< 8-bit AdamW in unified memory.
  kAdafactor,      ///< Factored second moment (row + column vectors per matrix), no momentum.
  kSgd,            ///< No state.
  kSgdMomentum,    ///< One momentum buffer.
  kLion,           ///< One momentum buffer.
};

/// How weights, gradients and optimizer states are held.
enum class PrecisionRegime : uint8_t {
  kFp32,       ///< fp32 weights, gradients and states.
  kMixedBf16,  ///< bf16 compute weights plus fp32 master weights and fp32 optimizer states.
  kMixedFp16,  ///< As kMixedBf16 with fp16 compute.
  kBf16,       ///< Pure bf16: no master copy; states in bf16.
};

/// Activation checkpointing (recomputation).
enum class Checkpointing : uint8_t {
  kNone,       ///< Every layer keeps its activations for the backward pass.
  kSelective,  ///< Recompute the attention core (Korthikanti et al. 2022): drops the seq^2 terms.
  kFull,       ///< Keep each layer's input; recompute one layer at a time in backward.
};

/// PyTorch FSDP sharding strategies.
enum class FsdpStrategy : uint8_t { kNone, kFullShard, kShardGradOp, kHybridShard };

/// What is moved to host memory.
enum class Offload : uint8_t { kNone, kOptimizer, kParams, kBoth };

/// Linear modules that get LoRA adapters.
struct LoraTargets {
  bool q = true, k = false, v = true, o = false, gate = false, up = false, down = false;
  bool experts = false;  ///< Routed experts too (only when named).
};

/// Parses "q,v", "q_proj,v_proj,o_proj", "all-linear", "all-linear,experts".
Result<LoraTargets> ParseLoraTargets(std::string_view text);
/// Canonical text of a target set ("q,k,v,o,gate,up,down").
std::string LoraTargetsName(const LoraTargets& targets);

/// A training or fine-tuning workload, per optimizer step.
struct TrainingRequest {
  TrainingMode mode = TrainingMode::kFull;
  Optimizer optimizer = Optimizer::kAdamW;
  PrecisionRegime precision = PrecisionRegime::kMixedBf16;
  bool fp32_gradients = false;  ///< Mixed precision: fp32 gradients (18 B/param) instead of 16-bit.
  Checkpointing checkpointing = Checkpointing::kNone;
  AttentionImpl attention = AttentionImpl::kFlashAttention2;  ///< eager keeps the seq^2 scores.
  int64_t micro_batch = 1;  ///< Sequences per micro-batch, 1..4096.
  int64_t seq_len = 2048;   ///< Tokens per sequence, 1..1M.
  double dropout = 0;       ///< Attention/hidden dropout; masks are kept only when > 0.
  bool fused_loss = false;  ///< Chunked/fused linear + cross-entropy (no full logits tensor).
  int64_t lora_rank = 16;
  LoraTargets lora_targets;
  bool dora = false;        ///< DoRA: one magnitude vector per adapted module.
  double lora_dropout = 0;
  std::string base_weights;  ///< Frozen base format for LoRA/QLoRA ("" = bf16 / nf4-dq).
  int zero_stage = 0;        ///< DeepSpeed ZeRO stage 0..3.
  FsdpStrategy fsdp = FsdpStrategy::kNone;
  int64_t fsdp_shard_group = 8;  ///< GPUs per shard group for hybrid sharding.
  int64_t tp = 1;                ///< Tensor-parallel degree.
  bool sequence_parallel = false;
  int64_t pp = 1;                ///< Pipeline stages.
  int64_t pp_microbatches = 0;   ///< Micro-batches per step in the pipeline (0 = pp).
  int64_t dp = 1;                ///< Data-parallel replicas.
  Offload offload = Offload::kNone;
};

/// Stable names for the enums above (as the CLI spells them).
const char* TrainingModeName(TrainingMode mode);
const char* OptimizerName(Optimizer optimizer);
const char* PrecisionRegimeName(PrecisionRegime precision);
const char* CheckpointingName(Checkpointing checkpointing);
const char* FsdpStrategyName(FsdpStrategy strategy);
const char* OffloadName(Offload offload);
Result<TrainingMode> ParseTrainingMode(std::string_view name);
Result<Optimizer> ParseOptimizer(std::string_view name);
Result<PrecisionRegime> ParsePrecisionRegime(std::string_view name);
Result<Checkpointing> ParseCheckpointing(std::string_view name);
Result<FsdpStrategy> ParseFsdpStrategy(std::string_view name);
Result<Offload> ParseOffload(std::string_view name);

/// Per-GPU memory of one training step, itemized, in bytes (the worst pipeline stage).
struct TrainingEstimate {
  int64_t parameters = 0;
  int64_t trainable_parameters = 0;
  uint64_t weights_bytes = 0;      ///< Compute weights, master weights, frozen base, gathered shards.
  uint64_t gradients_bytes = 0;
  uint64_t optimizer_bytes = 0;
  uint64_t activations_bytes = 0;  ///< Saved activations, logits and loss, transient buffers.
  uint64_t overhead_bytes = 0;     ///< CUDA context, cuBLAS workspace, NCCL buffers.
  uint64_t total_bytes = 0;
  uint64_t pageable_bytes = 0;  ///< Part of total in unified memory that can page out (paged optimizers).
  uint64_t host_bytes = 0;      ///< Host RAM per GPU rank for offloaded states.
  /// One transformer layer, one micro-batch, without checkpointing, on this GPU.
  uint64_t activation_bytes_per_layer = 0;
  std::vector<BreakdownItem> items;  ///< Sums to total_bytes.
  std::vector<std::string> notes;
};

/// Checks ranges and combinations, naming the field and why.
Status ValidateTraining(const ModelDescription& model, const TrainingRequest& request);

/// Trainable parameters: all of them, or sum of rank x (d_in + d_out) over targeted modules
/// (plus DoRA magnitudes), from the tensor inventory.
int64_t CountTrainableParameters(const ModelDescription& model, const TrainingRequest& request);

/// Per-GPU training memory.
Result<TrainingEstimate> EstimateTraining(const ModelDescription& model, const TrainingRequest& request);

}  // namespace vram
