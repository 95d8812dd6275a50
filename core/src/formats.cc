// Weight formats: the ggml type table, format ids, and per-tensor storage cost.

#include "numeric.h"
#include "vram/formats.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "gguf_mix.h"
#include "world.h"

namespace vram {
namespace {

using internal::CeilDiv;

// Block layouts from ggml/src/ggml-common.h (struct block_*) and the type_traits table in
// ggml/src/ggml.c: bytes per block = sizeof(block_*) for block_elements = QK* values.
const std::vector<GgmlTypeInfo>& TypeTable() {
  static const std::vector<GgmlTypeInfo> table = {
      {GgmlType::kF32, "F32", 1, 4},          {GgmlType::kF16, "F16", 1, 2},
      {GgmlType::kQ4_0, "Q4_0", 32, 18},      {GgmlType::kQ4_1, "Q4_1", 32, 20},
      {GgmlType::kQ5_0, "Q5_0", 32, 22},      {GgmlType::kQ5_1, "Q5_1", 32, 24},
      {GgmlType::kQ8_0, "Q8_0", 32, 34},      {GgmlType::kQ8_1, "Q8_1", 32, 36},
      {GgmlType::kQ2_K, "Q2_K", 256, 84},     {GgmlType::kQ3_K, "Q3_K", 256, 110},
      {GgmlType::kQ4_K, "Q4_K", 256, 144},    {GgmlType::kQ5_K, "Q5_K", 256, 176},
      {GgmlType::kQ6_K, "Q6_K", 256, 210},    {GgmlType::kQ8_K, "Q8_K", 256, 292},
      {GgmlType::kIQ2_XXS, "IQ2_XXS", 256, 66}, {GgmlType::kIQ2_XS, "IQ2_XS", 256, 74},
      {GgmlType::kIQ3_XXS, "IQ3_XXS", 256, 98}, {GgmlType::kIQ1_S, "IQ1_S", 256, 50},
      {GgmlType::kIQ4_NL, "IQ4_NL", 32, 18},  {GgmlType::kIQ3_S, "IQ3_S", 256, 110},
      {GgmlType::kIQ2_S, "IQ2_S", 256, 82},   {GgmlType::kIQ4_XS, "IQ4_XS", 256, 136},
      {GgmlType::kI8, "I8", 1, 1},            {GgmlType::kI16, "I16", 1, 2},
      {GgmlType::kI32, "I32", 1, 4},          {GgmlType::kI64, "I64", 1, 8},
      {GgmlType::kF64, "F64", 1, 8},          {GgmlType::kIQ1_M, "IQ1_M", 256, 56},
      {GgmlType::kBF16, "BF16", 1, 2},        {GgmlType::kTQ1_0, "TQ1_0", 256, 54},
      {GgmlType::kTQ2_0, "TQ2_0", 256, 66},   {GgmlType::kMXFP4, "MXFP4", 32, 17},
  };
  return table;
}

struct MixName {
  GgufMix mix;
  const char* name;
};
constexpr MixName kMixNames[] = {
    {GgufMix::kF32, "gguf-f32"},      {GgufMix::kF16, "gguf-f16"},     {GgufMix::kBF16, "gguf-bf16"},
    {GgufMix::kQ4_0, "q4_0"},         {GgufMix::kQ4_1, "q4_1"},        {GgufMix::kQ5_0, "q5_0"},
    {GgufMix::kQ5_1, "q5_1"},         {GgufMix::kQ8_0, "q8_0"},        {GgufMix::kQ2_K_S, "q2_k_s"},
    {GgufMix::kQ2_K, "q2_k"},         {GgufMix::kQ3_K_S, "q3_k_s"},    {GgufMix::kQ3_K_M, "q3_k_m"},
    {GgufMix::kQ3_K_L, "q3_k_l"},     {GgufMix::kQ4_K_S, "q4_k_s"},    {GgufMix::kQ4_K_M, "q4_k_m"},
    {GgufMix::kQ5_K_S, "q5_k_s"},     {GgufMix::kQ5_K_M, "q5_k_m"},    {GgufMix::kQ6_K, "q6_k"},
    {GgufMix::kIQ1_S, "iq1_s"},       {GgufMix::kIQ1_M, "iq1_m"},      {GgufMix::kIQ2_XXS, "iq2_xxs"},
    {GgufMix::kIQ2_XS, "iq2_xs"},     {GgufMix::kIQ2_S, "iq2_s"},      {GgufMix::kIQ2_M, "iq2_m"},
    {GgufMix::kIQ3_XXS, "iq3_xxs"},   {GgufMix::kIQ3_XS, "iq3_xs"},    {GgufMix::kIQ3_S, "iq3_s"},
    {GgufMix::kIQ3_M, "iq3_m"},       {GgufMix::kIQ4_NL, "iq4_nl"},    {GgufMix::kIQ4_XS, "iq4_xs"},
    {GgufMix::kTQ1_0, "tq1_0"},       {GgufMix::kTQ2_0, "tq2_0"},      {GgufMix::kMXFP4_MOE, "mxfp4_moe"},
};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool ParseUint(std::string_view s, int64_t* out) {
  if (s.empty() || s.size() > 9) return false;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

bool ParseDecimal(std::string_view s, double* out) {
  if (s.empty() || s.size() > 12) return false;
  int dots = 0;
  for (char c : s) {
    if (c == '.') ++dots;
    else if (c < '0' || c > '9') return false;
  }
  if (dots > 1 || s.front() == '.' || s.back() == '.') return false;
  *out = std::strtod(std::string(s).c_str(), nullptr);
  return std::isfinite(*out);
}

Status UnknownFormat(std::string_view id) {
  return Status(ErrorCode::kNotFound,
                "weights: unknown format '" + std::string(id) +
                    "'; accepted: fp32, fp16, bf16, fp8-e4m3, fp8-e5m2, fp8-e4m3-block128, int8, "
                    "nf4, nf4-dq, fp4, fp4-dq, gptq-<4|8>bit-g<32|64|128|all>, "
                    "awq-<4|8>bit-g<32|64|128>, mxfp4, mxfp4-moe, exl2-<2.0..8.0>bpw, a llama.cpp mix "
                    "(q2_k .. q8_0, iq1_s .. iq4_xs, tq1_0, tq2_0, mxfp4_moe, gguf-f16, gguf-bf16, "
                    "gguf-f32) or gguf-<ggml type> for one type everywhere (see --list-formats)");
}


}  // namespace

const GgmlTypeInfo* FindGgmlType(int32_t type_id) {
  for (const GgmlTypeInfo& info : TypeTable()) {
    if (static_cast<int32_t>(info.type) == type_id) return &info;
  }
  return nullptr;
}

const GgmlTypeInfo* FindGgmlTypeByName(std::string_view name) {
  // Plans store the table's own spelling, so an exact match is the common case; then compare
  // case-insensitively without allocating (planners call this once per tensor).
  for (const GgmlTypeInfo& info : TypeTable()) {
    if (name == info.name) return &info;
  }
  for (const GgmlTypeInfo& info : TypeTable()) {
    const std::string_view candidate(info.name);
    if (candidate.size() != name.size()) continue;
    bool same = true;
    for (size_t i = 0; i < name.size() && same; ++i) {
      same = std::tolower(static_cast<unsigned char>(name[i])) == std::tolower(static_cast<unsigned char>(candidate[i]));
    }
    if (same) return &info;
  }
  return nullptr;
}

const std::vector<GgmlTypeInfo>& AllGgmlTypes() { return TypeTable(); }

const char* GgufMixName(GgufMix mix) {
  for (const MixName& m : kMixNames) {
    if (m.mix == mix) return m.name;
  }
  return "?";
}

Result<WeightFormat> ParseWeightFormat(std::string_view raw) {
  if (raw.empty() || raw.size() > 40) return UnknownFormat(raw.substr(0, 40));
  const std::string id = Lower(raw);
  WeightFormat f;
  f.id = id;
  if (id == "fp32" || id == "f32") { f.id = "fp32"; f.dense_dtype = DType::kF32; return f; }
  if (id == "fp16" || id == "f16") { f.id = "fp16"; f.dense_dtype = DType::kF16; return f; }
  if (id == "bf16") { f.dense_dtype = DType::kBF16; return f; }
  if (id == "fp8" || id == "fp8-e4m3" || id == "fp8-e5m2") {
    f.scheme = QuantScheme::kFp8;
    f.e5m2 = id == "fp8-e5m2";
    f.id = f.e5m2 ? "fp8-e5m2" : "fp8-e4m3";
    f.bits = 8;
    return f;
  }
  if (id == "fp8-e4m3-block128" || id == "fp8-block128") {
    f.scheme = QuantScheme::kFp8Block;
    f.id = "fp8-e4m3-block128";
    f.bits = 8;
    return f;
  }
  if (id == "int8" || id == "llm.int8") { f.scheme = QuantScheme::kLlmInt8; f.id = "int8"; f.bits = 8; f.dense_dtype = DType::kF16; return f; }
  if (id == "nf4" || id == "nf4-dq" || id == "fp4" || id == "fp4-dq") {
    f.scheme = QuantScheme::kBnb4;
    f.fp4 = id[0] == 'f';
    f.double_quant = id.size() > 3;
    f.bits = 4;
    f.dense_dtype = DType::kBF16;
    return f;
  }
  if (id == "mxfp4") { f.scheme = QuantScheme::kMxfp4; f.bits = 4; return f; }
  if (id == "mxfp4-moe") { f.scheme = QuantScheme::kMxfp4Moe; f.bits = 4; return f; }
  if (id.rfind("gptq-", 0) == 0 || id.rfind("awq-", 0) == 0) {
    const bool gptq = id[0] == 'g';
    std::string_view rest = std::string_view(id).substr(gptq ? 5 : 4);
    size_t bit_pos = rest.find("bit");
    int64_t bits = 0, group = 128;
    if (bit_pos == std::string_view::npos || !ParseUint(rest.substr(0, bit_pos), &bits) ||
        (bits != 4 && bits != 8)) {
      return Status(ErrorCode::kOutOfRange, "weights: '" + std::string(raw) +
                                                "': bits must be 4 or 8 (e.g. gptq-4bit-g128)");
    }
    rest = rest.substr(bit_pos + 3);
    if (!rest.empty()) {
      if (rest.rfind("-g", 0) != 0) return UnknownFormat(raw);
      rest = rest.substr(2);
      if (rest == "all" && gptq) {
        group = -1;
      } else if (!ParseUint(rest, &group) || group < 16 || group > 4096 || (group & (group - 1))) {
        return Status(ErrorCode::kOutOfRange,
                      "weights: '" + std::string(raw) +
                          "': group size must be a power of two in [16, 4096]" +
                          (gptq ? " or 'all'" : ""));
      }
    }
    f.scheme = gptq ? QuantScheme::kGptq : QuantScheme::kAwq;
    f.bits = static_cast<int>(bits);
    f.group_size = static_cast<int>(group);
    f.dense_dtype = DType::kF16;
    f.id = std::string(gptq ? "gptq-" : "awq-") + std::to_string(bits) + "bit-g" +
           (group < 0 ? std::string("all") : std::to_string(group));
    return f;
  }
  if (id.rfind("exl2-", 0) == 0) {
    std::string_view rest = std::string_view(id).substr(5);
    size_t b = rest.find("bpw");
    double bpw = 0;
    if (b == std::string_view::npos || !ParseDecimal(rest.substr(0, b), &bpw) || bpw < 2.0 ||
        bpw > 8.0) {
      return Status(ErrorCode::kOutOfRange,
                    "weights: '" + std::string(raw) +
                        "': EXL2 bits per weight must be a number in [2.0, 8.0] (e.g. exl2-4.65bpw)");
    }
    rest = rest.substr(b + 3);
    int64_t head = 6;
    if (!rest.empty()) {
      if (rest.rfind("-h", 0) != 0 || !ParseUint(rest.substr(2), &head) || (head != 6 && head != 8)) {
        return Status(ErrorCode::kOutOfRange,
                      "weights: '" + std::string(raw) + "': EXL2 head bits must be -h6 or -h8");
      }
    }
    f.scheme = QuantScheme::kExl2;
    f.bits_per_weight = bpw;
    f.head_bits = static_cast<int>(head);
    f.dense_dtype = DType::kF16;
    char buf[48];
    std::snprintf(buf, sizeof buf, "exl2-%.2fbpw%s", bpw, head == 8 ? "-h8" : "");
    f.id = buf;
    return f;
  }
  for (const MixName& m : kMixNames) {
    if (id == m.name) {
      f.scheme = QuantScheme::kGgufMix;
      f.gguf_mix = m.mix;
      f.dense_dtype = DType::kF32;
      return f;
    }
  }
  if (id.rfind("gguf-", 0) == 0) {
    const GgmlTypeInfo* info = FindGgmlTypeByName(std::string_view(id).substr(5));
    if (info != nullptr && info->type != GgmlType::kQ8_1 && info->type != GgmlType::kQ8_K &&
        info->type != GgmlType::kI8 && info->type != GgmlType::kI16 &&
        info->type != GgmlType::kI32 && info->type != GgmlType::kI64 &&
        info->type != GgmlType::kF64) {
      f.scheme = QuantScheme::kGgufPure;
      f.gguf_type = info->type;
      f.dense_dtype = DType::kF32;
      f.id = "gguf-" + Lower(info->name);
      return f;
    }
  }
  return UnknownFormat(raw);
}

std::vector<WeightFormatInfo> ListWeightFormats() {
  const char* kGguf = "llama.cpp src/llama-quant.cpp (llama_tensor_get_type), ggml/src/ggml-common.h";
  const char* kGgufKeep = "norms, biases and the MoE router in F32; other tensors per the mix rules";
  std::vector<WeightFormatInfo> list = {
      {"fp32", "dense", "4 bytes per parameter", "nothing is quantized", "IEEE 754 binary32"},
      {"fp16", "dense", "2 bytes per parameter", "nothing is quantized", "IEEE 754 binary16"},
      {"bf16", "dense", "2 bytes per parameter", "nothing is quantized", "bfloat16"},
      {"fp8-e4m3", "fp8", "1 byte per weight plus one fp32 scale per tensor (per expert)",
       "embeddings, output head, norms, biases and routers stay in bf16",
       "vLLM fp8 / compressed-tensors per-tensor scheme; OCP FP8 spec"},
      {"fp8-e5m2", "fp8", "1 byte per weight plus one fp32 scale per tensor",
       "embeddings, output head, norms, biases and routers stay in bf16", "OCP FP8 spec"},
      {"fp8-e4m3-block128", "fp8", "1 byte per weight plus one fp32 scale per 128x128 block",
       "embeddings, output head, norms, biases and routers stay in bf16",
       "DeepSeek-V3 config.json quantization_config weight_block_size [128, 128]"},
      {"int8", "bitsandbytes", "LLM.int8(): 1 byte per weight plus one fp32 scale per output row",
       "embeddings, output head (llm_int8_skip_modules), norms and biases stay in fp16",
       "bitsandbytes Int8Params (CB int8, SCB fp32 per row); Dettmers et al. 2022"},
      {"nf4", "bitsandbytes", "4 bits per weight plus one fp32 absmax per block of 64 (4.5 bits)",
       "embeddings, output head, norms and biases stay in bf16",
       "bitsandbytes quantize_4bit blocksize=64; QLoRA paper (Dettmers et al. 2023)"},
      {"nf4-dq", "bitsandbytes",
       "4 bits per weight, 8-bit absmax per block of 64, one fp32 scale per 256 absmax blocks "
       "(about 4.127 bits)",
       "embeddings, output head, norms and biases stay in bf16",
       "QLoRA paper section 3 (double quantization: 0.127 bits per parameter of constants)"},
      {"fp4", "bitsandbytes", "as nf4 with the fp4 code book", "as nf4", "bitsandbytes"},
      {"fp4-dq", "bitsandbytes", "as nf4-dq with the fp4 code book", "as nf4", "bitsandbytes"},
      {"gptq-4bit-g128", "gptq",
       "b/8 bytes per weight packed in int32, per group of g inputs: fp16 scale and packed b-bit "
       "zero per output; one int32 g_idx per input",
       "embeddings, output head, norms, biases and MoE routers stay in fp16",
       "AutoGPTQ / GPTQModel QuantLinear buffers (qweight, qzeros, scales, g_idx)"},
      {"gptq-8bit-g128", "gptq", "as gptq-4bit with 8-bit packing", "as gptq-4bit", "AutoGPTQ"},
      {"awq-4bit-g128", "awq",
       "b/8 bytes per weight, per group of g inputs: fp16 scale and packed b-bit zero per output",
       "embeddings, output head, norms, biases and MoE routers stay in fp16",
       "AutoAWQ WQLinear_GEMM buffers (qweight, qzeros, scales)"},
      {"mxfp4", "mxfp4", "blocks of 32 FP4 (e2m1) values plus one 8-bit e8m0 scale (4.25 bits)",
       "embeddings, output head, norms, biases and routers stay in bf16",
       "OCP Microscaling Formats (MX) v1.0 specification"},
      {"mxfp4-moe", "mxfp4", "MXFP4 on routed experts only, everything else bf16",
       "attention, routers, embeddings, output head (gpt-oss quantization_config)",
       "gpt-oss model card; OCP MX v1.0"},
      {"exl2-4.65bpw", "exl2", "the chosen average bits per weight over linear layers; head at 6 bits",
       "embeddings, norms and biases stay in fp16", "ExLlamaV2 (turboderp) convert.py defaults"},
  };
  for (const MixName& m : kMixNames) {
    list.push_back({m.name, "gguf", "llama.cpp named mix: a default type with per-tensor overrides",
                    kGgufKeep, kGguf});
  }
  for (const GgmlTypeInfo& t : TypeTable()) {
    WeightFormatInfo info;
    Result<WeightFormat> parsed = ParseWeightFormat(std::string("gguf-") + t.name);
    if (!parsed.ok()) continue;
    info.id = parsed->id;
    // The named mixes already list gguf-f32, gguf-f16 and gguf-bf16: one entry per id.
    bool listed = false;
    for (const WeightFormatInfo& f : list) listed = listed || f.id == info.id;
    if (listed) continue;
    info.family = "gguf";
    info.description = std::to_string(t.block_bytes) + " bytes per block of " +
                       std::to_string(t.block_elements) + " weights, on every 2-D tensor";
    info.unquantized = "norms, biases and the MoE router in F32";
    info.source = "ggml/src/ggml-common.h";
    list.push_back(std::move(info));
  }
  return list;
}

namespace {

/// Whether a non-GGUF scheme quantizes this tensor.
bool QuantizesTensor(const WeightFormat& f, const TensorInfo& t) {
  if (!t.is_linear_weight()) return false;
  if (f.scheme == QuantScheme::kMxfp4Moe) return t.is_routed_expert();
  if (t.role == TensorRole::kRouter || t.role == TensorRole::kSharedExpertRouter) return false;
  if (t.role == TensorRole::kOutputHead) return f.scheme == QuantScheme::kExl2;
  return true;
}

/// Bytes of one quantized tensor under a non-GGUF scheme.
Result<uint64_t> QuantizedBytes(const WeightFormat& f, const TensorInfo& t, std::string* type) {
  const uint64_t in = static_cast<uint64_t>(t.ne[0]);
  const uint64_t out = static_cast<uint64_t>(t.ne[1]);
  const uint64_t experts = static_cast<uint64_t>(t.ne[2]);
  const uint64_t n = in * out;  // per expert
  uint64_t per_expert = 0;
  switch (f.scheme) {
    case QuantScheme::kFp8:
      *type = f.e5m2 ? "f8_e5m2" : "f8_e4m3";
      per_expert = n + 4;
      break;
    case QuantScheme::kFp8Block:
      *type = "f8_e4m3+block128";
      per_expert = n + CeilDiv(in, 128) * CeilDiv(out, 128) * 4;
      break;
    case QuantScheme::kLlmInt8:
      *type = "int8+rowscale";
      per_expert = n + out * 4;
      break;
    case QuantScheme::kBnb4: {
      *type = std::string(f.fp4 ? "fp4" : "nf4") + (f.double_quant ? "+dq" : "");
      const uint64_t blocks = CeilDiv(n, 64);
      per_expert = CeilDiv(n, 2) + (f.double_quant ? blocks + CeilDiv(blocks, 256) * 4 + 4 : blocks * 4);
      break;
    }
    case QuantScheme::kGptq:
    case QuantScheme::kAwq: {
      const uint64_t bits = static_cast<uint64_t>(f.bits);
      const uint64_t group = f.group_size > 0 ? static_cast<uint64_t>(f.group_size) : in;
      const uint64_t groups = CeilDiv(in, group);
      const uint64_t pack = 32 / bits;  // values per int32
      // qweight packs along inputs (GPTQ) or outputs (AWQ); both round up to whole int32s.
      const uint64_t qweight = f.scheme == QuantScheme::kGptq ? CeilDiv(in, pack) * out * 4
                                                              : in * CeilDiv(out, pack) * 4;
      const uint64_t qzeros = groups * CeilDiv(out, pack) * 4;
      const uint64_t scales = groups * out * 2;
      const uint64_t g_idx = f.scheme == QuantScheme::kGptq ? in * 4 : 0;
      per_expert = qweight + qzeros + scales + g_idx;
      *type = (f.scheme == QuantScheme::kGptq ? "gptq" : "awq") + std::to_string(f.bits) + "-g" +
              (f.group_size > 0 ? std::to_string(f.group_size) : std::string("all"));
      break;
    }
    case QuantScheme::kMxfp4:
    case QuantScheme::kMxfp4Moe:
      *type = "MXFP4";
      per_expert = CeilDiv(in, 32) * out * 17;
      break;
    case QuantScheme::kExl2: {
      const double bits = t.role == TensorRole::kOutputHead ? f.head_bits : f.bits_per_weight;
      *type = t.role == TensorRole::kOutputHead ? "exl2-head" : "exl2";
      per_expert = static_cast<uint64_t>(std::ceil(static_cast<double>(n) * bits / 8.0));
      break;
    }
    default:
      return Status(ErrorCode::kInvalidArgument, "internal: not a quantized scheme");
  }
  return per_expert * experts;
}

}  // namespace

uint64_t LlamaCppCudaTensorBytes(const TensorInfo& tensor, const TensorStorage& storage) {
  uint64_t alloc = storage.bytes;
  const GgmlTypeInfo* info = storage.ggml_type >= 0 ? FindGgmlType(storage.ggml_type) : nullptr;
  if (info != nullptr && info->block_elements > 1 && tensor.ne[0] % world::kCudaMatrixRowPadding != 0) {
    const int64_t extra = world::kCudaMatrixRowPadding - tensor.ne[0] % world::kCudaMatrixRowPadding;
    alloc += static_cast<uint64_t>(extra / info->block_elements * info->block_bytes);
  }
  return internal::RoundUp(alloc, world::kCudaTensorAlignment);
}

namespace {

/// Adds sized tensors to a plan's totals; shared by PlanWeights and PlanWeightsAsStored so that
/// a plan computed from a format and one read from a file are summed the same way.
class PlanTotals {
 public:
  PlanTotals(const ModelDescription& model, WeightPlan* plan) : model_(model), plan_(*plan) {}

