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

#include "vram/vram.h"

namespace {

using OrderedJson = nlohmann::ordered_json;
constexpr int kExitUsage = 2;

const char kUsage[] =
    "usage: vramcalc (--model <preset-id> | --hf-config <config.json>) [options]\n"
    "       vramcalc --list-models [--json]\n"
    "       vramcalc --list-formats [--json]\n"
    "\n"
    "options:\n"
    "  --mode inference            what to size (training modes come later)\n"
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
    "  --gpu-memory-utilization <0..1>   vLLM fraction of device memory (default 0.92)\n"
    "  --device-memory-gib <GiB>   memory of the target device, for vLLM's reservation\n"
    "  --max-num-batched-tokens <n>  vLLM profile-run tokens (default: vllm serve's for the device)\n"
    "  --max-num-seqs <n>          vLLM concurrent requests (default: vllm serve's for the device)\n"
    "  --enforce-eager             vLLM without CUDA graphs\n"
    "  --presets <dir>             folder holding models.json\n"
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
  const vram::InferenceEstimate& e = c.estimate;
  std::printf("%s (%s): %.3fB parameters", c.request.model_id.c_str(), c.model.architecture.c_str(),
              static_cast<double>(c.parameters.total) / 1e9);
  if (c.parameters.active != c.parameters.total) {
    std::printf(", %.3fB active per token", static_cast<double>(c.parameters.active) / 1e9);
  }
  std::printf("\nweights %s, KV %s, context %lld x batch %lld, runtime %s\n\n", c.request.weights.c_str(),
              vram::KvDTypeName(c.request.inference.kv_dtype),
              static_cast<long long>(c.request.inference.context_tokens),
              static_cast<long long>(c.request.inference.batch), vram::RuntimeName(c.request.inference.runtime));
  std::printf("%-28s %16s %10s %9s\n", "component", "bytes", "GiB", "GB");
  for (const vram::BreakdownItem& item : e.items) {
    std::printf("%-28s %16llu %10.3f %9.3f\n", item.label.c_str(),
                static_cast<unsigned long long>(item.bytes), gib(item.bytes), gb(item.bytes));
  }
  std::printf("%-28s %16llu %10.3f %9.3f\n\n", "total", static_cast<unsigned long long>(e.total_bytes),
              gib(e.total_bytes), gb(e.total_bytes));
  for (const vram::BreakdownItem& item : e.items) {
    std::printf("- %s: %s\n", item.label.c_str(), item.explanation.c_str());
  }
  for (const std::string& note : e.notes) std::printf("note: %s\n", note.c_str());
  std::printf("(GiB = 2^30 bytes, GB = 10^9 bytes)\n");
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  vram::CalculatorRequest request;
  std::string model_id, hf_config, presets_dir;
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
    } else if (flag == "--presets") {
      presets_dir = value();
    } else if (flag == "--mode") {
      request.mode = value();
      if (request.mode != "inference") {
        Fail("mode: '" + request.mode.substr(0, 40) + "' is not available yet; accepted: inference");
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
    } else if (flag == "--gpu-memory-utilization") {
      q.gpu_memory_utilization = ParseNumber("gpu-memory-utilization", value(), 0.0, 1.0, true);
    } else if (flag == "--device-memory-gib") {
      const double gib = ParseNumber("device-memory-gib", value(), 0.0, 1048576.0, true);
      q.device_memory_bytes = static_cast<uint64_t>(gib * 1024.0 * 1024.0 * 1024.0);
    } else if (flag == "--max-num-batched-tokens") {
      q.vllm_max_batched_tokens = ParseInt("max-num-batched-tokens", value(), 1, int64_t{1} << 24);
    } else if (flag == "--max-num-seqs") {
      q.vllm_max_num_seqs = ParseInt("max-num-seqs", value(), 1, 65536);
    } else if (flag == "--enforce-eager") {
      q.cuda_graphs = false;
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
  if (model_id.empty() == hf_config.empty()) {
    Fail("model: give exactly one of --model <preset-id> or --hf-config <path> (see --list-models)");
  }

  std::string config_text;
  if (!model_id.empty()) {
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

  vram::Result<vram::ModelDescription> model = vram::ModelFromHfConfig(config_text);
  if (!model.ok()) Fail(model.status().message());
  vram::Result<vram::Calculation> calculation = vram::Calculate(*model, request);
  if (!calculation.ok()) Fail(calculation.status().message());
  if (json) {
    std::printf("%s\n", vram::CalculationToJson(*calculation).c_str());
  } else {
    PrintText(*calculation);
  }
  return 0;
}
