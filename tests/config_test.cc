// config.json parsing: nesting, quantization_config, best effort, and every kind of bad input.

#include <gtest/gtest.h>

#include "test_util.h"

namespace vram {
namespace {

const char kTinyLlama[] = R"({
  "model_type": "llama", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
  "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 100,
  "tie_word_embeddings": false, "torch_dtype": "float16"})";

TEST(ConfigTest, TinyLlamaCountedByHand) {
  Result<ModelDescription> m = ModelFromHfConfig(kTinyLlama);
  ASSERT_TRUE(m.ok()) << m.status().message();
  // head_dim 16; q 64x64, k/v 64x32, o 64x64, gate/up/down 64x128, 2 norms; embed + head.
  const int64_t per_layer = 64 * 64 * 2 + 64 * 32 * 2 + 3 * 64 * 128 + 2 * 64;
  EXPECT_EQ(CountParameters(*m).total, 2 * 100 * 64 + 2 * per_layer + 64);
  EXPECT_EQ(m->checkpoint_dtype, DType::kF16);
  EXPECT_TRUE(m->warnings.empty());
}

TEST(ConfigTest, TextConfigIsFollowed) {
  const std::string wrapped = std::string(R"({"model_type": "llava", "text_config": )") + kTinyLlama + "}";
  Result<ModelDescription> m = ModelFromHfConfig(wrapped);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->architecture, "llama");
  EXPECT_EQ(m->attention.num_layers, 2);
}

TEST(ConfigTest, QuantizationConfigSetsTheNativeFormat) {
  struct Case { const char* q; const char* format; };
  const Case cases[] = {
      {R"({"quant_method": "gptq", "bits": 4, "group_size": 128})", "gptq-4bit-g128"},
      {R"({"quant_method": "awq", "bits": 4, "group_size": 64})", "awq-4bit-g64"},
      {R"({"quant_method": "bitsandbytes", "load_in_4bit": true, "bnb_4bit_quant_type": "nf4",
           "bnb_4bit_use_double_quant": true})", "nf4-dq"},
      {R"({"quant_method": "bitsandbytes", "load_in_8bit": true})", "int8"},
      {R"({"quant_method": "fp8", "fmt": "e4m3", "weight_block_size": [128, 128]})", "fp8-e4m3-block128"},
      {R"({"quant_method": "mxfp4"})", "mxfp4-moe"},
  };
  for (const Case& c : cases) {
    std::string text = kTinyLlama;
    text.insert(text.size() - 1, std::string(R"(, "quantization_config": )") + c.q);
    Result<ModelDescription> m = ModelFromHfConfig(text);
    ASSERT_TRUE(m.ok()) << m.status().message();
    EXPECT_EQ(m->native_quantization, c.format);
    EXPECT_TRUE(ParseWeightFormat(m->native_quantization).ok());
  }
}

TEST(ConfigTest, UnknownModelTypeWithStandardFieldsIsBestEffortWithWarning) {
  std::string text = kTinyLlama;
  text.replace(text.find("\"llama\""), 7, "\"brand_new\"");
  Result<ModelDescription> m = ModelFromHfConfig(text);
  ASSERT_TRUE(m.ok()) << m.status().message();
  ASSERT_EQ(m->warnings.size(), 1u);
  EXPECT_NE(m->warnings[0].find("assumed a llama-style decoder"), std::string::npos);
}

TEST(ConfigTest, BadInputGetsAClearMessage) {
  struct Case { const char* json; const char* message_part; };
  const Case cases[] = {
      {"", "not valid JSON"},
      {"{", "not valid JSON"},
      {"[1,2]", "top level must be a JSON object"},
      {R"({"model_type": "llama", "num_hidden_layers": -3})", "'num_hidden_layers' must be an integer in [1, 4096], got -3"},
      {R"({"model_type": "llama", "hidden_size": "4096"})", "'hidden_size' must be an integer"},
      {R"({"model_type": "llama", "hidden_size": 1e300})", "'hidden_size' must be an integer"},
      {R"({"model_type": "llama", "num_attention_heads": 32, "num_key_value_heads": 5})", "multiple of num_key_value_heads"},
      {R"({"model_type": "llama", "num_attention_heads": 32, "num_key_value_heads": 64})", "'num_key_value_heads' must be an integer in [1, 32]"},
      {R"({"model_type": "llama", "tie_word_embeddings": "yes"})", "'tie_word_embeddings' must be true or false"},
      {R"({"model_type": "mystery"})", "is not supported and the standard field 'hidden_size' is missing"},
      {R"({"model_type": "gemma2", "layer_types": ["full_attention"]})", "'layer_types' must be an array of 26"},
      {R"({"model_type": "llama", "vocab_size": 99999999999})", "'vocab_size' must be an integer"},
      {R"({"model_type": "llama", "quantization_config": 7})", "'quantization_config' must be an object"},
      {R"({"model_type": "qwen3_moe", "mlp_only_layers": [99]})", "'mlp_only_layers' must hold layer indices"},
  };
  for (const Case& c : cases) {
    Result<ModelDescription> m = ModelFromHfConfig(c.json);
    ASSERT_FALSE(m.ok()) << c.json;
    EXPECT_NE(m.status().message().find(c.message_part), std::string::npos)
        << c.json << " -> " << m.status().message();
  }
}

TEST(ConfigTest, HugeTextIsRejectedBeforeParsing) {
  const std::string huge(ConfigLimits::kMaxTextBytes + 1, ' ');
  Result<ModelDescription> m = ModelFromHfConfig(huge);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), ErrorCode::kLimitExceeded);
}

TEST(ConfigTest, DeeplyNestedJsonDoesNotCrash) {
  std::string deep(100000, '[');
  EXPECT_FALSE(ModelFromHfConfig(deep).ok());
}

}  // namespace
}  // namespace vram
