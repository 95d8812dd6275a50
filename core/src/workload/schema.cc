// The request schema: one table of the workload fields. The defaults are the request structs'
// own initializers (read from a default CalculatorRequest), so each is written once.

#include "vram/schema.h"

#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "../numeric.h"
#include "schema_internal.h"
#include "vram/inference.h"
#include "vram/training.h"

namespace vram {
namespace {

using internal::Json;
using internal::JsonFields;

/// One field: its description plus how to read and write it on a request.
struct Entry {
  RequestFieldInfo info;
  void (*set_int)(CalculatorRequest*, int64_t) = nullptr;
  int64_t (*get_int)(const CalculatorRequest&) = nullptr;
  void (*set_double)(CalculatorRequest*, double) = nullptr;
  double (*get_double)(const CalculatorRequest&) = nullptr;
  void (*set_bool)(CalculatorRequest*, bool) = nullptr;
  bool (*get_bool)(const CalculatorRequest&) = nullptr;
  Status (*set_text)(CalculatorRequest*, std::string_view) = nullptr;  ///< Enums and strings.
  std::string (*get_text)(const CalculatorRequest&) = nullptr;
};

/// Converts an enum with its Parse* function; "" leaves the default.
template <typename T, Result<T> (*Parse)(std::string_view)>
Status SetEnum(T* out, std::string_view text) {
  if (text.empty()) return Status::Ok();
  Result<T> v = Parse(text);
  if (!v.ok()) return v.status();
  *out = *v;
  return Status::Ok();
}

Status SetMode(CalculatorRequest* r, std::string_view text) {
  if (text.empty()) return Status::Ok();
  if (text != "inference" && !ParseTrainingMode(text).ok()) {
    return Status(ErrorCode::kNotFound,
                  "mode: '" + std::string(text.substr(0, 40)) +
                      "' is not one of inference, train, lora, qlora",
                  "mode");
  }
  r->mode = std::string(text);
  return Status::Ok();
}

std::vector<std::string> RuntimeValues() {
  std::vector<std::string> out;
  for (const RuntimeInfo& r : ListRuntimes()) out.push_back(r.name);
  return out;
}

std::vector<Entry> MakeEntries() {
  using R = CalculatorRequest;
  const FieldScope kAll = FieldScope::kAll, kInf = FieldScope::kInference,
                   kTrain = FieldScope::kTraining, kLora = FieldScope::kAdapter;
  const FieldKind kInt = FieldKind::kInteger, kNum = FieldKind::kNumber,
                  kBool = FieldKind::kBoolean, kEnum = FieldKind::kEnum, kStr = FieldKind::kString;
  const FlagStyle kValue = FlagStyle::kValue;
  std::vector<Entry> e;
  auto add = [&](const char* key, const char* flag, FieldKind kind, FieldScope scope,
                 FlagStyle style, double min, double max, bool min_exclusive,
                 std::vector<std::string> values, const char* help) -> Entry& {
    Entry entry;
    entry.info = RequestFieldInfo{
        key, flag, kind, scope, style, min, max, min_exclusive, std::move(values), help, ""};
    e.push_back(std::move(entry));
    return e.back();
  };
  // --- Every mode ---------------------------------------------------------------------------
  {
    Entry& x = add("mode", "--mode", kEnum, kAll, kValue, 0, 0, false,
                   {"inference", "train", "lora", "qlora"}, "what to size");
    x.set_text = SetMode;
    x.get_text = [](const R& r) { return r.mode; };
  }
  {
    Entry& x = add("weights", "--weights", kStr, kAll, kValue, 0, 0, false, {},
                   "weight format (bf16, fp8-e4m3, nf4-dq, gptq-4bit-g128, q4_k_m, ...); "
                   "lora/qlora: the frozen "
                   "base; \"\" or native = the checkpoint as published");
    x.set_text = [](R* r, std::string_view t) {
      r->weights = std::string(t);
      return Status::Ok();
    };
    x.get_text = [](const R& r) { return r.weights; };
  }
  // --- Inference ----------------------------------------------------------------------------
  {
    Entry& x = add("kv_dtype", "--kv-dtype", kEnum, kInf, kValue, 0, 0, false,
                   {"f16", "bf16", "f32", "fp8", "q8_0", "q4_0"}, "KV cache element type");
    x.set_text = [](R* r, std::string_view t) {
      return SetEnum<KvDType, ParseKvDType>(&r->inference.kv_dtype, t);
    };
    x.get_text = [](const R& r) { return std::string(KvDTypeName(r.inference.kv_dtype)); };
  }
  {
    Entry& x = add("context", "--context", kInt, kInf, kValue, 1, double(int64_t{1} << 24), false,
                   {}, "tokens per sequence (prompt + generated)");
    x.set_int = [](R* r, int64_t v) { r->inference.context_tokens = v; };
    x.get_int = [](const R& r) { return r.inference.context_tokens; };
  }
  {
    Entry& x =
        add("batch", "--batch", kInt, kInf, kValue, 1, 65536, false, {}, "concurrent sequences");
    x.set_int = [](R* r, int64_t v) { r->inference.batch = v; };
    x.get_int = [](const R& r) { return r.inference.batch; };
  }
  {
    Entry& x = add("runtime", "--runtime", kEnum, kInf, kValue, 0, 0, false, RuntimeValues(),
                   "the program that runs the model");
    x.set_text = [](R* r, std::string_view t) {
      return SetEnum<Runtime, ParseRuntime>(&r->inference.runtime, t);
    };
    x.get_text = [](const R& r) { return std::string(RuntimeName(r.inference.runtime)); };
  }
  {
    Entry& x = add("flash_attention", "--flash-attn", kBool, kInf, FlagStyle::kOnOff, 0, 0, false,
                   {}, "fused attention kernel (llama.cpp -fa)");
    x.set_bool = [](R* r, bool v) { r->inference.flash_attention = v; };
    x.get_bool = [](const R& r) { return r.inference.flash_attention; };
  }
  {
    Entry& x = add("attn_impl", "--attn-impl", kEnum, kInf, kValue, 0, 0, false,
                   {"eager", "sdpa", "flash_attention_2"}, "transformers attention implementation");
    x.set_text = [](R* r, std::string_view t) {
      return SetEnum<AttentionImpl, ParseAttentionImpl>(&r->inference.attention_impl, t);
    };
    x.get_text = [](const R& r) {
      return std::string(AttentionImplName(r.inference.attention_impl));
    };
  }
  {
    Entry& x = add("ubatch", "--ubatch", kInt, kInf, kValue, 1, 65536, false, {},
                   "llama.cpp n_ubatch; the prefill chunk of the others");
    x.set_int = [](R* r, int64_t v) { r->inference.ubatch_tokens = v; };
    x.get_int = [](const R& r) { return r.inference.ubatch_tokens; };
  }
  {
    Entry& x = add("llamacpp_backend", "--llamacpp-backend", kEnum, kInf, kValue, 0, 0, false,
                   {"cuda", "cpu"}, "where llama.cpp runs");
    x.set_text = [](R* r, std::string_view t) {
      return SetEnum<LlamaCppBackend, ParseLlamaCppBackend>(&r->inference.llamacpp_backend, t);
    };
    x.get_text = [](const R& r) {
      return std::string(LlamaCppBackendName(r.inference.llamacpp_backend));
    };
  }
  {
    Entry& x = add("gpu_memory_utilization", "--gpu-memory-utilization", kNum, kInf, kValue, 0, 1,
                   true, {}, "vLLM's fraction of device memory");
    x.set_double = [](R* r, double v) { r->inference.gpu_memory_utilization = v; };
    x.get_double = [](const R& r) { return r.inference.gpu_memory_utilization; };
  }
  {
    Entry& x = add(
        "device_memory_bytes", "", kInt, kInf, FlagStyle::kNone, 0, double(int64_t{1} << 50), false,
        {}, "memory of the target device, for vLLM's reservation (CLI: --device-memory-gib)");
    x.set_int = [](R* r, int64_t v) {
      r->inference.device_memory_bytes = static_cast<uint64_t>(v);
    };
    x.get_int = [](const R& r) { return static_cast<int64_t>(r.inference.device_memory_bytes); };
  }
  {
    Entry& x = add("cuda_graphs", "--enforce-eager", kBool, kInf, FlagStyle::kSetsFalse, 0, 0,
                   false, {}, "vLLM without CUDA graphs");
    x.set_bool = [](R* r, bool v) { r->inference.cuda_graphs = v; };
    x.get_bool = [](const R& r) { return r.inference.cuda_graphs; };
  }
  {
    Entry& x = add("max_num_batched_tokens", "--max-num-batched-tokens", kInt, kInf, kValue, 0,
                   double(int64_t{1} << 24), false, {},
                   "vLLM profile-run tokens; 0 = vllm serve's default for the device");
    x.set_int = [](R* r, int64_t v) { r->inference.vllm_max_batched_tokens = v; };
    x.get_int = [](const R& r) { return r.inference.vllm_max_batched_tokens; };
  }
  {
    Entry& x = add("max_num_seqs", "--max-num-seqs", kInt, kInf, kValue, 0, 65536, false, {},
                   "vLLM concurrent requests; 0 = vllm serve's default for the device");
    x.set_int = [](R* r, int64_t v) { r->inference.vllm_max_num_seqs = v; };
    x.get_int = [](const R& r) { return r.inference.vllm_max_num_seqs; };
  }
  {
    Entry& x = add("block_size", "--block-size", kInt, kInf, kValue, 1, 1024, false, {},
                   "vLLM KV block in tokens");
    x.set_int = [](R* r, int64_t v) { r->inference.vllm_block_tokens = v; };
    x.get_int = [](const R& r) { return r.inference.vllm_block_tokens; };
  }
  // --- Training -----------------------------------------------------------------------------
  {
    Entry& x = add("optimizer", "--optimizer", kEnum, kTrain, kValue, 0, 0, false,
                   {"adamw", "adamw_8bit", "paged_adamw", "paged_adamw_8bit", "adafactor", "sgd",
                    "sgd_momentum", "lion"},
                   "optimizer");
    x.set_text = [](R* r, std::string_view t) {
      return SetEnum<Optimizer, ParseOptimizer>(&r->training.optimizer, t);
    };
    x.get_text = [](const R& r) { return std::string(OptimizerName(r.training.optimizer)); };
  }
  {
    Entry& x = add("precision", "--precision-regime", kEnum, kTrain, kValue, 0, 0, false,
                   {"mixed_bf16", "mixed_fp16", "bf16", "fp32"}, "precision regime");
    x.set_text = [](R* r, std::string_view t) {
      return SetEnum<PrecisionRegime, ParsePrecisionRegime>(&r->training.precision, t);
    };
    x.get_text = [](const R& r) { return std::string(PrecisionRegimeName(r.training.precision)); };
  }
  {
    Entry& x = add("fp32_gradients", "--fp32-grads", kBool, kTrain, FlagStyle::kSetsTrue, 0, 0,
                   false, {}, "mixed precision with fp32 gradients (18 instead of 16 B/param)");
    x.set_bool = [](R* r, bool v) { r->training.fp32_gradients = v; };
    x.get_bool = [](const R& r) { return r.training.fp32_gradients; };
  }
  {
    Entry& x = add("checkpointing", "--checkpointing", kEnum, kTrain, kValue, 0, 0, false,
                   {"none", "selective", "full"}, "activation recomputation");
    x.set_text = [](R* r, std::string_view t) {
      return SetEnum<Checkpointing, ParseCheckpointing>(&r->training.checkpointing, t);
    };
    x.get_text = [](const R& r) {
      return std::string(CheckpointingName(r.training.checkpointing));
    };
  }
  {
    Entry& x = add("attn_impl", "--attn-impl", kEnum, kTrain, kValue, 0, 0, false,
                   {"eager", "sdpa", "flash_attention_2"}, "attention implementation in training");
    x.set_text = [](R* r, std::string_view t) {
      return SetEnum<AttentionImpl, ParseAttentionImpl>(&r->training.attention, t);
    };
    x.get_text = [](const R& r) { return std::string(AttentionImplName(r.training.attention)); };
  }
  {
    Entry& x = add("micro_batch", "--micro-batch", kInt, kTrain, kValue, 1, 4096, false, {},
                   "sequences per micro-batch");
    x.set_int = [](R* r, int64_t v) { r->training.micro_batch = v; };
    x.get_int = [](const R& r) { return r.training.micro_batch; };
  }
  {
    Entry& x = add("seq_len", "--seq-len", kInt, kTrain, kValue, 1, double(int64_t{1} << 20), false,
                   {}, "tokens per training sequence");
    x.set_int = [](R* r, int64_t v) { r->training.seq_len = v; };
    x.get_int = [](const R& r) { return r.training.seq_len; };
  }
  {
    Entry& x = add("dropout", "--dropout", kNum, kTrain, kValue, 0, 0.999, false, {},
                   "attention/hidden dropout");
    x.set_double = [](R* r, double v) { r->training.dropout = v; };
    x.get_double = [](const R& r) { return r.training.dropout; };
  }
  {
    Entry& x = add("fused_loss", "--fused-loss", kBool, kTrain, FlagStyle::kSetsTrue, 0, 0, false,
                   {}, "chunked/fused linear + cross-entropy (no full logits tensor)");
    x.set_bool = [](R* r, bool v) { r->training.fused_loss = v; };
    x.get_bool = [](const R& r) { return r.training.fused_loss; };
  }
  {
    Entry& x = add("zero", "--zero", kInt, kTrain, kValue, 0, 3, false, {}, "DeepSpeed ZeRO stage");
    x.set_int = [](R* r, int64_t v) { r->training.zero_stage = static_cast<int>(v); };
    x.get_int = [](const R& r) { return static_cast<int64_t>(r.training.zero_stage); };
  }
  {
    Entry& x =
        add("fsdp", "--fsdp", kEnum, kTrain, kValue, 0, 0, false,
            {"none", "full_shard", "shard_grad_op", "hybrid_shard"}, "FSDP sharding strategy");
    x.set_text = [](R* r, std::string_view t) {
      return SetEnum<FsdpStrategy, ParseFsdpStrategy>(&r->training.fsdp, t);
    };
    x.get_text = [](const R& r) { return std::string(FsdpStrategyName(r.training.fsdp)); };
  }
  {
    Entry& x = add("fsdp_shard_group", "--fsdp-shard-group", kInt, kTrain, kValue, 1, 65536, false,
                   {}, "GPUs per shard group (hybrid_shard)");
    x.set_int = [](R* r, int64_t v) { r->training.fsdp_shard_group = v; };
    x.get_int = [](const R& r) { return r.training.fsdp_shard_group; };
  }
  {
    Entry& x =
        add("tp", "--tp", kInt, kTrain, kValue, 1, 1024, false, {}, "tensor-parallel degree");
    x.set_int = [](R* r, int64_t v) { r->training.tp = v; };
    x.get_int = [](const R& r) { return r.training.tp; };
  }
  {
    Entry& x = add("sequence_parallel", "--sequence-parallel", kBool, kTrain, FlagStyle::kSetsTrue,
                   0, 0, false, {}, "sequence parallelism with tensor parallelism");
    x.set_bool = [](R* r, bool v) { r->training.sequence_parallel = v; };
    x.get_bool = [](const R& r) { return r.training.sequence_parallel; };
  }
  {
    Entry& x = add("pp", "--pp", kInt, kTrain, kValue, 1, 1024, false, {}, "pipeline stages");
    x.set_int = [](R* r, int64_t v) { r->training.pp = v; };
    x.get_int = [](const R& r) { return r.training.pp; };
  }
  {
    Entry& x = add("pp_microbatches", "--pp-microbatches", kInt, kTrain, kValue, 0, 65536, false,
                   {}, "micro-batches per step in the pipeline; 0 = pp");
    x.set_int = [](R* r, int64_t v) { r->training.pp_microbatches = v; };
    x.get_int = [](const R& r) { return r.training.pp_microbatches; };
  }
  {
    Entry& x =
        add("dp", "--dp", kInt, kTrain, kValue, 1, 65536, false, {}, "data-parallel replicas");
    x.set_int = [](R* r, int64_t v) { r->training.dp = v; };
    x.get_int = [](const R& r) { return r.training.dp; };
  }
  {
    Entry& x = add("offload", "--offload", kEnum, kTrain, kValue, 0, 0, false,
                   {"none", "optimizer", "params", "both"}, "ZeRO-Offload / FSDP CPU offload");
    x.set_text = [](R* r, std::string_view t) {
      return SetEnum<Offload, ParseOffload>(&r->training.offload, t);
    };
    x.get_text = [](const R& r) { return std::string(OffloadName(r.training.offload)); };
  }
  // --- LoRA and QLoRA -----------------------------------------------------------------------
  {
    Entry& x =
        add("lora_rank", "--lora-rank", kInt, kLora, kValue, 1, 4096, false, {}, "adapter rank");
    x.set_int = [](R* r, int64_t v) { r->training.lora_rank = v; };
    x.get_int = [](const R& r) { return r.training.lora_rank; };
  }
  {
    Entry& x = add("lora_targets", "--lora-targets", kStr, kLora, kValue, 0, 0, false, {},
                   "adapted modules: q,v | all-linear | a comma list of q,k,v,o,gate,up,down");
    x.set_text = [](R* r, std::string_view t) {
      return SetEnum<LoraTargets, ParseLoraTargets>(&r->training.lora_targets, t);
    };
    x.get_text = [](const R& r) { return LoraTargetsName(r.training.lora_targets); };
  }
  {
    Entry& x =
        add("dora", "--dora", kBool, kLora, FlagStyle::kSetsTrue, 0, 0, false, {}, "DoRA adapters");
    x.set_bool = [](R* r, bool v) { r->training.dora = v; };
    x.get_bool = [](const R& r) { return r.training.dora; };
  }
  {
    Entry& x = add("lora_dropout", "--lora-dropout", kNum, kLora, kValue, 0, 0.999, false, {},
                   "adapter dropout");
    x.set_double = [](R* r, double v) { r->training.lora_dropout = v; };
    x.get_double = [](const R& r) { return r.training.lora_dropout; };
  }
  // The defaults: what a default request holds.
  const CalculatorRequest defaults;
  for (Entry& x : e) {
    Json d;
    if (x.get_int) d = x.get_int(defaults);
    if (x.get_double) d = x.get_double(defaults);
    if (x.get_bool) d = x.get_bool(defaults);
    if (x.get_text) d = x.get_text(defaults);
    x.info.default_json = d.dump();
  }
  return e;
}

const std::vector<Entry>& Entries() {
  static const std::vector<Entry>* entries = new std::vector<Entry>(MakeEntries());
  return *entries;
}

const Entry* EntryOf(const RequestFieldInfo& field) {
  for (const Entry& e : Entries()) {
    if (&e.info == &field) return &e;
  }
  return nullptr;
}

bool InScope(FieldScope scope, std::string_view mode) {
  switch (scope) {
    case FieldScope::kAll:
      return true;
    case FieldScope::kInference:
      return mode == "inference";
    case FieldScope::kTraining:
      return mode != "inference";
    case FieldScope::kAdapter:
      return mode == "lora" || mode == "qlora";
  }
  return false;
}

const char* KindName(FieldKind kind) {
  switch (kind) {
    case FieldKind::kInteger:
      return "integer";
    case FieldKind::kNumber:
      return "number";
    case FieldKind::kBoolean:
      return "boolean";
    case FieldKind::kEnum:
      return "enum";
    case FieldKind::kString:
      return "string";
  }
  return "string";
}

const char* FlagStyleName(FlagStyle style) {
  switch (style) {
    case FlagStyle::kValue:
      return "value";
    case FlagStyle::kOnOff:
      return "on_off";
    case FlagStyle::kSetsTrue:
      return "sets_true";
    case FlagStyle::kSetsFalse:
      return "sets_false";
    case FlagStyle::kNone:
      return "none";
  }
  return "none";
}

const char* ScopeName(FieldScope scope) {
  switch (scope) {
    case FieldScope::kAll:
      return "all";
    case FieldScope::kInference:
      return "inference";
    case FieldScope::kTraining:
      return "training";
    case FieldScope::kAdapter:
      return "lora";
  }
  return "all";
}

/// A bound as the messages print it: "16777216", "0.999".
std::string Bound(double v) {
  if (v == std::floor(v) && std::fabs(v) < 9e15) return std::to_string(static_cast<int64_t>(v));
  std::string s = internal::Fixed(v, 6);
  while (!s.empty() && s.back() == '0') s.pop_back();
  return s;
}

}  // namespace

const std::vector<RequestFieldInfo>& RequestSchema() {
  static const std::vector<RequestFieldInfo>* infos = [] {
    auto* out = new std::vector<RequestFieldInfo>();
    for (const Entry& e : Entries()) out->push_back(e.info);
    return out;
  }();
  return *infos;
}

const RequestFieldInfo* FindRequestField(std::string_view key, std::string_view mode) {
  for (const Entry& e : Entries()) {
    if (key == e.info.key && InScope(e.info.scope, mode)) return &e.info;
  }
  return nullptr;
}

const RequestFieldInfo* FindRequestFieldByFlag(std::string_view flag) {
  for (const Entry& e : Entries()) {
    if (e.info.flag_style != FlagStyle::kNone && flag == e.info.flag) return &e.info;
  }
  return nullptr;
}

Status SetRequestFieldFromText(const RequestFieldInfo& field, std::string_view text,
                               CalculatorRequest* r) {
  const Entry* e = EntryOf(field);
  if (e == nullptr) {
    // A copy of the info (from RequestSchema()): find the entry by key and scope.
    for (const Entry& x : Entries()) {
      if (std::string_view(x.info.key) == field.key && x.info.scope == field.scope) e = &x;
    }
  }
  if (e == nullptr)
    return Status(ErrorCode::kNotFound, std::string(field.key) + ": not a request field");
  const std::string key = field.key;
  // Messages name the flag as typed ("gpu-memory-utilization"); the Status's field is the key.
  const std::string label = field.flag[0] == '-' ? std::string(field.flag + 2) : key;
  const std::string shown(text.substr(0, 40));
  switch (field.kind) {
    case FieldKind::kInteger: {
      const std::string range =
          "an integer in [" + Bound(field.min) + ", " + Bound(field.max) + "]";
      auto bad = [&](const std::string& got) {
        return Status(ErrorCode::kOutOfRange, label + ": must be " + range + ", got " + got, key);
      };
      if (text.empty() || text.size() > 18) return bad("'" + shown + "'");
      size_t i = text[0] == '-' || text[0] == '+' ? 1 : 0;
      if (i == text.size()) return bad("'" + shown + "'");
      int64_t v = 0;
      for (; i < text.size(); ++i) {
        if (text[i] < '0' || text[i] > '9') return bad("'" + shown + "'");
        v = v * 10 + (text[i] - '0');
      }
      if (text[0] == '-') v = -v;
      if (static_cast<double>(v) < field.min || static_cast<double>(v) > field.max)
        return bad(shown);
      e->set_int(r, v);
      return Status::Ok();
    }
    case FieldKind::kNumber: {
      const std::string owned(text);
      char* end = nullptr;
      const double v = owned.empty() ? 0 : std::strtod(owned.c_str(), &end);
      const bool ok = !owned.empty() && end != nullptr && *end == '\0' && std::isfinite(v) &&
                      v <= field.max && (field.min_exclusive ? v > field.min : v >= field.min);
      if (!ok) {
        return Status(ErrorCode::kOutOfRange,
                      label + ": must be a number in " + (field.min_exclusive ? "(" : "[") +
                          Bound(field.min) + ", " + Bound(field.max) + "], got '" + shown + "'",
                      key);
      }
      e->set_double(r, v);
      return Status::Ok();
    }
    case FieldKind::kBoolean:
      if (field.flag_style == FlagStyle::kSetsTrue || field.flag_style == FlagStyle::kSetsFalse) {
        e->set_bool(r, field.flag_style == FlagStyle::kSetsTrue);
        return Status::Ok();
      }
      if (text != "on" && text != "off" && text != "true" && text != "false") {
        return Status(ErrorCode::kOutOfRange, label + ": must be on or off, got '" + shown + "'",
                      key);
      }
      e->set_bool(r, text == "on" || text == "true");
      return Status::Ok();
    case FieldKind::kEnum:
    case FieldKind::kString:
      return e->set_text(r, text);
  }
  return Status::Ok();
}

std::string RequestSchemaJson() {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const RequestFieldInfo& f : RequestSchema()) {
    nlohmann::ordered_json j;
    j["key"] = f.key;
    j["flag"] = f.flag;
    j["kind"] = KindName(f.kind);
    j["flag_style"] = FlagStyleName(f.flag_style);
    j["scope"] = ScopeName(f.scope);
    j["default"] = nlohmann::ordered_json::parse(f.default_json, nullptr, false);
    if (f.kind == FieldKind::kInteger || f.kind == FieldKind::kNumber) {
      j["min"] = f.min;
      j["max"] = f.max;
      j["min_exclusive"] = f.min_exclusive;
    }
    if (!f.values.empty()) j["values"] = f.values;
    j["help"] = f.help;
    out.push_back(std::move(j));
  }
  return out.dump();
}

