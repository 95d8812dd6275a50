// safetensors headers and index files, read with a streaming (SAX) JSON parser so that memory
// stays proportional to what is kept, not to the text; and the mapping of a checkpoint's
// Hugging Face tensor names onto the model's GGUF-named inventory.

#include "vram/safetensors.h"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include "json_fields.h"
#include "numeric.h"

namespace vram {
namespace {

using internal::Json;

using internal::Num;
using internal::Quoted;

struct DtypeBits {
  const char* name;
  int bits;
};
// safetensors/src/tensor.rs, Dtype::bitsize (v0.6): F4 and the F6 types are MX element types.
constexpr DtypeBits kDtypes[] = {
    {"BOOL", 8}, {"F4", 4},      {"F6_E2M3", 6}, {"F6_E3M2", 6}, {"U8", 8},
    {"I8", 8},   {"F8_E5M2", 8}, {"F8_E4M3", 8}, {"F8_E8M0", 8}, {"I16", 16},
    {"U16", 16}, {"F16", 16},    {"BF16", 16},   {"I32", 32},    {"U32", 32},
    {"F32", 32}, {"C64", 64},    {"F64", 64},    {"I64", 64},    {"U64", 64},
};

std::string KnownDtypes() {
  std::string s;
  for (const DtypeBits& d : kDtypes) s += (s.empty() ? "" : ", ") + std::string(d.name);
  return s;
}

/// The JSON header of one file, read event by event.
class HeaderHandler {
 public:
  explicit HeaderHandler(SafetensorsHeader* out) : out_(out) {}

  const Status& status() const { return status_; }

  bool null() { return Scalar("null"); }
  bool boolean(bool) { return Scalar("a boolean"); }
  bool number_integer(int64_t v) {
    if (v < 0 && (section_ == kShape || section_ == kOffsets)) {
      return Fail(Where() + " must hold non-negative integers");
    }
    return Number(static_cast<uint64_t>(v));
  }
  bool number_unsigned(uint64_t v) { return Number(v); }
  bool number_float(double, const std::string&) {
    if (section_ == kShape || section_ == kOffsets) return Fail(Where() + " must hold integers");
    return Scalar("a number");
  }
  bool binary(Json::binary_t&) { return Scalar("binary"); }
  bool string(std::string& v) {
    if (skip_ > 0) return true;
    if (depth_ == 2 && section_ == kMetadata) {
      if (out_->metadata.size() >= SafetensorsLimits::kMaxTensors) {
        return Limit("__metadata__ has more than " + Num(SafetensorsLimits::kMaxTensors) +
                     " entries (the limit)");
      }
      out_->metadata.emplace_back(key_, v);
      return true;
    }
    if (depth_ == 2 && section_ == kTensor && key_ == "dtype") {
      tensor_.dtype = v;
      has_dtype_ = true;
      return true;
    }
    return Scalar("a string");
  }
  bool key(std::string& k) {
    if (skip_ > 0) return true;
    if (depth_ == 1) {
      if (k.size() > SafetensorsLimits::kMaxNameBytes) {
        return Limit("a tensor name is " + Num(k.size()) + " bytes long; the limit is " +
                     Num(SafetensorsLimits::kMaxNameBytes));
      }
      if (!names_.insert(k).second) return Fail("tensor " + Quoted(k) + " is listed twice");
    }
    key_ = k;
    if (depth_ == 1) top_key_ = k;
    return true;
  }
  bool start_object(std::size_t) {
    if (skip_ > 0) return ++skip_, true;
    if (depth_ == 0) return depth_ = 1, true;
    if (depth_ == 1) {
      depth_ = 2;
      if (top_key_ == "__metadata__") {
        section_ = kMetadata;
        return true;
      }
      if (out_->tensors.size() >= SafetensorsLimits::kMaxTensors) {
        return Limit("the header lists more than " + Num(SafetensorsLimits::kMaxTensors) +
                     " tensors (the limit)");
      }
      section_ = kTensor;
      tensor_ = SafetensorsTensor();
      tensor_.name = top_key_;
      offsets_.clear();
      has_dtype_ = has_shape_ = false;
      return true;
    }
    if (depth_ == 2 && section_ == kTensor) return skip_ = 1, true;  // unknown field
    return Scalar("an object");
  }
  bool end_object() {
    if (skip_ > 0) return --skip_, true;
    if (depth_ == 2) {
      depth_ = 1;
      if (section_ == kTensor) {
        const Status s = FinishTensor();
        if (!s.ok()) return Fail(s);
      }
      section_ = kNone;
      return true;
    }
    depth_ = 0;
    return true;
  }
  bool start_array(std::size_t) {
    if (skip_ > 0) return ++skip_, true;
    if (depth_ == 2 && section_ == kTensor) {
      if (key_ == "shape") {
        section_ = kShape;
        tensor_.shape.clear();
        tensor_.elements = 1;
        extent_ = 1;
        has_shape_ = true;
        return true;
      }
      if (key_ == "data_offsets") {
        section_ = kOffsets;
        offsets_.clear();
        return true;
      }
      return skip_ = 1, true;
    }
    if (section_ == kShape || section_ == kOffsets) return Fail(Where() + " must hold integers");
    return Scalar("an array");
  }
  bool end_array() {
    if (skip_ > 0) return --skip_, true;
    if (section_ == kOffsets && offsets_.size() != 2) {
      return Fail("tensor " + Quoted(tensor_.name) + ": data_offsets must be [begin, end]");
    }
    section_ = kTensor;
    return true;
  }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception&) {
    if (status_.ok()) {
      status_ =
          Status(ErrorCode::kParseError,
                 "safetensors: the header is not valid JSON (at byte " + Num(position) + " of it)");
    }
    return false;
  }

