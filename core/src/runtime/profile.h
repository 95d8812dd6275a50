#pragma once

// One interface for what a runtime decides: the cache it allocates, where weights live, its
// transient peak, its fixed overhead, the budget rule that turns a device into a KV budget, and
// the planner's runtime-specific choices. Each runtime is one file in this folder; nothing outside
// it branches on the runtime.

#include <cstdint>
#include <string>
#include <vector>

#include "items.h"
#include "vram/formats.h"
#include "vram/hardware.h"
#include "vram/inference.h"
#include "vram/model.h"
#include "vram/planner.h"
#include "vram/status.h"

namespace vram::runtime {

/// The cache geometry a runtime resolves from the workload.
struct CachePlan {
  int64_t tokens_per_sequence = 0;  ///< Full-attention cells per sequence after padding.
  int64_t ubatch_tokens = 0;        ///< llama.cpp: the n_ubatch its graph is reserved for.
  int64_t batched_tokens = 0;       ///< vLLM: max_num_batched_tokens of the profile run.
  int64_t max_seqs = 0;             ///< vLLM: max_num_seqs.
};

/// Cache elements one token costs in one layer.
struct CacheRow {
  int64_t k_elements = 0;
  int64_t v_elements = 0;
};

/// What the activation step sees: the workload and the widths derived from the model once.
struct Workload {
  const ModelDescription& model;
  const WeightPlan& weights;
  const InferenceRequest& request;
  const CachePlan& plan;
  uint64_t widest_ffn = 0;  ///< Per-token intermediate width of the widest layer.
  bool gated = true;        ///< Every MLP is gated (3 intermediates instead of 2).
  uint64_t qkv_width = 0;   ///< Q + K + V values per token.
  uint64_t k_width = 0;     ///< The widest layer's cached K values per token (RowOf).
  uint64_t v_width = 0;     ///< The widest layer's cached V values per token.
};

/// The KV budget a runtime takes from a device (vLLM's gpu_memory_utilization rule).
struct Budget {
  uint64_t reserved_bytes = 0;
  int64_t kv_capacity_tokens = 0;
};

/// A fused-attention switch the advice can offer: the changed request and how to say it.
struct AttentionChange {
  bool available = false;
  InferenceRequest request;
  std::string change;  ///< "--flash-attn on".
  FieldChange field;
};

/// Everything one runtime decides. Defaults are the theoretical minimum's.
class Profile {
 public:
  virtual ~Profile() = default;

  // --- Identity --------------------------------------------------------------------------------
  virtual Runtime id() const = 0;
  virtual const char* name() const = 0;          ///< Stable id: "llamacpp".
  virtual const char* display_name() const = 0;  ///< "llama.cpp".
  /// Other spellings ParseRuntime accepts.
  virtual std::vector<const char*> aliases() const { return {}; }
  /// Weight-format families it loads (formats.h families); empty = every one.
  virtual std::vector<const char*> weight_families() const { return {}; }
  /// The format a page or CLI starts from with this runtime.
  virtual const char* default_weights() const { return "bf16"; }
  /// Request fields (calculator request keys) that only this runtime reads.
  virtual std::vector<const char*> option_fields() const { return {}; }

  // --- Workload --------------------------------------------------------------------------------
  /// Rules on the request that only this runtime has (cache types it supports, ...).
  virtual Status CheckRequest(const InferenceRequest& request) const;
  /// Whether it loads weights stored in `format`.
  virtual Status CheckWeights(const WeightFormat& format) const { return Status::Ok(); }
  virtual CachePlan PlanCache(const InferenceRequest& request) const;
  virtual CacheRow RowOf(const AttentionGeometry& geometry, const LayerAttention& layer) const;
  /// Cache cells one sequence holds in one layer.
  virtual int64_t LayerTokens(const ModelDescription& model, const LayerAttention& layer,
                              const InferenceRequest& request, const CachePlan& plan) const;
  /// The end of the KV sentence when padding changed the cell count ("" = none).
  virtual std::string CachePaddingNote(const InferenceRequest& request) const { return ""; }
  /// A note when the runtime ignores the model's sliding windows ("" = it honours them).
  virtual std::string IgnoredWindowNote() const { return ""; }
  /// Bytes per value of a recurrent layer's conv state and recurrent state (default: the
  /// model's 16-bit compute type).
  virtual uint64_t ConvStateBytesPerValue(const WeightPlan& weights) const { return 2; }
  virtual uint64_t RecurrentStateBytesPerValue(const WeightPlan& weights) const { return 2; }
  /// Sequences that keep a recurrent state.
  virtual int64_t StateSequences(const InferenceRequest& request) const { return request.batch; }
  /// Where the state's element type comes from, for the explanation.
  virtual std::string StateNote() const { return "16-bit, the model's compute type"; }
  /// Whether a layer's K/V explanation should describe per-head decompressed MLA.
  virtual bool CachesDecompressedMla() const { return false; }

