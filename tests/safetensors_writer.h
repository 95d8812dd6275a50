#pragma once

// Test-only safetensors writer (8-byte little-endian header length, JSON header padded with
// spaces to a multiple of 8, tensors back to back), and a generator of Hugging Face checkpoints
// for the fixture models: transformers' module names and [out, in] shapes, dense or stored the
// way GPTQ (AutoGPTQ QuantLinear), fp8 (compressed-tensors / vLLM per-tensor scale) and MXFP4
// (gpt-oss *_blocks / *_scales) checkpoints store them.

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "vram/vram.h"

namespace vram::test {

class SafetensorsWriter {
 public:
  void Add(const std::string& name, const std::string& dtype, const std::vector<uint64_t>& shape) {
    uint64_t elements = 1;
    for (uint64_t d : shape) elements *= d;
    const uint64_t bytes = elements * static_cast<uint64_t>(SafetensorsDtypeBits(dtype)) / 8;
    nlohmann::ordered_json t;
    t["dtype"] = dtype;
    t["shape"] = shape;
    t["data_offsets"] = {offset_, offset_ + bytes};
    header_[name] = std::move(t);
    names_.push_back(name);
    offset_ += bytes;
  }
  void Metadata(const std::string& key, const std::string& value) {
    header_["__metadata__"][key] = value;
  }
  uint64_t data_bytes() const { return offset_; }
  const std::vector<std::string>& names() const { return names_; }

  /// The 8-byte length and the JSON header.
  std::string Header() const {
    std::string json = header_.empty() ? "{}" : header_.dump();
    while (json.size() % 8 != 0) json += ' ';
    std::string out;
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((json.size() >> (8 * i)) & 0xff));
    return out + json;
  }
  uint64_t FileSize() const { return Header().size() + offset_; }
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
  nlohmann::ordered_json header_ = nlohmann::ordered_json::object();
  std::vector<std::string> names_;
  uint64_t offset_ = 0;
};

/// How a generated checkpoint stores its linear layers.
enum class Storage { kDense, kGptq4, kFp8, kMxfp4Moe };

/// transformers' name of an inventory tensor's module for a family (the inverse of what
/// safetensors.cc maps), without the trailing ".weight" / ".bias".
inline std::string HfModule(const ModelDescription& m, const TensorInfo& t, int expert) {
  const std::string& a = m.architecture;
  const bool gemma_sandwich = a == "gemma2" || a == "gemma3_text";
  std::string base = t.name.substr(0, t.name.rfind('.'));
  if (t.layer >= 0) base = base.substr(base.find('.', 4) + 1);
  const std::string n = std::to_string(t.layer);
  auto layer = [&](const std::string& p) {
    if (a == "gpt2") return "transformer.h." + n + "." + p;
    if (a == "falcon") return "transformer.h." + n + "." + p;
    if (a == "gpt_neox") return "gpt_neox.layers." + n + "." + p;
    return "model.layers." + n + "." + p;
  };
  if (t.layer < 0) {
    if (a == "gpt2")
      return base == "token_embd"      ? "transformer.wte"
             : base == "position_embd" ? "transformer.wpe"
                                       : "transformer.ln_f";
    if (a == "falcon")
      return base == "token_embd" ? "transformer.word_embeddings"
             : base == "output"   ? "lm_head"
                                  : "transformer.ln_f";
    if (a == "gpt_neox")
      return base == "token_embd" ? "gpt_neox.embed_in"
             : base == "output"   ? "embed_out"
                                  : "gpt_neox.final_layer_norm";
    if (base == "token_embd") return "model.embed_tokens";
    if (base == "output") return "lm_head";
    return a == "phi" ? "model.final_layernorm" : "model.norm";
  }
  const std::string e = std::to_string(expert);
  const bool mixtral = a == "mixtral";
  if (base == "attn_norm") return layer(a == "gpt2" ? "ln_1" : "input_layernorm");
  if (base == "ffn_norm") {
    return layer(a == "gpt2"      ? "ln_2"
                 : gemma_sandwich ? "pre_feedforward_layernorm"
                                  : "post_attention_layernorm");
  }
  if (base == "post_attention_norm") return layer("post_attention_layernorm");
  if (base == "post_ffw_norm") return layer("post_feedforward_layernorm");
  if (base == "attn_qkv") {
    if (a == "gpt2") return layer("attn.c_attn");
    if (a == "gpt_neox") return layer("attention.query_key_value");
    if (a == "falcon") return layer("self_attention.query_key_value");
    return layer("self_attn.qkv_proj");
  }
  if (base == "attn_output") {
    if (a == "gpt2") return layer("attn.c_proj");
    if (a == "gpt_neox") return layer("attention.dense");
    if (a == "falcon") return layer("self_attention.dense");
    if (a == "phi") return layer("self_attn.dense");
    return layer("self_attn.o_proj");
  }
  if (base == "attn_q") return layer("self_attn.q_proj");
  if (base == "attn_k") return layer("self_attn.k_proj");
  if (base == "attn_v") return layer("self_attn.v_proj");
  if (base == "attn_q_norm") return layer("self_attn.q_norm");
  if (base == "attn_k_norm") return layer("self_attn.k_norm");
  if (base == "attn_q_a") return layer("self_attn.q_a_proj");
  if (base == "attn_q_a_norm") return layer("self_attn.q_a_layernorm");
  if (base == "attn_q_b") return layer("self_attn.q_b_proj");
  if (base == "attn_kv_a_mqa") return layer("self_attn.kv_a_proj_with_mqa");
  if (base == "attn_kv_a_norm") return layer("self_attn.kv_a_layernorm");
  if (base == "attn_kv_b") return layer("self_attn.kv_b_proj");
  if (base == "attn_sinks") return layer("self_attn.sinks");
  if (base == "ffn_gate") return layer("mlp.gate_proj");
  if (base == "ffn_up") {
    if (a == "gpt2") return layer("mlp.c_fc");
    if (a == "gpt_neox" || a == "falcon") return layer("mlp.dense_h_to_4h");
    if (a == "phi") return layer("mlp.fc1");
    if (a == "phi3") return layer("mlp.gate_up_proj");
    return layer("mlp.up_proj");
  }
  if (base == "ffn_down") {
    if (a == "gpt2") return layer("mlp.c_proj");
    if (a == "gpt_neox" || a == "falcon") return layer("mlp.dense_4h_to_h");
    if (a == "phi") return layer("mlp.fc2");
    return layer("mlp.down_proj");
  }
  if (base == "ffn_gate_inp")
    return layer(mixtral ? "block_sparse_moe.gate" : a == "gpt_oss" ? "mlp.router" : "mlp.gate");
  if (base == "exp_probs_b") return layer("mlp.gate.e_score_correction_bias");
  if (base == "ffn_gate_exps")
    return layer(mixtral ? "block_sparse_moe.experts." + e + ".w1"
                         : "mlp.experts." + e + ".gate_proj");
  if (base == "ffn_up_exps")
    return layer(mixtral ? "block_sparse_moe.experts." + e + ".w3"
                         : "mlp.experts." + e + ".up_proj");
  if (base == "ffn_down_exps")
    return layer(mixtral ? "block_sparse_moe.experts." + e + ".w2"
                         : "mlp.experts." + e + ".down_proj");
  const std::string shared = a == "deepseek_v3" ? "mlp.shared_experts." : "mlp.shared_expert.";
  if (base == "ffn_gate_shexp") return layer(shared + "gate_proj");
  if (base == "ffn_up_shexp") return layer(shared + "up_proj");
  if (base == "ffn_down_shexp") return layer(shared + "down_proj");
  if (base == "ffn_gate_inp_shexp") return layer("mlp.shared_expert_gate");
  return layer("unknown." + base);
}

