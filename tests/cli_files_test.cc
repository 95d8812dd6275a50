// vramcalc --gguf and --safetensors on files the test writes (sparse: the tensor data is never
// written, and the CLI never reads it).

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "fixture_util.h"
#include "gguf_writer.h"
#include "safetensors_writer.h"

#include "test_util.h"

namespace vram {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

std::string Run(const std::string& args, int* status) {
  return test::Shell(std::string(VRAM_CLI_PATH) + " " + args, status);
}

Json RunJson(const std::string& args) {
  int status = -1;
  const std::string out = Run(args + " --json", &status);
  EXPECT_EQ(status, 0) << args << "\n" << out;
  Json j = Json::parse(out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << out;
  return j;
}

/// stderr of a failing run (exit status 2).
std::string RunError(const std::string& args) {
  int status = -1;
  const std::string err = Run(args + " 2>&1 >/dev/null", &status);
  EXPECT_NE(status, 0) << args;
  return err;
}

class CliFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::temp_directory_path() /
        ("vramcalc_cli_files_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
         "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

bool HasNote(const Json& j, const std::string& part) {
  for (const Json& n : j["notes"]) {
    if (n.get<std::string>().find(part) != std::string::npos) return true;
  }
  return false;
}

TEST_F(CliFilesTest, GgufWeightsAreTheFilesOwn) {
  const ModelDescription m = test::FixtureModel("qwen3_moe");
  const WeightPlan plan = test::Plan(m, "q4_k_m");
  ASSERT_TRUE(test::ModelToGguf(m, plan).Write(Path("model.gguf")));
  const Json j = RunJson("--gguf " + Path("model.gguf"));
  EXPECT_EQ(j["inputs"]["weights"], "gguf-file");
  EXPECT_EQ(j["architecture"], "qwen3_moe");
  EXPECT_EQ(j["parameters"], CountParameters(m).total);
  EXPECT_EQ(j["bytes"]["weights"], plan.total_bytes);
  EXPECT_TRUE(HasNote(j, "only the header was read")) << j["notes"].dump();
  // llama.cpp keeps token_embd on the host and pads rows on the device.
  const Json cpp = RunJson("--gguf " + Path("model.gguf") + " --runtime llamacpp");
  EXPECT_EQ(cpp["bytes"]["weights"], plan.cuda_device_bytes);
  // Another format re-plans the same geometry.
  const Json q8 = RunJson("--gguf " + Path("model.gguf") + " --weights q8_0");
  EXPECT_EQ(q8["bytes"]["weights"], test::Plan(m, "q8_0").total_bytes);
}

TEST_F(CliFilesTest, GgufHeaderLongerThanTheFirstReadInAHugeSparseFile) {
  // 200,000 tokens make a 3.4 MB header, more than the CLI's first 1 MiB read; the tensor data
  // declared after it is 400 MB of sparse zeros that the CLI never reads.
  const std::string config = R"({"model_type": "llama", "vocab_size": 200000, "hidden_size": 1024,
    "intermediate_size": 2048, "num_hidden_layers": 2, "num_attention_heads": 8,
    "num_key_value_heads": 8, "tie_word_embeddings": false})";
  Result<ModelDescription> m = ModelFromHfConfig(config);
  ASSERT_TRUE(m.ok());
  const WeightPlan plan = test::Plan(*m, "gguf-f16");
  const test::GgufWriter w = test::ModelToGguf(*m, plan);
  ASSERT_GT(w.Header().size(), 3000000u);
  ASSERT_TRUE(w.Write(Path("big.gguf")));
  EXPECT_EQ(fs::file_size(Path("big.gguf")), w.FileSize());
  const Json j = RunJson("--gguf " + Path("big.gguf"));
  EXPECT_EQ(j["bytes"]["weights"], plan.total_bytes);
  EXPECT_GT(plan.total_bytes, 400000000u);
}

TEST_F(CliFilesTest, SplitGgufFromAnyPart) {
  const ModelDescription m = test::FixtureModel("mixtral");
  const WeightPlan plan = test::Plan(m, "q3_k_m");
  const std::vector<test::GgufWriter> parts = test::SplitGguf(m, plan, 3);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(parts[static_cast<size_t>(i)].Write(
        Path("mix-0000" + std::to_string(i + 1) + "-of-00003.gguf")));
  }
  const Json j = RunJson("--gguf " + Path("mix-00002-of-00003.gguf"));
  EXPECT_EQ(j["bytes"]["weights"], plan.total_bytes);
  EXPECT_TRUE(HasNote(j, "in 3 file(s)")) << j["notes"].dump();
  fs::remove(Path("mix-00003-of-00003.gguf"));
  const std::string err = RunError("--gguf " + Path("mix-00001-of-00003.gguf"));
  EXPECT_NE(err.find("split into 3 files; missing: " + Path("mix-00003-of-00003.gguf")),
            std::string::npos)
      << err;
}

