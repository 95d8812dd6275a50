// Writes synthetic model files for the differential test and the fuzzers' seed corpora.
//
//   vram_corpus_tool differential <dir>  GGUF files (every fixture architecture, many ggml types,
//                                        every metadata type, v2 and v3, split parts), each with
//                                        <file>.vram.json: our parser's view, for tests/node/.
//   vram_corpus_tool seeds <fuzz/corpus> small seeds for fuzz_gguf, fuzz_safetensors, fuzz_config.
//   vram_corpus_tool import <dir> <presets/models.json>
//                                        model files of real presets for the page's import tests:
//                                        GGUF (one file, a split pair, a 3.4 GB sparse file) and a
//                                        Hugging Face repository tree (config.json, sharded
//                                        safetensors with their index) under <dir>/hub/.

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gguf_writer.h"
#include "safetensors_writer.h"
#include "vram/vram.h"

namespace {

namespace fs = std::filesystem;
using vram::test::GgufWriter;

const char* const kTypes[] = {"llama",       "mistral",     "mixtral", "qwen2",  "qwen2_moe",
                              "qwen3",       "qwen3_moe",   "gemma",   "gemma2", "gemma3",
                              "gemma3_text", "phi",         "phi3",    "gpt2",   "gpt_neox",
                              "falcon",      "deepseek_v3", "gpt_oss"};

// Mixes that between them store most ggml types (fallbacks add more on narrow rows).
const char* const kMixes[] = {"q4_k_m", "q8_0",  "iq2_xxs", "q3_k_s",    "iq4_nl",  "q5_k_s",
                              "tq1_0",  "iq1_s", "q2_k_s",  "gguf-bf16", "iq3_xxs", "q6_k",
                              "q4_0",   "iq2_m", "iq2_s",   "q5_1",      "iq3_m",   "mxfp4_moe"};

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool WriteText(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  return static_cast<bool>(out);
}

vram::ModelDescription Fixture(const std::string& type) {
  vram::Result<vram::ModelDescription> m = vram::ModelFromHfConfig(
      ReadText(std::string(VRAM_FIXTURES_DIR) + "/configs/" + type + ".json"));
  if (!m.ok()) {
    std::fprintf(stderr, "%s: %s\n", type.c_str(), m.status().message().c_str());
    std::exit(1);
  }
  return std::move(m).value();
}

vram::WeightPlan Plan(const vram::ModelDescription& m, const std::string& id) {
  vram::Result<vram::WeightFormat> f = vram::ParseWeightFormat(id);
  vram::Result<vram::WeightPlan> p =
      f.ok() ? vram::PlanWeights(m, *f) : vram::Result<vram::WeightPlan>(f.status());
  if (!p.ok()) {
    std::fprintf(stderr, "%s: %s\n", id.c_str(), p.status().message().c_str());
    std::exit(1);
  }
  return std::move(p).value();
}

/// Writes a GGUF and our parser's view of it (parsed from the file's bytes, as the CLI would).
void Emit(const fs::path& dir, const std::string& name, const GgufWriter& w) {
  const fs::path path = dir / name;
  if (!w.Write(path)) {
    std::fprintf(stderr, "cannot write %s\n", path.c_str());
    std::exit(1);
  }
  const std::string header = w.Header();
  vram::Result<vram::GgufParse> p = vram::ParseGgufHeader(header, fs::file_size(path));
  if (!p.ok() || !p->complete) {
    std::fprintf(stderr, "%s: %s\n", name.c_str(),
                 p.ok() ? "incomplete" : p.status().message().c_str());
    std::exit(1);
  }
  WriteText(path.string() + ".vram.json", vram::GgufHeaderToJson(p->header));
}

GgufWriter EveryType(uint32_t version) {
  GgufWriter w(version);
  w.Str("general.architecture", "llama");
  w.Str("general.name", "every metadata type");
  w.U8("test.u8", 200);
  w.I8("test.i8", -100);
  w.U16("test.u16", 60000);
  w.I16("test.i16", -30000);
  w.U32("test.u32", 4000000000u);
  w.I32("test.i32", -2000000000);
  w.U64("test.u64", 18446744073709551615ull);
  w.I64("test.i64", -9223372036854775807ll);
  w.F32("test.f32", 3.14159f);
  w.F64("test.f64", 2.718281828459045);
  w.Bool("test.bool.true", true);
  w.Bool("test.bool.false", false);
  w.Str("test.string", "UTF-8: \xc3\xa9\xe2\x82\xac\xf0\x9f\x99\x82");
  w.Str("test.string.empty", "");
  w.Array("test.array.u8", vram::GgufType::kUint8, {0, 127, 255});
  w.Array("test.array.i8", vram::GgufType::kInt8, {0x80, 0x7f});
  w.Array("test.array.u16", vram::GgufType::kUint16, {1, 65535});
  w.Array("test.array.i16", vram::GgufType::kInt16, {0x8000, 1});
  w.ArrayU32("test.array.u32", {7, 4294967295u});
  w.ArrayI32("test.array.i32", {-1, 1});
  w.Array("test.array.u64", vram::GgufType::kUint64, {0, 9007199254740993ull});
  w.Array("test.array.i64", vram::GgufType::kInt64, {0xffffffffffffffffull, 5});
  w.ArrayF32("test.array.f32", {0.5f, -1e-20f, 1e30f});
  w.Array("test.array.f64", vram::GgufType::kFloat64, {0x400921fb54442d18ull});
  w.Array("test.array.bool", vram::GgufType::kBool, {1, 0, 1});
  w.ArrayStr("test.array.string", {"a", "", "longer string \xe2\x9c\x93"});
  w.Array("test.array.empty", vram::GgufType::kUint32, {});
  w.ArrayOfArraysU16("test.array.nested", {{1, 2, 3}, {}, {65535}});
  w.Tensor("token_embd.weight", {64, 8}, 8);  // Q8_0
  w.Tensor("output_norm.weight", {64}, 0);
  return w;
}

int Differential(const fs::path& dir) {
  fs::create_directories(dir);
  int files = 0;
  for (size_t i = 0; i < std::size(kTypes); ++i) {
    const vram::ModelDescription m = Fixture(kTypes[i]);
    // Two files per architecture: its own mix and the next one, so every mix meets two shapes.
    for (size_t k = 0; k < 2; ++k) {
      const std::string mix = kMixes[(i + k) % std::size(kMixes)];
      vram::test::ModelGgufOptions o;
      o.version = k == 0 ? 3 : 2;
      o.alignment = k == 0 ? 32 : 64;
      o.name = std::string(kTypes[i]) + " " + mix;
      Emit(dir, std::string(kTypes[i]) + "-" + mix + ".gguf",
           vram::test::ModelToGguf(m, Plan(m, mix), o));
      ++files;
    }
  }
  {
    // One tensor of every ggml type the calculator knows (including the ones no mix stores).
    GgufWriter w;
    w.Str("general.architecture", "llama");
    w.U32("general.alignment", 32);
    for (const vram::GgmlTypeInfo& t : vram::AllGgmlTypes()) {
      w.Tensor(std::string("blk.0.") + t.name + ".weight", {256, 3}, static_cast<int32_t>(t.type));
    }
    Emit(dir, "every-ggml-type.gguf", w);
  }
  Emit(dir, "every-type-v3.gguf", EveryType(3));
  Emit(dir, "every-type-v2.gguf", EveryType(2));
  const vram::ModelDescription mixtral = Fixture("mixtral");
  const std::vector<GgufWriter> parts = vram::test::SplitGguf(mixtral, Plan(mixtral, "q4_k_m"), 3);
  for (size_t p = 0; p < parts.size(); ++p) {
    Emit(dir, "mixtral-split-0000" + std::to_string(p + 1) + "-of-00003.gguf", parts[p]);
  }
  std::printf("%d files in %s\n", files + 6, dir.c_str());
  return 0;
}

int Seeds(const fs::path& root) {
  const fs::path gguf = root / "fuzz_gguf", st = root / "fuzz_safetensors",
                 cfg = root / "fuzz_config";
  for (const fs::path& d : {gguf, st, cfg}) fs::create_directories(d);
  for (size_t i = 0; i < std::size(kTypes); ++i) {
    const std::string type = kTypes[i];
    vram::ModelDescription m = Fixture(type);
    WriteText(cfg / (type + ".json"),
              ReadText(std::string(VRAM_FIXTURES_DIR) + "/configs/" + type + ".json"));
    // Small seeds: a vocabulary of 16 keeps the tokenizer array short.
    vram::ModelDescription small = m;
    small.vocab_size = 16;
    for (vram::TensorInfo& t : small.tensors) {
      const bool head = t.role == vram::TensorRole::kOutputHead;
      if (t.role == vram::TensorRole::kTokenEmbedding || (head && !t.is_bias)) t.ne[1] = 16;
      if (head && t.is_bias) t.ne[0] = 16;
    }
    WriteText(gguf / (type + ".gguf"),
              vram::test::ModelToGguf(small, Plan(small, kMixes[i])).Header());
    const vram::test::Storage storage = type == "gpt_oss" ? vram::test::Storage::kMxfp4Moe
                                        : i % 3 == 1      ? vram::test::Storage::kGptq4
                                        : i % 3 == 2      ? vram::test::Storage::kFp8
                                                          : vram::test::Storage::kDense;
    WriteText(st / (type + ".st"),
              std::string(1, '\0') + vram::test::HfCheckpoint(small, storage).Header());
  }
  WriteText(gguf / "every-type.gguf", EveryType(3).Header());
  WriteText(
      st / "index.json",
      std::string(1, '\1') +
          R"({"metadata": {"total_size": 1234}, "weight_map": {"model.embed_tokens.weight": "model-00001-of-00002.safetensors", "lm_head.weight": "model-00002-of-00002.safetensors"}})");
  std::printf("seeds written under %s\n", root.c_str());
  return 0;
}

}  // namespace