 private:
  enum Section { kNone, kMetadata, kTensor, kShape, kOffsets };

  std::string Where() const {
    return "tensor " + Quoted(tensor_.name) + ": " +
           (section_ == kShape ? "shape" : "data_offsets");
  }
  bool Number(uint64_t v) {
    if (skip_ > 0) return true;
    if (section_ == kShape) {
      if (tensor_.shape.size() >= SafetensorsLimits::kMaxDimensions) {
        return Limit("tensor " + Quoted(tensor_.name) + " has more than " +
                     Num(SafetensorsLimits::kMaxDimensions) + " dimensions (the limit)");
      }
      if (v > 0 && extent_ > SafetensorsLimits::kMaxTensorElements / v) {
        return Limit("tensor " + Quoted(tensor_.name) + " has more than " +
                     Num(SafetensorsLimits::kMaxTensorElements) + " elements (the limit)");
      }
      if (v > 0) extent_ *= v;
      tensor_.shape.push_back(v);
      return true;
    }
    if (section_ == kOffsets) {
      if (offsets_.size() >= 2)
        return Fail("tensor " + Quoted(tensor_.name) + ": data_offsets must be [begin, end]");
      offsets_.push_back(v);
      return true;
    }
    return Scalar("a number");
  }
  bool Scalar(const char* what) {
    if (skip_ > 0) return true;
    if (depth_ == 0) return Fail("the header must be a JSON object");
    if (depth_ == 1) {
      return Fail(top_key_ == "__metadata__" ? "__metadata__ must be an object of strings"
                                             : "tensor " + Quoted(top_key_) + " must be an object");
    }
    if (section_ == kMetadata)
      return Fail("__metadata__ values must be strings, " + Quoted(key_) + " is " + what);
    if (key_ == "dtype") return Fail("tensor " + Quoted(tensor_.name) + ": dtype must be a string");
    if (key_ == "shape" || key_ == "data_offsets") {
      return Fail("tensor " + Quoted(tensor_.name) + ": " + key_ + " must be a list of integers");
    }
    return true;  // an unknown field of a tensor
  }
  Status FinishTensor() {
    SafetensorsTensor& t = tensor_;
    const std::string who = "safetensors: tensor " + Quoted(t.name);
    if (!has_dtype_ || !has_shape_ || offsets_.size() != 2) {
      return Status(ErrorCode::kParseError, who + " needs dtype, shape and data_offsets");
    }
    const int bits = SafetensorsDtypeBits(t.dtype);
    if (bits == 0) {
      return Status(ErrorCode::kUnsupported,
                    who + " has dtype " + Quoted(t.dtype) +
                        ", which safetensors does not define (known: " + KnownDtypes() + ")");
    }
    for (uint64_t d : t.shape) t.elements *= d;  // bounded while reading
    t.begin = offsets_[0];
    t.end = offsets_[1];
    if (t.end < t.begin) {
      return Status(ErrorCode::kParseError, who + ": data_offsets end before they begin");
    }
    const uint64_t total_bits = t.elements * static_cast<uint64_t>(bits);  // <= 2^50
    if (total_bits % 8 != 0) {
      return Status(ErrorCode::kParseError, who + ": " + Num(t.elements) + " values of " + t.dtype +
                                                " are not a whole number of bytes");
    }
    if (t.end - t.begin != total_bits / 8) {
      return Status(ErrorCode::kParseError, who + " spans " + Num(t.end - t.begin) + " bytes but " +
                                                Num(t.elements) + " values of " + t.dtype +
                                                " take " + Num(total_bits / 8));
    }
    out_->tensors.push_back(std::move(t));
    return Status::Ok();
  }
  bool Fail(const std::string& message) {
    return Fail(Status(ErrorCode::kParseError, "safetensors: " + message));
  }
  bool Fail(Status s) {
    if (status_.ok()) status_ = std::move(s);
    return false;
  }
  bool Limit(const std::string& message) {
    return Fail(Status(ErrorCode::kLimitExceeded, "safetensors: " + message));
  }

