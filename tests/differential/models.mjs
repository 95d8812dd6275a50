// Turns a Hugging Face config.json into what llama.cpp's converter and quantizer would write: the
// GGUF metadata of the architecture, a tokenizer of the real vocabulary size, and every tensor
// with its llama.cpp name, shape and ggml type under a llama.cpp quantization mix.
//
// Written from llama.cpp itself, not from vramcalc's core, so the two can disagree:
//   tensor names and shapes: src/models/{llama,qwen2,gemma2}.cpp load_arch_tensors;
//   metadata keys: src/llama-arch.cpp LLM_KV_NAMES, src/llama-model.cpp load_hparams;
//   tokenizer: src/llama-vocab.cpp llama_vocab::impl::load (SPM needs the 256 "<0xNN>" byte
//     tokens, it looks up "<0x0A>"; BPE "gpt2" needs tokenizer.ggml.merges);
//   types per tensor: src/llama-quant.cpp llama_tensor_get_type (rules restated in
//     /work/scratch/runtime_spec.md section 2), convert_hf_to_gguf.py for F16 files (1-D
//     tensors and the MoE router stay F32).

import { arr, f32, str, u32 } from './gguf_writer.mjs';

/// llama.cpp architecture of a Hugging Face model_type (convert_hf_to_gguf.py writes Mistral and
/// Mixtral as "llama").
const ARCH = { llama: 'llama', mistral: 'llama', mixtral: 'llama', qwen2: 'qwen2', gemma2: 'gemma2', qwen3_next: 'qwen3next' };

/// GPT-2's byte-to-unicode table (the alphabet of byte-level BPE vocabularies).
function byteLevelAlphabet() {
  const bs = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  }
  const out = new Array(256);
  for (let i = 0; i < bs.length; i++) out[bs[i]] = String.fromCodePoint(cs[i]);
  return out;
}

/// A tokenizer with `vocab` entries, shaped like the model family's real one.
function tokenizer(kind, vocab) {
  if (kind === 'spm') {
    // SentencePiece "llama" vocabulary: <unk>, <s>, </s>, the 256 byte tokens, then pieces.
    const tokens = ['<unk>', '<s>', '</s>'];
    const types = [2, 3, 3];  // UNKNOWN, CONTROL (llama_token_type)
    for (let b = 0; b < 256; b++) {
      tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
      types.push(6);  // BYTE
    }
    for (let i = tokens.length; i < vocab; i++) {
      tokens.push(`\u2581p${i}`);
      types.push(1);  // NORMAL
    }
    const scores = tokens.map((_, i) => -i);
    return [
      ['tokenizer.ggml.model', str('llama')],
      ['tokenizer.ggml.tokens', arr('str', tokens)],
      ['tokenizer.ggml.scores', arr('f32', scores)],
      ['tokenizer.ggml.token_type', arr('i32', types)],
      ['tokenizer.ggml.bos_token_id', u32(1)],
      ['tokenizer.ggml.eos_token_id', u32(2)],
      ['tokenizer.ggml.unknown_token_id', u32(0)],
    ];
  }
  // Byte-level BPE ("gpt2"): the 256 byte symbols first, merged pieces, then control tokens.
  const pre = kind === 'bpe-qwen2' ? 'qwen2' : 'llama-bpe';
  const tokens = byteLevelAlphabet();
  const types = tokens.map(() => 1);
  const nSpecial = 2;
  for (let i = tokens.length; i < vocab - nSpecial; i++) {
    tokens.push(`p${i}`);
    types.push(1);
  }
  tokens.push('<|begin_of_text|>', '<|end_of_text|>');
  types.push(3, 3);
  const merges = ['\u0120 t', 'p 1', 'p 2', 'e r', 'i n'];
  return [
    ['tokenizer.ggml.model', str('gpt2')],
    ['tokenizer.ggml.pre', str(pre)],
    ['tokenizer.ggml.tokens', arr('str', tokens)],
    ['tokenizer.ggml.token_type', arr('i32', types)],
    ['tokenizer.ggml.merges', arr('str', merges)],
    ['tokenizer.ggml.bos_token_id', u32(vocab - 2)],
    ['tokenizer.ggml.eos_token_id', u32(vocab - 1)],
  ];
}

