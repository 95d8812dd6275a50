#pragma once

// The hardware planner: does a workload fit on N devices, what is the most it can hold, how fast
// will it run, which device to buy, and what would make it fit. Every memory figure comes from
// EstimateNumbers (inference.h); every speed from the rooflines whose efficiencies live in
// core/src/world.h with their sources.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vram/formats.h"
#include "vram/hardware.h"
#include "vram/inference.h"
#include "vram/model.h"
#include "vram/model_files.h"
#include "vram/status.h"
#include "vram/training.h"

namespace vram {

/// How a runtime spreads one model over several devices.
enum class SplitMode : uint8_t {
  /// The runtime's default: llama.cpp and transformers split by layer (llama.cpp
  /// --split-mode layer, accelerate's device_map="auto"); vLLM and theoretical by tensor.
  kAuto,
  /// Whole layers, with their KV cache, per device; the devices run one after another, so one
  /// request is no faster than on one device. Each device has its own compute buffer and CUDA
  /// context; the output layer sits on the last device.
  kLayer,
  /// Tensor parallelism (vLLM --tensor-parallel-size): every matrix is split across the devices,
  /// which all work on every token and meet in two all-reduces per layer. Norms, routers and MLA
  /// down-projections are replicated; KV heads are split while the degree divides them and
  /// replicated beyond (vLLM QKVParallelLinear); an MLA latent cache is replicated whole.
  kTensor,
};

/// Stable lowercase name ("auto", "layer", "tensor").
const char* SplitModeName(SplitMode mode);
/// Parses "auto", "layer" (or "pp", "pipeline") and "tensor" (or "tp").
Result<SplitMode> ParseSplitMode(std::string_view name);

/// The hardware a workload runs on.
struct HardwareConfig {
  const Device* device = nullptr;  ///< Not owned; must outlive every call that uses it.
  int count = 1;                   ///< Identical devices, 1..64.
  SplitMode split = SplitMode::kAuto;
  /// Fraction of each device's usable memory to keep free, in [0, 0.9].
  double min_headroom_fraction = 0.0;
  /// Bandwidth of the host RAM that holds offloaded weights; 0 = the device's own on Apple
  /// silicon (unified memory), else world::kDefaultHostMemoryBandwidth (dual-channel DDR5-5600).
  uint64_t host_memory_bandwidth_bytes_per_s = 0;
};

/// Checks a configuration and names the first bad field with its accepted range.
Status ValidateHardware(const HardwareConfig& hardware);

/// What one device holds.
struct DeviceLoad {
  uint64_t weights_bytes = 0;  ///< Training: compute, master and frozen weights, gathered shards.
  uint64_t gradients_bytes = 0;  ///< Training only.
  uint64_t optimizer_bytes = 0;  ///< Training only.
  uint64_t kv_cache_bytes = 0;
  uint64_t activations_bytes = 0;
  uint64_t overhead_bytes = 0;
  uint64_t total_bytes = 0;
  int64_t first_layer = 0;  ///< Layer split: the layers [first_layer, end_layer) live here.
  int64_t end_layer = 0;
  bool holds_output = false;  ///< Layer split: the output layer (final norm and head) lives here.
};

/// Whether a workload fits on `count` devices.
struct FitResult {
  SplitMode split = SplitMode::kLayer;  ///< Resolved (never kAuto).
  int devices = 1;
  /// Memory one device offers this runtime: usable memory, or for vLLM
  /// ceil(memory x gpu_memory_utilization) plus the CUDA context it does not budget.
  uint64_t capacity_bytes = 0;
  uint64_t required_headroom_bytes = 0;  ///< min_headroom_fraction x usable memory.
  bool fits = false;           ///< Every device: total + required headroom <= capacity.
  int64_t headroom_bytes = 0;  ///< Least capacity - total over the devices; negative when over.
  uint64_t single_device_bytes = 0;  ///< What the whole workload needs on one device.
  /// Sum over the devices minus single_device_bytes: the replicated tensors, the extra CUDA
  /// contexts, compute buffers and runtime overhead that splitting adds.
  uint64_t split_overhead_bytes = 0;
  std::vector<DeviceLoad> per_device;
  std::vector<std::string> notes;
  /// A training step (FitTraining): per_device carries gradients and optimizer states, and
  /// `layout` replaces `split`.
  bool training = false;
  std::string layout;  ///< Training: "dp 2 x tp 1 x pp 1".
};

/// Does the workload fit on hardware.count devices of hardware.device?
Result<FitResult> Fit(const ModelDescription& model, const WeightPlan& weights,
                      const InferenceRequest& request, const HardwareConfig& hardware);

/// The smallest device count in [1, max_devices] that fits (hardware.count is ignored).
/// `devices` is 0 when none does.
struct DeviceCountSolution {
  int devices = 0;
  FitResult fit;  ///< At `devices` (or at max_devices when none fits).
};
Result<DeviceCountSolution> SmallestDeviceCount(const ModelDescription& model, const WeightPlan& weights,
                                                const InferenceRequest& request,
                                                const HardwareConfig& hardware, int max_devices = 16);

/// The largest value of one workload dimension that still fits. It is the boundary: one more
/// no longer fits (unless `limited_by_cap`).
struct LimitSolution {
  int64_t max_value = 0;  ///< 0 when not even 1 fits.
  int64_t cap = 0;        ///< The search limit.
  bool limited_by_cap = false;  ///< max_value == cap and it fits: the real limit is higher.
  FitResult fit_at_max;
};

/// Largest context per sequence (request.context_tokens is ignored). The cap is the model's
/// max_position_embeddings when known and `cap_at_model_max`, else 16M tokens.
Result<LimitSolution> MaxContext(const ModelDescription& model, const WeightPlan& weights,
                                 const InferenceRequest& request, const HardwareConfig& hardware,
                                 bool cap_at_model_max = true);
/// Largest batch of sequences of request.context_tokens (request.batch is ignored), up to 65536.
Result<LimitSolution> MaxBatch(const ModelDescription& model, const WeightPlan& weights,
                               const InferenceRequest& request, const HardwareConfig& hardware);

/// One weight format tried by BestWeightFormat.
struct FormatTrial {
  std::string format;
  uint64_t weight_bytes = 0;  ///< Stored bytes of the whole model.
  double bits_per_weight = 0;
  bool fits = false;
  int64_t headroom_bytes = 0;
  std::string error;  ///< Why it could not be tried (e.g. a runtime that cannot load it).
};

/// The highest-quality weight format (first in `candidates` that fits).
struct FormatSolution {
  std::string format;  ///< "" when none fits.
  FitResult fit;
  std::vector<FormatTrial> trials;  ///< In candidate order.
};

/// Quality ladder of weight formats a runtime can load, best first: GGUF mixes for llama.cpp
/// ordered by their published perplexity increase; bf16, fp8, 8-bit and 4-bit schemes for vLLM and
/// transformers.
std::vector<std::string> WeightFormatLadder(Runtime runtime);

/// Tries `candidates` (empty = WeightFormatLadder(request.runtime)) in order.
Result<FormatSolution> BestWeightFormat(const ModelDescription& model, const InferenceRequest& request,
                                        const HardwareConfig& hardware,
                                        const std::vector<std::string>& candidates = {});

/// Relative perplexity increase of a weight format over 16-bit, in percent, where published
/// (llama.cpp PR 6745, Llama-3-70B, wiki.test). Absent when unknown.
std::optional<double> WeightFormatQualityLossPercent(std::string_view format_id);

// --- Speed --------------------------------------------------------------------------------------

/// Decode and prefill speed from the memory and compute rooflines.
struct ThroughputEstimate {
  /// One sequence, one token at a time, with the cache filled to request.context_tokens.
  double decode_tokens_per_s = 0;
  /// One sequence with an empty cache (what llama-bench's tg128 measures).
  double decode_tokens_per_s_at_start = 0;
  /// Prompt processing of a request.context_tokens-token prompt, one sequence.
  double prefill_tokens_per_s = 0;
  /// All request.batch sequences decoding together (sum over sequences), cache full.
  double batch_decode_tokens_per_s = 0;
  /// The smallest batch at which decode turns compute-bound at this context; 0 when it never does
  /// up to 65536 (reading the KV cache keeps it memory-bound).
  int64_t compute_bound_batch = 0;
  uint64_t weight_bytes_read_per_token = 0;  ///< Per device for tensor parallelism.
  uint64_t kv_bytes_read_per_token = 0;      ///< At request.context_tokens, per device.
  double memory_seconds_per_token = 0;       ///< Bytes over bandwidth x efficiency.
  double fixed_seconds_per_token = 0;        ///< Per-layer kernel and launch cost.
  double communication_seconds_per_token = 0;  ///< Tensor-parallel all-reduces.
  double bandwidth_efficiency = 0;
  double compute_efficiency = 0;
  double compute_tflops = 0;  ///< Peak dense TFLOPS used for the weight format, per device.
  std::vector<std::string> notes;
};

/// Speed of a workload that fits on the hardware (it does not check the fit). On discrete GPUs
/// request.runtime picks the fixed cost per layer: llama.cpp's measured fit also serves vLLM with
/// CUDA graphs; transformers' generate() pays several times more, by weight scheme.
Result<ThroughputEstimate> EstimateThroughput(const ModelDescription& model, const WeightPlan& weights,
                                              const InferenceRequest& request,
                                              const HardwareConfig& hardware);

// --- Offload (llama.cpp) -------------------------------------------------------------------------

/// What stays on the GPU, what goes to RAM, and the speed that results.
struct OffloadPlan {
  bool possible = false;     ///< Something useful fits on the GPU.
  int64_t gpu_layers = 0;    ///< -ngl: n_layer + 1 means every layer plus the output layer.
  int64_t total_layers = 0;  ///< n_layer + 1.
  int64_t cpu_moe_layers = 0;  ///< --n-cpu-moe N (expert offload): experts of layers [0, N) in RAM.
  uint64_t gpu_bytes = 0;    ///< On the (first) GPU.
  int64_t headroom_bytes = 0;
  uint64_t host_bytes = 0;   ///< In RAM: offloaded weights and KV plus llama.cpp's host buffers.
  uint64_t gpu_read_bytes_per_token = 0;
  uint64_t host_read_bytes_per_token = 0;
  double decode_tokens_per_s = 0;  ///< Cache full, one sequence.
  std::vector<std::string> notes;
};

/// The largest -ngl whose GPU part fits (llama.cpp, one GPU; hardware.count must be 1).
Result<OffloadPlan> PlanLayerOffload(const ModelDescription& model, const WeightPlan& weights,
                                     const InferenceRequest& request, const HardwareConfig& hardware);
/// The smallest --n-cpu-moe N for which attention, router, shared experts, KV and the experts of
/// layers [N, n_layer) fit on the GPU (llama.cpp, MoE models, one GPU).
Result<OffloadPlan> PlanExpertOffload(const ModelDescription& model, const WeightPlan& weights,
                                      const InferenceRequest& request, const HardwareConfig& hardware);

// --- Recommendation -----------------------------------------------------------------------------

struct RecommendOptions {
  double min_headroom_fraction = 0.1;
  int max_devices = 8;
  /// Categories to consider; empty = every category but "cpu" (its price covers the CPU only).
  std::vector<std::string> categories;
  int limit = 10;  ///< Entries per list.
};

struct Recommendation {
  std::string device_id;
  std::string device_name;
  int count = 1;
  SplitMode split = SplitMode::kLayer;
  double price_usd = 0;  ///< count x unit price (street, else launch).
  std::string price_basis;  ///< "street YYYY-MM" or "launch".
  int64_t headroom_bytes = 0;  ///< Per device.
  double decode_tokens_per_s = 0;
  double tokens_per_s_per_1000_usd = 0;
  std::string reason;
};

struct RecommendResult {
  std::vector<Recommendation> single_device;  ///< Fits on one device; cheapest first.
  std::vector<Recommendation> multi_device;   ///< Needs several; cheapest first.
  std::vector<Recommendation> best_value;     ///< Every option, highest tokens/s per dollar first.
  int devices_considered = 0;
  int devices_without_price = 0;  ///< Fitting devices left out for want of a price.
};

Result<RecommendResult> Recommend(const ModelDescription& model, const WeightPlan& weights,
                                  const InferenceRequest& request, const std::vector<Device>& devices,
                                  const RecommendOptions& options);

// --- What would make it fit ---------------------------------------------------------------------

enum class AdviceKind : uint8_t {
  kFlashAttention,
  kKvCacheDtype,
  kWeightFormat,
  kShorterContext,
  kSmallerBatch,
  kOffloadLayers,
  kOffloadExperts,
  kMoreDevices,
  // Training candidates (AdviseTraining).
  kGradientCheckpointing,
  kLora,
  kQlora,
  kSmallerMicroBatch,
  kOptimizer8bit,
  kShardStates,       ///< ZeRO-2/ZeRO-3 or FSDP over the data-parallel GPUs already there.
  kOffloadOptimizer,  ///< ZeRO-Offload / FSDP CPU offload.
  kFusedLoss,
  kShorterSequence,
};
const char* AdviceKindName(AdviceKind kind);

/// One request field to set, named as the calculator request object names it
/// (ParseCalculatorRequest: "weights", "kv_dtype", "micro_batch", ...) or the planner's "gpus".
struct FieldChange {
  enum class Type : uint8_t { kString, kInteger, kBoolean };
  std::string field;
  Type type = Type::kString;
  std::string string_value;
  int64_t integer_value = 0;
  bool boolean_value = false;