  void Add(const TensorInfo& t, const TensorStorage& s, bool quantized) {
    const uint64_t elements = static_cast<uint64_t>(t.elements());
    parameters_ += t.elements();
    (quantized ? plan_.quantized_elements : plan_.unquantized_elements) += elements;
    plan_.total_bytes += s.bytes;
    by_type_[s.type] += s.bytes;
    // Decode reads: one row of a lookup table; top-k of the routed experts; the rest in full.
    uint64_t read = s.bytes;
    const bool lookup = (t.role == TensorRole::kTokenEmbedding && !model_.tied_embeddings) ||
                        t.role == TensorRole::kPositionEmbedding;
    if (lookup && t.ne[1] > 0) {
      read = s.bytes / static_cast<uint64_t>(t.ne[1]);
    } else if (t.is_routed_expert() && t.layer >= 0 &&
               static_cast<size_t>(t.layer) < model_.feed_forward.size()) {
      const LayerFeedForward& ffn = model_.feed_forward[static_cast<size_t>(t.layer)];
      plan_.routed_expert_bytes += s.bytes;
      if (ffn.num_experts > 0) {
        read = s.bytes / static_cast<uint64_t>(ffn.num_experts) *
               static_cast<uint64_t>(ffn.experts_per_token);
      }
    }
    plan_.bytes_read_per_token += read;
    if (t.role == TensorRole::kTokenEmbedding) plan_.token_embedding_bytes = s.bytes;
    if (plan_.format.is_gguf() && (t.role != TensorRole::kTokenEmbedding || model_.tied_embeddings)) {
      plan_.cuda_device_bytes += LlamaCppCudaTensorBytes(t, s);
    }
    if (plan_.format.is_gguf()) {
      plan_.cpu_buffer_bytes += CeilDiv(s.bytes, world::kGgmlCpuTensorAlignment) * world::kGgmlCpuTensorAlignment;
    }
  }

