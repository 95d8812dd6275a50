// The front-end Session and the core's fit table: the page's answers come from here, so they
// must equal the planner's own (vramcalc fit) on every device.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_util.h"
#include "vram/vram.h"

namespace vram {
namespace {

using Json = nlohmann::json;
using test::PresetDevice;
using test::PresetDevices;
using test::PresetModel;

std::string ConfigText(const std::string& id) {
  return FindPreset(test::Presets(), id)->config_json;
}

Session& DeviceSession() {
  static Session* session = [] {
    auto* s = new Session();
    EXPECT_EQ(s->SetDevices(test::ReadText(std::string(VRAM_PRESETS_DIR) + "/hardware.json")), "");
    return s;
  }();
  return *session;
}

Json Parse(const std::string& text) { return Json::parse(text, nullptr, false); }

struct FitCase {
  std::string model, weights, gpu;
  int64_t context;
  int gpus;  // what `vramcalc fit` says (issue 12: the page said one fewer)
};

// The three disagreements of issue 12: the old page formula split weights and cache evenly and
// said 2, 10 and 15.
class FitTableAgrees : public testing::TestWithParam<FitCase> {};

TEST_P(FitTableAgrees, WithTheSmallestDeviceCount) {
  const FitCase& c = GetParam();
  const std::string request = R"({"mode":"inference","runtime":"llamacpp","weights":")" +
                              c.weights + R"(","context":)" + std::to_string(c.context) +
                              R"(,"config":)" + ConfigText(c.model) + "}";
  const Json table = Parse(DeviceSession().FitTable(request));
  ASSERT_TRUE(table.contains("devices")) << table.dump();
  const Json* row = nullptr;
  for (const Json& r : table["devices"]) {
    if (r["gpu"] == c.gpu) row = &r;
  }
  ASSERT_NE(row, nullptr);
  EXPECT_EQ((*row)["gpus"], c.gpus);

  // The planner itself: n - 1 devices are over, n fit.
  const ModelDescription model = PresetModel(c.model);
  const WeightPlan plan = test::Plan(model, c.weights);
  InferenceRequest r;
  r.runtime = Runtime::kLlamaCpp;
  r.context_tokens = c.context;
  HardwareConfig hw;
  hw.device = &PresetDevice(c.gpu);
  hw.count = c.gpus - 1;
  EXPECT_FALSE(test::Ok(Fit(model, plan, r, hw)).fits);
  hw.count = c.gpus;
  const FitResult fit = test::Ok(Fit(model, plan, r, hw));
  EXPECT_TRUE(fit.fits);
  // The fit action's JSON says the same.
  const Json fit_json = Parse(DeviceSession().Plan(
      R"({"action":"fit","gpu":")" + c.gpu +
      R"(","gpus":1,"mode":"inference","runtime":"llamacpp","weights":")" + c.weights +
      R"(","context":)" + std::to_string(c.context) + R"(,"config":)" + ConfigText(c.model) + "}"));
  EXPECT_EQ(fit_json["smallest_device_count"], c.gpus) << fit_json.dump();
  // Speed at that count, as the CLI rounds it.
  const ThroughputEstimate t = test::Ok(EstimateThroughput(model, plan, r, hw));
  EXPECT_DOUBLE_EQ((*row)["decode_tokens_per_s"].get<double>(),
                   std::round(t.decode_tokens_per_s * 100) / 100);
}

INSTANTIATE_TEST_SUITE_P(
    Issue12, FitTableAgrees,
    testing::Values(FitCase{"mixtral-8x7b", "q4_k_m", "rtx-4060-ti-16gb", 32768, 3},
                    FitCase{"llama-3.1-405b", "q4_k_m", "rtx-4090", 8192, 11},
                    FitCase{"llama-3.1-405b", "q4_k_m", "rtx-4060-ti-16gb", 8192, 16}));

