// Hybrid models: layers that keep a recurrent state per sequence instead of a KV cache per token.
// Every expected value is derived here from the published config.json of Qwen3-Next-80B-A3B
// (presets/models.json) and the layer definitions of transformers' Qwen3Next and llama.cpp's
// qwen3next (n_embd_r, n_embd_s in src/llama-hparams.cpp).

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace vram {
namespace {

// Qwen3-Next-80B-A3B: hidden 2048, 48 layers, every 4th full attention (16 heads of 256, 2 KV
// heads), the rest gated DeltaNet (16 key heads and 32 value heads of 128, conv kernel 4); 512
// experts of 512 plus a shared expert of 512 with a sigmoid gate on every layer; vocab 151,936.
constexpr int64_t kHidden = 2048, kVocab = 151936, kLayers = 48, kFull = 12, kLinear = 36;
constexpr int64_t kKeys = 16 * 128, kValues = 32 * 128;
constexpr int64_t kConvValues = (4 - 1) * (2 * kKeys + kValues);  // 24,576
constexpr int64_t kStateValues = 128 * 128 * 32;                  // 524,288

TEST(Qwen3Next, ParameterCountFromTheLayerDefinitions) {
  const int64_t linear_attention = kHidden * (2 * kKeys + 2 * kValues)  // in_proj_qkvz
                                   + kHidden * 2 * 32                   // in_proj_ba
                                   + 4 * (2 * kKeys + kValues)          // conv1d (depthwise)
                                   + 32 + 32 + 128                      // dt_bias, A_log, norm
                                   + kValues * kHidden;                 // out_proj
  const int64_t full_attention = kHidden * 2 * 16 * 256                 // q_proj with its gate
                                 + 2 * kHidden * 2 * 256                // k_proj, v_proj
                                 + 16 * 256 * kHidden + 2 * 256;        // o_proj, q/k norms
  const int64_t moe = 512 * kHidden                                     // router
                      + 512 * 3 * kHidden * 512                         // experts
                      + 3 * kHidden * 512 + kHidden;  // shared expert and its gate
  const int64_t expected = kLinear * (linear_attention + moe + 2 * kHidden) +
                           kFull * (full_attention + moe + 2 * kHidden) + 2 * kVocab * kHidden +
                           kHidden;
  EXPECT_EQ(expected, 79674391296);
  const ModelDescription m = test::PresetModel("qwen3-next-80b-a3b");
  EXPECT_EQ(CountParameters(m).total, expected);
  // Published: "80B in total" (rounded); -0.41%.
}

TEST(Qwen3Next, LayersAndTheirStates) {
  const ModelDescription m = test::PresetModel("qwen3-next-80b-a3b");
  ASSERT_EQ(m.attention.layers.size(), static_cast<size_t>(kLayers));
  for (int64_t i = 0; i < kLayers; ++i) {
    const LayerAttention& l = m.attention.layers[static_cast<size_t>(i)];
    if ((i + 1) % 4 == 0) {
      EXPECT_EQ(l.kind, AttentionKind::kFull) << i;
      EXPECT_EQ(l.num_kv_heads, 2);
      EXPECT_EQ(l.conv_state_values, 0);
    } else {
      EXPECT_EQ(l.kind, AttentionKind::kNone) << i;
      EXPECT_EQ(l.conv_state_values, kConvValues);
      EXPECT_EQ(l.recurrent_state_values, kStateValues);
    }
  }
}

InferenceEstimate Estimate(const std::string& format, Runtime runtime, int64_t context,
                           int64_t batch) {
  const ModelDescription m = test::PresetModel("qwen3-next-80b-a3b");
  InferenceRequest r;
  r.runtime = runtime;
  r.context_tokens = context;
  r.batch = batch;
  return test::Ok(EstimateInference(m, test::Plan(m, format), r));
}

TEST(Qwen3Next, KvCacheOnlyOnTheFullAttentionLayers) {
  // 12 layers x 2 (K, V) x 2 heads x 256 x 2 bytes = 24,576 bytes per token: 6 GiB at 262,144
  // tokens, not the 24 GiB of a cache on all 48 layers.
  const InferenceEstimate e = Estimate("bf16", Runtime::kTheoretical, 262144, 1);
  EXPECT_EQ(e.kv_bytes_per_token, 24576u);
  const uint64_t state = kLinear * (kConvValues + kStateValues) * 2;  // bf16
  EXPECT_EQ(e.recurrent_state_bytes, state);
  EXPECT_EQ(e.kv_cache_bytes, 24576ull * 262144 + state);
}

TEST(Qwen3Next, LlamaCppKeepsTheStateInF32OncePerSequence) {
  // llama_memory_recurrent: f32 r and s rows, max(1, n_seq_max) cells.
  const InferenceEstimate e = Estimate("q4_k_m", Runtime::kLlamaCpp, 65536, 4);
  EXPECT_EQ(e.recurrent_state_bytes_per_sequence,
            static_cast<uint64_t>(kLinear * (kConvValues + kStateValues) * 4));
  EXPECT_EQ(e.recurrent_state_bytes, 4 * 79036416ull);
  // The cache: 4 sequences of 65,536 cells each on the 12 attention layers.
  EXPECT_EQ(e.kv_cache_bytes - e.recurrent_state_bytes, 24576ull * 65536 * 4);
  bool itemized = false;
  for (const BreakdownItem& item : e.items)
    itemized = itemized || (item.key == "recurrent_state" && item.bytes == e.recurrent_state_bytes);
  EXPECT_TRUE(itemized);
}

TEST(Qwen3Next, VllmKeepsTheStateInTheModelDtype) {
  const InferenceEstimate e = Estimate("bf16", Runtime::kVllm, 8192, 2);
  EXPECT_EQ(e.recurrent_state_bytes, 2ull * kLinear * (kConvValues + kStateValues) * 2);
}

TEST(Qwen3Next, LayerTypesOverrideTheInterval) {
  nlohmann::json config =
      nlohmann::json::parse(FindPreset(test::Presets(), "qwen3-next-80b-a3b")->config_json);
  config["num_hidden_layers"] = 4;
  config["layer_types"] = {"linear_attention", "full_attention", "linear_attention",
                           "full_attention"};
  const ModelDescription m = test::Ok(ModelFromHfConfig(config.dump()));
  EXPECT_EQ(m.attention.layers[0].kind, AttentionKind::kNone);
  EXPECT_EQ(m.attention.layers[1].kind, AttentionKind::kFull);
  EXPECT_EQ(m.attention.layers[2].recurrent_state_values, kStateValues);
}

TEST(Qwen3Next, MalformedHybridConfigsNameTheField) {
  const nlohmann::json base =
      nlohmann::json::parse(FindPreset(test::Presets(), "qwen3-next-80b-a3b")->config_json);
  struct Case {
    const char* key;
    nlohmann::json value;
    const char* message;
  };
  const Case cases[] = {
      {"linear_num_value_heads", 24,
       "linear_num_value_heads (24) must be a multiple of linear_num_key_heads (16)"},
      {"full_attention_interval", 1000, "'full_attention_interval' must be an integer in [1, 48]"},
      {"linear_conv_kernel_dim", 0, "'linear_conv_kernel_dim' must be an integer in [1, 1024]"},
      {"linear_key_head_dim", -1, "'linear_key_head_dim' must be an integer"},
      {"layer_types", {"full_attention"}, "'layer_types' must be an array of 48"},
  };
  for (const Case& c : cases) {
    nlohmann::json config = base;
    config[c.key] = c.value;
    Result<ModelDescription> m = ModelFromHfConfig(config.dump());
    ASSERT_FALSE(m.ok()) << c.key;
    EXPECT_NE(m.status().message().find(c.message), std::string::npos) << m.status().message();
  }
  nlohmann::json all_linear = base;
  all_linear["num_hidden_layers"] = 2;
  all_linear["layer_types"] = {"linear_attention", "linear_attention"};
  Result<ModelDescription> m = ModelFromHfConfig(all_linear.dump());
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().field(), "layer_types");
}

TEST(ModelTraits, FromTheGeometryNotTheName) {
  EXPECT_EQ(ModelTraitNames(test::PresetModel("qwen3-next-80b-a3b")),
            (std::vector<std::string>{"hybrid", "moe"}));
  EXPECT_EQ(ModelTraitNames(test::PresetModel("qwen3.5-27b")),
            (std::vector<std::string>{"hybrid", "multimodal"}));
  EXPECT_EQ(ModelTraitNames(test::PresetModel("gemma-2-9b")),
            (std::vector<std::string>{"sliding_window"}));
  EXPECT_EQ(ModelTraitNames(test::PresetModel("deepseek-v3")),
            (std::vector<std::string>{"moe", "mla"}));
  EXPECT_TRUE(ModelTraitNames(test::PresetModel("llama-3.1-8b")).empty());
}

// Families the core cannot place yet must be refused, never read as a llama (issue 13: a
// Nemotron-H config.json got a KV cache on its Mamba layers).
TEST(UnknownHybrids, AreRefusedNamingTheKeys) {
  const std::string standard =
      R"("hidden_size": 1024, "num_hidden_layers": 4, "num_attention_heads": 8, "vocab_size": 1000, "intermediate_size": 2048)";
  struct Case {
    const char* extra;
    const char* named;
  };
  const Case cases[] = {
      {R"("model_type": "nemotron_h", "hybrid_override_pattern": "M-M*")",
       "hybrid_override_pattern"},
      {R"("model_type": "granitemoehybrid", "layer_types": ["mamba", "attention", "mamba", "mamba"])",
       "layer_types"},
      {R"("model_type": "jamba", "mamba_d_state": 16, "attn_layer_offset": 4)", "mamba_d_state"},
      {R"("model_type": "falcon_h1", "mamba_d_ssm": 1024)", "mamba_d_ssm"},
      {R"("model_type": "kimi_linear", "linear_attn_config": {})", "linear_attn_config"},
      {R"("model_type": "bamba", "mamba_n_heads": 128)", "mamba_n_heads"},
      {R"("model_type": "new_moe", "num_experts": 64)", "num_experts"},
      {R"("model_type": "new_hybrid", "layer_types": ["linear_attention", "full_attention", "linear_attention", "full_attention"])",
       "layer_types"},
      {R"("model_type": "mamba2_like", "ssm_state_size": 128)", "ssm_state_size"},
      {R"("model_type": "another", "full_attention_interval": 4)", "full_attention_interval"},
  };
  for (const Case& c : cases) {
    Result<ModelDescription> m = ModelFromHfConfig("{" + standard + ", " + c.extra + "}");
    ASSERT_FALSE(m.ok()) << c.extra;
    EXPECT_EQ(m.status().code(), ErrorCode::kUnsupported);
    EXPECT_EQ(m.status().field(), "model_type");
    EXPECT_NE(m.status().message().find(c.named), std::string::npos) << m.status().message();
    EXPECT_NE(m.status().message().find("no estimate is made"), std::string::npos);
  }
  // A plain unknown decoder is still read as a llama, with the warning that says so.
  Result<ModelDescription> plain =
      ModelFromHfConfig("{" + standard + R"(, "model_type": "newdecoder"})");
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  EXPECT_FALSE(plain->warnings.empty());
}

}  // namespace
}  // namespace vram