const useMoreBits = (i, n) => i < Math.floor(n / 8) || i >= Math.floor((7 * n) / 8) || (i - Math.floor(n / 8)) % 3 === 2;
const BLOCK = { Q4_0: 32, Q8_0: 32, Q4_K: 256, Q6_K: 256, Q5_K: 256, F16: 1 };
/// llama-quant.cpp tensor_type_fallback: a row that the block does not divide.
function fallback(type, ne0) {
  if (ne0 % BLOCK[type] === 0) return type;
  const next = { Q4_K: 'Q5_0', Q5_K: 'Q5_1', Q6_K: 'Q8_0' }[type];
  if (!next) throw new Error(`no fallback for ${type} with rows of ${ne0}`);
  return ne0 % 32 === 0 ? next : 'F16';
}

/// The ggml type llama.cpp's quantizer gives `name` under `mix` (F16, Q8_0, Q4_0, Q4_K_M).
/// `state` carries the attn_v counter (tensors are visited in layer order).
function quantType(mix, name, ne, m, state) {
  const is2d = ne.length >= 2 && ne[1] > 1;
  if (!is2d || !name.endsWith('.weight') || name.includes('_norm.weight') || name.includes('ffn_gate_inp.weight') ||
      name.includes('ssm_conv1d')) {
    return 'F32';  // never quantized (and F32 as converted)
  }
  if (mix === 'F16') return 'F16';
  const def = { Q8_0: 'Q8_0', Q4_0: 'Q4_0', Q4_K_M: 'Q4_K' }[mix];
  const E = m.nExpert;
  const isOutput = name === 'output.weight' || (name === 'token_embd.weight' && m.tied);
  let t = def;
  if (isOutput) {
    if (ne[0] % BLOCK[def] !== 0) t = 'Q8_0';
    else t = def === 'Q8_0' ? 'Q8_0' : 'Q6_K';
  } else if (name === 'token_embd.weight') {
    t = def;
  } else if (name.includes('attn_v.weight')) {
    if (mix === 'Q4_K_M' && useMoreBits(state.iV, m.nLayer)) t = 'Q6_K';
    if (E === 8) t = 'Q8_0';
    state.iV++;
  } else if (name.includes('attn_k.weight')) {
    if (E === 8) t = 'Q8_0';
  } else if (name.includes('attn_output.weight')) {
    if (E === 8 && mix === 'Q4_K_M') t = 'Q5_K';
  } else if (name.includes('ffn_down')) {
    const layer = Number(/blk\.(\d+)\./.exec(name)[1]);
    if (mix === 'Q4_K_M' && useMoreBits(layer, m.nLayer)) t = 'Q6_K';
  }
  return fallback(t, ne[0]);
}