TEST(FitTable, EveryDeviceHasARowAndVllmCountsItsBudget) {
  const std::string request =
      R"({"mode":"inference","runtime":"vllm","weights":"bf16","context":8192,"config":)" +
      ConfigText("llama-3.1-8b") + "}";
  const Json table = Parse(DeviceSession().FitTable(request));
  ASSERT_EQ(table["devices"].size(), PresetDevices().size());
  for (const Json& row : table["devices"]) {
    const Device& d = PresetDevice(row["gpu"].get<std::string>());
    if (d.device_class() != DeviceClass::kDiscreteGpu) {
      // vLLM needs a discrete GPU: no count, and the reason.
      EXPECT_TRUE(row["gpus"].is_null());
      EXPECT_NE(row["unsupported"].get<std::string>().find("vLLM needs a discrete GPU"),
                std::string::npos);
      continue;
    }
    // Capacity: ceil(memory x 0.92) plus the 287,047,680-byte CUDA context vLLM does not budget.
    const uint64_t expected = std::min<uint64_t>(
        d.memory_bytes,
        static_cast<uint64_t>(std::ceil(static_cast<double>(d.memory_bytes) * 0.92)) + 287047680);
    EXPECT_EQ(row["capacity_bytes"].get<uint64_t>(), expected) << d.id;
  }
}

TEST(Session, CalculateEqualsCalculateJsonAndFileHandlesAreChecked) {
  Session session;
  const std::string request =
      R"({"weights":"q4_k_m","runtime":"llamacpp","context":8192,"config":)" +
      ConfigText("llama-3.1-8b") + "}";
  EXPECT_EQ(session.Calculate(request), CalculateJson(request));
  const Json stale = Parse(session.Calculate(R"({"config":"@file:7"})"));
  EXPECT_EQ(stale["error"]["code"], "not_found");
  EXPECT_NE(stale["error"]["message"].get<std::string>().find("no longer loaded"),
            std::string::npos);
}

TEST(Session, NumbersEqualTheFullCalculation) {
  Session session;
  const std::string config = ConfigText("qwen2.5-7b");
  const Json numbers =
      Parse(session.Numbers(config, R"({"weights":"q8_0","runtime":"llamacpp","context":4096})"
                                    "\n"
                                    R"({"context":0})"));
  ASSERT_EQ(numbers.size(), 2u);
  const Json full = Parse(CalculateJson(
      R"({"weights":"q8_0","runtime":"llamacpp","context":4096,"config":)" + config + "}"));
  EXPECT_EQ(numbers[0]["bytes"]["total"], full["bytes"]["total"]);
  EXPECT_EQ(numbers[1]["error"]["code"], "out_of_range");
}

TEST(Session, RuntimesComeFromTheProfiles) {
  const Json runtimes = Parse(Session::RuntimesJson());
  ASSERT_EQ(runtimes.size(), 4u);
  EXPECT_EQ(runtimes[0]["id"], "llamacpp");
  EXPECT_EQ(runtimes[0]["default_weights"], "q4_k_m");
  EXPECT_EQ(runtimes[0]["weight_families"], Json::array({"gguf"}));
  EXPECT_EQ(runtimes[1]["id"], "vllm");
  EXPECT_EQ(runtimes[1]["needs_device_memory"], true);
  // One catalogue entry per format id.
  const Json formats = Parse(Session::FormatsJson());
  std::set<std::string> ids;
  for (const Json& f : formats)
    EXPECT_TRUE(ids.insert(f["id"].get<std::string>()).second) << f["id"];
}

}  // namespace
}  // namespace vram

namespace vram {
namespace {

TEST(FitTable, TrainingLayoutsADeviceCannotPoolAreRowsWithAReason) {
  Session session;
  ASSERT_EQ(session.SetDevices(test::ReadText(std::string(VRAM_PRESETS_DIR) + "/hardware.json")),
            "");
  const Json table =
      Json::parse(session.FitTable(R"({"mode":"lora","dp":8,"config":)" +
                                   FindPreset(test::Presets(), "llama-3.1-8b")->config_json + "}"),
                  nullptr, false);
  ASSERT_TRUE(table.contains("devices")) << table.dump();
  bool apple = false, h100 = false;
  for (const Json& row : table["devices"]) {
    if (row["gpu"] == "apple-m1-pro-16c-16gb") {
      apple = true;
      EXPECT_TRUE(row["gpus"].is_null());
      EXPECT_NE(row["unsupported"].get<std::string>().find("no interconnect"), std::string::npos);
    }
    if (row["gpu"] == "h100-sxm") {
      h100 = true;
      EXPECT_EQ(row["gpus"], 8);  // the layout's GPU count: LoRA on an 8B model fits each H100
    }
  }
  EXPECT_TRUE(apple && h100);
}

}  // namespace
}  // namespace vram
