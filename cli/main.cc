// vramcalc: the command-line front end of the estimation core. It reads files, parses flags and
// prints; every number comes from the core.

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model_files.h"
#include "planner_cli.h"
#include "vram/vram.h"

namespace {

using OrderedJson = nlohmann::ordered_json;
constexpr int kExitUsage = 2;

const char kUsage[] =
    "usage: vramcalc (--model <preset-id> | --hf-config <config.json>) [options]\n"
    "       vramcalc --gguf <file.gguf> [options]   (a split model: give any of its parts)\n"
    "       vramcalc --safetensors <file.safetensors | model.safetensors.index.json>\n"
    "                [--hf-config <config.json>] [options]   (default: the config.json beside it)\n"
    "       vramcalc --list-models [--json]\n"
    "       vramcalc --list-formats [--json]\n"
    "       vramcalc --list-gpus [--json]\n"
    "       vramcalc (max-context|max-batch|best-format|offload|advise|cost|fit) --gpu <id> [--gpus N] ...\n"
    "       vramcalc recommend (--model <id> | --hf-config <path>) [options]   (subcommands print JSON)\n"
    "\n"
    "options:\n"
    "  --mode <inference|train|lora|qlora>   what to size (default inference)\n"
    "  --weights <format>          bf16, fp16, fp32, fp8-e4m3, int8, nf4, nf4-dq, gptq-4bit-g128,\n"
    "                              awq-4bit-g128, mxfp4, exl2-4.65bpw, q4_k_m, q8_0, iq4_xs, ...\n"
    "                              (default: the checkpoint as published)\n"
    "  --kv-dtype <f16|bf16|f32|fp8|q8_0|q4_0>   KV cache element type (default f16)\n"
    "  --context <tokens>          tokens per sequence (default 4096)\n"
    "  --batch <n>                 concurrent sequences (default 1)\n"
    "  --runtime <theoretical|llamacpp|vllm|transformers>   (default theoretical)\n"
    "  --flash-attn <on|off>       fused attention kernel (llama.cpp -fa; default on)\n"
    "  --attn-impl <eager|sdpa|flash_attention_2>   transformers attention (default sdpa)\n"
    "  --ubatch <tokens>           llama.cpp n_ubatch / prefill chunk (default 512)\n"
    "  --llamacpp-backend <cuda|cpu>  where llama.cpp runs (default cuda)\n"
    "  --gpu-memory-utilization <0..1>   vLLM fraction of device memory (default 0.92)\n"
    "  --device-memory-gib <GiB>   memory of the target device, for vLLM's reservation\n"
    "  --max-num-batched-tokens <n>  vLLM profile-run tokens (default: vllm serve's for the device)\n"
    "  --max-num-seqs <n>          vLLM concurrent requests (default: vllm serve's for the device)\n"
    "  --enforce-eager             vLLM without CUDA graphs\n"
    "  --presets <dir>             folder holding models.json\n"
    "  --gpu <id>                  a device of presets/hardware.json: adds fits, headroom_bytes,\n"
    "                              decode_tokens_per_s, prefill_tokens_per_s (see --list-gpus)\n"
    "  --gpus <n>                  identical devices, 1..64 (default 1)\n"
    "  --split <auto|layer|tensor> multi-device split (auto: llama.cpp/transformers layer, vLLM tensor)\n"
    "  --headroom <0..0.9>         fraction of device memory to keep free (recommend: default 0.1)\n"
    "  --host-bandwidth-gbs <GB/s> RAM bandwidth for offloaded layers (default 89.6, DDR5-5600 x2)\n"
    "  --max-gpus <n> --category <consumer,workstation,datacenter,apple,cpu> --limit <n>   recommend\n"
    "  --cloud-usd-per-hour <$> --utilization <0..1> --electricity-usd-per-kwh <$> --system-watts <W>   cost\n"
    "\n"
    "training (--mode train|lora|qlora; bytes per GPU):\n"
    "  --optimizer <adamw|adamw_8bit|paged_adamw|paged_adamw_8bit|adafactor|sgd|sgd_momentum|lion>\n"
    "  --precision-regime <mixed_bf16|mixed_fp16|bf16|fp32>   (default mixed_bf16)\n"
    "  --fp32-grads                mixed precision with fp32 gradients (18 instead of 16 B/param)\n"
    "  --checkpointing <none|selective|full>   activation recomputation (default none)\n"
    "  --micro-batch <n> --seq-len <tokens>    (defaults 1 and 2048)\n"
    "  --lora-rank <r> --lora-targets <q,v|all-linear|...> --dora --lora-dropout <p>\n"
    "  --weights <format>          lora/qlora frozen base (default bf16 / nf4-dq)\n"
    "  --zero <0-3> | --fsdp <full_shard|shard_grad_op|hybrid_shard> [--fsdp-shard-group n]\n"
    "  --tp <n> [--sequence-parallel] --pp <n> [--pp-microbatches m] --dp <n>\n"
    "  --offload <none|optimizer|params|both>  --dropout <p>  --fused-loss\n"
    "  --attn-impl <eager|sdpa|flash_attention_2>  (default flash_attention_2 for training)\n"
    "  --json                      print one JSON object\n";

[[noreturn]] void Fail(const std::string& message) {
  std::fprintf(stderr, "vramcalc: error: %s\n", message.c_str());
  std::exit(kExitUsage);
}

bool ReadFile(const std::string& path, size_t limit, std::string* out, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "cannot open '" + path + "'";
    return false;
  }
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0 || static_cast<size_t>(size) > limit) {
    *error = "'" + path + "' is larger than " + std::to_string(limit) + " bytes (or unreadable)";
    return false;
  }
  in.seekg(0);
  out->assign(static_cast<size_t>(size), '\0');
  in.read(out->data(), size);
  return static_cast<bool>(in) || in.eof();
}

