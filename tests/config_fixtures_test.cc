// Hand-written config.json fixtures, one per supported model_type (tests/fixtures/configs/).
// Every expected parameter count is derived here from the fixture's fields, tensor by tensor,
// following the family's transformers modeling file; the literal is the sum worked out by hand.

#include <gtest/gtest.h>

#include <map>

#include "test_util.h"

namespace vram {
namespace {

std::string FixturePath(const std::string& type) {
  return std::string(VRAM_FIXTURES_DIR) + "/configs/" + type + ".json";
}

ModelDescription Fixture(const std::string& type) {
  const std::string text = test::ReadText(FixturePath(type));
  EXPECT_FALSE(text.empty()) << "missing fixture for " << type;
  Result<ModelDescription> m = ModelFromHfConfig(text);
  EXPECT_TRUE(m.ok()) << type << ": " << m.status().message();
  return m.ok() ? std::move(m).value() : ModelDescription{};
}

// Shorthands for the derivations: a linear layer [in -> out] without and with bias.
constexpr int64_t Lin(int64_t in, int64_t out) { return in * out; }
constexpr int64_t LinB(int64_t in, int64_t out) { return in * out + out; }

struct Expected {
  const char* type;
  int64_t total;
  int64_t active;
};

// vocab V = 512 everywhere; H = hidden size; L = layers.
constexpr int64_t V = 512;

// llama: H 256, 8 heads x 32, 2 KV heads, MLP 512, untied.
constexpr int64_t kLlamaLayer =
    Lin(256, 256) + 2 * Lin(256, 64) + Lin(256, 256) + 3 * Lin(256, 512) + 2 * 256;
constexpr int64_t kLlama = 2 * V * 256 + 2 * kLlamaLayer + 256;
static_assert(kLlama == 1377536);

// mistral: as llama with MLP 768.
constexpr int64_t kMistralLayer =
    Lin(256, 256) + 2 * Lin(256, 64) + Lin(256, 256) + 3 * Lin(256, 768) + 2 * 256;
constexpr int64_t kMistral = 2 * V * 256 + 2 * kMistralLayer + 256;
static_assert(kMistral == 1770752);

// mixtral: attention as llama; router 256 -> 4; 4 experts of gate/up/down 256 <-> 256, top-2.
constexpr int64_t kMixtralAttn = Lin(256, 256) + 2 * Lin(256, 64) + Lin(256, 256);
constexpr int64_t kMixtralExperts = 4 * 3 * Lin(256, 256);
constexpr int64_t kMixtral =
    2 * V * 256 + 2 * (kMixtralAttn + Lin(256, 4) + kMixtralExperts + 2 * 256) + 256;
constexpr int64_t kMixtralActive = kMixtral - 2 * kMixtralExperts / 2;  // 2 of 4 experts used
static_assert(kMixtral == 2166016);

// qwen2: biases on q, k, v (not o); tied.
constexpr int64_t kQwen2Layer =
    LinB(256, 256) + 2 * LinB(256, 64) + Lin(256, 256) + 3 * Lin(256, 512) + 2 * 256;
constexpr int64_t kQwen2 = V * 256 + 2 * kQwen2Layer + 256;
static_assert(kQwen2 == 1247232);

// qwen2_moe: 8 heads x 32, 4 KV heads, q/k/v biases. Layer 0: router 256 -> 4, 4 experts of
// 128, shared expert of 256 with its sigmoid gate 256 -> 1. Layer 1 (mlp_only_layers): MLP 512.
constexpr int64_t kQwen2MoeAttn = LinB(256, 256) + 2 * LinB(256, 128) + Lin(256, 256);
constexpr int64_t kQwen2MoeExperts = 4 * 3 * Lin(256, 128);
constexpr int64_t kQwen2MoeL0 =
    kQwen2MoeAttn + Lin(256, 4) + kQwen2MoeExperts + Lin(256, 1) + 3 * Lin(256, 256) + 2 * 256;
constexpr int64_t kQwen2MoeL1 = kQwen2MoeAttn + 3 * Lin(256, 512) + 2 * 256;
constexpr int64_t kQwen2Moe = 2 * V * 256 + kQwen2MoeL0 + kQwen2MoeL1 + 256;
static_assert(kQwen2Moe == 1641984);

// qwen3: 4 heads x 64 (head_dim given), 2 KV heads, q/k RMSNorm of 64, tied.
constexpr int64_t kQwen3Layer =
    Lin(256, 256) + 2 * Lin(256, 128) + Lin(256, 256) + 2 * 64 + 3 * Lin(256, 512) + 2 * 256;
constexpr int64_t kQwen3 = V * 256 + 2 * kQwen3Layer + 256;
static_assert(kQwen3 == 1312256);

// qwen3_moe: attention as qwen3; router 256 -> 8; 8 experts of 128, top-2; untied.
constexpr int64_t kQwen3MoeExperts = 8 * 3 * Lin(256, 128);
constexpr int64_t kQwen3MoeLayer = Lin(256, 256) + 2 * Lin(256, 128) + Lin(256, 256) + 2 * 64 +
                                   Lin(256, 8) + kQwen3MoeExperts + 2 * 256;
constexpr int64_t kQwen3Moe = 2 * V * 256 + 2 * kQwen3MoeLayer + 256;
static_assert(kQwen3Moe == 2233856);

// gemma: 4 heads x 128 (wider than H / heads), 1 KV head, GeGLU 1024, tied by default.
constexpr int64_t kGemmaLayer =
    Lin(256, 512) + 2 * Lin(256, 128) + Lin(512, 256) + 3 * Lin(256, 1024) + 2 * 256;
constexpr int64_t kGemma = V * 256 + 2 * kGemmaLayer + 256;
static_assert(kGemma == 2360576);

// gemma2: 4 layers, 4 heads x 64, 2 KV heads, four norms per layer (sandwich), tied.
constexpr int64_t kGemma2Layer =
    Lin(256, 256) + 2 * Lin(256, 128) + Lin(256, 256) + 3 * Lin(256, 512) + 4 * 256;
constexpr int64_t kGemma2 = V * 256 + 4 * kGemma2Layer + 256;
static_assert(kGemma2 == 2494720);

// gemma3 (text_config of the multimodal wrapper; the vision tower is not counted): 6 layers,
// 4 heads x 64, 1 KV head, q/k norms, four norms per layer, tied.
constexpr int64_t kGemma3Layer =
    Lin(256, 256) + 2 * Lin(256, 64) + Lin(256, 256) + 2 * 64 + 3 * Lin(256, 512) + 4 * 256;
constexpr int64_t kGemma3 = V * 256 + 6 * kGemma3Layer + 256;
static_assert(kGemma3 == 3480576);

// gemma3_text: H 128, 12 layers, 2 heads x 64, 1 KV head, MLP 256.
constexpr int64_t kGemma3TextLayer =
    Lin(128, 128) + 2 * Lin(128, 64) + Lin(128, 128) + 2 * 64 + 3 * Lin(128, 256) + 4 * 128;
constexpr int64_t kGemma3Text = V * 128 + 12 * kGemma3TextLayer + 128;
static_assert(kGemma3Text == 1842816);

// phi (Phi-2): q/k/v/dense with biases, fc1/fc2 with biases, one LayerNorm (w+b) per layer
// (parallel block), final LayerNorm, lm_head with bias.
constexpr int64_t kPhiLayer = 4 * LinB(256, 256) + LinB(256, 1024) + LinB(1024, 256) + 2 * 256;
constexpr int64_t kPhi = V * 256 + 2 * kPhiLayer + 2 * 256 + LinB(256, V);
static_assert(kPhi == 1841664);

// phi3: fused qkv 256 -> 3 x 256, fused gate_up 256 -> 2 x 512.
constexpr int64_t kPhi3Layer =
    Lin(256, 768) + Lin(256, 256) + Lin(256, 1024) + Lin(512, 256) + 2 * 256;
constexpr int64_t kPhi3 = 2 * V * 256 + 2 * kPhi3Layer + 256;
static_assert(kPhi3 == 1574144);

// gpt2: wte + wpe (128 positions), per layer ln_1, c_attn, c_proj, ln_2, c_fc (4 x 256),
// mlp.c_proj, all with biases; ln_f; tied head.
constexpr int64_t kGpt2Layer =
    2 * 2 * 256 + LinB(256, 768) + LinB(256, 256) + LinB(256, 1024) + LinB(1024, 256);
constexpr int64_t kGpt2 = V * 256 + 128 * 256 + 2 * kGpt2Layer + 2 * 256;
static_assert(kGpt2 == 1743872);

// gpt_neox: two LayerNorms, fused qkv and dense with biases, MLP 1024 with biases, final
// LayerNorm, untied embed_out.
constexpr int64_t kNeoxLayer =
    2 * 2 * 256 + LinB(256, 768) + LinB(256, 256) + LinB(256, 1024) + LinB(1024, 256);
constexpr int64_t kNeox = V * 256 + 2 * kNeoxLayer + 2 * 256 + V * 256;
static_assert(kNeox == 1842176);

// falcon (7B style): multi-query (1 KV head of 32), fused qkv 256 -> 256 + 2 x 32, no biases,
// MLP 4 x 256, one LayerNorm per layer (parallel attention), tied.
constexpr int64_t kFalconLayer =
    Lin(256, 320) + Lin(256, 256) + Lin(256, 1024) + Lin(1024, 256) + 2 * 256;
constexpr int64_t kFalcon = V * 256 + 2 * kFalconLayer + 2 * 256;
static_assert(kFalcon == 1476096);

// deepseek_v3: MLA with q_lora 128, kv_lora 64, rope 32, nope 64, v 64, 4 heads. Layer 0 is
// dense (first_k_dense_replace 1, MLP 512); layers 1-2 route 8 experts of 128 (top-2) with one
// shared expert of 128 and the score-correction bias.
constexpr int64_t kDsAttn = Lin(256, 128) + 128 + Lin(128, 4 * 96) + Lin(256, 64 + 32) + 64 +
                            Lin(64, 4 * 128) + Lin(4 * 64, 256);
constexpr int64_t kDsExperts = 8 * 3 * Lin(256, 128);
constexpr int64_t kDsDense = kDsAttn + 3 * Lin(256, 512) + 2 * 256;
constexpr int64_t kDsMoe = kDsAttn + Lin(256, 8) + 8 + kDsExperts + 3 * Lin(256, 128) + 2 * 256;
constexpr int64_t kDeepseek = 2 * V * 256 + kDsDense + 2 * kDsMoe + 256;
constexpr int64_t kDeepseekActive = kDeepseek - 2 * (kDsExperts - kDsExperts / 8 * 2);
static_assert(kDeepseek == 3045712);

// gpt_oss: 8 heads x 32, 2 KV heads, biases on q/k/v/o, 8 sink logits; router 256 -> 4 with
// bias; 4 experts of gate/up/down 256 <-> 256 with biases; top-2.
constexpr int64_t kOssAttn = LinB(256, 256) + 2 * LinB(256, 64) + LinB(256, 256) + 8;
constexpr int64_t kOssExperts = 4 * (LinB(256, 256) * 3);
constexpr int64_t kOss = 2 * V * 256 + 2 * (kOssAttn + LinB(256, 4) + kOssExperts + 2 * 256) + 256;
static_assert(kOss == 2173464);

// qwen3_next: layers 1 and 3 full attention (interval 2), 0 and 2 gated DeltaNet (2 key heads and
// 4 value heads of 32, conv kernel 4). DeltaNet: in_proj_qkvz 256 -> 2x64 + 2x128, in_proj_ba
// 256 -> 8, depthwise conv 4 x (64 + 64 + 128), dt_bias + A_log (4 each), norm 32, out_proj
// 128 -> 256. Full: q with its output gate 256 -> 2 x 4 x 64, k and v 256 -> 128, o 256 -> 256,
// q/k norms 64. MoE on every layer: router 256 -> 4, 4 experts of 256 <-> 64, shared expert of
// 128 and its gate 256 -> 1; top-2.
constexpr int64_t kNextDelta = Lin(256, 384) + Lin(256, 8) + 4 * 256 + 4 + 4 + 32 + Lin(128, 256);
constexpr int64_t kNextFull = Lin(256, 512) + 2 * Lin(256, 128) + Lin(256, 256) + 2 * 64;
constexpr int64_t kNextExperts = 4 * 3 * Lin(256, 64);
constexpr int64_t kNextMoe = Lin(256, 4) + kNextExperts + 3 * Lin(256, 128) + Lin(256, 1);
constexpr int64_t kNext = 2 * (kNextDelta + kNextMoe + 2 * 256) + 2 * (kNextFull + kNextMoe + 2 * 256) +
                          2 * V * 256 + 256;
static_assert(kNextDelta == 134184 && kNextFull == 262272 && kNext == 2242128);
// qwen3_5_text: the same layers with a dense MLP of 512 instead of the experts; qwen3_5_moe_text is
// qwen3_next's layout; the multimodal wrappers qwen3_5 / qwen3_5_moe read their text_config.
constexpr int64_t kQwen35 = 2 * (kNextDelta + 3 * Lin(256, 512) + 2 * 256) +
                            2 * (kNextFull + 3 * Lin(256, 512) + 2 * 256) + 2 * V * 256 + 256;
static_assert(kQwen35 == 2630224);

const Expected kExpected[] = {
    {"llama", kLlama, kLlama},
    {"mistral", kMistral, kMistral},
    {"mixtral", kMixtral, kMixtralActive},
    {"qwen2", kQwen2, kQwen2},
    {"qwen2_moe", kQwen2Moe, kQwen2Moe - kQwen2MoeExperts / 2},
    {"qwen3", kQwen3, kQwen3},
    {"qwen3_moe", kQwen3Moe, kQwen3Moe - 2 * (kQwen3MoeExperts - kQwen3MoeExperts / 4)},
    {"gemma", kGemma, kGemma},
    {"gemma2", kGemma2, kGemma2},
    {"gemma3", kGemma3, kGemma3},
    {"gemma3_text", kGemma3Text, kGemma3Text},
    {"phi", kPhi, kPhi},
    {"phi3", kPhi3, kPhi3},
    {"gpt2", kGpt2, kGpt2},
    {"gpt_neox", kNeox, kNeox},
    {"falcon", kFalcon, kFalcon},
    {"deepseek_v3", kDeepseek, kDeepseekActive},
    {"gpt_oss", kOss, kOss - 2 * (kOssExperts / 2)},
    {"qwen3_next", kNext, kNext - 4 * (kNextExperts / 2)},
    {"qwen3_5_text", kQwen35, kQwen35},
    {"qwen3_5", kQwen35, kQwen35},
    {"qwen3_5_moe_text", kNext, kNext - 4 * (kNextExperts / 2)},
    {"qwen3_5_moe", kNext, kNext - 4 * (kNextExperts / 2)},
};

TEST(ConfigFixturesTest, EverySupportedModelTypeHasAFixture) {
  int count = 0;
  const char* const* types = SupportedModelTypes(&count);
  ASSERT_EQ(count, 23);
  for (int i = 0; i < count; ++i) {
    bool found = false;
    for (const Expected& e : kExpected) found = found || std::string(e.type) == types[i];
    EXPECT_TRUE(found) << types[i] << " has no fixture with a derived count";
  }
}

TEST(ConfigFixturesTest, ParameterCountsMatchTheHandDerivations) {
  for (const Expected& e : kExpected) {
    const ModelDescription m = Fixture(e.type);
    const ParameterCounts c = CountParameters(m);
    EXPECT_EQ(c.total, e.total) << e.type;
    EXPECT_EQ(c.active, e.active) << e.type;
    // A multimodal wrapper (gemma3) says its vision tower is not counted; nothing else is assumed.
    for (const std::string& w : m.warnings) {
      EXPECT_EQ(w.rfind("vision_config: the checkpoint's vision tower is not counted", 0), 0u) << e.type << ": " << w;
    }
  }
}

TEST(ConfigFixturesTest, FixturesHaveTheirFamilysShape) {
  // Sliding windows: Gemma 2 even layers; Gemma 3 five local per global; gpt-oss from
  // layer_types; Phi-3 every layer; Qwen2 with use_sliding_window false none.
  const ModelDescription g2 = Fixture("gemma2");
  ASSERT_EQ(g2.attention.layers.size(), 4u);
  EXPECT_EQ(g2.attention.layers[0].kind, AttentionKind::kSlidingWindow);
  EXPECT_EQ(g2.attention.layers[1].kind, AttentionKind::kFull);
  EXPECT_EQ(g2.attention.layers[2].window_tokens, 128);
  const ModelDescription g3 = Fixture("gemma3");
  ASSERT_EQ(g3.attention.layers.size(), 6u);
  EXPECT_EQ(g3.architecture, "gemma3_text");
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(g3.attention.layers[static_cast<size_t>(i)].kind, AttentionKind::kSlidingWindow);
  EXPECT_EQ(g3.attention.layers[5].kind, AttentionKind::kFull);
  const ModelDescription oss = Fixture("gpt_oss");
  EXPECT_EQ(oss.attention.layers[0].kind, AttentionKind::kSlidingWindow);
  EXPECT_EQ(oss.attention.layers[1].kind, AttentionKind::kFull);
  for (const LayerAttention& l : Fixture("phi3").attention.layers) EXPECT_EQ(l.window_tokens, 2047);
  for (const LayerAttention& l : Fixture("qwen2").attention.layers)
    EXPECT_EQ(l.kind, AttentionKind::kFull);
  const ModelDescription ds = Fixture("deepseek_v3");
  EXPECT_EQ(ds.attention.layers[0].kind, AttentionKind::kMla);
  EXPECT_EQ(ds.attention.mla_kv_lora_rank, 64);
  EXPECT_FALSE(ds.feed_forward[0].moe);
  EXPECT_TRUE(ds.feed_forward[1].moe);
  EXPECT_EQ(Fixture("falcon").attention.num_kv_heads, 1);
  EXPECT_TRUE(Fixture("qwen2_moe").feed_forward[0].moe);
  EXPECT_FALSE(Fixture("qwen2_moe").feed_forward[1].moe);
}

}  // namespace
}  // namespace vram
