// GGUF headers: every metadata type, tensor infos and their exact bytes, incremental reading,
// split files, hostile and truncated files, and GGUF -> ModelDescription for every fixture.
// Files are made by tests/gguf_writer.h; nothing is downloaded.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <random>

#include "fixture_util.h"
#include "gguf_writer.h"

namespace vram {
namespace {

using test::GgufWriter;

int32_t Type(const char* name) { return static_cast<int32_t>(FindGgmlTypeByName(name)->type); }

GgufHeader ParseAll(const std::string& bytes, uint64_t file_size = 0) {
  Result<GgufParse> p = ParseGgufHeader(bytes, file_size);
  EXPECT_TRUE(p.ok()) << p.status().message();
  if (!p.ok()) return {};
  EXPECT_TRUE(p->complete) << "needs " << p->bytes_needed;
  return p->header;
}

Status ParseError(const std::string& bytes, uint64_t file_size = 0) {
  Result<GgufParse> p = ParseGgufHeader(bytes, file_size);
  EXPECT_FALSE(p.ok()) << "parsed a malformed header";
  return p.ok() ? Status() : p.status();
}

const GgufValue& Get(const GgufHeader& h, const char* key) {
  static const GgufValue kNone;
  const GgufValue* v = h.Find(key);
  EXPECT_NE(v, nullptr) << key;
  return v != nullptr ? *v : kNone;
}

GgufWriter EveryTypeWriter(uint32_t version) {
  GgufWriter w(version);
  w.Str("general.architecture", "llama");
  w.U8("test.u8", 250);
  w.I8("test.i8", -7);
  w.U16("test.u16", 65535);
  w.I16("test.i16", -32768);
  w.U32("test.u32", 4000000000u);
  w.I32("test.i32", -2000000000);
  w.U64("test.u64", 18446744073709551615ull);
  w.I64("test.i64", -9223372036854775807ll - 1);
  w.F32("test.f32", 0.1f);
  w.F64("test.f64", -2.5e-300);
  w.Bool("test.bool", true);
  w.Str("test.string", "h\xc3\xa9llo");
  w.Str("test.empty", "");
  w.Array("test.array.u8", GgufType::kUint8, {0, 1, 255});
  w.Array("test.array.bool", GgufType::kBool, {1, 0});
  w.ArrayI32("test.array.i32", {-1, 2, -3});
  w.Array("test.array.u64", GgufType::kUint64, {0, 18446744073709551615ull});
  w.ArrayF32("test.array.f32", {1.5f, -0.25f});
  w.Array("test.array.f64", GgufType::kFloat64, {0x3ff0000000000000ull});  // 1.0
  w.ArrayStr("test.array.string", {"a", "", "ccc"});
  w.ArrayOfArraysU16("test.array.nested", {{1, 2}, {}, {65535}});
  w.Array("test.array.empty", GgufType::kInt16, {});
  return w;
}

TEST(GgufHeaderTest, EveryMetadataTypeInVersions2And3) {
  for (uint32_t version : {2u, 3u}) {
    const GgufHeader h = ParseAll(EveryTypeWriter(version).Header());
    EXPECT_EQ(h.version, version);
    ASSERT_EQ(h.metadata.size(), 23u);  // the architecture, 13 scalars, 9 arrays
    EXPECT_EQ(Get(h, "test.u8").uint_value, 250u);
    EXPECT_EQ(Get(h, "test.u8").type, GgufType::kUint8);
    EXPECT_EQ(Get(h, "test.i8").int_value, -7);
    EXPECT_EQ(Get(h, "test.u16").uint_value, 65535u);
    EXPECT_EQ(Get(h, "test.i16").int_value, -32768);
    EXPECT_EQ(Get(h, "test.u32").uint_value, 4000000000u);
    EXPECT_EQ(Get(h, "test.i32").int_value, -2000000000);
    EXPECT_EQ(Get(h, "test.u64").uint_value, 18446744073709551615ull);
    EXPECT_EQ(Get(h, "test.i64").int_value, std::numeric_limits<int64_t>::min());
    EXPECT_EQ(Get(h, "test.f32").float_value, static_cast<double>(0.1f));  // widened exactly
    EXPECT_EQ(Get(h, "test.f64").float_value, -2.5e-300);
    EXPECT_EQ(Get(h, "test.bool").uint_value, 1u);
    EXPECT_EQ(Get(h, "test.string").string_value, "h\xc3\xa9llo");
    EXPECT_EQ(Get(h, "test.empty").string_value, "");
    const GgufValue& u8 = Get(h, "test.array.u8");
    EXPECT_EQ(u8.type, GgufType::kArray);
    EXPECT_EQ(u8.element_type, GgufType::kUint8);
    ASSERT_EQ(u8.length, 3u);
    ASSERT_EQ(u8.elements.size(), 3u);
    EXPECT_EQ(u8.elements[2].uint_value, 255u);
    EXPECT_EQ(Get(h, "test.array.bool").elements[0].uint_value, 1u);
    EXPECT_EQ(Get(h, "test.array.i32").elements[2].int_value, -3);
    EXPECT_EQ(Get(h, "test.array.u64").elements[1].uint_value, 18446744073709551615ull);
    EXPECT_EQ(Get(h, "test.array.f32").elements[1].float_value, -0.25);
    EXPECT_EQ(Get(h, "test.array.f64").elements[0].float_value, 1.0);
    const GgufValue& strings = Get(h, "test.array.string");
    ASSERT_EQ(strings.elements.size(), 3u);
    EXPECT_EQ(strings.elements[1].string_value, "");
    EXPECT_EQ(strings.elements[2].string_value, "ccc");
    const GgufValue& nested = Get(h, "test.array.nested");
    EXPECT_EQ(nested.element_type, GgufType::kArray);
    ASSERT_EQ(nested.elements.size(), 3u);
    EXPECT_EQ(nested.elements[0].element_type, GgufType::kUint16);
    EXPECT_EQ(nested.elements[0].elements[1].uint_value, 2u);
    EXPECT_EQ(nested.elements[1].length, 0u);
    EXPECT_EQ(nested.elements[2].elements[0].uint_value, 65535u);
    EXPECT_EQ(Get(h, "test.array.empty").length, 0u);
    EXPECT_TRUE(h.tensors.empty());
  }
}

TEST(GgufHeaderTest, TensorInfosAndExactBytes) {
  GgufWriter w;
  w.Str("general.architecture", "llama");
  w.Tensor("token_embd.weight", {256, 512}, Type("Q4_K"));
  w.Tensor("blk.0.attn_q.weight", {256, 256}, Type("Q8_0"));
  w.Tensor("blk.0.ffn_gate_exps.weight", {256, 128, 4}, Type("IQ2_XXS"));
  w.Tensor("output_norm.weight", {256}, Type("F32"));
  w.Tensor("blk.0.ffn_down_exps.weight", {64, 2}, Type("MXFP4"));
  w.Tensor("rope_freqs.weight", {3, 5}, Type("BF16"));
  const std::string header = w.Header();
  const GgufHeader h = ParseAll(header);
  ASSERT_EQ(h.tensors.size(), 6u);
  // Q4_K: 144 bytes per 256 values; 512 rows of 256.
  EXPECT_EQ(h.tensors[0].bytes, 512u * 144u);
  // Q8_0: 34 bytes per 32 values; 256 rows of 8 blocks.
  EXPECT_EQ(h.tensors[1].bytes, 256u * 8u * 34u);
  // IQ2_XXS: 66 bytes per 256 values; 128 x 4 rows of one block.
  EXPECT_EQ(h.tensors[2].bytes, 512u * 66u);
  EXPECT_EQ(h.tensors[3].bytes, 1024u);
  // MXFP4: 17 bytes per 32 values; 2 rows of 2 blocks.
  EXPECT_EQ(h.tensors[4].bytes, 68u);
  EXPECT_EQ(h.tensors[5].bytes, 30u);
  EXPECT_EQ(h.tensors[2].n_dims, 3u);
  EXPECT_EQ(h.tensors[2].ne[2], 4u);
  EXPECT_EQ(h.tensors[2].ggml_type, 16);
  // Offsets: each tensor padded to 32 bytes (73728, 69632, 33792, 1024 are multiples; 68 -> 96).
  EXPECT_EQ(h.tensors[1].offset, 73728u);
  EXPECT_EQ(h.tensors[2].offset, 73728u + 69632u);
  EXPECT_EQ(h.tensors[4].offset, 73728u + 69632u + 33792u + 1024u);
  EXPECT_EQ(h.tensors[5].offset, 73728u + 69632u + 33792u + 1024u + 96u);
  EXPECT_EQ(h.tensor_bytes, 73728u + 69632u + 33792u + 1024u + 68u + 30u);
  EXPECT_EQ(h.data_bytes, 73728u + 69632u + 33792u + 1024u + 96u + 32u);
  EXPECT_EQ(h.header_bytes, header.size());
  EXPECT_EQ(h.data_offset % 32, 0u);
  EXPECT_EQ(h.data_end, h.data_offset + h.tensors[5].offset + 30u);
  EXPECT_EQ(h.data_end, w.FileSize());
}

TEST(GgufHeaderTest, AlignmentFromTheHeader) {
  GgufWriter w;
  w.Alignment(64);
  w.Tensor("a.weight", {32}, Type("F32"));
  w.Tensor("b.weight", {32}, Type("F32"));
  const GgufHeader h = ParseAll(w.Header());
  EXPECT_EQ(h.alignment, 64u);
  EXPECT_EQ(h.tensors[1].offset, 128u);  // 128 bytes, already a multiple of 64
  EXPECT_EQ(h.data_offset % 64, 0u);
}

TEST(GgufHeaderTest, IncrementalReadingAsksForExactlyWhatItNeeds) {
  GgufWriter w = EveryTypeWriter(3);
  w.Tensor("token_embd.weight", {256, 512}, Type("Q4_K"));
  const std::string full = w.Header();
  // Feed the parser exactly what it asks for, from 1 byte: it must converge on the full header.
  uint64_t have = 1;
  int rounds = 0;
  for (;;) {
    Result<GgufParse> p = ParseGgufHeader(std::string_view(full).substr(0, have));
    ASSERT_TRUE(p.ok()) << p.status().message();
    if (p->complete) break;
    ASSERT_GT(p->bytes_needed, have);
    ASSERT_LE(p->bytes_needed, full.size());
    have = p->bytes_needed;
    ASSERT_LT(++rounds, 200);
  }
  EXPECT_EQ(have, full.size());
  EXPECT_GT(rounds, 20);  // one per item: the parser asks for the least it can
  // A longer prefix (tensor data after the header) is fine.
  const GgufHeader h = ParseAll(full + std::string(1000, '\0'));
  EXPECT_EQ(h.header_bytes, full.size());
  // The first answer for an empty prefix: the magic and version.
  EXPECT_EQ(ParseGgufHeader("")->bytes_needed, 4u);
  EXPECT_EQ(ParseGgufHeader("GGUF")->bytes_needed, 8u);
}

TEST(GgufHeaderTest, TruncatedFilesAreReportedWhenTheSizeIsKnown) {
  GgufWriter w;
  w.Str("general.architecture", "llama");
  w.Tensor("token_embd.weight", {256, 512}, Type("Q4_K"));
  const std::string header = w.Header();
  // The header cut short in a file of that size.
  Status s = ParseError(header.substr(0, 40), 40);
  EXPECT_EQ(s.code(), ErrorCode::kParseError);
  EXPECT_NE(s.message().find("truncated"), std::string::npos) << s.message();
  // The whole header, but the tensor data is missing.
  s = ParseError(header, header.size() + 100);
  EXPECT_NE(s.message().find("tensor data ends at byte"), std::string::npos) << s.message();
  // Exactly the declared size is fine.
  ParseAll(header, w.FileSize());
}

std::string Le64(uint64_t v) {
  std::string s;
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return s;
}
std::string Le32(uint32_t v) { return Le64(v).substr(0, 4); }

TEST(GgufHeaderTest, MalformedHeadersGetTheRightError) {
  struct Case {
    std::string bytes;
    ErrorCode code;
    const char* message_part;
  };
  std::vector<Case> cases;
  cases.push_back({"GGML" + Le32(3) + Le64(0) + Le64(0), ErrorCode::kParseError,
                   "does not start with the bytes 'GGUF'"});
  cases.push_back({"GGUF" + Le32(1) + Le64(0) + Le64(0), ErrorCode::kUnsupported, "version 1"});
  cases.push_back({"GGUF" + std::string("\0\0\0\3", 4) + Le64(0) + Le64(0), ErrorCode::kUnsupported,
                   "big-endian"});
  cases.push_back(
      {"GGUF" + Le32(7) + Le64(0) + Le64(0), ErrorCode::kParseError, "unknown version 7"});
  {
    GgufWriter w;
    w.RawMetadata(Le64(3) + "a.b" + Le32(13) + Le32(0), 1);
    cases.push_back({w.Header(), ErrorCode::kParseError, "unknown value type 13"});
  }
  {
    GgufWriter w;
    w.RawMetadata(Le64(3) + "a.b" + Le32(7) + std::string("\2", 1), 1);
    cases.push_back({w.Header(), ErrorCode::kParseError, "BOOL value 2 is neither 0 nor 1"});
  }
  {
    GgufWriter w;
    w.RawMetadata(Le64(0) + Le32(4) + Le32(1), 1);
    cases.push_back({w.Header(), ErrorCode::kParseError, "is empty"});
  }
  {
    GgufWriter w;
    w.U32("a.b", 1);
    w.U32("a.b", 2);
    cases.push_back({w.Header(), ErrorCode::kParseError, "duplicate metadata key 'a.b'"});
  }
  {
    GgufWriter w;
    w.RawMetadata(Le64(3) + "a.b" + Le32(9) + Le32(14) + Le64(0), 1);
    cases.push_back({w.Header(), ErrorCode::kParseError, "unknown array element type 14"});
  }
  {
    GgufWriter w;
    w.U32("general.alignment", 24);
    cases.push_back(
        {w.Header(), ErrorCode::kParseError, "general.alignment 24 is not a power of two"});
  }
  {
    GgufWriter w;
    w.U64("general.alignment", 32);
    cases.push_back({w.Header(), ErrorCode::kParseError, "'general.alignment' must be a UINT32"});
  }
  {
    GgufWriter w;
    w.Tensor("x.weight", {32}, 4);  // Q4_2, removed from ggml
    cases.push_back({w.Header(), ErrorCode::kParseError, "unknown ggml type 4"});
  }
  {
    GgufWriter w;
    w.Tensor("x.weight", {100, 2}, Type("Q4_K"));
    cases.push_back({w.Header(), ErrorCode::kParseError,
                     "rows of 100 values, not a multiple of the block of 256"});
  }
  {
    GgufWriter w;
    w.Tensor("x.weight", {32}, Type("F32"));
    w.Tensor("x.weight", {32}, Type("F32"));
    cases.push_back({w.Header(), ErrorCode::kParseError, "duplicate tensor name 'x.weight'"});
  }
  {
    // Second tensor's offset points back at the first one.
    GgufWriter w;
    w.Tensor("a.weight", {32}, Type("F32"));
    std::string h = w.Header();
    const std::string second = Le64(8) + "b.weight" + Le32(1) + Le64(32) + Le32(0) + Le64(0);
    h += second;
    h.replace(8, 8, Le64(2));
    cases.push_back({h, ErrorCode::kParseError, "has data offset 0, expected 128"});
  }
  for (const Case& c : cases) {
    Result<GgufParse> p = ParseGgufHeader(c.bytes, c.bytes.size());
    ASSERT_FALSE(p.ok()) << c.message_part;
    EXPECT_EQ(p.status().code(), c.code) << p.status().message();
    EXPECT_NE(p.status().message().find(c.message_part), std::string::npos)
        << "want '" << c.message_part << "' in: " << p.status().message();
  }
}

TEST(GgufHeaderTest, HostileLengthsHitNamedLimitsWithoutAllocating) {
  struct Case {
    std::string bytes;
    const char* message_part;
  };
  std::vector<Case> cases;
  const std::string head = "GGUF" + Le32(3);
  cases.push_back(
      {head + Le64(GgufLimits::kMaxTensors + 1) + Le64(0), "tensors; the limit is 65536"});
  cases.push_back({head + Le64(0) + Le64(uint64_t{1} << 62), "metadata keys; the limit is 65536"});
  // A key of 2^40 bytes, a string value of 2^40 bytes, an array of 2^40 elements.
  cases.push_back({head + Le64(0) + Le64(1) + Le64(uint64_t{1} << 40), "the limit is 65535"});
  cases.push_back({head + Le64(0) + Le64(1) + Le64(1) + "k" + Le32(8) + Le64(uint64_t{1} << 40),
                   "the limit is 16777216"});
  cases.push_back(
      {head + Le64(0) + Le64(1) + Le64(1) + "k" + Le32(9) + Le32(0) + Le64(uint64_t{1} << 40),
       "elements; the limit is 16777216"});
  // Arrays nested five deep.
  {
    std::string v = Le64(0) + Le64(1) + Le64(1) + "k" + Le32(9);
    for (int i = 0; i < 5; ++i) v += Le32(9) + Le64(1);
    cases.push_back({head + v, "nests arrays deeper than the limit of 4"});
  }
  // An array whose elements would take 128 MiB: more header than the 64 MiB limit.
  cases.push_back(
      {head + Le64(0) + Le64(1) + Le64(1) + "k" + Le32(9) + Le32(10) + Le64(uint64_t{1} << 24),
       "the header is longer than the limit of 67108864 bytes"});
  // Tensor infos: a long name, five dimensions, and dimensions whose product overflows.
  cases.push_back({head + Le64(1) + Le64(0) + Le64(64) + std::string(64, 'x'), "the limit is 63"});
  cases.push_back(
      {head + Le64(1) + Le64(0) + Le64(1) + "x" + Le32(5), "5 dimensions; the limit is 4"});
  cases.push_back({head + Le64(1) + Le64(0) + Le64(1) + "x" + Le32(3) + Le64(uint64_t{1} << 40) +
                       Le64(uint64_t{1} << 40) + Le64(0) + Le32(0) + Le64(0),
                   "elements (the limit)"});
  cases.push_back({head + Le64(1) + Le64(0) + Le64(1) + "x" + Le32(1) + Le64(~uint64_t{0}),
                   "the limit on a dimension"});
  for (const Case& c : cases) {
    // No file size: the parser must refuse on the declared length alone, not ask for the bytes.
    Result<GgufParse> p = ParseGgufHeader(c.bytes);
    ASSERT_FALSE(p.ok()) << c.message_part << " (asked for " << (p.ok() ? p->bytes_needed : 0)
                         << " bytes)";
    EXPECT_EQ(p.status().code(), ErrorCode::kLimitExceeded) << p.status().message();
    EXPECT_NE(p.status().message().find(c.message_part), std::string::npos)
        << "want '" << c.message_part << "' in: " << p.status().message();
  }
}

TEST(GgufHeaderTest, LongArraysAreCountedButOnlyTheirHeadIsKept) {
  GgufWriter w;
  std::vector<std::string> tokens(10000, "t");
  w.ArrayStr("tokenizer.ggml.tokens", tokens);
  const GgufHeader h = ParseAll(w.Header());
  const GgufValue& v = Get(h, "tokenizer.ggml.tokens");
  EXPECT_EQ(v.length, 10000u);
  EXPECT_EQ(v.elements.size(), GgufLimits::kMaxStoredArrayValues);
}

TEST(GgufHeaderTest, RandomCorruptionNeverCrashes) {
  // Every single-byte corruption and every truncation of a real header parses or fails cleanly
  // (the fuzzer explores further; this runs in every build, including ASan).
  const ModelDescription m = test::FixtureModel("qwen2_moe");
  const WeightPlan plan = test::Plan(m, "q4_k_m");
  const std::string header = test::ModelToGguf(m, plan).Header();
  std::mt19937 rng(7);
  for (size_t cut = 0; cut < header.size(); cut += 7) {
    Result<GgufParse> p = ParseGgufHeader(std::string_view(header).substr(0, cut), cut);
    EXPECT_FALSE(p.ok() && p->complete);
  }
  for (int i = 0; i < 3000; ++i) {
    std::string bad = header;
    bad[rng() % bad.size()] = static_cast<char>(rng());
    Result<GgufParse> p = ParseGgufHeader(bad);
    if (p.ok() && p->complete) (void)ModelFromGguf({p->header});
  }
}

// --- GGUF -> ModelDescription ---------------------------------------------------------------

struct RoundTrip {
  const char* type;
  const char* mix;
};

// One llama.cpp mix per fixture, so that the files hold most ggml types between them.
constexpr RoundTrip kRoundTrips[] = {
    {"llama", "q4_k_m"},   {"mistral", "q8_0"},      {"mixtral", "q3_k_m"},
    {"qwen2", "q5_k_m"},   {"qwen2_moe", "q4_0"},    {"qwen3", "iq4_xs"},
    {"qwen3_moe", "q2_k"}, {"gemma", "q6_k"},        {"gemma2", "q5_0"},
    {"gemma3", "iq3_s"},   {"gemma3_text", "q4_1"},  {"phi", "gguf-f16"},
    {"phi3", "iq2_xs"},    {"gpt2", "gguf-f32"},     {"gpt_neox", "gguf-bf16"},
    {"falcon", "q5_1"},    {"deepseek_v3", "iq1_m"}, {"gpt_oss", "mxfp4_moe"},
};

Result<GgufModel> FromWriter(const GgufWriter& w) {
  Result<GgufParse> p = ParseGgufHeader(w.Header(), w.FileSize());
  if (!p.ok()) return p.status();
  EXPECT_TRUE(p->complete);
  return ModelFromGguf({p->header});
}

TEST(GgufModelTest, EveryFixtureBecomesTheSameModelWithTheFilesBytes) {
  for (const RoundTrip& rt : kRoundTrips) {
    SCOPED_TRACE(std::string(rt.type) + " " + rt.mix);
    const ModelDescription want = test::FixtureModel(rt.type);
    const WeightPlan plan = test::Plan(want, rt.mix);
    Result<GgufModel> got = FromWriter(test::ModelToGguf(want, plan));
    ASSERT_TRUE(got.ok()) << got.status().message();
    test::ExpectSameModel(want, got->model, rt.type);
    EXPECT_TRUE(got->model.warnings.empty()) << got->model.warnings[0];
    // GGUF calls Mistral and Mixtral "llama" (the latter with experts).
    const std::string arch = want.architecture == "mistral" ? "llama" : want.architecture;
    EXPECT_EQ(got->model.architecture, arch);
    // The stored plan: the same bytes, tensor by tensor, as the mix rules give.
    const WeightPlan& stored = got->weights;
    EXPECT_EQ(stored.format.id, "gguf-file");
    ASSERT_EQ(stored.tensors.size(), plan.tensors.size());
    for (size_t i = 0; i < plan.tensors.size(); ++i) {
      EXPECT_EQ(stored.tensors[i].type, plan.tensors[i].type) << want.tensors[i].name;
      EXPECT_EQ(stored.tensors[i].bytes, plan.tensors[i].bytes) << want.tensors[i].name;
    }
    EXPECT_EQ(stored.total_bytes, plan.total_bytes);
    EXPECT_EQ(stored.cuda_device_bytes, plan.cuda_device_bytes);
    EXPECT_EQ(stored.bytes_read_per_token, plan.bytes_read_per_token);
    EXPECT_EQ(stored.routed_expert_bytes, plan.routed_expert_bytes);
    EXPECT_EQ(stored.bytes_by_type, plan.bytes_by_type);
    // EstimateInference works unchanged on it, with the same answer as from the config.
    InferenceRequest r;
    r.runtime = Runtime::kLlamaCpp;
    r.context_tokens = 8192;
    Result<InferenceEstimate> a = EstimateInference(want, plan, r);
    Result<InferenceEstimate> b = EstimateInference(got->model, stored, r);
    ASSERT_TRUE(a.ok() && b.ok()) << (a.ok() ? b.status().message() : a.status().message());
    EXPECT_EQ(b->total_bytes, a->total_bytes);
    EXPECT_EQ(b->kv_cache_bytes, a->kv_cache_bytes);
  }
}

TEST(GgufModelTest, SlidingWindowPatternsFollowLlamaCpp) {
  // gemma2 and gpt-oss: set_swa_pattern(2), even layers slide; gemma3: set_swa_pattern(6).
  struct Case {
    const char* type;
    std::vector<int> sliding;
  };
  const Case cases[] = {{"gemma2", {1, 0, 1, 0}},
                        {"gpt_oss", {1, 0}},
                        {"gemma3", {1, 1, 1, 1, 1, 0}},
                        {"gemma3_text", {1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 0}}};
  for (const Case& c : cases) {
    const ModelDescription m = test::FixtureModel(c.type);
    Result<GgufModel> g = FromWriter(test::ModelToGguf(m, test::Plan(m, "q8_0")));
    ASSERT_TRUE(g.ok()) << g.status().message();
    ASSERT_EQ(g->model.attention.layers.size(), c.sliding.size());
    for (size_t i = 0; i < c.sliding.size(); ++i) {
      EXPECT_EQ(g->model.attention.layers[i].kind == AttentionKind::kSlidingWindow,
                c.sliding[i] == 1)
          << c.type << " layer " << i;
    }
  }
}

TEST(GgufModelTest, PerLayerKvHeadsAndLegacyMlaKeys) {
  const ModelDescription llama = test::FixtureModel("llama");
  test::ModelGgufOptions per_layer;
  per_layer.per_layer_kv_heads = true;
  Result<GgufModel> a =
      FromWriter(test::ModelToGguf(llama, test::Plan(llama, "q4_k_m"), per_layer));
  ASSERT_TRUE(a.ok()) << a.status().message();
  test::ExpectSameModel(llama, a->model, "per-layer head_count_kv");

  const ModelDescription ds = test::FixtureModel("deepseek_v3");
  test::ModelGgufOptions legacy;
  legacy.legacy_mla = true;
  Result<GgufModel> b = FromWriter(test::ModelToGguf(ds, test::Plan(ds, "q8_0"), legacy));
  ASSERT_TRUE(b.ok()) << b.status().message();
  test::ExpectSameModel(ds, b->model, "key_length/value_length before PR 12801");
}

TEST(GgufModelTest, AlignmentAndVersion2DoNotChangeTheModel) {
  const ModelDescription m = test::FixtureModel("qwen3_moe");
  const WeightPlan plan = test::Plan(m, "q4_k_m");
  test::ModelGgufOptions o;
  o.version = 2;
  o.alignment = 256;
  Result<GgufModel> g = FromWriter(test::ModelToGguf(m, plan, o));
  ASSERT_TRUE(g.ok()) << g.status().message();
  test::ExpectSameModel(m, g->model, "v2, alignment 256");
  EXPECT_EQ(g->weights.total_bytes, plan.total_bytes);
}

std::vector<GgufHeader> SplitModel(const ModelDescription& m, const WeightPlan& plan, int parts) {
  std::vector<GgufHeader> out;
  for (const GgufWriter& w : test::SplitGguf(m, plan, parts))
    out.push_back(ParseAll(w.Header(), w.FileSize()));
  return out;
}

TEST(GgufModelTest, SplitFilesMakeOneModel) {
  const ModelDescription m = test::FixtureModel("mixtral");
  const WeightPlan plan = test::Plan(m, "q4_k_m");
  std::vector<GgufHeader> parts = SplitModel(m, plan, 3);
  std::reverse(parts.begin(), parts.end());  // any order
  Result<GgufModel> g = ModelFromGguf(parts);
  ASSERT_TRUE(g.ok()) << g.status().message();
  test::ExpectSameModel(m, g->model, "3 parts");
  EXPECT_EQ(g->weights.total_bytes, plan.total_bytes);
  uint64_t file_bytes = 0;
  for (const GgufHeader& h : parts) file_bytes += h.data_end;
  EXPECT_EQ(g->file_bytes, file_bytes);

  Result<GgufModel> missing = ModelFromGguf({parts[0], parts[2]});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("split into 3 files but 2 were given"),
            std::string::npos)
      << missing.status().message();
  Result<GgufModel> twice = ModelFromGguf({parts[0], parts[0], parts[2]});
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.status().message().find("do not fit together"), std::string::npos)
      << twice.status().message();
}

