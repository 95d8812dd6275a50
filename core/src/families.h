#pragma once

// The model families the readers know, in one table: the Hugging Face model_type, the llama.cpp
// GGUF architecture, and where each family's sliding windows go. config.cc and gguf.cc both read
// it, so a family is added in one place.

#include <cstdint>
#include <string_view>

namespace vram::internal {

/// Which layers a family's sliding window applies to.
enum class WindowLayers : uint8_t {
  kNone,                  ///< The family has no window (or llama.cpp implements none for it).
  kEvery,                 ///< Every layer (Mistral v0.1, Phi-3 in transformers).
  kPattern,               ///< Layer i slides when i % n < n - 1: every n-th layer is global.
  kAboveMaxWindowLayers,  ///< Qwen2/3: layers from max_window_layers on, when use_sliding_window.
};

struct Family {
  const char* hf_type;        ///< model_type as config.cc names it ("gemma3_text").
  const char* gguf_arch;      ///< general.architecture ("gemma3"); "" when llama.cpp has none.
  WindowLayers hf_windows;    ///< transformers' rule.
  WindowLayers gguf_windows;  ///< llama.cpp's rule (load_hparams set_swa_pattern).
  int window_pattern;         ///< n of kPattern (config.json may override it).
  int64_t default_window;     ///< When the file states no window (0 = none).
  bool llamacpp_swa;          ///< llama.cpp keeps a window-sized (iSWA) cache for it.
  bool delta_net = false;     ///< Gated DeltaNet layers between full-attention ones.
};

// Windows: transformers' Gemma2/Gemma3/GptOss/Mistral/Qwen2 decoder layers; llama.cpp
// src/llama-model.cpp load_hparams: set_swa_pattern(2) for gemma2 and gpt-oss, (6) for gemma3,
// n_swa 4096 for gemma2. llama.cpp ignores Phi-3's and Qwen's windows, and Mistral v0.1's (its
// GGUF architecture is llama). Phi-3's GGUF layers are marked sliding as transformers does; the
// llama.cpp profile reads `llamacpp_swa` and caches the full context there.
// clang-format off
constexpr Family kFamilies[] = {
  // hf_type        gguf        hf_windows                             gguf_windows            n  default  iswa
  {"llama",        "llama",     WindowLayers::kEvery,                 WindowLayers::kNone,    0, 0, false},
  {"mistral",      "",          WindowLayers::kEvery,                 WindowLayers::kNone,    0, 4096, false},
  {"mixtral",      "",          WindowLayers::kEvery,                 WindowLayers::kNone,    0, 0, false},
  {"qwen2",        "qwen2",     WindowLayers::kAboveMaxWindowLayers,  WindowLayers::kNone,    0, 0, false},
  {"qwen2_moe",    "qwen2moe",  WindowLayers::kAboveMaxWindowLayers,  WindowLayers::kNone,    0, 0, false},
  {"qwen3",        "qwen3",     WindowLayers::kAboveMaxWindowLayers,  WindowLayers::kNone,    0, 0, false},
  {"qwen3_moe",    "qwen3moe",  WindowLayers::kAboveMaxWindowLayers,  WindowLayers::kNone,    0, 0, false},
  {"qwen3_next",   "qwen3next", WindowLayers::kNone,                  WindowLayers::kNone,    0, 0, false, true},
  {"qwen3_5_text", "qwen35",    WindowLayers::kNone,                  WindowLayers::kNone,    0, 0, false, true},
  {"qwen3_5_moe_text", "qwen35moe", WindowLayers::kNone,              WindowLayers::kNone,    0, 0, false, true},
  {"gemma",        "gemma",     WindowLayers::kEvery,                 WindowLayers::kNone,    0, 0, false},
  {"gemma2",       "gemma2",    WindowLayers::kPattern,               WindowLayers::kPattern, 2, 4096, true},
  {"gemma3_text",  "gemma3",    WindowLayers::kPattern,               WindowLayers::kPattern, 6, 4096, true},
  {"phi",          "phi2",      WindowLayers::kEvery,                 WindowLayers::kNone,    0, 0, false},
  {"phi3",         "phi3",      WindowLayers::kEvery,                 WindowLayers::kEvery,   0, 0, false},
  {"gpt2",         "gpt2",      WindowLayers::kEvery,                 WindowLayers::kNone,    0, 0, false},
  {"gpt_neox",     "gptneox",   WindowLayers::kEvery,                 WindowLayers::kNone,    0, 0, false},
  {"falcon",       "falcon",    WindowLayers::kEvery,                 WindowLayers::kNone,    0, 0, false},
  {"deepseek_v3",  "deepseek2", WindowLayers::kNone,                  WindowLayers::kNone,    0, 0, false},
  {"gpt_oss",      "gpt-oss",   WindowLayers::kPattern,               WindowLayers::kPattern, 2, 128, true},
};
// clang-format on

constexpr const Family* FamilyByHfType(std::string_view type) {
  for (const Family& f : kFamilies) {
    if (type == f.hf_type) return &f;
  }
  return nullptr;
}

constexpr const Family* FamilyByGgufArch(std::string_view arch) {
  if (arch.empty()) return nullptr;
  for (const Family& f : kFamilies) {
    if (arch == f.gguf_arch) return &f;
  }
  return nullptr;
}

/// Whether layer i slides under a kPattern rule of n (every n-th layer, 1-based, is global).
constexpr bool SlidesInPattern(int64_t layer, int64_t n) { return n > 1 && layer % n < n - 1; }

}  // namespace vram::internal
