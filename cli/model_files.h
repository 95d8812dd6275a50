#pragma once

// --gguf and --safetensors: read the headers of model files (never their tensor data) and hand
// them to the core, which builds the model and the weights as stored.

#include <string>

#include "vram/vram.h"

namespace vramcli {

using FileModel = vram::FileModel;

/// config.json next to a safetensors file or index (the Hugging Face repository layout).
std::string SiblingConfig(const std::string& safetensors_path);

/// The model for the CLI: from a GGUF header (`gguf_path`), from `config_json` with the bytes of
/// the safetensors checkpoint at `safetensors_path` (a file or model.safetensors.index.json), or
/// from `config_json` alone. Facts about the files become notes of the estimate.
vram::Result<FileModel> LoadModel(const std::string& gguf_path, const std::string& safetensors_path,
                                  const std::string& config_json);

}  // namespace vramcli
