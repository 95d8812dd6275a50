// Training and fine-tuning memory per GPU.
//
// Model states follow the ZeRO paper's accounting (Rajbhandari et al. 2020, section 3.1: mixed
// precision Adam holds 2 + 2 + 12 bytes per parameter); activations are accounted per saved
// tensor for the real architecture, following Korthikanti et al. 2022 ("Reducing Activation
// Recomputation in Large Transformer Models", section 4), whose GPT layer total
// s*b*h*(34 + 5*a*s/h) is the special case of a LayerNorm/GELU/MHA layer with dropout.

#include "numeric.h"
#include "vram/training.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "world.h"

namespace vram {
namespace {

using internal::CeilDiv;
using internal::Thousands;

uint64_t U(int64_t v) { return static_cast<uint64_t>(v); }

template <typename E>
struct Named {
  E value;
  const char* name;
};

template <typename E, size_t N>
Result<E> ParseNamed(const Named<E> (&table)[N], std::string_view text, const char* field) {
  std::string normalized(text.substr(0, 40));
  for (char& c : normalized) c = c == '-' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string accepted;
  for (const Named<E>& entry : table) {
    if (normalized == entry.name) return entry.value;
    if (!accepted.empty()) accepted += ", ";
    accepted += entry.name;
  }
  return Status(ErrorCode::kNotFound,
                std::string(field) + ": '" + std::string(text.substr(0, 40)) + "' is not one of " + accepted);
}

template <typename E, size_t N>
const char* NameOf(const Named<E> (&table)[N], E value) {
  for (const Named<E>& entry : table) {
    if (entry.value == value) return entry.name;
  }
  return "?";
}

const Named<TrainingMode> kModes[] = {
    {TrainingMode::kFull, "train"}, {TrainingMode::kLora, "lora"}, {TrainingMode::kQlora, "qlora"}};
const Named<Optimizer> kOptimizers[] = {
    {Optimizer::kAdamW, "adamw"},           {Optimizer::kAdamW8bit, "adamw_8bit"},
    {Optimizer::kPagedAdamW, "paged_adamw"}, {Optimizer::kPagedAdamW8bit, "paged_adamw_8bit"},
    {Optimizer::kAdafactor, "adafactor"},   {Optimizer::kSgd, "sgd"},
    {Optimizer::kSgdMomentum, "sgd_momentum"}, {Optimizer::kLion, "lion"}};
const Named<PrecisionRegime> kPrecisions[] = {{PrecisionRegime::kFp32, "fp32"},
                                              {PrecisionRegime::kMixedBf16, "mixed_bf16"},
                                              {PrecisionRegime::kMixedFp16, "mixed_fp16"},
                                              {PrecisionRegime::kBf16, "bf16"}};
const Named<Checkpointing> kCheckpointing[] = {
    {Checkpointing::kNone, "none"}, {Checkpointing::kSelective, "selective"}, {Checkpointing::kFull, "full"}};
const Named<FsdpStrategy> kFsdp[] = {{FsdpStrategy::kNone, "none"},
                                     {FsdpStrategy::kFullShard, "full_shard"},
                                     {FsdpStrategy::kShardGradOp, "shard_grad_op"},
                                     {FsdpStrategy::kHybridShard, "hybrid_shard"}};
const Named<Offload> kOffload[] = {
    {Offload::kNone, "none"}, {Offload::kOptimizer, "optimizer"}, {Offload::kParams, "params"}, {Offload::kBoth, "both"}};

/// Whether a linear tensor gets an adapter.
bool Targeted(const LoraTargets& t, TensorRole role) {
  switch (role) {
    case TensorRole::kAttnQ:
    case TensorRole::kAttnQA:
    case TensorRole::kAttnQB: return t.q;
    case TensorRole::kAttnK: return t.k;
    case TensorRole::kAttnV: return t.v;
    case TensorRole::kAttnQkv: return t.q || t.k || t.v;
    case TensorRole::kAttnKvA:
    case TensorRole::kAttnKvB: return t.k || t.v;
    case TensorRole::kAttnOutput: return t.o;
    case TensorRole::kFfnGate:
    case TensorRole::kSharedExpertGate: return t.gate;
    case TensorRole::kFfnUp:
    case TensorRole::kSharedExpertUp: return t.up;
    case TensorRole::kFfnGateUp: return t.gate || t.up;
    case TensorRole::kFfnDown:
    case TensorRole::kSharedExpertDown: return t.down;
    case TensorRole::kExpertGate: return t.experts && t.gate;
    case TensorRole::kExpertUp: return t.experts && t.up;
    case TensorRole::kExpertDown: return t.experts && t.down;
    default: return false;
  }
}

bool IsLora(const TrainingRequest& r) { return r.mode != TrainingMode::kFull; }

/// Whether the module with this role has trainable weights (its input must be saved).
bool Trains(const TrainingRequest& r, TensorRole role) { return !IsLora(r) || Targeted(r.lora_targets, role); }

/// Bytes per element of the optimizer's state buffers.
int StateBytes(const TrainingRequest& r) { return r.precision == PrecisionRegime::kBf16 ? 2 : 4; }

/// Optimizer state of one parameter tensor of `rows` x `cols` (x `count` copies).
uint64_t OptimizerState(const TrainingRequest& r, uint64_t rows, uint64_t cols, uint64_t count) {
  const uint64_t n = rows * cols;
  const uint64_t state = static_cast<uint64_t>(StateBytes(r));
  switch (r.optimizer) {
    case Optimizer::kAdamW:
    case Optimizer::kPagedAdamW: return 2 * state * n * count;
    case Optimizer::kAdamW8bit:
    case Optimizer::kPagedAdamW8bit:
      // bitsandbytes: tensors under min_8bit_size = 4096 keep 32-bit states; others store two
      // uint8 moments with one fp32 absmax per block of 256 (blockwise optimizers).
      if (n < 4096) return 2 * 4 * n * count;
      return (2 * n + 2 * CeilDiv(n, 256) * 4) * count;
    case Optimizer::kAdafactor:
      // Factored second moment: one row and one column vector per matrix; vectors unfactored.
      return (rows > 1 && cols > 1 ? rows + cols : n) * state * count;
    case Optimizer::kSgd: return 0;
    case Optimizer::kSgdMomentum:
    case Optimizer::kLion: return state * n * count;
  }
  return 0;
}

bool Paged(Optimizer o) { return o == Optimizer::kPagedAdamW || o == Optimizer::kPagedAdamW8bit; }

/// Which tensors are replicated rather than split under tensor parallelism.
bool ReplicatedUnderTp(const TensorInfo& t) {
  return t.role == TensorRole::kNorm || t.role == TensorRole::kRouter || t.role == TensorRole::kAttnSinks ||
         t.role == TensorRole::kSharedExpertRouter;
}

/// Pipeline stage of a layer under an even split.
int64_t StageOf(int64_t layer, int64_t layers, int64_t stages) { return layer * stages / layers; }

/// Saved activations of one layer for one micro-batch, split by tensor-parallel region.
struct LayerActs {
  uint64_t inside = 0;   ///< Between the column- and row-parallel linears: divided by tp.
  uint64_t outside = 0;  ///< Norms, residual-side inputs, masks: divided by tp only with SP.
  uint64_t scores = 0;   ///< The attention core's seq^2 terms (part of `inside`).
};

LayerActs LayerActivations(const ModelDescription& m, int64_t layer, const TrainingRequest& r, uint64_t d) {
  const AttentionGeometry& g = m.attention;
  const LayerFeedForward& f = m.feed_forward[static_cast<size_t>(layer)];
  const uint64_t b = U(r.micro_batch), s = U(r.seq_len), tokens = b * s;
  const uint64_t h = U(g.hidden_size), a = U(g.num_query_heads);
  const bool eager = r.attention == AttentionImpl::kEager;
  const bool dropout = r.dropout > 0;
  const bool mla = g.layers[static_cast<size_t>(layer)].kind == AttentionKind::kMla;
  LayerActs acts;
  // Attention block.
  acts.outside += d * tokens * h;  // input norm's input (for layer 0: the embedding output)
  const TensorRole qkv_role = mla ? TensorRole::kAttnQA : TensorRole::kAttnQ;
  bool qkv_trains = Trains(r, qkv_role) || Trains(r, TensorRole::kAttnK) || Trains(r, TensorRole::kAttnV) ||
                    Trains(r, TensorRole::kAttnQkv) || Trains(r, TensorRole::kAttnKvA);
  if (qkv_trains) acts.outside += d * tokens * h;  // the projections' shared input
  const uint64_t q_width = a * U(g.key_head_dim);
  // eager attention (transformers repeat_kv) expands K and V to every query head.
  const uint64_t kv_heads = eager || mla ? a : U(g.num_kv_heads);
  const uint64_t k_width = kv_heads * U(g.key_head_dim), v_width = kv_heads * U(g.value_head_dim);
  if (mla) {
    // Latents: q_a and kv_a outputs (norm inputs and up-projection inputs).
    acts.outside += d * tokens * (U(g.mla_kv_lora_rank) + U(g.mla_rope_head_dim) + U(g.mla_kv_lora_rank));
  }
  acts.inside += d * tokens * (q_width + k_width + v_width);  // Q, K for QK^T; V for PV
  if (m.traits.qk_norm) {
    acts.inside += d * tokens * (q_width + U(g.num_kv_heads * g.key_head_dim));  // q/k norm inputs
  }
  if (eager) {
    // Softmax output; with dropout its mask (1 byte) and output.
    acts.scores = d * b * a * s * s + (dropout ? b * a * s * s + d * b * a * s * s : 0);
  } else {
    acts.scores = 4 * b * a * s;  // fused kernels keep only the fp32 log-sum-exp per row
  }
  acts.inside += acts.scores;
  const uint64_t attn_out = a * U(g.value_head_dim);
  if (Trains(r, TensorRole::kAttnOutput)) acts.inside += d * tokens * attn_out;  // o_proj input
  if (dropout) acts.outside += tokens * h;  // attention-output dropout mask
  if (m.traits.sandwich_norms) acts.outside += 2 * d * tokens * h;  // post-attention norm input
  // MLP block.
  acts.outside += d * tokens * h;  // post-attention norm's input
  auto dense_mlp = [&](uint64_t ff, bool gated, TensorRole gate_role, TensorRole up_role, TensorRole down_role) {
    uint64_t bytes = 0;
    if (gated) {
      bytes += 3 * d * tokens * ff;  // gate output (activation input), up output, activation output
    } else {
      bytes += d * tokens * ff;  // up output (activation input)
    }
    if (Trains(r, down_role)) bytes += d * tokens * ff;  // down-projection input
    (void)gate_role;
    (void)up_role;
    return bytes;
  };
  bool mlp_input_saved = false;
  if (f.moe) {
    const uint64_t e = U(f.num_experts), k = U(f.experts_per_token), eff = U(f.expert_intermediate_size);
    acts.outside += 4 * tokens * e + 4 * tokens * k;  // fp32 router softmax and top-k weights
    const bool experts_train = Trains(r, TensorRole::kExpertGate) || Trains(r, TensorRole::kExpertUp);
    if (experts_train) acts.inside += d * tokens * k * h;  // tokens dispatched to their experts
    acts.inside += dense_mlp(eff, f.gated, TensorRole::kExpertGate, TensorRole::kExpertUp, TensorRole::kExpertDown) * k;
    acts.inside += d * tokens * k * h;  // expert outputs, saved to weight by the routing scores
    if (f.shared_intermediate_size > 0) {
      acts.inside += dense_mlp(U(f.shared_intermediate_size), f.gated, TensorRole::kSharedExpertGate,
                               TensorRole::kSharedExpertUp, TensorRole::kSharedExpertDown);
      mlp_input_saved = Trains(r, TensorRole::kSharedExpertGate) || Trains(r, TensorRole::kSharedExpertUp);
    }
    mlp_input_saved = mlp_input_saved || Trains(r, TensorRole::kRouter);
  } else {
    acts.inside += dense_mlp(U(f.intermediate_size), f.gated, TensorRole::kFfnGate, TensorRole::kFfnUp,
                             TensorRole::kFfnDown);
    mlp_input_saved = Trains(r, TensorRole::kFfnGate) || Trains(r, TensorRole::kFfnUp) ||
                      Trains(r, TensorRole::kFfnGateUp);
  }
  if (mlp_input_saved) acts.outside += d * tokens * h;  // MLP input (norm output)
  if (dropout) acts.outside += tokens * h;             // MLP-output dropout mask
  // LoRA: each adapter keeps x*A (rank wide) for B's gradient; with LoRA dropout also the dropped
  // input and its mask.
  if (IsLora(r)) {
    for (const TensorInfo& t : m.tensors) {
      if (t.layer != layer || !t.is_linear_weight() || !Targeted(r.lora_targets, t.role)) continue;
      const uint64_t copies = t.is_routed_expert() ? U(f.experts_per_token) : 1;
      acts.inside += d * tokens * U(r.lora_rank) * copies;
      if (r.lora_dropout > 0) acts.inside += (d + 1) * tokens * U(t.ne[0]) * copies;
    }
  }
  return acts;
}

/// Sharding level of ZeRO/FSDP: 1 optimizer states, 2 + gradients, 3 + parameters.
struct Sharding {
  int level = 0;
  uint64_t ranks = 1;
};

Sharding ShardingOf(const TrainingRequest& r) {
  switch (r.fsdp) {
    case FsdpStrategy::kFullShard: return {3, U(r.dp)};
    case FsdpStrategy::kShardGradOp: return {2, U(r.dp)};
    case FsdpStrategy::kHybridShard: return {3, U(std::min(r.dp, r.fsdp_shard_group))};
    case FsdpStrategy::kNone: break;
  }
  return {r.zero_stage, r.zero_stage > 0 ? U(r.dp) : 1};
}

/// Per-stage model-state bytes (after tensor parallelism, before ZeRO/FSDP sharding).
struct StageStates {
  uint64_t compute_weights = 0;  ///< 16-bit (or fp32) weights used in forward/backward.
  uint64_t frozen_weights = 0;   ///< LoRA: the frozen base in its storage format.
  uint64_t master_weights = 0;   ///< fp32 copies of trainable 16-bit weights.
  uint64_t gradients = 0;
  uint64_t optimizer = 0;
  uint64_t largest_layer_compute = 0;  ///< For ZeRO-3/FSDP all-gather buffers.
  int64_t layers = 0;
};

}  // namespace

Result<LoraTargets> ParseLoraTargets(std::string_view text) {
  LoraTargets t;
  t.q = t.v = false;
  if (text.empty() || text.size() > 200) {
    return Status(ErrorCode::kInvalidArgument,
                  "lora-targets: give a comma-separated list of q, k, v, o, gate, up, down, experts, "
                  "attention, mlp or all-linear");
  }
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    std::string item(text.substr(start, end - start));
    for (char& c : item) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (item == "q" || item == "q_proj" || item == "query") t.q = true;
    else if (item == "k" || item == "k_proj" || item == "key") t.k = true;
    else if (item == "v" || item == "v_proj" || item == "value") t.v = true;
    else if (item == "o" || item == "o_proj" || item == "dense" || item == "out_proj") t.o = true;
    else if (item == "qkv" || item == "qkv_proj" || item == "c_attn" || item == "query_key_value") t.q = t.k = t.v = true;
    else if (item == "gate" || item == "gate_proj" || item == "w1") t.gate = true;
    else if (item == "up" || item == "up_proj" || item == "w3" || item == "fc1" || item == "c_fc") t.up = true;
    else if (item == "gate_up" || item == "gate_up_proj") t.gate = t.up = true;
    else if (item == "down" || item == "down_proj" || item == "w2" || item == "fc2") t.down = true;
    else if (item == "experts") t.experts = true;
    else if (item == "attention") t.q = t.k = t.v = t.o = true;
    else if (item == "mlp") t.gate = t.up = t.down = true;
    else if (item == "all-linear" || item == "all_linear") t.q = t.k = t.v = t.o = t.gate = t.up = t.down = t.experts = true;
    else {
      return Status(ErrorCode::kInvalidArgument,
                    "lora-targets: '" + item.substr(0, 40) +
                        "' is not one of q, k, v, o, gate, up, down, experts, attention, mlp, all-linear");
    }
    start = end + 1;
  }
  return t;
}

