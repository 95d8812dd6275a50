// KV cache and runtime profiles, with expected values derived by hand in each test.

#include <cmath>

#include <gtest/gtest.h>

#include "test_util.h"

namespace vram {
namespace {

InferenceEstimate Estimate(const std::string& id, const std::string& format, InferenceRequest r) {
  const ModelDescription m = test::PresetModel(id);
  const WeightPlan plan = test::Plan(m, format);
  Result<InferenceEstimate> e = EstimateInference(m, plan, r);
  EXPECT_TRUE(e.ok()) << e.status().message();
  return e.ok() ? std::move(e).value() : InferenceEstimate{};
}

InferenceRequest Ctx(int64_t context, int64_t batch = 1) {
  InferenceRequest r;
  r.context_tokens = context;
  r.batch = batch;
  return r;
}

const uint64_t kMiB = 1ull << 20, kGiB = 1ull << 30;

TEST(KvCacheTest, GroupedQueryAttentionExamplesFromTheErrata) {
  // 2 (K and V) x layers x KV heads x head_dim x tokens x 2 bytes
  EXPECT_EQ(Estimate("llama-3.1-8b", "bf16", Ctx(131072)).kv_cache_bytes, 2ull * 32 * 8 * 128 * 131072 * 2);
  EXPECT_EQ(Estimate("llama-3.1-8b", "bf16", Ctx(131072)).kv_cache_bytes, 17179869184ull);
  EXPECT_EQ(Estimate("llama-3-8b", "bf16", Ctx(2048)).kv_cache_bytes, 256 * kMiB);
  EXPECT_EQ(Estimate("llama-3.1-70b", "bf16", Ctx(2048)).kv_cache_bytes, 640 * kMiB);
  EXPECT_EQ(Estimate("llama-3.1-70b", "bf16", Ctx(131072)).kv_cache_bytes, 40 * kGiB);
  EXPECT_EQ(Estimate("mixtral-8x7b", "bf16", Ctx(2048)).kv_cache_bytes, 256 * kMiB);
  EXPECT_EQ(Estimate("codellama-34b", "bf16", Ctx(2048)).kv_cache_bytes, 2ull * 48 * 8 * 128 * 2048 * 2);
  // Multi-head Llama-2-7B is the case where "1 GB at 2K" is right.
  EXPECT_EQ(Estimate("llama-2-7b", "bf16", Ctx(2048)).kv_cache_bytes, kGiB);
}

TEST(KvCacheTest, BatchMultipliesAndDtypeScales) {
  InferenceRequest r = Ctx(4096, 8);
  r.kv_dtype = KvDType::kF8;
  EXPECT_EQ(Estimate("llama-3.1-8b", "bf16", r).kv_cache_bytes, 2ull * 32 * 8 * 128 * 4096 * 8 * 1);
  r.kv_dtype = KvDType::kQ8_0;  // 34 bytes per 32 values
  EXPECT_EQ(Estimate("llama-3.1-8b", "bf16", r).kv_cache_bytes, 2ull * 32 * (1024 / 32 * 34) * 4096 * 8);
  r.kv_dtype = KvDType::kQ4_0;  // 18 bytes per 32 values
  EXPECT_EQ(Estimate("llama-3.1-8b", "bf16", r).kv_cache_bytes, 2ull * 32 * (1024 / 32 * 18) * 4096 * 8);
}

TEST(KvCacheTest, SlidingWindowLayersKeepOnlyTheirWindow) {
  // Gemma-2-9B: 42 layers alternate 4096-token windows and global attention; 8 KV heads of 256.
  const uint64_t per_token_layer = 2ull * 8 * 256 * 2;
  EXPECT_EQ(Estimate("gemma-2-9b", "bf16", Ctx(8192)).kv_cache_bytes,
            21 * per_token_layer * 8192 + 21 * per_token_layer * 4096);
  // gpt-oss-20b: 24 layers alternate a 128-token window and full attention; 8 KV heads of 64.
  const uint64_t oss = 2ull * 8 * 64 * 2;
  EXPECT_EQ(Estimate("gpt-oss-20b", "mxfp4-moe", Ctx(131072)).kv_cache_bytes,
            12 * oss * 131072 + 12 * oss * 128);
  // Mistral 7B v0.1: every layer is a 4096 window, so 32K costs what 4K costs.
  EXPECT_EQ(Estimate("mistral-7b-v0.1", "bf16", Ctx(32768)).kv_cache_bytes,
            Estimate("mistral-7b-v0.1", "bf16", Ctx(4096)).kv_cache_bytes);
}

TEST(KvCacheTest, MlaCachesTheLatentNotPerHeadKeysAndValues) {
  // DeepSeek-V3: 61 layers x (512 latent + 64 RoPE) x 2 bytes per token.
  EXPECT_EQ(Estimate("deepseek-v3", "fp8-e4m3-block128", Ctx(4096)).kv_cache_bytes,
            61ull * (512 + 64) * 2 * 4096);
  // transformers decompresses: 128 heads x (192 key + 128 value) per layer.
  InferenceRequest r = Ctx(4096);
  r.runtime = Runtime::kTransformers;
  r.attention_impl = AttentionImpl::kFlashAttention2;
  EXPECT_EQ(Estimate("deepseek-v3", "fp8-e4m3-block128", r).kv_cache_bytes,
            61ull * 128 * (192 + 128) * 2 * 4096);
}

TEST(RuntimeTest, LlamaCppPadsTheCacheTo256Cells) {
  InferenceRequest r = Ctx(5000);
  r.runtime = Runtime::kLlamaCpp;
  const InferenceEstimate e = Estimate("llama-3.1-8b", "q4_k_m", r);
  EXPECT_EQ(e.kv_tokens_per_sequence, 5120);  // ceil(5000 / 256) * 256
  EXPECT_EQ(e.kv_cache_bytes, 2ull * 32 * 8 * 128 * 2 * 5120);
}

TEST(RuntimeTest, LlamaCppComputeBufferIsTheUbatchLogitsWithFlashAttention) {
  // With -fa the largest live set is the fp32 logits of all 512 ubatch positions plus the
  // final hidden state: (128256 + 4096) x 512 x 4 bytes = 258.5 MiB. llama.cpp prints
  // "CUDA0 compute buffer size = 258.50 MiB" for Llama-3-8B at n_ubatch 512.
  InferenceRequest r = Ctx(8192);
  r.runtime = Runtime::kLlamaCpp;
  const InferenceEstimate e = Estimate("llama-3-8b", "q4_k_m", r);
  EXPECT_EQ(e.activations_bytes, (128256ull + 4096) * 512 * 4);
  EXPECT_EQ(e.activations_bytes, 271056896u);
  // Without -fa the fp32 scores (32 heads x 8192 cells x 512 tokens, softmaxed in place), the
  // fp32 mask and one layer's inputs are live together.
  r.flash_attention = false;
  const InferenceEstimate no_fa = Estimate("llama-3-8b", "q4_k_m", r);
  EXPECT_EQ(no_fa.activations_bytes, 512ull * 4 * (32 * 8192 + 8192 + 4 * 4096 + 1024 + 1024));
}

TEST(RuntimeTest, LlamaCppCpuBackendMatchesRealLlamaCpp) {
  // Measured with llama.cpp v0.5.0 on the CPU (tests/differential): a Llama-3.2-1B shape in F16
  // at n_ctx 4096 with flash attention prints "CPU compute buffer size = 258.50 MiB". The logits
  // dominate: (128256 + 2048) x 512 x 4, plus the token-embedding rows 2048 x 512 x 4.
  InferenceRequest r = Ctx(4096);
  r.runtime = Runtime::kLlamaCpp;
  r.llamacpp_backend = LlamaCppBackend::kCpu;
  const ModelDescription m = test::PresetModel("llama-3.2-1b");
  const WeightPlan plan = test::Plan(m, "gguf-f16");
  Result<InferenceEstimate> e = EstimateInference(m, plan, r);
  ASSERT_TRUE(e.ok()) << e.status().message();
  uint64_t compute = 0;
  for (const BreakdownItem& item : e->items) {
    if (item.key == "compute_buffer") compute = item.bytes;
  }
  EXPECT_EQ(compute, 512ull * 4 * (128256 + 2048) + 512ull * 4 * 2048);
  EXPECT_NEAR(compute / 1048576.0, 258.50, 0.005);
  // Every tensor in one host buffer (32-byte aligned), no CUDA context, output buffer included.
  EXPECT_EQ(e->weights_bytes, plan.cpu_buffer_bytes);
  EXPECT_EQ(e->overhead_bytes, 0u);
  EXPECT_EQ(e->host_bytes, 0u);
}

TEST(RuntimeTest, LlamaCppKeepsTokenEmbeddingsOnTheHost) {
  // Real log, Llama-3-8B Q4_K_M fully offloaded: "CPU buffer size = 281.81 MiB" (token_embd in
  // Q4_K: 128256 x 4096 / 256 x 144 bytes) and "CUDA0 buffer size = 4403.49 MiB" (the rest).
  InferenceRequest r = Ctx(512);
  r.runtime = Runtime::kLlamaCpp;
  const InferenceEstimate e = Estimate("llama-3-8b", "q4_k_m", r);
  const uint64_t token_embd = 128256ull * 4096 / 256 * 144;
  EXPECT_EQ(token_embd, 295501824u);
  EXPECT_EQ(e.weights_bytes, 4912898048u - token_embd);
  EXPECT_NEAR(e.weights_bytes / 1048576.0, 4403.49, 0.005);
  // "CUDA0 KV buffer size = 64.00 MiB" at n_ctx 512.
  EXPECT_EQ(e.kv_cache_bytes, 64 * kMiB);
  // Host: token_embd + output buffer (128256 x 1 x 4) + CPU compute buffer ((4096 + 512) x 512 x 4).
  EXPECT_EQ(e.host_bytes, token_embd + 128256ull * 4 + (4096ull + 512) * 512 * 4);
}

TEST(RuntimeTest, LlamaCppSlidingWindowCacheIsWindowPlusUbatch) {
  // Gemma 3 27B: 52 of 62 layers slide over 1024 tokens; llama.cpp gives them
  // PAD(1024 + 512, 256) = 1536 cells, the 10 global layers the padded context.
  InferenceRequest r = Ctx(131072);
  r.runtime = Runtime::kLlamaCpp;
  const uint64_t per_token_layer = 2ull * 16 * 128 * 2;  // 16 KV heads of 128, f16
  EXPECT_EQ(Estimate("gemma-3-27b", "q4_k_m", r).kv_cache_bytes,
            52 * per_token_layer * 1536 + 10 * per_token_layer * 131072);
  // llama.cpp has no sliding window for Mistral v0.1: the whole context on every layer.
  EXPECT_EQ(Estimate("mistral-7b-v0.1", "q4_k_m", r).kv_cache_bytes, 2ull * 32 * 8 * 128 * 2 * 131072);
}

TEST(RuntimeTest, LlamaCppQuantizedCacheNeedsFlashAttention) {
  const ModelDescription m = test::PresetModel("llama-3.1-8b");
  InferenceRequest r;
  r.runtime = Runtime::kLlamaCpp;
  r.kv_dtype = KvDType::kQ8_0;
  r.flash_attention = false;
  Result<InferenceEstimate> e = EstimateInference(m, test::Plan(m, "q4_k_m"), r);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("flash attention"), std::string::npos);
}

TEST(RuntimeTest, LlamaCppRejectsNonGgufWeights) {
  const ModelDescription m = test::PresetModel("llama-3.1-8b");
  InferenceRequest r;
  r.runtime = Runtime::kLlamaCpp;
  Result<InferenceEstimate> e = EstimateInference(m, test::Plan(m, "nf4"), r);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("GGUF"), std::string::npos);
}

