#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vram {

/// How one layer attends, which decides what it must cache per token.
enum class AttentionKind : uint8_t {
  kFull,           ///< Attends to every earlier token: caches K and V for the whole context.
  kSlidingWindow,  ///< Attends to the last `window_tokens` tokens only.
  kMla,            ///< Multi-head latent attention: caches one compressed latent plus a RoPE key.
  kNone,           ///< No attention cache (linear-attention or recurrent layer).
};

/// Stable lowercase name ("full", "sliding_window", "mla", "none").
const char* AttentionKindName(AttentionKind kind);

/// Attention of one layer.
struct LayerAttention {
  AttentionKind kind = AttentionKind::kFull;
  int64_t window_tokens = 0;  ///< Only for kSlidingWindow.
  int64_t num_kv_heads = 0;   ///< KV heads of this layer (equal across layers for every supported family).
  /// What a recurrent layer (gated DeltaNet, Mamba2) keeps per sequence whatever its length, in
  /// values: the rolling input of its short convolution and its recurrent state. The runtime
  /// picks the element type and the number of sequences.
  int64_t conv_state_values = 0;
  int64_t recurrent_state_values = 0;
};

/// Everything about attention that the KV cache and attention activations depend on.
struct AttentionGeometry {
  int64_t num_layers = 0;
  int64_t hidden_size = 0;
  int64_t num_query_heads = 0;
  int64_t num_kv_heads = 0;
  int64_t key_head_dim = 0;    ///< Per-head width of Q and K (MLA: nope + rope part).
  int64_t value_head_dim = 0;  ///< Per-head width of V.
  int64_t mla_kv_lora_rank = 0;   ///< MLA latent width (0 when not MLA).
  int64_t mla_rope_head_dim = 0;  ///< MLA decoupled RoPE key width (0 when not MLA).
  std::vector<LayerAttention> layers;  ///< One entry per layer.
};

/// The feed-forward block of one layer.
struct LayerFeedForward {
  bool gated = true;                ///< SwiGLU/GeGLU (gate, up, down) vs plain (up, down).
  bool moe = false;                 ///< Routed experts instead of one dense MLP.
  int64_t intermediate_size = 0;    ///< Dense MLP width (when !moe).
  int64_t num_experts = 0;          ///< Routed experts stored (when moe).
  int64_t experts_per_token = 0;    ///< Routed experts used per token (when moe).
  int64_t expert_intermediate_size = 0;
  int64_t shared_intermediate_size = 0;  ///< Total width of always-active shared experts (0 if none).
};

/// What a weight tensor is for. Biases carry the role of the tensor they belong to.
enum class TensorRole : uint8_t {
  kTokenEmbedding,
  kPositionEmbedding,
  kOutputHead,
  kNorm,
  kAttnQ,
  kAttnK,
  kAttnV,
  kAttnQkv,     ///< Fused Q, K and V (GPT-2, GPT-NeoX, Falcon, Phi-3).
  kAttnOutput,
  kAttnQA,      ///< MLA query down-projection.
  kAttnQB,      ///< MLA query up-projection.
  kAttnKvA,     ///< MLA joint KV down-projection (latent + RoPE key).
  kAttnKvB,     ///< MLA KV up-projection.
  kAttnSinks,   ///< Learned attention-sink logits (gpt-oss).
  kFfnGate,
  kFfnUp,
  kFfnGateUp,   ///< Fused gate and up (Phi-3).
  kFfnDown,
  kRouter,      ///< MoE gating network.
  kExpertGate,
  kExpertUp,
  kExpertDown,
  kSharedExpertGate,
  kSharedExpertUp,
  kSharedExpertDown,
  kSharedExpertRouter,  ///< Sigmoid gate of the shared expert (Qwen2-MoE).
  kSsmIn,       ///< Input projections of a recurrent layer (DeltaNet in_proj_qkvz / in_proj_ba).
  kSsmConv,     ///< Depthwise short-convolution kernel (kept in f32 by llama.cpp, never quantized).
  kSsmParam,    ///< Per-head decay and step parameters (A_log, dt_bias).
  kSsmOut,      ///< Output projection of a recurrent layer.
  kOther,       ///< A tensor of a model file that none of the roles above describes.
};