  // --- Weights ---------------------------------------------------------------------------------
  virtual uint64_t DeviceWeightBytes(const WeightPlan& weights,
                                     const InferenceRequest& request) const {
    return weights.total_bytes;
  }
  /// The end of the weights sentence ("" = nothing to add).
  virtual std::string WeightsNote(const ModelDescription& model, const WeightPlan& weights,
                                  const InferenceRequest& request) const {
    return "";
  }
  /// Bytes tensor i occupies on the device.
  virtual uint64_t TensorDeviceBytes(const ModelDescription& model, const WeightPlan& weights,
                                     size_t i) const {
    return weights.tensors[i].bytes;
  }
  /// The token-embedding table stays in host RAM (not read from the device per token).
  virtual bool TokenEmbeddingOnHost() const { return false; }

  // --- Peak, overhead, budget ------------------------------------------------------------------
  /// The transient peak, itemized; may set estimate->host_bytes.
  virtual uint64_t Activations(const Workload& w, internal::Items& items,
                               InferenceEstimate* estimate) const = 0;
  /// Fixed device overhead, itemized; `budgeted` is the part inside the runtime's own budget.
  virtual uint64_t Overhead(const InferenceRequest& request, internal::Items& items,
                            uint64_t* budgeted) const = 0;
  /// Whether the runtime takes a share of the device regardless of need (then the request's
  /// device memory matters and the estimate carries the budget).
  virtual bool BudgetsFromDevice() const { return false; }
  /// The budget rule: filled only when BudgetsFromDevice().
  virtual Budget KvBudget(const InferenceRequest& request, const InferenceEstimate& estimate,
                          uint64_t budgeted_overhead, uint64_t block_bytes) const {
    return {};
  }
  /// Notes on the budget (vLLM: what it takes and whether it starts).
  virtual void BudgetNotes(const InferenceRequest& request, const InferenceEstimate& estimate,
                           internal::Items& items) const {}

  // --- Planner ---------------------------------------------------------------------------------
  /// Split used when the request says "auto".
  virtual SplitMode DefaultSplit() const { return SplitMode::kTensor; }
  /// Memory one device offers this runtime.
  virtual uint64_t Capacity(const Device& device, const InferenceRequest& request) const {
    return device.usable_memory_bytes();
  }
  /// A note on the capacity ("" = none).
  virtual std::string CapacityNote(const InferenceRequest& request) const { return ""; }
  /// Whether it runs on this device.
  virtual Status CheckDevice(const Device& device) const { return Status::Ok(); }
  /// Whether it can split tensors across devices.
  virtual Status CheckTensorSplit() const { return Status::Ok(); }
  /// The overhead counted is a CUDA context's (noted on Apple and CPU devices).
  virtual bool CountsCudaOverhead() const { return true; }
  /// Decode efficiency on a discrete GPU: fraction of bandwidth and fixed seconds per layer.
  virtual double GpuBandwidthEfficiency() const;
  virtual double GpuLayerSeconds(const WeightFormat& format) const;
  /// Notes on the speed estimate (`layer_seconds` and `fixed_seconds` as used).
  virtual void ThroughputNotes(const InferenceRequest& request, bool discrete_gpu,
                               double layer_seconds, double fixed_seconds,
                               std::vector<std::string>* notes) const;
  /// Cache types the advice may offer, smallest last.
  virtual std::vector<KvDType> SmallerCacheTypes() const {
    return {KvDType::kQ8_0, KvDType::kQ4_0};
  }
  /// A cache-type change needs these extra fields too (llama.cpp: flash attention).
  virtual void CacheTypeChange(InferenceRequest* request, std::string* change,
                               std::vector<FieldChange>* apply) const {}
  /// The fused-attention change the advice can offer for this request, if any.
  virtual AttentionChange FusedAttention(const InferenceRequest& request) const { return {}; }
  /// Quality ladder of weight formats it loads, best first.
  virtual std::vector<std::string> WeightLadder() const = 0;
  /// Layers and experts can be offloaded to host RAM (llama.cpp -ngl, --n-cpu-moe).
  virtual bool OffloadsToHost() const { return false; }
};

/// The profile of a runtime.
const Profile& ProfileOf(Runtime runtime);
/// Every profile, in the order front ends list them.
const std::vector<const Profile*>& AllProfiles();

}  // namespace vram::runtime