std::string PresetsPath(const std::string& dir) {
  if (!dir.empty()) return dir + "/models.json";
  if (const char* env = std::getenv("VRAMCALC_PRESETS")) return std::string(env) + "/models.json";
  return std::string(VRAM_PRESETS_DIR) + "/models.json";
}

std::vector<vram::ModelPreset> LoadPresets(const std::string& dir) {
  std::string text, error;
  if (!ReadFile(PresetsPath(dir), size_t{32} << 20, &text, &error)) Fail("presets: " + error);
  vram::Result<std::vector<vram::ModelPreset>> presets = vram::ParseModelPresets(text);
  if (!presets.ok()) Fail(presets.status().message());
  return std::move(presets).value();
}

int64_t ParseInt(const char* flag, const std::string& text, int64_t lo, int64_t hi) {
  const std::string range = "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  if (text.empty() || text.size() > 18) Fail(std::string(flag) + ": must be " + range + ", got '" + text.substr(0, 40) + "'");
  size_t i = 0;
  bool negative = false;
  if (text[0] == '-' || text[0] == '+') {
    negative = text[0] == '-';
    i = 1;
  }
  if (i == text.size()) Fail(std::string(flag) + ": must be " + range + ", got '" + text + "'");
  int64_t v = 0;
  for (; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') Fail(std::string(flag) + ": must be " + range + ", got '" + text.substr(0, 40) + "'");
    v = v * 10 + (text[i] - '0');
  }
  if (negative) v = -v;
  if (v < lo || v > hi) Fail(std::string(flag) + ": must be " + range + ", got " + text);
  return v;
}

double ParseNumber(const char* flag, const std::string& text, double lo, double hi, bool lo_open) {
  char* end = nullptr;
  const double v = text.empty() ? 0 : std::strtod(text.c_str(), &end);
  const bool ok = !text.empty() && end != nullptr && *end == '\0' && v == v && v <= hi &&
                  (lo_open ? v > lo : v >= lo);
  if (!ok) {
    Fail(std::string(flag) + ": must be a number in " + (lo_open ? "(" : "[") + std::to_string(lo) +
         ", " + std::to_string(hi) + "], got '" + text.substr(0, 40) + "'");
  }
  return v;
}

void ListModels(const std::vector<vram::ModelPreset>& presets, bool json) {
  OrderedJson list = OrderedJson::array();
  for (const vram::ModelPreset& p : presets) {
    vram::Result<vram::ModelDescription> model = vram::ModelFromHfConfig(p.config_json);
    if (!model.ok()) Fail("preset " + p.id + ": " + model.status().message());
    const vram::ParameterCounts counts = vram::CountParameters(*model);
    if (json) {
      OrderedJson j;
      j["id"] = p.id;
      j["name"] = p.name;
      j["family"] = p.family;
      j["architecture"] = model->architecture;
      j["parameters"] = counts.total;
      j["active_parameters"] = counts.active;
      j["stated_parameters"] = p.stated_parameters;
      j["hf_repo"] = p.hf_repo;
      j["config_source"] = p.config_source;
      list.push_back(std::move(j));
    } else {
      std::printf("%-22s %-28s %-12s %8.2fB", p.id.c_str(), p.name.c_str(), model->architecture.c_str(),
                  static_cast<double>(counts.total) / 1e9);
      if (counts.active != counts.total) {
        std::printf("  (MoE: %.1fB active)", static_cast<double>(counts.active) / 1e9);
      }
      std::printf("\n");
    }
  }
  if (json) std::printf("%s\n", list.dump(2).c_str());
}