/// Stable lowercase name of a role ("attn_q", "expert_down", ...).
const char* TensorRoleName(TensorRole role);

/// One weight tensor. Shapes follow GGUF order: ne[0] is the row length (the input features of a
/// linear layer, along which quantization blocks run), ne[1] the rows (output features), ne[2]
/// the experts of a stacked MoE tensor.
struct TensorInfo {
  std::string name;  ///< GGUF-style name, e.g. "blk.3.attn_q.weight".
  TensorRole role = TensorRole::kNorm;
  bool is_bias = false;
  int32_t layer = -1;  ///< -1 for tensors outside the blocks.
  int32_t n_dims = 1;
  int64_t ne[3] = {1, 1, 1};

  int64_t elements() const { return ne[0] * ne[1] * ne[2]; }
  int64_t experts() const { return ne[2]; }
  /// A linear-layer weight matrix (what quantizers and LoRA act on).
  bool is_linear_weight() const;
  /// A routed-expert tensor (stored in full, read only top-k of per token).
  bool is_routed_expert() const;
};

/// Weight dtypes that a checkpoint can be stored in before any quantization.
enum class DType : uint8_t { kF32, kF16, kBF16, kF8E4M3, kF8E5M2 };

/// Stable lowercase name ("f32", "f16", "bf16", "f8_e4m3", "f8_e5m2").
const char* DTypeName(DType dtype);
/// Bytes per element of a dtype.
int DTypeBytes(DType dtype);

/// Structural facts read off the tensor inventory (whatever the source), so later steps need no
/// architecture-name checks.
struct ModelTraits {
  bool qk_norm = false;         ///< Per-head norms on Q and K (attn_q_norm / attn_k_norm).
  bool sandwich_norms = false;  ///< Norms after attention and after the MLP (Gemma 2/3).
  bool multimodal = false;      ///< The checkpoint has a vision tower (not counted).
};

/// One model, from any source: the attention geometry plus the tensor inventory.
/// Every count and byte figure is computed from these.
struct ModelDescription {
  std::string architecture;  ///< Hugging Face model_type, e.g. "llama".
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t max_context_tokens = 0;  ///< max_position_embeddings (0 if unknown).
  bool tied_embeddings = false;
  bool learned_position_embeddings = false;
  DType checkpoint_dtype = DType::kBF16;  ///< torch_dtype of the published weights.
  std::string native_quantization;  ///< Weight-format id of a pre-quantized checkpoint, or "".
  AttentionGeometry attention;
  std::vector<LayerFeedForward> feed_forward;  ///< One entry per layer.
  std::vector<TensorInfo> tensors;
  ModelTraits traits;                 ///< From the inventory (DeriveTraits).
  std::vector<std::string> warnings;  ///< Assumptions made while building (shown to the user).
};

/// Sets model->traits from its tensor inventory. Every model builder calls it last.
void DeriveTraits(ModelDescription* model);

/// The family traits a model picker shows, from the geometry and inventory: "hybrid" (layers
/// with a recurrent state), "sliding_window", "moe", "mla", "multimodal".
std::vector<std::string> ModelTraitNames(const ModelDescription& model);

/// Parameter counts derived from the inventory.
struct ParameterCounts {
  int64_t total = 0;
  int64_t embedding = 0;       ///< Token + position embeddings.
  int64_t routed_expert = 0;   ///< All routed experts, stored.
  int64_t active = 0;          ///< Used per token: all but the routed experts, plus top-k of them.
};

/// Counts parameters over the inventory.
ParameterCounts CountParameters(const ModelDescription& model);

}  // namespace vram
