// safetensors headers and index files: exact bytes per dtype, every fixture's checkpoint laid
// onto its inventory (dense, GPTQ, fp8, MXFP4) with the same bytes as the format rules give,
// and hostile, malformed and truncated files. Files come from tests/safetensors_writer.h.

#include <gtest/gtest.h>

#include "fixture_util.h"
#include "safetensors_writer.h"

namespace vram {
namespace {

using test::SafetensorsWriter;
using test::Storage;

SafetensorsHeader ParseAll(const SafetensorsWriter& w) {
  Result<SafetensorsParse> p = ParseSafetensorsHeader(w.Header(), w.FileSize());
  EXPECT_TRUE(p.ok()) << p.status().message();
  if (!p.ok()) return {};
  EXPECT_TRUE(p->complete);
  return p->header;
}

std::string Le64(uint64_t v) {
  std::string s;
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return s;
}

/// A file from raw header text (padded like the library pads).
std::string FileOf(std::string json) { return Le64(json.size()) + json; }

TEST(SafetensorsHeaderTest, BytesPerDtypeAndElementsByHand) {
  SafetensorsWriter w;
  w.Metadata("format", "pt");
  w.Add("model.embed_tokens.weight", "BF16", {512, 256});  // 131072 values x 2 = 262144 bytes
  w.Add("model.layers.0.mlp.down_proj.qweight", "I32", {64, 256});         // 16384 x 4 = 65536
  w.Add("model.layers.0.mlp.down_proj.scales", "F16", {4, 256});           // 1024 x 2 = 2048
  w.Add("model.layers.0.self_attn.q_proj.weight", "F8_E4M3", {256, 256});  // 65536
  w.Add("model.layers.0.self_attn.q_proj.weight_scale", "F32", {});        // a scalar: 4
  w.Add("experts.blocks", "F4", {3, 2});                                   // 6 x 4 bits = 3
  w.Add("flags", "BOOL", {5});                                             // 5
  w.Add("c", "C64", {2});                                                  // 16
  const SafetensorsHeader h = ParseAll(w);
  ASSERT_EQ(h.tensors.size(), 8u);
  ASSERT_EQ(h.metadata.size(), 1u);
  EXPECT_EQ(h.metadata[0].second, "pt");
  EXPECT_EQ(h.header_bytes % 8, 0u);
  EXPECT_EQ(h.data_offset, 8 + h.header_bytes);
  EXPECT_EQ(h.data_bytes, 262144u + 65536u + 2048u + 65536u + 4u + 3u + 5u + 16u);
  EXPECT_EQ(h.tensors[4].elements, 1u);
  EXPECT_EQ(h.tensors[4].bytes(), 4u);
  const SafetensorsSummary s = SummarizeSafetensors({h});
  EXPECT_EQ(s.tensors, 8u);
  EXPECT_EQ(s.bytes, h.data_bytes);
  EXPECT_EQ(s.elements, 131072u + 16384u + 1024u + 65536u + 1u + 6u + 5u + 2u);
  const std::vector<std::pair<std::string, uint64_t>> by_dtype = {
      {"BF16", 262144}, {"F8_E4M3", 65536}, {"I32", 65536}, {"F16", 2048},
      {"C64", 16},      {"BOOL", 5},        {"F32", 4},     {"F4", 3}};
  EXPECT_EQ(s.bytes_by_dtype, by_dtype);
}

TEST(SafetensorsHeaderTest, IncrementalReadingNeedsTheLengthThenTheHeader) {
  SafetensorsWriter w;
  w.Add("a", "F32", {4});
  const std::string header = w.Header();
  Result<SafetensorsParse> p = ParseSafetensorsHeader(header.substr(0, 3));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->bytes_needed, 8u);
  p = ParseSafetensorsHeader(header.substr(0, 8));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->bytes_needed, header.size());
  p = ParseSafetensorsHeader(header + std::string(16, '\0'));
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->complete);
  EXPECT_EQ(p->header.tensors[0].bytes(), 16u);
}

