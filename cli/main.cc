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
    "       vramcalc --schema          (the request fields with defaults and ranges, as JSON)\n"
    "       vramcalc (max-context|max-batch|best-format|offload|advise|cost|fit) --gpu <id> [--gpus N] ...\n"
    "       vramcalc recommend (--model <id> | --hf-config <path>) [options]   (subcommands print JSON)\n"
    "\n"
    "options:\n"
    "  (workload options: see below)\n"
    "  --device-memory-gib <GiB>   memory of the target device, for vLLM's reservation\n"
    "  --presets <dir>             folder holding models.json\n"
    "  --gpu <id>                  a device of presets/hardware.json: adds fits, headroom_bytes,\n"
    "                              decode_tokens_per_s, prefill_tokens_per_s (see --list-gpus)\n"
    "  --gpus <n>                  identical devices, 1..64 (default 1)\n"
    "  --split <auto|layer|tensor> multi-device split (auto: llama.cpp/transformers layer, vLLM tensor)\n"
    "  --headroom <0..0.9>         fraction of device memory to keep free (recommend: default 0.1)\n"
    "  --host-bandwidth-gbs <GB/s> RAM bandwidth for offloaded layers (default 89.6, DDR5-5600 x2)\n"
    "  --max-gpus <n> --category <consumer,workstation,datacenter,apple,cpu> --limit <n>   recommend\n"
    "  --cloud-usd-per-hour <$> --utilization <0..1> --electricity-usd-per-kwh <$> --system-watts <W>   cost\n"
    "  --json                      print one JSON object\n";

/// The workload options, from the request schema (one place for flags, ranges and defaults).
std::string Usage() {
  return std::string(kUsage) + "\nworkload options:\n" + vram::RequestFlagsHelp(vram::FieldScope::kAll) +
         vram::RequestFlagsHelp(vram::FieldScope::kInference) + "\ntraining (--mode train|lora|qlora; bytes per GPU):\n" +
         vram::RequestFlagsHelp(vram::FieldScope::kTraining) + vram::RequestFlagsHelp(vram::FieldScope::kAdapter);
}

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
      std::fputs(Usage().c_str(), stdout);
      return 0;
    } else if (flag == "--json") {
      json = true;
    } else if (flag == "--schema") {
      std::printf("%s\n", vram::RequestSchemaJson().c_str());  // the request fields, for tools
      return 0;
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
    } else if (flag == "--device-memory-gib") {
      const double gib = ParseNumber("device-memory-gib", value(), 0.0, 1048576.0, true);
      q.device_memory_bytes = static_cast<uint64_t>(gib * 1024.0 * 1024.0 * 1024.0);
    } else if (const vram::RequestFieldInfo* field = vram::FindRequestFieldByFlag(flag)) {
      // A request field of the schema: the same ranges and values as the JSON request.
      const std::string text = field->flag_style == vram::FlagStyle::kValue ||
                                       field->flag_style == vram::FlagStyle::kOnOff
                                   ? value()
                                   : std::string();
      for (const vram::RequestFieldInfo& f : vram::RequestSchema()) {
        if (f.flag != flag) continue;  // --attn-impl sets the inference and the training field
        const vram::Status s = vram::SetRequestFieldFromText(f, text, &request);
        if (!s.ok()) Fail(s.message());
      }
    } else if (vramcli::ParsePlannerFlag(flag, value, &planner)) {
      // hardware-planner option consumed
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