std::string RequestFlagsHelp(FieldScope scope) {
  std::string out;
  for (const RequestFieldInfo& f : RequestSchema()) {
    if (f.scope != scope || f.flag_style == FlagStyle::kNone) continue;
    std::string flag = std::string("  ") + f.flag;
    if (f.flag_style == FlagStyle::kValue) {
      flag += f.kind == FieldKind::kEnum ? " <" : " <";
      if (f.kind == FieldKind::kEnum) {
        for (size_t i = 0; i < f.values.size(); ++i) flag += (i ? "|" : "") + f.values[i];
      } else {
        flag += f.kind == FieldKind::kInteger ? "n" : f.kind == FieldKind::kNumber ? "x" : "text";
      }
      flag += ">";
    } else if (f.flag_style == FlagStyle::kOnOff) {
      flag += " <on|off>";
    }
    std::string line = flag;
    if (line.size() < 30)
      line.resize(30, ' ');
    else
      line += "\n" + std::string(30, ' ');
    line += f.help;
    if (f.flag_style == FlagStyle::kValue) line += " (default " + f.default_json + ")";
    if (f.flag_style == FlagStyle::kOnOff)
      line += std::string(" (default ") + (f.default_json == "true" ? "on" : "off") + ")";
    out += line + "\n";
  }
  return out;
}