TEST_F(CliFilesTest, SafetensorsFileWithConfig) {
  const ModelDescription m = test::FixtureModel("mistral");
  const test::SafetensorsWriter w = test::HfCheckpoint(m, test::Storage::kGptq4);
  ASSERT_TRUE(w.Write(Path("model.safetensors")));
  std::ofstream(Path("mistral.json")) << test::FixtureText("mistral");
  const Json j = RunJson("--safetensors " + Path("model.safetensors") + " --hf-config " +
                         Path("mistral.json"));
  EXPECT_EQ(j["inputs"]["weights"], "safetensors-file");
  EXPECT_EQ(j["bytes"]["weights"], w.data_bytes());
  EXPECT_EQ(j["bytes"]["weights"], test::Plan(m, "gptq-4bit-g128").total_bytes);
  EXPECT_TRUE(HasNote(j, "only the headers were read")) << j["notes"].dump();
}

TEST_F(CliFilesTest, SafetensorsIndexWithTheConfigBesideIt) {
  const ModelDescription m = test::FixtureModel("gpt_oss");
  const test::SafetensorsWriter full = test::HfCheckpoint(m, test::Storage::kMxfp4Moe);
  Result<SafetensorsParse> parsed = ParseSafetensorsHeader(full.Header());
  ASSERT_TRUE(parsed.ok() && parsed->complete);
  test::SafetensorsWriter a, b;
  Json index;
  index["metadata"]["total_size"] = full.data_bytes();
  for (size_t i = 0; i < parsed->header.tensors.size(); ++i) {
    const SafetensorsTensor& t = parsed->header.tensors[i];
    const bool first = i < parsed->header.tensors.size() / 2;
    (first ? a : b).Add(t.name, t.dtype, t.shape);
    index["weight_map"][t.name] =
        first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
  }
  ASSERT_TRUE(a.Write(Path("model-00001-of-00002.safetensors")));
  ASSERT_TRUE(b.Write(Path("model-00002-of-00002.safetensors")));
  std::ofstream(Path("model.safetensors.index.json")) << index.dump();
  std::ofstream(Path("config.json")) << test::FixtureText("gpt_oss");
  const Json j =
      RunJson("--safetensors " + Path("model.safetensors.index.json") + " --runtime vllm");
  EXPECT_EQ(j["bytes"]["weights"], full.data_bytes());
  EXPECT_EQ(j["bytes"]["weights"], test::Plan(m, "mxfp4-moe").total_bytes);
  EXPECT_TRUE(HasNote(j, "in 2 file(s)")) << j["notes"].dump();
  EXPECT_FALSE(HasNote(j, "differs")) << j["notes"].dump();
}

TEST_F(CliFilesTest, BadFilesAndFlagsGiveOneClearLine) {
  const ModelDescription m = test::FixtureModel("llama");
  const test::GgufWriter w = test::ModelToGguf(m, test::Plan(m, "q8_0"));
  ASSERT_TRUE(w.Write(Path("ok.gguf")));
  {
    std::ofstream cut(Path("cut.gguf"), std::ios::binary);
    cut << w.Header().substr(0, 100);
  }
  std::ofstream(Path("lonely.safetensors")) << "";
  struct Case {
    std::string args;
    std::string message_part;
  };
  const Case cases[] = {
      {"--gguf " + Path("none.gguf"), "cannot open '" + Path("none.gguf") + "'"},
      {"--gguf " + Path("cut.gguf"), "the file is truncated: its header needs at least"},
      {"--gguf " + Path("ok.gguf") + " --hf-config x.json", "a GGUF file carries its own geometry"},
      {"--gguf " + Path("ok.gguf") + " --runtime vllm", "vllm does not run"},
      {"--safetensors " + Path("lonely.safetensors"), "cannot open '" + Path("config.json") + "'"},
  };
  for (const Case& c : cases) {
    const std::string err = RunError(c.args);
    EXPECT_NE(err.find(c.message_part), std::string::npos) << c.args << " -> " << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  }
}

}  // namespace
}  // namespace vram