  SafetensorsHeader* out_;
  Status status_;
  int depth_ = 0;
  uint64_t skip_ = 0;
  Section section_ = kNone;
  std::string key_, top_key_;
  std::set<std::string> names_;
  SafetensorsTensor tensor_;
  std::vector<uint64_t> offsets_;
  uint64_t extent_ = 1;  ///< Product of the non-zero dimensions read so far.
  bool has_dtype_ = false, has_shape_ = false;
};

/// model.safetensors.index.json, read event by event.
class IndexHandler {
 public:
  explicit IndexHandler(SafetensorsIndex* out) : out_(out) {}
  const Status& status() const { return status_; }

  bool null() { return Other(); }
  bool boolean(bool) { return Other(); }
  bool number_integer(int64_t v) {
    if (InTotal()) {
      if (v < 0) return Fail("metadata.total_size must be a non-negative integer");
      out_->total_size = static_cast<uint64_t>(v);
    }
    return Other();
  }
  bool number_unsigned(uint64_t v) {
    if (InTotal()) out_->total_size = v;
    return Other();
  }
  bool number_float(double v, const std::string&) {
    if (InTotal()) {
      if (!(v >= 0 && v < 9.0e15) || v != static_cast<double>(static_cast<uint64_t>(v))) {
        return Fail("metadata.total_size must be a non-negative integer");
      }
      out_->total_size = static_cast<uint64_t>(v);
    }
    return Other();
  }
  bool binary(Json::binary_t&) { return Other(); }
  bool string(std::string& v) {
    if (depth_ == 2 && in_map_) {
      if (++out_->tensors > SafetensorsLimits::kMaxTensors) {
        return Limit("weight_map lists more than " + Num(SafetensorsLimits::kMaxTensors) +
                     " tensors (the limit)");
      }
      const bool plain = !v.empty() && v.size() <= SafetensorsLimits::kMaxNameBytes && v != "." &&
                         v != ".." && v.find('/') == std::string::npos &&
                         v.find('\\') == std::string::npos && v.find('\0') == std::string::npos;
      if (!plain) {
        return Fail("weight_map names the file " + Quoted(v) +
                    "; shard names must be plain file names in the index's folder");
      }
      if (seen_.insert(v).second) {
        if (out_->shards.size() >= SafetensorsLimits::kMaxShards) {
          return Limit("weight_map names more than " + Num(SafetensorsLimits::kMaxShards) +
                       " files (the limit)");
        }
        out_->shards.push_back(v);
      }
      return true;
    }
    return Other();
  }
  bool key(std::string& k) {
    if (depth_ == 1) top_key_ = k;
    key_ = k;
    return true;
  }
  bool start_object(std::size_t) {
    if (depth_ == 2 && in_map_) return Fail("weight_map values must be file names");
    ++depth_;
    if (depth_ == 2) in_map_ = top_key_ == "weight_map";
    return true;
  }
  bool end_object() {
    if (depth_ == 2) in_map_ = false;
    --depth_;
    return true;
  }
  bool start_array(std::size_t) {
    if (depth_ == 0) return Fail("the index must be a JSON object");
    if (depth_ == 1 && top_key_ == "weight_map") return Fail("weight_map must be an object");
    if (depth_ == 2 && in_map_) return Fail("weight_map values must be file names");
    ++depth_;
    return true;
  }
  bool end_array() {
    --depth_;
    return true;
  }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception&) {
    if (status_.ok()) {
      status_ = Status(ErrorCode::kParseError,
                       "safetensors index: not valid JSON (at byte " + Num(position) + ")");
    }
    return false;
  }