/// Which tensors a quantized storage quantizes (formats.cc QuantizesTensor).
inline bool Quantized(Storage s, const TensorInfo& t) {
  if (s == Storage::kDense || !t.is_linear_weight()) return false;
  if (s == Storage::kMxfp4Moe) return t.is_routed_expert();
  return t.role != TensorRole::kRouter && t.role != TensorRole::kSharedExpertRouter &&
         t.role != TensorRole::kOutputHead;
}

/// A checkpoint of `m` as transformers would save it.
inline SafetensorsWriter HfCheckpoint(const ModelDescription& m, Storage storage,
                                      const std::string& dense_dtype = "BF16") {
  SafetensorsWriter w;
  const std::string dense = storage == Storage::kGptq4 ? "F16" : dense_dtype;
  const bool oss = m.architecture == "gpt_oss";
  for (const TensorInfo& t : m.tensors) {
    const uint64_t in = static_cast<uint64_t>(t.ne[0]), out = static_cast<uint64_t>(t.ne[1]);
    const uint64_t experts = static_cast<uint64_t>(t.ne[2]);
    const std::string leaf = t.is_bias ? ".bias" : ".weight";
    if (oss && t.is_routed_expert()) {
      // gpt-oss keeps experts stacked and gate/up fused: written once, for the gate tensor.
      if (t.role == TensorRole::kExpertUp) continue;
      const bool gate_up = t.role == TensorRole::kExpertGate;
      const std::string p = "model.layers." + std::to_string(t.layer) + ".mlp.experts." +
                            (gate_up ? "gate_up_proj" : "down_proj");
      const uint64_t rows = gate_up ? 2 * out : out;
      if (t.is_bias) {
        w.Add(p + "_bias", "BF16", {static_cast<uint64_t>(t.ne[1]), gate_up ? 2 * in : in});
      } else if (storage == Storage::kMxfp4Moe) {
        w.Add(p + "_blocks", "U8", {experts, rows, in / 32, 16});
        w.Add(p + "_scales", "U8", {experts, rows, in / 32});
      } else {
        w.Add(p, dense, {experts, in, rows});
      }
      continue;
    }
    const int copies = t.is_routed_expert() && !oss ? static_cast<int>(experts) : 1;
    for (int e = 0; e < copies; ++e) {
      const std::string module = HfModule(m, t, e);
      const std::vector<uint64_t> shape = t.n_dims == 1 || t.is_bias ? std::vector<uint64_t>{in}
                                          : copies > 1 || experts == 1
                                              ? std::vector<uint64_t>{out, in}
                                              : std::vector<uint64_t>{experts, out, in};
      if (module.find("e_score_correction_bias") != std::string::npos ||
          t.role == TensorRole::kAttnSinks) {
        w.Add(module, dense, shape);
        continue;
      }
      if (!Quantized(storage, t)) {
        w.Add(module + leaf, dense, shape);
      } else if (storage == Storage::kGptq4) {
        const uint64_t groups = (in + 127) / 128;
        w.Add(module + ".qweight", "I32", {in / 8, out});
        w.Add(module + ".qzeros", "I32", {groups, out / 8});
        w.Add(module + ".scales", "F16", {groups, out});
        w.Add(module + ".g_idx", "I32", {in});
      } else if (storage == Storage::kFp8) {
        w.Add(module + ".weight", "F8_E4M3", {out, in});
        w.Add(module + ".weight_scale", "F32", {});
      }
    }
  }
  return w;
}

}  // namespace vram::test
