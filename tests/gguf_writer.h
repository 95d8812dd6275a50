#pragma once

// Test-only GGUF writer: builds headers byte by byte (ggml-org/ggml docs/gguf.md), so that the
// tests and the differential test make their own files instead of downloading any. Also writes
// a model (geometry + inventory + per-tensor types) the way llama.cpp's converter does
// (convert_hf_to_gguf.py: the {arch}.* keys; tensor names as in the inventory).

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "vram/vram.h"

namespace vram::test {

class GgufWriter {
 public:
  explicit GgufWriter(uint32_t version = 3) : version_(version) {}

  // --- metadata -------------------------------------------------------------------------------
  void U8(const std::string& k, uint8_t v) {
    Key(k, GgufType::kUint8);
    Le(&kv_, v, 1);
  }
  void I8(const std::string& k, int8_t v) {
    Key(k, GgufType::kInt8);
    Le(&kv_, static_cast<uint8_t>(v), 1);
  }
  void U16(const std::string& k, uint16_t v) {
    Key(k, GgufType::kUint16);
    Le(&kv_, v, 2);
  }
  void I16(const std::string& k, int16_t v) {
    Key(k, GgufType::kInt16);
    Le(&kv_, static_cast<uint16_t>(v), 2);
  }
  void U32(const std::string& k, uint32_t v) {
    Key(k, GgufType::kUint32);
    Le(&kv_, v, 4);
  }
  void I32(const std::string& k, int32_t v) {
    Key(k, GgufType::kInt32);
    Le(&kv_, static_cast<uint32_t>(v), 4);
  }
  void U64(const std::string& k, uint64_t v) {
    Key(k, GgufType::kUint64);
    Le(&kv_, v, 8);
  }
  void I64(const std::string& k, int64_t v) {
    Key(k, GgufType::kInt64);
    Le(&kv_, static_cast<uint64_t>(v), 8);
  }
  void F32(const std::string& k, float v) {
    Key(k, GgufType::kFloat32);
    Le(&kv_, Bits(v), 4);
  }
  void F64(const std::string& k, double v) {
    Key(k, GgufType::kFloat64);
    Le(&kv_, Bits(v), 8);
  }
  void Bool(const std::string& k, bool v) {
    Key(k, GgufType::kBool);
    Le(&kv_, v ? 1u : 0u, 1);
  }
  void Str(const std::string& k, const std::string& v) {
    Key(k, GgufType::kString);
    String(&kv_, v);
  }

  /// An array of a fixed-size type from raw little-endian element values.
  void Array(const std::string& k, GgufType element, const std::vector<uint64_t>& values) {
    Key(k, GgufType::kArray);
    Le(&kv_, static_cast<uint32_t>(element), 4);
    Le(&kv_, values.size(), 8);
    for (uint64_t v : values) Le(&kv_, v, Size(element));
  }
  void ArrayU32(const std::string& k, const std::vector<uint32_t>& v) {
    Array(k, GgufType::kUint32, std::vector<uint64_t>(v.begin(), v.end()));
  }
  void ArrayI32(const std::string& k, const std::vector<int32_t>& v) {
    std::vector<uint64_t> raw;
    for (int32_t x : v) raw.push_back(static_cast<uint32_t>(x));
    Array(k, GgufType::kInt32, raw);
  }
  void ArrayF32(const std::string& k, const std::vector<float>& v) {
    std::vector<uint64_t> raw;
    for (float x : v) raw.push_back(Bits(x));
    Array(k, GgufType::kFloat32, raw);
  }
  void ArrayStr(const std::string& k, const std::vector<std::string>& v) {
    Key(k, GgufType::kArray);
    Le(&kv_, static_cast<uint32_t>(GgufType::kString), 4);
    Le(&kv_, v.size(), 8);
    for (const std::string& s : v) String(&kv_, s);
  }
  /// An array of arrays of UINT16 (the spec allows nesting; ggml's reader does not).
  void ArrayOfArraysU16(const std::string& k, const std::vector<std::vector<uint16_t>>& v) {
    Key(k, GgufType::kArray);
    Le(&kv_, static_cast<uint32_t>(GgufType::kArray), 4);
    Le(&kv_, v.size(), 8);
    for (const auto& inner : v) {
      Le(&kv_, static_cast<uint32_t>(GgufType::kUint16), 4);
      Le(&kv_, inner.size(), 8);
      for (uint16_t x : inner) Le(&kv_, x, 2);
    }
  }
  /// Raw bytes appended to the metadata section (for malformed files), counted as `keys` keys.
  void RawMetadata(const std::string& bytes, uint64_t keys) {
    kv_ += bytes;
    n_kv_ += keys;
  }

