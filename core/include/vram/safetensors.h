#pragma once

// safetensors headers: the 8-byte length, the JSON header (dtype, shape, data offsets of every
// tensor) and model.safetensors.index.json. Only headers are read, never tensor data; combined
// with a config.json for the geometry they size a checkpoint by its stored bytes, exactly, also
// when it is pre-quantized (GPTQ/AWQ qweight + qzeros + scales, fp8 weight + weight_scale,
// MXFP4 blocks + scales).
//
// Format: huggingface/safetensors README and safetensors/src/tensor.rs (Metadata::validate:
// tensors contiguous from offset 0, each exactly elements x bitsize / 8 bytes, header at most
// 100,000,000 bytes).

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vram/formats.h"
#include "vram/model.h"
#include "vram/status.h"

namespace vram {

/// Hard limits on safetensors headers and index files; exceeding one fails with kLimitExceeded
/// and a message naming the limit.
struct SafetensorsLimits {
  /// The JSON header of one file: the library's own MAX_HEADER_SIZE.
  static constexpr uint64_t kMaxHeaderBytes = 100000000;
  static constexpr uint64_t kMaxIndexBytes = uint64_t{64} << 20;  ///< model.safetensors.index.json
  static constexpr uint64_t kMaxTensors = uint64_t{1} << 20;      ///< Per file, and per index.
  static constexpr uint64_t kMaxNameBytes = 1024;                 ///< A tensor or shard name.
  static constexpr uint64_t kMaxDimensions = 8;
  static constexpr uint64_t kMaxTensorElements = uint64_t{1} << 44;  ///< Product of a shape.
  static constexpr uint64_t kMaxShards = 65536;
};

/// Bits per element of a safetensors dtype ("BF16" -> 16, "F4" -> 4), or 0 when the spec does
/// not define it.
int SafetensorsDtypeBits(std::string_view dtype);

struct SafetensorsTensor {
  std::string name;
  std::string dtype;            ///< As written: "BF16", "F8_E4M3", "I32", ...
  std::vector<uint64_t> shape;  ///< Row-major, as written.
  uint64_t elements = 1;        ///< Product of the shape (1 for a scalar).
  uint64_t begin = 0;           ///< data_offsets, relative to the data section.
  uint64_t end = 0;
  uint64_t bytes() const { return end - begin; }
};

struct SafetensorsHeader {
  uint64_t header_bytes = 0;               ///< N, the JSON header's length.
  uint64_t data_offset = 0;                ///< 8 + N.
  uint64_t data_bytes = 0;                 ///< The data section: the last tensor's end offset.
  std::vector<SafetensorsTensor> tensors;  ///< Ordered by data offset.
  std::vector<std::pair<std::string, std::string>> metadata;  ///< "__metadata__", in file order.
};

/// The outcome of parsing a prefix of a file: the header, or how long the prefix must be.
struct SafetensorsParse {
  bool complete = false;
  uint64_t bytes_needed = 0;  ///< When !complete: 8, or 8 + N once N is known.
  SafetensorsHeader header;
};

/// Parses the header from the first bytes of a .safetensors file. `file_size` is the size of the
/// whole file when known (0 = unknown): then it must equal 8 + N + the data section, as the
/// library requires.
Result<SafetensorsParse> ParseSafetensorsHeader(std::string_view prefix, uint64_t file_size = 0);

/// model.safetensors.index.json.
struct SafetensorsIndex {
  uint64_t total_size = 0;          ///< metadata.total_size (0 when absent).
  uint64_t tensors = 0;             ///< Entries in weight_map.
  std::vector<std::string> shards;  ///< Files weight_map names, in order of first mention.
};

/// Parses an index file. Shard names must be plain file names in the index's folder.
Result<SafetensorsIndex> ParseSafetensorsIndex(std::string_view json_text);

/// What a checkpoint stores, whatever model it is.
struct SafetensorsSummary {
  uint64_t tensors = 0;
  uint64_t bytes = 0;     ///< Sum of the tensors' data: the exact weight bytes.
  uint64_t elements = 0;  ///< Sum of the shapes' products: the parameter count of an
                          ///< unquantized checkpoint (packed quantized tensors count less).
  std::vector<std::pair<std::string, uint64_t>> bytes_by_dtype;  ///< Largest first.
};

SafetensorsSummary SummarizeSafetensors(const std::vector<SafetensorsHeader>& files);

/// A checkpoint's stored bytes laid onto a model's inventory.
struct SafetensorsPlan {
  WeightPlan weights;  ///< Parallel to the model's tensors; format id "safetensors-file".
  SafetensorsSummary checkpoint;
  uint64_t matched_bytes = 0;      ///< Checkpoint bytes assigned to inventory tensors.
  uint64_t unmatched_tensors = 0;  ///< Checkpoint tensors the model has no place for.
  uint64_t unmatched_bytes = 0;
  uint64_t missing_tensors = 0;  ///< Inventory tensors the checkpoint stores nothing for.
  std::vector<std::string> warnings;
};

/// Assigns every checkpoint tensor (Hugging Face names, e.g. model.layers.3.self_attn.q_proj.
/// qweight) to the inventory tensor it stores (blk.3.attn_q.weight), summing the parts of a
/// quantized tensor (qweight, qzeros, scales, g_idx; weight_scale; _blocks, _scales) and the
/// experts of a MoE layer. Tensors of other modules (a vision tower, buffers) are reported as
/// unmatched, not guessed.
Result<SafetensorsPlan> PlanWeightsFromSafetensors(const ModelDescription& model,
                                                   const std::vector<SafetensorsHeader>& files);

}  // namespace vram
