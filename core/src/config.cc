// Hugging Face config.json -> attention geometry + tensor inventory.
//
// Defaults for absent fields follow each transformers *Config class, because a published
// config.json omits whatever equals the class default (Gemma 3's text_config omits most fields).

#include "vram/config.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "families.h"
#include "json_fields.h"
#include "model_builder.h"

namespace vram {
namespace {

using internal::Json;
using internal::JsonFields;

enum class Moe : uint8_t { kNone, kMixtral, kQwen2Moe, kQwen3Moe, kQwen3Next, kDeepseek, kGptOss };
enum class Norm : uint8_t { kRms, kLayer };

/// Structure and transformers defaults of one model_type.
struct ArchSpec {
  const char* model_type;
  // transformers *Config defaults (0 = "derive")
  int64_t vocab, hidden, intermediate, layers, heads, kv_heads, head_dim, max_positions;
  bool tie_default;
  // structure
  bool gated_mlp;
  Norm norm;
  bool parallel_block;  ///< One norm feeds attention and MLP (Phi-2, Falcon-7B).
  bool sandwich_norms;  ///< Extra post-attention and post-MLP norms (Gemma 2/3).
  bool qk_norm;
  bool qkv_fused;
  bool gate_up_fused;
  bool qkv_bias_default;  ///< Bias on q/k/v when the config does not say.
  bool o_bias_default;
  bool mlp_bias_default;
  bool output_bias;
  bool learned_positions;
  Moe moe;
  bool delta_net;  ///< Gated DeltaNet layers between full-attention ones (Qwen3-Next).
};

// clang-format off
constexpr ArchSpec kArchSpecs[] = {
  // type          vocab   hidden inter  layers heads kv  hd   maxpos   tie   gated  norm          par    sandw  qknorm fused  gufus  qkvb   ob     mlpb   outb   lpos   moe           deltanet
  {"llama",        32000,  4096, 11008, 32, 32,  0,   0,   2048,    false, true,  Norm::kRms,   false, false, false, false, false, false, false, false, false, false, Moe::kNone, false},
  {"mistral",      32000,  4096, 14336, 32, 32,  8,   0,   131072,  false, true,  Norm::kRms,   false, false, false, false, false, false, false, false, false, false, Moe::kNone, false},
  {"mixtral",      32000,  4096, 14336, 32, 32,  8,   0,   131072,  false, true,  Norm::kRms,   false, false, false, false, false, false, false, false, false, false, Moe::kMixtral, false},
  {"qwen2",        151936, 4096, 22016, 32, 32,  32,  0,   32768,   false, true,  Norm::kRms,   false, false, false, false, false, true,  false, false, false, false, Moe::kNone, false},
  {"qwen2_moe",    151936, 2048, 5632,  24, 16,  16,  0,   32768,   false, true,  Norm::kRms,   false, false, false, false, false, true,  false, false, false, false, Moe::kQwen2Moe, false},
  {"qwen3",        151936, 4096, 22016, 32, 32,  32,  128, 32768,   false, true,  Norm::kRms,   false, false, true,  false, false, false, false, false, false, false, Moe::kNone, false},
  {"qwen3_moe",    151936, 2048, 6144,  24, 32,  4,   128, 32768,   false, true,  Norm::kRms,   false, false, true,  false, false, false, false, false, false, false, Moe::kQwen3Moe, false},
  {"qwen3_next",   151936, 2048, 5632,  48, 16,  2,   256, 32768,   false, true,  Norm::kRms,   false, false, true,  false, false, false, false, false, false, false, Moe::kQwen3Next, true},
  {"qwen3_5_text", 248320, 5120, 17408, 64, 24,  4,   256, 262144,  false, true,  Norm::kRms,   false, false, true,  false, false, false, false, false, false, false, Moe::kNone,   true},
  {"qwen3_5_moe_text", 248320, 2048, 512, 40, 16, 2,   256, 262144,  false, true,  Norm::kRms,   false, false, true,  false, false, false, false, false, false, false, Moe::kQwen3Next, true},
  {"gemma",        256000, 3072, 24576, 28, 16,  16,  256, 8192,    true,  true,  Norm::kRms,   false, false, false, false, false, false, false, false, false, false, Moe::kNone, false},
  {"gemma2",       256000, 2304, 9216,  26, 8,   4,   256, 8192,    true,  true,  Norm::kRms,   false, true,  false, false, false, false, false, false, false, false, Moe::kNone, false},
  {"gemma3_text",  262208, 2304, 9216,  26, 8,   4,   256, 131072,  true,  true,  Norm::kRms,   false, true,  true,  false, false, false, false, false, false, false, Moe::kNone, false},
  {"phi",          51200,  2048, 8192,  24, 32,  0,   0,   2048,    false, false, Norm::kLayer, true,  false, false, false, false, true,  true,  true,  true,  false, Moe::kNone, false},
  {"phi3",         32064,  3072, 8192,  32, 32,  0,   0,   4096,    false, true,  Norm::kRms,   false, false, false, true,  true,  false, false, false, false, false, Moe::kNone, false},
  {"gpt2",         50257,  768,  0,     12, 12,  0,   0,   1024,    true,  false, Norm::kLayer, false, false, false, true,  false, true,  true,  true,  false, true,  Moe::kNone, false},
  {"gpt_neox",     50432,  6144, 24576, 44, 64,  0,   0,   2048,    false, false, Norm::kLayer, false, false, false, true,  false, true,  true,  true,  false, false, Moe::kNone, false},
  {"falcon",       65024,  4544, 0,     32, 71,  0,   0,   2048,    true,  false, Norm::kLayer, true,  false, false, true,  false, false, false, false, false, false, Moe::kNone, false},
  {"deepseek_v3",  129280, 7168, 18432, 61, 128, 128, 0,   4096,    false, true,  Norm::kRms,   false, false, false, false, false, false, false, false, false, false, Moe::kDeepseek, false},
  {"gpt_oss",      201088, 2880, 2880,  36, 64,  8,   64,  131072,  false, true,  Norm::kRms,   false, false, false, false, false, true,  true,  false, false, false, Moe::kGptOss, false},
};
// clang-format on

const char* const kSupportedTypes[] = {"llama",  "mistral",     "mixtral",   "qwen2",  "qwen2_moe",
                                       "qwen3",  "qwen3_moe",   "qwen3_next",   "qwen3_5",   "qwen3_5_text",   "qwen3_5_moe",   "qwen3_5_moe_text",   "gemma",     "gemma2", "gemma3",
                                       "gemma3_text", "phi",    "phi3",      "gpt2",   "gpt_neox",
                                       "falcon", "deepseek_v3", "gpt_oss"};

const ArchSpec* FindArch(const std::string& model_type) {
  std::string type = model_type == "gemma3" ? "gemma3_text" : model_type;
  for (const ArchSpec& spec : kArchSpecs) {
    if (type == spec.model_type) return &spec;
  }
  return nullptr;
}

constexpr int64_t kMaxDim = ConfigLimits::kMaxDimension;

Status ParseQuantization(const Json& root, ModelDescription* model) {
  auto it = root.find("quantization_config");
  if (it == root.end() || it->is_null()) return Status::Ok();
  if (!it->is_object()) {
    return Status(ErrorCode::kInvalidArgument,
                  "config.json: field 'quantization_config' must be an object");
  }
  JsonFields q(*it, "config.json quantization_config");
  std::string method;
  VRAM_RETURN_IF_ERROR(q.String({"quant_method"}, false, &method));
  if (method == "gptq" || method == "awq") {
    int64_t bits = 4, group = 128;
    VRAM_RETURN_IF_ERROR(q.Int({"bits", "w_bit"}, 2, 8, false, 4, &bits));
    VRAM_RETURN_IF_ERROR(q.Int({"group_size", "q_group_size"}, -1, 1 << 20, false, 128, &group));
    if (bits != 4 && bits != 8) {
      model->warnings.push_back("quantization_config: " + method + " with " +
                                std::to_string(bits) + " bits is sized as 4-bit");
      bits = 4;
    }
    model->native_quantization = method + "-" + std::to_string(bits) + "bit-g" +
                                 (group <= 0 ? std::string("all") : std::to_string(group));
  } else if (method == "bitsandbytes") {
    bool in4 = false, in8 = false, dq = false;
    std::string type;
    VRAM_RETURN_IF_ERROR(q.Bool({"load_in_4bit"}, false, &in4));
    VRAM_RETURN_IF_ERROR(q.Bool({"load_in_8bit"}, false, &in8));
    VRAM_RETURN_IF_ERROR(q.Bool({"bnb_4bit_use_double_quant"}, false, &dq));
    VRAM_RETURN_IF_ERROR(q.String({"bnb_4bit_quant_type"}, false, &type));
    if (in4) {
      model->native_quantization = (type == "fp4" ? "fp4" : "nf4") + std::string(dq ? "-dq" : "");
    } else if (in8) {
      model->native_quantization = "int8";
    }
  } else if (method == "fp8") {
    std::string fmt;
    VRAM_RETURN_IF_ERROR(q.String({"fmt"}, false, &fmt));
    bool block = q.Has("weight_block_size");
    model->native_quantization = std::string(fmt == "e5m2" ? "fp8-e5m2" : "fp8-e4m3") +
                                 (block ? "-block128" : "");
  } else if (method == "mxfp4") {
    model->native_quantization = "mxfp4-moe";
  } else if (method == "exl2") {
    double bits = 0;
    VRAM_RETURN_IF_ERROR(q.Double({"bits"}, 1.0, 16.0, 0.0, &bits));
    if (bits > 0) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "exl2-%.2fbpw", bits);
      model->native_quantization = buf;
    }
  } else if (!method.empty()) {
    model->warnings.push_back("quantization_config: quant_method '" + method +
                              "' is not modelled; the checkpoint is sized by the chosen format");
  }
  return Status::Ok();
}