TEST(SafetensorsHeaderTest, MalformedHeadersGetTheRightError) {
  struct Case {
    std::string bytes;
    uint64_t file_size;
    ErrorCode code;
    const char* message_part;
  };
  const std::string ok_tensor = R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  const std::string one = FileOf("{" + ok_tensor + "}");
  const Case cases[] = {
      {Le64(uint64_t{1} << 40), 0, ErrorCode::kLimitExceeded, "the limit is 100000000"},
      {Le64(100000001), 0, ErrorCode::kLimitExceeded, "the limit is 100000000"},
      {FileOf("{\"a\":"), 0, ErrorCode::kParseError, "not valid JSON"},
      {FileOf("[1, 2]  "), 0, ErrorCode::kParseError, "must be a JSON object"},
      {FileOf(R"({"a": 7})"), 0, ErrorCode::kParseError, "tensor 'a' must be an object"},
      {FileOf(R"({"a":{"dtype":"Q4","shape":[2],"data_offsets":[0,1]}})"), 0,
       ErrorCode::kUnsupported, "dtype 'Q4', which safetensors does not define (known: BOOL, F4"},
      {FileOf(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})"), 0,
       ErrorCode::kParseError, "shape must hold non-negative integers"},
      {FileOf(R"({"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}})"), 0,
       ErrorCode::kParseError, "shape must hold integers"},
      {FileOf(R"({"a":{"dtype":"F32","shape":"2","data_offsets":[0,8]}})"), 0,
       ErrorCode::kParseError, "shape must be a list of integers"},
      {FileOf(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}})"), 0, ErrorCode::kParseError,
       "data_offsets must be [begin, end]"},
      {FileOf(R"({"a":{"dtype":"F32","shape":[2]}})"), 0, ErrorCode::kParseError,
       "needs dtype, shape and data_offsets"},
      {FileOf(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,9]}})"), 0,
       ErrorCode::kParseError, "spans 9 bytes but 2 values of F32 take 8"},
      {FileOf(R"({"a":{"dtype":"F4","shape":[3],"data_offsets":[0,1]}})"), 0,
       ErrorCode::kParseError, "not a whole number of bytes"},
      {FileOf(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})"), 0,
       ErrorCode::kParseError, "end before they begin"},
      {FileOf("{" + ok_tensor + R"(,"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})"), 0,
       ErrorCode::kParseError, "tensor 'b' begins at offset 4, expected 8"},
      {FileOf(R"({"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})"), 0,
       ErrorCode::kParseError, "begins at offset 8, expected 0"},
      {FileOf("{" + ok_tensor + "," + ok_tensor + "}"), 0, ErrorCode::kParseError,
       "tensor 'a' is listed twice"},
      {FileOf(R"({"a":{"dtype":"F32","shape":[1,1,1,1,1,1,1,1,1],"data_offsets":[0,4]}})"), 0,
       ErrorCode::kLimitExceeded, "more than 8 dimensions (the limit)"},
      {FileOf(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}})"), 0,
       ErrorCode::kLimitExceeded, "elements (the limit)"},
      {FileOf(R"({"__metadata__":{"x":1}})"), 0, ErrorCode::kParseError,
       "__metadata__ values must be strings"},
      {one, one.size() + 4, ErrorCode::kParseError,
       "describes 8 bytes of tensor data but the file holds 4 (truncated)"},
      {one, one.size() + 12, ErrorCode::kParseError,
       "describes 8 bytes of tensor data but the file holds 12"},
      {Le64(64) + "{", 20, ErrorCode::kParseError,
       "the file is truncated: its header needs 72 bytes but the file has 20"},
  };
  for (const Case& c : cases) {
    Result<SafetensorsParse> p = ParseSafetensorsHeader(c.bytes, c.file_size);
    ASSERT_FALSE(p.ok() && p->complete) << c.message_part;
    ASSERT_FALSE(p.ok()) << c.message_part << " (asked for " << p->bytes_needed << ")";
    EXPECT_EQ(p.status().code(), c.code) << p.status().message();
    EXPECT_NE(p.status().message().find(c.message_part), std::string::npos)
        << "want '" << c.message_part << "' in: " << p.status().message();
  }
}

TEST(SafetensorsHeaderTest, UnknownTensorFieldsAreIgnored) {
  const std::string file = FileOf(
      R"({"a":{"dtype":"F16","shape":[3],"data_offsets":[0,6],"extra":{"x":[1,{"y":null}]},"n":1}})");
  Result<SafetensorsParse> p = ParseSafetensorsHeader(file);
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->header.tensors[0].bytes(), 6u);
}