  // --- tensors --------------------------------------------------------------------------------
  /// Adds a tensor; its offset follows the previous one, padded to the alignment.
  void Tensor(const std::string& name, const std::vector<uint64_t>& ne, int32_t ggml_type) {
    const GgmlTypeInfo* info = FindGgmlType(ggml_type);
    uint64_t elements = 1;
    for (uint64_t n : ne) elements *= n;
    const uint64_t bytes = info != nullptr
                               ? elements / static_cast<uint64_t>(info->block_elements) *
                                     static_cast<uint64_t>(info->block_bytes)
                               : 0;
    String(&ti_, name);
    Le(&ti_, ne.size(), 4);
    for (uint64_t n : ne) Le(&ti_, n, 8);
    Le(&ti_, static_cast<uint32_t>(ggml_type), 4);
    Le(&ti_, next_offset_, 8);
    ++n_tensors_;
    last_end_ = next_offset_ + bytes;
    next_offset_ += (bytes + alignment_ - 1) / alignment_ * alignment_;
  }
  /// Writes general.alignment and uses it for the following tensors.
  void Alignment(uint32_t a) {
    U32("general.alignment", a);
    alignment_ = a;
  }
  uint64_t data_bytes() const { return next_offset_; }

  /// Overrides the counts written in the header (for malformed files).
  void OverrideCounts(uint64_t tensors, uint64_t keys) {
    tensor_count_override_ = tensors;
    kv_count_override_ = keys;
    overridden_ = true;
  }

  /// Magic, version, counts, metadata and tensor infos.
  std::string Header() const {
    std::string h = "GGUF";
    Le(&h, version_, 4);
    Le(&h, overridden_ ? tensor_count_override_ : n_tensors_, 8);
    Le(&h, overridden_ ? kv_count_override_ : n_kv_, 8);
    return h + kv_ + ti_;
  }
  /// Where the data section starts.
  uint64_t DataOffset() const {
    const uint64_t n = Header().size();
    return (n + alignment_ - 1) / alignment_ * alignment_;
  }
  /// The size of the whole file: data offset plus every tensor (the last one unpadded).
  uint64_t FileSize() const { return n_tensors_ == 0 ? Header().size() : DataOffset() + last_end_; }

  /// Writes the file: header, padding, and a sparse data section of zeros.
  bool Write(const std::filesystem::path& path) const {
    {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      const std::string h = Header();
      out.write(h.data(), static_cast<std::streamsize>(h.size()));
      if (!out) return false;
    }
    std::error_code ec;
    std::filesystem::resize_file(path, FileSize(), ec);
    return !ec;
  }