  void Finish() {
    plan_.parameters = CountParameters(model_);
    for (const auto& [type, bytes] : by_type_) plan_.bytes_by_type.emplace_back(type, bytes);
    std::sort(plan_.bytes_by_type.begin(), plan_.bytes_by_type.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    plan_.bits_per_weight = parameters_ > 0 ? static_cast<double>(plan_.total_bytes) * 8.0 /
                                                  static_cast<double>(parameters_)
                                            : 0.0;
  }

 private:
  const ModelDescription& model_;
  WeightPlan& plan_;
  std::map<std::string, uint64_t> by_type_;
  int64_t parameters_ = 0;
};

}  // namespace

Result<WeightPlan> PlanWeights(const ModelDescription& model, const WeightFormat& format) {
  WeightPlan plan;
  plan.format = format;
  plan.tensors.resize(model.tensors.size());
  PlanTotals totals(model, &plan);
  const MixContext mix_context =
      format.scheme == QuantScheme::kGgufMix ? ContextFor(model, format.gguf_mix) : MixContext{};
  for (size_t i = 0; i < model.tensors.size(); ++i) {
    const TensorInfo& t = model.tensors[i];
    TensorStorage& s = plan.tensors[i];
    const uint64_t elements = static_cast<uint64_t>(t.elements());
    bool quantized = false;
    if (format.is_gguf()) {
      GgmlType type = GgmlType::kF32;
      // llama.cpp quantizes only 2-D+ tensors whose name ends in "weight".
      if (!t.is_bias && t.n_dims >= 2) {
        type = format.scheme == QuantScheme::kGgufMix ? GgufTensorType(mix_context, t, format.gguf_mix)
                                                      : GgufPureTensorType(t, format.gguf_type);
      }
      const GgmlTypeInfo* info = FindGgmlType(static_cast<int32_t>(type));
      if (t.ne[0] % info->block_elements != 0) {
        return Status(ErrorCode::kUnsupported,
                      "weights: tensor " + t.name + " has rows of " + std::to_string(t.ne[0]) +
                          " values, not a multiple of " + info->name + "'s block of " +
                          std::to_string(info->block_elements));
      }
      s.type = info->name;
      s.ggml_type = static_cast<int32_t>(info->type);
      s.bytes = elements / static_cast<uint64_t>(info->block_elements) *
                static_cast<uint64_t>(info->block_bytes);
      quantized = type != GgmlType::kF32 && type != GgmlType::kF16 && type != GgmlType::kBF16;
    } else if (format.scheme != QuantScheme::kDense && QuantizesTensor(format, t)) {
      Result<uint64_t> bytes = QuantizedBytes(format, t, &s.type);
      if (!bytes.ok()) return bytes.status();
      s.bytes = *bytes;
      quantized = true;
    } else {
      s.type = DTypeName(format.dense_dtype);
      s.bytes = elements * static_cast<uint64_t>(DTypeBytes(format.dense_dtype));
    }
    totals.Add(t, s, quantized);
  }
  totals.Finish();
  return plan;
}

Result<WeightPlan> PlanWeightsAsStored(const ModelDescription& model, const WeightFormat& format,
                                       const std::vector<StoredTensor>& stored) {
  if (stored.size() != model.tensors.size()) {
    return Status(ErrorCode::kInvalidArgument,
                  "weights: " + std::to_string(stored.size()) + " stored tensors for a model of " +
                      std::to_string(model.tensors.size()));
  }
  WeightPlan plan;
  plan.format = format;
  plan.tensors.resize(model.tensors.size());
  PlanTotals totals(model, &plan);
  for (size_t i = 0; i < model.tensors.size(); ++i) {
    const StoredTensor& in = stored[i];
    TensorStorage& s = plan.tensors[i];
    s.type = in.type;
    s.bytes = in.bytes;
    s.ggml_type = in.ggml_type;
    totals.Add(model.tensors[i], s, in.quantized);
  }
  totals.Finish();
  return plan;
}

}  // namespace vram