/// GGUF metadata and tensors for a config.json under a llama.cpp mix.
export function ggufFromHfConfig(config, mix, { name = 'vramcalc-differential', tokenizerKind } = {}) {
  const arch = ARCH[config.model_type];
  if (!arch) throw new Error(`models.mjs: no llama.cpp mapping for model_type ${config.model_type}`);
  const nEmbd = config.hidden_size;
  const nLayer = config.num_hidden_layers;
  const nHead = config.num_attention_heads;
  const nHeadKv = config.num_key_value_heads ?? nHead;
  const headDim = config.head_dim ?? nEmbd / nHead;
  const nFf = config.intermediate_size;
  const vocab = config.vocab_size;
  const nExpert = config.num_local_experts ?? 0;
  const tied = Boolean(config.tie_word_embeddings) || arch === 'gemma2';
  const kind = tokenizerKind ?? (arch === 'qwen2' || arch === 'qwen3next' ? 'bpe-qwen2' : vocab >= 100000 && arch === 'llama' ? 'bpe-llama3' : 'spm');

  const a = (k) => `${arch}.${k}`;
  const metadata = [
    ['general.architecture', str(arch)],
    ['general.name', str(name)],
    ['general.file_type', u32({ F16: 1, Q4_0: 2, Q8_0: 7, Q4_K_M: 15 }[mix])],
    ['general.quantization_version', u32(2)],
    [a('context_length'), u32(config.max_position_embeddings)],
    [a('embedding_length'), u32(nEmbd)],
    [a('block_count'), u32(nLayer)],
    [a('feed_forward_length'), u32(nFf)],
    [a('attention.head_count'), u32(nHead)],
    [a('attention.head_count_kv'), u32(nHeadKv)],
    [a('attention.key_length'), u32(headDim)],
    [a('attention.value_length'), u32(headDim)],
    [a('rope.dimension_count'), u32(headDim)],
    [a('rope.freq_base'), f32(config.rope_theta ?? 10000)],
    [a('attention.layer_norm_rms_epsilon'), f32(config.rms_norm_eps ?? 1e-5)],
    [a('vocab_size'), u32(vocab)],
  ];
  if (nExpert > 0) {
    metadata.push([a('expert_count'), u32(nExpert)], [a('expert_used_count'), u32(config.num_experts_per_tok)]);
  }
  if (arch === 'qwen3next') {
    // conversion/qwen.py Qwen3NextModel.set_gguf_parameters; src/models/qwen3next.cpp reads them.
    const valueDim = config.linear_value_head_dim * config.linear_num_value_heads;
    metadata.push(
      [a('expert_count'), u32(config.num_experts)],
      [a('expert_used_count'), u32(config.num_experts_per_tok)],
      [a('expert_feed_forward_length'), u32(config.moe_intermediate_size)],
      [a('expert_shared_feed_forward_length'), u32(config.shared_expert_intermediate_size)],
      [a('ssm.conv_kernel'), u32(config.linear_conv_kernel_dim)],
      [a('ssm.state_size'), u32(config.linear_key_head_dim)],
      [a('ssm.group_count'), u32(config.linear_num_key_heads)],
      [a('ssm.time_step_rank'), u32(config.linear_num_value_heads)],
      [a('ssm.inner_size'), u32(valueDim)],
      [a('full_attention_interval'), u32(config.full_attention_interval ?? 4)],
    );
    const ropeIndex = metadata.findIndex(([k]) => k === a('rope.dimension_count'));
    metadata[ropeIndex] = [a('rope.dimension_count'), u32(Math.floor(headDim * (config.partial_rotary_factor ?? 0.25)))];
  }
  if (arch === 'gemma2') {
    metadata.push(
      [a('attention.sliding_window'), u32(config.sliding_window)],
      [a('attn_logit_softcapping'), f32(config.attn_logit_softcapping ?? 50)],
      [a('final_logit_softcapping'), f32(config.final_logit_softcapping ?? 30)],
    );
  }
  metadata.push(...tokenizer(kind, vocab));

  // Tensors in the order convert_hf_to_gguf.py writes them: embeddings, blocks, then the head.
  const tensors = [];
  const add = (n, ne) => tensors.push({ name: n, ne });
  add('token_embd.weight', [nEmbd, vocab]);
  const q = nHead * headDim;
  const kv = nHeadKv * headDim;
  const llama3Rope = config.rope_scaling?.rope_type === 'llama3';
  if (llama3Rope) add('rope_freqs.weight', [headDim / 2]);  // convert_hf_to_gguf generate_extra_tensors
  if (arch === 'qwen3next') {
    // src/models/qwen3next.cpp load_arch_tensors, with the converter's split of in_proj_qkvz.
    const hk = config.linear_key_head_dim, hv = config.linear_value_head_dim;
    const nk = config.linear_num_key_heads, nv = config.linear_num_value_heads;
    const keyDim = hk * nk, valueDim = hv * nv, convDim = 2 * keyDim + valueDim;
    const interval = config.full_attention_interval ?? 4;
    const E = config.num_experts, ffExp = config.moe_intermediate_size, ffSh = config.shared_expert_intermediate_size;
    for (let i = 0; i < nLayer; i++) {
      const b = `blk.${i}.`;
      add(`${b}attn_norm.weight`, [nEmbd]);
      add(`${b}post_attention_norm.weight`, [nEmbd]);
      if ((i + 1) % interval === 0) {
        add(`${b}attn_q.weight`, [nEmbd, 2 * q]);
        add(`${b}attn_k.weight`, [nEmbd, kv]);
        add(`${b}attn_v.weight`, [nEmbd, kv]);
        add(`${b}attn_output.weight`, [q, nEmbd]);
        add(`${b}attn_q_norm.weight`, [headDim]);
        add(`${b}attn_k_norm.weight`, [headDim]);
      } else {
        add(`${b}attn_qkv.weight`, [nEmbd, convDim]);
        add(`${b}attn_gate.weight`, [nEmbd, valueDim]);
        add(`${b}ssm_conv1d.weight`, [config.linear_conv_kernel_dim, convDim]);
        add(`${b}ssm_dt.bias`, [nv]);
        add(`${b}ssm_a`, [nv]);
        add(`${b}ssm_ba.weight`, [nEmbd, 2 * nv]);
        add(`${b}ssm_norm.weight`, [hv]);
        add(`${b}ssm_out.weight`, [valueDim, nEmbd]);
      }
      add(`${b}ffn_gate_inp.weight`, [nEmbd, E]);
      add(`${b}ffn_gate_exps.weight`, [nEmbd, ffExp, E]);
      add(`${b}ffn_down_exps.weight`, [ffExp, nEmbd, E]);
      add(`${b}ffn_up_exps.weight`, [nEmbd, ffExp, E]);
      add(`${b}ffn_gate_inp_shexp.weight`, [nEmbd]);
      add(`${b}ffn_gate_shexp.weight`, [nEmbd, ffSh]);
      add(`${b}ffn_up_shexp.weight`, [nEmbd, ffSh]);
      add(`${b}ffn_down_shexp.weight`, [ffSh, nEmbd]);
    }
  }
  for (let i = 0; i < (arch === 'qwen3next' ? 0 : nLayer); i++) {
    const b = `blk.${i}.`;
    add(`${b}attn_norm.weight`, [nEmbd]);
    add(`${b}attn_q.weight`, [nEmbd, q]);
    add(`${b}attn_k.weight`, [nEmbd, kv]);
    add(`${b}attn_v.weight`, [nEmbd, kv]);
    if (arch === 'qwen2') {
      add(`${b}attn_q.bias`, [q]);
      add(`${b}attn_k.bias`, [kv]);
      add(`${b}attn_v.bias`, [kv]);
    }
    add(`${b}attn_output.weight`, [q, nEmbd]);
    if (arch === 'gemma2') add(`${b}post_attention_norm.weight`, [nEmbd]);
    add(`${b}ffn_norm.weight`, [nEmbd]);
    if (nExpert > 0) {
      add(`${b}ffn_gate_inp.weight`, [nEmbd, nExpert]);
      add(`${b}ffn_gate_exps.weight`, [nEmbd, nFf, nExpert]);
      add(`${b}ffn_down_exps.weight`, [nFf, nEmbd, nExpert]);
      add(`${b}ffn_up_exps.weight`, [nEmbd, nFf, nExpert]);
    } else {
      add(`${b}ffn_gate.weight`, [nEmbd, nFf]);
      add(`${b}ffn_down.weight`, [nFf, nEmbd]);
      add(`${b}ffn_up.weight`, [nEmbd, nFf]);
    }
    if (arch === 'gemma2') add(`${b}post_ffw_norm.weight`, [nEmbd]);
  }
  add('output_norm.weight', [nEmbd]);
  if (!tied) add('output.weight', [nEmbd, vocab]);

  const m = { nLayer, nExpert, tied };
  const state = { iV: 0 };
  for (const t of tensors) t.type = quantType(mix, t.name, t.ne, m, state);
  return { arch, metadata, tensors };
}