TEST(RuntimeTest, TransformersEagerMaterializesTheScoreMatrix) {
  InferenceRequest r = Ctx(4096);
  r.runtime = Runtime::kTransformers;
  r.attention_impl = AttentionImpl::kEager;
  const InferenceEstimate eager = Estimate("llama-3.1-8b", "bf16", r);
  // 32 heads x 4096 x 4096 scores: bf16 logits, fp32 softmax, bf16 copy (8 bytes) + bf16 mask,
  // plus repeat_kv's copies of K and V expanded to all 32 heads.
  const uint64_t scores = 32ull * 4096 * 4096 * (2 + 4 + 2) + 4096ull * 4096 * 2 +
                          2ull * 32 * 4096 * 128 * 2;
  const uint64_t inputs = 4096ull * (2 * 4096 + 4096 + 2 * 1024) * 2;
  const uint64_t logits = 128256ull * (2 + 4);
  EXPECT_EQ(eager.activations_bytes, scores + inputs + logits);
  r.attention_impl = AttentionImpl::kFlashAttention2;
  const InferenceEstimate fa2 = Estimate("llama-3.1-8b", "bf16", r);
  // Without scores the MLP of the whole prompt is the peak: gate, up and product, 16-bit.
  EXPECT_EQ(fa2.activations_bytes, 4096ull * (3 * 14336 + 2 * 4096) * 2 + logits);
  EXPECT_EQ(fa2.kv_cache_bytes, eager.kv_cache_bytes);  // ERRATA 2: fused attention keeps the KV cache
}

