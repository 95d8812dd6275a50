// Every preset: its inventory's parameter count lies within 1% of the officially stated count.

#include <cmath>
#include <cstdio>

#include <gtest/gtest.h>

#include "test_util.h"

namespace vram {
namespace {

class PresetTest : public ::testing::TestWithParam<std::string> {};

TEST_P(PresetTest, ParameterCountWithinOnePercentOfStated) {
  const ModelPreset* preset = FindPreset(test::Presets(), GetParam());
  ASSERT_NE(preset, nullptr);
  Result<ModelDescription> model = ModelFromHfConfig(preset->config_json);
  ASSERT_TRUE(model.ok()) << preset->id << ": " << model.status().message();
  int64_t computed = CountParameters(*model).total;
  if (preset->stated_counts_tied_head_twice) {
    computed += model->vocab_size * model->hidden_size;  // the stored duplicate of the tied head
  }
  const double gap = static_cast<double>(computed - preset->stated_parameters) /
                     static_cast<double>(preset->stated_parameters);
  EXPECT_LE(std::fabs(gap), 0.01) << preset->id << ": computed " << computed << ", stated "
                                  << preset->stated_parameters << " (" << preset->stated_parameters_source
                                  << "), gap " << gap * 100 << "%";
}

TEST_P(PresetTest, EveryFormatPlansAndEstimatesWithoutNonsense) {
  const ModelDescription model = test::PresetModel(GetParam());
  for (const char* format : {"bf16", "q4_k_m", "nf4-dq", "gptq-4bit-g128"}) {
    Result<WeightFormat> f = ParseWeightFormat(format);
    ASSERT_TRUE(f.ok());
    Result<WeightPlan> plan = PlanWeights(model, *f);
    if (!plan.ok()) {
      // Only a row that no GGUF type or fallback can hold may fail, and it must say so.
      EXPECT_EQ(plan.status().code(), ErrorCode::kUnsupported) << plan.status().message();
      continue;
    }
    EXPECT_GT(plan->total_bytes, 0u);
    EXPECT_LE(plan->bytes_read_per_token, plan->total_bytes);
    InferenceRequest r;
    r.runtime = f->is_gguf() ? Runtime::kLlamaCpp : Runtime::kTransformers;
    Result<InferenceEstimate> e = EstimateInference(model, *plan, r);
    ASSERT_TRUE(e.ok()) << GetParam() << " " << format << ": " << e.status().message();
    uint64_t sum = 0;
    for (const BreakdownItem& item : e->items) sum += item.bytes;
    EXPECT_EQ(sum, e->total_bytes);
  }
}

std::vector<std::string> PresetIds() {
  std::vector<std::string> ids;
  for (const ModelPreset& p : test::Presets()) ids.push_back(p.id);
  return ids;
}

std::string IdName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  for (char& c : name) if (c == '-' || c == '.') c = '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(AllPresets, PresetTest, ::testing::ValuesIn(PresetIds()), IdName);

TEST(PresetsFileTest, HoldsAtLeastSixtyModelsFromHalfToSixHundredBillion) {
  ASSERT_GE(test::Presets().size(), 60u);
  int64_t smallest = INT64_MAX, largest = 0;
  for (const ModelPreset& p : test::Presets()) {
    smallest = std::min(smallest, p.stated_parameters);
    largest = std::max(largest, p.stated_parameters);
  }
  EXPECT_LE(smallest, 500000000);
  EXPECT_GE(largest, 671000000000);
}

TEST(PresetsFileTest, MalformedDataIsRejectedWithTheEntryAndField) {
  struct Case {
    const char* json;
    const char* message_part;
  };
  const Case cases[] = {
      {"[", "not a JSON object"},
      {R"({"models": []})", "schema_version"},
      {R"({"schema_version": 1, "models": []})", "non-empty array"},
      {R"({"schema_version": 1, "models": [{"id": "Bad Id"}]})", "field 'id'"},
      {R"({"schema_version": 1, "models": [{"id": "x", "name": "X", "family": "f", "hf_repo": "a/b",
          "config_source": "https://x", "stated_parameters_source": "https://y",
          "stated_parameters": -5, "config": {}}]})",
       "models[0] (x): field 'stated_parameters'"},
      {R"({"schema_version": 1, "models": [{"id": "x", "name": "X", "family": "f", "hf_repo": "a/b",
          "config_source": "http://x", "stated_parameters_source": "https://y",
          "stated_parameters": 5, "config": {}}]})",
       "https://"},
      {R"({"schema_version": 1, "models": [{"id": "x", "name": "X", "family": "f", "hf_repo": "a/b",
          "config_source": "https://x", "stated_parameters_source": "https://y",
          "stated_parameters": 5, "config": 3}]})",
       "field 'config'"},
  };
  for (const Case& c : cases) {
    Result<std::vector<ModelPreset>> r = ParseModelPresets(c.json);
    ASSERT_FALSE(r.ok()) << c.json;
    EXPECT_NE(r.status().message().find(c.message_part), std::string::npos) << r.status().message();
  }
}

}  // namespace
}  // namespace vram
