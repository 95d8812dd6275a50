#pragma once

// The planner's shared pieces: what each device holds (placement), the rooflines that time it,
// and the checks every action makes. One file per job in this folder uses them: placement.cc,
// throughput.cc, solvers.cc, offload.cc, recommend.cc, advice.cc, cost.cc.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "../numeric.h"
#include "../planner_internal.h"
#include "vram/planner.h"

namespace vram::plan {

using internal::CeilDiv;
using internal::RoundUp;
constexpr int kMaxDevices = 64;
constexpr int64_t kMaxContext = int64_t{1} << 24;
constexpr int64_t kMaxBatch = 65536;
using internal::Fixed;
using internal::LargestFitting;

struct Roofline;

/// Where a tensor sits when the model is cut into layers: its layer, or the input (token and
/// position embeddings) or output (final norm, head, a tied head's copy) layer.
enum class Slot : uint8_t { kInput, kLayer, kOutput };

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

struct Efficiency {
  double bandwidth = 0;
  double layer_seconds = 0;
  double compute = 0;
};

int64_t CeilDivI(int64_t a, int64_t b);

std::string GiBText(int64_t bytes);

SplitMode ResolveSplit(SplitMode split, Runtime runtime);

Slot SlotOf(const ModelDescription& m, const TensorInfo& t);

/// Bytes a tensor occupies on the device, by the runtime's rule.
uint64_t DeviceBytes(const ModelDescription& m, const WeightPlan& p, size_t i, Runtime runtime);

/// Bytes decode reads from a tensor per token (the rule of WeightPlan::bytes_read_per_token).
uint64_t ReadBytes(const ModelDescription& m, const WeightPlan& p, size_t i);

/// Multiply-accumulate parameters one token goes through: linear weights, routed experts at top-k,
/// plus a tied head (which is stored as the embedding).
uint64_t MatmulParams(const ModelDescription& m);

double ExpertFraction(const ModelDescription& m);

/// A copy of the model's geometry with one placeholder tensor: EstimateNumbers reads the geometry
/// and the plan's totals, never the tensors (PlannerTest.LayerSplitPartsAddUpToTheWhole guards
/// this).
std::unique_ptr<ModelDescription> Skeleton(const ModelDescription& m, int64_t first, int64_t end,
                                           bool output);

std::unique_ptr<WeightPlan> SkeletonPlan(const WeightPlan& p, uint64_t device_bytes,
                                         uint64_t embedding_bytes);

/// The device of item `il` (0..n_layer, n_layer = the output layer) when n_layer + 1 items are
/// spread evenly over `count` devices: llama.cpp's load_tensors assigns item il to the first
/// device whose cumulative split exceeds il / (n_layer + 1), with splits proportional to free
/// memory (equal for identical devices). src/llama-model.cpp, get_layer_buft_list.
int DeviceOfItem(int64_t il, int64_t n_layer, int count);

Result<Placement> PlaceLayers(const ModelDescription& m, const WeightPlan& p, Runtime runtime,
                              int count);

/// The model one tensor-parallel rank holds (vLLM's sharding of each layer kind).
Result<Placement> PlaceTensorParallel(const ModelDescription& m, const WeightPlan& p,
                                      Runtime runtime, int t);

Result<Placement> Place(const ModelDescription& m, const WeightPlan& p, Runtime runtime,
                        SplitMode split, int count);

/// Memory one device offers: usable memory; vLLM takes ceil(memory x utilization) and keeps its
/// CUDA context outside that budget.
uint64_t Capacity(const Device& d, const InferenceRequest& r);

InferenceRequest ForDevice(InferenceRequest r, const Device& d);

Result<FitResult> FitPlaced(const Placement& pl, const ModelDescription& m, const WeightPlan& p,
                            const InferenceRequest& request, const HardwareConfig& hw);

Status CheckRuntimeOnDevice(const InferenceRequest& r, const Device& d);

Efficiency EfficiencyOf(const Device& d, Runtime runtime, const WeightFormat& format);

/// Dense TFLOPS for the arithmetic a weight format runs in.
double TflopsFor(const Device& d, const WeightFormat& f);

/// Per-direction bandwidth of the peer link (NVLink, Infinity Fabric and Gaudi figures are totals
/// over both directions).
double LinkBytesPerSecond(const Device& d);

double AllReduceLatency(const Device& d);

/// Per-device KV bytes read per token at `position` cached tokens, summed over the parts.
Result<std::vector<uint64_t>> KvReadPerPart(const Placement& pl, const InferenceRequest& request,
                                            int64_t position);

/// Attention FLOPs of one token at `position` (QK^T and PV: 2 x 2 x heads x head_dim per cached
/// token and layer, the window capping sliding layers).
double AttentionFlops(const ModelDescription& m, int64_t position);

Result<Roofline> MakeRoofline(const Placement& pl, const ModelDescription& m, const WeightPlan& p,
                              const Device& d, Runtime runtime);

/// Seconds of one decode step of `batch` sequences with `kv` bytes cached per sequence and part.
double DecodeStepSeconds(const Roofline& rf, const std::vector<uint64_t>& kv, int64_t batch,
                         int64_t position);

Result<ThroughputEstimate> ThroughputPlaced(const Placement& pl, const ModelDescription& m,
                                            const WeightPlan& p, const InferenceRequest& request,
                                            const HardwareConfig& hw);

Status CheckInputs(const ModelDescription& m, const WeightPlan& p, const InferenceRequest& r,
                   const HardwareConfig& hw);

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
    const double touched = pl->expert_fraction > 0 ? 1.0 - std::pow(1.0 - pl->expert_fraction,
                                                                    static_cast<double>(batch))
                                                   : 0.0;
    for (const Part& part : pl->parts) {
      seconds += (static_cast<double>(part.dense_read_bytes) +
                  static_cast<double>(part.expert_bytes) * touched) /
                 (bandwidth * eff.bandwidth);
    }
    return seconds;
  }
  double KvSeconds(const std::vector<uint64_t>& kv, int64_t batch) const {
    double seconds = 0;
    for (uint64_t b : kv)
      seconds += static_cast<double>(b) * static_cast<double>(batch) / (bandwidth * eff.bandwidth);
    return seconds;
  }
  double FixedSeconds() const { return static_cast<double>(n_layer) * eff.layer_seconds; }
  double CommSeconds(int64_t tokens) const {
    if (tp <= 1) return 0;
    const double bytes =
        static_cast<double>(model->hidden_size) * 2.0 * static_cast<double>(tokens);
    const double per =
        AllReduceLatency(*device) + 2.0 * (tp - 1) / tp * bytes / LinkBytesPerSecond(*device);
    return 2.0 * static_cast<double>(n_layer) * per;
  }
  double FlopsPerToken(int64_t position) const {
    return 2.0 * static_cast<double>(pl->matmul_params_per_token) +
           AttentionFlops(*model, position);
  }
  double ComputeSeconds(int64_t tokens, int64_t position) const {
    return static_cast<double>(tokens) * FlopsPerToken(position) /
           (tflops * 1e12 * eff.compute * tp);
  }
};

}  // namespace vram::plan
