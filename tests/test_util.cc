#include "test_util.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace vram::test {

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Shell(const std::string& command, int* status) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
  *status = pclose(pipe);
  return out;
}

const std::vector<Device>& PresetDevices() {
  static const std::vector<Device> devices = [] {
    Result<std::vector<Device>> parsed =
        ParseDevices(ReadText(std::string(VRAM_PRESETS_DIR) + "/hardware.json"));
    if (!parsed.ok()) {
      ADD_FAILURE() << parsed.status().message();
      return std::vector<Device>{};
    }
    return std::move(parsed).value();
  }();
  return devices;
}

const Device& PresetDevice(const std::string& id) {
  const Device* d = FindDevice(PresetDevices(), id);
  EXPECT_NE(d, nullptr) << id;
  static const Device kEmpty;
  return d != nullptr ? *d : kEmpty;
}

const std::vector<ModelPreset>& Presets() {
  static const std::vector<ModelPreset> presets = [] {
    Result<std::vector<ModelPreset>> parsed =
        ParseModelPresets(ReadText(std::string(VRAM_PRESETS_DIR) + "/models.json"));
    if (!parsed.ok()) {
      ADD_FAILURE() << parsed.status().message();
      return std::vector<ModelPreset>{};
    }
    return std::move(parsed).value();
  }();
  return presets;
}

ModelDescription PresetModel(const std::string& id) {
  const ModelPreset* preset = FindPreset(Presets(), id);
  if (preset == nullptr) {
    ADD_FAILURE() << "no preset " << id;
    return {};
  }
  Result<ModelDescription> model = ModelFromHfConfig(preset->config_json);
  if (!model.ok()) {
    ADD_FAILURE() << id << ": " << model.status().message();
    return {};
  }
  return std::move(model).value();
}

WeightPlan Plan(const ModelDescription& model, const std::string& format) {
  Result<WeightFormat> f = ParseWeightFormat(format);
  EXPECT_TRUE(f.ok()) << f.status().message();
  if (!f.ok()) return {};
  Result<WeightPlan> plan = PlanWeights(model, *f);
  EXPECT_TRUE(plan.ok()) << plan.status().message();
  if (!plan.ok()) return {};
  return std::move(plan).value();
}

}  // namespace vram::test
