#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vram/status.h"

namespace vram {

/// One entry of presets/models.json: published config fields plus provenance.
struct ModelPreset {
  std::string id;
  std::string name;
  std::string family;
  std::string hf_repo;
  std::string config_source;             ///< URL of the published config.json.
  int64_t stated_parameters = 0;         ///< Officially published parameter count.
  std::string stated_parameters_source;  ///< URL of that figure.
  /// The published figure counts a tied output head twice (the checkpoint stores a copy).
  bool stated_counts_tied_head_twice = false;
  std::string config_json;               ///< The config object, re-serialized.
};

/// Parses presets/models.json. Rejects malformed entries with a message naming the entry and
/// field.
Result<std::vector<ModelPreset>> ParseModelPresets(std::string_view json_text);

/// The preset with this id, or nullptr.
const ModelPreset* FindPreset(const std::vector<ModelPreset>& presets, std::string_view id);

}  // namespace vram
