#pragma once

// Helpers shared by the GGUF and safetensors tests: the hand-written config.json fixtures and a
// field-by-field comparison of two models.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_util.h"

namespace vram::test {

/// Every fixture under tests/fixtures/configs/, by model_type.
inline const std::vector<std::string>& FixtureTypes() {
  static const std::vector<std::string> types = {
      "llama",     "mistral", "mixtral",  "qwen2",  "qwen2_moe",   "qwen3",
      "qwen3_moe", "gemma",   "gemma2",   "gemma3", "gemma3_text", "phi",
      "phi3",      "gpt2",    "gpt_neox", "falcon", "deepseek_v3", "gpt_oss"};
  return types;
}

inline std::string FixtureText(const std::string& type) {
  return ReadText(std::string(VRAM_FIXTURES_DIR) + "/configs/" + type + ".json");
}

inline ModelDescription FixtureModel(const std::string& type) {
  Result<ModelDescription> m = ModelFromHfConfig(FixtureText(type));
  EXPECT_TRUE(m.ok()) << type << ": " << m.status().message();
  return m.ok() ? std::move(m).value() : ModelDescription{};
}

/// Geometry, feed-forward and inventory equal, field by field.
inline void ExpectSameModel(const ModelDescription& want, const ModelDescription& got,
                            const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_EQ(got.vocab_size, want.vocab_size);
  EXPECT_EQ(got.hidden_size, want.hidden_size);
  EXPECT_EQ(got.max_context_tokens, want.max_context_tokens);
  EXPECT_EQ(got.tied_embeddings, want.tied_embeddings);
  EXPECT_EQ(got.learned_position_embeddings, want.learned_position_embeddings);
  const AttentionGeometry& a = want.attention;
  const AttentionGeometry& b = got.attention;
  EXPECT_EQ(b.num_layers, a.num_layers);
  EXPECT_EQ(b.hidden_size, a.hidden_size);
  EXPECT_EQ(b.num_query_heads, a.num_query_heads);
  EXPECT_EQ(b.num_kv_heads, a.num_kv_heads);
  EXPECT_EQ(b.key_head_dim, a.key_head_dim);
  EXPECT_EQ(b.value_head_dim, a.value_head_dim);
  EXPECT_EQ(b.mla_kv_lora_rank, a.mla_kv_lora_rank);
  EXPECT_EQ(b.mla_rope_head_dim, a.mla_rope_head_dim);
  ASSERT_EQ(b.layers.size(), a.layers.size());
  for (size_t i = 0; i < a.layers.size(); ++i) {
    EXPECT_EQ(b.layers[i].kind, a.layers[i].kind) << "layer " << i;
    EXPECT_EQ(b.layers[i].window_tokens, a.layers[i].window_tokens) << "layer " << i;
    EXPECT_EQ(b.layers[i].num_kv_heads, a.layers[i].num_kv_heads) << "layer " << i;
  }
  ASSERT_EQ(got.feed_forward.size(), want.feed_forward.size());
  for (size_t i = 0; i < want.feed_forward.size(); ++i) {
    const LayerFeedForward& f = want.feed_forward[i];
    const LayerFeedForward& g = got.feed_forward[i];
    EXPECT_EQ(g.gated, f.gated) << "layer " << i;
    EXPECT_EQ(g.moe, f.moe) << "layer " << i;
    EXPECT_EQ(g.intermediate_size, f.intermediate_size) << "layer " << i;
    EXPECT_EQ(g.num_experts, f.num_experts) << "layer " << i;
    EXPECT_EQ(g.experts_per_token, f.experts_per_token) << "layer " << i;
    EXPECT_EQ(g.expert_intermediate_size, f.expert_intermediate_size) << "layer " << i;
    EXPECT_EQ(g.shared_intermediate_size, f.shared_intermediate_size) << "layer " << i;
  }
  ASSERT_EQ(got.tensors.size(), want.tensors.size());
  for (size_t i = 0; i < want.tensors.size(); ++i) {
    const TensorInfo& t = want.tensors[i];
    const TensorInfo& u = got.tensors[i];
    EXPECT_EQ(u.name, t.name);
    EXPECT_EQ(u.role, t.role) << t.name << ": " << TensorRoleName(u.role) << " vs "
                              << TensorRoleName(t.role);
    EXPECT_EQ(u.is_bias, t.is_bias) << t.name;
    EXPECT_EQ(u.layer, t.layer) << t.name;
    EXPECT_EQ(u.n_dims, t.n_dims) << t.name;
    EXPECT_EQ(u.ne[0], t.ne[0]) << t.name;
    EXPECT_EQ(u.ne[1], t.ne[1]) << t.name;
    EXPECT_EQ(u.ne[2], t.ne[2]) << t.name;
  }
}

}  // namespace vram::test
