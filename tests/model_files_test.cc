// The file-model step shared by the CLI and the page: GGUF and safetensors headers become a
// model with the files' own bytes, and the JSON round trips (calculation, planner) take it in
// place of a config.json.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fixture_util.h"
#include "gguf_writer.h"
#include "safetensors_writer.h"
#include "test_util.h"
#include "vram/vram.h"

namespace vram {
namespace {

using Json = nlohmann::json;

GgufHeader Header(const test::GgufWriter& w) {
  Result<GgufParse> p = ParseGgufHeader(w.Header(), w.FileSize());
  EXPECT_TRUE(p.ok() && p->complete);
  return p.ok() ? p->header : GgufHeader{};
}

SafetensorsHeader Header(const test::SafetensorsWriter& w) {
  Result<SafetensorsParse> p = ParseSafetensorsHeader(w.Header(), w.FileSize());
  EXPECT_TRUE(p.ok() && p->complete);
  return p.ok() ? p->header : SafetensorsHeader{};
}

TEST(FileModelTest, GgufGivesTheFilesBytesAndASummary) {
  const ModelDescription m = test::FixtureModel("qwen3_moe");
  const WeightPlan plan = test::Plan(m, "q4_k_m");
  const test::GgufWriter w = test::ModelToGguf(m, plan);
  Result<FileModel> f = FileModelFromGguf({Header(w)});
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_TRUE(f->stored);
  EXPECT_EQ(f->weights.total_bytes, plan.total_bytes);
  EXPECT_EQ(f->file_bytes, w.FileSize());  // the data section ends where the file ends
  const Json s = Json::parse(FileModelSummaryJson(*f, "model.gguf"));
  EXPECT_EQ(s["source"], "model.gguf");
  EXPECT_EQ(s["parameters"], CountParameters(m).total);
  EXPECT_EQ(s["active_parameters"], CountParameters(m).active);
  EXPECT_EQ(s["weights_format"], "gguf-file");
  EXPECT_EQ(s["weights_bytes"], plan.total_bytes);
  EXPECT_EQ(s["max_context"], m.max_context_tokens);
  ASSERT_FALSE(s["warnings"].empty());
  EXPECT_NE(s["warnings"][0].get<std::string>().find("only the header was read"),
            std::string::npos);
}

TEST(FileModelTest, SplitGgufNeedsEveryPart) {
  const ModelDescription m = test::FixtureModel("mixtral");
  const WeightPlan plan = test::Plan(m, "q3_k_m");
  const std::vector<test::GgufWriter> parts = test::SplitGguf(m, plan, 3);
  Result<FileModel> all = FileModelFromGguf({Header(parts[2]), Header(parts[0]), Header(parts[1])});
  ASSERT_TRUE(all.ok()) << all.status().message();
  EXPECT_EQ(all->weights.total_bytes, plan.total_bytes);
  Result<FileModel> two = FileModelFromGguf({Header(parts[0]), Header(parts[1])});
  EXPECT_FALSE(two.ok());
}

TEST(FileModelTest, SafetensorsIndexTotalsAreCrossChecked) {
  const ModelDescription m = test::FixtureModel("mistral");
  const test::SafetensorsWriter w = test::HfCheckpoint(m, test::Storage::kGptq4);
  SafetensorsIndex index;
  index.total_size = w.data_bytes() + 1;  // off by one byte: reported, not trusted
  index.tensors = 3;
  Result<FileModel> f = FileModelFromSafetensors(m, {Header(w)}, &index);
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ(f->weights.total_bytes, w.data_bytes());
  EXPECT_EQ(f->weights.total_bytes, test::Plan(m, "gptq-4bit-g128").total_bytes);
  const std::string all = Json(f->model.warnings).dump();
  EXPECT_NE(all.find("differs from the shards' tensor bytes"), std::string::npos) << all;
  EXPECT_NE(all.find("the index maps 3 tensors"), std::string::npos) << all;
  EXPECT_FALSE(FileModelFromSafetensors(m, {}, nullptr).ok());
}

TEST(FileModelTest, CalculateJsonWithAFileModelEqualsCalculateStored) {
  const ModelDescription m = test::FixtureModel("llama");
  const WeightPlan plan = test::Plan(m, "q5_k_m");
  Result<FileModel> f = FileModelFromGguf({Header(test::ModelToGguf(m, plan))});
  ASSERT_TRUE(f.ok());
  const Json got =
      Json::parse(CalculateJson(R"({"model":"x","context":8192,"runtime":"llamacpp"})", *f));
  ASSERT_FALSE(got.contains("error")) << got.dump();
  CalculatorRequest r;
  r.model_id = "x";
  r.inference.context_tokens = 8192;
  r.inference.runtime = Runtime::kLlamaCpp;
  Result<Calculation> want = CalculateStored(f->model, f->weights, r);
  ASSERT_TRUE(want.ok());
  EXPECT_EQ(got["bytes"]["total"], want->estimate.total_bytes);
  EXPECT_EQ(got["inputs"]["weights"], "gguf-file");
  // A config next to a file model is a mistake worth naming.
  const Json err = Json::parse(CalculateJson(R"({"model":"x","config":{}})", *f));
  EXPECT_NE(err["error"]["message"].get<std::string>().find("'config' is not used"),
            std::string::npos);
}

TEST(FileModelTest, PlannerTakesTheFileModel) {
  const ModelDescription m = test::FixtureModel("llama");
  const WeightPlan plan = test::Plan(m, "q4_k_m");
  Result<FileModel> f = FileModelFromGguf({Header(test::ModelToGguf(m, plan))});
  ASSERT_TRUE(f.ok());
  Device d;
  d.id = "card";
  d.name = "Card";
  d.vendor = "nvidia";
  d.memory_bytes = 24ull << 30;
  d.memory_bandwidth_bytes_per_s = 1e12;
  d.fp16_dense_tflops = 100;
  d.category = "consumer";
  const std::vector<Device> devices = {d};
  const Json fit = Json::parse(PlannerJsonWithDevices(
      R"({"model":"x","runtime":"llamacpp","context":4096,"action":"fit","gpu":"card"})", devices,
      &*f));
  ASSERT_FALSE(fit.contains("error")) << fit.dump();
  InferenceRequest r;
  r.runtime = Runtime::kLlamaCpp;
  r.context_tokens = 4096;
  HardwareConfig hw;
  hw.device = &devices[0];
  Result<FitResult> want = Fit(f->model, f->weights, r, hw);
  ASSERT_TRUE(want.ok());
  EXPECT_EQ(fit["fit"]["fits"], want->fits);
  EXPECT_EQ(fit["fit"]["single_device_bytes"], want->single_device_bytes);
  EXPECT_EQ(fit["fit"]["headroom_bytes"], want->headroom_bytes);
  EXPECT_EQ(fit["weights"], "gguf-file");
}

}  // namespace
}  // namespace vram
