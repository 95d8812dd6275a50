// Offload (llama.cpp -ngl and --n-cpu-moe): what stays on the GPU and the speed that results.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>

#include "../runtime/profile.h"
#include "../world.h"
#include "plan.h"

namespace vram {
using namespace plan;  // NOLINT: this folder is the planner

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

Result<OffloadContext> MakeOffloadContext(const ModelDescription& m, const WeightPlan& p,
                                          const InferenceRequest& request,
                                          const HardwareConfig& hw) {
  VRAM_RETURN_IF_ERROR(CheckInputs(m, p, request, hw));
  if (!runtime::ProfileOf(request.runtime).OffloadsToHost()) {
    return Status(ErrorCode::kUnsupported,
                  "runtime: offloading layers or experts to RAM is modelled for llama.cpp only");
  }
  if (hw.count != 1)
    return Status(ErrorCode::kUnsupported,
                  "gpus: offload is planned for one GPU; got " + std::to_string(hw.count));
  OffloadContext c{&m, &p, ForDevice(request, *hw.device), hw, {}, 0, 0};
  Result<InferenceEstimate> e = EstimateNumbers(m, p, c.request);
  if (!e.ok()) return e.status();
  c.whole = std::move(e).value();
  if (hw.device->device_class() == DeviceClass::kCpu) {
    return Status(ErrorCode::kUnsupported,
                  "gpu: '" + hw.device->id + "' is a CPU system; there is no GPU to offload from");
  }
  // Apple silicon: "RAM" is the same unified memory, read by the CPU cores.
  const uint64_t host =
      hw.host_memory_bandwidth_bytes_per_s > 0           ? hw.host_memory_bandwidth_bytes_per_s
      : hw.device->device_class() == DeviceClass::kApple ? hw.device->memory_bandwidth_bytes_per_s
                                                         : world::kDefaultHostMemoryBandwidth;
  c.host_bandwidth = static_cast<double>(host);
  c.n_layer = static_cast<int64_t>(m.attention.layers.size());
  return c;
}

/// Decode seconds per token with `gpu_read` bytes read on the GPU and `host_read` in RAM.
double OffloadSeconds(const OffloadContext& c, double gpu_read, double host_read) {
  const Efficiency eff = EfficiencyOf(*c.hw.device, c.request.runtime, WeightFormat{});
  return gpu_read /
             (static_cast<double>(c.hw.device->memory_bandwidth_bytes_per_s) * eff.bandwidth) +
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
    const bool on_gpu =
        (slot == Slot::kLayer && t.layer >= first) || (slot == Slot::kOutput && output) ||
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
                                     const InferenceRequest& request,
                                     const HardwareConfig& hardware) {
  Result<OffloadContext> ctx = MakeOffloadContext(model, weights, request, hardware);
  if (!ctx.ok()) return ctx.status();
  const OffloadContext& c = *ctx;
  const uint64_t capacity = Capacity(*hardware.device, c.request);
  const uint64_t required =
      static_cast<uint64_t>(std::ceil(static_cast<double>(hardware.device->usable_memory_bytes()) *
                                      hardware.min_headroom_fraction));
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
    const bool on_gpu = out.gpu_layers > 0 &&
                        ((slot == Slot::kLayer && t.layer >= first) ||
                         (slot != Slot::kLayer && output &&
                          !(t.role == TensorRole::kTokenEmbedding && !model.tied_embeddings)));
    const uint64_t read = ReadBytes(model, weights, i);
    if (on_gpu) {
      gpu_read += read;
    } else {
      host_read += read;
      if (!(t.role == TensorRole::kTokenEmbedding && !model.tied_embeddings))
        host_weights += weights.tensors[i].bytes;
    }
  }
  const uint64_t host_kv = c.whole.kv_cache_bytes - std::min(c.whole.kv_cache_bytes, s->gpu_kv);
  out.host_bytes = c.whole.host_bytes + host_weights + host_kv;
  out.gpu_read_bytes_per_token = gpu_read + s->gpu_kv / static_cast<uint64_t>(c.request.batch);
  out.host_read_bytes_per_token = host_read + host_kv / static_cast<uint64_t>(c.request.batch);
  out.decode_tokens_per_s =
      1.0 / OffloadSeconds(c, static_cast<double>(out.gpu_read_bytes_per_token),
                           static_cast<double>(out.host_read_bytes_per_token));
  out.notes.push_back("llama.cpp -ngl " + std::to_string(out.gpu_layers) + ": the last " +
                      std::to_string(std::min(out.gpu_layers, c.n_layer)) + " of " +
                      std::to_string(c.n_layer) + " layers" +
                      (output ? " and the output layer" : "") +
                      " on the GPU with their KV cache; the rest in RAM read at " +
                      Fixed(c.host_bandwidth / 1e9, 1) + " GB/s x " +
                      Fixed(world::kDecodeBandwidthEfficiencyCpu, 2));
  return out;
}

Result<OffloadPlan> PlanExpertOffload(const ModelDescription& model, const WeightPlan& weights,
                                      const InferenceRequest& request,
                                      const HardwareConfig& hardware) {
  Result<OffloadContext> ctx = MakeOffloadContext(model, weights, request, hardware);
  if (!ctx.ok()) return ctx.status();
  const OffloadContext& c = *ctx;
  if (weights.routed_expert_bytes == 0) {
    return Status(ErrorCode::kUnsupported,
                  "model: expert offload (--n-cpu-moe) needs a mixture-of-experts model");
  }
  const uint64_t capacity = Capacity(*hardware.device, c.request);
  const uint64_t required =
      static_cast<uint64_t>(std::ceil(static_cast<double>(hardware.device->usable_memory_bytes()) *
                                      hardware.min_headroom_fraction));
  // Device bytes of the routed experts (ffn_*_exps, which --n-cpu-moe matches) per layer.
  std::vector<uint64_t> expert_device(static_cast<size_t>(c.n_layer), 0),
      expert_read(static_cast<size_t>(c.n_layer), 0),
      expert_stored(static_cast<size_t>(c.n_layer), 0);
  for (size_t i = 0; i < model.tensors.size(); ++i) {
    const TensorInfo& t = model.tensors[i];
    if (!t.is_routed_expert() || t.layer < 0 || t.layer >= c.n_layer) continue;
    expert_device[static_cast<size_t>(t.layer)] +=
        DeviceBytes(model, weights, i, c.request.runtime);
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
  for (int64_t lo = 0, hi = c.n_layer;
       lo <= hi;) {  // smallest n with gpu_bytes(n) + required <= capacity
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
  out.gpu_read_bytes_per_token =
      weights.bytes_read_per_token - std::min(weights.bytes_read_per_token, host_read) + (*kv)[0];
  out.decode_tokens_per_s =
      1.0 / OffloadSeconds(c, static_cast<double>(out.gpu_read_bytes_per_token),
                           static_cast<double>(out.host_read_bytes_per_token));
  out.notes.push_back("llama.cpp --n-cpu-moe " + std::to_string(out.cpu_moe_layers) +
                      ": routed experts of the first " + std::to_string(out.cpu_moe_layers) +
                      " layers in RAM; attention, routers, shared experts and the KV cache stay on "
                      "the GPU; each token "
                      "reads its active experts of those layers from RAM");
  return out;
}

}  // namespace vram
