#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "vram/vram.h"

namespace vram::test {

/// The presets shipped in presets/models.json (parsed once).
const std::vector<ModelPreset>& Presets();

/// The model of a preset id; fails the test (and returns an empty model) when it cannot build.
ModelDescription PresetModel(const std::string& id);

/// The devices shipped in presets/hardware.json (parsed once).
const std::vector<Device>& PresetDevices();

/// The device of an id; fails the test (and returns an empty device) when there is none.
const Device& PresetDevice(const std::string& id);

/// Reads a whole file; empty when missing.
std::string ReadText(const std::string& path);

/// Runs a shell command and returns its standard output; `status` gets pclose's status.
std::string Shell(const std::string& command, int* status);

/// The value of a result, failing the test (and returning T{}) when it is an error.
template <typename T>
T Ok(Result<T> r) {
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? std::move(r).value() : T{};
}

/// Weight plan of a preset under a format id (asserting success).
WeightPlan Plan(const ModelDescription& model, const std::string& format);

}  // namespace vram::test
