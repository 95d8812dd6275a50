// Published GGUF sizes (tests/reference/gguf_sizes.json, each with its source).

#include <cmath>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace vram {
namespace {

using Json = nlohmann::json;

Json Reference() {
  return Json::parse(test::ReadText(std::string(VRAM_GOLDEN_DIR) + "/../reference/gguf_sizes.json"), nullptr, false);
}

TEST(GgufReferenceTest, LlamaCppQuantizeTableToFourDecimals) {
  // Every row of llama.cpp's own size table for Llama-3.1-8B, to the 4 decimals it prints.
  const Json ref = Reference();
  ASSERT_TRUE(ref.contains("quantize_table"));
  const ModelDescription m = test::PresetModel("llama-3.1-8b");
  for (const Json& row : ref["quantize_table"]) {
    const WeightPlan plan = test::Plan(m, row["mix"].get<std::string>());
    const double bpw = plan.total_bytes * 8.0 / 8030261248.0;
    EXPECT_NEAR(bpw, row["bits_per_weight"].get<double>(), 0.00005 + 1e-9) << row["mix"] << " (" << row["source"] << ")";
    EXPECT_NEAR(plan.total_bytes / 1073741824.0, row["size"].get<double>(), 0.005 + 1e-9) << row["mix"];
  }
}

TEST(GgufReferenceTest, LlamaBenchModelSizeIsExact) {
  const Json ref = Reference();
  for (const Json& row : ref["tensor_bytes"]) {
    const WeightPlan plan = test::Plan(test::PresetModel(row["model"]), row["mix"]);
    EXPECT_EQ(plan.total_bytes, row["bytes"].get<uint64_t>()) << row["model"] << " " << row["source"];
  }
}

TEST(GgufReferenceTest, PublishedFilesDifferOnlyByMetadata) {
  // A .gguf file is tensor data plus metadata (tokenizer and tensor infos): under 10 MB here.
  const Json ref = Reference();
  for (const Json& row : ref["files"]) {
    const WeightPlan plan = test::Plan(test::PresetModel(row["model"]), row["mix"]);
    const uint64_t file = row["bytes"].get<uint64_t>();
    EXPECT_LE(plan.total_bytes, file) << row["model"] << " " << row["mix"];
    EXPECT_LT(file - plan.total_bytes, 10000000u) << row["model"] << " " << row["mix"] << ": predicted "
                                                  << plan.total_bytes << ", file " << file;
    EXPECT_LT(std::fabs(1.0 - static_cast<double>(plan.total_bytes) / file), 0.002) << row["model"];
  }
}

}  // namespace
}  // namespace vram