TEST(SafetensorsIndexTest, ShardsAndTotalSize) {
  Result<SafetensorsIndex> i = ParseSafetensorsIndex(R"({
    "metadata": {"total_size": 16060522496},
    "weight_map": {"lm_head.weight": "model-00004-of-00004.safetensors",
                   "model.embed_tokens.weight": "model-00001-of-00004.safetensors",
                   "model.layers.0.mlp.up_proj.weight": "model-00001-of-00004.safetensors",
                   "model.norm.weight": "model-00004-of-00004.safetensors"}})");
  ASSERT_TRUE(i.ok()) << i.status().message();
  EXPECT_EQ(i->total_size, 16060522496u);
  EXPECT_EQ(i->tensors, 4u);
  EXPECT_EQ(i->shards, (std::vector<std::string>{"model-00004-of-00004.safetensors",
                                                 "model-00001-of-00004.safetensors"}));
  struct Case {
    const char* json;
    const char* message_part;
  };
  const Case bad[] = {
      {"[]", "must be a JSON object"},
      {"{", "not valid JSON"},
      {R"({"weight_map": []})", "weight_map must be an object"},
      {R"({"weight_map": {"a": 1}})", "weight_map values must be file names"},
      {R"({"weight_map": {"a": "../../etc/passwd"}})", "shard names must be plain file names"},
      {R"({"weight_map": {"a": "/abs.safetensors"}})", "shard names must be plain file names"},
      {R"({"weight_map": {}})", "weight_map is missing or empty"},
      {R"({"metadata": {"total_size": -1}, "weight_map": {"a": "x"}})",
       "total_size must be a non-negative integer"},
  };
  for (const Case& c : bad) {
    Result<SafetensorsIndex> r = ParseSafetensorsIndex(c.json);
    ASSERT_FALSE(r.ok()) << c.json;
    EXPECT_NE(r.status().message().find(c.message_part), std::string::npos)
        << "want '" << c.message_part << "' in: " << r.status().message();
  }
  EXPECT_EQ(ParseSafetensorsIndex(std::string(SafetensorsLimits::kMaxIndexBytes + 1, ' '))
                .status()
                .code(),
            ErrorCode::kLimitExceeded);
}

// --- checkpoints laid onto the inventory -------------------------------------------------------

struct Checkpoint {
  const char* type;
  Storage storage;
  const char* format;  ///< The format whose rules must give the same bytes per tensor.
};

const Checkpoint kCheckpoints[] = {
    {"llama", Storage::kDense, "bf16"},
    {"mistral", Storage::kGptq4, "gptq-4bit-g128"},
    {"mixtral", Storage::kFp8, "fp8-e4m3"},
    {"qwen2", Storage::kDense, "bf16"},
    {"qwen2_moe", Storage::kGptq4, "gptq-4bit-g128"},
    {"qwen3", Storage::kFp8, "fp8-e4m3"},
    {"qwen3_moe", Storage::kDense, "bf16"},
    {"gemma", Storage::kDense, "bf16"},
    {"gemma2", Storage::kGptq4, "gptq-4bit-g128"},
    {"gemma3_text", Storage::kDense, "bf16"},
    {"phi", Storage::kDense, "bf16"},
    {"phi3", Storage::kGptq4, "gptq-4bit-g128"},
    {"gpt2", Storage::kDense, "bf16"},
    {"gpt_neox", Storage::kDense, "bf16"},
    {"falcon", Storage::kFp8, "fp8-e4m3"},
    {"deepseek_v3", Storage::kFp8, "fp8-e4m3"},
    {"gpt_oss", Storage::kMxfp4Moe, "mxfp4-moe"},
    {"gpt_oss", Storage::kDense, "bf16"},
};

