// Geometry and inventory, checked against counts derived by hand from the published configs.

#include <gtest/gtest.h>

#include "test_util.h"

namespace vram {
namespace {

using test::PresetModel;

int CountRole(const ModelDescription& m, TensorRole role, bool bias) {
  int n = 0;
  for (const TensorInfo& t : m.tensors) n += t.role == role && t.is_bias == bias;
  return n;
}

TEST(ModelTest, Llama31_8BParametersFromFirstPrinciples) {
  // vocab 128256, hidden 4096, 32 layers, 32 query heads and 8 KV heads of 128, MLP 14336,
  // untied output head, RMSNorm (weight only).
  const int64_t v = 128256, h = 4096, layers = 32, ff = 14336, kv = 8 * 128;
  const int64_t per_layer = h * h + h * kv + h * kv + h * h + 3 * h * ff + 2 * h;
  const int64_t expected = v * h + layers * per_layer + h + v * h;
  EXPECT_EQ(expected, 8030261248);  // the published safetensors total / 2 bytes
  EXPECT_EQ(CountParameters(PresetModel("llama-3.1-8b")).total, expected);
}

TEST(ModelTest, Gpt2SmallHasLearnedPositionsBiasesAndTiedHead) {
  const ModelDescription m = PresetModel("gpt2");
  EXPECT_TRUE(m.tied_embeddings);
  EXPECT_TRUE(m.learned_position_embeddings);
  // wte 50257x768, wpe 1024x768; per layer: 2 LayerNorms (w+b), c_attn 768x2304+2304,
  // c_proj 768x768+768, c_fc 768x3072+3072, mlp c_proj 3072x768+768; final LayerNorm.
  const int64_t per_layer = 2 * 2 * 768 + (768 * 2304 + 2304) + (768 * 768 + 768) +
                            (768 * 3072 + 3072) + (3072 * 768 + 768);
  EXPECT_EQ(CountParameters(m).total, 50257 * 768 + 1024 * 768 + 12 * per_layer + 2 * 768);
  EXPECT_EQ(CountParameters(m).total, 124439808);
  EXPECT_EQ(CountRole(m, TensorRole::kPositionEmbedding, false), 1);
  EXPECT_EQ(CountRole(m, TensorRole::kOutputHead, false), 0);
}

TEST(ModelTest, Qwen2HasQkvBiasesButNoOutputBias) {
  const ModelDescription m = PresetModel("qwen2.5-7b");
  EXPECT_EQ(CountRole(m, TensorRole::kAttnQ, true), 28);
  EXPECT_EQ(CountRole(m, TensorRole::kAttnK, true), 28);
  EXPECT_EQ(CountRole(m, TensorRole::kAttnV, true), 28);
  EXPECT_EQ(CountRole(m, TensorRole::kAttnOutput, true), 0);
  EXPECT_FALSE(m.tied_embeddings);
  EXPECT_TRUE(PresetModel("qwen2.5-0.5b").tied_embeddings);
}

TEST(ModelTest, Phi2IsPlainMlpWithOneNormAndBiasedHead) {
  const ModelDescription m = PresetModel("phi-2");
  EXPECT_FALSE(m.feed_forward[0].gated);
  EXPECT_EQ(CountRole(m, TensorRole::kFfnGate, false), 0);
  EXPECT_EQ(CountRole(m, TensorRole::kOutputHead, true), 1);
  // vocab 51200, hidden 2560, 32 layers, MLP 10240: q/k/v/dense with bias, fc1/fc2 with bias,
  // one LayerNorm per layer (parallel block), final LayerNorm, lm_head with bias.
  const int64_t h = 2560, ff = 10240, v = 51200;
  const int64_t per_layer = 4 * (h * h + h) + (h * ff + ff) + (ff * h + h) + 2 * h;
  EXPECT_EQ(CountParameters(m).total, v * h + 32 * per_layer + 2 * h + v * h + v);
}

TEST(ModelTest, Gemma2AlternatesSlidingAndGlobalLayers) {
  const ModelDescription m = PresetModel("gemma-2-9b");
  ASSERT_EQ(m.attention.layers.size(), 42u);
  for (size_t i = 0; i < 42; ++i) {
    // Gemma2DecoderLayer: is_sliding = not bool(layer_idx % 2)
    EXPECT_EQ(m.attention.layers[i].kind,
              i % 2 == 0 ? AttentionKind::kSlidingWindow : AttentionKind::kFull) << i;
    if (i % 2 == 0) {
      EXPECT_EQ(m.attention.layers[i].window_tokens, 4096);
    }
  }
}

TEST(ModelTest, Gemma3HasFiveLocalLayersPerGlobalOne) {
  const ModelDescription m = PresetModel("gemma-3-27b");  // text_config nested
  ASSERT_EQ(m.attention.layers.size(), 62u);
  int global = 0;
  for (size_t i = 0; i < m.attention.layers.size(); ++i) {
    const bool is_global = (i + 1) % 6 == 0;
    global += is_global;
    EXPECT_EQ(m.attention.layers[i].kind, is_global ? AttentionKind::kFull : AttentionKind::kSlidingWindow);
  }
  EXPECT_EQ(global, 10);
  EXPECT_EQ(m.attention.layers[0].window_tokens, 1024);
  EXPECT_EQ(m.attention.key_head_dim, 128);
  EXPECT_EQ(PresetModel("gemma-3-1b").attention.layers[0].window_tokens, 512);
}

TEST(ModelTest, MistralV01SlidesOnEveryLayerV03DoesNot) {
  for (const LayerAttention& l : PresetModel("mistral-7b-v0.1").attention.layers) {
    EXPECT_EQ(l.kind, AttentionKind::kSlidingWindow);
    EXPECT_EQ(l.window_tokens, 4096);
  }
  for (const LayerAttention& l : PresetModel("mistral-7b-v0.3").attention.layers) {
    EXPECT_EQ(l.kind, AttentionKind::kFull);
  }
}

TEST(ModelTest, GptOssAlternates128TokenWindowAndCountsExperts) {
  const ModelDescription m = PresetModel("gpt-oss-20b");
  ASSERT_EQ(m.attention.layers.size(), 24u);
  for (size_t i = 0; i < 24; ++i) {
    EXPECT_EQ(m.attention.layers[i].kind,
              i % 2 == 0 ? AttentionKind::kSlidingWindow : AttentionKind::kFull);
  }
  EXPECT_EQ(m.attention.layers[0].window_tokens, 128);
  // hidden 2880, 64 heads x 64, 8 KV heads, 32 experts (top 4) of width 2880, vocab 201088.
  const int64_t h = 2880, e = 32, ff = 2880, v = 201088;
  const int64_t attention = (h * 4096 + 4096) + 2 * (h * 512 + 512) + (4096 * h + h) + 64;
  const int64_t router = h * e + e;
  const int64_t experts = e * (2 * (h * ff + ff) + (ff * h + h));
  const int64_t per_layer = attention + router + experts + 2 * h;
  const ParameterCounts c = CountParameters(m);
  EXPECT_EQ(c.total, 2 * v * h + 24 * per_layer + h);
  EXPECT_EQ(c.active, c.total - 24 * experts / e * (e - 4));
}

TEST(ModelTest, MixtralStoresEightExpertsAndReadsTwo) {
  const ParameterCounts c = CountParameters(PresetModel("mixtral-8x7b"));
  const int64_t expert = 3 * 4096 * 14336;  // gate, up, down
  EXPECT_EQ(c.routed_expert, 32 * 8 * expert);
  EXPECT_EQ(c.active, c.total - 32 * 6 * expert);
  EXPECT_EQ(c.total, 46702792704);
}

TEST(ModelTest, DeepSeekV3HasMlaDenseFirstLayersAndSharedExperts) {
  const ModelDescription m = PresetModel("deepseek-v3");
  EXPECT_EQ(m.attention.layers[0].kind, AttentionKind::kMla);
  EXPECT_EQ(m.attention.mla_kv_lora_rank, 512);
  EXPECT_EQ(m.attention.mla_rope_head_dim, 64);
  for (int i = 0; i < 61; ++i) EXPECT_EQ(m.feed_forward[i].moe, i >= 3) << i;
  EXPECT_EQ(m.feed_forward[3].num_experts, 256);
  EXPECT_EQ(m.feed_forward[3].experts_per_token, 8);
  EXPECT_EQ(m.feed_forward[3].shared_intermediate_size, 2048);
  EXPECT_EQ(CountRole(m, TensorRole::kSharedExpertDown, false), 58);
}

TEST(ModelTest, FalconSevenIsMultiQueryWithParallelBlock) {
  const ModelDescription m = PresetModel("falcon-7b");
  EXPECT_EQ(m.attention.num_kv_heads, 1);
  EXPECT_TRUE(m.tied_embeddings);
  // fused qkv: 4544 -> (71 + 2) x 64
  for (const TensorInfo& t : m.tensors) {
    if (t.role == TensorRole::kAttnQkv && !t.is_bias) {
      EXPECT_EQ(t.ne[1], 73 * 64);
      break;
    }
  }
  EXPECT_EQ(PresetModel("falcon-40b").attention.num_kv_heads, 8);
}

}  // namespace
}  // namespace vram