Status ParseDType(const JsonFields& f, ModelDescription* model) {
  std::string dtype;
  VRAM_RETURN_IF_ERROR(f.String({"torch_dtype", "dtype"}, false, &dtype));
  if (dtype.empty() || dtype == "bfloat16") {
    model->checkpoint_dtype = DType::kBF16;
  } else if (dtype == "float16") {
    model->checkpoint_dtype = DType::kF16;
  } else if (dtype == "float32") {
    model->checkpoint_dtype = DType::kF32;
  } else {
    model->warnings.push_back("torch_dtype '" + dtype + "' is not recognised; assuming bfloat16");
  }
  return Status::Ok();
}

/// Reads per-layer attention kinds: layer_types first, then the family's own rule.
Status ParseLayerKinds(const JsonFields& f, const ArchSpec& arch, const std::string& type,
                       int64_t layers, int64_t kv_heads, AttentionGeometry* geometry) {
  geometry->layers.assign(static_cast<size_t>(layers), LayerAttention{AttentionKind::kFull, 0, kv_heads});
  if (arch.moe == Moe::kDeepseek) {
    for (auto& layer : geometry->layers) layer.kind = AttentionKind::kMla;
    return Status::Ok();
  }
  int64_t window = 0;
  const internal::Family* family = internal::FamilyByHfType(type);
  const int64_t default_window = family != nullptr ? family->default_window : 0;
  VRAM_RETURN_IF_ERROR(f.Int({"sliding_window"}, 0, int64_t{1} << 30, false,
                             f.object().contains("sliding_window") ? 0 : default_window, &window));
  const Json* layer_types = f.Find({"layer_types"});
  if (layer_types != nullptr) {
    if (!layer_types->is_array() || static_cast<int64_t>(layer_types->size()) != layers) {
      return Status(ErrorCode::kInvalidArgument,
                    "config.json: field 'layer_types' must be an array of " +
                        std::to_string(layers) + " strings (one per layer)");
    }
    for (int64_t i = 0; i < layers; ++i) {
      const Json& t = (*layer_types)[static_cast<size_t>(i)];
      if (!t.is_string()) {
        return Status(ErrorCode::kInvalidArgument,
                      "config.json: layer_types[" + std::to_string(i) + "] must be a string");
      }
      const std::string& s = t.get_ref<const std::string&>();
      LayerAttention& layer = geometry->layers[static_cast<size_t>(i)];
      if (s == "sliding_attention" || s == "chunked_attention") {
        if (window <= 0) {
          return Status(ErrorCode::kInvalidArgument,
                        "config.json: layer_types names sliding layers but 'sliding_window' is "
                        "missing (an integer >= 1)");
        }
        layer.kind = AttentionKind::kSlidingWindow;
        layer.window_tokens = window;
      } else if (s == "full_attention" || s == "attention") {
        layer.kind = AttentionKind::kFull;
      } else if (s == "linear_attention" || s == "mamba" || s == "conv" || s == "recurrent") {
        layer.kind = AttentionKind::kNone;
      } else {
        return Status(ErrorCode::kInvalidArgument,
                      "config.json: layer_types[" + std::to_string(i) + "] = '" + s +
                          "' is not one of full_attention, sliding_attention, linear_attention");
      }
    }
    return Status::Ok();
  }
  if (window <= 0) return Status::Ok();
  const internal::WindowLayers rule = family != nullptr ? family->hf_windows : internal::WindowLayers::kEvery;
  if (rule == internal::WindowLayers::kNone) return Status::Ok();
  if (rule == internal::WindowLayers::kPattern) {
    // Gemma 2 and gpt-oss alternate; Gemma 3 makes every sliding_window_pattern-th layer global.
    int64_t pattern = family->window_pattern;
    if (type == "gemma3_text") {
      VRAM_RETURN_IF_ERROR(f.Int({"sliding_window_pattern"}, 1, 1 << 20, false, pattern, &pattern));
    }
    for (int64_t i = 0; i < layers; ++i) {
      if (internal::SlidesInPattern(i, pattern)) {
        geometry->layers[static_cast<size_t>(i)] = {AttentionKind::kSlidingWindow, window, kv_heads};
      }
    }
    return Status::Ok();
  }
  if (rule == internal::WindowLayers::kAboveMaxWindowLayers) {
    bool use_sliding = false;
    VRAM_RETURN_IF_ERROR(f.Bool({"use_sliding_window"}, false, &use_sliding));
    if (!use_sliding) return Status::Ok();
    int64_t max_window_layers = 0;
    VRAM_RETURN_IF_ERROR(f.Int({"max_window_layers"}, 0, layers, false, 0, &max_window_layers));
    for (int64_t i = max_window_layers; i < layers; ++i) {
      geometry->layers[static_cast<size_t>(i)] = {AttentionKind::kSlidingWindow, window, kv_heads};
    }
    return Status::Ok();
  }
  // Mistral v0.1, Phi-3 and others: one window on every layer.
  for (auto& layer : geometry->layers) layer = {AttentionKind::kSlidingWindow, window, kv_heads};
  return Status::Ok();
}