  static FieldChange String(std::string field, std::string value);
  static FieldChange Integer(std::string field, int64_t value);
  static FieldChange Boolean(std::string field, bool value);
};

/// One change that saves memory, and what it costs.
struct Advice {
  AdviceKind kind = AdviceKind::kWeightFormat;
  std::string change;  ///< What to do, e.g. "--weights q4_k_m".
  /// The same change as request fields, to apply with one click; empty when it is not a request
  /// field (llama.cpp -ngl, --n-cpu-moe).
  std::vector<FieldChange> apply;
  uint64_t saves_bytes = 0;  ///< On the most loaded device.
  bool fits = false;         ///< With this change alone, it fits with the required headroom.
  int64_t headroom_bytes = 0;  ///< After the change.
  /// Inference: perplexity increase, percent. Training: relative drop of a published task
  /// score, percent. Both published figures.
  double quality_loss_percent = 0;
  /// Relative change of decode tokens/s (training: tokens/s of the job): -0.4 = 40% slower.
  double speed_change = 0;
  double capability_loss = 0;  ///< Fraction of the asked context or batch given up.
  double extra_cost_usd = 0;
  /// Ranking score: quality percent/100 + slowdown + capability lost + extra cost / current
  /// cost. Smaller is better; changes that make it fit come first.
  double loss = 0;
  /// The largest term of `loss`: "quality", "speed", "capability", "hardware", or "none".
  std::string loss_class;
  std::string cost;  ///< The cost in words.
};

/// Sets advice->loss and advice->loss_class (the one ranking score of Advise and
/// AdviseTraining); extra cost is weighed against hardware.count x the device's price.
void ScoreAdvice(const HardwareConfig& hardware, Advice* advice);

/// Orders advice: changes that make it fit first, then by loss, then by bytes saved.
void RankAdvice(std::vector<Advice>* advice);

/// What a generator sees.
struct AdviceContext {
  const ModelDescription* model = nullptr;
  const WeightPlan* weights = nullptr;
  InferenceRequest request;
  HardwareConfig hardware;
  FitResult current;
  double current_decode_tokens_per_s = 0;
};

/// Appends candidates (extra inference candidates; training has AdviseTraining).
using AdviceGenerator = std::function<void(const AdviceContext&, std::vector<Advice>*)>;

struct AdviceResult {
  FitResult current;
  std::vector<Advice> advice;  ///< Those that make it fit first, then by loss.
};

/// Lists the changes that would make the workload fit (or fit with the required headroom).
Result<AdviceResult> Advise(const ModelDescription& model, const WeightPlan& weights,
                            const InferenceRequest& request, const HardwareConfig& hardware,
                            const std::vector<AdviceGenerator>& extra_generators = {});

// --- Training ------------------------------------------------------------------------------------

/// Does one training step fit? EstimateTraining sizes each GPU of the request's layout (dp x tp
/// x pp GPUs, at most 64) as its most loaded pipeline stage; it fits when that total plus the
/// required headroom is at most the usable memory of each device. hardware.count must be 1
/// (meaning: the layout's GPU count) or that count.
Result<FitResult> FitTraining(const ModelDescription& model, const TrainingRequest& request,
                              const HardwareConfig& hardware);

/// Largest micro-batch (request.micro_batch ignored; cap 4096) and largest sequence length
/// (request.seq_len ignored; cap the model's max_position_embeddings when known, else 2^20)
/// that still fit: the boundary, one more no longer fits.
Result<LimitSolution> MaxMicroBatch(const ModelDescription& model, const TrainingRequest& request,
                                    const HardwareConfig& hardware);
Result<LimitSolution> MaxSeqLen(const ModelDescription& model, const TrainingRequest& request,
                                const HardwareConfig& hardware);

/// What would make a training step fit (or fit with the required headroom): each candidate is
/// the request with one change, re-estimated by EstimateTraining (gradient checkpointing, a
/// smaller micro-batch with gradient accumulation, an 8-bit optimizer, LoRA or QLoRA instead of
/// full fine-tuning, QLoRA instead of LoRA, ZeRO/FSDP sharding, optimizer offload, a fused
/// loss, flash attention, a shorter sequence, more GPUs). Ranked by RankAdvice.
Result<AdviceResult> AdviseTraining(const ModelDescription& model, const TrainingRequest& request,
                                    const HardwareConfig& hardware);

// --- The fit table: every device at once ----------------------------------------------------------

/// One device of the fit table.
struct FitTableRow {
  const Device* device = nullptr;
  uint64_t capacity_bytes = 0;  ///< What one device offers this runtime (FitResult::capacity_bytes).
  int64_t headroom_bytes = 0;   ///< On one device: capacity - total; negative when over.
  bool fits_one = false;        ///< One device holds it.
  /// Devices needed (identical ones, up to max_devices; training: the layout's GPU count when one
  /// GPU of it fits); 0 when no count does.
  int devices_needed = 0;
  double decode_tokens_per_s = 0;  ///< At devices_needed; 0 when none or training.
  std::optional<double> price_usd;  ///< devices_needed x the street price, when both are known.
  std::string unsupported;  ///< Why the runtime cannot use this device ("" when it can).
};

/// The fit table of an inference workload: SmallestDeviceCount and EstimateThroughput per device,
/// the same figures `vramcalc fit` prints.
Result<std::vector<FitTableRow>> FitTable(const ModelDescription& model, const WeightPlan& weights,
                                          const InferenceRequest& request, const std::vector<Device>& devices,
                                          int max_devices = 64);
/// The fit table of a training step (FitTraining per device).
Result<std::vector<FitTableRow>> TrainingFitTable(const ModelDescription& model, const TrainingRequest& request,
                                                  const std::vector<Device>& devices);

// --- Cost and power ------------------------------------------------------------------------------

struct CostOptions {
  /// Non-GPU system draw (CPU, board, memory, storage, fans); < 0 = world::kSystemBaseWatts.
  double system_watts = -1;
  /// Largest fraction of its rating a PSU should carry; 0 = world::kPsuLoadFraction.
  double psu_load_fraction = 0;
  double electricity_usd_per_kwh = -1;  ///< < 0 = world::kElectricityUsdPerKwh.
  double cloud_usd_per_hour = 0;        ///< For the same number of devices; 0 = no comparison.
  double utilization = 1.0;             ///< Fraction of hours the hardware works, (0, 1].
};

struct CostEstimate {
  std::optional<double> price_usd;  ///< All devices.
  std::optional<double> price_per_gb_usd;  ///< Per 10^9 bytes of device memory.
  std::optional<double> system_power_watts;  ///< count x TDP + system.
  std::optional<int> psu_watts;  ///< system power / load fraction, rounded up to 50 W.
  std::optional<double> power_usd_per_hour;  ///< At full load.
  /// Hours of use after which buying costs less than renting (purchase + electricity equal
  /// cloud spend); absent when renting is always cheaper or no price is known.
  std::optional<double> breakeven_hours;
  std::optional<double> breakeven_months;  ///< At the given utilization (730 hours a month).
  std::vector<std::string> notes;
};

Result<CostEstimate> EstimateCost(const Device& device, int count, const CostOptions& options);

// --- JSON front end (CLI and bindings) ------------------------------------------------------------

/// Everything a planner action needs besides the model and workload.
struct PlannerRequest {
  std::string action = "fit";  ///< "fit", "max-context", "max-batch", "best-format", "offload",
                               ///< "recommend", "advise", "cost", "fit-table".
  std::string gpu;             ///< Device id (not needed by "recommend").
  int count = 1;
  SplitMode split = SplitMode::kAuto;
  double min_headroom_fraction = 0.0;
  uint64_t host_memory_bandwidth_bytes_per_s = 0;
  RecommendOptions recommend;
  CostOptions cost;
};

/// Runs one action and returns its JSON object (stable key order). `weights_id` is the resolved
/// weight-format id of `weights`.
Result<std::string> PlannerActionJson(const ModelDescription& model, const WeightPlan& weights,
                                      const InferenceRequest& request, const std::vector<Device>& devices,
                                      const PlannerRequest& planner);

/// The keys the CLI adds to its calculation JSON for --gpu: {"fits", "headroom_bytes",
/// "decode_tokens_per_s", "prefill_tokens_per_s", "hardware": {...}} (speeds null when it does
/// not fit).
Result<std::string> HardwareSummaryJson(const ModelDescription& model, const WeightPlan& weights,
                                        const InferenceRequest& request, const std::vector<Device>& devices,
                                        const PlannerRequest& planner);

/// PlannerActionJson for a training workload (`request.mode` train, lora or qlora): actions
/// "fit", "max-batch" (largest micro-batch), "max-context" (largest sequence length), "advise"
/// and "cost"; the others name the field and the accepted actions.
Result<std::string> TrainingPlannerActionJson(const ModelDescription& model, const TrainingRequest& request,
                                              const std::vector<Device>& devices, const PlannerRequest& planner);

/// HardwareSummaryJson for a training workload: "fits", "headroom_bytes", the speeds (null: a
/// training step is not timed) and "hardware" with its fit.
Result<std::string> TrainingHardwareSummaryJson(const ModelDescription& model, const TrainingRequest& request,
                                                const std::vector<Device>& devices, const PlannerRequest& planner);

/// The whole round trip for bindings (the web page): a calculator request object (see
/// ParseCalculatorRequest, with "config") plus the planner fields "action" ("summary" = the
/// calculation JSON with the --gpu keys added, or any PlannerRequest action), "gpu", "gpus",
/// "split", "headroom", "host_bandwidth_gbs", "max_gpus", "categories" (array), "limit",
/// "cloud_usd_per_hour", "utilization", "electricity_usd_per_kwh", "system_watts"; and the text
/// of hardware.json. Training modes (train, lora, qlora) answer "summary" and the actions of
/// TrainingPlannerActionJson. Returns the action's JSON object or {"error": {"code", "message"}}.
std::string PlannerJson(std::string_view request_json, std::string_view hardware_json);

/// As PlannerJson, with the devices already parsed (bindings parse hardware.json once). With
/// `file_model`, the model is that one (read from model files) and the request has no "config".
std::string PlannerJsonWithDevices(std::string_view request_json, const std::vector<Device>& devices,
                                   const FileModel* file_model = nullptr);

}  // namespace vram
