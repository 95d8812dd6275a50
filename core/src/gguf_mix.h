#pragma once

// Internal interface of the llama.cpp mix rules, so that a weight plan computes the model-wide
// facts (layer count, GQA ratio, experts, tied head) once rather than once per tensor.

#include <cstdint>

#include "vram/formats.h"

namespace vram {

struct MixContext {
  int64_t n_layer = 0;
  int64_t n_expert = 0;
  int64_t n_gqa = 1;
  int64_t n_attention_wv = 0;
  bool has_output = true;
  bool is_falcon = false;
  bool is_70b_type = false;  ///< llama.cpp's LLM_TYPE_70B (80-layer Llama with GQA, Qwen2-72B).
  bool has_imatrix = false;
};

/// The facts of `model` that llama.cpp's rules consult for `mix`.
MixContext ContextFor(const ModelDescription& model, GgufMix mix);
/// The stored type of one tensor under a mix.
GgmlType GgufTensorType(const MixContext& context, const TensorInfo& tensor, GgufMix mix);
/// The stored type of one tensor when one type is used everywhere (llama-quantize --pure).
GgmlType GgufPureTensorType(const TensorInfo& tensor, GgmlType type);

}  // namespace vram