std::string PresetConfig(const std::string& presets_path, const std::string& id) {
  const nlohmann::json presets = nlohmann::json::parse(ReadText(presets_path), nullptr, false);
  if (presets.is_object() && presets.contains("models") && presets["models"].is_array()) {
    for (const nlohmann::json& m : presets["models"]) {
      if (m.is_object() && m.value("id", "") == id && m.contains("config"))
        return m["config"].dump();
    }
  }
  std::fprintf(stderr, "no preset %s in %s\n", id.c_str(), presets_path.c_str());
  std::exit(1);
}

vram::ModelDescription PresetModel(const std::string& presets_path, const std::string& id) {
  vram::Result<vram::ModelDescription> m = vram::ModelFromHfConfig(PresetConfig(presets_path, id));
  if (!m.ok()) {
    std::fprintf(stderr, "%s: %s\n", id.c_str(), m.status().message().c_str());
    std::exit(1);
  }
  return std::move(m).value();
}

vram::WeightPlan GgufPlan(const vram::ModelDescription& m, const std::string& format_id) {
  vram::Result<vram::WeightFormat> f = vram::ParseWeightFormat(format_id);
  vram::Result<vram::WeightPlan> plan =
      f.ok() ? vram::PlanWeights(m, *f) : vram::Result<vram::WeightPlan>(f.status());
  if (!plan.ok()) {
    std::fprintf(stderr, "%s: %s\n", format_id.c_str(), plan.status().message().c_str());
    std::exit(1);
  }
  return std::move(plan).value();
}