TEST(SafetensorsPlanTest, EveryFixtureCheckpointIsSizedByItsStoredBytes) {
  for (const Checkpoint& c : kCheckpoints) {
    SCOPED_TRACE(std::string(c.type) + " as " + c.format);
    const ModelDescription m = test::FixtureModel(c.type);
    const SafetensorsWriter w = test::HfCheckpoint(m, c.storage);
    Result<SafetensorsPlan> plan = PlanWeightsFromSafetensors(m, {ParseAll(w)});
    ASSERT_TRUE(plan.ok()) << plan.status().message();
    EXPECT_EQ(plan->unmatched_tensors, 0u) << (plan->warnings.empty() ? "" : plan->warnings[0]);
    EXPECT_EQ(plan->missing_tensors, 0u) << (plan->warnings.empty() ? "" : plan->warnings.back());
    EXPECT_EQ(plan->checkpoint.bytes, w.data_bytes());
    EXPECT_EQ(plan->matched_bytes, w.data_bytes());
    // The rules of the format give the same bytes, tensor by tensor.
    const WeightPlan rules = test::Plan(m, c.format);
    const WeightPlan& stored = plan->weights;
    EXPECT_EQ(stored.format.id, "safetensors-file");
    ASSERT_EQ(stored.tensors.size(), rules.tensors.size());
    for (size_t i = 0; i < rules.tensors.size(); ++i) {
      EXPECT_EQ(stored.tensors[i].bytes, rules.tensors[i].bytes)
          << m.tensors[i].name << " " << stored.tensors[i].type;
    }
    EXPECT_EQ(stored.total_bytes, w.data_bytes());
    EXPECT_EQ(stored.total_bytes, rules.total_bytes);
    EXPECT_EQ(stored.bytes_read_per_token, rules.bytes_read_per_token);
    EXPECT_EQ(stored.parameters.total, CountParameters(m).total);
    // The estimate runs on it unchanged.
    InferenceRequest r;
    r.runtime = Runtime::kVllm;
    Result<InferenceEstimate> e = EstimateInference(m, stored, r);
    ASSERT_TRUE(e.ok()) << e.status().message();
    EXPECT_EQ(e->weights_bytes, w.data_bytes());
  }
}

TEST(SafetensorsPlanTest, GptqTypeLabelsAndDenseBytesByHand) {
  // Llama fixture as GPTQ 4-bit, group 128: q_proj 256 -> 256 stores qweight [32, 256] I32,
  // qzeros [2, 32] I32, scales [2, 256] F16, g_idx [256] I32.
  const ModelDescription m = test::FixtureModel("llama");
  Result<SafetensorsPlan> plan =
      PlanWeightsFromSafetensors(m, {ParseAll(test::HfCheckpoint(m, Storage::kGptq4))});
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  size_t q = 0;
  while (m.tensors[q].name != "blk.0.attn_q.weight") ++q;
  EXPECT_EQ(plan->weights.tensors[q].type, "I32+F16");
  EXPECT_EQ(plan->weights.tensors[q].bytes,
            32u * 256u * 4u + 2u * 32u * 4u + 2u * 256u * 2u + 256u * 4u);
  // A dense checkpoint: 2 bytes per parameter, exactly.
  Result<SafetensorsPlan> dense =
      PlanWeightsFromSafetensors(m, {ParseAll(test::HfCheckpoint(m, Storage::kDense))});
  ASSERT_TRUE(dense.ok());
  EXPECT_EQ(dense->weights.total_bytes, 2u * 1377536u);
  EXPECT_EQ(dense->checkpoint.elements, 1377536u);
  EXPECT_EQ(dense->weights.format.scheme, QuantScheme::kDense);
  EXPECT_EQ(dense->weights.format.dense_dtype, DType::kBF16);
  Result<SafetensorsPlan> f32 =
      PlanWeightsFromSafetensors(m, {ParseAll(test::HfCheckpoint(m, Storage::kDense, "F32"))});
  ASSERT_TRUE(f32.ok());
  EXPECT_EQ(f32->weights.total_bytes, 4u * 1377536u);
  EXPECT_EQ(f32->weights.format.dense_dtype, DType::kF32);
}

