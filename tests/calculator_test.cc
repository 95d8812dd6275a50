// The request/response layer shared by the CLI and the wasm binding.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace vram {
namespace {

using Json = nlohmann::json;

std::string Request(const std::string& fields) {
  const ModelPreset* p = FindPreset(test::Presets(), "llama-3.1-8b");
  return "{\"model\": \"llama-3.1-8b\", \"config\": " + p->config_json + (fields.empty() ? "" : ", ") +
         fields + "}";
}

TEST(CalculatorTest, JsonRoundTripCarriesTheContract) {
  const Json out = Json::parse(CalculateJson(Request(R"("context": 131072, "weights": "bf16")")), nullptr, false);
  ASSERT_FALSE(out.is_discarded());
  ASSERT_FALSE(out.contains("error")) << out.dump();
  EXPECT_EQ(out["parameters"].get<int64_t>(), 8030261248);
  EXPECT_EQ(out["bytes"]["kv_cache"].get<uint64_t>(), 17179869184u);
  EXPECT_EQ(out["bytes"]["weights"].get<uint64_t>(), 8030261248u * 2);
  EXPECT_EQ(out["inputs"]["context"].get<int64_t>(), 131072);
  EXPECT_EQ(out["inputs"]["weights"].get<std::string>(), "bf16");
  const Json& b = out["bytes"];
  EXPECT_EQ(b["total"].get<uint64_t>(), b["weights"].get<uint64_t>() + b["kv_cache"].get<uint64_t>() +
                                            b["activations"].get<uint64_t>() + b["overhead"].get<uint64_t>());
}

TEST(CalculatorTest, TrainingJsonAddsGradientsOptimizerAndTrainableCount) {
  const Json out = Json::parse(
      CalculateJson(Request(R"("mode": "lora", "lora_rank": 8, "lora_targets": "q,v", "seq_len": 1024)")), nullptr, false);
  ASSERT_FALSE(out.contains("error")) << out.dump();
  // q_proj 4096 -> 4096 and v_proj 4096 -> 1024 (8 KV heads of 128), rank 8, 32 layers.
  EXPECT_EQ(out["trainable_parameters"].get<int64_t>(), 32 * 8 * ((4096 + 4096) + (4096 + 1024)));
  EXPECT_EQ(out["bytes"]["kv_cache"].get<uint64_t>(), 0u);
  EXPECT_EQ(out["bytes"]["gradients"].get<uint64_t>(), 4u * 32 * 8 * ((4096 + 4096) + (4096 + 1024)));
  const Json& b = out["bytes"];
  EXPECT_EQ(b["total"].get<uint64_t>(), b["weights"].get<uint64_t>() + b["gradients"].get<uint64_t>() +
                                            b["optimizer"].get<uint64_t>() + b["activations"].get<uint64_t>() +
                                            b["overhead"].get<uint64_t>());
}

TEST(CalculatorTest, NativeWeightsFollowTheCheckpoint) {
  const Json out = Json::parse(CalculateJson(Request("")), nullptr, false);
  EXPECT_EQ(out["inputs"]["weights"].get<std::string>(), "bf16");
}

TEST(CalculatorTest, ErrorsComeBackAsValues) {
  struct Case { std::string request; const char* code; const char* part; };
  const Case cases[] = {
      {"not json", "parse_error", "request"},
      {R"({"context": 5})", "invalid_argument", "missing field 'config'"},
      {Request(R"("context": -1)"), "out_of_range", "'context' must be an integer in [1, 16777216]"},
      {Request(R"("contxt": 5)"), "invalid_argument", "unknown field 'contxt'"},
      {Request(R"("weights": "q9")"), "not_found", "unknown format 'q9'"},
      {Request(R"("runtime": "ollama")"), "not_found", "runtime"},
      {Request(R"("gpu_memory_utilization": 2)"), "out_of_range", "gpu_memory_utilization"},
      {Request(R"("mode": "pretrain")"), "not_found", "mode: 'pretrain' is not one of inference, train, lora, qlora"},
      {Request(R"("mode": "qlora", "zero": 3, "dp": 4)"), "unsupported", "qlora: ZeRO-3/FSDP parameter sharding"},
      {Request(R"("mode": "train", "weights": "q4_k_m")"), "invalid_argument", "full training holds weights"},
      {Request(R"("mode": "lora", "lora_targets": "q,nope")"), "invalid_argument", "lora-targets: 'nope'"},
      {Request(R"("mode": "train", "optimizer": "adam9")"), "not_found", "optimizer: 'adam9' is not one of"},
  };
  for (const Case& c : cases) {
    const Json out = Json::parse(CalculateJson(c.request), nullptr, false);
    ASSERT_TRUE(out.contains("error")) << c.request;
    EXPECT_EQ(out["error"]["code"].get<std::string>(), c.code) << out.dump();
    EXPECT_NE(out["error"]["message"].get<std::string>().find(c.part), std::string::npos) << out.dump();
  }
}

}  // namespace
}  // namespace vram