Status IntList(const JsonFields& f, const char* key, int64_t layers, std::vector<bool>* marks) {
  marks->assign(static_cast<size_t>(layers), false);
  const Json* list = f.Find({key});
  if (list == nullptr) return Status::Ok();
  if (!list->is_array()) {
    return Status(ErrorCode::kInvalidArgument,
                  "config.json: field '" + std::string(key) + "' must be an array of layer indices");
  }
  for (const Json& v : *list) {
    if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() >= layers) {
      return Status(ErrorCode::kOutOfRange, "config.json: field '" + std::string(key) +
                                                "' must hold layer indices in [0, " +
                                                std::to_string(layers - 1) + "]");
    }
    (*marks)[static_cast<size_t>(v.get<int64_t>())] = true;
  }
  return Status::Ok();
}

/// Qwen3-Next's gated DeltaNet layers: which layers they are (layer_types, else every layer but
/// each full_attention_interval-th) and what each keeps per sequence. transformers
/// Qwen3NextGatedDeltaNet; state sizes as llama.cpp's n_embd_r / n_embd_s
/// (src/llama-hparams.cpp): conv = (kernel - 1) x (2 x key heads x key dim + value heads x value
/// dim), recurrent = key dim x value dim per value head.
Status ParseDeltaNet(const JsonFields& f, int64_t layers, AttentionGeometry* g, internal::DeltaNetShape* d) {
  VRAM_RETURN_IF_ERROR(f.Int({"linear_num_key_heads"}, 1, kMaxDim, false, 16, &d->key_heads));
  VRAM_RETURN_IF_ERROR(f.Int({"linear_num_value_heads"}, 1, kMaxDim, false, 32, &d->value_heads));
  VRAM_RETURN_IF_ERROR(f.Int({"linear_key_head_dim"}, 1, kMaxDim, false, 128, &d->key_head_dim));
  VRAM_RETURN_IF_ERROR(f.Int({"linear_value_head_dim"}, 1, kMaxDim, false, 128, &d->value_head_dim));
  VRAM_RETURN_IF_ERROR(f.Int({"linear_conv_kernel_dim"}, 1, 1024, false, 4, &d->conv_kernel));
  if (d->value_heads % d->key_heads != 0) {
    return Status(ErrorCode::kInvalidArgument,
                  "config.json: linear_num_value_heads (" + std::to_string(d->value_heads) +
                      ") must be a multiple of linear_num_key_heads (" + std::to_string(d->key_heads) + ")",
                  "linear_num_value_heads");
  }
  if (!f.Has("layer_types")) {
    int64_t interval = 4;
    VRAM_RETURN_IF_ERROR(f.Int({"full_attention_interval"}, 1, layers, false, 4, &interval));
    for (int64_t i = 0; i < layers; ++i) {
      if ((i + 1) % interval != 0) g->layers[static_cast<size_t>(i)] = {AttentionKind::kNone, 0, 0};
    }
  }
  int64_t recurrent = 0;
  for (LayerAttention& layer : g->layers) {
    if (layer.kind != AttentionKind::kNone) continue;
    layer.num_kv_heads = 0;
    layer.conv_state_values = (d->conv_kernel - 1) * d->conv_channels();
    layer.recurrent_state_values = d->key_head_dim * d->value_head_dim * d->value_heads;
    ++recurrent;
  }
  if (recurrent == layers) {
    return Status(ErrorCode::kInvalidArgument,
                  "config.json: every layer is linear attention; Qwen3-Next needs full-attention layers "
                  "(layer_types or full_attention_interval)", "layer_types");
  }
  return Status::Ok();
}

