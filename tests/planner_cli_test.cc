// The planner through the vramcalc binary: --gpu adds its keys to the one JSON object, the
// subcommands print JSON, bad input is one line naming the field, exit 2.

#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_util.h"
#include "vram/hardware.h"
#include "vram/planner.h"

namespace vram {
namespace {

using Json = nlohmann::json;

std::string RunCli(const std::string& args, int* status, bool stderr_only = false) {
  const std::string command = std::string(VRAM_CLI_PATH) + args + (stderr_only ? " 2>&1 >/dev/null" : " 2>/dev/null");
  return test::Shell(command, status);
}

Json RunJson(const std::string& args) {
  int status = -1;
  const std::string out = RunCli(args, &status);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << args << " -> " << status;
  Json j = Json::parse(out, nullptr, false);
  EXPECT_TRUE(j.is_object()) << args << " -> " << out.substr(0, 400);
  return j;
}

const char kWorkload[] = " --model llama-3.1-8b --weights q4_k_m --runtime llamacpp --context 8192";

TEST(PlannerCliTest, GpuAddsItsKeysAndKeepsEveryOther) {
  const Json plain = RunJson(std::string(kWorkload) + " --json");
  const Json with = RunJson(std::string(kWorkload) + " --gpu rtx-4090 --json");
  for (auto it = plain.begin(); it != plain.end(); ++it) {
    ASSERT_TRUE(with.contains(it.key())) << it.key();
    EXPECT_EQ(with[it.key()], it.value()) << it.key();
  }
  for (const char* key : {"fits", "headroom_bytes", "decode_tokens_per_s", "prefill_tokens_per_s", "hardware"}) {
    EXPECT_TRUE(with.contains(key)) << key;
  }
  EXPECT_TRUE(with["fits"].get<bool>());
  // The same figures the core computes.
  const ModelDescription m = test::PresetModel("llama-3.1-8b");
  const WeightPlan p = test::Plan(m, "q4_k_m");
  const std::vector<Device> devices =
      ParseDevices(test::ReadText(std::string(VRAM_PRESETS_DIR) + "/hardware.json")).value();
  HardwareConfig hw;
  hw.device = FindDevice(devices, "rtx-4090");
  InferenceRequest r;
  r.runtime = Runtime::kLlamaCpp;
  r.context_tokens = 8192;
  const FitResult f = Fit(m, p, r, hw).value();
  EXPECT_EQ(with["headroom_bytes"].get<int64_t>(), f.headroom_bytes);
  EXPECT_EQ(with["hardware"]["fit"]["per_device"][0]["total"].get<uint64_t>(), plain["bytes"]["total"].get<uint64_t>());
  const ThroughputEstimate t = EstimateThroughput(m, p, r, hw).value();
  EXPECT_NEAR(with["decode_tokens_per_s"].get<double>(), t.decode_tokens_per_s, 0.006);
  EXPECT_NEAR(with["prefill_tokens_per_s"].get<double>(), t.prefill_tokens_per_s, 0.006);

  // Not fitting: speeds are null, and the llama.cpp offload that would run is attached.
  const Json big = RunJson(" --model llama-3.1-70b --weights q4_k_m --runtime llamacpp --gpu rtx-4090 --json");
  EXPECT_FALSE(big["fits"].get<bool>());
  EXPECT_LT(big["headroom_bytes"].get<int64_t>(), 0);
  EXPECT_TRUE(big["decode_tokens_per_s"].is_null());
  EXPECT_TRUE(big["hardware"]["offload"]["possible"].get<bool>());
}

TEST(PlannerCliTest, SubcommandsPrintJson) {
  const Json mc = RunJson(std::string(" max-context") + kWorkload + " --gpu rtx-3060-12gb");
  EXPECT_EQ(mc["action"], "max-context");
  EXPECT_EQ(mc["model"], "llama-3.1-8b");
  const int64_t max = mc["result"]["max_context_tokens"].get<int64_t>();
  EXPECT_GT(max, 8192);
  EXPECT_FALSE(mc["result"]["one_more_fits"].get<bool>());
  EXPECT_TRUE(mc["result"]["fit_at_max"]["fits"].get<bool>());

  const Json mb = RunJson(std::string(" max-batch") + kWorkload + " --gpu rtx-4090");
  EXPECT_GE(mb["result"]["max_batch"].get<int64_t>(), 1);
  EXPECT_FALSE(mb["result"]["one_more_fits"].get<bool>());

  const Json rec = RunJson(" recommend --model llama-3.1-70b --weights q4_k_m --runtime llamacpp --context 8192 --limit 3");
  EXPECT_LE(rec["single_device"].size(), 3u);
  ASSERT_FALSE(rec["multi_device"].empty());
  EXPECT_GE(rec["multi_device"][0]["gpus"].get<int>(), 2);
  EXPECT_FALSE(rec["best_value"][0]["reason"].get<std::string>().empty());

  const Json adv = RunJson(" advise --model llama-3.1-70b --weights q4_k_m --runtime llamacpp --context 32768 --gpu rtx-4090");
  EXPECT_FALSE(adv["fits_now"].get<bool>());
  ASSERT_FALSE(adv["advice"].empty());
  EXPECT_TRUE(adv["advice"][0]["fits"].get<bool>());

  const Json off = RunJson(" offload --model qwen3-30b-a3b --weights q4_k_m --runtime llamacpp --gpu rtx-3060-12gb");
  EXPECT_TRUE(off["experts"]["possible"].get<bool>());
  EXPECT_GT(off["experts"]["cpu_moe_layers"].get<int>(), 0);

  const Json best = RunJson(" best-format --model llama-3.1-70b --weights q8_0 --runtime llamacpp --gpu rtx-4090 --gpus 2");
  EXPECT_TRUE(best["format"].is_string());

  const Json cost = RunJson(" cost --model llama-3.1-8b --gpu rtx-4090 --cloud-usd-per-hour 0.5 --utilization 0.5");
  EXPECT_EQ(cost["cost"]["psu_watts"].get<int>(), 850);
  EXPECT_TRUE(cost["cost"]["breakeven_months"].is_number());

  const Json fit = RunJson(" fit --model llama-3.1-70b --weights bf16 --runtime vllm --gpu h100-sxm --gpus 4");
  EXPECT_EQ(fit["fit"]["split"], "tensor");
  EXPECT_EQ(fit["fit"]["per_device"].size(), 4u);
  EXPECT_GT(fit["throughput"]["communication_ms_per_token"].get<double>(), 0);
}

TEST(PlannerCliTest, TrainingModesFitAndAdvise) {
  const ModelDescription m = test::PresetModel("llama-3.1-8b");
  const std::vector<Device> devices =
      ParseDevices(test::ReadText(std::string(VRAM_PRESETS_DIR) + "/hardware.json")).value();
  HardwareConfig hw;
  hw.device = FindDevice(devices, "rtx-4090");
  TrainingRequest lora;
  lora.mode = TrainingMode::kLora;

  // advise --mode lora: the core's advice, in its order, with its savings.
  const Json adv = RunJson(" advise --model llama-3.1-8b --mode lora --gpu rtx-4090");
  EXPECT_EQ(adv["model"], "llama-3.1-8b");
  EXPECT_EQ(adv["action"], "advise");
  EXPECT_EQ(adv["mode"], "lora");
  EXPECT_EQ(adv["weights"], "bf16");
  EXPECT_FALSE(adv["fits_now"].get<bool>());
  const AdviceResult core = AdviseTraining(m, lora, hw).value();
  ASSERT_EQ(adv["advice"].size(), core.advice.size());
  ASSERT_FALSE(core.advice.empty());
  for (size_t i = 0; i < core.advice.size(); ++i) {
    EXPECT_EQ(adv["advice"][i]["kind"], AdviceKindName(core.advice[i].kind)) << i;
    EXPECT_EQ(adv["advice"][i]["saves_bytes"].get<uint64_t>(), core.advice[i].saves_bytes) << i;
    EXPECT_EQ(adv["advice"][i]["change"], core.advice[i].change) << i;
  }
  EXPECT_TRUE(adv["advice"][0]["fits"].get<bool>());
  EXPECT_TRUE(adv["advice"][0]["apply"].is_object());

  // --gpu with a training mode adds the fit to the training JSON; no speeds.
  const Json plain = RunJson(" --model llama-3.1-8b --mode train --json");
  const Json with = RunJson(" --model llama-3.1-8b --mode train --gpu rtx-4090 --json");
  for (auto it = plain.begin(); it != plain.end(); ++it) EXPECT_EQ(with[it.key()], it.value()) << it.key();
  EXPECT_FALSE(with["fits"].get<bool>());
  EXPECT_EQ(with["headroom_bytes"].get<int64_t>(),
            static_cast<int64_t>(hw.device->usable_memory_bytes()) - plain["bytes"]["total"].get<int64_t>());
  EXPECT_TRUE(with["decode_tokens_per_s"].is_null());
  EXPECT_EQ(with["hardware"]["fit"]["per_device"][0]["optimizer"].get<uint64_t>(), plain["bytes"]["optimizer"].get<uint64_t>());

  int status = -1;
  const std::string text = RunCli(" --model llama-3.1-8b --mode qlora --gpu rtx-4090", &status);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_NE(text.find("on 1 x NVIDIA GeForce RTX 4090 (24.00 GiB usable each): fits"), std::string::npos) << text;

  const std::string err = RunCli(" --model llama-3.1-8b --mode lora --gpu rtx-4090 --gpus 2", &status, true);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2);
  EXPECT_NE(err.find("gpus: the training layout dp 1 x tp 1 x pp 1 runs on 1 GPU; give --gpus 1"), std::string::npos)
      << err;
  const std::string off = RunCli(" offload --model llama-3.1-8b --mode lora --gpu rtx-4090", &status, true);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2);
  EXPECT_NE(off.find("action: 'offload' plans inference; with mode 'lora'"), std::string::npos) << off;
}