namespace internal {

bool IsRequestFieldKey(std::string_view key) {
  for (const Entry& e : Entries()) {
    if (key == e.info.key) return true;
  }
  return false;
}

Status ReadRequestFields(const JsonFields& f, CalculatorRequest* r) {
  for (const Entry& e : Entries()) {
    const RequestFieldInfo& i = e.info;
    switch (i.kind) {
      case FieldKind::kInteger: {
        if (f.Find({i.key}) == nullptr) break;
        int64_t v = 0;
        VRAM_RETURN_IF_ERROR(f.Int({i.key}, static_cast<int64_t>(i.min),
                                   static_cast<int64_t>(i.max), false, e.get_int(*r), &v));
        e.set_int(r, v);
        break;
      }
      case FieldKind::kNumber: {
        if (f.Find({i.key}) == nullptr) break;
        double v = 0;
        VRAM_RETURN_IF_ERROR(f.Double({i.key}, i.min, i.max, e.get_double(*r), &v));
        e.set_double(r, v);
        break;
      }
      case FieldKind::kBoolean: {
        if (f.Find({i.key}) == nullptr) break;
        bool v = false;
        VRAM_RETURN_IF_ERROR(f.Bool({i.key}, e.get_bool(*r), &v));
        e.set_bool(r, v);
        break;
      }
      case FieldKind::kEnum:
      case FieldKind::kString: {
        std::string text;
        VRAM_RETURN_IF_ERROR(f.String({i.key}, false, &text));
        if (!text.empty() || std::string_view(i.key) == "weights")
          VRAM_RETURN_IF_ERROR(e.set_text(r, text));
        break;
      }
    }
  }
  return Status::Ok();
}

}  // namespace internal
}  // namespace vram