TEST(RuntimeTest, VllmRoundsToBlocksAndReportsCapacity) {
  InferenceRequest r = Ctx(1000);
  r.runtime = Runtime::kVllm;
  r.device_memory_bytes = 80 * kGiB;
  r.gpu_memory_utilization = 0.9;
  const InferenceEstimate e = Estimate("llama-3.1-8b", "bf16", r);
  EXPECT_EQ(e.kv_tokens_per_sequence, 1008);  // 63 blocks of 16
  const uint64_t requested = static_cast<uint64_t>(std::ceil(80.0 * kGiB * 0.9));
  EXPECT_EQ(e.runtime_reserved_bytes, requested);
  // Page per layer 2 x 16 x 8 x 128 x 2 = 65,536 bytes: one 16-token block of 32 layers is 2 MiB.
  const uint64_t block = 2ull * 16 * 8 * 128 * 2 * 32;
  EXPECT_EQ(block, 2 * kMiB);
  // The budget holds weights, the profile peak, non-torch growth and CUDA graphs; the CUDA
  // context lies outside it.
  const uint64_t context = 287047680;
  const uint64_t non_kv = e.weights_bytes + e.activations_bytes + e.overhead_bytes - context;
  EXPECT_EQ(e.kv_capacity_tokens, static_cast<int64_t>((requested - non_kv) / block * 16));
  // On an 80 GiB GPU `vllm serve` profiles 8192 tokens for up to 1024 requests.
  const uint64_t ffn = 8192ull * (3 * 14336 + 2 * 4096) * 2;
  const uint64_t logits = 1024ull * 128256 * (2 + 4 + 4);
  EXPECT_EQ(e.activations_bytes, ffn + logits);
}

