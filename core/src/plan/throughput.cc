// Throughput: decode and prefill speed from the memory and compute rooflines.

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
// --- Rooflines ------------------------------------------------------------------------------

Efficiency EfficiencyOf(const Device& d, Runtime runtime, const WeightFormat& format) {
  switch (d.device_class()) {
    case DeviceClass::kApple:
      return {world::kDecodeBandwidthEfficiencyApple, world::kDecodeLayerSecondsApple,
              world::kPrefillEfficiencyApple};
    case DeviceClass::kCpu:
      return {world::kDecodeBandwidthEfficiencyCpu, world::kDecodeLayerSecondsCpu,
              world::kPrefillEfficiencyCpu};
    case DeviceClass::kDiscreteGpu:
      break;
  }
  const double prefill =
      d.category == "datacenter" ? world::kPrefillEfficiencyGpuDatacenter
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
  if (f.scheme == QuantScheme::kDense && f.dense_dtype == DType::kBF16 &&
      d.bf16_dense_tflops.has_value()) {
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
Result<std::vector<uint64_t>> KvReadPerPart(const Placement& pl, const InferenceRequest& request,
                                            int64_t position) {
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
    const int64_t span =
        l.kind == AttentionKind::kSlidingWindow ? std::min(position, l.window_tokens) : position;
    const double width = static_cast<double>(g.num_query_heads) *
                         static_cast<double>(g.key_head_dim + g.value_head_dim);
    flops += 2.0 * width * static_cast<double>(span);
  }
  return flops;
}

Result<Roofline> MakeRoofline(const Placement& pl, const ModelDescription& m, const WeightPlan& p,
                              const Device& d, Runtime runtime) {
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
double DecodeStepSeconds(const Roofline& rf, const std::vector<uint64_t>& kv, int64_t batch,
                         int64_t position) {
  const double memory = rf.WeightSeconds(batch) + rf.KvSeconds(kv, batch);
  const double compute = rf.ComputeSeconds(batch, position);
  return std::max(memory, compute) + rf.FixedSeconds() + rf.CommSeconds(batch);
}

Result<ThroughputEstimate> ThroughputPlaced(const Placement& pl, const ModelDescription& m,
                                            const WeightPlan& p, const InferenceRequest& request,
                                            const HardwareConfig& hw) {
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
    t.weight_bytes_read_per_token +=
        part.dense_read_bytes +
        static_cast<uint64_t>(static_cast<double>(part.expert_bytes) * pl.expert_fraction);
  }
  for (uint64_t b : *kv_end) t.kv_bytes_read_per_token += b;
  t.memory_seconds_per_token = rf.WeightSeconds(1) + rf.KvSeconds(*kv_end, 1);
  t.fixed_seconds_per_token = rf.FixedSeconds();
  t.communication_seconds_per_token = rf.CommSeconds(1);
  t.decode_tokens_per_s = 1.0 / DecodeStepSeconds(rf, *kv_end, 1, ctx);
  t.decode_tokens_per_s_at_start = 1.0 / DecodeStepSeconds(rf, *kv_start, 1, 1);
  t.batch_decode_tokens_per_s =
      static_cast<double>(r.batch) / DecodeStepSeconds(rf, *kv_end, r.batch, ctx);
  // Prefill: the prompt passes in ubatches; each reads the weights once and pays the fixed cost
  // once; FLOPs grow with the average position (ctx / 2).
  const int64_t ubatch = std::max<int64_t>(1, std::min<int64_t>(r.ubatch_tokens, ctx));
  const double per_ubatch_memory = rf.WeightSeconds(ubatch);
  const double per_ubatch_compute = rf.ComputeSeconds(ubatch, ctx / 2);
  const double per_ubatch =
      std::max(per_ubatch_memory, per_ubatch_compute) + rf.FixedSeconds() + rf.CommSeconds(ubatch);
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
  runtime::ProfileOf(r.runtime).ThroughputNotes(r, gpu, rf.eff.layer_seconds,
                                                t.fixed_seconds_per_token, &t.notes);
  if (pl.split == SplitMode::kLayer && pl.count > 1) {
    t.notes.push_back(
        "layer split: the devices take turns, so one request runs at one device's speed");
  }
  if (rf.tp > 1) {
    t.notes.push_back("tensor parallel: 2 x " + std::to_string(rf.n_layer) +
                      " all-reduces per token over " +
                      std::string(InterconnectKindName(d.interconnect.kind)) + " cost " +
                      Fixed(t.communication_seconds_per_token * 1e3, 2) + " ms");
  }
  if (d.id == "mi250x") {
    t.notes.push_back(
        "MI250X is two GPUs (GCDs) to software; the figures here treat the module as one");
  }
  return t;
}

}  // namespace plan

using namespace plan;  // NOLINT: this folder is the planner

Result<ThroughputEstimate> EstimateThroughput(const ModelDescription& model,
                                              const WeightPlan& weights,
                                              const InferenceRequest& request,
                                              const HardwareConfig& hardware) {
  VRAM_RETURN_IF_ERROR(CheckInputs(model, weights, request, hardware));
  Result<Placement> pl = Place(model, weights, request.runtime, hardware.split, hardware.count);
  if (!pl.ok()) return pl.status();
  return ThroughputPlaced(*pl, model, weights, request, hardware);
}

}  // namespace vram
