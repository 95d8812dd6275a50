#pragma once

// GGUF headers: metadata, tensor infos and the model they describe. Only the header is parsed;
// tensor data is never needed. The parser works on a prefix of the file and says how many more
// bytes it needs when the header is longer, so a caller (the CLI, the page) reads a few
// megabytes of a multi-gigabyte file, never the whole of it.
//
// Format: ggml-org/ggml docs/gguf.md (versions 2 and 3, little-endian). Key names:
// llama.cpp src/llama-arch.cpp (LLM_KV_NAMES, LLM_TENSOR_NAMES). Validation follows ggml's own
// reader (ggml/src/gguf.cpp, gguf_init_from_file_impl) where the spec leaves room.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vram/formats.h"
#include "vram/model.h"
#include "vram/status.h"

namespace vram {

/// Hard limits on a GGUF header. Exceeding one fails with kLimitExceeded and a message that
/// names the limit; nothing is allocated from a length before it has been checked.
struct GgufLimits {
  /// Metadata plus tensor infos. Real headers are 1-20 MiB, most of it the tokenizer.
  static constexpr uint64_t kMaxHeaderBytes = uint64_t{64} << 20;
  static constexpr uint64_t kMaxTensors = 65536;
  static constexpr uint64_t kMaxKeys = 65536;
  static constexpr uint64_t kMaxKeyBytes = 65535;                  ///< The spec's bound on a key.
  static constexpr uint64_t kMaxStringBytes = uint64_t{16} << 20;  ///< Any string value.
  static constexpr uint64_t kMaxTensorNameBytes = 63;  ///< ggml's GGML_MAX_NAME (64) less the NUL.
  static constexpr uint64_t kMaxArrayElements = uint64_t{1} << 24;
  static constexpr int kMaxArrayDepth = 4;       ///< Arrays of arrays of ...
  static constexpr uint32_t kMaxDimensions = 4;  ///< ggml's GGML_MAX_DIMS.
  /// Any one dimension, and the element count of one tensor (2^44 = 17.6 trillion).
  static constexpr uint64_t kMaxTensorElements = uint64_t{1} << 44;
  /// The data section of one file (4 PiB).
  static constexpr uint64_t kMaxDataBytes = uint64_t{1} << 52;
  /// Values kept per array (every element is still read and counted); per-layer arrays fit.
  static constexpr uint64_t kMaxStoredArrayValues = 4096;
  /// Array values kept over the whole header (bounds memory whatever the header holds).
  static constexpr uint64_t kMaxStoredValues = uint64_t{1} << 18;
};

/// Metadata value types, numbered as on disk (gguf_metadata_value_type).
enum class GgufType : uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};

/// Upper-case name as the spec writes it ("UINT32", "STRING", "ARRAY").
const char* GgufTypeName(GgufType type);

/// One metadata value. Scalars fill the field of their type; an array records its element type
/// and length and keeps its first values (GgufLimits::kMaxStoredArrayValues).
struct GgufValue {
  GgufType type = GgufType::kUint8;
  uint64_t uint_value = 0;                   ///< UINT8..UINT64; BOOL as 0 or 1.
  int64_t int_value = 0;                     ///< INT8..INT64.
  double float_value = 0;                    ///< FLOAT32 (widened exactly) and FLOAT64.
  std::string string_value;                  ///< STRING.
  GgufType element_type = GgufType::kUint8;  ///< ARRAY: type of the elements.
  uint64_t length = 0;                       ///< ARRAY: elements in the file.
  std::vector<GgufValue> elements;           ///< ARRAY: the first elements, in order.

  /// The value as an int64 when it is an integer (or BOOL) that fits.
  bool AsInt(int64_t* out) const;
};

struct GgufKeyValue {
  std::string key;
  GgufValue value;
};

/// One tensor info. `ne` is ggml's order: ne[0] is the row length.
struct GgufTensor {
  std::string name;
  uint32_t n_dims = 0;
  uint64_t ne[4] = {1, 1, 1, 1};
  int32_t ggml_type = 0;  ///< A type FindGgmlType knows (checked).
  uint64_t offset = 0;    ///< Relative to the start of the data section.
  uint64_t bytes = 0;     ///< Exact size: ne[0] / block * block_bytes * ne[1] * ne[2] * ne[3].
  uint64_t elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
};

/// Everything before the tensor data.
struct GgufHeader {
  uint32_t version = 0;
  std::vector<GgufKeyValue> metadata;  ///< In file order.
  std::vector<GgufTensor> tensors;     ///< In file order.
  uint32_t alignment = 32;             ///< general.alignment, default 32.
  uint64_t header_bytes = 0;           ///< Where the tensor infos end.
  uint64_t data_offset = 0;            ///< Where the tensor data starts (header_bytes aligned up).
  uint64_t data_bytes = 0;             ///< The data section: every tensor padded to the alignment.
  uint64_t tensor_bytes = 0;           ///< Sum of the tensors' exact sizes.
  uint64_t data_end = 0;  ///< The file must be at least this long (end of the last tensor).

  /// The value of a key, or nullptr.
  const GgufValue* Find(std::string_view key) const;
};

/// The outcome of parsing a prefix of a file: the header, or how long the prefix must be.
struct GgufParse {
  bool complete = false;
  /// When !complete: parse again with a prefix of at least this many bytes (a caller may read
  /// more at once, e.g. double what it has, to need fewer rounds).
  uint64_t bytes_needed = 0;
  GgufHeader header;  ///< When complete.
};

/// Parses the header from the first bytes of a GGUF file. `file_size` is the size of the whole
/// file when known (0 = unknown): then a header or tensor that runs past the end is reported as
/// a truncated file instead of a request for more bytes.
Result<GgufParse> ParseGgufHeader(std::string_view prefix, uint64_t file_size = 0);

/// Where a file sits in a split model (llama.cpp gguf-split keys split.no, split.count,
/// split.tensors.count). A file without them is part 0 of 1.
struct GgufSplit {
  int64_t index = 0;  ///< 0-based (split.no).
  int64_t count = 1;
  int64_t tensors_total = 0;  ///< Tensors over all parts (0 when not split).
};

Result<GgufSplit> GgufSplitOf(const GgufHeader& header);

/// For a split file name ("name-00002-of-00005.gguf"), the names of all its parts in order
/// (with the same directory); otherwise just `path`.
std::vector<std::string> GgufSplitPaths(std::string_view path);

/// A model read from GGUF headers: the same ModelDescription a config.json gives (GGUF tensor
/// names, roles, shapes, attention geometry), plus a weight plan whose per-tensor bytes are the
/// file's own (format "gguf-file").
struct GgufModel {
  ModelDescription model;
  WeightPlan weights;
  std::string gguf_architecture;  ///< general.architecture, e.g. "llama", "gpt-oss".
  std::string name;               ///< general.name ("" when absent).
  uint64_t file_bytes = 0;        ///< Sum over the parts of GgufHeader::data_end.
  uint64_t skipped_bytes = 0;     ///< Bytes of tensors llama.cpp does not load (MTP layers).
};

/// Builds the model from the header of a .gguf file, or of every part of a split model (any
/// order; every part must be present). The {arch}.* keys give the geometry; the tensor infos
/// give the inventory and the bytes.
Result<GgufModel> ModelFromGguf(const std::vector<GgufHeader>& parts);

/// The header as JSON (for tests and tools): version, alignment, offsets, metadata with types
/// (64-bit integers as decimal strings, so that JavaScript reads them exactly), tensor infos.
std::string GgufHeaderToJson(const GgufHeader& header);

}  // namespace vram