void ListFormats(bool json) {
  const std::vector<vram::WeightFormatInfo> formats = vram::ListWeightFormats();
  OrderedJson list = OrderedJson::array();
  for (const vram::WeightFormatInfo& f : formats) {
    if (json) {
      OrderedJson j;
      j["id"] = f.id;
      j["family"] = f.family;
      j["description"] = f.description;
      j["unquantized"] = f.unquantized;
      j["source"] = f.source;
      list.push_back(std::move(j));
    } else {
      std::printf("%-20s %-13s %s\n", f.id.c_str(), f.family.c_str(), f.description.c_str());
    }
  }
  if (json) std::printf("%s\n", list.dump(2).c_str());
}

void PrintText(const vram::Calculation& c) {
  auto gib = [](uint64_t b) { return static_cast<double>(b) / (1024.0 * 1024.0 * 1024.0); };
  auto gb = [](uint64_t b) { return static_cast<double>(b) / 1e9; };
  const bool training = c.request.is_training();
  const std::vector<vram::BreakdownItem>& items = training ? c.training.items : c.estimate.items;
  const std::vector<std::string>& notes = training ? c.training.notes : c.estimate.notes;
  const uint64_t total = training ? c.training.total_bytes : c.estimate.total_bytes;
  std::printf("%s (%s): %.3fB parameters", c.request.model_id.c_str(), c.model.architecture.c_str(),
              static_cast<double>(c.parameters.total) / 1e9);
  if (c.parameters.active != c.parameters.total) {
    std::printf(", %.3fB active per token", static_cast<double>(c.parameters.active) / 1e9);
  }
  if (training) {
    const vram::TrainingRequest& t = c.request.training;
    std::printf(", %lld trainable\n%s with %s, %s, micro-batch %lld x %lld tokens, checkpointing %s (per GPU)\n\n",
                static_cast<long long>(c.training.trainable_parameters), c.request.mode.c_str(),
                vram::OptimizerName(t.optimizer), vram::PrecisionRegimeName(t.precision),
                static_cast<long long>(t.micro_batch), static_cast<long long>(t.seq_len),
                vram::CheckpointingName(t.checkpointing));
  } else {
    std::printf("\nweights %s, KV %s, context %lld x batch %lld, runtime %s\n\n", c.request.weights.c_str(),
                vram::KvDTypeName(c.request.inference.kv_dtype),
                static_cast<long long>(c.request.inference.context_tokens),
                static_cast<long long>(c.request.inference.batch), vram::RuntimeName(c.request.inference.runtime));
  }
  std::printf("%-28s %16s %10s %9s\n", "component", "bytes", "GiB", "GB");
  for (const vram::BreakdownItem& item : items) {
    std::printf("%-28s %16llu %10.3f %9.3f\n", item.label.c_str(),
                static_cast<unsigned long long>(item.bytes), gib(item.bytes), gb(item.bytes));
  }
  std::printf("%-28s %16llu %10.3f %9.3f\n\n", "total", static_cast<unsigned long long>(total), gib(total), gb(total));
  for (const vram::BreakdownItem& item : items) {
    std::printf("- %s: %s\n", item.label.c_str(), item.explanation.c_str());
  }
  for (const std::string& note : notes) std::printf("note: %s\n", note.c_str());
  std::printf("(GiB = 2^30 bytes, GB = 10^9 bytes)\n");
}

}  // namespace