TEST(GgufModelTest, SplitPathsFollowLlamaCppNaming) {
  EXPECT_EQ(GgufSplitPaths("/m/Model-Q4_K_M-00002-of-00003.gguf"),
            (std::vector<std::string>{"/m/Model-Q4_K_M-00001-of-00003.gguf",
                                      "/m/Model-Q4_K_M-00002-of-00003.gguf",
                                      "/m/Model-Q4_K_M-00003-of-00003.gguf"}));
  EXPECT_EQ(GgufSplitPaths("model.gguf"), std::vector<std::string>{"model.gguf"});
  EXPECT_EQ(GgufSplitPaths("x-0001-of-0003.gguf"), std::vector<std::string>{"x-0001-of-0003.gguf"});
}

TEST(GgufModelTest, UnknownArchitecturesAndTensorsAreBestEffortWithWarnings) {
  GgufWriter w;
  w.Str("general.architecture", "newarch");
  w.U32("newarch.block_count", 1);
  w.U32("newarch.embedding_length", 64);
  w.U32("newarch.attention.head_count", 4);
  w.Tensor("token_embd.weight", {64, 100}, Type("Q8_0"));
  w.Tensor("blk.0.attn_q.weight", {64, 64}, Type("Q8_0"));
  w.Tensor("blk.0.mystery.weight", {64, 64}, Type("F16"));
  w.Tensor("output_norm.weight", {64}, Type("F32"));
  Result<GgufModel> g = FromWriter(w);
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_EQ(g->model.architecture, "newarch");
  EXPECT_TRUE(g->model.tied_embeddings);
  EXPECT_EQ(g->model.vocab_size, 100);
  EXPECT_EQ(g->model.attention.key_head_dim, 16);  // 64 / 4 heads
  EXPECT_EQ(g->model.tensors[2].role, TensorRole::kOther);
  ASSERT_EQ(g->model.warnings.size(), 2u);
  EXPECT_NE(g->model.warnings[0].find("not one the calculator knows"), std::string::npos);
  EXPECT_NE(g->model.warnings[1].find("'blk.0.mystery.weight'"), std::string::npos);
  // 100 rows x 2 blocks x 34 + 64 x 2 x 34 + 64 x 64 x 2 + 256.
  EXPECT_EQ(g->weights.total_bytes, 6800u + 4352u + 8192u + 256u);
}