void Write(const fs::path& path, const GgufWriter& w) {
  if (!w.Write(path)) {
    std::fprintf(stderr, "cannot write %s\n", path.c_str());
    std::exit(1);
  }
}

int Import(const fs::path& dir, const std::string& presets) {
  fs::create_directories(dir / "hub");
  const vram::ModelDescription small = PresetModel(presets, "llama-3.2-1b");
  Write(dir / "llama-3.2-1b-q4_k_m.gguf",
        vram::test::ModelToGguf(small, GgufPlan(small, "q4_k_m")));
  const vram::ModelDescription qwen = PresetModel(presets, "qwen2.5-0.5b");
  const std::vector<GgufWriter> parts = vram::test::SplitGguf(qwen, GgufPlan(qwen, "q8_0"), 2);
  Write(dir / "qwen2.5-0.5b-q8_0-00001-of-00002.gguf", parts[0]);
  Write(dir / "qwen2.5-0.5b-q8_0-00002-of-00002.gguf", parts[1]);
  const vram::ModelDescription big = PresetModel(presets, "llama-3.2-3b");
  Write(dir / "llama-3.2-3b-q8_0.gguf", vram::test::ModelToGguf(big, GgufPlan(big, "q8_0")));

  // A Hugging Face repository: config.json and a checkpoint in two shards with their index.
  const fs::path repo = dir / "hub" / "acme" / "tiny-llama";
  fs::create_directories(repo);
  WriteText(repo / "config.json", PresetConfig(presets, "llama-3.2-1b"));
  const vram::test::SafetensorsWriter full =
      vram::test::HfCheckpoint(small, vram::test::Storage::kDense);
  vram::Result<vram::SafetensorsParse> parsed = vram::ParseSafetensorsHeader(full.Header());
  if (!parsed.ok() || !parsed->complete) return 1;
  vram::test::SafetensorsWriter a, b;
  nlohmann::ordered_json index;
  index["metadata"]["total_size"] = full.data_bytes();
  const size_t n = parsed->header.tensors.size();
  for (size_t i = 0; i < n; ++i) {
    const vram::SafetensorsTensor& t = parsed->header.tensors[i];
    const bool first = i < n / 2;
    (first ? a : b).Add(t.name, t.dtype, t.shape);
    index["weight_map"][t.name] =
        first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
  }
  if (!a.Write(repo / "model-00001-of-00002.safetensors") ||
      !b.Write(repo / "model-00002-of-00002.safetensors"))
    return 1;
  WriteText(repo / "model.safetensors.index.json", index.dump(2));
  // A GGUF-only repository (no config.json), as GGUF publishers lay them out.
  const fs::path gguf_repo = dir / "hub" / "acme" / "tiny-llama-GGUF";
  fs::create_directories(gguf_repo);
  Write(gguf_repo / "llama-3.2-1b-q4_k_m.gguf",
        vram::test::ModelToGguf(small, GgufPlan(small, "q4_k_m")));
  std::printf("import fixtures in %s\n", dir.c_str());
  return 0;
}

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "import") return Import(argv[2], argv[3]);
  if (argc == 3 && std::string(argv[1]) == "differential") return Differential(argv[2]);
  if (argc == 3 && std::string(argv[1]) == "seeds") return Seeds(argv[2]);
  std::fprintf(stderr,
               "usage: vram_corpus_tool (differential|seeds) <dir> | import <dir> <models.json>\n");
  return 2;
}
