// GGUF header parser and the GGUF -> ModelDescription mapping.
//
// Layout: ggml-org/ggml docs/gguf.md. Checks that the spec leaves open follow ggml's reader
// (src/gguf.cpp): keys and tensor names unique, general.alignment a UINT32 power of two, at most
// GGML_MAX_DIMS dimensions, rows a whole number of blocks, and each tensor's offset equal to the
// running sum of the padded sizes before it. Key and tensor names: llama.cpp src/llama-arch.cpp.
// Per-architecture rules (sliding-window patterns): llama.cpp src/llama-model.cpp,
// load_hparams (set_swa_pattern).

#include "vram/gguf.h"

#include "families.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>
#include <set>

#include "json_fields.h"
#include "numeric.h"
#include "vram/config.h"

namespace vram {
namespace {

constexpr char kWhere[] = "GGUF: ";

Status ParseError(const std::string& message) {
  return Status(ErrorCode::kParseError, kWhere + message);
}
Status LimitError(const std::string& message) {
  return Status(ErrorCode::kLimitExceeded, kWhere + message);
}
/// Returned when the prefix ends early; the reader then knows how many bytes it needs.
Status NeedMore() { return Status(ErrorCode::kOutOfRange, "GGUF: need more bytes"); }

using internal::Num;
using internal::Quoted;

/// Little-endian reads from a prefix, recording how long the prefix must be when it ends.
class Reader {
 public:
  Reader(std::string_view data, uint64_t limit)
      : data_(data), end_(std::min<uint64_t>(data.size(), limit)) {}

  uint64_t pos() const { return pos_; }
  uint64_t need() const { return need_; }