TEST(RuntimeTest, InvalidRequestsNameTheField) {
  const ModelDescription m = test::PresetModel("llama-3.1-8b");
  const WeightPlan plan = test::Plan(m, "bf16");
  struct Case {
    InferenceRequest r;
    const char* field;
  };
  std::vector<Case> cases;
  InferenceRequest r;
  r.context_tokens = 0;
  cases.push_back({r, "context"});
  r = {};
  r.batch = -1;
  cases.push_back({r, "batch"});
  r = {};
  r.gpu_memory_utilization = 1.5;
  cases.push_back({r, "gpu-memory-utilization"});
  r = {};
  r.runtime = Runtime::kVllm;
  r.kv_dtype = KvDType::kQ8_0;
  cases.push_back({r, "kv-dtype"});
  for (const Case& c : cases) {
    Result<InferenceEstimate> e = EstimateInference(m, plan, c.r);
    ASSERT_FALSE(e.ok());
    EXPECT_EQ(e.status().message().rfind(c.field, 0), 0u) << e.status().message();
  }
}

TEST(RuntimeTest, ItemsSumToTheTotalForEveryRuntime) {
  for (Runtime runtime : {Runtime::kTheoretical, Runtime::kLlamaCpp, Runtime::kVllm, Runtime::kTransformers}) {
    InferenceRequest r = Ctx(32768, 2);
    r.runtime = runtime;
    const InferenceEstimate e =
        Estimate("qwen3-30b-a3b", runtime == Runtime::kLlamaCpp ? "q4_k_m" : "bf16", r);
    uint64_t sum = 0;
    for (const BreakdownItem& item : e.items) sum += item.bytes;
    EXPECT_EQ(sum, e.total_bytes) << RuntimeName(runtime);
    EXPECT_EQ(e.total_bytes, e.weights_bytes + e.kv_cache_bytes + e.activations_bytes + e.overhead_bytes);
  }
}

}  // namespace
}  // namespace vram