std::string LoraTargetsName(const LoraTargets& t) {
  std::string out;
  auto add = [&](bool on, const char* name) {
    if (!on) return;
    if (!out.empty()) out += ",";
    out += name;
  };
  add(t.q, "q");
  add(t.k, "k");
  add(t.v, "v");
  add(t.o, "o");
  add(t.gate, "gate");
  add(t.up, "up");
  add(t.down, "down");
  add(t.experts, "experts");
  return out;
}

const char* TrainingModeName(TrainingMode v) { return NameOf(kModes, v); }
const char* OptimizerName(Optimizer v) { return NameOf(kOptimizers, v); }
const char* PrecisionRegimeName(PrecisionRegime v) { return NameOf(kPrecisions, v); }
const char* CheckpointingName(Checkpointing v) { return NameOf(kCheckpointing, v); }
const char* FsdpStrategyName(FsdpStrategy v) { return NameOf(kFsdp, v); }
const char* OffloadName(Offload v) { return NameOf(kOffload, v); }
Result<TrainingMode> ParseTrainingMode(std::string_view s) { return ParseNamed(kModes, s, "mode"); }
Result<Optimizer> ParseOptimizer(std::string_view s) { return ParseNamed(kOptimizers, s, "optimizer"); }
Result<PrecisionRegime> ParsePrecisionRegime(std::string_view s) {
  return ParseNamed(kPrecisions, s, "precision-regime");
}
Result<Checkpointing> ParseCheckpointing(std::string_view s) { return ParseNamed(kCheckpointing, s, "checkpointing"); }
Result<FsdpStrategy> ParseFsdpStrategy(std::string_view s) { return ParseNamed(kFsdp, s, "fsdp"); }
Result<Offload> ParseOffload(std::string_view s) { return ParseNamed(kOffload, s, "offload"); }