Status BuildFromFields(const JsonFields& f, const Json& root, std::string type, bool known,
                       ModelDescription* model) {
  const ArchSpec& arch = *FindArch(known ? type : std::string("llama"));
  if (type == "gemma3") type = "gemma3_text";
  model->architecture = type;

  int64_t hidden, layers, heads, vocab, max_positions;
  VRAM_RETURN_IF_ERROR(f.Int({"hidden_size", "n_embd", "d_model"}, 1, kMaxDim, !known, arch.hidden, &hidden));
  VRAM_RETURN_IF_ERROR(f.Int({"num_hidden_layers", "n_layer", "num_layers"}, 1, ConfigLimits::kMaxLayers,
                             !known, arch.layers, &layers));
  VRAM_RETURN_IF_ERROR(f.Int({"num_attention_heads", "n_head", "num_heads"}, 1, kMaxDim, !known,
                             arch.heads, &heads));
  VRAM_RETURN_IF_ERROR(f.Int({"vocab_size"}, 1, kMaxDim, !known, arch.vocab, &vocab));
  VRAM_RETURN_IF_ERROR(f.Int({"max_position_embeddings", "n_positions", "max_seq_len"}, 0,
                             int64_t{1} << 30, false, arch.max_positions, &max_positions));

  // KV heads: Falcon's legacy multi_query flag, else num_key_value_heads.
  int64_t kv_heads = arch.kv_heads > 0 ? arch.kv_heads : heads;
  bool new_decoder = false, multi_query = false, parallel = arch.parallel_block;
  if (type == "falcon") {
    VRAM_RETURN_IF_ERROR(f.Bool({"new_decoder_architecture"}, false, &new_decoder));
    VRAM_RETURN_IF_ERROR(f.Bool({"multi_query"}, true, &multi_query));
    VRAM_RETURN_IF_ERROR(f.Bool({"parallel_attn"}, true, &parallel));
    if (new_decoder) {
      VRAM_RETURN_IF_ERROR(f.Int({"num_kv_heads", "n_head_kv"}, 1, heads, false, heads, &kv_heads));
    } else {
      kv_heads = multi_query ? 1 : heads;
    }
  } else {
    VRAM_RETURN_IF_ERROR(f.Int({"num_key_value_heads", "num_kv_heads"}, 1, heads, false,
                               std::min(kv_heads, heads), &kv_heads));
  }
  if (heads % kv_heads != 0) {
    return Status(ErrorCode::kInvalidArgument,
                  "config.json: num_attention_heads (" + std::to_string(heads) +
                      ") must be a multiple of num_key_value_heads (" + std::to_string(kv_heads) + ")");
  }

  int64_t head_dim = 0;
  const int64_t derived_head_dim = hidden / heads;
  VRAM_RETURN_IF_ERROR(f.Int({"head_dim"}, 1, kMaxDim, false,
                             arch.head_dim > 0 ? arch.head_dim : derived_head_dim, &head_dim));
  if (head_dim <= 0) {
    return Status(ErrorCode::kInvalidArgument,
                  "config.json: hidden_size must be at least num_attention_heads when head_dim is absent");
  }

  int64_t intermediate = 0;
  const int64_t default_inter = arch.intermediate > 0 ? arch.intermediate : 4 * hidden;
  VRAM_RETURN_IF_ERROR(f.Int({"intermediate_size", "n_inner", "ffn_hidden_size", "ffn_dim"}, 1,
                             kMaxDim, false, default_inter, &intermediate));

  bool tied = arch.tie_default;
  VRAM_RETURN_IF_ERROR(f.Bool({"tie_word_embeddings"}, arch.tie_default, &tied));

  // Biases.
  bool qkv_bias = arch.qkv_bias_default, o_bias = arch.o_bias_default, mlp_bias = arch.mlp_bias_default;
  if (type == "llama" || type == "mistral" || type == "gpt_oss" || type == "qwen3" ||
      type == "qwen3_moe" || type == "gemma" || type == "gemma2" || type == "gemma3_text") {
    bool attention_bias = qkv_bias;
    VRAM_RETURN_IF_ERROR(f.Bool({"attention_bias"}, qkv_bias, &attention_bias));
    qkv_bias = o_bias = attention_bias;
  }
  if (type == "llama") VRAM_RETURN_IF_ERROR(f.Bool({"mlp_bias"}, false, &mlp_bias));
  if (type == "gpt_neox") {
    bool attention_bias = true;
    VRAM_RETURN_IF_ERROR(f.Bool({"attention_bias"}, true, &attention_bias));
    qkv_bias = o_bias = attention_bias;
  }
  if (type == "falcon") {
    bool bias = false;
    VRAM_RETURN_IF_ERROR(f.Bool({"bias"}, false, &bias));
    qkv_bias = o_bias = mlp_bias = bias;
  }

  model->vocab_size = vocab;
  model->hidden_size = hidden;
  model->max_context_tokens = max_positions;
  model->tied_embeddings = tied;
  model->learned_position_embeddings = arch.learned_positions;
  VRAM_RETURN_IF_ERROR(ParseDType(f.Has("torch_dtype") || f.Has("dtype") ? f : JsonFields(root, "config.json"), model));
  VRAM_RETURN_IF_ERROR(ParseQuantization(root, model));

  AttentionGeometry& g = model->attention;
  g.num_layers = layers;
  g.hidden_size = hidden;
  g.num_query_heads = heads;
  g.num_kv_heads = kv_heads;
  g.key_head_dim = head_dim;
  g.value_head_dim = head_dim;

  // MLA.
  internal::MlaShape mla;
  if (arch.moe == Moe::kDeepseek) {
    VRAM_RETURN_IF_ERROR(f.Int({"kv_lora_rank"}, 1, kMaxDim, false, 512, &mla.kv_lora_rank));
    VRAM_RETURN_IF_ERROR(f.Int({"q_lora_rank"}, 0, kMaxDim, false, 1536, &mla.q_lora_rank));
    VRAM_RETURN_IF_ERROR(f.Int({"qk_rope_head_dim"}, 1, kMaxDim, false, 64, &mla.rope_dim));
    VRAM_RETURN_IF_ERROR(f.Int({"qk_nope_head_dim"}, 1, kMaxDim, false, 128, &mla.nope_dim));
    VRAM_RETURN_IF_ERROR(f.Int({"v_head_dim"}, 1, kMaxDim, false, 128, &mla.v_dim));
    g.key_head_dim = mla.nope_dim + mla.rope_dim;
    g.value_head_dim = mla.v_dim;
    g.num_kv_heads = heads;  // what a runtime that decompresses K and V would cache
    kv_heads = heads;
    g.mla_kv_lora_rank = mla.kv_lora_rank;
    g.mla_rope_head_dim = mla.rope_dim;
  }
  VRAM_RETURN_IF_ERROR(ParseLayerKinds(f, arch, type, layers, kv_heads, &g));
  internal::DeltaNetShape delta_net;
  if (arch.delta_net) VRAM_RETURN_IF_ERROR(ParseDeltaNet(f, layers, &g, &delta_net));

  // Feed-forward per layer.
  model->feed_forward.assign(static_cast<size_t>(layers), LayerFeedForward{});
  int64_t experts = 0, top_k = 0, expert_inter = 0, shared_inter = 0;
  std::vector<bool> dense_only(static_cast<size_t>(layers), false);
  int64_t sparse_step = 1, first_dense = 0, moe_freq = 1;
  switch (arch.moe) {
    case Moe::kNone:
      break;
    case Moe::kMixtral:
    case Moe::kGptOss:
      VRAM_RETURN_IF_ERROR(f.Int({"num_local_experts", "num_experts"}, 1, ConfigLimits::kMaxExperts,
                                 false, arch.moe == Moe::kGptOss ? 128 : 8, &experts));
      VRAM_RETURN_IF_ERROR(f.Int({"num_experts_per_tok", "experts_per_token"}, 1, experts, false,
                                 std::min<int64_t>(arch.moe == Moe::kGptOss ? 4 : 2, experts), &top_k));
      expert_inter = intermediate;
      break;
    case Moe::kQwen2Moe:
    case Moe::kQwen3Moe:
    case Moe::kQwen3Next: {
      // transformers Qwen2MoeConfig / Qwen3MoeConfig / Qwen3NextConfig defaults.
      const bool qwen2 = arch.moe == Moe::kQwen2Moe, next = arch.moe == Moe::kQwen3Next;
      VRAM_RETURN_IF_ERROR(f.Int({"num_experts"}, 0, ConfigLimits::kMaxExperts, false,
                                 qwen2 ? 60 : next ? 512 : 128, &experts));
      VRAM_RETURN_IF_ERROR(f.Int({"num_experts_per_tok"}, 1, std::max<int64_t>(experts, 1), false,
                                 std::min<int64_t>(qwen2 ? 4 : next ? 10 : 8, std::max<int64_t>(experts, 1)), &top_k));
      VRAM_RETURN_IF_ERROR(f.Int({"moe_intermediate_size"}, 1, kMaxDim, false,
                                 qwen2 ? 1408 : next ? 512 : 768, &expert_inter));
      if (qwen2 || next) {
        VRAM_RETURN_IF_ERROR(f.Int({"shared_expert_intermediate_size"}, 0, kMaxDim, false,
                                   qwen2 ? 5632 : 512, &shared_inter));
      }
      VRAM_RETURN_IF_ERROR(f.Int({"decoder_sparse_step"}, 1, layers, false, 1, &sparse_step));
      VRAM_RETURN_IF_ERROR(IntList(f, "mlp_only_layers", layers, &dense_only));
      break;
    }
    case Moe::kDeepseek: {
      int64_t shared_count = 1;
      VRAM_RETURN_IF_ERROR(f.Int({"n_routed_experts"}, 0, ConfigLimits::kMaxExperts, false, 256, &experts));
      VRAM_RETURN_IF_ERROR(f.Int({"num_experts_per_tok"}, 1, std::max<int64_t>(experts, 1), false,
                                 std::min<int64_t>(8, std::max<int64_t>(experts, 1)), &top_k));
      VRAM_RETURN_IF_ERROR(f.Int({"moe_intermediate_size"}, 1, kMaxDim, false, 2048, &expert_inter));
      VRAM_RETURN_IF_ERROR(f.Int({"n_shared_experts"}, 0, 1024, false, 1, &shared_count));
      VRAM_RETURN_IF_ERROR(f.Int({"first_k_dense_replace"}, 0, layers, false, 3, &first_dense));
      VRAM_RETURN_IF_ERROR(f.Int({"moe_layer_freq"}, 1, layers, false, 1, &moe_freq));
      shared_inter = shared_count * expert_inter;
      int64_t mtp = 0;
      VRAM_RETURN_IF_ERROR(f.Int({"num_nextn_predict_layers"}, 0, 64, false, 0, &mtp));
      if (mtp > 0) {
        model->warnings.push_back(
            "the checkpoint's " + std::to_string(mtp) +
            " multi-token-prediction layer(s) are not counted: inference engines skip them");
      }
      break;
    }
  }
  for (int64_t i = 0; i < layers; ++i) {
    LayerFeedForward& ffn = model->feed_forward[static_cast<size_t>(i)];
    ffn.gated = arch.gated_mlp;
    ffn.intermediate_size = intermediate;
    bool moe_layer = false;
    switch (arch.moe) {
      case Moe::kNone: break;
      case Moe::kMixtral:
      case Moe::kGptOss: moe_layer = true; break;
      case Moe::kQwen2Moe:
      case Moe::kQwen3Moe:
      case Moe::kQwen3Next:
        moe_layer = experts > 0 && !dense_only[static_cast<size_t>(i)] && (i + 1) % sparse_step == 0;
        break;
      case Moe::kDeepseek: moe_layer = experts > 0 && i >= first_dense && i % moe_freq == 0; break;
    }
    if (moe_layer) {
      ffn.moe = true;
      ffn.num_experts = experts;
      ffn.experts_per_token = top_k;
      ffn.expert_intermediate_size = expert_inter;
      ffn.shared_intermediate_size = shared_inter;
    }
  }

  // Tensor inventory.
  internal::InventoryShape shape;
  shape.norm_has_bias = arch.norm == Norm::kLayer;
  shape.norms_per_layer = arch.sandwich_norms ? 4 : (parallel ? 1 : 2);
  if (type == "falcon" && new_decoder) {
    shape.norms_per_layer = 2;
    shape.second_norm_name = "attn_norm_2";
  } else if (type == "falcon" && !parallel) {
    shape.norms_per_layer = 2;
  }
  if (arch.delta_net) shape.second_norm_name = "post_attention_norm";  // llama.cpp qwen3next
  shape.qk_norm = arch.qk_norm;
  shape.qkv_fused = arch.qkv_fused;
  shape.gate_up_fused = arch.gate_up_fused;
  shape.qkv_bias = qkv_bias;
  shape.o_bias = o_bias;
  shape.mlp_bias = mlp_bias;
  shape.output_bias = arch.output_bias;
  shape.attention_sinks = arch.moe == Moe::kGptOss;
  shape.router_bias = arch.moe == Moe::kGptOss;
  shape.expert_bias = arch.moe == Moe::kGptOss;
  shape.router_score_bias = arch.moe == Moe::kDeepseek;
  shape.shared_expert_gate = arch.moe == Moe::kQwen2Moe || arch.moe == Moe::kQwen3Next;
  shape.attention_output_gate = arch.delta_net;
  shape.delta_net = delta_net;
  shape.mla = arch.moe == Moe::kDeepseek;
  shape.mla_shape = mla;
  shape.position_embeddings = arch.learned_positions ? max_positions : 0;
  if (arch.learned_positions && max_positions <= 0) {
    return Status(ErrorCode::kInvalidArgument,
                  "config.json: n_positions must be >= 1 for learned position embeddings");
  }
  internal::BuildInventory(shape, model);
  if (!known) {
    model->warnings.push_back(
        "model_type is not one the calculator knows; assumed a llama-style decoder: RMSNorm, "
        "separate q/k/v/o projections without biases, gated MLP, " +
        std::string(tied ? "tied" : "untied") + " embeddings, full attention on every layer");
  }
  return Status::Ok();
}

}  // namespace