 private:
  bool InTotal() const { return depth_ == 2 && top_key_ == "metadata" && key_ == "total_size"; }
  bool Other() {
    if (depth_ == 0) return Fail("the index must be a JSON object");
    if (depth_ == 1 && top_key_ == "weight_map") return Fail("weight_map must be an object");
    if (depth_ == 2 && in_map_) return Fail("weight_map values must be file names");
    return true;
  }
  bool Fail(const std::string& message) {
    if (status_.ok()) status_ = Status(ErrorCode::kParseError, "safetensors index: " + message);
    return false;
  }
  bool Limit(const std::string& message) {
    if (status_.ok()) status_ = Status(ErrorCode::kLimitExceeded, "safetensors index: " + message);
    return false;
  }

  SafetensorsIndex* out_;
  Status status_;
  int depth_ = 0;
  bool in_map_ = false;
  std::string key_, top_key_;
  std::set<std::string> seen_;
};

}  // namespace

int SafetensorsDtypeBits(std::string_view dtype) {
  for (const DtypeBits& d : kDtypes) {
    if (dtype == d.name) return d.bits;
  }
  return 0;
}

Result<SafetensorsParse> ParseSafetensorsHeader(std::string_view prefix, uint64_t file_size) {
  SafetensorsParse result;
  auto need = [&](uint64_t n) -> Result<SafetensorsParse> {
    if (file_size > 0 && n > file_size) {
      return Status(ErrorCode::kParseError,
                    "safetensors: the file is truncated: its header needs " + Num(n) +
                        " bytes but the file has " + Num(file_size));
    }
    result.bytes_needed = n;
    return result;
  };
  if (prefix.size() < 8) return need(8);
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i)
    n |= static_cast<uint64_t>(static_cast<uint8_t>(prefix[static_cast<size_t>(i)])) << (8 * i);
  if (n > SafetensorsLimits::kMaxHeaderBytes) {
    return Status(ErrorCode::kLimitExceeded, "safetensors: the header is " + Num(n) +
                                                 " bytes long; the limit is " +
                                                 Num(SafetensorsLimits::kMaxHeaderBytes));
  }
  if (prefix.size() - 8 < n) return need(8 + n);
  const std::string_view text = prefix.substr(8, n);
  SafetensorsHeader& h = result.header;
  h.header_bytes = n;
  h.data_offset = 8 + n;
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || text[first] != '{') {
    return Status(ErrorCode::kParseError,
                  "safetensors: the header must be a JSON object (starting with '{')");
  }
  HeaderHandler handler(&h);
  const bool ok = Json::sax_parse(text.begin(), text.end(), &handler);
  if (!ok || !handler.status().ok()) {
    if (!handler.status().ok()) return handler.status();
    return Status(ErrorCode::kParseError, "safetensors: the header is not valid JSON");
  }
  // Metadata::validate: contiguous from 0, in offset order.
  std::sort(h.tensors.begin(), h.tensors.end(),
            [](const SafetensorsTensor& a, const SafetensorsTensor& b) {
              return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
            });
  uint64_t expected = 0;
  for (const SafetensorsTensor& t : h.tensors) {
    if (t.begin != expected) {
      return Status(ErrorCode::kParseError,
                    "safetensors: tensor " + Quoted(t.name) + " begins at offset " + Num(t.begin) +
                        ", expected " + Num(expected) +
                        " (tensors must cover the data section without gaps or overlaps)");
    }
    expected = t.end;
  }
  h.data_bytes = expected;
  if (h.data_bytes > (uint64_t{1} << 52)) {
    return Status(ErrorCode::kLimitExceeded, "safetensors: the header describes " +
                                                 Num(h.data_bytes) +
                                                 " bytes of tensor data; the limit is 2^52");
  }
  if (file_size > 0 && file_size - h.data_offset != h.data_bytes) {
    // file_size >= 8 + n here, since the prefix holds the header.
    return Status(ErrorCode::kParseError,
                  "safetensors: the header describes " + Num(h.data_bytes) +
                      " bytes of tensor data but the file holds " + Num(file_size - h.data_offset) +
                      (file_size - h.data_offset < h.data_bytes ? " (truncated)" : ""));
  }
  result.complete = true;
  return result;
}