TEST(GgufModelTest, MultiTokenPredictionLayersAreLeftOut) {
  const ModelDescription m = test::FixtureModel("llama");
  const WeightPlan plan = test::Plan(m, "q8_0");
  GgufWriter w = test::ModelToGguf(m, plan);
  // A third block that only the MTP head uses (llama.cpp: nextn_predict_layers, TENSOR_SKIP).
  GgufWriter mtp;
  mtp.U32("llama.nextn_predict_layers", 1);
  const GgufHeader base = ParseAll(w.Header());
  for (const GgufKeyValue& kv : base.metadata) {
    if (kv.key == "llama.block_count") {
      mtp.U32(kv.key, 3);
    } else if (kv.value.type == GgufType::kUint32) {
      mtp.U32(kv.key, static_cast<uint32_t>(kv.value.uint_value));
    } else if (kv.value.type == GgufType::kString) {
      mtp.Str(kv.key, kv.value.string_value);
    }
  }
  for (const GgufTensor& t : base.tensors)
    mtp.Tensor(t.name, std::vector<uint64_t>(t.ne, t.ne + t.n_dims), t.ggml_type);
  mtp.Tensor("blk.2.nextn.eh_proj.weight", {512, 256}, Type("Q8_0"));
  Result<GgufModel> g = FromWriter(mtp);
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_EQ(g->model.attention.num_layers, 2);
  EXPECT_EQ(g->skipped_bytes, 256u * 16u * 34u);
  EXPECT_EQ(g->weights.total_bytes, plan.total_bytes);
  ASSERT_EQ(g->model.warnings.size(), 1u);
  EXPECT_NE(g->model.warnings[0].find("multi-token-prediction"), std::string::npos);
}