TEST(SafetensorsPlanTest, BitsandbytesAndAwqPartsBelongToTheirWeight) {
  // bitsandbytes nf4 (Linear4bit state dict): weight packed in U8 plus weight.absmax,
  // weight.quant_map, weight.nested_absmax, weight.nested_quant_map, weight.quant_state.*;
  // AWQ: qweight [in, out/8], qzeros, scales.
  const ModelDescription m = test::FixtureModel("llama");
  SafetensorsWriter w;
  const std::string q = "model.layers.0.self_attn.q_proj.";
  w.Add(q + "weight", "U8", {32768, 1});  // 256 x 256 values, two per byte
  w.Add(q + "weight.absmax", "U8", {1024});
  w.Add(q + "weight.quant_map", "F32", {16});
  w.Add(q + "weight.nested_absmax", "F32", {4});
  w.Add(q + "weight.nested_quant_map", "F32", {256});
  w.Add(q + "weight.quant_state.bitsandbytes__nf4", "U8", {113});
  const std::string k = "model.layers.0.self_attn.k_proj.";
  w.Add(k + "qweight", "I32", {256, 8});
  w.Add(k + "qzeros", "I32", {2, 8});
  w.Add(k + "scales", "F16", {2, 64});
  Result<SafetensorsPlan> plan = PlanWeightsFromSafetensors(m, {ParseAll(w)});
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  EXPECT_EQ(plan->unmatched_tensors, 0u);
  size_t qi = 0, ki = 0;
  for (size_t i = 0; i < m.tensors.size(); ++i) {
    if (m.tensors[i].name == "blk.0.attn_q.weight") qi = i;
    if (m.tensors[i].name == "blk.0.attn_k.weight") ki = i;
  }
  EXPECT_EQ(plan->weights.tensors[qi].bytes, 32768u + 1024u + 64u + 16u + 1024u + 113u);
  EXPECT_EQ(plan->weights.tensors[qi].type, "U8+F32");
  EXPECT_EQ(plan->weights.tensors[ki].bytes, 256u * 8u * 4u + 2u * 8u * 4u + 2u * 64u * 2u);
  EXPECT_EQ(plan->weights.tensors[ki].type, "I32+F16");
}

TEST(SafetensorsPlanTest, ShardsAddUpAndOtherModulesAreReportedNotGuessed) {
  // The Gemma 3 wrapper: the language model under language_model.model., a vision tower beside
  // it, split over two shards.
  const ModelDescription m = test::FixtureModel("gemma3");
  const SafetensorsWriter full = test::HfCheckpoint(m, Storage::kDense);
  const SafetensorsHeader h = ParseAll(full);
  SafetensorsWriter a, b;
  for (size_t i = 0; i < h.tensors.size(); ++i) {
    const SafetensorsTensor& t = h.tensors[i];
    std::string name = t.name;
    if (name.rfind("model.", 0) == 0) name = "language_model." + name;
    (i % 2 == 0 ? a : b).Add(name, t.dtype, t.shape);
  }
  b.Add("vision_tower.vision_model.encoder.layers.0.mlp.fc1.weight", "BF16", {64, 64});
  b.Add("model.layers.0.self_attn.rotary_emb.inv_freq", "F32", {32});
  Result<SafetensorsPlan> plan = PlanWeightsFromSafetensors(m, {ParseAll(a), ParseAll(b)});
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  EXPECT_EQ(plan->weights.total_bytes, full.data_bytes());
  EXPECT_EQ(plan->checkpoint.bytes, full.data_bytes() + 64u * 64u * 2u + 32u * 4u);
  EXPECT_EQ(plan->unmatched_tensors, 2u);
  EXPECT_EQ(plan->unmatched_bytes, 64u * 64u * 2u + 32u * 4u);
  ASSERT_EQ(plan->warnings.size(), 1u);
  EXPECT_NE(plan->warnings[0].find("have no place in the model"), std::string::npos)
      << plan->warnings[0];
}

TEST(SafetensorsPlanTest, MissingTensorsAreCountedAndNamed) {
  const ModelDescription m = test::FixtureModel("qwen2");
  SafetensorsWriter w = test::HfCheckpoint(m, Storage::kDense);
  const SafetensorsHeader h = ParseAll(w);
  SafetensorsWriter partial;
  for (const SafetensorsTensor& t : h.tensors) {
    if (t.name.find(".bias") == std::string::npos) partial.Add(t.name, t.dtype, t.shape);
  }
  Result<SafetensorsPlan> plan = PlanWeightsFromSafetensors(m, {ParseAll(partial)});
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->missing_tensors, 6u);  // q, k, v biases of 2 layers
  ASSERT_EQ(plan->warnings.size(), 1u);
  EXPECT_NE(plan->warnings[0].find("'blk.0.attn_q.bias'"), std::string::npos) << plan->warnings[0];
}

}  // namespace
}  // namespace vram
