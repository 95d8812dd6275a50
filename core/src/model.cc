#include "vram/model.h"

#include "vram/status.h"

namespace vram {

const char* ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return "ok";
    case ErrorCode::kInvalidArgument: return "invalid_argument";
    case ErrorCode::kOutOfRange: return "out_of_range";
    case ErrorCode::kNotFound: return "not_found";
    case ErrorCode::kParseError: return "parse_error";
    case ErrorCode::kUnsupported: return "unsupported";
    case ErrorCode::kLimitExceeded: return "limit_exceeded";
  }
  return "unknown";
}

std::string Status::field() const {
  if (!field_.empty() || ok()) return field_;
  // "request: field 'batch' must be ..." or "request: unknown field 'x'".
  for (const char* lead : {"request: field '", "request: unknown field '"}) {
    const std::string prefix(lead);
    if (message_.compare(0, prefix.size(), prefix) == 0) {
      const size_t end = message_.find('\'', prefix.size());
      if (end != std::string::npos) return message_.substr(prefix.size(), end - prefix.size());
    }
  }
  // "kv-dtype: ...", "device memory: ..." -> "kv_dtype", "device_memory".
  const size_t colon = message_.find(':');
  if (colon == std::string::npos || colon == 0 || colon > 40) return "";
  std::string out;
  for (size_t i = 0; i < colon; ++i) {
    const char c = message_[i];
    if (c == ' ' || c == '-') {
      out += '_';
    } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') {
      out += c;
    } else if (c >= 'A' && c <= 'Z') {
      out += static_cast<char>(c - 'A' + 'a');
    } else {
      return "";
    }
  }
  return out;
}

std::vector<std::string> ModelTraitNames(const ModelDescription& model) {
  bool hybrid = false, sliding = false, mla = false, moe = false;
  for (const LayerAttention& l : model.attention.layers) {
    hybrid = hybrid || l.conv_state_values > 0 || l.recurrent_state_values > 0;
    sliding = sliding || l.kind == AttentionKind::kSlidingWindow;
    mla = mla || l.kind == AttentionKind::kMla;
  }
  for (const LayerFeedForward& f : model.feed_forward) moe = moe || f.moe;
  std::vector<std::string> out;
  if (hybrid) out.emplace_back("hybrid");
  if (sliding) out.emplace_back("sliding_window");
  if (moe) out.emplace_back("moe");
  if (mla) out.emplace_back("mla");
  if (model.traits.multimodal) out.emplace_back("multimodal");
  return out;
}

void DeriveTraits(ModelDescription* model) {
  ModelTraits t;
  t.multimodal = model->traits.multimodal;
  for (const TensorInfo& tensor : model->tensors) {
    if (tensor.layer < 0 || tensor.role != TensorRole::kNorm) continue;
    const std::string& n = tensor.name;
    t.qk_norm = t.qk_norm || n.find(".attn_q_norm.") != std::string::npos;
    // Gemma's sandwich: a norm after the MLP too (Qwen3-Next names its pre-MLP norm
    // post_attention_norm, which alone is not a sandwich).
    t.sandwich_norms = t.sandwich_norms || n.find(".post_ffw_norm.") != std::string::npos;
  }
  model->traits = t;
}

const char* AttentionKindName(AttentionKind kind) {
  switch (kind) {
    case AttentionKind::kFull: return "full";
    case AttentionKind::kSlidingWindow: return "sliding_window";
    case AttentionKind::kMla: return "mla";
    case AttentionKind::kNone: return "none";
  }
  return "full";
}

const char* TensorRoleName(TensorRole role) {
  switch (role) {
    case TensorRole::kTokenEmbedding: return "token_embedding";
    case TensorRole::kPositionEmbedding: return "position_embedding";
    case TensorRole::kOutputHead: return "output_head";
    case TensorRole::kNorm: return "norm";
    case TensorRole::kAttnQ: return "attn_q";
    case TensorRole::kAttnK: return "attn_k";
    case TensorRole::kAttnV: return "attn_v";
    case TensorRole::kAttnQkv: return "attn_qkv";
    case TensorRole::kAttnOutput: return "attn_output";
    case TensorRole::kAttnQA: return "attn_q_a";
    case TensorRole::kAttnQB: return "attn_q_b";
    case TensorRole::kAttnKvA: return "attn_kv_a";
    case TensorRole::kAttnKvB: return "attn_kv_b";
    case TensorRole::kAttnSinks: return "attn_sinks";
    case TensorRole::kFfnGate: return "ffn_gate";
    case TensorRole::kFfnUp: return "ffn_up";
    case TensorRole::kFfnGateUp: return "ffn_gate_up";
    case TensorRole::kFfnDown: return "ffn_down";
    case TensorRole::kRouter: return "router";
    case TensorRole::kExpertGate: return "expert_gate";
    case TensorRole::kExpertUp: return "expert_up";
    case TensorRole::kExpertDown: return "expert_down";
    case TensorRole::kSharedExpertGate: return "shared_expert_gate";
    case TensorRole::kSharedExpertUp: return "shared_expert_up";
    case TensorRole::kSharedExpertDown: return "shared_expert_down";
    case TensorRole::kSharedExpertRouter: return "shared_expert_router";
    case TensorRole::kSsmIn: return "ssm_in";
    case TensorRole::kSsmConv: return "ssm_conv";
    case TensorRole::kSsmParam: return "ssm_param";
    case TensorRole::kSsmOut: return "ssm_out";
    case TensorRole::kOther: return "other";
  }
  return "unknown";
}

bool TensorInfo::is_linear_weight() const {
  if (is_bias || n_dims < 2) return false;
  switch (role) {
    case TensorRole::kTokenEmbedding:
    case TensorRole::kPositionEmbedding:
    case TensorRole::kNorm:
    case TensorRole::kAttnSinks:
    case TensorRole::kSsmConv:
    case TensorRole::kSsmParam:
      return false;
    default:
      return true;
  }
}

bool TensorInfo::is_routed_expert() const {
  return role == TensorRole::kExpertGate || role == TensorRole::kExpertUp ||
         role == TensorRole::kExpertDown;
}

const char* DTypeName(DType dtype) {
  switch (dtype) {
    case DType::kF32: return "f32";
    case DType::kF16: return "f16";
    case DType::kBF16: return "bf16";
    case DType::kF8E4M3: return "f8_e4m3";
    case DType::kF8E5M2: return "f8_e5m2";
  }
  return "bf16";
}

int DTypeBytes(DType dtype) {
  switch (dtype) {
    case DType::kF32: return 4;
    case DType::kF16:
    case DType::kBF16: return 2;
    case DType::kF8E4M3:
    case DType::kF8E5M2: return 1;
  }
  return 2;
}

ParameterCounts CountParameters(const ModelDescription& model) {
  ParameterCounts counts;
  for (const TensorInfo& t : model.tensors) {
    const int64_t n = t.elements();
    counts.total += n;
    if (t.role == TensorRole::kTokenEmbedding || t.role == TensorRole::kPositionEmbedding) {
      counts.embedding += n;
    }
    if (t.is_routed_expert() && t.layer >= 0 &&
        static_cast<size_t>(t.layer) < model.feed_forward.size()) {
      const LayerFeedForward& ffn = model.feed_forward[static_cast<size_t>(t.layer)];
      counts.routed_expert += n;
      counts.active += ffn.num_experts > 0 ? n / ffn.num_experts * ffn.experts_per_token : n;
    } else {
      counts.active += n;
    }
  }
  return counts;
}

}  // namespace vram
