// Weight formats: block layouts, per-scheme storage cost on a tensor sized by hand, and the
// llama.cpp mix rules on a real architecture.

#include <cmath>

#include <gtest/gtest.h>

#include <set>

#include "test_util.h"

namespace vram {
namespace {

/// A one-layer model holding a single 4096 x 4096 attention projection (plus nothing else), so
/// that a format's cost on one tensor can be derived by hand.
ModelDescription OneMatrix(int64_t in, int64_t out) {
  ModelDescription m;
  m.architecture = "llama";
  m.vocab_size = 32;
  m.hidden_size = in;
  m.attention.num_layers = 1;
  m.attention.hidden_size = in;
  m.attention.num_query_heads = 32;
  m.attention.num_kv_heads = 32;
  m.attention.key_head_dim = m.attention.value_head_dim = 128;
  m.attention.layers = {LayerAttention{AttentionKind::kFull, 0, 32}};
  m.feed_forward = {LayerFeedForward{}};
  TensorInfo t;
  t.name = "blk.0.attn_q.weight";
  t.role = TensorRole::kAttnQ;
  t.layer = 0;
  t.n_dims = 2;
  t.ne[0] = in;
  t.ne[1] = out;
  m.tensors.push_back(t);
  return m;
}

uint64_t Bytes(const std::string& format, int64_t in = 4096, int64_t out = 4096) {
  return test::Plan(OneMatrix(in, out), format).total_bytes;
}

TEST(GgmlTypeTest, BitsPerWeightOfTheBlockLayouts) {
  // bits per weight = 8 * block bytes / block elements (ggml-common.h)
  struct Case { const char* name; double bpw; };
  const Case cases[] = {{"Q4_0", 4.5},   {"Q4_1", 5.0},    {"Q5_0", 5.5},   {"Q5_1", 6.0},
                        {"Q8_0", 8.5},   {"Q2_K", 2.625},  {"Q3_K", 3.4375}, {"Q4_K", 4.5},
                        {"Q5_K", 5.5},   {"Q6_K", 6.5625}, {"IQ2_XXS", 2.0625}, {"IQ2_XS", 2.3125},
                        {"IQ2_S", 2.5625}, {"IQ3_XXS", 3.0625}, {"IQ3_S", 3.4375}, {"IQ1_S", 1.5625},
                        {"IQ1_M", 1.75}, {"IQ4_NL", 4.5}, {"IQ4_XS", 4.25}, {"TQ1_0", 1.6875},
                        {"TQ2_0", 2.0625}, {"MXFP4", 4.25}, {"F16", 16}, {"BF16", 16}, {"F32", 32}};
  for (const Case& c : cases) {
    const GgmlTypeInfo* t = FindGgmlTypeByName(c.name);
    ASSERT_NE(t, nullptr) << c.name;
    EXPECT_DOUBLE_EQ(8.0 * t->block_bytes / t->block_elements, c.bpw) << c.name;
  }
  EXPECT_EQ(FindGgmlType(12)->name, std::string("Q4_K"));  // GGUF on-disk id
  EXPECT_EQ(FindGgmlType(4), nullptr);                       // removed Q4_2
}

TEST(WeightFormatTest, SchemeCostOnOneTensorDerivedByHand) {
  const uint64_t n = 4096ull * 4096;
  EXPECT_EQ(Bytes("bf16"), n * 2);
  EXPECT_EQ(Bytes("fp32"), n * 4);
  EXPECT_EQ(Bytes("fp8-e4m3"), n + 4);                   // one fp32 scale per tensor
  EXPECT_EQ(Bytes("fp8-e4m3-block128"), n + 32 * 32 * 4);  // fp32 scale per 128x128 block
  EXPECT_EQ(Bytes("int8"), n + 4096 * 4);                // fp32 scale per output row
  EXPECT_EQ(Bytes("nf4"), n / 2 + n / 64 * 4);           // fp32 absmax per 64
  // Double quantization: 8-bit absmax per 64, fp32 scale per 256 absmax, one fp32 offset.
  EXPECT_EQ(Bytes("nf4-dq"), n / 2 + n / 64 + n / 64 / 256 * 4 + 4);
  EXPECT_NEAR(Bytes("nf4-dq") * 8.0 / n, 4.127, 0.001);  // QLoRA paper: 0.127 bits of constants
  // GPTQ 4-bit g128: packed weights, per-group packed zeros and fp16 scales, int32 g_idx.
  EXPECT_EQ(Bytes("gptq-4bit-g128"), n / 2 + 32 * 4096 / 2 + 32 * 4096 * 2 + 4096 * 4);
  EXPECT_EQ(Bytes("awq-4bit-g128"), n / 2 + 32 * 4096 / 2 + 32 * 4096 * 2);
  EXPECT_EQ(Bytes("gptq-8bit-g32"), n + 128 * 4096 + 128 * 4096 * 2 + 4096 * 4);
  EXPECT_EQ(Bytes("mxfp4"), n / 32 * 17);
  EXPECT_EQ(Bytes("exl2-4.65bpw"), static_cast<uint64_t>(std::ceil(n * 4.65 / 8)));
  EXPECT_EQ(Bytes("gguf-q4_k"), n / 256 * 144);
  EXPECT_EQ(Bytes("gguf-q8_0"), n / 32 * 34);
}

TEST(WeightFormatTest, GgufFallsBackWhenRowsAreNotWholeBlocks) {
  // A row of 4160 values is 130 blocks of 32 but not whole blocks of 256: Q4_K falls back to
  // Q5_0, as llama.cpp's quantizer does.
  const WeightPlan plan = test::Plan(OneMatrix(4160, 64), "gguf-q4_k");
  EXPECT_EQ(plan.tensors[0].type, "Q5_0");
  EXPECT_EQ(plan.total_bytes, 4160ull * 64 / 32 * 22);
}

TEST(WeightFormatTest, BadIdsNameTheAcceptedForms) {
  for (const char* bad : {"", "q4_k_x", "gptq-3bit-g128", "gptq-4bit-g100", "awq-4bit-gall",
                          "exl2-9bpw", "exl2-abc", "gguf-q8_k", "int4"}) {
    Result<WeightFormat> f = ParseWeightFormat(bad);
    EXPECT_FALSE(f.ok()) << bad;
    EXPECT_NE(f.status().message().find("weights"), std::string::npos) << f.status().message();
  }
  EXPECT_EQ(ParseWeightFormat("Q4_K_M")->id, "q4_k_m");
  EXPECT_EQ(ParseWeightFormat("gptq-4bit")->id, "gptq-4bit-g128");
  EXPECT_EQ(ParseWeightFormat("exl2-4.65bpw")->bits_per_weight, 4.65);
}

TEST(GgufMixTest, Llama31_8B_Q4_K_M_MatchesTheTypesInARealFile) {
  // Tensor types of a published Llama-3.1-8B Q4_K_M file: token_embd Q4_K, output Q6_K,
  // attn_v and ffn_down Q6_K on the use_more_bits layers (0-3, 28-31, and every third between),
  // Q4_K elsewhere; norms F32.
  const ModelDescription m = test::PresetModel("llama-3.1-8b");
  const WeightPlan plan = test::Plan(m, "q4_k_m");
  for (size_t i = 0; i < m.tensors.size(); ++i) {
    const TensorInfo& t = m.tensors[i];
    const std::string& type = plan.tensors[i].type;
    const int l = t.layer;
    const bool more_bits = l < 4 || l >= 28 || (l - 4) % 3 == 2;
    if (t.role == TensorRole::kTokenEmbedding) {
      EXPECT_EQ(type, "Q4_K");
    }
    if (t.role == TensorRole::kOutputHead) {
      EXPECT_EQ(type, "Q6_K");
    }
    if (t.role == TensorRole::kNorm) {
      EXPECT_EQ(type, "F32");
    }
    if (t.role == TensorRole::kAttnV || t.role == TensorRole::kFfnDown) {
      EXPECT_EQ(type, more_bits ? "Q6_K" : "Q4_K") << t.name;
    }
    if (t.role == TensorRole::kAttnQ || t.role == TensorRole::kAttnK || t.role == TensorRole::kFfnUp) {
      EXPECT_EQ(type, "Q4_K") << t.name;
    }
  }
  // Sum by hand: 16 of 32 layers get Q6_K attn_v and ffn_down.
  const uint64_t q4k = 144, q6k = 210;  // bytes per 256 weights
  const uint64_t embd = 128256ull * 4096 / 256, attn_q = 4096ull * 4096 / 256,
                 attn_kv = 4096ull * 1024 / 256, ffn = 4096ull * 14336 / 256;
  const uint64_t expected = embd * q4k + embd * q6k + 65ull * 4096 * 4 +
                            32 * (2 * attn_q * q4k + attn_kv * q4k + 2 * ffn * q4k) +
                            16 * (attn_kv * q6k + ffn * q6k) + 16 * (attn_kv * q4k + ffn * q4k);
  EXPECT_EQ(plan.total_bytes, expected);
  EXPECT_EQ(plan.total_bytes, 4912898048u);
  EXPECT_NEAR(plan.bits_per_weight, 4.894, 0.001);  // ERRATA 8: about 4.9, not 4.5
}

TEST(GgufMixTest, TiedEmbeddingsTakeTheOutputRule) {
  // Gemma ties its head to token_embd, so token_embd is quantized as the output (Q6_K).
  const ModelDescription m = test::PresetModel("gemma-2-9b");
  const WeightPlan plan = test::Plan(m, "q4_k_m");
  EXPECT_EQ(plan.tensors[0].type, "Q6_K");
}

TEST(GgufMixTest, MixtralRaisesAttentionForEightExperts) {
  const ModelDescription m = test::PresetModel("mixtral-8x7b");
  for (GgufMix mix : {GgufMix::kQ4_K_M, GgufMix::kQ3_K_M, GgufMix::kQ2_K}) {
    for (const TensorInfo& t : m.tensors) {
      if (t.is_bias) continue;
      if (t.role == TensorRole::kAttnV || t.role == TensorRole::kAttnK) {
        EXPECT_EQ(GgufMixTensorType(m, t, mix), GgmlType::kQ8_0) << t.name;
      }
      if (t.role == TensorRole::kAttnOutput) {
        EXPECT_EQ(GgufMixTensorType(m, t, mix), GgmlType::kQ5_K);
      }
      if (t.role == TensorRole::kRouter) {
        EXPECT_EQ(GgufMixTensorType(m, t, mix), GgmlType::kF32);
      }
    }
  }
}

TEST(GgufMixTest, SeventyBLlamaBumpsAttnV) {
  // llama.cpp gives LLM_TYPE_70B models Q5_K attn_v where the mix would pick Q3_K or Q4_K.
  const ModelDescription m = test::PresetModel("llama-3.1-70b");
  for (const TensorInfo& t : m.tensors) {
    if (t.role == TensorRole::kAttnV && !t.is_bias) {
      EXPECT_EQ(GgufMixTensorType(m, t, GgufMix::kQ3_K_S), GgmlType::kQ5_K);
    }
  }
}

TEST(WeightFormatTest, SchemesKeepEmbeddingsHeadAndRoutersUnquantized) {
  const ModelDescription m = test::PresetModel("mixtral-8x7b");
  for (const char* format : {"nf4", "gptq-4bit-g128", "awq-4bit-g128", "int8", "fp8-e4m3"}) {
    const WeightPlan plan = test::Plan(m, format);
    for (size_t i = 0; i < m.tensors.size(); ++i) {
      const TensorRole role = m.tensors[i].role;
      if (role == TensorRole::kTokenEmbedding || role == TensorRole::kOutputHead ||
          role == TensorRole::kRouter || role == TensorRole::kNorm) {
        EXPECT_TRUE(plan.tensors[i].type == "bf16" || plan.tensors[i].type == "f16")
            << format << " " << m.tensors[i].name << " " << plan.tensors[i].type;
      }
    }
  }
}

TEST(WeightFormatTest, GptOssNativeFormatIsMxfp4OnExpertsOnly) {
  const ModelDescription m = test::PresetModel("gpt-oss-20b");
  EXPECT_EQ(m.native_quantization, "mxfp4-moe");
  const WeightPlan plan = test::Plan(m, "mxfp4-moe");
  uint64_t expected = 0;
  for (const TensorInfo& t : m.tensors) {
    if (t.is_routed_expert() && !t.is_bias) {
      expected += static_cast<uint64_t>(t.ne[0] / 32 * 17) * t.ne[1] * t.ne[2];
    } else {
      expected += static_cast<uint64_t>(t.elements()) * 2;
    }
  }
  EXPECT_EQ(plan.total_bytes, expected);
  // The published checkpoint is about 13 GB (model card: "fits in 16GB").
  EXPECT_NEAR(plan.total_bytes / 1e9, 13.8, 0.3);
}

TEST(WeightFormatTest, CatalogueListsEachIdOnce) {
  // Issue 15: gguf-f32, gguf-f16 and gguf-bf16 were listed twice (once as mixes, once as types).
  std::set<std::string> ids;
  for (const WeightFormatInfo& f : ListWeightFormats()) EXPECT_TRUE(ids.insert(f.id).second) << f.id;
  EXPECT_TRUE(ids.count("gguf-f16") && ids.count("gguf-bf16") && ids.count("gguf-f32"));
}

TEST(WeightFormatTest, CatalogueListsEveryFamily) {
  const std::vector<WeightFormatInfo> list = ListWeightFormats();
  for (const char* id : {"fp32", "fp16", "bf16", "fp8-e4m3", "fp8-e5m2", "int8", "nf4", "nf4-dq",
                         "gptq-4bit-g128", "awq-4bit-g128", "mxfp4", "exl2-4.65bpw", "q4_k_m", "q2_k",
                         "q3_k_s", "iq1_s", "iq4_xs", "tq1_0", "tq2_0", "gguf-q4_0"}) {
    bool found = false;
    for (const WeightFormatInfo& f : list) found = found || f.id == id;
    EXPECT_TRUE(found) << id;
  }
}

}  // namespace
}  // namespace vram