Status ValidateTraining(const ModelDescription& m, const TrainingRequest& r) {
  auto range = [](const char* field, int64_t v, int64_t lo, int64_t hi) -> Status {
    if (v < lo || v > hi) {
      return Status(ErrorCode::kOutOfRange, std::string(field) + ": must be an integer in [" + std::to_string(lo) +
                                                ", " + std::to_string(hi) + "], got " + std::to_string(v));
    }
    return Status::Ok();
  };
  VRAM_RETURN_IF_ERROR(range("micro-batch", r.micro_batch, 1, 4096));
  VRAM_RETURN_IF_ERROR(range("seq-len", r.seq_len, 1, int64_t{1} << 20));
  VRAM_RETURN_IF_ERROR(range("zero", r.zero_stage, 0, 3));
  VRAM_RETURN_IF_ERROR(range("tp", r.tp, 1, 1024));
  VRAM_RETURN_IF_ERROR(range("pp", r.pp, 1, 1024));
  VRAM_RETURN_IF_ERROR(range("dp", r.dp, 1, 65536));
  VRAM_RETURN_IF_ERROR(range("pp-microbatches", r.pp_microbatches, 0, 65536));
  VRAM_RETURN_IF_ERROR(range("fsdp-shard-group", r.fsdp_shard_group, 1, 65536));
  if (IsLora(r)) VRAM_RETURN_IF_ERROR(range("lora-rank", r.lora_rank, 1, 4096));
  if (!(r.dropout >= 0 && r.dropout < 1)) {
    return Status(ErrorCode::kOutOfRange, "dropout: must be a number in [0, 1)");
  }
  if (!(r.lora_dropout >= 0 && r.lora_dropout < 1)) {
    return Status(ErrorCode::kOutOfRange, "lora-dropout: must be a number in [0, 1)");
  }
  const AttentionGeometry& g = m.attention;
  if (g.layers.empty() || m.feed_forward.size() != g.layers.size()) {
    return Status(ErrorCode::kInvalidArgument, "model: empty geometry");
  }
  if (r.zero_stage > 0 && r.fsdp != FsdpStrategy::kNone) {
    return Status(ErrorCode::kInvalidArgument,
                  "zero: DeepSpeed ZeRO and FSDP both shard model states; use either --zero or --fsdp");
  }
  if (g.num_query_heads % r.tp != 0) {
    return Status(ErrorCode::kInvalidArgument,
                  "tp: " + std::to_string(r.tp) + " does not divide the " + std::to_string(g.num_query_heads) +
                      " attention heads; tensor parallelism gives each GPU whole heads");
  }
  if (g.num_kv_heads % r.tp != 0 && r.tp % g.num_kv_heads != 0) {
    return Status(ErrorCode::kInvalidArgument,
                  "tp: " + std::to_string(r.tp) + " neither divides nor is a multiple of the " +
                      std::to_string(g.num_kv_heads) + " KV heads, so KV heads cannot be split or replicated evenly");
  }
  for (const LayerFeedForward& f : m.feed_forward) {
    const int64_t width = f.moe ? f.expert_intermediate_size : f.intermediate_size;
    if (width % r.tp != 0) {
      return Status(ErrorCode::kInvalidArgument,
                    "tp: " + std::to_string(r.tp) + " does not divide the MLP width " + std::to_string(width));
    }
  }
  if (r.pp > g.num_layers) {
    return Status(ErrorCode::kOutOfRange, "pp: must be at most the " + std::to_string(g.num_layers) +
                                              " layers, got " + std::to_string(r.pp));
  }
  const Sharding sharding = ShardingOf(r);
  if (r.mode == TrainingMode::kQlora && sharding.level == 3) {
    return Status(ErrorCode::kUnsupported,
                  "qlora: ZeRO-3/FSDP parameter sharding splits weights into flat 16/32-bit shards, "
                  "which the bitsandbytes 4-bit base weights are not; use ZeRO-2, shard_grad_op or "
                  "one GPU");
  }
  const bool offload_params = r.offload == Offload::kParams || r.offload == Offload::kBoth;
  const bool offload_optimizer = r.offload == Offload::kOptimizer || r.offload == Offload::kBoth;
  if (offload_params && sharding.level != 3) {
    return Status(ErrorCode::kInvalidArgument,
                  "offload: parameter offload needs parameter sharding (--zero 3 or --fsdp full_shard/hybrid_shard)");
  }
  if (offload_optimizer && sharding.level == 0) {
    return Status(ErrorCode::kInvalidArgument,
                  "offload: optimizer offload (ZeRO-Offload) needs --zero 1, 2 or 3, or FSDP");
  }
  if (r.fsdp != FsdpStrategy::kNone && r.offload == Offload::kOptimizer) {
    return Status(ErrorCode::kInvalidArgument,
                  "offload: FSDP's CPUOffload moves parameters, gradients and the optimizer step together; use --offload both");
  }
  if (r.precision == PrecisionRegime::kFp32 && r.fp32_gradients) {
    return Status::Ok();
  }
  return Status::Ok();
}