/// Training options (issue 3). Returns false when `flag` is not one of them.
template <typename Value>
bool HandleTrainingFlag(const std::string& flag, vram::TrainingRequest* t, Value value) {
  auto parsed = [](auto result) {
    if (!result.ok()) Fail(result.status().message());
    return *result;
  };
  if (flag == "--optimizer") {
    t->optimizer = parsed(vram::ParseOptimizer(value()));
  } else if (flag == "--precision-regime") {
    t->precision = parsed(vram::ParsePrecisionRegime(value()));
  } else if (flag == "--fp32-grads") {
    t->fp32_gradients = true;
  } else if (flag == "--checkpointing") {
    t->checkpointing = parsed(vram::ParseCheckpointing(value()));
  } else if (flag == "--lora-rank") {
    t->lora_rank = ParseInt("lora-rank", value(), 1, 4096);
  } else if (flag == "--lora-targets") {
    t->lora_targets = parsed(vram::ParseLoraTargets(value()));
  } else if (flag == "--dora") {
    t->dora = true;
  } else if (flag == "--lora-dropout") {
    t->lora_dropout = ParseNumber("lora-dropout", value(), 0.0, 0.999, false);
  } else if (flag == "--dropout") {
    t->dropout = ParseNumber("dropout", value(), 0.0, 0.999, false);
  } else if (flag == "--micro-batch") {
    t->micro_batch = ParseInt("micro-batch", value(), 1, 4096);
  } else if (flag == "--seq-len") {
    t->seq_len = ParseInt("seq-len", value(), 1, int64_t{1} << 20);
  } else if (flag == "--zero") {
    t->zero_stage = static_cast<int>(ParseInt("zero", value(), 0, 3));
  } else if (flag == "--fsdp") {
    t->fsdp = parsed(vram::ParseFsdpStrategy(value()));
  } else if (flag == "--fsdp-shard-group") {
    t->fsdp_shard_group = ParseInt("fsdp-shard-group", value(), 1, 65536);
  } else if (flag == "--tp") {
    t->tp = ParseInt("tp", value(), 1, 1024);
  } else if (flag == "--pp") {
    t->pp = ParseInt("pp", value(), 1, 1024);
  } else if (flag == "--pp-microbatches") {
    t->pp_microbatches = ParseInt("pp-microbatches", value(), 1, 65536);
  } else if (flag == "--dp") {
    t->dp = ParseInt("dp", value(), 1, 65536);
  } else if (flag == "--sequence-parallel") {
    t->sequence_parallel = true;
  } else if (flag == "--offload") {
    t->offload = parsed(vram::ParseOffload(value()));
  } else if (flag == "--fused-loss") {
    t->fused_loss = true;
  } else {
    return false;
  }
  return true;
}

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  vramcli::PlannerFlags planner;
  if (!args.empty() && vramcli::IsPlannerSubcommand(args[0])) {
    planner.action = args[0];
    args.erase(args.begin());
  }
  vram::CalculatorRequest request;
  std::string model_id, hf_config, presets_dir;
  std::string gguf_path, safetensors_path;  // --gguf, --safetensors (model_files.cc)
  bool json = false, list_models = false, list_formats = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& flag = args[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) Fail(flag + ": missing value");
      return args[++i];
    };
    vram::InferenceRequest& q = request.inference;
    if (flag == "--help" || flag == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (flag == "--json") {
      json = true;
    } else if (flag == "--list-models") {
      list_models = true;
    } else if (flag == "--list-formats") {
      list_formats = true;
    } else if (flag == "--model") {
      model_id = value();
    } else if (flag == "--hf-config") {
      hf_config = value();
    } else if (flag == "--gguf") {
      gguf_path = value();
    } else if (flag == "--safetensors") {
      safetensors_path = value();
    } else if (flag == "--presets") {
      presets_dir = value();
    } else if (flag == "--mode") {
      request.mode = value();
      if (request.mode != "inference" && !vram::ParseTrainingMode(request.mode).ok()) {
        Fail("mode: '" + request.mode.substr(0, 40) + "' is not one of inference, train, lora, qlora");
      }
    } else if (flag == "--weights") {
      request.weights = value();
    } else if (flag == "--kv-dtype") {
      vram::Result<vram::KvDType> kv = vram::ParseKvDType(value());
      if (!kv.ok()) Fail(kv.status().message());
      q.kv_dtype = *kv;
    } else if (flag == "--context") {
      q.context_tokens = ParseInt("context", value(), 1, int64_t{1} << 24);
    } else if (flag == "--batch") {
      q.batch = ParseInt("batch", value(), 1, 65536);
    } else if (flag == "--ubatch") {
      q.ubatch_tokens = ParseInt("ubatch", value(), 1, 65536);
    } else if (flag == "--runtime") {
      vram::Result<vram::Runtime> runtime = vram::ParseRuntime(value());
      if (!runtime.ok()) Fail(runtime.status().message());
      q.runtime = *runtime;
    } else if (flag == "--flash-attn") {
      const std::string v = value();
      if (v != "on" && v != "off") Fail("flash-attn: must be on or off, got '" + v.substr(0, 40) + "'");
      q.flash_attention = v == "on";
    } else if (flag == "--attn-impl") {
      vram::Result<vram::AttentionImpl> impl = vram::ParseAttentionImpl(value());
      if (!impl.ok()) Fail(impl.status().message());
      q.attention_impl = *impl;
      request.training.attention = *impl;
    } else if (flag == "--gpu-memory-utilization") {
      q.gpu_memory_utilization = ParseNumber("gpu-memory-utilization", value(), 0.0, 1.0, true);
    } else if (flag == "--device-memory-gib") {
      const double gib = ParseNumber("device-memory-gib", value(), 0.0, 1048576.0, true);
      q.device_memory_bytes = static_cast<uint64_t>(gib * 1024.0 * 1024.0 * 1024.0);
    } else if (flag == "--max-num-batched-tokens") {
      q.vllm_max_batched_tokens = ParseInt("max-num-batched-tokens", value(), 1, int64_t{1} << 24);
    } else if (flag == "--max-num-seqs") {
      q.vllm_max_num_seqs = ParseInt("max-num-seqs", value(), 1, 65536);
    } else if (flag == "--llamacpp-backend") {
      vram::Result<vram::LlamaCppBackend> backend = vram::ParseLlamaCppBackend(value());
      if (!backend.ok()) Fail(backend.status().message());
      q.llamacpp_backend = *backend;
    } else if (flag == "--enforce-eager") {
      q.cuda_graphs = false;
    } else if (vramcli::ParsePlannerFlag(flag, value, &planner)) {
      // hardware-planner option consumed
    } else if (HandleTrainingFlag(flag, &request.training, value)) {
      // training option consumed
    } else {
      Fail("unknown option '" + flag.substr(0, 60) + "' (see --help)");
    }
  }

  if (list_models) {
    ListModels(LoadPresets(presets_dir), json);
    return 0;
  }
  if (list_formats) {
    ListFormats(json);
    return 0;
  }
  if (planner.list_gpus) {
    vramcli::ListGpus(presets_dir, json);
    return 0;
  }
  if (!gguf_path.empty() && (!model_id.empty() || !hf_config.empty() || !safetensors_path.empty())) {
    Fail("gguf: a GGUF file carries its own geometry; give --gguf without --model, --hf-config or --safetensors");
  }
  if (!safetensors_path.empty() && model_id.empty() && hf_config.empty()) {
    hf_config = vramcli::SiblingConfig(safetensors_path);  // the Hugging Face repository layout
  }
  if (gguf_path.empty() && model_id.empty() == hf_config.empty()) {
    Fail("model: give exactly one of --model <preset-id>, --hf-config <path> or --gguf <file> (see --list-models)");
  }

  if (planner.uses_hardware()) {
    vramcli::PrepareRequest(planner, presets_dir, &request);
  }

  std::string config_text;
  if (!gguf_path.empty()) {
    request.model_id = gguf_path;
  } else if (!model_id.empty()) {
    const std::vector<vram::ModelPreset> presets = LoadPresets(presets_dir);
    const vram::ModelPreset* preset = vram::FindPreset(presets, model_id);
    if (preset == nullptr) {
      Fail("model: unknown preset '" + model_id.substr(0, 60) + "' (see --list-models for the " +
           std::to_string(presets.size()) + " ids)");
    }
    config_text = preset->config_json;
    request.model_id = model_id;
  } else {
    std::string error;
    if (!ReadFile(hf_config, vram::ConfigLimits::kMaxTextBytes, &config_text, &error)) {
      Fail("hf-config: " + error);
    }
    request.model_id = hf_config;
  }

  vram::Result<vramcli::FileModel> model = vramcli::LoadModel(gguf_path, safetensors_path, config_text);
  if (!model.ok()) Fail(model.status().message());
  if (!safetensors_path.empty()) request.model_id = safetensors_path;
  vram::Result<vram::Calculation> calculation =
      vram::CalculateFileModel(*model, request);
  if (!calculation.ok()) Fail(calculation.status().message());
  if (!planner.action.empty()) {
    vramcli::RunAction(planner, presets_dir, *calculation);
    return 0;
  }
  if (json) {
    std::printf("%s\n", planner.gpu.empty()
                            ? vram::CalculationToJson(*calculation).c_str()
                            : vramcli::CalculationWithHardwareJson(planner, presets_dir, *calculation).c_str());
  } else {
    PrintText(*calculation);
    if (!planner.gpu.empty()) vramcli::PrintHardwareText(planner, presets_dir, *calculation);
  }
  return 0;
}