TEST(PlannerCliTest, ListGpus) {
  int status = -1;
  const Json list = Json::parse(RunCli(" --list-gpus --json", &status), nullptr, false);
  ASSERT_TRUE(list.is_array());
  EXPECT_EQ(list.size(), 87u);
  const std::string text = RunCli(" --list-gpus", &status);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_NE(text.find("rtx-4090"), std::string::npos);
}

TEST(PlannerCliTest, BadInputPrintsOneLineAndExitsTwo) {
  struct Case {
    std::string args;
    const char* part;
  };
  const std::string w = kWorkload;
  const Case cases[] = {
      {w + " --gpu nope", "gpu: unknown device 'nope' (see --list-gpus for the 87 ids)"},
      {w + " --gpu rtx-4090 --gpus 0", "gpus: must be an integer in [1, 64], got 0"},
      {w + " --gpu rtx-4090 --gpus 65", "gpus: must be an integer in [1, 64], got 65"},
      {w + " --gpu rtx-4090 --gpus two", "gpus: must be an integer in [1, 64], got 'two'"},
      {w + " --gpus 2", "gpus: needs --gpu <id>"},
      {w + " --gpu apple-m2-max-38c-64gb --gpus 2", "gpus: 'apple-m2-max-38c-64gb' has no interconnect"},
      {w + " --gpu rtx-4090 --split diagonal", "split: 'diagonal' is not one of auto, layer, tensor"},
      {w + " --gpu rtx-4090 --headroom 0.95", "headroom: must be a number in [0, 0.9]"},
      {" max-context" + w, "gpu: missing; 'max-context' needs --gpu <id>"},
      {" recommend" + w + " --category gaming", "category: 'gaming' is not one of"},
      {" cost" + w + " --gpu rtx-4090 --utilization 0", "utilization: must be a number in (0, 1]"},
      {" fit --model llama-3.1-70b --weights bf16 --runtime vllm --gpu h100-sxm --gpus 3",
       "gpus: tensor parallelism splits the 64 attention heads"},
      {" --model llama-3.1-8b --runtime vllm --gpu apple-m4-max-40c-128gb", "gpu: vLLM needs a discrete GPU"},
  };
  for (const Case& c : cases) {
    int status = -1;
    const std::string err = RunCli(c.args, &status, true);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2) << c.args << " -> status " << status;
    EXPECT_NE(err.find(c.part), std::string::npos) << c.args << " -> " << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  }
}

}  // namespace
}  // namespace vram