Result<SafetensorsIndex> ParseSafetensorsIndex(std::string_view json_text) {
  if (json_text.size() > SafetensorsLimits::kMaxIndexBytes) {
    return Status(ErrorCode::kLimitExceeded, "safetensors index: the file is " +
                                                 Num(json_text.size()) + " bytes; the limit is " +
                                                 Num(SafetensorsLimits::kMaxIndexBytes));
  }
  SafetensorsIndex index;
  IndexHandler handler(&index);
  const bool ok = Json::sax_parse(json_text.begin(), json_text.end(), &handler);
  if (!handler.status().ok()) return handler.status();
  if (!ok) return Status(ErrorCode::kParseError, "safetensors index: not valid JSON");
  if (index.shards.empty()) {
    return Status(ErrorCode::kParseError, "safetensors index: weight_map is missing or empty");
  }
  return index;
}

SafetensorsSummary SummarizeSafetensors(const std::vector<SafetensorsHeader>& files) {
  SafetensorsSummary s;
  std::map<std::string, uint64_t> by_dtype;
  for (const SafetensorsHeader& h : files) {
    for (const SafetensorsTensor& t : h.tensors) {
      ++s.tensors;
      s.bytes += t.bytes();
      s.elements += t.elements;
      by_dtype[t.dtype] += t.bytes();
    }
  }
  for (const auto& [dtype, bytes] : by_dtype) s.bytes_by_dtype.emplace_back(dtype, bytes);
  std::sort(s.bytes_by_dtype.begin(), s.bytes_by_dtype.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  return s;
}

// --- Hugging Face names -> inventory ------------------------------------------------------------

namespace {

/// A module inside a decoder layer and the GGUF base names it may be stored as (the first one
/// the model's inventory has wins: Gemma 2/3's post_attention_layernorm is its own norm, every
/// other family's is the pre-MLP norm).
struct ModuleMap {
  const char* module;
  const char* bases[2];
};

// transformers modeling_*.py module names; GGUF names as llama.cpp's converter
// (gguf-py/gguf/tensor_mapping.py) maps them.
constexpr ModuleMap kLayerModules[] = {
    {"self_attn.q_proj", {"attn_q"}},
    {"self_attn.k_proj", {"attn_k"}},
    {"self_attn.v_proj", {"attn_v"}},
    {"self_attn.o_proj", {"attn_output"}},
    {"self_attn.dense", {"attn_output"}},
    {"self_attn.qkv_proj", {"attn_qkv"}},
    {"self_attn.q_norm", {"attn_q_norm"}},
    {"self_attn.k_norm", {"attn_k_norm"}},
    {"self_attn.q_a_proj", {"attn_q_a"}},
    {"self_attn.q_a_layernorm", {"attn_q_a_norm"}},
    {"self_attn.q_b_proj", {"attn_q_b"}},
    {"self_attn.kv_a_proj_with_mqa", {"attn_kv_a_mqa"}},
    {"self_attn.kv_a_layernorm", {"attn_kv_a_norm"}},
    {"self_attn.kv_b_proj", {"attn_kv_b"}},
    {"self_attn.sinks", {"attn_sinks"}},
    {"attn.c_attn", {"attn_qkv"}},
    {"attn.c_proj", {"attn_output"}},
    {"attention.query_key_value", {"attn_qkv"}},
    {"attention.dense", {"attn_output"}},
    {"self_attention.query_key_value", {"attn_qkv"}},
    {"self_attention.dense", {"attn_output"}},
    {"input_layernorm", {"attn_norm"}},
    {"ln_1", {"attn_norm"}},
    {"ln_attn", {"attn_norm"}},
    {"ln_mlp", {"attn_norm_2"}},
    {"post_attention_layernorm", {"post_attention_norm", "ffn_norm"}},
    {"pre_feedforward_layernorm", {"ffn_norm"}},
    {"post_feedforward_layernorm", {"post_ffw_norm"}},
    {"ln_2", {"ffn_norm"}},
    {"mlp.gate_proj", {"ffn_gate"}},
    {"mlp.up_proj", {"ffn_up"}},
    {"mlp.down_proj", {"ffn_down"}},
    {"mlp.gate_up_proj", {"ffn_up"}},
    {"mlp.fc1", {"ffn_up"}},
    {"mlp.fc2", {"ffn_down"}},
    {"mlp.c_fc", {"ffn_up"}},
    {"mlp.c_proj", {"ffn_down"}},
    {"mlp.dense_h_to_4h", {"ffn_up"}},
    {"mlp.dense_4h_to_h", {"ffn_down"}},
    {"block_sparse_moe.gate", {"ffn_gate_inp"}},
    {"mlp.gate", {"ffn_gate_inp"}},
    {"mlp.router", {"ffn_gate_inp"}},
    {"mlp.shared_expert.gate_proj", {"ffn_gate_shexp"}},
    {"mlp.shared_expert.up_proj", {"ffn_up_shexp"}},
    {"mlp.shared_expert.down_proj", {"ffn_down_shexp"}},
    {"mlp.shared_experts.gate_proj", {"ffn_gate_shexp"}},
    {"mlp.shared_experts.up_proj", {"ffn_up_shexp"}},
    {"mlp.shared_experts.down_proj", {"ffn_down_shexp"}},
    {"mlp.shared_expert_gate", {"ffn_gate_inp_shexp"}},
    {"mlp.experts.down_proj", {"ffn_down_exps"}},
};

/// Modules of one routed expert: mlp.experts.<e>.<name> (Qwen-MoE, DeepSeek) or
/// block_sparse_moe.experts.<e>.<name> (Mixtral).
constexpr ModuleMap kExpertModules[] = {
    {"gate_proj", {"ffn_gate_exps"}}, {"up_proj", {"ffn_up_exps"}},
    {"down_proj", {"ffn_down_exps"}}, {"w1", {"ffn_gate_exps"}},
    {"w3", {"ffn_up_exps"}},          {"w2", {"ffn_down_exps"}},
};

constexpr ModuleMap kGlobalModules[] = {
    {"embed_tokens", {"token_embd"}},
    {"wte", {"token_embd"}},
    {"word_embeddings", {"token_embd"}},
    {"embed_in", {"token_embd"}},
    {"wpe", {"position_embd"}},
    {"norm", {"output_norm"}},
    {"ln_f", {"output_norm"}},
    {"final_layernorm", {"output_norm"}},
    {"final_layer_norm", {"output_norm"}},
    {"lm_head", {"output"}},
    {"embed_out", {"output"}},
};

/// Path segments that may precede the model proper (wrappers of the language model).
bool IsWrapper(std::string_view segment) {
  return segment == "model" || segment == "language_model" || segment == "transformer" ||
         segment == "gpt_neox" || segment == "base_model" || segment == "text_model" ||
         segment == "decoder";
}

bool AllDigits(std::string_view s) {
  return !s.empty() && s.size() <= 9 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::vector<std::string_view> Segments(std::string_view name) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= name.size()) {
    const size_t dot = name.find('.', start);
    if (dot == std::string_view::npos) {
      out.push_back(name.substr(start));
      break;
    }
    out.push_back(name.substr(start, dot - start));
    start = dot + 1;
  }
  return out;
}

std::string Join(const std::vector<std::string_view>& parts, size_t from, size_t to) {
  std::string s;
  for (size_t i = from; i < to; ++i) {
    if (i > from) s += '.';
    s += parts[i];
  }
  return s;
}

/// Where the bytes of one checkpoint tensor go: an inventory name and a share (1 = all, 2 = the
/// first or second half of a fused gate_up tensor).
struct Target {
  std::string name;
  int half = 0;  ///< 0: all bytes; 1: first half; 2: second half.
};

using Inventory = std::unordered_map<std::string, size_t>;

/// The module path and whether the tensor is a bias: strips the leaf (weight, bias, qweight,
/// qzeros, scales, g_idx, weight_scale, ..., or weight.<bitsandbytes state>).
void SplitLeaf(const std::vector<std::string_view>& seg, size_t from, std::string* module,
               bool* bias) {
  size_t end = seg.size();
  *bias = false;
  // bitsandbytes: <module>.weight.absmax, .weight.quant_map, .weight.quant_state.bitsandbytes__nf4
  for (size_t i = from; i < seg.size(); ++i) {
    if (seg[i] == "weight" && i + 1 < seg.size()) {
      end = i;
      *module = Join(seg, from, end);
      return;
    }
  }
  const std::string_view leaf = seg.back();
  if (seg.size() - from >= 2) {
    end = seg.size() - 1;
    *bias = leaf == "bias" || leaf == "e_score_correction_bias";
    *module = Join(seg, from, end);
    if (leaf == "e_score_correction_bias") *module += ".e_score_correction_bias";
    return;
  }
  *module = Join(seg, from, end);
}

bool AddTarget(const Inventory& inv, const std::string& name, int half, std::vector<Target>* out) {
  if (inv.count(name) == 0) return false;
  out->push_back({name, half});
  return true;
}

/// Maps one checkpoint name to inventory tensors; false when the model has no place for it.
bool MapName(const std::string& hf, const Inventory& inv, std::vector<Target>* targets) {
  const std::vector<std::string_view> seg = Segments(hf);
  size_t i = 0;
  while (i < seg.size() && IsWrapper(seg[i])) ++i;
  if (i >= seg.size()) return false;
  // Decoder layer: layers.<n>. / h.<n>. / blocks.<n>.
  if (i + 2 < seg.size() && (seg[i] == "layers" || seg[i] == "h" || seg[i] == "blocks") &&
      AllDigits(seg[i + 1])) {
    const std::string layer = "blk." + std::string(seg[i + 1]) + ".";
    const size_t from = i + 2;
    // gpt-oss experts: mlp.experts.gate_up_proj[_blocks|_scales|_bias], down_proj[...].
    const std::string rest = Join(seg, from, seg.size());
    if (rest == "self_attn.sinks") return AddTarget(inv, layer + "attn_sinks.weight", 0, targets);
    for (const char* fused : {"mlp.experts.gate_up_proj", "mlp.experts.down_proj"}) {
      const std::string f = fused;
      if (rest == f || rest == f + "_blocks" || rest == f + "_scales" || rest == f + "_bias" ||
          rest == f + ".weight" || rest == f + ".bias") {
        const bool bias = rest == f + "_bias" || rest == f + ".bias";
        const std::string suffix = bias ? ".bias" : ".weight";
        if (f == "mlp.experts.down_proj")
          return AddTarget(inv, layer + "ffn_down_exps" + suffix, 0, targets);
        if (inv.count(layer + "ffn_gate_exps" + suffix) &&
            inv.count(layer + "ffn_up_exps" + suffix)) {
          AddTarget(inv, layer + "ffn_gate_exps" + suffix, 1, targets);
          AddTarget(inv, layer + "ffn_up_exps" + suffix, 2, targets);
          return true;
        }
        return false;
      }
    }
    // Routed experts, one tensor per expert.
    if (from + 3 < seg.size() && (seg[from] == "mlp" || seg[from] == "block_sparse_moe") &&
        seg[from + 1] == "experts" && AllDigits(seg[from + 2])) {
      std::string module;
      bool bias = false;
      SplitLeaf(seg, from + 3, &module, &bias);
      for (const ModuleMap& m : kExpertModules) {
        if (module == m.module)
          return AddTarget(inv, layer + m.bases[0] + (bias ? ".bias" : ".weight"), 0, targets);
      }
      return false;
    }
    std::string module;
    bool bias = false;
    SplitLeaf(seg, from, &module, &bias);
    if (module == "mlp.gate.e_score_correction_bias") {
      return AddTarget(inv, layer + "exp_probs_b.bias", 0, targets);
    }
    for (const ModuleMap& m : kLayerModules) {
      if (module != m.module) continue;
      for (const char* base : m.bases) {
        if (base != nullptr &&
            AddTarget(inv, layer + base + (bias ? ".bias" : ".weight"), 0, targets))
          return true;
      }
      return false;
    }
    return false;
  }
  std::string module;
  bool bias = false;
  SplitLeaf(seg, i, &module, &bias);
  for (const ModuleMap& m : kGlobalModules) {
    if (module == m.module)
      return AddTarget(inv, std::string(m.bases[0]) + (bias ? ".bias" : ".weight"), 0, targets);
  }
  return false;
}

bool IsFloatDtype(const std::string& dtype) {
  return dtype == "F32" || dtype == "F16" || dtype == "BF16" || dtype == "F64";
}

}  // namespace