TEST(GgufModelTest, BadModelHeadersGetClearErrors) {
  struct Case {
    std::function<void(GgufWriter*)> build;
    const char* message_part;
  };
  auto base = [](GgufWriter* w, int layers) {
    w->Str("general.architecture", "llama");
    w->U32("llama.block_count", static_cast<uint32_t>(layers));
    w->U32("llama.embedding_length", 64);
    w->U32("llama.attention.head_count", 4);
  };
  const Case cases[] = {
      {[](GgufWriter* w) { w->U32("llama.block_count", 1); },
       "'general.architecture' (a STRING) is missing"},
      {[&](GgufWriter* w) { base(w, 1); }, "no token_embd.weight tensor"},
      {[&](GgufWriter* w) {
         w->Str("general.architecture", "llama");
         w->U32("llama.block_count", 5000);
       },
       "'llama.block_count' must be an integer in [1, 4096], got 5000"},
      {[&](GgufWriter* w) {
         w->Str("general.architecture", "llama");
         w->Str("llama.block_count", "two");
       },
       "'llama.block_count' must be an integer in [1, 4096], got a STRING"},
      {[&](GgufWriter* w) {
         base(w, 1);
         w->Tensor("token_embd.weight", {64, 10}, 0);
         w->Tensor("blk.1.attn_q.weight", {64, 64}, 0);
       },
       "belongs to layer 1 but block_count is 1"},
      {[&](GgufWriter* w) {
         base(w, 1);
         w->ArrayU32("llama.attention.head_count_kv", {1, 1});
         w->Tensor("token_embd.weight", {64, 10}, 0);
       },
       "must hold one value per layer (1), it has 2"},
      {[&](GgufWriter* w) {
         base(w, 1);
         w->Tensor("token_embd.weight", {64, 10}, 0);
         w->Tensor("blk.0.ffn_down_exps.weight", {32, 64, 4}, 0);
       },
       "'llama.expert_used_count' must be an integer in [1, 4]"},
      {[&](GgufWriter* w) {
         base(w, 1);
         w->Tensor("token_embd.weight", {32, 10}, 0);
       },
       "token_embd.weight must have the shape [64, vocab]"},
  };
  for (const Case& c : cases) {
    GgufWriter w;
    c.build(&w);
    Result<GgufModel> g = FromWriter(w);
    ASSERT_FALSE(g.ok()) << c.message_part;
    EXPECT_NE(g.status().message().find(c.message_part), std::string::npos)
        << "want '" << c.message_part << "' in: " << g.status().message();
  }
}

