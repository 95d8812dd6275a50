#pragma once

#include <string_view>

#include "vram/model.h"
#include "vram/status.h"

namespace vram {

/// Hard limits on a user-supplied config.json.
struct ConfigLimits {
  static constexpr size_t kMaxTextBytes = 4u << 20;  ///< 4 MiB of JSON text.
  static constexpr int64_t kMaxLayers = 4096;
  static constexpr int64_t kMaxDimension = int64_t{1} << 24;  ///< Any width, head count or vocab.
  static constexpr int64_t kMaxExperts = 4096;
};

/// Builds the attention geometry and tensor inventory from the text of a Hugging Face
/// config.json. Nested "text_config" (Gemma 3, multimodal wrappers) is followed. An unknown
/// model_type whose standard fields are present yields a best-effort llama-style model with a
/// warning that says which assumptions were made.
Result<ModelDescription> ModelFromHfConfig(std::string_view json_text);

/// Model types with an exact builder ("llama", "mistral", ...).
const char* const* SupportedModelTypes(int* count);

}  // namespace vram