const char* const* SupportedModelTypes(int* count) {
  *count = static_cast<int>(sizeof kSupportedTypes / sizeof kSupportedTypes[0]);
  return kSupportedTypes;
}

Result<ModelDescription> ModelFromHfConfig(std::string_view json_text) {
  if (json_text.size() > ConfigLimits::kMaxTextBytes) {
    return Status(ErrorCode::kLimitExceeded,
                  "config.json: text is " + std::to_string(json_text.size()) +
                      " bytes; the limit is " + std::to_string(ConfigLimits::kMaxTextBytes));
  }
  Json root = internal::ParseJson(json_text);
  if (root.is_discarded()) {
    return Status(ErrorCode::kParseError, "config.json: not valid JSON");
  }
  if (!root.is_object()) {
    return Status(ErrorCode::kParseError, "config.json: the top level must be a JSON object");
  }
  const Json* fields_object = &root;
  std::string type;
  {
    JsonFields top(root, "config.json");
    VRAM_RETURN_IF_ERROR(top.String({"model_type"}, false, &type));
    auto text_config = root.find("text_config");
    if (text_config != root.end() && text_config->is_object()) {
      fields_object = &*text_config;
      std::string inner;
      VRAM_RETURN_IF_ERROR(JsonFields(*text_config, "config.json text_config")
                               .String({"model_type"}, false, &inner));
      if (!inner.empty()) type = inner;
    }
  }
  JsonFields fields(*fields_object, fields_object == &root ? "config.json" : "config.json text_config");
  ModelDescription model;
  const bool known = FindArch(type) != nullptr;
  if (!known) {
    // A structure the llama-style reading cannot place (recurrent or hybrid layers, experts) is
    // refused: reading it as a llama would give a wrong answer, not an estimate.
    std::string unplaced;
    int listed = 0;
    for (auto it = fields.object().begin(); it != fields.object().end(); ++it) {
      const std::string& key = it.key();
      const bool hybrid = key == "hybrid_override_pattern" || key.rfind("linear_", 0) == 0 ||
                          key.rfind("mamba", 0) == 0 || key.rfind("ssm_", 0) == 0 ||
                          key == "attn_layer_indices" || key == "layers_block_type" ||
                          key == "full_attention_interval";
      const bool experts = key == "num_experts" || key == "num_local_experts" || key == "n_routed_experts" ||
                           key == "moe_intermediate_size";
      bool recurrent_layer_types = false;
      if (key == "layer_types" && it->is_array()) {
        for (const Json& t : *it) {
          if (t.is_string() && t.get_ref<const std::string&>() != "full_attention" &&
              t.get_ref<const std::string&>() != "sliding_attention") {
            recurrent_layer_types = true;
          }
        }
      }
      if (hybrid || experts || recurrent_layer_types) {
        if (listed < 6) unplaced += (listed ? ", " : "") + key.substr(0, 40);
        ++listed;
      }
    }
    if (listed > 0) {
      return Status(ErrorCode::kUnsupported,
                    "config.json: model_type '" + type.substr(0, 40) +
                        "' is not supported, and its keys " + unplaced + (listed > 6 ? ", ..." : "") +
                        " describe layers a llama-style reading cannot place (recurrent, hybrid or "
                        "mixture-of-experts); no estimate is made rather than a wrong one",
                    "model_type");
    }
    // Best effort: only when the standard fields are present.
    for (const char* key : {"hidden_size", "num_hidden_layers", "num_attention_heads", "vocab_size",
                            "intermediate_size"}) {
      if (!fields.Has(key)) {
        return Status(ErrorCode::kUnsupported,
                      "config.json: model_type '" + type +
                          "' is not supported and the standard field '" + key +
                          "' is missing, so no estimate can be made");
      }
    }
  }
  VRAM_RETURN_IF_ERROR(BuildFromFields(fields, root, type, known, &model));
  if (const auto vision = root.find("vision_config"); vision != root.end() && vision->is_object()) {
    model.traits.multimodal = true;
    model.warnings.push_back(
        "vision_config: the checkpoint's vision tower is not counted; the estimate is for the text "
        "model (llama.cpp loads the tower from a separate mmproj file)");
  }
  DeriveTraits(&model);
  return model;
}

}  // namespace vram