 private:
  static int Size(GgufType t) {
    switch (t) {
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
      default:
        return 8;
    }
  }
  static uint64_t Bits(float f) {
    uint32_t b;
    std::memcpy(&b, &f, 4);
    return b;
  }
  static uint64_t Bits(double d) {
    uint64_t b;
    std::memcpy(&b, &d, 8);
    return b;
  }
  static void Le(std::string* out, uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  static void String(std::string* out, const std::string& s) {
    Le(out, s.size(), 8);
    *out += s;
  }
  void Key(const std::string& k, GgufType type) {
    String(&kv_, k);
    Le(&kv_, static_cast<uint32_t>(type), 4);
    ++n_kv_;
  }

  uint32_t version_;
  std::string kv_, ti_;
  uint64_t n_kv_ = 0, n_tensors_ = 0;
  uint32_t alignment_ = 32;
  uint64_t next_offset_ = 0, last_end_ = 0;
  bool overridden_ = false;
  uint64_t tensor_count_override_ = 0, kv_count_override_ = 0;
};

/// llama.cpp's architecture name for a Hugging Face model_type (convert_hf_to_gguf.py).
inline std::string GgufArchOf(const std::string& model_type) {
  if (model_type == "mistral" || model_type == "mixtral") return "llama";
  if (model_type == "qwen2_moe") return "qwen2moe";
  if (model_type == "qwen3_moe") return "qwen3moe";
  if (model_type == "gemma3_text") return "gemma3";
  if (model_type == "phi") return "phi2";
  if (model_type == "gpt_neox") return "gptneox";
  if (model_type == "deepseek_v3") return "deepseek2";
  if (model_type == "gpt_oss") return "gpt-oss";
  return model_type;
}

struct ModelGgufOptions {
  uint32_t version = 3;
  uint32_t alignment = 32;          ///< Written as general.alignment when not 32.
  bool per_layer_kv_heads = false;  ///< head_count_kv as an array (one per layer).
  bool legacy_mla = false;          ///< DeepSeek keys as before llama.cpp PR 12801.
  std::string name = "test model";
  int split_count = 0;  ///< > 0: write split.* keys (gguf-split); metadata only in part 0.
  int split_no = 0;
  size_t first_tensor = 0;  ///< The tensors of this file: [first_tensor, last_tensor).
  size_t last_tensor = SIZE_MAX;
};

/// The converter's keys for a model, plus its tensors with the types of `plan` (a GGUF plan).
inline GgufWriter ModelToGguf(const ModelDescription& m, const WeightPlan& plan,
                              const ModelGgufOptions& options = {}) {
  GgufWriter w(options.version);
  const std::string a = GgufArchOf(m.architecture);
  const AttentionGeometry& g = m.attention;
  if (options.split_count > 0) {
    w.U16("split.no", static_cast<uint16_t>(options.split_no));
    w.U16("split.count", static_cast<uint16_t>(options.split_count));
    w.I32("split.tensors.count", static_cast<int32_t>(m.tensors.size()));
  }
  if (options.split_no > 0) {
    for (size_t i = options.first_tensor; i < std::min(options.last_tensor, m.tensors.size());
         ++i) {
      const TensorInfo& t = m.tensors[i];
      const GgmlTypeInfo* info = FindGgmlTypeByName(plan.tensors[i].type);
      w.Tensor(t.name, std::vector<uint64_t>(t.ne, t.ne + t.n_dims),
               info != nullptr ? static_cast<int32_t>(info->type) : 0);
    }
    return w;
  }
  w.Str("general.architecture", a);
  w.Str("general.name", options.name);
  if (options.alignment != 32) w.Alignment(options.alignment);
  w.U32(a + ".block_count", static_cast<uint32_t>(g.num_layers));
  w.U32(a + ".context_length", static_cast<uint32_t>(m.max_context_tokens));
  w.U32(a + ".embedding_length", static_cast<uint32_t>(m.hidden_size));
  w.U32(a + ".feed_forward_length", static_cast<uint32_t>(m.feed_forward[0].intermediate_size));
  w.U32(a + ".attention.head_count", static_cast<uint32_t>(g.num_query_heads));
  const bool mla = g.mla_kv_lora_rank > 0;
  if (mla && !options.legacy_mla) {
    w.U32(a + ".attention.head_count_kv", 1);
    w.U32(a + ".attention.key_length",
          static_cast<uint32_t>(g.mla_kv_lora_rank + g.mla_rope_head_dim));
    w.U32(a + ".attention.value_length", static_cast<uint32_t>(g.mla_kv_lora_rank));
    w.U32(a + ".attention.key_length_mla", static_cast<uint32_t>(g.key_head_dim));
    w.U32(a + ".attention.value_length_mla", static_cast<uint32_t>(g.value_head_dim));
  } else {
    if (options.per_layer_kv_heads) {
      std::vector<uint32_t> kv;
      for (const LayerAttention& l : g.layers) kv.push_back(static_cast<uint32_t>(l.num_kv_heads));
      w.ArrayU32(a + ".attention.head_count_kv", kv);
    } else {
      w.U32(a + ".attention.head_count_kv", static_cast<uint32_t>(g.num_kv_heads));
    }
    w.U32(a + ".attention.key_length", static_cast<uint32_t>(g.key_head_dim));
    w.U32(a + ".attention.value_length", static_cast<uint32_t>(g.value_head_dim));
  }
  w.F32(a + ".attention.layer_norm_rms_epsilon", 1e-6f);
  w.F32(a + ".rope.freq_base", 10000.0f);
  if (mla) {
    w.U32(a + ".attention.kv_lora_rank", static_cast<uint32_t>(g.mla_kv_lora_rank));
    w.U32(a + ".rope.dimension_count", static_cast<uint32_t>(g.mla_rope_head_dim));
    for (const TensorInfo& t : m.tensors) {
      if (t.role == TensorRole::kAttnQA) {
        w.U32(a + ".attention.q_lora_rank", static_cast<uint32_t>(t.ne[1]));
        break;
      }
    }
  }
  int64_t window = 0, experts = 0, used = 0, expert_ff = 0, leading_dense = -1;
  for (size_t i = 0; i < g.layers.size(); ++i) {
    if (g.layers[i].kind == AttentionKind::kSlidingWindow) window = g.layers[i].window_tokens;
    const LayerFeedForward& f = m.feed_forward[i];
    if (f.moe) {
      experts = f.num_experts;
      used = f.experts_per_token;
      expert_ff = f.expert_intermediate_size;
      if (leading_dense < 0) leading_dense = static_cast<int64_t>(i);
    }
  }
  if (window > 0) w.U32(a + ".attention.sliding_window", static_cast<uint32_t>(window));
  if (experts > 0) {
    w.U32(a + ".expert_count", static_cast<uint32_t>(experts));
    w.U32(a + ".expert_used_count", static_cast<uint32_t>(used));
    w.U32(a + ".expert_feed_forward_length", static_cast<uint32_t>(expert_ff));
    if (a == "deepseek2") {
      w.U32(a + ".leading_dense_block_count", static_cast<uint32_t>(leading_dense));
      w.U32(a + ".expert_shared_count", 1);
      w.F32(a + ".expert_weights_scale", 2.5f);
      w.Bool(a + ".expert_weights_norm", true);
      w.U32(a + ".expert_gating_func", 2);
    }
  }
  w.U32("general.file_type", 15);
  w.U32("general.quantization_version", 2);
  w.Str("tokenizer.ggml.model", "gpt2");
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
  for (int64_t i = 0; i < m.vocab_size; ++i) {
    tokens.push_back("tok" + std::to_string(i));
    types.push_back(1);
  }
  w.ArrayStr("tokenizer.ggml.tokens", tokens);
  w.ArrayI32("tokenizer.ggml.token_type", types);
  w.U32("tokenizer.ggml.bos_token_id", 1);
  w.Bool("tokenizer.ggml.add_bos_token", true);
  for (size_t i = options.first_tensor; i < std::min(options.last_tensor, m.tensors.size()); ++i) {
    const TensorInfo& t = m.tensors[i];
    std::vector<uint64_t> ne;
    for (int d = 0; d < t.n_dims; ++d) ne.push_back(static_cast<uint64_t>(t.ne[d]));
    const GgmlTypeInfo* info = FindGgmlTypeByName(plan.tensors[i].type);
    w.Tensor(t.name, ne, info != nullptr ? static_cast<int32_t>(info->type) : 0);
  }
  return w;
}

/// The model's file split the way llama.cpp's gguf-split does: split.no, split.count and
/// split.tensors.count in every part, the model's metadata in the first, tensors in order.
inline std::vector<GgufWriter> SplitGguf(const ModelDescription& m, const WeightPlan& plan,
                                         int parts) {
  std::vector<GgufWriter> out;
  const size_t per =
      (m.tensors.size() + static_cast<size_t>(parts) - 1) / static_cast<size_t>(parts);
  for (int p = 0; p < parts; ++p) {
    ModelGgufOptions o;
    o.split_count = parts;
    o.split_no = p;
    o.first_tensor = static_cast<size_t>(p) * per;
    o.last_tensor = o.first_tensor + per;
    out.push_back(ModelToGguf(m, plan, o));
  }
  return out;
}

}  // namespace vram::test
