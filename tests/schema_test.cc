// The request schema: one declaration per field, and the JSON request and the CLI's flags accept
// exactly the same values (issue 12: they disagreed on max_num_batched_tokens and pp_microbatches).

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_util.h"
#include "vram/vram.h"

namespace vram {
namespace {

using Json = nlohmann::json;

std::string ModeFor(const RequestFieldInfo& f) {
  switch (f.scope) {
    case FieldScope::kInference:
      return "inference";
    case FieldScope::kTraining:
      return "train";
    case FieldScope::kAdapter:
      return "lora";
    case FieldScope::kAll:
      return "inference";
  }
  return "inference";
}

/// Whether the JSON request accepts `value` for the field.
bool JsonAccepts(const RequestFieldInfo& f, const Json& value) {
  Json request = {{"mode", ModeFor(f)}};
  if (std::string(f.key) == "mode") request.erase("mode");
  request[f.key] = value;
  return ParseCalculatorRequest(request.dump(), nullptr).ok();
}

/// Whether the CLI's text form is accepted.
bool TextAccepts(const RequestFieldInfo& f, const std::string& text) {
  CalculatorRequest r;
  r.mode = ModeFor(f);
  return SetRequestFieldFromText(f, text, &r).ok();
}

TEST(RequestSchema, JsonAndFlagsAcceptTheSameRangesAndValues) {
  int checked = 0;
  for (const RequestFieldInfo& f : RequestSchema()) {
    SCOPED_TRACE(f.key);
    if (f.kind == FieldKind::kInteger) {
      const int64_t lo = static_cast<int64_t>(f.min), hi = static_cast<int64_t>(f.max);
      EXPECT_TRUE(JsonAccepts(f, lo) || std::string(f.key) == "device_memory_bytes");
      EXPECT_FALSE(JsonAccepts(f, lo - 1));
      EXPECT_FALSE(JsonAccepts(f, hi + 1));
      if (f.flag_style == FlagStyle::kValue) {
        EXPECT_TRUE(TextAccepts(f, std::to_string(lo)));
        EXPECT_TRUE(TextAccepts(f, std::to_string(hi)));
        EXPECT_FALSE(TextAccepts(f, std::to_string(lo - 1)));
        EXPECT_FALSE(TextAccepts(f, std::to_string(hi + 1)));
        EXPECT_FALSE(TextAccepts(f, "1.5"));
      }
      ++checked;
    } else if (f.kind == FieldKind::kNumber) {
      EXPECT_TRUE(JsonAccepts(f, f.max));
      EXPECT_FALSE(JsonAccepts(f, f.max + 0.5));
      EXPECT_TRUE(TextAccepts(f, std::to_string(f.max)));
      EXPECT_FALSE(TextAccepts(f, std::to_string(f.max + 0.5)));
      EXPECT_EQ(TextAccepts(f, "0"), !f.min_exclusive);
      ++checked;
    } else if (f.kind == FieldKind::kEnum) {
      ASSERT_FALSE(f.values.empty());
      for (const std::string& v : f.values) {
        EXPECT_TRUE(JsonAccepts(f, v)) << v;
        EXPECT_TRUE(TextAccepts(f, v)) << v;
      }
      EXPECT_FALSE(JsonAccepts(f, "no-such-value"));
      EXPECT_FALSE(TextAccepts(f, "no-such-value"));
      ++checked;
    }
  }
  EXPECT_GE(checked, 30);
}

TEST(RequestSchema, DefaultsAreTheRequestStructs) {
  const Json schema = Json::parse(RequestSchemaJson());
  auto default_of = [&](const std::string& key, const std::string& scope) {
    for (const Json& f : schema) {
      if (f["key"] == key && f["scope"] == scope) return f["default"];
    }
    return Json();
  };
  EXPECT_EQ(default_of("context", "inference"), 4096);
  EXPECT_EQ(default_of("ubatch", "inference"), 512);
  EXPECT_EQ(default_of("gpu_memory_utilization", "inference"), 0.92);
  EXPECT_EQ(default_of("attn_impl", "inference"), "sdpa");
  EXPECT_EQ(default_of("attn_impl", "training"), "flash_attention_2");
  EXPECT_EQ(default_of("seq_len", "training"), 2048);
  EXPECT_EQ(default_of("lora_targets", "lora"), "q,v");
  EXPECT_EQ(default_of("max_num_batched_tokens", "inference"), 0);
}

TEST(RequestSchema, TheCliNowAcceptsZeroForTheVllmAndPipelineDefaults) {
  // Before the schema the CLI started these at 1 and the JSON request at 0 (= the default).
  const std::string cli = VRAM_CLI_PATH;
  int status = 0;
  const std::string out = test::Shell(
      cli + " --model llama-3.1-8b --runtime vllm --max-num-batched-tokens 0 --json", &status);
  EXPECT_EQ(status, 0) << out;
  test::Shell(cli + " --model llama-3.1-8b --mode train --pp 2 --pp-microbatches 0 --json",
              &status);
  EXPECT_EQ(status, 0);
}

TEST(Status, NamesItsField) {
  EXPECT_EQ(Status(ErrorCode::kOutOfRange, "request: field 'batch' must be an integer").field(),
            "batch");
  EXPECT_EQ(Status(ErrorCode::kNotFound, "kv-dtype: 'x' is not one of f32").field(), "kv_dtype");
  EXPECT_EQ(Status(ErrorCode::kOutOfRange, "whatever text", "context").field(), "context");
  const Json e =
      Json::parse(ErrorJson(Status(ErrorCode::kOutOfRange, "request: field 'seq_len' must be")));
  EXPECT_EQ(e["error"]["field"], "seq_len");
}

}  // namespace
}  // namespace vram