  bool Has(uint64_t n) {
    if (n <= end_ - pos_) return true;
    need_ = n > std::numeric_limits<uint64_t>::max() - pos_ ? std::numeric_limits<uint64_t>::max()
                                                            : pos_ + n;
    return false;
  }
  bool U32(uint32_t* v) {
    uint64_t x;
    if (!Le(4, &x)) return false;
    *v = static_cast<uint32_t>(x);
    return true;
  }
  bool U64(uint64_t* v) { return Le(8, v); }
  /// Reads a little-endian unsigned integer of `n` bytes (after Has).
  uint64_t TakeLe(int n) {
    uint64_t x = 0;
    for (int i = 0; i < n; ++i) {
      x |= static_cast<uint64_t>(static_cast<uint8_t>(data_[pos_ + static_cast<uint64_t>(i)]))
           << (8 * i);
    }
    pos_ += static_cast<uint64_t>(n);
    return x;
  }
  std::string_view Take(uint64_t n) {
    std::string_view s = data_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  void Skip(uint64_t n) { pos_ += n; }

 private:
  bool Le(int n, uint64_t* v) {
    if (!Has(static_cast<uint64_t>(n))) return false;
    *v = TakeLe(n);
    return true;
  }

  std::string_view data_;
  uint64_t end_;
  uint64_t pos_ = 0;
  uint64_t need_ = 0;
};

/// Bytes of one element of a fixed-size type, 0 for STRING and ARRAY.
int FixedSize(GgufType type) {
  switch (type) {
    case GgufType::kUint8:
    case GgufType::kInt8:
    case GgufType::kBool:
      return 1;
    case GgufType::kUint16:
    case GgufType::kInt16:
      return 2;
    case GgufType::kUint32:
    case GgufType::kInt32:
    case GgufType::kFloat32:
      return 4;
    case GgufType::kUint64:
    case GgufType::kInt64:
    case GgufType::kFloat64:
      return 8;
    case GgufType::kString:
    case GgufType::kArray:
      return 0;
  }
  return 0;
}

bool ValidType(uint32_t t) { return t <= 12; }

/// Decodes a fixed-size value of `type` from its little-endian bits.
Status Decode(GgufType type, uint64_t bits, const std::string& key, GgufValue* out) {
  out->type = type;
  switch (type) {
    case GgufType::kUint8:
    case GgufType::kUint16:
    case GgufType::kUint32:
    case GgufType::kUint64:
      out->uint_value = bits;
      break;
    case GgufType::kInt8:
      out->int_value = static_cast<int8_t>(bits);
      break;
    case GgufType::kInt16:
      out->int_value = static_cast<int16_t>(bits);
      break;
    case GgufType::kInt32:
      out->int_value = static_cast<int32_t>(bits);
      break;
    case GgufType::kInt64: {
      int64_t v;
      std::memcpy(&v, &bits, 8);
      out->int_value = v;
      break;
    }
    case GgufType::kFloat32: {
      const uint32_t b = static_cast<uint32_t>(bits);
      float f;
      std::memcpy(&f, &b, 4);
      out->float_value = f;
      break;
    }
    case GgufType::kFloat64: {
      double d;
      std::memcpy(&d, &bits, 8);
      out->float_value = d;
      break;
    }
    case GgufType::kBool:
      if (bits > 1) {
        return ParseError("key " + Quoted(key) + ": BOOL value " + Num(bits) +
                          " is neither 0 nor 1");
      }
      out->uint_value = bits;
      break;
    default:
      break;
  }
  return Status::Ok();
}

Status ReadString(Reader& r, uint64_t max_bytes, const std::string& what, std::string* out) {
  uint64_t len;
  if (!r.U64(&len)) return NeedMore();
  if (len > max_bytes) {
    return LimitError(what + " is " + Num(len) + " bytes long; the limit is " + Num(max_bytes));
  }
  if (!r.Has(len)) return NeedMore();
  if (out != nullptr) {
    out->assign(r.Take(len));
  } else {
    r.Skip(len);
  }
  return Status::Ok();
}

/// Reads one value of `type`; `out` may be null (the value is read and dropped).
Status ReadValue(Reader& r, GgufType type, int depth, const std::string& key, uint64_t* budget,
                 GgufValue* out) {
  const int size = FixedSize(type);
  if (size > 0) {
    if (!r.Has(static_cast<uint64_t>(size))) return NeedMore();
    const uint64_t bits = r.TakeLe(size);
    GgufValue scratch;
    return Decode(type, bits, key, out != nullptr ? out : &scratch);
  }
  if (type == GgufType::kString) {
    if (out != nullptr) out->type = type;
    return ReadString(r, GgufLimits::kMaxStringBytes, "the string value of key " + Quoted(key),
                      out != nullptr ? &out->string_value : nullptr);
  }
  // Array.
  if (depth >= GgufLimits::kMaxArrayDepth) {
    return LimitError("key " + Quoted(key) + " nests arrays deeper than the limit of " +
                      std::to_string(GgufLimits::kMaxArrayDepth));
  }
  uint32_t element_type;
  uint64_t length;
  if (!r.U32(&element_type)) return NeedMore();
  if (!ValidType(element_type)) {
    return ParseError("key " + Quoted(key) + ": unknown array element type " + Num(element_type));
  }
  if (!r.U64(&length)) return NeedMore();
  if (length > GgufLimits::kMaxArrayElements) {
    return LimitError("the array of key " + Quoted(key) + " has " + Num(length) +
                      " elements; the limit is " + Num(GgufLimits::kMaxArrayElements));
  }
  const GgufType et = static_cast<GgufType>(element_type);
  if (out != nullptr) {
    out->type = GgufType::kArray;
    out->element_type = et;
    out->length = length;
  }
  const int element_size = FixedSize(et);
  if (element_size > 0) {
    const uint64_t total = length * static_cast<uint64_t>(element_size);  // <= 2^27
    if (!r.Has(total)) return NeedMore();
    uint64_t keep = 0;
    if (out != nullptr) keep = std::min({length, GgufLimits::kMaxStoredArrayValues, *budget});
    if (keep > 0) out->elements.reserve(keep);
    for (uint64_t i = 0; i < length; ++i) {
      const uint64_t bits = r.TakeLe(element_size);
      if (i < keep) {
        out->elements.emplace_back();
        VRAM_RETURN_IF_ERROR(Decode(et, bits, key, &out->elements.back()));
      } else if (et == GgufType::kBool && bits > 1) {
        return ParseError("key " + Quoted(key) + ": BOOL value " + Num(bits) +
                          " is neither 0 nor 1");
      }
    }
    *budget -= keep;
    return Status::Ok();
  }
  for (uint64_t i = 0; i < length; ++i) {
    GgufValue* element = nullptr;
    if (out != nullptr && i<GgufLimits::kMaxStoredArrayValues&& * budget> 0) {
      --*budget;
      out->elements.emplace_back();
      element = &out->elements.back();
    }
    VRAM_RETURN_IF_ERROR(ReadValue(r, et, depth + 1, key, budget, element));
  }
  return Status::Ok();
}

uint64_t AlignUp(uint64_t v, uint64_t alignment) {
  const uint64_t rem = v % alignment;
  return rem == 0 ? v : v + (alignment - rem);
}

Status ParseHeader(Reader& r, GgufHeader* h) {
  if (!r.Has(4)) return NeedMore();
  if (r.Take(4) != "GGUF") {
    return ParseError("not a GGUF file: it does not start with the bytes 'GGUF'");
  }
  uint32_t version;
  if (!r.U32(&version)) return NeedMore();
  if (version == 1) {
    return Status(ErrorCode::kUnsupported,
                  "GGUF: version 1 files are not supported (versions 2 and 3 are)");
  }
  if (version != 2 && version != 3) {
    const uint32_t swapped = ((version & 0xff) << 24) | ((version & 0xff00) << 8) |
                             ((version >> 8) & 0xff00) | (version >> 24);
    if (swapped == 2 || swapped == 3) {
      return Status(ErrorCode::kUnsupported, "GGUF: big-endian files are not supported");
    }
    return ParseError("unknown version " + Num(version) + " (versions 2 and 3 are supported)");
  }
  h->version = version;
  uint64_t tensor_count, kv_count;
  if (!r.U64(&tensor_count) || !r.U64(&kv_count)) return NeedMore();
  if (tensor_count > GgufLimits::kMaxTensors) {
    return LimitError("the file declares " + Num(tensor_count) + " tensors; the limit is " +
                      Num(GgufLimits::kMaxTensors));
  }
  if (kv_count > GgufLimits::kMaxKeys) {
    return LimitError("the file declares " + Num(kv_count) + " metadata keys; the limit is " +
                      Num(GgufLimits::kMaxKeys));
  }

  uint64_t budget = GgufLimits::kMaxStoredValues;
  std::set<std::string> keys;
  for (uint64_t i = 0; i < kv_count; ++i) {
    GgufKeyValue kv;
    VRAM_RETURN_IF_ERROR(
        ReadString(r, GgufLimits::kMaxKeyBytes, "metadata key " + Num(i), &kv.key));
    if (kv.key.empty()) return ParseError("metadata key " + Num(i) + " is empty");
    if (!keys.insert(kv.key).second) return ParseError("duplicate metadata key " + Quoted(kv.key));
    uint32_t type;
    if (!r.U32(&type)) return NeedMore();
    if (!ValidType(type)) {
      return ParseError("key " + Quoted(kv.key) + " has unknown value type " + Num(type));
    }
    VRAM_RETURN_IF_ERROR(ReadValue(r, static_cast<GgufType>(type), 0, kv.key, &budget, &kv.value));
    h->metadata.push_back(std::move(kv));
  }
  if (const GgufValue* a = h->Find("general.alignment")) {
    if (a->type != GgufType::kUint32) {
      return ParseError(std::string("key 'general.alignment' must be a UINT32, got ") +
                        GgufTypeName(a->type));
    }
    if (a->uint_value == 0 || (a->uint_value & (a->uint_value - 1)) != 0) {
      return ParseError("general.alignment " + Num(a->uint_value) + " is not a power of two");
    }
    h->alignment = static_cast<uint32_t>(a->uint_value);
  }

  std::set<std::string> names;
  for (uint64_t i = 0; i < tensor_count; ++i) {
    GgufTensor t;
    VRAM_RETURN_IF_ERROR(ReadString(r, GgufLimits::kMaxTensorNameBytes,
                                    "the name of tensor " + Num(i) + " (ggml GGML_MAX_NAME)",
                                    &t.name));
    if (!names.insert(t.name).second) return ParseError("duplicate tensor name " + Quoted(t.name));
    if (!r.U32(&t.n_dims)) return NeedMore();
    if (t.n_dims > GgufLimits::kMaxDimensions) {
      return LimitError("tensor " + Quoted(t.name) + " has " + Num(t.n_dims) +
                        " dimensions; the limit is " + Num(GgufLimits::kMaxDimensions));
    }
    uint64_t elements = 1;
    for (uint32_t d = 0; d < t.n_dims; ++d) {
      if (!r.U64(&t.ne[d])) return NeedMore();
      if (t.ne[d] > GgufLimits::kMaxTensorElements) {
        return LimitError("tensor " + Quoted(t.name) + " dimension " + Num(d) + " is " +
                          Num(t.ne[d]) + "; the limit on a dimension is " +
                          Num(GgufLimits::kMaxTensorElements));
      }
    }
    // The product of the non-zero dimensions is bounded, so no product of dimensions (in any
    // order, e.g. ne[2] * ne[3] for stacked experts) can overflow.
    uint64_t extent = 1;
    for (uint32_t d = 0; d < 4; ++d) {
      const uint64_t n = std::max<uint64_t>(t.ne[d], 1);
      if (extent > GgufLimits::kMaxTensorElements / n) {
        return LimitError("tensor " + Quoted(t.name) + " has more than " +
                          Num(GgufLimits::kMaxTensorElements) + " elements (the limit)");
      }
      extent *= n;
      elements *= t.ne[d];
    }
    uint32_t type;
    if (!r.U32(&type)) return NeedMore();
    const GgmlTypeInfo* info = type <= 1024 ? FindGgmlType(static_cast<int32_t>(type)) : nullptr;
    if (info == nullptr) {
      return ParseError("tensor " + Quoted(t.name) + " has unknown ggml type " + Num(type));
    }
    t.ggml_type = static_cast<int32_t>(type);
    if (t.ne[0] % static_cast<uint64_t>(info->block_elements) != 0) {
      return ParseError("tensor " + Quoted(t.name) + " of type " + info->name + " has rows of " +
                        Num(t.ne[0]) + " values, not a multiple of the block of " +
                        Num(static_cast<uint64_t>(info->block_elements)));
    }
    // elements <= 2^44 and block_bytes / block_elements <= 8: no overflow.
    t.bytes = elements / static_cast<uint64_t>(info->block_elements) *
              static_cast<uint64_t>(info->block_bytes);
    if (!r.U64(&t.offset)) return NeedMore();
    h->tensors.push_back(std::move(t));
  }
  h->header_bytes = r.pos();
  h->data_offset = AlignUp(h->header_bytes, h->alignment);

  // Tensors are stored in order, each padded to the alignment (ggml checks the same).
  uint64_t expected = 0;
  for (GgufTensor& t : h->tensors) {
    if (t.offset != expected) {
      return ParseError("tensor " + Quoted(t.name) + " has data offset " + Num(t.offset) +
                        ", expected " + Num(expected) +
                        " (tensors are stored in order, each padded to the alignment)");
    }
    const uint64_t padded = AlignUp(t.bytes, h->alignment);
    if (padded > GgufLimits::kMaxDataBytes - expected) {
      return LimitError("the tensor data is larger than the limit of " +
                        Num(GgufLimits::kMaxDataBytes) + " bytes");
    }
    h->tensor_bytes += t.bytes;
    h->data_end = h->data_offset + t.offset + t.bytes;
    expected += padded;
  }
  h->data_bytes = expected;
  if (h->tensors.empty()) h->data_end = h->header_bytes;
  return Status::Ok();
}

}  // namespace

const char* GgufTypeName(GgufType type) {
  switch (type) {
    case GgufType::kUint8:
      return "UINT8";
    case GgufType::kInt8:
      return "INT8";
    case GgufType::kUint16:
      return "UINT16";
    case GgufType::kInt16:
      return "INT16";
    case GgufType::kUint32:
      return "UINT32";
    case GgufType::kInt32:
      return "INT32";
    case GgufType::kFloat32:
      return "FLOAT32";
    case GgufType::kBool:
      return "BOOL";
    case GgufType::kString:
      return "STRING";
    case GgufType::kArray:
      return "ARRAY";
    case GgufType::kUint64:
      return "UINT64";
    case GgufType::kInt64:
      return "INT64";
    case GgufType::kFloat64:
      return "FLOAT64";
  }
  return "?";
}

bool GgufValue::AsInt(int64_t* out) const {
  switch (type) {
    case GgufType::kUint8:
    case GgufType::kUint16:
    case GgufType::kUint32:
    case GgufType::kUint64:
    case GgufType::kBool:
      if (uint_value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return false;
      *out = static_cast<int64_t>(uint_value);
      return true;
    case GgufType::kInt8:
    case GgufType::kInt16:
    case GgufType::kInt32:
    case GgufType::kInt64:
      *out = int_value;
      return true;
    default:
      return false;
  }
}

const GgufValue* GgufHeader::Find(std::string_view key) const {
  for (const GgufKeyValue& kv : metadata) {
    if (kv.key == key) return &kv.value;
  }
  return nullptr;
}

Result<GgufParse> ParseGgufHeader(std::string_view prefix, uint64_t file_size) {
  Reader r(prefix, GgufLimits::kMaxHeaderBytes);
  GgufParse result;
  Status status = ParseHeader(r, &result.header);
  if (!status.ok()) {
    if (r.need() == 0) return status;
    const uint64_t need = r.need();
    if (need > GgufLimits::kMaxHeaderBytes) {
      return LimitError("the header is longer than the limit of " +
                        Num(GgufLimits::kMaxHeaderBytes) + " bytes (it needs at least " +
                        Num(need) + ")");
    }
    if (file_size > 0 && need > file_size) {
      return ParseError("the file is truncated: its header needs at least " + Num(need) +
                        " bytes but the file has " + Num(file_size));
    }
    result.bytes_needed = need;
    return result;
  }
  const GgufHeader& h = result.header;
  if (file_size > 0 && h.data_end > file_size) {
    return ParseError("the file is truncated: its tensor data ends at byte " + Num(h.data_end) +
                      " but the file has " + Num(file_size) + " bytes");
  }
  result.complete = true;
  return result;
}

// --- Split files ------------------------------------------------------------------------------

Result<GgufSplit> GgufSplitOf(const GgufHeader& header) {
  GgufSplit split;
  const GgufValue* no = header.Find("split.no");
  const GgufValue* count = header.Find("split.count");
  const GgufValue* total = header.Find("split.tensors.count");
  if (no == nullptr && count == nullptr) return split;
  int64_t n = 0, c = 0, t = 0;
  if (no == nullptr || count == nullptr || !no->AsInt(&n) || !count->AsInt(&c) || c < 1 ||
      c > 99999 || n < 0 || n >= c) {
    return ParseError(
        "split.no and split.count must be integers with 0 <= split.no < split.count <= 99999");
  }
  if (total != nullptr && (!total->AsInt(&t) || t < 0)) {
    return ParseError("split.tensors.count must be a non-negative integer");
  }
  split.index = n;
  split.count = c;
  split.tensors_total = t;
  return split;
}

std::vector<std::string> GgufSplitPaths(std::string_view path) {
  // <prefix>-NNNNN-of-MMMMM.gguf (llama.cpp llama_split_path: "%s-%05d-of-%05d.gguf").
  constexpr std::string_view kSuffix = ".gguf";
  constexpr size_t kTail = 1 + 5 + 4 + 5;  // "-00001-of-00003"
  if (path.size() < kTail + kSuffix.size() ||
      path.substr(path.size() - kSuffix.size()) != kSuffix) {
    return {std::string(path)};
  }
  const std::string_view tail = path.substr(path.size() - kSuffix.size() - kTail, kTail);
  auto digits = [](std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (tail[0] != '-' || !digits(tail.substr(1, 5)) || tail.substr(6, 4) != "-of-" ||
      !digits(tail.substr(10, 5))) {
    return {std::string(path)};
  }
  int count = 0;
  for (char c : tail.substr(10, 5)) count = count * 10 + (c - '0');
  if (count < 1) return {std::string(path)};
  const std::string prefix(path.substr(0, path.size() - kSuffix.size() - kTail));
  std::vector<std::string> parts;
  for (int i = 1; i <= count; ++i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "-%05d-of-%05d.gguf", i, count);
    parts.push_back(prefix + buf);
  }
  return parts;
}

// --- GGUF -> ModelDescription -------------------------------------------------------------------

namespace {

class Keys {
 public:
  Keys(const GgufHeader& header, std::string arch) : h_(header), arch_(std::move(arch)) {}

  std::string Key(const char* suffix) const { return arch_ + "." + suffix; }
  const GgufValue* Find(const char* suffix) const { return h_.Find(Key(suffix)); }

  /// An integer key {arch}.suffix in [min, max]; absent -> fallback unless required.
  Status Int(const char* suffix, int64_t min, int64_t max, bool required, int64_t fallback,
             int64_t* out) const {
    const std::string key = Key(suffix);
    const GgufValue* v = h_.Find(key);
    if (v == nullptr) {
      if (required) return ParseError("key " + Quoted(key) + " is missing");
      *out = fallback;
      return Status::Ok();
    }
    return Check(key, *v, min, max, out);
  }

  /// A key that is either one integer or one per layer.
  Status PerLayer(const char* suffix, int64_t layers, int64_t min, int64_t max, bool required,
                  int64_t fallback, std::vector<int64_t>* out) const {
    const std::string key = Key(suffix);
    const GgufValue* v = h_.Find(key);
    out->assign(static_cast<size_t>(layers), fallback);
    if (v == nullptr) {
      if (required) return ParseError("key " + Quoted(key) + " is missing");
      return Status::Ok();
    }
    if (v->type != GgufType::kArray) {
      int64_t x;
      VRAM_RETURN_IF_ERROR(Check(key, *v, min, max, &x));
      out->assign(static_cast<size_t>(layers), x);
      return Status::Ok();
    }
    if (v->length != static_cast<uint64_t>(layers) || v->elements.size() != v->length) {
      return ParseError("key " + Quoted(key) + " must hold one value per layer (" +
                        std::to_string(layers) + "), it has " + Num(v->length));
    }
    for (size_t i = 0; i < v->elements.size(); ++i) {
      VRAM_RETURN_IF_ERROR(
          Check(key + "[" + std::to_string(i) + "]", v->elements[i], min, max, &(*out)[i]));
    }
    return Status::Ok();
  }

 private:
  static Status Check(const std::string& key, const GgufValue& v, int64_t min, int64_t max,
                      int64_t* out) {
    int64_t x = 0;
    const std::string range =
        "an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
    if (!v.AsInt(&x)) {
      return ParseError("key " + Quoted(key) + " must be " + range + ", got a " +
                        GgufTypeName(v.type));
    }
    if (x < min || x > max) {
      return Status(ErrorCode::kOutOfRange, std::string(kWhere) + "key " + Quoted(key) +
                                                " must be " + range + ", got " + std::to_string(x));
    }
    *out = x;
    return Status::Ok();
  }

  const GgufHeader& h_;
  std::string arch_;
};

/// A tensor name split into its parts: blk.<layer>.<base>.<suffix> or <base>.<suffix>.
struct NameParts {
  int64_t layer = -1;
  std::string base;
  std::string suffix;  ///< "weight", "bias", ... ("" when the name has no dot)
};

NameParts SplitName(const std::string& name) {
  NameParts p;
  std::string_view rest = name;
  if (rest.substr(0, 4) == "blk.") {
    size_t i = 4;
    int64_t layer = 0;
    while (i < rest.size() && i < 4 + 7 && rest[i] >= '0' && rest[i] <= '9') {
      layer = layer * 10 + (rest[i] - '0');
      ++i;
    }
    if (i > 4 && i < rest.size() && rest[i] == '.') {
      p.layer = layer;
      rest = rest.substr(i + 1);
    }
  }
  const size_t dot = rest.rfind('.');
  if (dot == std::string_view::npos) {
    p.base = std::string(rest);
  } else {
    p.base = std::string(rest.substr(0, dot));
    p.suffix = std::string(rest.substr(dot + 1));
  }
  return p;
}

bool EndsWith(const std::string& s, std::string_view tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

/// The role of a tensor from its GGUF base name (llama.cpp LLM_TENSOR_NAMES).
TensorRole RoleOf(const NameParts& p, bool* known) {
  struct Entry {
    const char* base;
    TensorRole role;
  };
  static const Entry kGlobal[] = {
      {"token_embd", TensorRole::kTokenEmbedding},
      {"position_embd", TensorRole::kPositionEmbedding},
      {"output", TensorRole::kOutputHead},
      {"output_norm", TensorRole::kNorm},
      {"token_embd_norm", TensorRole::kNorm},
      {"rope_freqs", TensorRole::kOther},
      {"rope_factors_long", TensorRole::kOther},
      {"rope_factors_short", TensorRole::kOther},
  };
  static const Entry kLayer[] = {
      {"attn_q", TensorRole::kAttnQ},
      {"attn_k", TensorRole::kAttnK},
      {"attn_v", TensorRole::kAttnV},
      {"attn_qkv", TensorRole::kAttnQkv},
      {"attn_output", TensorRole::kAttnOutput},
      {"attn_q_a", TensorRole::kAttnQA},
      {"attn_q_b", TensorRole::kAttnQB},
      {"attn_kv_a_mqa", TensorRole::kAttnKvA},
      {"attn_kv_b", TensorRole::kAttnKvB},
      {"attn_k_b", TensorRole::kAttnKvB},
      {"attn_v_b", TensorRole::kAttnKvB},
      {"attn_sinks", TensorRole::kAttnSinks},
      {"ffn_gate", TensorRole::kFfnGate},
      {"ffn_up", TensorRole::kFfnUp},
      {"ffn_down", TensorRole::kFfnDown},
      {"ffn_gate_inp", TensorRole::kRouter},
      {"exp_probs_b", TensorRole::kRouter},
      {"ffn_gate_exps", TensorRole::kExpertGate},
      {"ffn_up_exps", TensorRole::kExpertUp},
      {"ffn_gate_up_exps", TensorRole::kExpertUp},
      {"ffn_down_exps", TensorRole::kExpertDown},
      {"ffn_gate_shexp", TensorRole::kSharedExpertGate},
      {"ffn_up_shexp", TensorRole::kSharedExpertUp},
      {"ffn_down_shexp", TensorRole::kSharedExpertDown},
      {"ffn_gate_inp_shexp", TensorRole::kSharedExpertRouter},
      // Recurrent layers (gated DeltaNet, Mamba): llama.cpp LLM_TENSOR_SSM_*, ATTN_GATE.
      {"attn_gate", TensorRole::kSsmIn},
      {"ssm_in", TensorRole::kSsmIn},
      {"ssm_ba", TensorRole::kSsmIn},
      {"ssm_conv1d", TensorRole::kSsmConv},
      {"ssm_dt", TensorRole::kSsmParam},
      {"ssm_a", TensorRole::kSsmParam},
      {"ssm_d", TensorRole::kSsmParam},
      {"ssm_out", TensorRole::kSsmOut},
  };
  *known = true;
  if (p.layer < 0) {
    for (const Entry& e : kGlobal) {
      if (p.base == e.base) return e.role;
    }
    *known = false;
    return TensorRole::kOther;
  }
  for (const Entry& e : kLayer) {
    if (p.base == e.base) return e.role;
  }
  // Unstacked experts of early Mixtral files: blk.N.ffn_gate.E (LLM_TENSOR_FFN_GATE_EXP).
  for (const auto& [prefix, role] :
       {std::pair<const char*, TensorRole>{"ffn_gate.", TensorRole::kExpertGate},
        {"ffn_up.", TensorRole::kExpertUp},
        {"ffn_down.", TensorRole::kExpertDown}}) {
    const size_t n = std::strlen(prefix);
    if (p.base.size() > n && p.base.compare(0, n, prefix) == 0 &&
        std::all_of(p.base.begin() + static_cast<std::ptrdiff_t>(n), p.base.end(),
                    [](char c) { return c >= '0' && c <= '9'; })) {
      return role;
    }
  }
  if (EndsWith(p.base, "norm") || EndsWith(p.base, "norm_2")) return TensorRole::kNorm;
  *known = false;
  return TensorRole::kOther;
}

struct Placed {
  const GgufTensor* tensor;
  NameParts parts;
};

/// The weight (not bias) tensor of `base` in one layer's list, or nullptr.
const GgufTensor* LayerWeight(const std::vector<Placed>& layer, const char* base) {
  for (const Placed& p : layer) {
    if (p.parts.base == base && p.parts.suffix == "weight") return p.tensor;
  }
  return nullptr;
}

DType DTypeOfFileType(int64_t file_type) {
  // llama_ftype: 0 ALL_F32, 1 MOSTLY_F16, 32 MOSTLY_BF16; quantized files were made from bf16
  // or f16 checkpoints, which the header does not record.
  switch (file_type) {
    case 0:
      return DType::kF32;
    case 1:
      return DType::kF16;
    default:
      return DType::kBF16;
  }
}

/// Orders the parts of a split model and checks that they belong together.
Result<std::vector<const GgufHeader*>> OrderParts(const std::vector<GgufHeader>& parts) {
  if (parts.empty()) return ParseError("no header given");
  std::vector<std::pair<GgufSplit, const GgufHeader*>> indexed;
  for (const GgufHeader& h : parts) {
    Result<GgufSplit> split = GgufSplitOf(h);
    if (!split.ok()) return split.status();
    indexed.emplace_back(*split, &h);
  }
  const GgufSplit first = indexed.front().first;
  if (static_cast<size_t>(first.count) != parts.size()) {
    return ParseError(
        "the model is split into " + std::to_string(first.count) + " files but " +
        std::to_string(parts.size()) +
        " were given; give every part (name-00001-of-0000N.gguf ... -0000N-of-0000N.gguf)");
  }
  std::sort(indexed.begin(), indexed.end(),
            [](const auto& a, const auto& b) { return a.first.index < b.first.index; });
  std::vector<const GgufHeader*> ordered;
  uint64_t tensors = 0;
  for (size_t i = 0; i < indexed.size(); ++i) {
    if (indexed[i].first.count != first.count ||
        indexed[i].first.index != static_cast<int64_t>(i)) {
      return ParseError("the split parts do not fit together: expected part " +
                        std::to_string(i + 1) + " of " + std::to_string(first.count));
    }
    tensors += indexed[i].second->tensors.size();
    ordered.push_back(indexed[i].second);
  }
  const int64_t total = indexed.front().first.tensors_total;
  if (first.count > 1 && total > 0 && static_cast<uint64_t>(total) != tensors) {
    return ParseError("split.tensors.count says " + std::to_string(total) +
                      " tensors but the parts hold " + std::to_string(tensors));
  }
  return ordered;
}

}  // namespace

/// Gated DeltaNet layers (qwen3next, qwen35, qwen35moe): which layers are recurrent
/// ({arch}.attention.recurrent_layers, else every layer but each full_attention_interval-th,
/// default 4) and their state: llama.cpp n_embd_r = (ssm.conv_kernel - 1) x (ssm.inner_size + 2 x
/// ssm.group_count x ssm.state_size), n_embd_s = ssm.state_size x ssm.inner_size
/// (src/llama-hparams.cpp, src/models/qwen3next.cpp).
Status MarkDeltaNetLayers(const Keys& keys, int64_t layers, AttentionGeometry* g) {
  constexpr int64_t kMaxDim = ConfigLimits::kMaxDimension;
  int64_t conv = 0, state = 0, groups = 0, inner = 0, interval = 4;
  VRAM_RETURN_IF_ERROR(keys.Int("ssm.conv_kernel", 1, 1024, true, 0, &conv));
  VRAM_RETURN_IF_ERROR(keys.Int("ssm.state_size", 1, kMaxDim, true, 0, &state));
  VRAM_RETURN_IF_ERROR(keys.Int("ssm.group_count", 1, kMaxDim, true, 0, &groups));
  VRAM_RETURN_IF_ERROR(keys.Int("ssm.inner_size", 1, kMaxDim, true, 0, &inner));
  VRAM_RETURN_IF_ERROR(keys.Int("full_attention_interval", 1, layers, false, 4, &interval));
  std::vector<bool> recurrent(static_cast<size_t>(layers), false);
  if (const GgufValue* list = keys.Find("attention.recurrent_layers")) {
    if (list->type != GgufType::kArray || list->elements.size() < static_cast<size_t>(layers)) {
      return Status(ErrorCode::kParseError,
                    "gguf: key '" + keys.Key("attention.recurrent_layers") + "' must hold one flag per layer",
                    keys.Key("attention.recurrent_layers"));
    }
    for (int64_t i = 0; i < layers; ++i) {
      int64_t flag = 0;
      if (!list->elements[static_cast<size_t>(i)].AsInt(&flag)) {
        return Status(ErrorCode::kParseError,
                      "gguf: key '" + keys.Key("attention.recurrent_layers") + "' must hold BOOL flags",
                      keys.Key("attention.recurrent_layers"));
      }
      recurrent[static_cast<size_t>(i)] = flag != 0;
    }
  } else {
    for (int64_t i = 0; i < layers; ++i) recurrent[static_cast<size_t>(i)] = (i + 1) % interval != 0;
  }
  for (int64_t i = 0; i < layers; ++i) {
    if (!recurrent[static_cast<size_t>(i)]) continue;
    LayerAttention& l = g->layers[static_cast<size_t>(i)];
    l = LayerAttention{AttentionKind::kNone, 0, 0};
    l.conv_state_values = (conv - 1) * (inner + 2 * groups * state);
    l.recurrent_state_values = state * inner;
  }
  return Status::Ok();
}

Result<GgufModel> ModelFromGguf(const std::vector<GgufHeader>& parts) {
  Result<std::vector<const GgufHeader*>> ordered_or = OrderParts(parts);
  if (!ordered_or.ok()) return ordered_or.status();
  const std::vector<const GgufHeader*>& ordered = *ordered_or;
  const GgufHeader& head = *ordered.front();

  GgufModel out;
  ModelDescription& model = out.model;
  const GgufValue* arch_value = head.Find("general.architecture");
  if (arch_value == nullptr || arch_value->type != GgufType::kString ||
      arch_value->string_value.empty()) {
    return ParseError("key 'general.architecture' (a STRING) is missing");
  }
  out.gguf_architecture = arch_value->string_value;
  if (const GgufValue* name = head.Find("general.name");
      name != nullptr && name->type == GgufType::kString) {
    out.name = name->string_value;
  }
  const std::string& arch_name = out.gguf_architecture;
  const internal::Family* arch = internal::FamilyByGgufArch(arch_name);
  const Keys keys(head, arch_name);
  constexpr int64_t kMaxDim = ConfigLimits::kMaxDimension;

  int64_t block_count, hidden, nextn = 0;
  VRAM_RETURN_IF_ERROR(keys.Int("block_count", 1, ConfigLimits::kMaxLayers, true, 0, &block_count));
  VRAM_RETURN_IF_ERROR(keys.Int("embedding_length", 1, kMaxDim, true, 0, &hidden));
  VRAM_RETURN_IF_ERROR(keys.Int("nextn_predict_layers", 0, block_count - 1, false, 0, &nextn));
  const int64_t layers = block_count - nextn;

  // Place every tensor: global, in a layer, or in a skipped multi-token-prediction layer.
  std::vector<Placed> globals;
  std::vector<std::vector<Placed>> by_layer(static_cast<size_t>(layers));
  std::vector<const GgufTensor*> file_order;
  std::vector<NameParts> file_parts;
  for (const GgufHeader* part : ordered) {
    out.file_bytes += part->data_end;
    for (const GgufTensor& t : part->tensors) {
      NameParts p = SplitName(t.name);
      if (p.layer >= block_count) {
        return ParseError("tensor " + Quoted(t.name) + " belongs to layer " +
                          std::to_string(p.layer) + " but block_count is " +
                          std::to_string(block_count));
      }
      if (p.layer >= layers) {
        out.skipped_bytes += t.bytes;
        continue;
      }
      if (p.layer >= 0) {
        by_layer[static_cast<size_t>(p.layer)].push_back({&t, p});
      } else {
        globals.push_back({&t, p});
      }
      file_order.push_back(&t);
      file_parts.push_back(std::move(p));
    }
  }
  const GgufTensor* token_embd = nullptr;
  const GgufTensor* output = nullptr;
  bool position_embd = false, score_bias = false;
  for (const Placed& g : globals) {
    if (g.parts.suffix != "weight") continue;
    if (g.parts.base == "token_embd") token_embd = g.tensor;
    if (g.parts.base == "output") output = g.tensor;
    if (g.parts.base == "position_embd") position_embd = true;
  }
  for (const auto& layer : by_layer) {
    for (const Placed& p : layer) score_bias = score_bias || p.parts.base == "exp_probs_b";
  }
  if (token_embd == nullptr) {
    return ParseError(
        "there is no token_embd.weight tensor: this is not a language model "
        "(a LoRA adapter or a multimodal projector has none)");
  }
  if (token_embd->n_dims != 2 || token_embd->ne[0] != static_cast<uint64_t>(hidden) ||
      token_embd->ne[1] < 1 || token_embd->ne[1] > static_cast<uint64_t>(kMaxDim)) {
    return ParseError("token_embd.weight must have the shape [" + std::to_string(hidden) +
                      ", vocab] with vocab in [1, " + std::to_string(kMaxDim) + "]");
  }

  int64_t experts = 0, experts_used = 0, context = 0, file_type = -1;
  VRAM_RETURN_IF_ERROR(keys.Int("expert_count", 0, ConfigLimits::kMaxExperts, false, 0, &experts));
  VRAM_RETURN_IF_ERROR(
      keys.Int("expert_used_count", 0, ConfigLimits::kMaxExperts, false, 0, &experts_used));
  VRAM_RETURN_IF_ERROR(keys.Int("context_length", 0, int64_t{1} << 30, false, 0, &context));
  if (const GgufValue* ft = head.Find("general.file_type")) {
    if (!ft->AsInt(&file_type)) file_type = -1;
  }

  model.architecture = arch != nullptr ? arch->hf_type : arch_name;
  if (arch_name == "llama" && experts > 0) model.architecture = "mixtral";
  if (arch_name == "deepseek2" && !score_bias) model.architecture = "deepseek_v2";
  model.vocab_size = static_cast<int64_t>(token_embd->ne[1]);
  model.hidden_size = hidden;
  model.max_context_tokens = context;
  model.tied_embeddings = output == nullptr;
  model.learned_position_embeddings = position_embd;
  model.checkpoint_dtype = DTypeOfFileType(file_type);
  if (arch == nullptr) {
    model.warnings.push_back("architecture '" + arch_name.substr(0, 40) +
                             "' is not one the calculator knows; the geometry comes from the "
                             "generic {arch}.* keys and the tensors as stored");
  }

  // Attention geometry.
  std::vector<int64_t> heads, kv_heads;
  VRAM_RETURN_IF_ERROR(
      keys.PerLayer("attention.head_count", block_count, 0, kMaxDim, true, 0, &heads));
  int64_t max_heads = 0;
  for (int64_t i = 0; i < layers; ++i)
    max_heads = std::max(max_heads, heads[static_cast<size_t>(i)]);
  if (max_heads < 1)
    return ParseError("key '" + keys.Key("attention.head_count") + "' must be at least 1");
  VRAM_RETURN_IF_ERROR(keys.PerLayer("attention.head_count_kv", block_count, 0, max_heads, false,
                                     max_heads, &kv_heads));
  int64_t key_length, value_length, key_mla = 0, value_mla = 0, kv_lora_rank = 0, rope_dim = 0;
  VRAM_RETURN_IF_ERROR(keys.Int("attention.key_length", 1, kMaxDim, false,
                                std::max<int64_t>(hidden / max_heads, 1), &key_length));
  VRAM_RETURN_IF_ERROR(
      keys.Int("attention.value_length", 1, kMaxDim, false, key_length, &value_length));
  VRAM_RETURN_IF_ERROR(keys.Int("attention.kv_lora_rank", 0, kMaxDim, false, 0, &kv_lora_rank));
  VRAM_RETURN_IF_ERROR(keys.Int("attention.key_length_mla", 0, kMaxDim, false, 0, &key_mla));
  VRAM_RETURN_IF_ERROR(keys.Int("attention.value_length_mla", 0, kMaxDim, false, 0, &value_mla));
  VRAM_RETURN_IF_ERROR(keys.Int("rope.dimension_count", 0, kMaxDim, false, 0, &rope_dim));

  AttentionGeometry& g = model.attention;
  g.num_layers = layers;
  g.hidden_size = hidden;
  g.num_query_heads = max_heads;
  g.key_head_dim = key_length;
  g.value_head_dim = value_length;
  const bool mla = kv_lora_rank > 0;
  int64_t max_kv = 0;
  for (int64_t i = 0; i < layers; ++i) max_kv = std::max(max_kv, kv_heads[static_cast<size_t>(i)]);
  g.num_kv_heads = max_kv;
  if (mla) {
    // llama.cpp stores MLA as MQA over the latent (key_length = kv_lora_rank + rope) since
    // PR 12801, with the per-head sizes in *_mla; older files have the per-head sizes in
    // key_length/value_length. Either way a decompressing runtime caches per query head.
    if (key_mla > 0) g.key_head_dim = key_mla;
    if (value_mla > 0) g.value_head_dim = value_mla;
    g.num_kv_heads = max_heads;
    g.mla_kv_lora_rank = kv_lora_rank;
    g.mla_rope_head_dim = rope_dim;
  }
  int64_t window = 0;
  VRAM_RETURN_IF_ERROR(
      keys.Int("attention.sliding_window", 0, int64_t{1} << 30, false, -1, &window));
  const bool window_given = window >= 0;
  if (!window_given) {
    window = arch != nullptr && arch->gguf_windows != internal::WindowLayers::kNone ? arch->default_window : 0;
  }
  std::vector<bool> sliding(static_cast<size_t>(layers), false);
  if (const GgufValue* pattern = keys.Find("attention.sliding_window_pattern");
      pattern != nullptr && window > 0) {
    // Newer files state the pattern: one flag per layer, or every n-th layer dense.
    if (pattern->type == GgufType::kArray) {
      if (pattern->length < static_cast<uint64_t>(layers) ||
          pattern->elements.size() < static_cast<size_t>(layers)) {
        return ParseError("key '" + keys.Key("attention.sliding_window_pattern") +
                          "' must hold one flag per layer");
      }
      for (int64_t i = 0; i < layers; ++i) {
        int64_t flag = 0;
        if (!pattern->elements[static_cast<size_t>(i)].AsInt(&flag)) {
          return ParseError("key '" + keys.Key("attention.sliding_window_pattern") +
                            "' must hold BOOL flags");
        }
        sliding[static_cast<size_t>(i)] = flag != 0;
      }
    } else {
      int64_t n = 0;
      VRAM_RETURN_IF_ERROR(
          keys.Int("attention.sliding_window_pattern", 1, ConfigLimits::kMaxLayers, true, 0, &n));
      for (int64_t i = 0; i < layers; ++i) sliding[static_cast<size_t>(i)] = n > 1 && i % n < n - 1;
    }
  } else if (arch != nullptr && arch->gguf_windows != internal::WindowLayers::kNone && window > 0) {
    for (int64_t i = 0; i < layers; ++i) {
      sliding[static_cast<size_t>(i)] = arch->gguf_windows == internal::WindowLayers::kEvery ||
                                        internal::SlidesInPattern(i, arch->window_pattern);
    }
    if (!window_given) {
      model.warnings.push_back(keys.Key("attention.sliding_window") +
                               " is missing; assumed a window of " + std::to_string(window) +
                               " tokens");
    }
  } else if (window_given && window > 0 && arch == nullptr) {
    model.warnings.push_back(
        "the file states a sliding window but not which layers use it; "
        "assumed full attention on every layer");
  }
  g.layers.resize(static_cast<size_t>(layers));
  for (int64_t i = 0; i < layers; ++i) {
    LayerAttention& l = g.layers[static_cast<size_t>(i)];
    const int64_t kv = kv_heads[static_cast<size_t>(i)];
    l.num_kv_heads = mla ? max_heads : kv;
    if (mla) {
      l.kind = AttentionKind::kMla;
    } else if (kv == 0 || heads[static_cast<size_t>(i)] == 0) {
      l.kind = AttentionKind::kNone;
      l.num_kv_heads = 0;
    } else if (sliding[static_cast<size_t>(i)]) {
      l.kind = AttentionKind::kSlidingWindow;
      l.window_tokens = window;
    }
  }

  if (arch != nullptr && arch->delta_net) {
    VRAM_RETURN_IF_ERROR(MarkDeltaNetLayers(keys, layers, &g));
  }

  // Feed-forward per layer, from the tensors' shapes.
  std::vector<int64_t> ff_length;
  VRAM_RETURN_IF_ERROR(
      keys.PerLayer("feed_forward_length", block_count, 0, kMaxDim, false, 0, &ff_length));
  model.feed_forward.resize(static_cast<size_t>(layers));
  bool expert_count_warned = false;
  for (int64_t i = 0; i < layers; ++i) {
    const std::vector<Placed>& lt = by_layer[static_cast<size_t>(i)];
    LayerFeedForward& f = model.feed_forward[static_cast<size_t>(i)];
    f.intermediate_size = ff_length[static_cast<size_t>(i)];
    const GgufTensor* down = LayerWeight(lt, "ffn_down");
    const GgufTensor* up = LayerWeight(lt, "ffn_up");
    const GgufTensor* gate = LayerWeight(lt, "ffn_gate");
    const GgufTensor* down_exps = LayerWeight(lt, "ffn_down_exps");
    const GgufTensor* gate_exps = LayerWeight(lt, "ffn_gate_exps");
    const GgufTensor* gate_up_exps = LayerWeight(lt, "ffn_gate_up_exps");
    const GgufTensor* down_shexp = LayerWeight(lt, "ffn_down_shexp");
    bool unstacked = false;
    for (const Placed& p : lt) unstacked = unstacked || p.parts.base.rfind("ffn_down.", 0) == 0;
    if (down != nullptr) {
      f.intermediate_size = static_cast<int64_t>(down->ne[0]);
      f.gated = gate != nullptr || (up != nullptr && up->ne[1] == 2 * down->ne[0]);
    } else if (down_exps != nullptr || unstacked) {
      f.moe = true;
      f.gated = gate_exps != nullptr || gate_up_exps != nullptr || unstacked;
      int64_t stored = 0;
      if (down_exps != nullptr) {
        f.expert_intermediate_size = static_cast<int64_t>(down_exps->ne[0]);
        stored = static_cast<int64_t>(down_exps->ne[2] * down_exps->ne[3]);
      } else {
        for (const Placed& p : lt) {
          if (p.parts.base.rfind("ffn_down.", 0) == 0 && p.parts.suffix == "weight") {
            f.expert_intermediate_size = static_cast<int64_t>(p.tensor->ne[0]);
          }
        }
      }
      // The stacked tensors hold the experts that are stored (and sized); the key is a check.
      f.num_experts = stored > 0 ? stored : experts;
      if (experts > 0 && stored > 0 && stored != experts && !expert_count_warned) {
        expert_count_warned = true;
        model.warnings.push_back(keys.Key("expert_count") + " says " + std::to_string(experts) +
                                 " experts but the tensors hold " + std::to_string(stored) +
                                 "; the tensors are used");
      }
      if (f.num_experts < 1 || f.num_experts > ConfigLimits::kMaxExperts) {
        return ParseError("layer " + std::to_string(i) + " has routed experts but '" +
                          keys.Key("expert_count") + "' is missing or out of range");
      }
      if (experts_used < 1 || experts_used > f.num_experts) {
        return ParseError("layer " + std::to_string(i) + " has routed experts; key '" +
                          keys.Key("expert_used_count") + "' must be an integer in [1, " +
                          std::to_string(f.num_experts) + "]");
      }
      f.experts_per_token = experts_used;
      if (down_shexp != nullptr)
        f.shared_intermediate_size = static_cast<int64_t>(down_shexp->ne[0]);
    }
  }

  // Inventory: every tensor of the file, in file order, with its role. Phi-3 stores gate and up
  // in one ffn_up tensor: a gated layer without ffn_gate (looked up once per layer).
  std::vector<bool> fused_gate_up(static_cast<size_t>(layers), false);
  for (int64_t i = 0; i < layers; ++i) {
    fused_gate_up[static_cast<size_t>(i)] =
        model.feed_forward[static_cast<size_t>(i)].gated &&
        LayerWeight(by_layer[static_cast<size_t>(i)], "ffn_gate") == nullptr;
  }
  std::vector<StoredTensor> stored;
  stored.reserve(file_order.size());
  model.tensors.reserve(file_order.size());
  int unknown = 0;
  std::string first_unknown;
  for (size_t k = 0; k < file_order.size(); ++k) {
    const GgufTensor& t = *file_order[k];
    const NameParts& p = file_parts[k];
    bool known = true;
    TensorInfo info;
    info.name = t.name;
    info.role = RoleOf(p, &known);
    info.is_bias = p.suffix == "bias";
    info.layer = static_cast<int32_t>(p.layer);
    info.n_dims = static_cast<int32_t>(t.n_dims);
    info.ne[0] = static_cast<int64_t>(t.ne[0]);
    info.ne[1] = static_cast<int64_t>(t.ne[1]);
    info.ne[2] = static_cast<int64_t>(t.ne[2] * t.ne[3]);  // <= 2^44 (checked by the parser)
    if (info.role == TensorRole::kFfnUp && p.layer >= 0 &&
        fused_gate_up[static_cast<size_t>(p.layer)]) {
      info.role = TensorRole::kFfnGateUp;
    }
    if (!known) {
      if (unknown++ == 0) first_unknown = t.name;
    }
    model.tensors.push_back(std::move(info));
    const GgmlTypeInfo* type = FindGgmlType(t.ggml_type);
    StoredTensor s;
    s.type = type->name;
    s.bytes = t.bytes;
    s.quantized = type->block_elements > 1;
    s.ggml_type = t.ggml_type;
    stored.push_back(std::move(s));
  }
  if (unknown > 0) {
    model.warnings.push_back(std::to_string(unknown) +
                             " tensor(s) have no role the calculator knows (e.g. " +
                             Quoted(first_unknown) + "); they are counted as stored");
  }
  if (out.skipped_bytes > 0) {
    model.warnings.push_back(std::to_string(out.skipped_bytes) + " bytes of " +
                             std::to_string(nextn) +
                             " multi-token-prediction layer(s) are in the file but not counted: "
                             "llama.cpp does not load them");
  }

  DeriveTraits(&model);
  WeightFormat format;
  format.id = "gguf-file";
  format.scheme = QuantScheme::kGgufFile;
  format.dense_dtype = DType::kF32;
  Result<WeightPlan> plan = PlanWeightsAsStored(model, format, stored);
  if (!plan.ok()) return plan.status();
  out.weights = std::move(plan).value();
  return out;
}

std::string GgufHeaderToJson(const GgufHeader& header) {
  using Json = nlohmann::ordered_json;
  struct Convert {
    static Json Value(const GgufValue& v) {
      Json j;
      j["type"] = GgufTypeName(v.type);
      switch (v.type) {
        case GgufType::kUint8:
        case GgufType::kUint16:
        case GgufType::kUint32:
          j["value"] = v.uint_value;
          break;
        case GgufType::kInt8:
        case GgufType::kInt16:
        case GgufType::kInt32:
          j["value"] = v.int_value;
          break;
        case GgufType::kUint64:
          j["value"] = std::to_string(v.uint_value);
          break;
        case GgufType::kInt64:
          j["value"] = std::to_string(v.int_value);
          break;
        case GgufType::kFloat32:
        case GgufType::kFloat64:
          j["value"] = v.float_value;
          break;
        case GgufType::kBool:
          j["value"] = v.uint_value != 0;
          break;
        case GgufType::kString:
          j["value"] = v.string_value;
          break;
        case GgufType::kArray: {
          j["element_type"] = GgufTypeName(v.element_type);
          j["length"] = v.length;
          Json items = Json::array();
          for (const GgufValue& e : v.elements) {
            Json item = Value(e);
            items.push_back(item.contains("value") ? item["value"] : item);
          }
          j["values"] = std::move(items);
          break;
        }
      }
      return j;
    }
  };
  Json j;
  j["version"] = header.version;
  j["alignment"] = header.alignment;
  j["header_bytes"] = header.header_bytes;
  j["data_offset"] = header.data_offset;
  j["data_bytes"] = header.data_bytes;
  j["tensor_bytes"] = header.tensor_bytes;
  Json metadata = Json::array();
  for (const GgufKeyValue& kv : header.metadata) {
    Json entry = Convert::Value(kv.value);
    entry["key"] = kv.key;
    metadata.push_back(std::move(entry));
  }
  j["metadata"] = std::move(metadata);
  Json tensors = Json::array();
  for (const GgufTensor& t : header.tensors) {
    Json e;
    e["name"] = t.name;
    Json shape = Json::array();
    for (uint32_t d = 0; d < t.n_dims; ++d) shape.push_back(std::to_string(t.ne[d]));
    e["shape"] = std::move(shape);
    e["type"] = t.ggml_type;
    e["offset"] = std::to_string(t.offset);
    e["bytes"] = std::to_string(t.bytes);
    tensors.push_back(std::move(e));
  }
  j["tensors"] = std::move(tensors);
  return j.dump(-1, ' ', false, nlohmann::detail::error_handler_t::replace);
}

}  // namespace vram
