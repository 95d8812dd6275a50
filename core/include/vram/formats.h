#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vram/model.h"
#include "vram/status.h"

namespace vram {

/// ggml tensor types, numbered as in ggml.h (the numbers are GGUF's on-disk type ids).
enum class GgmlType : int32_t {
  kF32 = 0, kF16 = 1, kQ4_0 = 2, kQ4_1 = 3, kQ5_0 = 6, kQ5_1 = 7, kQ8_0 = 8, kQ8_1 = 9,
  kQ2_K = 10, kQ3_K = 11, kQ4_K = 12, kQ5_K = 13, kQ6_K = 14, kQ8_K = 15,
  kIQ2_XXS = 16, kIQ2_XS = 17, kIQ3_XXS = 18, kIQ1_S = 19, kIQ4_NL = 20, kIQ3_S = 21,
  kIQ2_S = 22, kIQ4_XS = 23, kI8 = 24, kI16 = 25, kI32 = 26, kI64 = 27, kF64 = 28,
  kIQ1_M = 29, kBF16 = 30, kTQ1_0 = 34, kTQ2_0 = 35, kMXFP4 = 39,
};

/// Storage layout of a ggml type: `block_bytes` bytes hold `block_elements` values.
struct GgmlTypeInfo {
  GgmlType type;
  const char* name;  ///< As llama.cpp prints it: "Q4_K", "IQ2_XXS", "F16".
  int64_t block_elements;
  int64_t block_bytes;
};

/// Layout of a ggml type, or nullptr for an id ggml does not define.
const GgmlTypeInfo* FindGgmlType(int32_t type_id);
/// Looks a type up by name, case-insensitively ("q4_k", "IQ4_XS").
const GgmlTypeInfo* FindGgmlTypeByName(std::string_view name);
/// Every defined ggml type.
const std::vector<GgmlTypeInfo>& AllGgmlTypes();

/// llama.cpp's named quantization mixes (llama_ftype), which raise the type of certain tensors.
enum class GgufMix : uint8_t {
  kF32, kF16, kBF16, kQ4_0, kQ4_1, kQ5_0, kQ5_1, kQ8_0,
  kQ2_K_S, kQ2_K, kQ3_K_S, kQ3_K_M, kQ3_K_L, kQ4_K_S, kQ4_K_M, kQ5_K_S, kQ5_K_M, kQ6_K,
  kIQ1_S, kIQ1_M, kIQ2_XXS, kIQ2_XS, kIQ2_S, kIQ2_M, kIQ3_XXS, kIQ3_XS, kIQ3_S, kIQ3_M,
  kIQ4_NL, kIQ4_XS, kTQ1_0, kTQ2_0, kMXFP4_MOE,
};

/// How weights are stored.
enum class QuantScheme : uint8_t {
  kDense,       ///< fp32 / fp16 / bf16 everywhere.
  kFp8,         ///< fp8 linear weights with one fp32 scale per tensor.
  kFp8Block,    ///< fp8 linear weights with fp32 scales per 128x128 block (DeepSeek-V3).
  kLlmInt8,     ///< bitsandbytes LLM.int8(): int8 weights plus one fp32 scale per row.
  kBnb4,        ///< bitsandbytes nf4/fp4, blocks of 64, optional double quantization.
  kGptq,        ///< GPTQ: packed b-bit weights, fp16 scales and packed zeros per group, g_idx.
  kAwq,         ///< AWQ (GEMM layout): packed b-bit weights, fp16 scales and packed zeros per group.
  kMxfp4,       ///< OCP MXFP4: blocks of 32 e2m1 values with one e8m0 scale, on linear weights.
  kMxfp4Moe,    ///< MXFP4 on routed experts only; everything else bf16 (gpt-oss as shipped).
  kExl2,        ///< ExLlamaV2 at an average bits per weight; head at its own bits.
  kGgufPure,    ///< One ggml type for every quantizable tensor.
  kGgufMix,     ///< A llama.cpp named mix (per-tensor rules of llama-quant.cpp).
  kGgufFile,    ///< A .gguf file's own per-tensor types (see PlanWeightsAsStored).
};

/// A parsed weight-format id such as "bf16", "q4_k_m", "nf4-dq", "gptq-4bit-g128".
struct WeightFormat {
  std::string id;  ///< Canonical id.
  QuantScheme scheme = QuantScheme::kDense;
  DType dense_dtype = DType::kBF16;  ///< Dtype of tensors the scheme leaves unquantized.
  int bits = 16;                     ///< GPTQ/AWQ bits (4 or 8).
  int group_size = 128;              ///< GPTQ/AWQ group size; -1 means one group per row.
  bool fp4 = false;                  ///< bnb: fp4 instead of nf4.
  bool double_quant = false;         ///< bnb: quantized absmax (QLoRA double quantization).
  bool e5m2 = false;                 ///< fp8: E5M2 instead of E4M3.
  double bits_per_weight = 0;        ///< EXL2 average over quantized linear layers.
  int head_bits = 6;                 ///< EXL2 output-head bits.
  GgmlType gguf_type = GgmlType::kF16;  ///< kGgufPure.
  GgufMix gguf_mix = GgufMix::kF16;     ///< kGgufMix.
  bool is_gguf() const {
    return scheme == QuantScheme::kGgufPure || scheme == QuantScheme::kGgufMix ||
           scheme == QuantScheme::kGgufFile;
  }
};

/// Parses a weight-format id. The message lists the accepted forms on failure.
Result<WeightFormat> ParseWeightFormat(std::string_view id);

/// One line of the format catalogue.
struct WeightFormatInfo {
  std::string id;
  std::string family;       ///< "dense", "fp8", "bitsandbytes", "gptq", "awq", "mxfp4", "exl2", "gguf".
  std::string description;  ///< Storage cost in words.
  std::string unquantized;  ///< Which tensors the scheme leaves in 16/32-bit.
  std::string source;       ///< Where the layout is defined.
};

/// The catalogue for --list-formats: fixed ids plus examples of parametric ones.
std::vector<WeightFormatInfo> ListWeightFormats();

/// How one tensor is stored under a format.
struct TensorStorage {
  std::string type;  ///< "Q4_K", "bf16", "nf4+dq", "gptq4-g128", ...
  uint64_t bytes = 0;
  int32_t ggml_type = -1;  ///< The ggml type id for GGUF formats; -1 otherwise.
};

/// The stored bytes of every tensor of a model under a format.
struct WeightPlan {
  WeightFormat format;
  std::vector<TensorStorage> tensors;  ///< Parallel to ModelDescription::tensors.
  uint64_t total_bytes = 0;
  uint64_t routed_expert_bytes = 0;   ///< Part of total held by routed experts.
  uint64_t bytes_read_per_token = 0;  ///< Decode reads: all but unused experts and the embedding
                                      ///< table (one row read), i.e. the memory-roofline numerator.
  uint64_t quantized_elements = 0;
  uint64_t unquantized_elements = 0;
  /// Bytes per storage type, largest first ("Q4_K" -> bytes).
  std::vector<std::pair<std::string, uint64_t>> bytes_by_type;
  double bits_per_weight = 0;  ///< total_bytes * 8 / parameters.
  ParameterCounts parameters;  ///< Counted once here so estimates need not walk the tensors.
  uint64_t token_embedding_bytes = 0;  ///< Stored bytes of the token-embedding table.
  /// GGUF only: bytes llama.cpp's CUDA backend allocates for the offloaded tensors (all but
  /// token_embd, which stays on the CPU; a tied head's duplicate included), each aligned to 128
  /// bytes with quantized rows padded to 512 values.
  uint64_t cuda_device_bytes = 0;
  /// GGUF only: bytes of llama.cpp's CPU model buffer (every tensor, 32-byte aligned).
  uint64_t cpu_buffer_bytes = 0;
};

/// Sizes every tensor of `model` under `format`. Fails when the format cannot store a tensor
/// (e.g. a row length not divisible by the GGUF block size with no fallback).
Result<WeightPlan> PlanWeights(const ModelDescription& model, const WeightFormat& format);

/// How one tensor is stored in a model file, as the file says.
struct StoredTensor {
  std::string type;        ///< "Q4_K", "BF16", "I32+F16" (GPTQ qweight/qzeros + scales), ...
  uint64_t bytes = 0;      ///< Exact bytes in the file.
  bool quantized = false;  ///< Stored in fewer bits than 16 per value (or with scales).
  int32_t ggml_type = -1;  ///< The ggml type id when the file is a GGUF; -1 otherwise.
};

/// A weight plan whose per-tensor bytes are a file's own (GGUF tensor infos, safetensors
/// headers): `stored` is parallel to model.tensors. `format` names the storage: id "gguf-file"
/// with scheme kGgufFile for a GGUF (then llama.cpp's CUDA buffer sizes are derived from each
/// ggml_type), or the checkpoint's scheme for safetensors. EstimateInference works on the result
/// exactly as on PlanWeights'.
Result<WeightPlan> PlanWeightsAsStored(const ModelDescription& model, const WeightFormat& format,
                                       const std::vector<StoredTensor>& stored);

/// Bytes llama.cpp's CUDA backend allocates for one GGUF tensor: quantized rows padded to a
/// multiple of 512 values, then 128-byte alignment (ggml-cuda get_alloc_size / get_alignment).
uint64_t LlamaCppCudaTensorBytes(const TensorInfo& tensor, const TensorStorage& storage);

/// The ggml type llama.cpp's quantizer gives one tensor under a named mix, following
/// llama_tensor_get_type in src/llama-quant.cpp.
GgmlType GgufMixTensorType(const ModelDescription& model, const TensorInfo& tensor, GgufMix mix);

/// Lowercase llama.cpp name of a mix ("q4_k_m").
const char* GgufMixName(GgufMix mix);

}  // namespace vram
