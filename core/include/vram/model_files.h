#pragma once

/// Models built from model files (GGUF headers, safetensors headers with a config.json): the
/// same ModelDescription a preset gives, plus the weights exactly as the files store them. The
/// caller reads the header bytes (the CLI from disk, the page from a File or HTTP Range
/// requests); everything after the read is here, so every front end gives the same answer.

#include <string>
#include <string_view>
#include <vector>

#include "vram/formats.h"
#include "vram/gguf.h"
#include "vram/model.h"
#include "vram/safetensors.h"
#include "vram/status.h"

namespace vram {

/// A model and, when it came from model files, the weights as those files store them.
struct FileModel {
  ModelDescription model;  ///< Its warnings start with a summary of what was read.
  WeightPlan weights;      ///< Valid when `stored`.
  bool stored = false;
  std::string name;         ///< general.name of a GGUF, or "" (the caller names it).
  uint64_t file_bytes = 0;  ///< Bytes of tensor data the files hold.
};

/// From the header of a .gguf file, or of every part of a split model (any order).
Result<FileModel> FileModelFromGguf(const std::vector<GgufHeader>& parts);

/// From a config.json model and the headers of its safetensors shards. `index` is
/// model.safetensors.index.json when the checkpoint is sharded (its totals are cross-checked
/// against the shards), else nullptr.
Result<FileModel> FileModelFromSafetensors(ModelDescription model,
                                           const std::vector<SafetensorsHeader>& files,
                                           const SafetensorsIndex* index);

/// A short JSON description of a file model for front ends: {"name", "source", "parameters",
/// "active_parameters", "weights_format", "weights_bytes", "file_bytes", "max_context",
/// "warnings"}.
std::string FileModelSummaryJson(const FileModel& model, std::string_view source);

}  // namespace vram
