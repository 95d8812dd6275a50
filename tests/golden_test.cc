// Golden files: the JSON the CLI prints, for a fixed set of cases, computed through the core and
// through the vramcalc binary. VRAM_UPDATE_GOLDEN=1 rewrites the files from the core's output.

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace vram {
namespace {

using Json = nlohmann::json;

struct GoldenCase {
  std::string name;
  Json request;
};

std::vector<GoldenCase> LoadCases() {
  const Json root = Json::parse(test::ReadText(std::string(VRAM_GOLDEN_DIR) + "/cases.json"), nullptr, false);
  std::vector<GoldenCase> cases;
  if (root.is_discarded() || !root.contains("cases")) {
    ADD_FAILURE() << "tests/golden/cases.json is missing or malformed";
    return cases;
  }
  for (const Json& c : root["cases"]) cases.push_back({c["name"].get<std::string>(), c["request"]});
  return cases;
}

std::string GoldenPath(const std::string& name) { return std::string(VRAM_GOLDEN_DIR) + "/" + name + ".json"; }

std::string CoreJson(const Json& request) {
  const ModelPreset* preset = FindPreset(test::Presets(), request["model"].get<std::string>());
  if (preset == nullptr) return "no preset";
  Json with_config = request;
  with_config["config"] = Json::parse(preset->config_json, nullptr, false);
  return CalculateJson(with_config.dump()) + "\n";
}

using test::Shell;

/// The CLI flags that express a request object.
std::string CliArgs(const Json& r) {
  std::string args = " --model " + r["model"].get<std::string>();
  auto text = [&](const char* key, const char* flag) {
    if (r.contains(key)) args += std::string(" ") + flag + " " + r[key].get<std::string>();
  };
  auto number = [&](const char* key, const char* flag) {
    if (r.contains(key)) args += std::string(" ") + flag + " " + r[key].dump();
  };
  text("mode", "--mode");
  text("weights", "--weights");
  text("optimizer", "--optimizer");
  text("precision", "--precision-regime");
  text("checkpointing", "--checkpointing");
  text("lora_targets", "--lora-targets");
  text("fsdp", "--fsdp");
  text("offload", "--offload");
  number("lora_rank", "--lora-rank");
  number("micro_batch", "--micro-batch");
  number("seq_len", "--seq-len");
  number("zero", "--zero");
  number("tp", "--tp");
  number("pp", "--pp");
  number("pp_microbatches", "--pp-microbatches");
  number("dp", "--dp");
  number("dropout", "--dropout");
  auto flag = [&](const char* key, const char* name) {
    if (r.contains(key) && r[key].get<bool>()) args += std::string(" ") + name;
  };
  flag("dora", "--dora");
  flag("fused_loss", "--fused-loss");
  flag("sequence_parallel", "--sequence-parallel");
  flag("fp32_gradients", "--fp32-grads");
  text("kv_dtype", "--kv-dtype");
  text("runtime", "--runtime");
  text("attn_impl", "--attn-impl");
  number("context", "--context");
  number("batch", "--batch");
  number("ubatch", "--ubatch");
  number("gpu_memory_utilization", "--gpu-memory-utilization");
  number("max_num_batched_tokens", "--max-num-batched-tokens");
  number("max_num_seqs", "--max-num-seqs");
  if (r.contains("device_memory_bytes")) {
    args += " --device-memory-gib " + std::to_string(r["device_memory_bytes"].get<uint64_t>() >> 30);
  }
  if (r.contains("flash_attention")) args += r["flash_attention"].get<bool>() ? " --flash-attn on" : " --flash-attn off";
  if (r.contains("cuda_graphs") && !r["cuda_graphs"].get<bool>()) args += " --enforce-eager";
  return args;
}

class GoldenTest : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(GoldenTest, CoreMatchesGoldenFile) {
  const std::string actual = CoreJson(GetParam().request);
  ASSERT_EQ(actual.find("\"error\""), std::string::npos) << actual;
  if (std::getenv("VRAM_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(GoldenPath(GetParam().name), std::ios::binary) << actual;
  }
  const std::string expected = test::ReadText(GoldenPath(GetParam().name));
  EXPECT_EQ(actual, expected) << "golden file " << GoldenPath(GetParam().name)
                              << " differs; rerun with VRAM_UPDATE_GOLDEN=1 after checking the change";
}

TEST_P(GoldenTest, CliPrintsTheSameJson) {
  int status = -1;
  const std::string out = Shell(std::string(VRAM_CLI_PATH) + CliArgs(GetParam().request) + " --json", &status);
  EXPECT_EQ(status, 0) << out;
  EXPECT_EQ(out, test::ReadText(GoldenPath(GetParam().name))) << CliArgs(GetParam().request);
}

std::string CaseName(const ::testing::TestParamInfo<GoldenCase>& info) { return info.param.name; }

INSTANTIATE_TEST_SUITE_P(Cases, GoldenTest, ::testing::ValuesIn(LoadCases()), CaseName);

TEST(CliTest, BadInputPrintsOneLineAndExitsTwo) {
  struct Case { const char* args; const char* part; };
  const Case cases[] = {
      {" --model nope", "unknown preset 'nope'"},
      {" --model llama-3.1-8b --context -5", "context: must be an integer in [1, 16777216], got -5"},
      {" --model llama-3.1-8b --context 1e9", "context: must be an integer"},
      {" --model llama-3.1-8b --context 99999999999", "context: must be an integer in [1, 16777216]"},
      {" --model llama-3.1-8b --batch 0", "batch: must be an integer in [1, 65536], got 0"},
      {" --model llama-3.1-8b --weights q9_k", "unknown format 'q9_k'"},
      {" --model llama-3.1-8b --kv-dtype int3", "kv-dtype: 'int3' is not one of"},
      {" --model llama-3.1-8b --runtime ollama", "runtime: 'ollama' is not one of"},
      {" --model llama-3.1-8b --runtime llamacpp --weights nf4", "llama.cpp loads GGUF only"},
      {" --model llama-3.1-8b --gpu-memory-utilization nan", "gpu-memory-utilization: must be a number in (0"},
      {" --model llama-3.1-8b --mode pretrain", "mode: 'pretrain' is not one of inference, train, lora, qlora"},
      {" --model llama-3.1-8b --mode qlora --zero 3 --dp 8", "qlora: ZeRO-3/FSDP parameter sharding"},
      {" --model llama-3.1-8b --mode train --tp 5", "tp: 5 does not divide the 32 attention heads"},
      {" --model llama-3.1-8b --mode train --optimizer adam", "optimizer: 'adam' is not one of"},
      {" --model llama-3.1-8b --mode lora --lora-rank 0", "lora-rank: must be an integer in [1, 4096], got 0"},
      {" --model llama-3.1-8b --mode train --offload params", "offload: parameter offload needs parameter sharding"},
      {" --hf-config /nonexistent/config.json", "hf-config: cannot open"},
      {" --model llama-3.1-8b --context", "context: missing value"},
      {" --frobnicate", "unknown option '--frobnicate'"},
      {"", "give exactly one of --model"},
  };
  for (const Case& c : cases) {
    int status = -1;
    const std::string err = Shell(std::string(VRAM_CLI_PATH) + c.args + " 2>&1 >/dev/null", &status);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2) << c.args << " -> status " << status;
    EXPECT_NE(err.find(c.part), std::string::npos) << c.args << " -> " << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  }
}

TEST(CliTest, MalformedConfigFileIsAClearError) {
  const std::string path = ::testing::TempDir() + "/bad_config.json";
  std::ofstream(path) << R"({"model_type": "llama", "num_hidden_layers": "many"})";
  int status = -1;
  const std::string err = Shell(std::string(VRAM_CLI_PATH) + " --hf-config " + path + " 2>&1 >/dev/null", &status);
  EXPECT_EQ(WEXITSTATUS(status), 2);
  EXPECT_NE(err.find("'num_hidden_layers' must be an integer"), std::string::npos) << err;
}

TEST(CliTest, ListsAreJson) {
  int status = -1;
  const Json models = Json::parse(Shell(std::string(VRAM_CLI_PATH) + " --list-models --json", &status), nullptr, false);
  ASSERT_TRUE(models.is_array());
  EXPECT_GE(models.size(), 60u);
  const Json formats = Json::parse(Shell(std::string(VRAM_CLI_PATH) + " --list-formats --json", &status), nullptr, false);
  ASSERT_TRUE(formats.is_array());
  EXPECT_GE(formats.size(), 40u);
}

}  // namespace
}  // namespace vram