Result<SafetensorsPlan> PlanWeightsFromSafetensors(const ModelDescription& model,
                                                   const std::vector<SafetensorsHeader>& files) {
  SafetensorsPlan out;
  out.checkpoint = SummarizeSafetensors(files);
  Inventory inv;
  for (size_t i = 0; i < model.tensors.size(); ++i) inv.emplace(model.tensors[i].name, i);

  struct Acc {
    uint64_t bytes = 0;
    std::vector<std::string> dtypes;
    bool quantized = false;
    bool any = false;
  };
  std::vector<Acc> acc(model.tensors.size());
  std::map<std::string, uint64_t> float_bytes;
  std::string first_unmatched;
  std::vector<Target> targets;
  for (const SafetensorsHeader& h : files) {
    for (const SafetensorsTensor& t : h.tensors) {
      targets.clear();
      if (!MapName(t.name, inv, &targets) || targets.empty()) {
        if (out.unmatched_tensors++ == 0) first_unmatched = t.name;
        out.unmatched_bytes += t.bytes();
        continue;
      }
      out.matched_bytes += t.bytes();
      for (const Target& target : targets) {
        const uint64_t b = t.bytes();
        const uint64_t share = target.half == 0 ? b : target.half == 1 ? b / 2 : b - b / 2;
        Acc& a = acc[inv.find(target.name)->second];
        a.bytes += share;
        a.any = true;
        if (std::find(a.dtypes.begin(), a.dtypes.end(), t.dtype) == a.dtypes.end())
          a.dtypes.push_back(t.dtype);
        if (!IsFloatDtype(t.dtype)) a.quantized = true;
        if (IsFloatDtype(t.dtype)) float_bytes[t.dtype] += share;
      }
    }
  }

  std::vector<StoredTensor> stored(model.tensors.size());
  std::string first_missing;
  for (size_t i = 0; i < model.tensors.size(); ++i) {
    const Acc& a = acc[i];
    StoredTensor& s = stored[i];
    if (!a.any) {
      if (out.missing_tensors++ == 0) first_missing = model.tensors[i].name;
      s.type = "absent";
      continue;
    }
    for (const std::string& d : a.dtypes) s.type += (s.type.empty() ? "" : "+") + d;
    s.bytes = a.bytes;
    s.quantized = a.quantized;
  }

  WeightFormat format;
  if (!model.native_quantization.empty()) {
    Result<WeightFormat> native = ParseWeightFormat(model.native_quantization);
    if (native.ok()) format = *native;
  }
  if (model.native_quantization.empty()) {
    // The dtype holding most of the floating-point bytes (what activations will be in).
    std::string dominant = "BF16";
    uint64_t most = 0;
    for (const auto& [dtype, bytes] : float_bytes) {
      if (bytes > most) most = bytes, dominant = dtype;
    }
    format.scheme = QuantScheme::kDense;
    format.dense_dtype = dominant == "F32" || dominant == "F64" ? DType::kF32
                         : dominant == "F16"                    ? DType::kF16
                                                                : DType::kBF16;
  }
  format.id = "safetensors-file";
  Result<WeightPlan> plan = PlanWeightsAsStored(model, format, stored);
  if (!plan.ok()) return plan.status();
  out.weights = std::move(plan).value();

  if (out.unmatched_tensors > 0) {
    out.warnings.push_back(Num(out.unmatched_tensors) + " checkpoint tensor(s) of " +
                           Num(out.unmatched_bytes) +
                           " bytes have no place in the model built from config.json (e.g. " +
                           Quoted(first_unmatched) + "); they are left out of the weights");
  }
  if (out.missing_tensors > 0) {
    out.warnings.push_back(Num(out.missing_tensors) +
                           " tensor(s) the config.json implies are not in the checkpoint (e.g. " +
                           Quoted(first_missing) + "); they are counted as 0 bytes");
  }
  return out;
}

}  // namespace vram