TEST(GgufModelTest, TheMostTensorsTheLimitAllowsStayLinear) {
  // 65,536 tensors, all in one layer and all named ffn_up: the per-layer lookups must not
  // multiply (this finishes in milliseconds; quadratic work would take minutes).
  GgufWriter w;
  w.Str("general.architecture", "llama");
  w.U32("llama.block_count", 1);
  w.U32("llama.embedding_length", 32);
  w.U32("llama.attention.head_count", 1);
  w.Tensor("token_embd.weight", {32, 4}, Type("F32"));
  for (uint64_t i = 1; i < GgufLimits::kMaxTensors; ++i)
    w.Tensor("blk.0.ffn_up.t" + std::to_string(i), {32}, Type("F32"));
  Result<GgufModel> g = FromWriter(w);
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_EQ(g->model.tensors.size(), GgufLimits::kMaxTensors);
  EXPECT_EQ(g->weights.total_bytes, 4u * 32u * 4u + (GgufLimits::kMaxTensors - 1) * 32u * 4u);
  w.Tensor("one.too.many", {32}, Type("F32"));
  Result<GgufParse> p = ParseGgufHeader(w.Header());
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), ErrorCode::kLimitExceeded);
}

TEST(GgufModelTest, PublishedQwen25Q4KMSizeFromItsHeader) {
  // llama-bench reports Qwen2.5-7B Q4_K_M as 4,677,120,000 bytes (tests/reference/gguf_sizes.json);
  // a header with the tensor types of that mix sizes to exactly that.
  const ModelDescription m = test::PresetModel("qwen2.5-7b");
  Result<GgufModel> g = FromWriter(test::ModelToGguf(m, test::Plan(m, "q4_k_m")));
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_EQ(g->weights.total_bytes, 4677120000u);
  EXPECT_EQ(CountParameters(g->model).total, CountParameters(m).total);
}

}  // namespace
}  // namespace vram
