// llama.cpp's per-tensor quantization rules for its named mixes.
//
// Follows llama_tensor_get_type() and the ftype -> default type switch of
// llama_model_quantize_impl() in src/llama-quant.cpp of llama.cpp b7847 (a5bb8ba4, Jan 2026),
// cross-checked against b4747 (c392e509). Later builds route attn_qkv/attn_kv_b through the attn_v
// rules and make Q2_K/Q3_K fall back to Q4_0 instead of IQ4_NL. The rules are
// restated here, not copied; counters that llama.cpp keeps while walking tensors in file order
// (i_attention_wv, i_ffn_down, ...) equal the layer index for every architecture we build, so the
// layer index is used directly.

#include <algorithm>
#include <string>

#include "gguf_mix.h"
#include "vram/formats.h"

namespace vram {
namespace {

using T = GgmlType;
using M = GgufMix;

/// The type every quantizable tensor starts from (llama_model_quantize_impl's ftype switch).
T DefaultType(M mix) {
  switch (mix) {
    case M::kF32: return T::kF32;
    case M::kF16: return T::kF16;
    case M::kBF16: return T::kBF16;
    case M::kQ4_0: return T::kQ4_0;
    case M::kQ4_1: return T::kQ4_1;
    case M::kQ5_0: return T::kQ5_0;
    case M::kQ5_1: return T::kQ5_1;
    case M::kQ8_0: return T::kQ8_0;
    case M::kQ2_K_S:
    case M::kQ2_K: return T::kQ2_K;
    case M::kQ3_K_S:
    case M::kQ3_K_M:
    case M::kQ3_K_L: return T::kQ3_K;
    case M::kQ4_K_S:
    case M::kQ4_K_M: return T::kQ4_K;
    case M::kQ5_K_S:
    case M::kQ5_K_M: return T::kQ5_K;
    case M::kQ6_K: return T::kQ6_K;
    case M::kIQ1_S: return T::kIQ1_S;
    case M::kIQ1_M: return T::kIQ1_M;
    case M::kIQ2_XXS: return T::kIQ2_XXS;
    case M::kIQ2_XS: return T::kIQ2_XS;
    case M::kIQ2_S: return T::kIQ2_XS;  // sic: IQ2_S mix starts from IQ2_XS
    case M::kIQ2_M: return T::kIQ2_S;
    case M::kIQ3_XXS: return T::kIQ3_XXS;
    case M::kIQ3_XS: return T::kIQ3_S;
    case M::kIQ3_S: return T::kIQ3_S;
    case M::kIQ3_M: return T::kIQ3_S;
    case M::kIQ4_NL: return T::kIQ4_NL;
    case M::kIQ4_XS: return T::kIQ4_XS;
    case M::kTQ1_0: return T::kTQ1_0;
    case M::kTQ2_0: return T::kTQ2_0;
    case M::kMXFP4_MOE: return T::kMXFP4;
  }
  return T::kF16;
}

bool IsQuantized(T t) { return t != T::kF32 && t != T::kF16 && t != T::kBF16; }

int64_t BlockOf(T t) {
  const GgmlTypeInfo* info = FindGgmlType(static_cast<int32_t>(t));
  return info ? info->block_elements : 1;
}

/// llama.cpp's use_more_bits(i, n): the first and last eighth, and every third layer between.
bool UseMoreBits(int64_t i, int64_t n) {
  return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

bool Contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

}  // namespace



MixContext ContextFor(const ModelDescription& m, M mix) {
  MixContext c;
  c.n_layer = m.attention.num_layers;
  for (const LayerFeedForward& f : m.feed_forward) c.n_expert = std::max(c.n_expert, f.num_experts);
  c.n_gqa = m.attention.num_kv_heads > 0 ? m.attention.num_query_heads / m.attention.num_kv_heads : 1;
  c.has_output = !m.tied_embeddings;
  c.is_falcon = m.architecture == "falcon";
  const bool llama_arch = m.architecture == "llama" || m.architecture == "mistral";
  c.is_70b_type = m.attention.num_layers == 80 &&
                  ((llama_arch && m.attention.num_query_heads != m.attention.num_kv_heads) ||
                   m.architecture == "qwen2");
  for (const TensorInfo& t : m.tensors) {
    if (t.is_bias) continue;
    if (t.role == TensorRole::kAttnV || t.role == TensorRole::kAttnQkv || t.role == TensorRole::kAttnKvB) {
      ++c.n_attention_wv;
    }
  }
  // The quantize tool refuses the IQ1/IQ2 mixes without an importance matrix, and published
  // IQ1-IQ3 files are made with one; the IQ4 and K-quant rows of llama.cpp's own size table
  // (tools/quantize/README.md, Llama-3.1-8B) are reproduced only without one.
  switch (mix) {
    case M::kIQ1_S: case M::kIQ1_M: case M::kIQ2_XXS: case M::kIQ2_XS: case M::kIQ2_S:
    case M::kIQ2_M: case M::kIQ3_XXS: case M::kIQ3_XS: case M::kIQ3_S: case M::kIQ3_M:
      c.has_imatrix = true;
      break;
    default:
      break;
  }
  return c;
}

namespace {

bool OneOf(M mix, std::initializer_list<M> set) {
  return std::find(set.begin(), set.end(), mix) != set.end();
}

/// llama_tensor_get_type: the type of one quantizable tensor under a mix.
T RuleType(const MixContext& c, const TensorInfo& t, M mix, T type) {
  const std::string& name = t.name;
  const int64_t i_layer = std::max<int32_t>(t.layer, 0);
  const int64_t n_layer = c.n_layer;
  const bool is_output = t.role == TensorRole::kOutputHead ||
                          (!c.has_output && t.role == TensorRole::kTokenEmbedding);
  const bool low_iq = OneOf(mix, {M::kIQ2_XXS, M::kIQ2_XS, M::kIQ1_S, M::kIQ2_S, M::kIQ2_M, M::kIQ1_M});

  if (is_output) {
    const int64_t nx = t.ne[0];
    if (mix == M::kMXFP4_MOE) return T::kQ8_0;
    if (c.is_falcon || nx % BlockOf(type) != 0) return T::kQ8_0;
    if (OneOf(mix, {M::kIQ2_XXS, M::kIQ2_XS, M::kIQ3_XXS, M::kIQ1_S, M::kIQ2_S, M::kIQ2_M, M::kIQ1_M})) {
      return T::kQ5_K;
    }
    return type != T::kQ8_0 ? T::kQ6_K : type;
  }
  if (mix == M::kMXFP4_MOE) return t.ne[2] > 1 ? T::kMXFP4 : T::kQ8_0;
  if (t.role == TensorRole::kTokenEmbedding) {
    if (OneOf(mix, {M::kIQ2_XXS, M::kIQ2_XS, M::kIQ1_S, M::kIQ1_M})) return T::kQ2_K;
    if (OneOf(mix, {M::kIQ2_S, M::kIQ2_M, M::kIQ3_XXS})) return T::kIQ3_S;
    if (OneOf(mix, {M::kTQ1_0, M::kTQ2_0})) return T::kQ4_K;
    return type;
  }
  const bool is_attn_v = Contains(name, "attn_v.weight");
  if (low_iq) {
    const bool iq2s = mix == M::kIQ2_S || mix == M::kIQ2_M;
    if (is_attn_v) {
      if (c.n_gqa >= 4 || c.n_expert >= 4) return T::kQ4_K;
      return iq2s ? T::kIQ3_S : T::kQ2_K;
    }
    if (c.n_expert == 8 && Contains(name, "attn_k.weight")) return T::kQ4_K;
    if (Contains(name, "ffn_down")) {
      if (i_layer < n_layer / 8) return iq2s ? T::kIQ3_S : T::kQ2_K;
      return type;
    }
    if (Contains(name, "attn_output.weight")) {
      if (c.n_expert == 8) return T::kQ5_K;
      if (mix == M::kIQ1_S || mix == M::kIQ1_M) return T::kIQ2_XXS;
      if (iq2s) return T::kIQ3_S;
    }
    return type;
  }
  if (is_attn_v) {
    const int64_t i = i_layer;
    if (mix == M::kQ2_K) {
      type = c.n_gqa >= 4 ? T::kQ4_K : T::kQ3_K;
    } else if (mix == M::kQ2_K_S && c.n_gqa >= 4) {
      type = T::kQ4_K;
    } else if (mix == M::kIQ3_XXS) {
      type = c.n_gqa >= 4 ? T::kQ4_K : (!c.has_imatrix ? T::kIQ3_S : T::kIQ3_XXS);
    } else if ((mix == M::kIQ3_XS || mix == M::kIQ3_S) && c.n_gqa >= 4) {
      type = T::kQ4_K;
    } else if (mix == M::kIQ3_M) {
      type = T::kQ4_K;
    } else if (mix == M::kQ3_K_M) {
      type = i < 2 ? T::kQ5_K : T::kQ4_K;
    } else if (mix == M::kQ3_K_L) {
      type = T::kQ5_K;
    } else if ((mix == M::kIQ4_NL || mix == M::kIQ4_XS) && c.n_gqa >= 4) {
      type = T::kQ5_K;
    } else if ((mix == M::kQ4_K_M || mix == M::kQ5_K_M) && UseMoreBits(i, c.n_attention_wv)) {
      type = T::kQ6_K;
    } else if (mix == M::kQ4_K_S && i < 4) {
      type = T::kQ5_K;
    }
    if (c.is_70b_type && (type == T::kQ3_K || type == T::kQ4_K)) type = T::kQ5_K;
    if (c.n_expert == 8) type = T::kQ8_0;
    return type;
  }
  if (Contains(name, "attn_k.weight")) {
    if (c.n_expert == 8) return T::kQ8_0;
    if (mix == M::kIQ3_XS) return T::kIQ3_XXS;
    if (mix == M::kIQ3_XXS) return T::kIQ2_S;
    return type;
  }
  if (Contains(name, "attn_q.weight")) {
    if (mix == M::kIQ3_XS) return T::kIQ3_XXS;
    if (mix == M::kIQ3_XXS) return T::kIQ2_S;
    return type;
  }
  if (Contains(name, "ffn_down")) {
    const int64_t i = i_layer;
    if (mix == M::kQ2_K) return T::kQ3_K;
    if (mix == M::kQ2_K_S) return i < n_layer / 8 ? T::kQ4_K : type;
    if (mix == M::kIQ3_XXS && !c.has_imatrix) return i < n_layer / 8 ? T::kQ4_K : T::kQ3_K;
    if (mix == M::kQ3_K_M) {
      return i < n_layer / 16 ? T::kQ5_K
             : (!c.is_falcon || UseMoreBits(i, n_layer)) ? T::kQ4_K
                                                         : T::kQ3_K;
    }
    if (mix == M::kIQ3_M && (i < n_layer / 8 || (c.n_expert == 8 && UseMoreBits(i, n_layer)))) {
      return T::kQ4_K;
    }
    if (mix == M::kQ3_K_L) return c.is_falcon ? T::kQ4_K : T::kQ5_K;
    if (mix == M::kQ4_K_M) {
      if (c.is_falcon) {
        return i < n_layer / 16 ? T::kQ6_K : UseMoreBits(i, n_layer) ? T::kQ5_K : T::kQ4_K;
      }
      return UseMoreBits(i, n_layer) ? T::kQ6_K : type;
    }
    if (i < n_layer / 8 && (mix == M::kIQ4_NL || mix == M::kIQ4_XS) && !c.has_imatrix) return T::kQ5_K;
    if (mix == M::kQ5_K_M && UseMoreBits(i, n_layer)) return T::kQ6_K;
    if (mix == M::kQ4_K_S && !c.is_falcon && i < n_layer / 8) return T::kQ5_K;
    if ((mix == M::kQ4_0 || mix == M::kQ5_0) && c.has_imatrix && i < n_layer / 8) {
      return mix == M::kQ4_0 ? T::kQ4_1 : T::kQ5_1;
    }
    return type;
  }
  if (Contains(name, "attn_output.weight")) {
    if (!c.is_falcon) {
      if (c.n_expert == 8) {
        if (OneOf(mix, {M::kQ2_K, M::kIQ3_XS, M::kIQ3_XXS, M::kQ3_K_S, M::kQ3_K_M, M::kIQ4_NL,
                        M::kQ4_K_S, M::kQ4_K_M, M::kIQ3_S, M::kIQ3_M, M::kIQ4_XS})) {
          return T::kQ5_K;
        }
      } else {
        if (mix == M::kQ2_K) return T::kQ3_K;
        if (mix == M::kIQ3_XXS) return T::kIQ3_S;
        if (mix == M::kQ3_K_M) return T::kQ4_K;
        if (mix == M::kQ3_K_L) return T::kQ5_K;
        if (mix == M::kIQ3_M) return T::kQ4_K;
      }
    } else if (mix == M::kQ3_K_L) {
      return T::kQ4_K;
    }
    return type;
  }
  if (Contains(name, "attn_qkv.weight")) {
    if (mix == M::kQ3_K_M || mix == M::kQ3_K_L || mix == M::kIQ3_M) return T::kQ4_K;
    if (mix == M::kQ4_K_M) return T::kQ5_K;
    if (mix == M::kQ5_K_M) return T::kQ6_K;
    return type;
  }
  if (Contains(name, "ffn_gate") || Contains(name, "ffn_up")) {
    if (mix == M::kIQ3_XS && i_layer >= n_layer / 8 && i_layer < 7 * n_layer / 8) return T::kIQ3_XXS;
    return type;
  }
  return type;
}

/// llama.cpp's fallback when a row is not a whole number of blocks of the chosen type.
T Fallback(T type, int64_t row) {
  if (row % BlockOf(type) == 0) return type;
  T next = type;
  switch (type) {
    case T::kTQ1_0: case T::kTQ2_0: next = T::kQ4_0; break;
    case T::kIQ2_XXS: case T::kIQ2_XS: case T::kIQ2_S: case T::kIQ3_XXS: case T::kIQ3_S:
    case T::kIQ1_S: case T::kIQ1_M: case T::kQ2_K: case T::kQ3_K: case T::kIQ4_XS:
      next = T::kIQ4_NL;
      break;
    case T::kQ4_K: next = T::kQ5_0; break;
    case T::kQ5_K: next = T::kQ5_1; break;
    case T::kQ6_K: next = T::kQ8_0; break;
    default: next = T::kF16; break;
  }
  return row % BlockOf(next) == 0 ? next : T::kF16;
}

/// Tensors llama.cpp's quantizer never touches; the converter wrote them as F32.
bool KeptAsIs(const TensorInfo& t) {
  // conversion/base.py forces F32 on FFN_GATE_INP(_SHEXP) and SSM_CONV1D; llama-quant.cpp skips
  // ssm_conv1d and 1-D tensors.
  return t.is_bias || t.n_dims < 2 || t.role == TensorRole::kNorm ||
         t.role == TensorRole::kRouter || t.role == TensorRole::kPositionEmbedding ||
         t.role == TensorRole::kAttnSinks || t.role == TensorRole::kSharedExpertRouter ||
         t.role == TensorRole::kSsmConv || t.role == TensorRole::kSsmParam;
}

}  // namespace

GgmlType GgufMixTensorType(const ModelDescription& model, const TensorInfo& tensor, GgufMix mix) {
  return GgufTensorType(ContextFor(model, mix), tensor, mix);
}

GgmlType GgufTensorType(const MixContext& context, const TensorInfo& tensor, GgufMix mix) {
  if (KeptAsIs(tensor)) return T::kF32;
  const T base = DefaultType(mix);
  if (!IsQuantized(base)) return base;
  return Fallback(RuleType(context, tensor, mix, base), tensor.ne[0]);
}

GgmlType GgufPureTensorType(const TensorInfo& tensor, GgmlType type) {
  if (KeptAsIs(tensor)) return T::kF32;
  if (!IsQuantized(type)) return type;
  return Fallback(type, tensor.ne[0]);
}

}  // namespace vram
