#pragma once

// Turns a family's structural flags into the tensor inventory, with llama.cpp's GGUF names so
// that GGUF headers and presets describe tensors the same way.

#include <cstdint>

#include "vram/model.h"

namespace vram::internal {

struct MlaShape {
  int64_t q_lora_rank = 0;
  int64_t kv_lora_rank = 0;
  int64_t nope_dim = 0;
  int64_t rope_dim = 0;
  int64_t v_dim = 0;
};

/// A gated DeltaNet layer (Qwen3-Next, Qwen3.5): linear attention with a recurrent state.
struct DeltaNetShape {
  int64_t key_heads = 0;
  int64_t value_heads = 0;
  int64_t key_head_dim = 0;
  int64_t value_head_dim = 0;
  int64_t conv_kernel = 0;
  /// Channels of the short convolution: q, k and v (2 x key_heads x key_head_dim + values).
  int64_t conv_channels() const { return 2 * key_heads * key_head_dim + value_heads * value_head_dim; }
};

struct InventoryShape {
  bool norm_has_bias = false;  ///< LayerNorm (weight + bias) instead of RMSNorm.
  int norms_per_layer = 2;
  const char* second_norm_name = "ffn_norm";  ///< Falcon-40B style: "attn_norm_2".
  bool qk_norm = false;
  bool qkv_fused = false;
  bool gate_up_fused = false;
  bool qkv_bias = false;
  bool o_bias = false;
  bool mlp_bias = false;
  bool output_bias = false;
  bool attention_sinks = false;
  bool router_bias = false;
  bool expert_bias = false;
  bool router_score_bias = false;  ///< DeepSeek-V3 e_score_correction_bias.
  bool shared_expert_gate = false;
  bool mla = false;
  MlaShape mla_shape;
  int64_t position_embeddings = 0;  ///< Rows of a learned position table (0 = none).
  /// Query projection twice as wide: its second half gates the attention output (Qwen3-Next).
  bool attention_output_gate = false;
  /// Layers of kind kNone are gated DeltaNet layers of this shape (when key_heads > 0).
  DeltaNetShape delta_net;
};

/// Fills model->tensors from the geometry and feed-forward already in `model`.
void BuildInventory(const InventoryShape& shape, ModelDescription* model);

}  // namespace vram::internal
