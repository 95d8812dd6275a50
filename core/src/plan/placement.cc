// Placement: what each device holds under a layer or tensor split, and the fit of that.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>

#include "../runtime/profile.h"
#include "../world.h"
#include "plan.h"

namespace vram {
namespace plan {

int64_t CeilDivI(int64_t a, int64_t b) { return (a + b - 1) / b; }

std::string GiBText(int64_t bytes) { return internal::GiB(static_cast<double>(bytes)); }

SplitMode ResolveSplit(SplitMode split, Runtime runtime) {
  if (split != SplitMode::kAuto) return split;
  return runtime::ProfileOf(runtime).DefaultSplit();
}

Slot SlotOf(const ModelDescription& m, const TensorInfo& t) {
  if (t.layer >= 0) return Slot::kLayer;
  if ((t.role == TensorRole::kTokenEmbedding && !m.tied_embeddings) ||
      t.role == TensorRole::kPositionEmbedding) {
    return Slot::kInput;
  }
  return Slot::kOutput;
}

/// Bytes a tensor occupies on the device, by the runtime's rule.
uint64_t DeviceBytes(const ModelDescription& m, const WeightPlan& p, size_t i, Runtime runtime) {
  return runtime::ProfileOf(runtime).TensorDeviceBytes(m, p, i);
}

/// Bytes decode reads from a tensor per token (the rule of WeightPlan::bytes_read_per_token).
uint64_t ReadBytes(const ModelDescription& m, const WeightPlan& p, size_t i) {
  const TensorInfo& t = m.tensors[i];
  const uint64_t bytes = p.tensors[i].bytes;
  const bool lookup = (t.role == TensorRole::kTokenEmbedding && !m.tied_embeddings) ||
                      t.role == TensorRole::kPositionEmbedding;
  if (lookup && t.ne[1] > 0) return bytes / static_cast<uint64_t>(t.ne[1]);
  if (t.is_routed_expert() && t.layer >= 0 &&
      static_cast<size_t>(t.layer) < m.feed_forward.size()) {
    const LayerFeedForward& ffn = m.feed_forward[static_cast<size_t>(t.layer)];
    if (ffn.num_experts > 0) {
      return bytes / static_cast<uint64_t>(ffn.num_experts) *
             static_cast<uint64_t>(ffn.experts_per_token);
    }
  }
  return bytes;
}

/// Multiply-accumulate parameters one token goes through: linear weights, routed experts at top-k,
/// plus a tied head (which is stored as the embedding).
uint64_t MatmulParams(const ModelDescription& m) {
  uint64_t n = 0;
  for (const TensorInfo& t : m.tensors) {
    if (!t.is_linear_weight()) continue;
    uint64_t e = static_cast<uint64_t>(t.elements());
    if (t.is_routed_expert() && t.layer >= 0 &&
        static_cast<size_t>(t.layer) < m.feed_forward.size()) {
      const LayerFeedForward& f = m.feed_forward[static_cast<size_t>(t.layer)];
      if (f.num_experts > 0)
        e = e / static_cast<uint64_t>(f.num_experts) * static_cast<uint64_t>(f.experts_per_token);
    }
    n += e;
  }
  if (m.tied_embeddings)
    n += static_cast<uint64_t>(m.vocab_size) * static_cast<uint64_t>(m.hidden_size);
  return n;
}

double ExpertFraction(const ModelDescription& m) {
  for (const LayerFeedForward& f : m.feed_forward) {
    if (f.moe && f.num_experts > 0) {
      return static_cast<double>(f.experts_per_token) / static_cast<double>(f.num_experts);
    }
  }
  return 0;
}

/// A copy of the model's geometry with one placeholder tensor: EstimateNumbers reads the geometry
/// and the plan's totals, never the tensors (PlannerTest.LayerSplitPartsAddUpToTheWhole guards
/// this).
std::unique_ptr<ModelDescription> Skeleton(const ModelDescription& m, int64_t first, int64_t end,
                                           bool output) {
  auto s = std::make_unique<ModelDescription>();
  s->architecture = m.architecture;
  s->vocab_size = output ? m.vocab_size : 0;
  s->hidden_size = m.hidden_size;
  s->max_context_tokens = m.max_context_tokens;
  s->tied_embeddings = m.tied_embeddings;
  s->learned_position_embeddings = m.learned_position_embeddings;
  s->checkpoint_dtype = m.checkpoint_dtype;
  s->native_quantization = m.native_quantization;
  s->attention = m.attention;
  s->attention.layers.assign(m.attention.layers.begin() + first, m.attention.layers.begin() + end);
  s->attention.num_layers = end - first;
  s->feed_forward.assign(m.feed_forward.begin() + first, m.feed_forward.begin() + end);
  TensorInfo placeholder;
  placeholder.name = "placeholder";
  s->tensors.push_back(placeholder);
  return s;
}

std::unique_ptr<WeightPlan> SkeletonPlan(const WeightPlan& p, uint64_t device_bytes,
                                         uint64_t embedding_bytes) {
  auto s = std::make_unique<WeightPlan>();
  s->format = p.format;
  s->tensors.resize(1);
  s->total_bytes = device_bytes;
  s->cuda_device_bytes = device_bytes;
  s->token_embedding_bytes = embedding_bytes;
  s->parameters = p.parameters;
  s->bits_per_weight = p.bits_per_weight;
  return s;
}

/// The device of item `il` (0..n_layer, n_layer = the output layer) when n_layer + 1 items are
/// spread evenly over `count` devices: llama.cpp's load_tensors assigns item il to the first
/// device whose cumulative split exceeds il / (n_layer + 1), with splits proportional to free
/// memory (equal for identical devices). src/llama-model.cpp, get_layer_buft_list.
int DeviceOfItem(int64_t il, int64_t n_layer, int count) {
  return static_cast<int>(il * count / (n_layer + 1));
}

Result<Placement> PlaceLayers(const ModelDescription& m, const WeightPlan& p, Runtime runtime,
                              int count) {
  Placement pl;
  pl.split = SplitMode::kLayer;
  pl.count = count;
  const int64_t n_layer = static_cast<int64_t>(m.attention.layers.size());
  if (count > 1) {
    // Every device needs at least one repeating layer.
    for (int d = 0; d < count; ++d) {
      bool has = false;
      for (int64_t il = 0; il < n_layer && !has; ++il) has = DeviceOfItem(il, n_layer, count) == d;
      if (!has) {
        return Status(ErrorCode::kUnsupported,
                      "gpus: splitting " + std::to_string(n_layer) + " layers by layer over " +
                          std::to_string(count) + " devices leaves device " + std::to_string(d) +
                          " without a layer; use at most " +
                          std::to_string(std::max<int64_t>(1, n_layer / 2)));
      }
    }
  }
  std::vector<uint64_t> weights(static_cast<size_t>(count), 0),
      dense(static_cast<size_t>(count), 0), experts(static_cast<size_t>(count), 0);
  const runtime::Profile& profile = runtime::ProfileOf(runtime);
  const bool embedding_on_host = profile.TokenEmbeddingOnHost();
  for (size_t i = 0; i < m.tensors.size(); ++i) {
    const TensorInfo& t = m.tensors[i];
    const Slot slot = SlotOf(m, t);
    const int d = slot == Slot::kInput ? 0
                  : slot == Slot::kOutput
                      ? DeviceOfItem(n_layer, n_layer, count)
                      : DeviceOfItem(std::min<int64_t>(t.layer, n_layer - 1), n_layer, count);
    weights[static_cast<size_t>(d)] += profile.TensorDeviceBytes(m, p, i);
    if (embedding_on_host && slot == Slot::kInput && t.role == TensorRole::kTokenEmbedding) {
      continue;
    }
    if (t.is_routed_expert()) {
      experts[static_cast<size_t>(d)] += p.tensors[i].bytes;
    } else {
      dense[static_cast<size_t>(d)] += ReadBytes(m, p, i);
    }
  }
  pl.expert_fraction = ExpertFraction(m);
  pl.matmul_params_per_token = MatmulParams(m);
  for (int d = 0; d < count; ++d) {
    int64_t first = n_layer, end = 0;
    for (int64_t il = 0; il < n_layer; ++il) {
      if (DeviceOfItem(il, n_layer, count) == d) {
        first = std::min(first, il);
        end = std::max(end, il + 1);
      }
    }
    const bool output = DeviceOfItem(n_layer, n_layer, count) == d;
    Part part;
    if (count == 1) {
      part.model = &m;
      part.plan = &p;
    } else {
      pl.models.push_back(Skeleton(m, first, end, output));
      pl.plans.push_back(
          SkeletonPlan(p, weights[static_cast<size_t>(d)], d == 0 ? p.token_embedding_bytes : 0));
      part.model = pl.models.back().get();
      part.plan = pl.plans.back().get();
    }
    part.first_layer = first;
    part.end_layer = end;
    part.holds_output = output;
    part.dense_read_bytes = dense[static_cast<size_t>(d)];
    part.expert_bytes = experts[static_cast<size_t>(d)];
    pl.parts.push_back(part);
  }
  if (count > 1) {
    pl.notes.push_back(
        "layer split: each device holds whole layers with their KV cache and runs them in turn "
        "(llama.cpp --split-mode layer); every device has its own compute buffer and CUDA context");
  }
  return pl;
}

/// The model one tensor-parallel rank holds (vLLM's sharding of each layer kind).
Result<Placement> PlaceTensorParallel(const ModelDescription& m, const WeightPlan& p,
                                      Runtime runtime, int t) {
  if (t == 1) return PlaceLayers(m, p, runtime, 1);
  const AttentionGeometry& g = m.attention;
  const bool mla = g.mla_kv_lora_rank > 0;
  VRAM_RETURN_IF_ERROR(runtime::ProfileOf(runtime).CheckTensorSplit());
  if (g.num_query_heads % t != 0) {
    return Status(
        ErrorCode::kUnsupported,
        "gpus: tensor parallelism splits the " + std::to_string(g.num_query_heads) +
            " attention heads evenly, which " + std::to_string(t) +
            " devices cannot (vLLM: heads must be divisible by the tensor-parallel size)");
  }
  const int64_t kv = g.num_kv_heads;
  if (!mla && kv > 0 && ((t < kv && kv % t != 0) || (t >= kv && t % kv != 0))) {
    return Status(ErrorCode::kUnsupported,
                  "gpus: " + std::to_string(kv) +
                      " KV heads cannot be split or replicated evenly over " + std::to_string(t) +
                      " devices (vLLM QKVParallelLinear)");
  }
  const int64_t kv_local = mla || kv == 0 ? kv : (t >= kv ? 1 : kv / t);
  auto sharded = std::make_unique<ModelDescription>(m);
  ModelDescription& s = *sharded;
  const int64_t vocab_local =
      CeilDivI(static_cast<int64_t>(RoundUp(static_cast<uint64_t>(m.vocab_size),
                                            static_cast<uint64_t>(world::kVllmVocabPadding))),
               t);
  auto rows = [&](int64_t n) { return CeilDivI(n, t); };
  for (TensorInfo& x : s.tensors) {
    // Column-parallel tensors split their output features (ne[1]; ne[0] for a 1-D bias);
    // row-parallel ones their input features (ne[0]) and keep their bias whole.
    int64_t& out = x.is_bias ? x.ne[0] : x.ne[1];
    switch (x.role) {
      case TensorRole::kTokenEmbedding:
      case TensorRole::kOutputHead:
        if (!x.is_bias) x.ne[1] = vocab_local;
        break;
      case TensorRole::kAttnQ:
      case TensorRole::kAttnQB:
      case TensorRole::kAttnKvB:
      case TensorRole::kAttnSinks:
      case TensorRole::kFfnGate:
      case TensorRole::kFfnUp:
      case TensorRole::kFfnGateUp:
      case TensorRole::kExpertGate:
      case TensorRole::kExpertUp:
      case TensorRole::kSharedExpertGate:
      case TensorRole::kSharedExpertUp:
        if (x.role == TensorRole::kAttnSinks) {
          x.ne[0] = rows(x.ne[0]);
        } else {
          out = rows(out);
        }
        break;
      case TensorRole::kAttnK:
      case TensorRole::kAttnV:
        if (!mla && kv > 0) out = out / kv * kv_local;
        break;
      case TensorRole::kAttnQkv: {
        const int64_t q = g.num_query_heads * g.key_head_dim;
        const int64_t full = q + 2 * kv * g.key_head_dim;
        out = out == full ? q / t + 2 * kv_local * g.key_head_dim : rows(out);
        break;
      }
      case TensorRole::kAttnOutput:
      case TensorRole::kFfnDown:
      case TensorRole::kExpertDown:
      case TensorRole::kSharedExpertDown:
        if (!x.is_bias) x.ne[0] = rows(x.ne[0]);
        break;
      default:
        break;  // Norms, routers, MLA down-projections, position embeddings: replicated.
    }
  }
  s.attention.num_query_heads = g.num_query_heads / t;
  if (!mla) {
    s.attention.num_kv_heads = kv_local;
    for (LayerAttention& l : s.attention.layers) {
      if (l.num_kv_heads > 0) l.num_kv_heads = l.num_kv_heads >= t ? l.num_kv_heads / t : 1;
    }
  }
  for (LayerFeedForward& f : s.feed_forward) {
    f.intermediate_size = rows(f.intermediate_size);
    f.expert_intermediate_size = rows(f.expert_intermediate_size);
    f.shared_intermediate_size = rows(f.shared_intermediate_size);
  }
  Result<WeightPlan> plan = PlanWeights(s, p.format);
  if (!plan.ok()) {
    return Status(plan.status().code(), "gpus: one tensor-parallel shard of " + std::to_string(t) +
                                            " cannot be stored: " + plan.status().message());
  }
  Placement pl;
  pl.split = SplitMode::kTensor;
  pl.count = t;
  pl.expert_fraction = ExpertFraction(m);
  pl.matmul_params_per_token = MatmulParams(m);
  Part part;
  part.model = sharded.get();
  pl.plans.push_back(std::make_unique<WeightPlan>(std::move(plan).value()));
  part.plan = pl.plans.back().get();
  part.first_layer = 0;
  part.end_layer = static_cast<int64_t>(m.attention.layers.size());
  part.holds_output = true;
  part.replicas = t;
  for (size_t i = 0; i < s.tensors.size(); ++i) {
    if (s.tensors[i].is_routed_expert()) {
      part.expert_bytes += part.plan->tensors[i].bytes;
    } else {
      part.dense_read_bytes += ReadBytes(s, *part.plan, i);
    }
  }
  pl.models.push_back(std::move(sharded));
  pl.parts.push_back(part);
  pl.notes.push_back(
      "tensor parallel over " + std::to_string(t) +
      " devices: matrices split, norms and routers replicated, two all-reduces per layer");
  if (mla) {
    pl.notes.push_back(
        "MLA: every rank keeps the whole latent KV cache (it has no head axis to split)");
  } else if (t > kv) {
    pl.notes.push_back("tensor-parallel degree " + std::to_string(t) + " exceeds the " +
                       std::to_string(kv) + " KV heads: each rank holds one replicated KV head");
  }
  return pl;
}

Result<Placement> Place(const ModelDescription& m, const WeightPlan& p, Runtime runtime,
                        SplitMode split, int count) {
  if (m.tensors.size() != p.tensors.size()) {
    return Status(ErrorCode::kInvalidArgument, "weights: plan does not belong to this model");
  }
  if (m.attention.layers.empty() || m.feed_forward.size() != m.attention.layers.size()) {
    return Status(ErrorCode::kInvalidArgument, "model: empty or inconsistent layer geometry");
  }
  const SplitMode resolved = ResolveSplit(split, runtime);
  if (count == 1 || resolved == SplitMode::kLayer) return PlaceLayers(m, p, runtime, count);
  return PlaceTensorParallel(m, p, runtime, count);
}

/// Memory one device offers: usable memory; vLLM takes ceil(memory x utilization) and keeps its
/// CUDA context outside that budget.
uint64_t Capacity(const Device& d, const InferenceRequest& r) {
  return runtime::ProfileOf(r.runtime).Capacity(d, r);
}

InferenceRequest ForDevice(InferenceRequest r, const Device& d) {
  r.device_memory_bytes = d.usable_memory_bytes();
  return r;
}

Result<FitResult> FitPlaced(const Placement& pl, const ModelDescription& m, const WeightPlan& p,
                            const InferenceRequest& request, const HardwareConfig& hw) {
  const InferenceRequest r = ForDevice(request, *hw.device);
  FitResult f;
  f.split = pl.split;
  f.devices = pl.count;
  f.capacity_bytes = Capacity(*hw.device, r);
  f.required_headroom_bytes = static_cast<uint64_t>(
      std::ceil(static_cast<double>(hw.device->usable_memory_bytes()) * hw.min_headroom_fraction));
  Result<InferenceEstimate> whole = EstimateNumbers(m, p, r);
  if (!whole.ok()) return whole.status();
  f.single_device_bytes = whole->total_bytes;
  f.fits = true;
  f.headroom_bytes = INT64_MAX;
  uint64_t sum = 0;
  for (const Part& part : pl.parts) {
    Result<InferenceEstimate> e =
        pl.count == 1 ? whole : EstimateNumbers(*part.model, *part.plan, r);
    if (!e.ok()) return e.status();
    DeviceLoad load;
    load.weights_bytes = e->weights_bytes;
    load.kv_cache_bytes = e->kv_cache_bytes;
    load.activations_bytes = e->activations_bytes;
    load.overhead_bytes = e->overhead_bytes;
    load.total_bytes = e->total_bytes;
    load.first_layer = part.first_layer;
    load.end_layer = part.end_layer;
    load.holds_output = part.holds_output;
    for (int k = 0; k < part.replicas; ++k) {
      f.per_device.push_back(load);
      sum += load.total_bytes;
    }
    const int64_t room =
        static_cast<int64_t>(f.capacity_bytes) - static_cast<int64_t>(load.total_bytes);
    f.headroom_bytes = std::min(f.headroom_bytes, room);
    f.fits = f.fits && room >= static_cast<int64_t>(f.required_headroom_bytes);
  }
  f.split_overhead_bytes = sum > f.single_device_bytes ? sum - f.single_device_bytes : 0;
  f.notes = pl.notes;
  const runtime::Profile& profile = runtime::ProfileOf(r.runtime);
  if (const std::string note = profile.CapacityNote(r); !note.empty()) f.notes.push_back(note);
  if (hw.device->device_class() != DeviceClass::kDiscreteGpu && profile.CountsCudaOverhead()) {
    f.notes.push_back(
        "the runtime overhead counted is a CUDA context's; Metal and CPU backends need less");
  }
  return f;
}

Status CheckRuntimeOnDevice(const InferenceRequest& r, const Device& d) {
  return runtime::ProfileOf(r.runtime).CheckDevice(d);
}

// --- Solvers ----------------------------------------------------------------------------------

Status CheckInputs(const ModelDescription& m, const WeightPlan& p, const InferenceRequest& r,
                   const HardwareConfig& hw) {
  VRAM_RETURN_IF_ERROR(ValidateHardware(hw));
  VRAM_RETURN_IF_ERROR(ValidateRequest(r));
  VRAM_RETURN_IF_ERROR(CheckRuntimeOnDevice(r, *hw.device));
  if (m.tensors.size() != p.tensors.size()) {
    return Status(ErrorCode::kInvalidArgument, "weights: plan does not belong to this model");
  }
  return Status::Ok();
}

}  // namespace plan

using namespace plan;  // NOLINT: this folder is the planner

uint64_t internal::MatmulParamsPerToken(const ModelDescription& model) {
  return MatmulParams(model);
}

double internal::AttentionFlopsPerToken(const ModelDescription& model, int64_t position) {
  return AttentionFlops(model, position);
}

const char* SplitModeName(SplitMode mode) {
  switch (mode) {
    case SplitMode::kAuto:
      return "auto";
    case SplitMode::kLayer:
      return "layer";
    case SplitMode::kTensor:
      return "tensor";
  }
  return "auto";
}

Result<SplitMode> ParseSplitMode(std::string_view name) {
  if (name == "auto") return SplitMode::kAuto;
  if (name == "layer" || name == "pp" || name == "pipeline") return SplitMode::kLayer;
  if (name == "tensor" || name == "tp") return SplitMode::kTensor;
  return Status(ErrorCode::kNotFound, "split: '" + std::string(name.substr(0, 40)) +
                                          "' is not one of auto, layer, tensor");
}

Status ValidateHardware(const HardwareConfig& hw) {
  if (hw.device == nullptr) return Status(ErrorCode::kInvalidArgument, "gpu: no device given");
  if (hw.count < 1 || hw.count > kMaxDevices) {
    return Status(ErrorCode::kOutOfRange, "gpus: must be an integer in [1, " +
                                              std::to_string(kMaxDevices) + "], got " +
                                              std::to_string(hw.count));
  }
  if (hw.count > 1 && !hw.device->can_pool()) {
    return Status(ErrorCode::kOutOfRange,
                  "gpus: '" + hw.device->id +
                      "' has no interconnect to pool memory with; must be 1, got " +
                      std::to_string(hw.count));
  }
  if (!(hw.min_headroom_fraction >= 0.0 && hw.min_headroom_fraction <= 0.9)) {
    return Status(ErrorCode::kOutOfRange, "headroom: must be a fraction in [0, 0.9], got " +
                                              std::to_string(hw.min_headroom_fraction));
  }
  if (hw.host_memory_bandwidth_bytes_per_s > (uint64_t{1} << 50)) {
    return Status(ErrorCode::kOutOfRange, "host bandwidth: must be at most 1 PB/s");
  }
  return Status::Ok();
}

Result<FitResult> Fit(const ModelDescription& model, const WeightPlan& weights,
                      const InferenceRequest& request, const HardwareConfig& hardware) {
  VRAM_RETURN_IF_ERROR(CheckInputs(model, weights, request, hardware));
  Result<Placement> pl = Place(model, weights, request.runtime, hardware.split, hardware.count);
  if (!pl.ok()) return pl.status();
  return FitPlaced(*pl, model, weights, request, hardware);
}

}  // namespace vram
