// The differential cases: real architectures at their real sizes (vocabulary included), each
// loaded by real llama.cpp at several context sizes, KV cache types and flash-attention settings.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const presets = JSON.parse(readFileSync(join(ROOT, 'presets', 'models.json'), 'utf8')).models;
const preset = (id) => {
  const p = presets.find((m) => m.id === id);
  if (!p) throw new Error(`cases.mjs: preset ${id} is missing from presets/models.json`);
  return p.config;
};

/// A Mixtral-8x7B layout scaled down (8 experts, top-2, GQA 16/8, 32k SPM vocabulary) so the
/// test stays small: about 1.3B parameters.
const MIXTRAL_MINI = {
  architectures: ['MixtralForCausalLM'],
  model_type: 'mixtral',
  hidden_size: 2048,
  intermediate_size: 2816,
  num_hidden_layers: 8,
  num_attention_heads: 16,
  num_key_value_heads: 8,
  num_local_experts: 8,
  num_experts_per_tok: 2,
  max_position_embeddings: 32768,
  rms_norm_eps: 1e-5,
  rope_theta: 1e6,
  sliding_window: null,
  tie_word_embeddings: false,
  torch_dtype: 'bfloat16',
  vocab_size: 32000,
};

/// Qwen3-Next-80B-A3B's layers at their real widths (hidden 2048; full attention 16 x 256 with 2 KV
/// heads and the output gate; gated DeltaNet 16 key and 32 value heads of 128, conv kernel 4; the
/// real 151,936 vocabulary), 4 layers of them (the 4th full attention) and 16 experts of 512
/// instead of 512, so the file stays near 1.9 GB.
const QWEN3_NEXT_MINI = { ...preset('qwen3-next-80b-a3b'), num_hidden_layers: 4, num_experts: 16 };

const ctx = (contextSize, kvType, flashAttention, batchSize = 512, sequences = 1) =>
  ({ contextSize, kvType, flashAttention, batchSize, sequences });

/// mix: the llama.cpp ftype the file is written in (models.mjs) and `weights`: the same mix as
/// vramcalc names it.
export const MODELS = [
  {
    id: 'llama-3.2-1b', label: 'Llama-3.2-1B shape', config: preset('llama-3.2-1b'), mix: 'F16', weights: 'gguf-f16',
    contexts: [ctx(4096, 'f16', false), ctx(4096, 'f16', true), ctx(3000, 'q8_0', true), ctx(16384, 'f16', true), ctx(16384, 'f16', false)],
  },
  {
    id: 'llama-3.2-1b', label: 'Llama-3.2-1B shape', config: preset('llama-3.2-1b'), mix: 'Q4_K_M', weights: 'q4_k_m',
    contexts: [ctx(8192, 'q8_0', true), ctx(2048, 'f16', false)],
  },
  {
    id: 'qwen2.5-0.5b', label: 'Qwen2.5-0.5B shape', config: preset('qwen2.5-0.5b'), mix: 'Q8_0', weights: 'q8_0',
    contexts: [ctx(4096, 'f16', false), ctx(1000, 'f16', true), ctx(32768, 'q8_0', true)],
  },
  {
    id: 'gemma-2-2b', label: 'Gemma-2-2B shape (sliding window 4096)', config: preset('gemma-2-2b'), mix: 'Q8_0', weights: 'q8_0',
    contexts: [ctx(8192, 'f16', true), ctx(8192, 'f16', false), ctx(2048, 'q8_0', true)],
  },
  {
    id: 'mixtral-mini', label: 'Mixtral-style MoE (8 experts, top-2), 1.3B', config: MIXTRAL_MINI, mix: 'Q4_0', weights: 'q4_0',
    contexts: [ctx(4096, 'f16', false), ctx(4096, 'q8_0', true)],
  },
  {
    id: 'qwen3-next-mini', label: 'Qwen3-Next layers (3 gated DeltaNet + 1 full attention), 1 and 4 sequences',
    config: QWEN3_NEXT_MINI, mix: 'F16', weights: 'gguf-f16', checkGguf: true,
    contexts: [ctx(4096, 'f16', true), ctx(16384, 'f16', true), ctx(4096, 'f16', true, 512, 4), ctx(16384, 'f16', true, 512, 4)],
  },
  {
    id: 'llama-2-7b', label: 'Llama-2-7B shape', config: preset('llama-2-7b'), mix: 'Q4_0', weights: 'q4_0',
    contexts: [ctx(4096, 'f16', true), ctx(2048, 'f16', false)],
  },
];

/// Bounds, per line (issue 8). KV must match to the precision llama.cpp prints (0.01 MiB), with
/// the same cell and layer counts.
export const BOUNDS = { model: 0.01, compute: 0.10, total: 0.05 };