int64_t CountTrainableParameters(const ModelDescription& m, const TrainingRequest& r) {
  int64_t total = 0;
  for (const TensorInfo& t : m.tensors) {
    if (!IsLora(r)) {
      total += t.elements();
    } else if (t.is_linear_weight() && Targeted(r.lora_targets, t.role)) {
      total += r.lora_rank * (t.ne[0] + t.ne[1]) * t.ne[2] + (r.dora ? t.ne[1] * t.ne[2] : 0);
    }
  }
  return total;
}

Result<TrainingEstimate> EstimateTraining(const ModelDescription& m, const TrainingRequest& r) {
  VRAM_RETURN_IF_ERROR(ValidateTraining(m, r));
  const AttentionGeometry& g = m.attention;
  const int64_t layers = g.num_layers;
  const uint64_t tp = U(r.tp);
  const int64_t stages = r.pp;
  const Sharding sharding = ShardingOf(r);
  const bool lora = IsLora(r);
  const bool mixed = r.precision == PrecisionRegime::kMixedBf16 || r.precision == PrecisionRegime::kMixedFp16;

  // Frozen base of LoRA/QLoRA in its storage format.
  WeightPlan base;
  if (lora) {
    std::string id = r.base_weights;
    if (id.empty() || id == "native") id = r.mode == TrainingMode::kQlora ? world::kQloraDefaultBase : world::kLoraDefaultBase;
    Result<WeightFormat> format = ParseWeightFormat(id);
    if (!format.ok()) return format.status();
    if (format->is_gguf()) {
      return Status(ErrorCode::kUnsupported, "weights: LoRA trains on a PyTorch base; '" + id +
                                                  "' is a llama.cpp format (try bf16, nf4-dq, int8, gptq-4bit-g128)");
    }
    if (r.mode == TrainingMode::kQlora && format->scheme != QuantScheme::kBnb4) {
      return Status(ErrorCode::kInvalidArgument,
                    "weights: QLoRA's base is bitsandbytes 4-bit (nf4, nf4-dq, fp4, fp4-dq), not '" + id + "'");
    }
    Result<WeightPlan> plan = PlanWeights(m, *format);
    if (!plan.ok()) return plan.status();
    base = std::move(plan).value();
  }

  // Bytes per element of each model state.
  const uint64_t compute_bytes = r.precision == PrecisionRegime::kFp32 ? 4 : 2;
  const uint64_t grad_bytes = r.precision == PrecisionRegime::kFp32 ? 4 : (mixed && r.fp32_gradients ? 4 : 2);
  // LoRA adapters: PEFT keeps them in fp32 under mixed precision (autocast_adapter_dtype).
  const uint64_t adapter_bytes = r.precision == PrecisionRegime::kBf16 ? 2 : 4;

  std::vector<StageStates> stage(static_cast<size_t>(stages));
  std::vector<uint64_t> layer_compute(static_cast<size_t>(layers), 0);
  for (int64_t l = 0; l < layers; ++l) ++stage[static_cast<size_t>(StageOf(l, layers, stages))].layers;
  for (size_t i = 0; i < m.tensors.size(); ++i) {
    const TensorInfo& t = m.tensors[i];
    std::vector<int64_t> holders;
    if (t.layer >= 0) {
      holders.push_back(StageOf(t.layer, layers, stages));
    } else if (t.role == TensorRole::kTokenEmbedding || t.role == TensorRole::kPositionEmbedding) {
      holders.push_back(0);
      // A tied head lives on the last stage too (Megatron keeps a copy and syncs its gradient).
      if (t.role == TensorRole::kTokenEmbedding && m.tied_embeddings && stages > 1) holders.push_back(stages - 1);
    } else {
      holders.push_back(stages - 1);
    }
    const uint64_t split = ReplicatedUnderTp(t) ? 1 : tp;
    const uint64_t elements = CeilDiv(U(t.elements()), split);
    for (int64_t s : holders) {
      StageStates& st = stage[static_cast<size_t>(s)];
      if (!lora) {
        st.compute_weights += elements * compute_bytes;
        if (mixed) st.master_weights += elements * 4;
        st.gradients += elements * grad_bytes;
        const uint64_t rows = CeilDiv(U(t.ne[1]), split), cols = U(t.ne[0]);
        st.optimizer += t.n_dims >= 2 ? OptimizerState(r, rows, cols, U(t.ne[2])) : OptimizerState(r, 1, elements, 1);
        if (t.layer >= 0) layer_compute[static_cast<size_t>(t.layer)] += elements * compute_bytes;
      } else {
        st.frozen_weights += CeilDiv(base.tensors[i].bytes, split);
        if (t.layer >= 0) layer_compute[static_cast<size_t>(t.layer)] += CeilDiv(base.tensors[i].bytes, split);
        if (t.is_linear_weight() && Targeted(r.lora_targets, t.role)) {
          const uint64_t rank = U(r.lora_rank), experts = U(t.ne[2]);
          const uint64_t a = rank * U(t.ne[0]), bmat = CeilDiv(U(t.ne[1]), split) * rank;
          const uint64_t magnitude = r.dora ? CeilDiv(U(t.ne[1]), split) : 0;
          const uint64_t n = (a + bmat + magnitude) * experts;
          st.compute_weights += n * adapter_bytes;
          st.gradients += n * adapter_bytes;
          st.optimizer += OptimizerState(r, rank, U(t.ne[0]), experts) +
                          OptimizerState(r, CeilDiv(U(t.ne[1]), split), rank, experts) +
                          (r.dora ? OptimizerState(r, 1, magnitude, experts) : 0);
        }
      }
    }
  }
  for (int64_t l = 0; l < layers; ++l) {
    StageStates& st = stage[static_cast<size_t>(StageOf(l, layers, stages))];
    st.largest_layer_compute = std::max(st.largest_layer_compute, layer_compute[static_cast<size_t>(l)]);
  }

  // Activations per layer for one micro-batch on this GPU.
  const uint64_t d = r.precision == PrecisionRegime::kFp32 ? 4 : 2;
  const uint64_t tokens = U(r.micro_batch) * U(r.seq_len);
  const uint64_t hidden = U(g.hidden_size);
  const uint64_t vocab = U(m.vocab_size);
  const uint64_t outside_split = r.sequence_parallel ? tp : 1;
  std::vector<uint64_t> stored(static_cast<size_t>(layers)), full_layer(static_cast<size_t>(layers));
  uint64_t scores_per_layer = 0;
  for (int64_t l = 0; l < layers; ++l) {
    const LayerActs acts = LayerActivations(m, l, r, d);
    const uint64_t all = CeilDiv(acts.inside, tp) + CeilDiv(acts.outside, outside_split);
    full_layer[static_cast<size_t>(l)] = all;
    scores_per_layer = std::max(scores_per_layer, CeilDiv(acts.scores, tp));
    switch (r.checkpointing) {
      case Checkpointing::kNone: stored[static_cast<size_t>(l)] = all; break;
      case Checkpointing::kSelective: stored[static_cast<size_t>(l)] = all - CeilDiv(acts.scores, tp); break;
      case Checkpointing::kFull: stored[static_cast<size_t>(l)] = CeilDiv(d * tokens * hidden, outside_split); break;
    }
  }
  const uint64_t loss_bytes =
      r.fused_loss ? 2 * tokens * hidden * 4  // chunked: the hidden-state gradient and one chunk
                   : tokens * CeilDiv(vocab, tp) * (d == 4 ? 4 + 4 : d + 4 + 4);
  const uint64_t final_norm = d * tokens * hidden;
  uint64_t dequant = 0;
  if (r.mode == TrainingMode::kQlora) {
    // Only tensors stored in 4 bits are dequantized (the output head stays 16-bit).
    for (size_t i = 0; i < m.tensors.size(); ++i) {
      const TensorInfo& t = m.tensors[i];
      const std::string& type = base.tensors[i].type;
      if (type.rfind("nf4", 0) == 0 || type.rfind("fp4", 0) == 0) {
        dequant = std::max(dequant, U(t.ne[0] * t.ne[1]) * 2);
      }
    }
  }

  // Evaluate each pipeline stage and keep the worst.
  const uint64_t microbatches = U(r.pp_microbatches > 0 ? r.pp_microbatches : r.pp);
  const bool offload_params = r.offload == Offload::kParams || r.offload == Offload::kBoth;
  const bool offload_optimizer = r.offload == Offload::kOptimizer || r.offload == Offload::kBoth ||
                                 (r.fsdp != FsdpStrategy::kNone && offload_params);
  struct StageTotals {
    uint64_t weights = 0, gathered = 0, master = 0, gradients = 0, optimizer = 0, activations = 0, host = 0;
    uint64_t saved = 0, recompute = 0, loss = 0;
    uint64_t total() const { return weights + gathered + master + gradients + optimizer + activations; }
  };
  StageTotals worst;
  int64_t worst_stage = 0;
  for (int64_t s = 0; s < stages; ++s) {
    const StageStates& st = stage[static_cast<size_t>(s)];
    StageTotals t;
    const uint64_t ranks = sharding.ranks;
    // Model states after ZeRO/FSDP sharding.
    uint64_t params = st.compute_weights + st.frozen_weights;
    t.weights = sharding.level >= 3 ? CeilDiv(params, ranks) : params;
    t.master = sharding.level >= 1 ? CeilDiv(st.master_weights, ranks) : st.master_weights;
    t.optimizer = sharding.level >= 1 ? CeilDiv(st.optimizer, ranks) : st.optimizer;
    t.gradients = sharding.level >= 2 ? CeilDiv(st.gradients, ranks) : st.gradients;
    if (sharding.level >= 3 && ranks > 1) {
      // All-gathered parameters of the layer being computed plus the one prefetched.
      t.gathered = 2 * st.largest_layer_compute;
    }
    if (offload_optimizer) {
      t.host += t.optimizer + t.master;
      t.optimizer = t.master = 0;
      if (sharding.level >= 2) {
        t.host += t.gradients / grad_bytes * 4;  // fp32 gradients on the CPU
        t.gradients = 0;
      }
    }
    if (offload_params) {
      t.host += t.weights;
      t.weights = 0;
      if (t.gathered == 0) t.gathered = 2 * st.largest_layer_compute;
    }
    // Activations: 1F1B keeps min(stages - s, micro-batches) micro-batches in flight on stage s.
    const uint64_t in_flight = std::min<uint64_t>(U(stages - s), microbatches);
    uint64_t saved = 0, recompute = 0;
    for (int64_t l = 0; l < layers; ++l) {
      if (StageOf(l, layers, stages) != s) continue;
      saved += stored[static_cast<size_t>(l)];
      if (r.checkpointing == Checkpointing::kFull) recompute = std::max(recompute, full_layer[static_cast<size_t>(l)]);
    }
    t.saved = saved * in_flight;
    t.recompute = recompute;
    t.loss = s == stages - 1 ? loss_bytes + final_norm : 0;
    t.activations = t.saved + t.recompute + t.loss + dequant;
    if (s == 0 || t.total() > worst.total()) {
      worst = t;
      worst_stage = s;
    }
  }

  TrainingEstimate e;
  e.parameters = CountParameters(m).total;
  e.trainable_parameters = CountTrainableParameters(m, r);
  e.activation_bytes_per_layer = full_layer.empty() ? 0 : full_layer[0];
  e.weights_bytes = worst.weights + worst.gathered + worst.master;
  e.gradients_bytes = worst.gradients;
  e.optimizer_bytes = worst.optimizer;
  e.activations_bytes = worst.activations;
  e.host_bytes = worst.host;
  const int64_t world_size = r.tp * r.pp * r.dp;
  e.overhead_bytes = world::kPytorchCudaContextBytes + world::kCublasWorkspaceBytes +
                     (world_size > 1 ? world::kNcclBuffersBytes : 0);
  e.total_bytes = e.weights_bytes + e.gradients_bytes + e.optimizer_bytes + e.activations_bytes + e.overhead_bytes;
  if (Paged(r.optimizer)) e.pageable_bytes = e.optimizer_bytes;

  // Itemize.
  auto add = [&](const char* category, const char* key, const char* label, uint64_t bytes, std::string why) {
    if (bytes > 0) e.items.push_back({category, key, label, bytes, std::move(why)});
  };
  const std::string params_text = Thousands(U(e.parameters)) + " parameters";
  const std::string trainable_text = Thousands(U(e.trainable_parameters)) + " trainable parameters";
  std::string sharded;
  if (world_size > 1) {
    sharded = " (this GPU's share: tp " + std::to_string(r.tp) + ", pp stage " + std::to_string(worst_stage + 1) + "/" +
              std::to_string(r.pp) + (sharding.level > 0 ? ", sharded over " + std::to_string(sharding.ranks) + " ranks" : "") + ")";
  }
  if (lora) {
    add("weights", "frozen_base", "Frozen base weights", worst.weights,
        params_text + " frozen as " + base.format.id + " plus the " + trainable_text + " of the adapters in " +
            (adapter_bytes == 4 ? "fp32" : "bf16") + sharded);
  } else {
    add("weights", "weights", "Weights", worst.weights,
        params_text + " x " + std::to_string(compute_bytes) + " bytes (" +
            (r.precision == PrecisionRegime::kFp32 ? "fp32" : "16-bit") + " compute copy)" + sharded);
  }
  add("weights", "master_weights", "Master weights (fp32)", worst.master,
      "mixed precision keeps an fp32 copy of every trainable parameter for the optimizer update" +
          std::string(sharding.level >= 1 ? ", sharded with the optimizer states" : ""));
  add("weights", "gathered_parameters", "Gathered parameters", worst.gathered,
      "ZeRO-3/FSDP all-gathers the full weights of the layer being computed and prefetches the next one");
  add("gradients", "gradients", "Gradients", worst.gradients,
      trainable_text + " x " + std::to_string(lora ? adapter_bytes : grad_bytes) +
          " bytes; accumulating over micro-batches reuses this one buffer" +
          std::string(sharding.level >= 2 ? ", sharded" : ""));
  {
    std::string why = std::string(OptimizerName(r.optimizer)) + " state for the " + trainable_text + ": ";
    switch (r.optimizer) {
      case Optimizer::kAdamW:
      case Optimizer::kPagedAdamW: why += "two moments at " + std::to_string(StateBytes(r)) + " bytes each"; break;
      case Optimizer::kAdamW8bit:
      case Optimizer::kPagedAdamW8bit:
        why += "two 8-bit moments plus an fp32 scale per 256 values (tensors under 4,096 values stay 32-bit)";
        break;
      case Optimizer::kAdafactor: why += "a row and a column vector per matrix (factored second moment)"; break;
      case Optimizer::kSgd: why += "none"; break;
      case Optimizer::kSgdMomentum:
      case Optimizer::kLion: why += "one momentum buffer"; break;
    }
    if (Paged(r.optimizer)) why += "; paged: it sits in unified memory and moves to host RAM under memory pressure";
    add("optimizer", "optimizer", "Optimizer states", worst.optimizer, why);
  }
  {
    std::string why = "saved activations of " + std::to_string(stage[static_cast<size_t>(worst_stage)].layers) +
                      " layers for " + Thousands(tokens) + " tokens (micro-batch " + std::to_string(r.micro_batch) +
                      " x " + Thousands(U(r.seq_len)) + ")";
    if (r.checkpointing == Checkpointing::kFull) why += ", only each layer's input under full checkpointing";
    if (r.checkpointing == Checkpointing::kSelective) why += ", without the recomputed attention core";
    if (r.attention == AttentionImpl::kEager && r.checkpointing != Checkpointing::kSelective) {
      why += "; eager attention keeps " + std::to_string(g.num_query_heads) + " x " + Thousands(U(r.seq_len)) + "^2 scores per layer";
    }
    if (r.pp > 1) why += "; 1F1B keeps " + std::to_string(std::min<uint64_t>(U(stages - worst_stage), microbatches)) + " micro-batches in flight on this stage";
    add("activations", "saved_activations", "Saved activations", worst.saved, why);
  }
  add("activations", "recompute", "Recomputed layer", worst.recompute,
      "full checkpointing rebuilds one layer's activations at a time during the backward pass");
  add("activations", "logits_loss", r.fused_loss ? "Loss (fused)" : "Logits and loss", worst.loss,
      r.fused_loss ? "a chunked linear + cross-entropy never materializes the logits: the hidden states and their gradient in fp32"
                   : "logits over " + Thousands(vocab) + " tokens for " + Thousands(tokens) +
                         " positions in the compute dtype, their fp32 upcast and the fp32 log-softmax kept for the backward pass");
  add("activations", "dequant", "4-bit dequantization buffer", dequant,
      "bitsandbytes dequantizes one 4-bit weight at a time to 16-bit for the matmul");
  add("overhead", "cuda_context", "CUDA context", world::kPytorchCudaContextBytes,
      "PyTorch process CUDA context with lazy module loading (measured 287 MB)");
  add("overhead", "cublas_workspace", "cuBLAS workspace", world::kCublasWorkspaceBytes,
      "PyTorch's cuBLAS workspace for the compute stream");
  if (world_size > 1) {
    add("overhead", "nccl", "NCCL buffers", world::kNcclBuffersBytes,
        "NCCL communicator buffers for " + std::to_string(world_size) + " GPUs");
  }
  if (e.host_bytes > 0) {
    e.notes.push_back("offloading puts " + Thousands(e.host_bytes) + " bytes in host RAM per GPU rank");
  }
  if (e.pageable_bytes > 0) {
    e.notes.push_back("paged optimizer: its states can move to host RAM when the GPU runs short, so the run fits "
                      "once the rest (" + Thousands(e.total_bytes - e.pageable_bytes) + " bytes) does");
  }
  if (sharding.level > 0 && sharding.ranks == 1) {
    e.notes.push_back("ZeRO/FSDP with one data-parallel rank shards nothing; raise --dp");
  }
  e.notes.push_back("a training step has no KV cache: keys and values are activations, counted there");
  for (const std::string& w : m.warnings) e.notes.push_back(w);
  return e;
}

}  // namespace vram
