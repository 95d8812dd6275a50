// The hardware planner: fit on N devices, solvers, offload, throughput, recommendations, advice,
// cost and power. Memory always comes from EstimateNumbers; this file decides what each device
// holds and how fast the result runs.

#include "numeric.h"
#include "planner_internal.h"
#include "vram/planner.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>

#include "runtime/profile.h"
#include "world.h"

namespace vram {

namespace {

using internal::CeilDiv;
using internal::RoundUp;

constexpr int kMaxDevices = 64;
constexpr int64_t kMaxContext = int64_t{1} << 24;
constexpr int64_t kMaxBatch = 65536;

int64_t CeilDivI(int64_t a, int64_t b) { return (a + b - 1) / b; }

std::string GiBText(int64_t bytes) { return internal::GiB(static_cast<double>(bytes)); }

using internal::Fixed;

SplitMode ResolveSplit(SplitMode split, Runtime runtime) {
  if (split != SplitMode::kAuto) return split;
  return runtime::ProfileOf(runtime).DefaultSplit();
}

/// Where a tensor sits when the model is cut into layers: its layer, or the input (token and
/// position embeddings) or output (final norm, head, a tied head's copy) layer.
enum class Slot : uint8_t { kInput, kLayer, kOutput };

Slot SlotOf(const ModelDescription& m, const TensorInfo& t) {
  if (t.layer >= 0) return Slot::kLayer;
  if ((t.role == TensorRole::kTokenEmbedding && !m.tied_embeddings) || t.role == TensorRole::kPositionEmbedding) {
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
  if (t.is_routed_expert() && t.layer >= 0 && static_cast<size_t>(t.layer) < m.feed_forward.size()) {
    const LayerFeedForward& ffn = m.feed_forward[static_cast<size_t>(t.layer)];
    if (ffn.num_experts > 0) {
      return bytes / static_cast<uint64_t>(ffn.num_experts) * static_cast<uint64_t>(ffn.experts_per_token);
    }
  }
  return bytes;
}

/// A model and weight plan that stand for what one device holds.
struct Part {
  const ModelDescription* model = nullptr;
  const WeightPlan* plan = nullptr;
  int64_t first_layer = 0;
  int64_t end_layer = 0;
  bool holds_output = false;
  int replicas = 1;  ///< Tensor parallelism: every rank holds the same.
  // Decode reads of this device's weights: all but the routed experts, and the routed experts
  // stored (of which one token reads a fraction `expert_fraction`).
  uint64_t dense_read_bytes = 0;
  uint64_t expert_bytes = 0;
};

/// What every device holds for one (runtime, split, count).
struct Placement {
  SplitMode split = SplitMode::kLayer;
  int count = 1;
  std::vector<Part> parts;
  double expert_fraction = 0;  ///< top-k / experts of the MoE layers (0 for dense models).
  uint64_t matmul_params_per_token = 0;  ///< Of the whole model, for the FLOP count.
  std::vector<std::unique_ptr<ModelDescription>> models;
  std::vector<std::unique_ptr<WeightPlan>> plans;
  std::vector<std::string> notes;
};

/// Multiply-accumulate parameters one token goes through: linear weights, routed experts at top-k,
/// plus a tied head (which is stored as the embedding).
uint64_t MatmulParams(const ModelDescription& m) {
  uint64_t n = 0;
  for (const TensorInfo& t : m.tensors) {
    if (!t.is_linear_weight()) continue;
    uint64_t e = static_cast<uint64_t>(t.elements());
    if (t.is_routed_expert() && t.layer >= 0 && static_cast<size_t>(t.layer) < m.feed_forward.size()) {
      const LayerFeedForward& f = m.feed_forward[static_cast<size_t>(t.layer)];
      if (f.num_experts > 0) e = e / static_cast<uint64_t>(f.num_experts) * static_cast<uint64_t>(f.experts_per_token);
    }
    n += e;
  }
  if (m.tied_embeddings) n += static_cast<uint64_t>(m.vocab_size) * static_cast<uint64_t>(m.hidden_size);
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
std::unique_ptr<ModelDescription> Skeleton(const ModelDescription& m, int64_t first, int64_t end, bool output) {
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

std::unique_ptr<WeightPlan> SkeletonPlan(const WeightPlan& p, uint64_t device_bytes, uint64_t embedding_bytes) {
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

Result<Placement> PlaceLayers(const ModelDescription& m, const WeightPlan& p, Runtime runtime, int count) {
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
                          " without a layer; use at most " + std::to_string(std::max<int64_t>(1, n_layer / 2)));
      }
    }
  }
  std::vector<uint64_t> weights(static_cast<size_t>(count), 0), dense(static_cast<size_t>(count), 0),
      experts(static_cast<size_t>(count), 0);
  const runtime::Profile& profile = runtime::ProfileOf(runtime);
  const bool embedding_on_host = profile.TokenEmbeddingOnHost();
  for (size_t i = 0; i < m.tensors.size(); ++i) {
    const TensorInfo& t = m.tensors[i];
    const Slot slot = SlotOf(m, t);
    const int d = slot == Slot::kInput    ? 0
                  : slot == Slot::kOutput ? DeviceOfItem(n_layer, n_layer, count)
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
      pl.plans.push_back(SkeletonPlan(p, weights[static_cast<size_t>(d)], d == 0 ? p.token_embedding_bytes : 0));
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
    pl.notes.push_back("layer split: each device holds whole layers with their KV cache and runs them in turn "
                       "(llama.cpp --split-mode layer); every device has its own compute buffer and CUDA context");
  }
  return pl;
}

/// The model one tensor-parallel rank holds (vLLM's sharding of each layer kind).
Result<Placement> PlaceTensorParallel(const ModelDescription& m, const WeightPlan& p, Runtime runtime, int t) {
  if (t == 1) return PlaceLayers(m, p, runtime, 1);
  const AttentionGeometry& g = m.attention;
  const bool mla = g.mla_kv_lora_rank > 0;
  VRAM_RETURN_IF_ERROR(runtime::ProfileOf(runtime).CheckTensorSplit());
  if (g.num_query_heads % t != 0) {
    return Status(ErrorCode::kUnsupported,
                  "gpus: tensor parallelism splits the " + std::to_string(g.num_query_heads) +
                      " attention heads evenly, which " + std::to_string(t) +
                      " devices cannot (vLLM: heads must be divisible by the tensor-parallel size)");
  }
  const int64_t kv = g.num_kv_heads;
  if (!mla && kv > 0 && ((t < kv && kv % t != 0) || (t >= kv && t % kv != 0))) {
    return Status(ErrorCode::kUnsupported,
                  "gpus: " + std::to_string(kv) + " KV heads cannot be split or replicated evenly over " +
                      std::to_string(t) + " devices (vLLM QKVParallelLinear)");
  }
  const int64_t kv_local = mla || kv == 0 ? kv : (t >= kv ? 1 : kv / t);
  auto sharded = std::make_unique<ModelDescription>(m);
  ModelDescription& s = *sharded;
  const int64_t vocab_local = CeilDivI(static_cast<int64_t>(RoundUp(static_cast<uint64_t>(m.vocab_size),
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
  pl.notes.push_back("tensor parallel over " + std::to_string(t) +
                     " devices: matrices split, norms and routers replicated, two all-reduces per layer");
  if (mla) {
    pl.notes.push_back("MLA: every rank keeps the whole latent KV cache (it has no head axis to split)");
  } else if (t > kv) {
    pl.notes.push_back("tensor-parallel degree " + std::to_string(t) + " exceeds the " + std::to_string(kv) +
                       " KV heads: each rank holds one replicated KV head");
  }
  return pl;
}

Result<Placement> Place(const ModelDescription& m, const WeightPlan& p, Runtime runtime, SplitMode split, int count) {
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
  f.required_headroom_bytes =
      static_cast<uint64_t>(std::ceil(static_cast<double>(hw.device->usable_memory_bytes()) * hw.min_headroom_fraction));
  Result<InferenceEstimate> whole = EstimateNumbers(m, p, r);
  if (!whole.ok()) return whole.status();
  f.single_device_bytes = whole->total_bytes;
  f.fits = true;
  f.headroom_bytes = INT64_MAX;
  uint64_t sum = 0;
  for (const Part& part : pl.parts) {
    Result<InferenceEstimate> e = pl.count == 1 ? whole : EstimateNumbers(*part.model, *part.plan, r);
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
    const int64_t room = static_cast<int64_t>(f.capacity_bytes) - static_cast<int64_t>(load.total_bytes);
    f.headroom_bytes = std::min(f.headroom_bytes, room);
    f.fits = f.fits && room >= static_cast<int64_t>(f.required_headroom_bytes);
  }
  f.split_overhead_bytes = sum > f.single_device_bytes ? sum - f.single_device_bytes : 0;
  f.notes = pl.notes;
  const runtime::Profile& profile = runtime::ProfileOf(r.runtime);
  if (const std::string note = profile.CapacityNote(r); !note.empty()) f.notes.push_back(note);
  if (hw.device->device_class() != DeviceClass::kDiscreteGpu && profile.CountsCudaOverhead()) {
    f.notes.push_back("the runtime overhead counted is a CUDA context's; Metal and CPU backends need less");
  }
  return f;
}

Status CheckRuntimeOnDevice(const InferenceRequest& r, const Device& d) {
  return runtime::ProfileOf(r.runtime).CheckDevice(d);
}

// --- Rooflines ------------------------------------------------------------------------------

struct Efficiency {
  double bandwidth = 0;
  double layer_seconds = 0;
  double compute = 0;
};

Efficiency EfficiencyOf(const Device& d, Runtime runtime, const WeightFormat& format) {
  switch (d.device_class()) {
    case DeviceClass::kApple:
      return {world::kDecodeBandwidthEfficiencyApple, world::kDecodeLayerSecondsApple, world::kPrefillEfficiencyApple};
    case DeviceClass::kCpu:
      return {world::kDecodeBandwidthEfficiencyCpu, world::kDecodeLayerSecondsCpu, world::kPrefillEfficiencyCpu};
    case DeviceClass::kDiscreteGpu:
      break;
  }
  const double prefill = d.category == "datacenter" ? world::kPrefillEfficiencyGpuDatacenter
                        : d.vendor == "nvidia" && d.category == "consumer"
                            ? world::kPrefillEfficiencyGpuConsumer  // GeForce: FP32-accumulate figure
                            : world::kPrefillEfficiencyGpuFullRate;
  const runtime::Profile& profile = runtime::ProfileOf(runtime);
  return {profile.GpuBandwidthEfficiency(), profile.GpuLayerSeconds(format), prefill};
}

/// Dense TFLOPS for the arithmetic a weight format runs in.
double TflopsFor(const Device& d, const WeightFormat& f) {
  const bool fp8 = f.scheme == QuantScheme::kFp8 || f.scheme == QuantScheme::kFp8Block;
  if (fp8 && d.fp8_dense_tflops.has_value()) return *d.fp8_dense_tflops;
  if (f.scheme == QuantScheme::kDense && f.dense_dtype == DType::kBF16 && d.bf16_dense_tflops.has_value()) {
    return *d.bf16_dense_tflops;
  }
  return d.fp16_dense_tflops;
}

/// Per-direction bandwidth of the peer link (NVLink, Infinity Fabric and Gaudi figures are totals
/// over both directions).
double LinkBytesPerSecond(const Device& d) {
  const double bw = static_cast<double>(d.interconnect.bandwidth_bytes_per_s);
  return d.interconnect.kind == InterconnectKind::kPcie ? bw : bw / 2.0;
}

double AllReduceLatency(const Device& d) {
  switch (d.interconnect.kind) {
    case InterconnectKind::kNvlink:
    case InterconnectKind::kInfinityFabric:
      return world::kAllReduceLatencySecondsNvlink;
    default:
      return world::kAllReduceLatencySecondsPcie;
  }
}

/// Per-device KV bytes read per token at `position` cached tokens, summed over the parts.
Result<std::vector<uint64_t>> KvReadPerPart(const Placement& pl, const InferenceRequest& request, int64_t position) {
  InferenceRequest r = request;
  r.context_tokens = std::max<int64_t>(1, std::min<int64_t>(position, kMaxContext));
  r.batch = 1;
  std::vector<uint64_t> out;
  for (const Part& part : pl.parts) {
    Result<InferenceEstimate> e = EstimateNumbers(*part.model, *part.plan, r);
    if (!e.ok()) return e.status();
    out.push_back(position <= 0 ? 0 : e->kv_cache_bytes);
  }
  return out;
}

/// Attention FLOPs of one token at `position` (QK^T and PV: 2 x 2 x heads x head_dim per cached
/// token and layer, the window capping sliding layers).
double AttentionFlops(const ModelDescription& m, int64_t position) {
  const AttentionGeometry& g = m.attention;
  double flops = 0;
  for (const LayerAttention& l : g.layers) {
    if (l.kind == AttentionKind::kNone) continue;
    const int64_t span = l.kind == AttentionKind::kSlidingWindow ? std::min(position, l.window_tokens) : position;
    const double width = static_cast<double>(g.num_query_heads) *
                         static_cast<double>(g.key_head_dim + g.value_head_dim);
    flops += 2.0 * width * static_cast<double>(span);
  }
  return flops;
}

struct Roofline {
  const Placement* pl = nullptr;
  const ModelDescription* model = nullptr;
  const Device* device = nullptr;
  Efficiency eff;
  double bandwidth = 0;  ///< Bytes/s of one device.
  double tflops = 0;
  int tp = 1;  ///< Tensor-parallel degree (1 for a layer split).
  int64_t n_layer = 0;

  /// Weight bytes one step of `batch` sequences reads on each part, summed over parts (layer
  /// split runs them in turn; tensor parallel runs one part's worth on every rank at once).
  double WeightSeconds(int64_t batch) const {
    double seconds = 0;
    const double touched = pl->expert_fraction > 0
                               ? 1.0 - std::pow(1.0 - pl->expert_fraction, static_cast<double>(batch))
                               : 0.0;
    for (const Part& part : pl->parts) {
      seconds += (static_cast<double>(part.dense_read_bytes) + static_cast<double>(part.expert_bytes) * touched) /
                 (bandwidth * eff.bandwidth);
    }
    return seconds;
  }
  double KvSeconds(const std::vector<uint64_t>& kv, int64_t batch) const {
    double seconds = 0;
    for (uint64_t b : kv) seconds += static_cast<double>(b) * static_cast<double>(batch) / (bandwidth * eff.bandwidth);
    return seconds;
  }
  double FixedSeconds() const { return static_cast<double>(n_layer) * eff.layer_seconds; }
  double CommSeconds(int64_t tokens) const {
    if (tp <= 1) return 0;
    const double bytes = static_cast<double>(model->hidden_size) * 2.0 * static_cast<double>(tokens);
    const double per = AllReduceLatency(*device) + 2.0 * (tp - 1) / tp * bytes / LinkBytesPerSecond(*device);
    return 2.0 * static_cast<double>(n_layer) * per;
  }
  double FlopsPerToken(int64_t position) const {
    return 2.0 * static_cast<double>(pl->matmul_params_per_token) + AttentionFlops(*model, position);
  }
  double ComputeSeconds(int64_t tokens, int64_t position) const {
    return static_cast<double>(tokens) * FlopsPerToken(position) / (tflops * 1e12 * eff.compute * tp);
  }
};

Result<Roofline> MakeRoofline(const Placement& pl, const ModelDescription& m, const WeightPlan& p, const Device& d,
                              Runtime runtime) {
  Roofline rf;
  rf.pl = &pl;
  rf.model = &m;
  rf.device = &d;
  rf.eff = EfficiencyOf(d, runtime, p.format);
  rf.bandwidth = static_cast<double>(d.memory_bandwidth_bytes_per_s);
  rf.tflops = TflopsFor(d, p.format);
  rf.tp = pl.split == SplitMode::kTensor ? pl.count : 1;
  rf.n_layer = static_cast<int64_t>(m.attention.layers.size());
  return rf;
}

/// Seconds of one decode step of `batch` sequences with `kv` bytes cached per sequence and part.
double DecodeStepSeconds(const Roofline& rf, const std::vector<uint64_t>& kv, int64_t batch, int64_t position) {
  const double memory = rf.WeightSeconds(batch) + rf.KvSeconds(kv, batch);
  const double compute = rf.ComputeSeconds(batch, position);
  return std::max(memory, compute) + rf.FixedSeconds() + rf.CommSeconds(batch);
}

Result<ThroughputEstimate> ThroughputPlaced(const Placement& pl, const ModelDescription& m, const WeightPlan& p,
                                            const InferenceRequest& request, const HardwareConfig& hw) {
  const InferenceRequest r = ForDevice(request, *hw.device);
  Result<Roofline> rfr = MakeRoofline(pl, m, p, *hw.device, r.runtime);
  if (!rfr.ok()) return rfr.status();
  const Roofline& rf = *rfr;
  ThroughputEstimate t;
  t.bandwidth_efficiency = rf.eff.bandwidth;
  t.compute_efficiency = rf.eff.compute;
  t.compute_tflops = rf.tflops;
  const int64_t ctx = r.context_tokens;
  Result<std::vector<uint64_t>> kv_end = KvReadPerPart(pl, r, ctx);
  if (!kv_end.ok()) return kv_end.status();
  Result<std::vector<uint64_t>> kv_start = KvReadPerPart(pl, r, 1);
  if (!kv_start.ok()) return kv_start.status();
  for (const Part& part : pl.parts) {
    t.weight_bytes_read_per_token += part.dense_read_bytes +
                                     static_cast<uint64_t>(static_cast<double>(part.expert_bytes) * pl.expert_fraction);
  }
  for (uint64_t b : *kv_end) t.kv_bytes_read_per_token += b;
  t.memory_seconds_per_token = rf.WeightSeconds(1) + rf.KvSeconds(*kv_end, 1);
  t.fixed_seconds_per_token = rf.FixedSeconds();
  t.communication_seconds_per_token = rf.CommSeconds(1);
  t.decode_tokens_per_s = 1.0 / DecodeStepSeconds(rf, *kv_end, 1, ctx);
  t.decode_tokens_per_s_at_start = 1.0 / DecodeStepSeconds(rf, *kv_start, 1, 1);
  t.batch_decode_tokens_per_s = static_cast<double>(r.batch) / DecodeStepSeconds(rf, *kv_end, r.batch, ctx);
  // Prefill: the prompt passes in ubatches; each reads the weights once and pays the fixed cost
  // once; FLOPs grow with the average position (ctx / 2).
  const int64_t ubatch = std::max<int64_t>(1, std::min<int64_t>(r.ubatch_tokens, ctx));
  const double per_ubatch_memory = rf.WeightSeconds(ubatch);
  const double per_ubatch_compute = rf.ComputeSeconds(ubatch, ctx / 2);
  const double per_ubatch = std::max(per_ubatch_memory, per_ubatch_compute) + rf.FixedSeconds() + rf.CommSeconds(ubatch);
  t.prefill_tokens_per_s = static_cast<double>(ubatch) / per_ubatch;
  // Where decode turns compute-bound: the first batch whose FLOPs outlast its reads.
  auto compute_bound = [&](int64_t b) {
    return rf.ComputeSeconds(b, ctx) >= rf.WeightSeconds(b) + rf.KvSeconds(*kv_end, b);
  };
  int64_t hi = 1;
  while (hi <= kMaxBatch && !compute_bound(hi)) hi *= 2;
  if (hi <= kMaxBatch || compute_bound(kMaxBatch)) {
    hi = std::min(hi, kMaxBatch);
    int64_t lo = hi / 2;  // !compute_bound(lo) or lo == 0
    while (hi - lo > 1) {
      const int64_t mid = lo + (hi - lo) / 2;
      (compute_bound(mid) ? hi : lo) = mid;
    }
    t.compute_bound_batch = hi;
  }
  const Device& d = *hw.device;
  const bool gpu = d.device_class() == DeviceClass::kDiscreteGpu;
  runtime::ProfileOf(r.runtime).ThroughputNotes(r, gpu, rf.eff.layer_seconds, t.fixed_seconds_per_token, &t.notes);
  if (pl.split == SplitMode::kLayer && pl.count > 1) {
    t.notes.push_back("layer split: the devices take turns, so one request runs at one device's speed");
  }
  if (rf.tp > 1) {
    t.notes.push_back("tensor parallel: 2 x " + std::to_string(rf.n_layer) + " all-reduces per token over " +
                      std::string(InterconnectKindName(d.interconnect.kind)) + " cost " +
                      Fixed(t.communication_seconds_per_token * 1e3, 2) + " ms");
  }
  if (d.id == "mi250x") {
    t.notes.push_back("MI250X is two GPUs (GCDs) to software; the figures here treat the module as one");
  }
  return t;
}

// --- Solvers ----------------------------------------------------------------------------------

using internal::LargestFitting;

Status CheckInputs(const ModelDescription& m, const WeightPlan& p, const InferenceRequest& r, const HardwareConfig& hw) {
  VRAM_RETURN_IF_ERROR(ValidateHardware(hw));
  VRAM_RETURN_IF_ERROR(ValidateRequest(r));
  VRAM_RETURN_IF_ERROR(CheckRuntimeOnDevice(r, *hw.device));
  if (m.tensors.size() != p.tensors.size()) {
    return Status(ErrorCode::kInvalidArgument, "weights: plan does not belong to this model");
  }
  return Status::Ok();
}

}  // namespace

uint64_t internal::MatmulParamsPerToken(const ModelDescription& model) { return MatmulParams(model); }

double internal::AttentionFlopsPerToken(const ModelDescription& model, int64_t position) {
  return AttentionFlops(model, position);
}

const char* SplitModeName(SplitMode mode) {
  switch (mode) {
    case SplitMode::kAuto: return "auto";
    case SplitMode::kLayer: return "layer";
    case SplitMode::kTensor: return "tensor";
  }
  return "auto";
}

Result<SplitMode> ParseSplitMode(std::string_view name) {
  if (name == "auto") return SplitMode::kAuto;
  if (name == "layer" || name == "pp" || name == "pipeline") return SplitMode::kLayer;
  if (name == "tensor" || name == "tp") return SplitMode::kTensor;
  return Status(ErrorCode::kNotFound, "split: '" + std::string(name.substr(0, 40)) + "' is not one of auto, layer, tensor");
}

Status ValidateHardware(const HardwareConfig& hw) {
  if (hw.device == nullptr) return Status(ErrorCode::kInvalidArgument, "gpu: no device given");
  if (hw.count < 1 || hw.count > kMaxDevices) {
    return Status(ErrorCode::kOutOfRange, "gpus: must be an integer in [1, " + std::to_string(kMaxDevices) +
                                              "], got " + std::to_string(hw.count));
  }
  if (hw.count > 1 && !hw.device->can_pool()) {
    return Status(ErrorCode::kOutOfRange, "gpus: '" + hw.device->id +
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

Result<FitResult> Fit(const ModelDescription& model, const WeightPlan& weights, const InferenceRequest& request,
                      const HardwareConfig& hardware) {
  VRAM_RETURN_IF_ERROR(CheckInputs(model, weights, request, hardware));
  Result<Placement> pl = Place(model, weights, request.runtime, hardware.split, hardware.count);
  if (!pl.ok()) return pl.status();
  return FitPlaced(*pl, model, weights, request, hardware);
}

Result<DeviceCountSolution> SmallestDeviceCount(const ModelDescription& model, const WeightPlan& weights,
                                                const InferenceRequest& request, const HardwareConfig& hardware,
                                                int max_devices) {
  HardwareConfig hw = hardware;
  hw.count = 1;
  VRAM_RETURN_IF_ERROR(CheckInputs(model, weights, request, hw));
  const int top = hw.device->can_pool() ? std::max(1, std::min(max_devices, kMaxDevices)) : 1;
  // Splitting never shrinks the sum of the weights and caches over the devices, so fewer than
  // ceil((weights + cache) / capacity) devices cannot hold them: start the search there.
  int first = 1;
  if (top > 1) {
    const InferenceRequest r = ForDevice(request, *hw.device);
    Result<InferenceEstimate> whole = EstimateNumbers(model, weights, r);
    if (!whole.ok()) return whole.status();
    const uint64_t capacity = Capacity(*hw.device, r);
    if (capacity > 0) {
      const uint64_t shared = whole->weights_bytes + whole->kv_cache_bytes;
      first = static_cast<int>(std::min<uint64_t>(CeilDiv(shared, capacity), static_cast<uint64_t>(top)));
      first = std::max(first, 1);
    }
  }
  DeviceCountSolution out;
  for (int n = first; n <= top; ++n) {
    Result<Placement> pl = Place(model, weights, request.runtime, hw.split, n);
    if (!pl.ok()) {
      if (pl.status().code() == ErrorCode::kUnsupported) continue;  // e.g. heads not divisible by n
      return pl.status();
    }
    hw.count = n;
    Result<FitResult> f = FitPlaced(*pl, model, weights, request, hw);
    if (!f.ok()) return f.status();
    out.fit = std::move(f).value();
    if (out.fit.fits) {
      out.devices = n;
      return out;
    }
  }
  return out;
}

namespace {

/// The largest value of one request field (context or batch) in [1, cap] that still fits: a
/// binary search over the fit of a placement computed once.
Result<LimitSolution> LargestFittingField(const ModelDescription& model, const WeightPlan& weights,
                                          const InferenceRequest& request, const HardwareConfig& hardware,
                                          int64_t InferenceRequest::*field, int64_t cap) {
  InferenceRequest r = request;
  r.*field = 1;
  VRAM_RETURN_IF_ERROR(CheckInputs(model, weights, r, hardware));
  Result<Placement> pl = Place(model, weights, r.runtime, hardware.split, hardware.count);
  if (!pl.ok()) return pl.status();
  LimitSolution out;
  out.cap = cap;
  auto fits = [&](int64_t value) -> Result<bool> {
    r.*field = value;
    Result<FitResult> f = FitPlaced(*pl, model, weights, r, hardware);
    if (!f.ok()) return f.status();
    return f->fits;
  };
  Result<int64_t> best = LargestFitting(out.cap, fits);
  if (!best.ok()) return best.status();
  out.max_value = *best;
  out.limited_by_cap = out.max_value == out.cap;
  r.*field = std::max<int64_t>(1, out.max_value);
  Result<FitResult> f = FitPlaced(*pl, model, weights, r, hardware);
  if (!f.ok()) return f.status();
  out.fit_at_max = std::move(f).value();
  return out;
}

}  // namespace

Result<LimitSolution> MaxContext(const ModelDescription& model, const WeightPlan& weights,
                                 const InferenceRequest& request, const HardwareConfig& hardware, bool cap_at_model_max) {
  const int64_t cap =
      cap_at_model_max && model.max_context_tokens > 0 ? std::min(model.max_context_tokens, kMaxContext) : kMaxContext;
  return LargestFittingField(model, weights, request, hardware, &InferenceRequest::context_tokens, cap);
}

Result<LimitSolution> MaxBatch(const ModelDescription& model, const WeightPlan& weights, const InferenceRequest& request,
                               const HardwareConfig& hardware) {
  return LargestFittingField(model, weights, request, hardware, &InferenceRequest::batch, kMaxBatch);
}

std::vector<std::string> WeightFormatLadder(Runtime runtime) { return runtime::ProfileOf(runtime).WeightLadder(); }

std::optional<double> WeightFormatQualityLossPercent(std::string_view id) {
  for (const world::FormatQualityLoss& row : world::kFormatQualityLoss) {
    if (id == row.format) return row.perplexity_increase_percent;
  }
  return std::nullopt;
}

Result<FormatSolution> BestWeightFormat(const ModelDescription& model, const InferenceRequest& request,
                                        const HardwareConfig& hardware, const std::vector<std::string>& candidates) {
  VRAM_RETURN_IF_ERROR(ValidateHardware(hardware));
  VRAM_RETURN_IF_ERROR(ValidateRequest(request));
  VRAM_RETURN_IF_ERROR(CheckRuntimeOnDevice(request, *hardware.device));
  const std::vector<std::string> ladder = candidates.empty() ? WeightFormatLadder(request.runtime) : candidates;
  FormatSolution out;
  for (const std::string& id : ladder) {
    FormatTrial trial;
    trial.format = id;
    Result<WeightFormat> format = ParseWeightFormat(id);
    if (!format.ok()) {
      trial.error = format.status().message();
      out.trials.push_back(trial);
      continue;
    }
    Result<WeightPlan> plan = PlanWeights(model, *format);
    if (!plan.ok()) {
      trial.error = plan.status().message();
      out.trials.push_back(trial);
      continue;
    }
    trial.weight_bytes = plan->total_bytes;
    trial.bits_per_weight = plan->bits_per_weight;
    Result<FitResult> f = Fit(model, *plan, request, hardware);
    if (!f.ok()) {
      trial.error = f.status().message();
      out.trials.push_back(trial);
      continue;
    }
    trial.fits = f->fits;
    trial.headroom_bytes = f->headroom_bytes;
    out.trials.push_back(trial);
    if (f->fits && out.format.empty()) {
      out.format = id;
      out.fit = std::move(f).value();
      break;
    }
  }
  return out;
}

Result<ThroughputEstimate> EstimateThroughput(const ModelDescription& model, const WeightPlan& weights,
                                              const InferenceRequest& request, const HardwareConfig& hardware) {
  VRAM_RETURN_IF_ERROR(CheckInputs(model, weights, request, hardware));
  Result<Placement> pl = Place(model, weights, request.runtime, hardware.split, hardware.count);
  if (!pl.ok()) return pl.status();
  return ThroughputPlaced(*pl, model, weights, request, hardware);
}

// --- Offload ----------------------------------------------------------------------------------

namespace {

struct OffloadContext {
  const ModelDescription* model;
  const WeightPlan* plan;
  InferenceRequest request;
  HardwareConfig hw;
  InferenceEstimate whole;  // everything on the GPU
  double host_bandwidth = 0;
  int64_t n_layer = 0;
};

Result<OffloadContext> MakeOffloadContext(const ModelDescription& m, const WeightPlan& p, const InferenceRequest& request,
                                          const HardwareConfig& hw) {
  VRAM_RETURN_IF_ERROR(CheckInputs(m, p, request, hw));
  if (!runtime::ProfileOf(request.runtime).OffloadsToHost()) {
    return Status(ErrorCode::kUnsupported, "runtime: offloading layers or experts to RAM is modelled for llama.cpp only");
  }
  if (hw.count != 1) return Status(ErrorCode::kUnsupported, "gpus: offload is planned for one GPU; got " + std::to_string(hw.count));
  OffloadContext c{&m, &p, ForDevice(request, *hw.device), hw, {}, 0, 0};
  Result<InferenceEstimate> e = EstimateNumbers(m, p, c.request);
  if (!e.ok()) return e.status();
  c.whole = std::move(e).value();
  if (hw.device->device_class() == DeviceClass::kCpu) {
    return Status(ErrorCode::kUnsupported, "gpu: '" + hw.device->id + "' is a CPU system; there is no GPU to offload from");
  }
  // Apple silicon: "RAM" is the same unified memory, read by the CPU cores.
  const uint64_t host = hw.host_memory_bandwidth_bytes_per_s > 0 ? hw.host_memory_bandwidth_bytes_per_s
                        : hw.device->device_class() == DeviceClass::kApple ? hw.device->memory_bandwidth_bytes_per_s
                                                                           : world::kDefaultHostMemoryBandwidth;
  c.host_bandwidth = static_cast<double>(host);
  c.n_layer = static_cast<int64_t>(m.attention.layers.size());
  return c;
}

/// Decode seconds per token with `gpu_read` bytes read on the GPU and `host_read` in RAM.
double OffloadSeconds(const OffloadContext& c, double gpu_read, double host_read) {
  const Efficiency eff = EfficiencyOf(*c.hw.device, c.request.runtime, WeightFormat{});
  return gpu_read / (static_cast<double>(c.hw.device->memory_bandwidth_bytes_per_s) * eff.bandwidth) +
         host_read / (c.host_bandwidth * world::kDecodeBandwidthEfficiencyCpu) +
         static_cast<double>(c.n_layer) * eff.layer_seconds;
}

struct LayerOffloadState {
  uint64_t gpu_total = 0;
  uint64_t gpu_kv = 0;
  uint64_t gpu_weights = 0;
};

/// GPU side of -ngl g: layers [n_layer - min(g, n_layer), n_layer), the output when g > n_layer.
Result<LayerOffloadState> GpuSideOfLayers(const OffloadContext& c, int64_t g) {
  const ModelDescription& m = *c.model;
  const WeightPlan& p = *c.plan;
  const int64_t first = c.n_layer - std::min(g, c.n_layer);
  const bool output = g > c.n_layer;
  LayerOffloadState s;
  if (g == 0) {
    // Nothing offloaded: llama.cpp still reserves its CUDA compute buffer and context.
    s.gpu_total = c.whole.activations_bytes + c.whole.overhead_bytes;
    return s;
  }
  for (size_t i = 0; i < m.tensors.size(); ++i) {
    const TensorInfo& t = m.tensors[i];
    const Slot slot = SlotOf(m, t);
    const bool on_gpu = (slot == Slot::kLayer && t.layer >= first) || (slot == Slot::kOutput && output) ||
                        (slot == Slot::kInput && output);  // position embeddings follow the plan's GPU total
    if (on_gpu) s.gpu_weights += DeviceBytes(m, p, i, c.request.runtime);
  }
  std::unique_ptr<ModelDescription> sk = Skeleton(m, first, c.n_layer, output);
  std::unique_ptr<WeightPlan> sp = SkeletonPlan(p, s.gpu_weights, p.token_embedding_bytes);
  Result<InferenceEstimate> e = EstimateNumbers(*sk, *sp, c.request);
  if (!e.ok()) return e.status();
  s.gpu_total = e->total_bytes;
  s.gpu_kv = e->kv_cache_bytes;
  return s;
}

}  // namespace

Result<OffloadPlan> PlanLayerOffload(const ModelDescription& model, const WeightPlan& weights,
                                     const InferenceRequest& request, const HardwareConfig& hardware) {
  Result<OffloadContext> ctx = MakeOffloadContext(model, weights, request, hardware);
  if (!ctx.ok()) return ctx.status();
  const OffloadContext& c = *ctx;
  const uint64_t capacity = Capacity(*hardware.device, c.request);
  const uint64_t required =
      static_cast<uint64_t>(std::ceil(static_cast<double>(hardware.device->usable_memory_bytes()) * hardware.min_headroom_fraction));
  auto fits = [&](int64_t g) -> Result<bool> {
    Result<LayerOffloadState> s = GpuSideOfLayers(c, g);
    if (!s.ok()) return s.status();
    return s->gpu_total + required <= capacity;
  };
  OffloadPlan out;
  out.total_layers = c.n_layer + 1;
  Result<int64_t> best = LargestFitting(c.n_layer + 1, [&](int64_t g) { return fits(g); });
  if (!best.ok()) return best.status();
  out.gpu_layers = *best;
  Result<LayerOffloadState> s = GpuSideOfLayers(c, out.gpu_layers);
  if (!s.ok()) return s.status();
  out.gpu_bytes = s->gpu_total;
  out.headroom_bytes = static_cast<int64_t>(capacity) - static_cast<int64_t>(s->gpu_total);
  out.possible = out.gpu_layers > 0;
  // Reads: split the per-token weight reads and the KV at the full context by placement.
  const int64_t first = c.n_layer - std::min(out.gpu_layers, c.n_layer);
  const bool output = out.gpu_layers > c.n_layer;
  uint64_t gpu_read = 0, host_read = 0, host_weights = 0;
  for (size_t i = 0; i < model.tensors.size(); ++i) {
    const TensorInfo& t = model.tensors[i];
    const Slot slot = SlotOf(model, t);
    const bool on_gpu = out.gpu_layers > 0 && ((slot == Slot::kLayer && t.layer >= first) ||
                                               (slot != Slot::kLayer && output && !(t.role == TensorRole::kTokenEmbedding && !model.tied_embeddings)));
    const uint64_t read = ReadBytes(model, weights, i);
    if (on_gpu) {
      gpu_read += read;
    } else {
      host_read += read;
      if (!(t.role == TensorRole::kTokenEmbedding && !model.tied_embeddings)) host_weights += weights.tensors[i].bytes;
    }
  }
  const uint64_t host_kv = c.whole.kv_cache_bytes - std::min(c.whole.kv_cache_bytes, s->gpu_kv);
  out.host_bytes = c.whole.host_bytes + host_weights + host_kv;
  out.gpu_read_bytes_per_token = gpu_read + s->gpu_kv / static_cast<uint64_t>(c.request.batch);
  out.host_read_bytes_per_token = host_read + host_kv / static_cast<uint64_t>(c.request.batch);
  out.decode_tokens_per_s = 1.0 / OffloadSeconds(c, static_cast<double>(out.gpu_read_bytes_per_token),
                                                 static_cast<double>(out.host_read_bytes_per_token));
  out.notes.push_back("llama.cpp -ngl " + std::to_string(out.gpu_layers) + ": the last " +
                      std::to_string(std::min(out.gpu_layers, c.n_layer)) + " of " + std::to_string(c.n_layer) +
                      " layers" + (output ? " and the output layer" : "") +
                      " on the GPU with their KV cache; the rest in RAM read at " +
                      Fixed(c.host_bandwidth / 1e9, 1) + " GB/s x " + Fixed(world::kDecodeBandwidthEfficiencyCpu, 2));
  return out;
}

Result<OffloadPlan> PlanExpertOffload(const ModelDescription& model, const WeightPlan& weights,
                                      const InferenceRequest& request, const HardwareConfig& hardware) {
  Result<OffloadContext> ctx = MakeOffloadContext(model, weights, request, hardware);
  if (!ctx.ok()) return ctx.status();
  const OffloadContext& c = *ctx;
  if (weights.routed_expert_bytes == 0) {
    return Status(ErrorCode::kUnsupported, "model: expert offload (--n-cpu-moe) needs a mixture-of-experts model");
  }
  const uint64_t capacity = Capacity(*hardware.device, c.request);
  const uint64_t required =
      static_cast<uint64_t>(std::ceil(static_cast<double>(hardware.device->usable_memory_bytes()) * hardware.min_headroom_fraction));
  // Device bytes of the routed experts (ffn_*_exps, which --n-cpu-moe matches) per layer.
  std::vector<uint64_t> expert_device(static_cast<size_t>(c.n_layer), 0), expert_read(static_cast<size_t>(c.n_layer), 0),
      expert_stored(static_cast<size_t>(c.n_layer), 0);
  for (size_t i = 0; i < model.tensors.size(); ++i) {
    const TensorInfo& t = model.tensors[i];
    if (!t.is_routed_expert() || t.layer < 0 || t.layer >= c.n_layer) continue;
    expert_device[static_cast<size_t>(t.layer)] += DeviceBytes(model, weights, i, c.request.runtime);
    expert_read[static_cast<size_t>(t.layer)] += ReadBytes(model, weights, i);
    expert_stored[static_cast<size_t>(t.layer)] += weights.tensors[i].bytes;
  }
  auto gpu_bytes = [&](int64_t n) {
    uint64_t moved = 0;
    for (int64_t l = 0; l < n; ++l) moved += expert_device[static_cast<size_t>(l)];
    return c.whole.total_bytes - moved;
  };
  OffloadPlan out;
  out.total_layers = c.n_layer + 1;
  out.gpu_layers = c.n_layer + 1;
  int64_t n = -1;
  for (int64_t lo = 0, hi = c.n_layer; lo <= hi;) {  // smallest n with gpu_bytes(n) + required <= capacity
    const int64_t mid = lo + (hi - lo) / 2;
    if (gpu_bytes(mid) + required <= capacity) {
      n = mid;
      hi = mid - 1;
    } else {
      lo = mid + 1;
    }
  }
  out.possible = n >= 0;
  out.cpu_moe_layers = n >= 0 ? n : c.n_layer;
  out.gpu_bytes = gpu_bytes(out.cpu_moe_layers);
  out.headroom_bytes = static_cast<int64_t>(capacity) - static_cast<int64_t>(out.gpu_bytes);
  uint64_t host_read = 0, host_weights = 0;
  for (int64_t l = 0; l < out.cpu_moe_layers; ++l) {
    host_read += expert_read[static_cast<size_t>(l)];
    host_weights += expert_stored[static_cast<size_t>(l)];
  }
  Result<std::vector<uint64_t>> kv = [&]() -> Result<std::vector<uint64_t>> {
    InferenceRequest r = c.request;
    r.batch = 1;
    Result<InferenceEstimate> e = EstimateNumbers(model, weights, r);
    if (!e.ok()) return e.status();
    return std::vector<uint64_t>{e->kv_cache_bytes};
  }();
  if (!kv.ok()) return kv.status();
  out.host_bytes = c.whole.host_bytes + host_weights;
  out.host_read_bytes_per_token = host_read;
  out.gpu_read_bytes_per_token = weights.bytes_read_per_token - std::min(weights.bytes_read_per_token, host_read) + (*kv)[0];
  out.decode_tokens_per_s = 1.0 / OffloadSeconds(c, static_cast<double>(out.gpu_read_bytes_per_token),
                                                 static_cast<double>(out.host_read_bytes_per_token));
  out.notes.push_back("llama.cpp --n-cpu-moe " + std::to_string(out.cpu_moe_layers) +
                      ": routed experts of the first " + std::to_string(out.cpu_moe_layers) +
                      " layers in RAM; attention, routers, shared experts and the KV cache stay on the GPU; each token "
                      "reads its active experts of those layers from RAM");
  return out;
}

// --- Recommendation ---------------------------------------------------------------------------

Result<RecommendResult> Recommend(const ModelDescription& model, const WeightPlan& weights, const InferenceRequest& request,
                                  const std::vector<Device>& devices, const RecommendOptions& options) {
  VRAM_RETURN_IF_ERROR(ValidateRequest(request));
  if (options.max_devices < 1 || options.max_devices > kMaxDevices) {
    return Status(ErrorCode::kOutOfRange, "max-gpus: must be an integer in [1, " + std::to_string(kMaxDevices) +
                                              "], got " + std::to_string(options.max_devices));
  }
  if (!(options.min_headroom_fraction >= 0.0 && options.min_headroom_fraction <= 0.9)) {
    return Status(ErrorCode::kOutOfRange, "headroom: must be a fraction in [0, 0.9], got " +
                                              std::to_string(options.min_headroom_fraction));
  }
  if (options.limit < 1 || options.limit > 1000) {
    return Status(ErrorCode::kOutOfRange, "limit: must be an integer in [1, 1000], got " + std::to_string(options.limit));
  }
  std::map<int, Result<Placement>> placements;
  auto placement = [&](int n) -> const Result<Placement>& {
    auto it = placements.find(n);
    if (it == placements.end()) {
      it = placements.emplace(n, Place(model, weights, request.runtime, SplitMode::kAuto, n)).first;
    }
    return it->second;
  };
  RecommendResult out;
  std::vector<Recommendation> all;
  for (const Device& d : devices) {
    const bool wanted = options.categories.empty()
                            ? d.category != "cpu"
                            : std::find(options.categories.begin(), options.categories.end(), d.category) !=
                                  options.categories.end();
    if (!wanted || !CheckRuntimeOnDevice(request, d).ok()) continue;
    ++out.devices_considered;
    HardwareConfig hw;
    hw.device = &d;
    hw.min_headroom_fraction = options.min_headroom_fraction;
    const int top = d.can_pool() ? options.max_devices : 1;
    for (int n = 1; n <= top; ++n) {
      const Result<Placement>& pl = placement(n);
      if (!pl.ok()) continue;
      hw.count = n;
      Result<FitResult> f = FitPlaced(*pl, model, weights, request, hw);
      if (!f.ok()) return f.status();
      if (!f->fits) continue;
      const std::optional<double> unit = d.price_usd();
      if (!unit.has_value()) {
        ++out.devices_without_price;
        break;
      }
      Result<ThroughputEstimate> t = ThroughputPlaced(*pl, model, weights, request, hw);
      if (!t.ok()) return t.status();
      Recommendation rec;
      rec.device_id = d.id;
      rec.device_name = d.name;
      rec.count = n;
      rec.split = pl->split;
      rec.price_usd = *unit * n;
      rec.price_basis = d.street_price_usd.has_value() ? "street " + d.street_price_date : "launch";
      rec.headroom_bytes = f->headroom_bytes;
      rec.decode_tokens_per_s = t->decode_tokens_per_s;
      rec.tokens_per_s_per_1000_usd = rec.price_usd > 0 ? t->decode_tokens_per_s / rec.price_usd * 1000.0 : 0;
      rec.reason = (n == 1 ? std::string("fits on one ") : std::to_string(n) + " x ") + d.name +
                   (n == 1 ? "" : std::string(" (") + SplitModeName(pl->split) + " split)") + " with " +
                   GiBText(f->headroom_bytes) + " to spare per device; about " + Fixed(t->decode_tokens_per_s, 1) +
                   " tokens/s at the full context; $" + Fixed(rec.price_usd, 0) + " (" + rec.price_basis + ")";
      all.push_back(rec);
      break;  // the smallest count that fits
    }
  }
  auto by_price = [](const Recommendation& a, const Recommendation& b) {
    return a.price_usd != b.price_usd ? a.price_usd < b.price_usd : a.decode_tokens_per_s > b.decode_tokens_per_s;
  };
  for (const Recommendation& r : all) (r.count == 1 ? out.single_device : out.multi_device).push_back(r);
  std::sort(out.single_device.begin(), out.single_device.end(), by_price);
  std::sort(out.multi_device.begin(), out.multi_device.end(), by_price);
  out.best_value = all;
  std::sort(out.best_value.begin(), out.best_value.end(), [](const Recommendation& a, const Recommendation& b) {
    return a.tokens_per_s_per_1000_usd != b.tokens_per_s_per_1000_usd
               ? a.tokens_per_s_per_1000_usd > b.tokens_per_s_per_1000_usd
               : a.price_usd < b.price_usd;
  });
  const size_t limit = static_cast<size_t>(options.limit);
  if (out.single_device.size() > limit) out.single_device.resize(limit);
  if (out.multi_device.size() > limit) out.multi_device.resize(limit);
  if (out.best_value.size() > limit) out.best_value.resize(limit);
  return out;
}

// --- Advice -------------------------------------------------------------------------------------

const char* AdviceKindName(AdviceKind kind) {
  switch (kind) {
    case AdviceKind::kFlashAttention: return "flash_attention";
    case AdviceKind::kKvCacheDtype: return "kv_cache_dtype";
    case AdviceKind::kWeightFormat: return "weight_format";
    case AdviceKind::kShorterContext: return "shorter_context";
    case AdviceKind::kSmallerBatch: return "smaller_batch";
    case AdviceKind::kOffloadLayers: return "offload_layers";
    case AdviceKind::kOffloadExperts: return "offload_experts";
    case AdviceKind::kMoreDevices: return "more_devices";
    case AdviceKind::kGradientCheckpointing: return "gradient_checkpointing";
    case AdviceKind::kLora: return "lora";
    case AdviceKind::kQlora: return "qlora";
    case AdviceKind::kSmallerMicroBatch: return "smaller_micro_batch";
    case AdviceKind::kOptimizer8bit: return "optimizer_8bit";
    case AdviceKind::kShardStates: return "shard_states";
    case AdviceKind::kOffloadOptimizer: return "offload_optimizer";
    case AdviceKind::kFusedLoss: return "fused_loss";
    case AdviceKind::kShorterSequence: return "shorter_sequence";
  }
  return "unknown";
}

FieldChange FieldChange::String(std::string field, std::string value) {
  FieldChange c;
  c.field = std::move(field);
  c.type = Type::kString;
  c.string_value = std::move(value);
  return c;
}

FieldChange FieldChange::Integer(std::string field, int64_t value) {
  FieldChange c;
  c.field = std::move(field);
  c.type = Type::kInteger;
  c.integer_value = value;
  return c;
}

FieldChange FieldChange::Boolean(std::string field, bool value) {
  FieldChange c;
  c.field = std::move(field);
  c.type = Type::kBoolean;
  c.boolean_value = value;
  return c;
}

void ScoreAdvice(const HardwareConfig& hardware, Advice* a) {
  // Each term is a fraction of something given up: quality (percent / 100), speed (only
  // slowdowns count), the asked context, batch or sequence length, and money (extra cost over
  // the cost of the hardware as it is; 1 when that is unknown).
  const double quality = a->quality_loss_percent / 100.0;
  const double speed = std::max(0.0, -a->speed_change);
  const double capability = a->capability_loss;
  double money = 0;
  if (a->extra_cost_usd > 0) {
    const std::optional<double> unit = hardware.device != nullptr ? hardware.device->price_usd() : std::nullopt;
    money = unit.has_value() && *unit > 0 ? a->extra_cost_usd / (*unit * std::max(1, hardware.count)) : 1.0;
  }
  a->loss = quality + speed + capability + money;
  const std::pair<double, const char*> terms[] = {
      {quality, "quality"}, {speed, "speed"}, {capability, "capability"}, {money, "hardware"}};
  a->loss_class = "none";
  double largest = 0;
  for (const auto& [value, name] : terms) {
    if (value > largest) {
      largest = value;
      a->loss_class = name;
    }
  }
}

void RankAdvice(std::vector<Advice>* advice) {
  std::stable_sort(advice->begin(), advice->end(), [](const Advice& a, const Advice& b) {
    if (a.fits != b.fits) return a.fits;
    if (a.loss != b.loss) return a.loss < b.loss;
    return a.saves_bytes > b.saves_bytes;
  });
}

namespace {

uint64_t MaxLoad(const FitResult& f) {
  uint64_t m = 0;
  for (const DeviceLoad& l : f.per_device) m = std::max(m, l.total_bytes);
  return m;
}

uint64_t Saves(const FitResult& before, uint64_t after_max) {
  const uint64_t b = MaxLoad(before);
  return b > after_max ? b - after_max : 0;
}

/// Relative perplexity increase of a KV cache type, percent. q8_0: llama.cpp PR 7412
/// (JohannesGaessler, LLaMA-3-8B): dPPL 0.004616 with K and V in q8_0 against 0.002443 for f16,
/// on PPL 6.232, i.e. +0.035%. fp8 is taken as q8_0 (8 bits per value; an assumption). q4_0: no
/// figure found; assumed 1% so it ranks below q8_0.
double KvQualityLossPercent(KvDType d) {
  switch (d) {
    case KvDType::kQ8_0:
    case KvDType::kF8: return 0.035;
    case KvDType::kQ4_0: return 1.0;
    default: return 0.0;
  }
}

void AddRanked(const AdviceContext& c, Advice a, std::vector<Advice>* out) {
  ScoreAdvice(c.hardware, &a);
  out->push_back(std::move(a));
}

double SpeedOf(const ModelDescription& m, const WeightPlan& p, const InferenceRequest& r, const HardwareConfig& hw) {
  Result<ThroughputEstimate> t = EstimateThroughput(m, p, r, hw);
  return t.ok() ? t->decode_tokens_per_s : 0.0;
}

void AdviseFlashAttention(const AdviceContext& c, std::vector<Advice>* out) {
  const runtime::AttentionChange fused = runtime::ProfileOf(c.request.runtime).FusedAttention(c.request);
  if (!fused.available) return;
  const InferenceRequest& r = fused.request;
  const std::string& change = fused.change;
  const FieldChange& field = fused.field;
  Result<FitResult> f = Fit(*c.model, *c.weights, r, c.hardware);
  if (!f.ok()) return;
  Advice a;
  a.kind = AdviceKind::kFlashAttention;
  a.change = change;
  a.apply = {field};
  a.saves_bytes = Saves(c.current, MaxLoad(*f));
  a.fits = f->fits;
  a.headroom_bytes = f->headroom_bytes;
  a.cost = "none: a fused attention kernel gives the same result without the score matrix";
  AddRanked(c, a, out);
}

void AdviseKvCache(const AdviceContext& c, std::vector<Advice>* out) {
  const std::vector<KvDType> options = runtime::ProfileOf(c.request.runtime).SmallerCacheTypes();
  const double bytes_now = KvBytesPerValue(c.request.kv_dtype);
  for (KvDType d : options) {
    const double bytes = KvBytesPerValue(d);
    if (bytes >= bytes_now) continue;
    InferenceRequest r = c.request;
    r.kv_dtype = d;
    std::string change = std::string("--kv-dtype ") + KvDTypeName(d);
    std::vector<FieldChange> apply = {FieldChange::String("kv_dtype", KvDTypeName(d))};
    runtime::ProfileOf(r.runtime).CacheTypeChange(&r, &change, &apply);
    Result<FitResult> f = Fit(*c.model, *c.weights, r, c.hardware);
    if (!f.ok()) continue;
    Advice a;
    a.kind = AdviceKind::kKvCacheDtype;
    a.change = change;
    a.apply = apply;
    a.saves_bytes = Saves(c.current, MaxLoad(*f));
    a.fits = f->fits;
    a.headroom_bytes = f->headroom_bytes;
    a.quality_loss_percent = KvQualityLossPercent(d);
    const double speed = SpeedOf(*c.model, *c.weights, r, c.hardware);
    a.speed_change = c.current_decode_tokens_per_s > 0 && speed > 0 ? speed / c.current_decode_tokens_per_s - 1.0 : 0;
    a.cost = d == KvDType::kQ4_0 ? "a 4-bit cache: small but unmeasured quality loss (assumed 1% perplexity)"
                                 : "about +0.035% perplexity (llama.cpp PR 7412, q8_0 K and V)";
    AddRanked(c, a, out);
  }
}

void AdviseWeights(const AdviceContext& c, std::vector<Advice>* out) {
  const std::vector<std::string> ladder = WeightFormatLadder(c.request.runtime);
  const double current_loss = WeightFormatQualityLossPercent(c.weights->format.id).value_or(0.0);
  // The best format smaller than the current one that fits; if none fits, the smallest.
  Advice best, smallest;
  bool have_best = false, have_smallest = false;
  for (const std::string& id : ladder) {
    Result<WeightFormat> f = ParseWeightFormat(id);
    if (!f.ok()) continue;
    Result<WeightPlan> plan = PlanWeights(*c.model, *f);
    if (!plan.ok() || plan->total_bytes >= c.weights->total_bytes) continue;
    Result<FitResult> fit = Fit(*c.model, *plan, c.request, c.hardware);
    if (!fit.ok()) continue;
    Advice a;
    a.kind = AdviceKind::kWeightFormat;
    a.change = "--weights " + id;
    a.apply = {FieldChange::String("weights", id)};
    a.saves_bytes = Saves(c.current, MaxLoad(*fit));
    a.fits = fit->fits;
    a.headroom_bytes = fit->headroom_bytes;
    const std::optional<double> loss = WeightFormatQualityLossPercent(id);
    a.quality_loss_percent = std::max(0.0, loss.value_or(current_loss) - current_loss);
    const double speed = SpeedOf(*c.model, *plan, c.request, c.hardware);
    a.speed_change = c.current_decode_tokens_per_s > 0 && speed > 0 ? speed / c.current_decode_tokens_per_s - 1.0 : 0;
    a.cost = loss.has_value() ? "+" + Fixed(a.quality_loss_percent, 2) +
                                    "% perplexity (Llama-3-70B, llama.cpp PR 6745); " + Fixed(plan->bits_per_weight, 2) +
                                    " bits per weight"
                              : Fixed(plan->bits_per_weight, 2) + " bits per weight; no published perplexity figure";
    if (a.fits && !have_best) {
      best = a;
      have_best = true;
    }
    if (!have_smallest || MaxLoad(*fit) < MaxLoad(c.current) - smallest.saves_bytes) {
      smallest = a;
      have_smallest = true;
    }
  }
  if (have_best) {
    AddRanked(c, best, out);
  } else if (have_smallest) {
    AddRanked(c, smallest, out);
  }
}

void AdviseLimits(const AdviceContext& c, std::vector<Advice>* out) {
  Result<LimitSolution> ctx = MaxContext(*c.model, *c.weights, c.request, c.hardware, false);
  if (ctx.ok() && ctx->max_value >= 1 && ctx->max_value < c.request.context_tokens) {
    Advice a;
    a.kind = AdviceKind::kShorterContext;
    a.change = "--context " + std::to_string(ctx->max_value);
    a.apply = {FieldChange::Integer("context", ctx->max_value)};
    a.saves_bytes = Saves(c.current, MaxLoad(ctx->fit_at_max));
    a.fits = true;
    a.headroom_bytes = ctx->fit_at_max.headroom_bytes;
    a.capability_loss = 1.0 - static_cast<double>(ctx->max_value) / static_cast<double>(c.request.context_tokens);
    a.cost = "sequences limited to " + std::to_string(ctx->max_value) + " tokens instead of " +
             std::to_string(c.request.context_tokens);
    AddRanked(c, a, out);
  }
  if (c.request.batch > 1) {
    Result<LimitSolution> b = MaxBatch(*c.model, *c.weights, c.request, c.hardware);
    if (b.ok() && b->max_value >= 1 && b->max_value < c.request.batch) {
      Advice a;
      a.kind = AdviceKind::kSmallerBatch;
      a.change = "--batch " + std::to_string(b->max_value);
      a.apply = {FieldChange::Integer("batch", b->max_value)};
      a.saves_bytes = Saves(c.current, MaxLoad(b->fit_at_max));
      a.fits = true;
      a.headroom_bytes = b->fit_at_max.headroom_bytes;
      a.capability_loss = 1.0 - static_cast<double>(b->max_value) / static_cast<double>(c.request.batch);
      a.cost = std::to_string(b->max_value) + " concurrent sequences instead of " + std::to_string(c.request.batch);
      AddRanked(c, a, out);
    }
  }
}

void AdviseOffload(const AdviceContext& c, std::vector<Advice>* out) {
  if (!runtime::ProfileOf(c.request.runtime).OffloadsToHost() || c.hardware.count != 1) return;
  Result<OffloadPlan> layers = PlanLayerOffload(*c.model, *c.weights, c.request, c.hardware);
  if (layers.ok() && layers->possible && layers->gpu_layers < layers->total_layers) {
    Advice a;
    a.kind = AdviceKind::kOffloadLayers;
    a.change = "-ngl " + std::to_string(layers->gpu_layers) + " (" +
               std::to_string(layers->total_layers - layers->gpu_layers) + " of " +
               std::to_string(layers->total_layers) + " layers in RAM)";
    a.saves_bytes = Saves(c.current, layers->gpu_bytes);
    a.fits = true;
    a.headroom_bytes = layers->headroom_bytes;
    a.speed_change = c.current_decode_tokens_per_s > 0 ? layers->decode_tokens_per_s / c.current_decode_tokens_per_s - 1.0 : 0;
    a.cost = "decode about " + Fixed(layers->decode_tokens_per_s, 1) + " tokens/s instead of " +
             Fixed(c.current_decode_tokens_per_s, 1) + "; needs " + GiBText(static_cast<int64_t>(layers->host_bytes)) +
             " of RAM";
    AddRanked(c, a, out);
  }
  if (c.weights->routed_expert_bytes > 0) {
    Result<OffloadPlan> experts = PlanExpertOffload(*c.model, *c.weights, c.request, c.hardware);
    if (experts.ok() && experts->possible && experts->cpu_moe_layers > 0) {
      Advice a;
      a.kind = AdviceKind::kOffloadExperts;
      a.change = "--n-cpu-moe " + std::to_string(experts->cpu_moe_layers);
      a.saves_bytes = Saves(c.current, experts->gpu_bytes);
      a.fits = true;
      a.headroom_bytes = experts->headroom_bytes;
      a.speed_change = c.current_decode_tokens_per_s > 0 ? experts->decode_tokens_per_s / c.current_decode_tokens_per_s - 1.0 : 0;
      a.cost = "decode about " + Fixed(experts->decode_tokens_per_s, 1) + " tokens/s (active experts of " +
               std::to_string(experts->cpu_moe_layers) + " layers read from RAM); needs " +
               GiBText(static_cast<int64_t>(experts->host_bytes)) + " of RAM";
      AddRanked(c, a, out);
    }
  }
}

void AdviseDevices(const AdviceContext& c, std::vector<Advice>* out) {
  if (!c.hardware.device->can_pool()) return;
  HardwareConfig hw = c.hardware;
  for (int n = c.hardware.count + 1; n <= std::min(kMaxDevices, c.hardware.count + 16); ++n) {
    hw.count = n;
    Result<FitResult> f = Fit(*c.model, *c.weights, c.request, hw);
    if (!f.ok()) continue;  // e.g. heads not divisible by n
    if (!f->fits) continue;
    Advice a;
    a.kind = AdviceKind::kMoreDevices;
    a.change = "--gpus " + std::to_string(n);
    a.apply = {FieldChange::Integer("gpus", n)};
    a.saves_bytes = Saves(c.current, MaxLoad(*f));
    a.fits = true;
    a.headroom_bytes = f->headroom_bytes;
    const double speed = SpeedOf(*c.model, *c.weights, c.request, hw);
    a.speed_change = c.current_decode_tokens_per_s > 0 && speed > 0 ? speed / c.current_decode_tokens_per_s - 1.0 : 0;
    const std::optional<double> unit = c.hardware.device->price_usd();
    a.extra_cost_usd = unit.value_or(0.0) * (n - c.hardware.count);
    a.cost = std::to_string(n - c.hardware.count) + " more " + c.hardware.device->name +
             (unit.has_value() ? " ($" + Fixed(a.extra_cost_usd, 0) + ")" : " (no price known)") + ", " +
             SplitModeName(f->split) + " split";
    AddRanked(c, a, out);
    return;
  }
}

}  // namespace

Result<AdviceResult> Advise(const ModelDescription& model, const WeightPlan& weights, const InferenceRequest& request,
                            const HardwareConfig& hardware, const std::vector<AdviceGenerator>& extra_generators) {
  Result<FitResult> current = Fit(model, weights, request, hardware);
  if (!current.ok()) return current.status();
  AdviceResult out;
  out.current = current.value();
  if (out.current.fits) return out;
  AdviceContext c;
  c.model = &model;
  c.weights = &weights;
  c.request = request;
  c.hardware = hardware;
  c.current = out.current;
  c.current_decode_tokens_per_s = SpeedOf(model, weights, request, hardware);
  AdviseFlashAttention(c, &out.advice);
  AdviseKvCache(c, &out.advice);
  AdviseWeights(c, &out.advice);
  AdviseLimits(c, &out.advice);
  AdviseOffload(c, &out.advice);
  AdviseDevices(c, &out.advice);
  for (const AdviceGenerator& g : extra_generators) {
    if (g) g(c, &out.advice);
  }
  RankAdvice(&out.advice);
  return out;
}

// --- Cost and power ---------------------------------------------------------------------------

Result<CostEstimate> EstimateCost(const Device& device, int count, const CostOptions& options) {
  if (count < 1 || count > kMaxDevices) {
    return Status(ErrorCode::kOutOfRange, "gpus: must be an integer in [1, " + std::to_string(kMaxDevices) + "], got " +
                                              std::to_string(count));
  }
  const double system = options.system_watts < 0 ? world::kSystemBaseWatts : options.system_watts;
  const double load = options.psu_load_fraction <= 0 ? world::kPsuLoadFraction : options.psu_load_fraction;
  const double kwh = options.electricity_usd_per_kwh < 0 ? world::kElectricityUsdPerKwh : options.electricity_usd_per_kwh;
  if (!(system >= 0 && system <= 100000)) {
    return Status(ErrorCode::kOutOfRange, "system-watts: must be a number in [0, 100000]");
  }
  if (!(load > 0 && load <= 1)) return Status(ErrorCode::kOutOfRange, "psu-load: must be a fraction in (0, 1]");
  if (!(kwh >= 0 && kwh <= 100)) return Status(ErrorCode::kOutOfRange, "electricity: must be a number in [0, 100] $/kWh");
  if (!(options.cloud_usd_per_hour >= 0 && options.cloud_usd_per_hour <= 1e6)) {
    return Status(ErrorCode::kOutOfRange, "cloud-usd-per-hour: must be a number in [0, 1000000]");
  }
  if (!(options.utilization > 0 && options.utilization <= 1)) {
    return Status(ErrorCode::kOutOfRange, "utilization: must be a fraction in (0, 1]");
  }
  CostEstimate c;
  const std::optional<double> unit = device.price_usd();
  if (unit.has_value()) {
    c.price_usd = *unit * count;
    c.price_per_gb_usd = *unit / (static_cast<double>(device.memory_bytes) / 1e9);
  } else {
    c.notes.push_back(device.id + " has no known price");
  }
  if (device.tdp_watts.has_value()) {
    c.system_power_watts = static_cast<double>(*device.tdp_watts) * count + system;
    c.psu_watts = static_cast<int>(std::ceil(*c.system_power_watts / load / 50.0 - 1e-9)) * 50;
    c.power_usd_per_hour = *c.system_power_watts / 1000.0 * kwh;
  } else {
    c.notes.push_back(device.id + " has no published TDP; power and PSU size unknown");
  }
  if (options.cloud_usd_per_hour > 0 && c.price_usd.has_value()) {
    const double own = c.power_usd_per_hour.value_or(0.0);
    if (options.cloud_usd_per_hour > own) {
      c.breakeven_hours = *c.price_usd / (options.cloud_usd_per_hour - own);
      c.breakeven_months = *c.breakeven_hours / (world::kHoursPerMonth * options.utilization);
    } else {
      c.notes.push_back("renting costs less per hour than the electricity alone: buying never pays off");
    }
  }
  if (device.category == "cpu") c.notes.push_back("a CPU system's price and TDP are the CPU's only (no memory or board)");
  return c;
}

}  // namespace vram
