#include "model_builder.h"

#include <string>

namespace vram::internal {
namespace {

class Inventory {
 public:
  explicit Inventory(std::vector<TensorInfo>* out) : out_(out) {}

  void Matrix(int32_t layer, const char* name, TensorRole role, int64_t in, int64_t out,
              int64_t experts = 1) {
    TensorInfo t;
    t.name = Name(layer, name, ".weight");
    t.role = role;
    t.layer = layer;
    t.n_dims = experts > 1 ? 3 : 2;
    t.ne[0] = in;
    t.ne[1] = out;
    t.ne[2] = experts;
    out_->push_back(std::move(t));
  }
  void Vector(int32_t layer, const char* name, TensorRole role, int64_t n, bool bias,
              int64_t experts = 1) {
    TensorInfo t;
    t.name = Name(layer, name, bias ? ".bias" : ".weight");
    t.role = role;
    t.is_bias = bias;
    t.layer = layer;
    t.n_dims = experts > 1 ? 2 : 1;
    t.ne[0] = n;
    t.ne[1] = experts;
    out_->push_back(std::move(t));
  }
  /// A 1-D tensor whose GGUF name has no suffix (llama.cpp's "blk.N.ssm_a").
  void Bare(int32_t layer, const char* name, TensorRole role, int64_t n) {
    Vector(layer, name, role, n, false);
    out_->back().name = Name(layer, name, "");
  }
  /// A norm: weight, plus bias for LayerNorm.
  void Norm(int32_t layer, const char* name, int64_t n, bool has_bias) {
    Vector(layer, name, TensorRole::kNorm, n, false);
    if (has_bias) Vector(layer, name, TensorRole::kNorm, n, true);
  }
  /// A linear layer: weight plus optional bias of its output width.
  void Linear(int32_t layer, const char* name, TensorRole role, int64_t in, int64_t out, bool bias,
              int64_t experts = 1) {
    Matrix(layer, name, role, in, out, experts);
    if (bias) Vector(layer, name, role, out, true, experts);
  }

 private:
  static std::string Name(int32_t layer, const char* base, const char* suffix) {
    std::string name;
    if (layer >= 0) name = "blk." + std::to_string(layer) + ".";
    name += base;
    name += suffix;
    return name;
  }
  std::vector<TensorInfo>* out_;
};

}  // namespace

void BuildInventory(const InventoryShape& shape, ModelDescription* model) {
  const AttentionGeometry& g = model->attention;
  const int64_t hidden = g.hidden_size;
  const int64_t q_width = g.num_query_heads * g.key_head_dim;
  const int64_t kv_width = g.num_kv_heads * g.key_head_dim;
  const int64_t o_in = g.num_query_heads * g.value_head_dim;
  std::vector<TensorInfo>& tensors = model->tensors;
  tensors.clear();
  tensors.reserve(static_cast<size_t>(g.num_layers) * 16 + 8);
  Inventory inv(&tensors);

  inv.Matrix(-1, "token_embd", TensorRole::kTokenEmbedding, hidden, model->vocab_size);
  if (shape.position_embeddings > 0) {
    inv.Matrix(-1, "position_embd", TensorRole::kPositionEmbedding, hidden,
               shape.position_embeddings);
  }

  for (int32_t i = 0; i < static_cast<int32_t>(g.num_layers); ++i) {
    const LayerFeedForward& ffn = model->feed_forward[static_cast<size_t>(i)];
    const LayerAttention& layer = g.layers[static_cast<size_t>(i)];
    inv.Norm(i, "attn_norm", hidden, shape.norm_has_bias);
    if (layer.kind == AttentionKind::kNone && shape.delta_net.key_heads > 0) {
      // Qwen3NextGatedDeltaNet as llama.cpp's converter writes it (conversion/qwen.py): in_proj_qkvz
      // split into attn_qkv (q, k, v) and attn_gate (the output gate z); in_proj_ba (beta and the
      // decay input per value head); the depthwise conv over q, k and v; dt_bias and A_log per
      // value head; the gated RMSNorm over one value head; out_proj.
      const DeltaNetShape& d = shape.delta_net;
      const int64_t keys = d.key_heads * d.key_head_dim, values = d.value_heads * d.value_head_dim;
      inv.Matrix(i, "attn_qkv", TensorRole::kSsmIn, hidden, 2 * keys + values);
      inv.Matrix(i, "attn_gate", TensorRole::kSsmIn, hidden, values);
      inv.Matrix(i, "ssm_conv1d", TensorRole::kSsmConv, d.conv_kernel, d.conv_channels());
      inv.Vector(i, "ssm_dt", TensorRole::kSsmParam, d.value_heads, true);
      inv.Bare(i, "ssm_a", TensorRole::kSsmParam, d.value_heads);
      inv.Matrix(i, "ssm_ba", TensorRole::kSsmIn, hidden, 2 * d.value_heads);
      inv.Norm(i, "ssm_norm", d.value_head_dim, false);
      inv.Matrix(i, "ssm_out", TensorRole::kSsmOut, values, hidden);
    } else if (shape.mla) {
      const MlaShape& m = shape.mla_shape;
      const int64_t q_head = m.nope_dim + m.rope_dim;
      if (m.q_lora_rank > 0) {
        inv.Matrix(i, "attn_q_a", TensorRole::kAttnQA, hidden, m.q_lora_rank);
        inv.Norm(i, "attn_q_a_norm", m.q_lora_rank, false);
        inv.Matrix(i, "attn_q_b", TensorRole::kAttnQB, m.q_lora_rank, g.num_query_heads * q_head);
      } else {
        inv.Matrix(i, "attn_q", TensorRole::kAttnQ, hidden, g.num_query_heads * q_head);
      }
      inv.Matrix(i, "attn_kv_a_mqa", TensorRole::kAttnKvA, hidden, m.kv_lora_rank + m.rope_dim);
      inv.Norm(i, "attn_kv_a_norm", m.kv_lora_rank, false);
      inv.Matrix(i, "attn_kv_b", TensorRole::kAttnKvB, m.kv_lora_rank,
                 g.num_query_heads * (m.nope_dim + m.v_dim));
      inv.Linear(i, "attn_output", TensorRole::kAttnOutput, g.num_query_heads * m.v_dim, hidden,
                 shape.o_bias);
    } else {
      if (shape.qkv_fused) {
        inv.Linear(i, "attn_qkv", TensorRole::kAttnQkv, hidden,
                   q_width + kv_width + g.num_kv_heads * g.value_head_dim, shape.qkv_bias);
      } else {
        inv.Linear(i, "attn_q", TensorRole::kAttnQ, hidden,
                   shape.attention_output_gate ? 2 * q_width : q_width, shape.qkv_bias);
        inv.Linear(i, "attn_k", TensorRole::kAttnK, hidden, kv_width, shape.qkv_bias);
        inv.Linear(i, "attn_v", TensorRole::kAttnV, hidden, g.num_kv_heads * g.value_head_dim,
                   shape.qkv_bias);
      }
      if (shape.qk_norm) {
        inv.Norm(i, "attn_q_norm", g.key_head_dim, false);
        inv.Norm(i, "attn_k_norm", g.key_head_dim, false);
      }
      inv.Linear(i, "attn_output", TensorRole::kAttnOutput, o_in, hidden, shape.o_bias);
      if (shape.attention_sinks) inv.Vector(i, "attn_sinks", TensorRole::kAttnSinks, g.num_query_heads, false);
    }
    if (shape.norms_per_layer == 4) inv.Norm(i, "post_attention_norm", hidden, shape.norm_has_bias);
    if (shape.norms_per_layer >= 2) inv.Norm(i, shape.second_norm_name, hidden, shape.norm_has_bias);
    if (ffn.moe) {
      const int64_t e = ffn.num_experts;
      const int64_t w = ffn.expert_intermediate_size;
      inv.Linear(i, "ffn_gate_inp", TensorRole::kRouter, hidden, e, shape.router_bias);
      if (shape.router_score_bias) inv.Vector(i, "exp_probs_b", TensorRole::kRouter, e, true);
      inv.Linear(i, "ffn_gate_exps", TensorRole::kExpertGate, hidden, w, shape.expert_bias, e);
      inv.Linear(i, "ffn_up_exps", TensorRole::kExpertUp, hidden, w, shape.expert_bias, e);
      inv.Linear(i, "ffn_down_exps", TensorRole::kExpertDown, w, hidden, shape.expert_bias, e);
      if (ffn.shared_intermediate_size > 0) {
        const int64_t s = ffn.shared_intermediate_size;
        if (shape.shared_expert_gate) {
          // One sigmoid gate per token: llama.cpp's shape {n_embd}, kept in F32 by the converter.
          inv.Vector(i, "ffn_gate_inp_shexp", TensorRole::kSharedExpertRouter, hidden, false);
        }
        inv.Matrix(i, "ffn_gate_shexp", TensorRole::kSharedExpertGate, hidden, s);
        inv.Matrix(i, "ffn_up_shexp", TensorRole::kSharedExpertUp, hidden, s);
        inv.Matrix(i, "ffn_down_shexp", TensorRole::kSharedExpertDown, s, hidden);
      }
    } else {
      const int64_t w = ffn.intermediate_size;
      if (ffn.gated && shape.gate_up_fused) {
        inv.Linear(i, "ffn_up", TensorRole::kFfnGateUp, hidden, 2 * w, shape.mlp_bias);
      } else {
        if (ffn.gated) inv.Linear(i, "ffn_gate", TensorRole::kFfnGate, hidden, w, shape.mlp_bias);
        inv.Linear(i, "ffn_up", TensorRole::kFfnUp, hidden, w, shape.mlp_bias);
      }
      inv.Linear(i, "ffn_down", TensorRole::kFfnDown, w, hidden, shape.mlp_bias);
    }
    if (shape.norms_per_layer == 4) inv.Norm(i, "post_ffw_norm", hidden, shape.norm_has_bias);
  }

  inv.Norm(-1, "output_norm", hidden, shape.norm_has_bias);
  if (!model->tied_embeddings) {
    inv.Linear(-1, "output", TensorRole::kOutputHead, hidden, model->vocab_size, shape.output_bias);
  }
}

}  // namespace vram::internal
