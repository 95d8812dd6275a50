// Hand-written declarations for engine.js, the JavaScript face of the vramcalc core.
//
//   import { loadEngine } from './engine.js';
//   const engine = await loadEngine();            // fetches vramcalc.js + vramcalc.wasm once
//   const r = engine.calculate({ mode: 'inference', weights: 'q4_k_m', context: 32768,
//                                runtime: 'llamacpp' }, configJsonObject);
//   console.log(r.bytes.total);                   // bytes; divide by 1e9 for GB, 2**30 for GiB
//
// Every byte count is a number of bytes (exact: all fit below 2^53).

export type Mode = 'inference' | 'train' | 'lora' | 'qlora';
export type Runtime = 'theoretical' | 'llamacpp' | 'vllm' | 'transformers';
export type KvDType = 'f16' | 'bf16' | 'f32' | 'fp8' | 'q8_0' | 'q4_0';
export type AttnImpl = 'eager' | 'sdpa' | 'flash_attention_2';

/** A request in the calculateJson form (without "config"); omitted fields take the core's default. */
export interface Request {
  model?: string;
  mode?: Mode;
  /** Weight-format id ("bf16", "q4_k_m", "nf4-dq", ...); "" or "native" = as published. */
  weights?: string;
  // inference
  kv_dtype?: KvDType;
  context?: number;
  batch?: number;
  runtime?: Runtime;
  flash_attention?: boolean;
  attn_impl?: AttnImpl;
  ubatch?: number;
  /** llama.cpp: where it runs (CUDA GPU or CPU only). */
  llamacpp_backend?: 'cuda' | 'cpu';
  gpu_memory_utilization?: number;
  device_memory_bytes?: number;
  cuda_graphs?: boolean;
  max_num_batched_tokens?: number;
  max_num_seqs?: number;
  block_size?: number;
  // training, LoRA and QLoRA
  optimizer?: 'adamw' | 'adamw_8bit' | 'paged_adamw' | 'paged_adamw_8bit' | 'adafactor' | 'sgd' | 'sgd_momentum' | 'lion';
  precision?: 'fp32' | 'mixed_bf16' | 'mixed_fp16' | 'bf16';
  checkpointing?: 'none' | 'selective' | 'full';
  lora_rank?: number;
  lora_targets?: string;
  dora?: boolean;
  micro_batch?: number;
  seq_len?: number;
  zero?: 0 | 1 | 2 | 3;
  fsdp?: 'none' | 'full_shard' | 'shard_grad_op' | 'hybrid_shard';
  tp?: number;
  pp?: number;
  dp?: number;
  offload?: 'none' | 'optimizer' | 'params' | 'both';
  fused_loss?: boolean;
  fp32_gradients?: boolean;
  dropout?: number;
  lora_dropout?: number;
  fsdp_shard_group?: number;
  sequence_parallel?: boolean;
  pp_microbatches?: number;
}

export interface Bytes {
  weights: number;
  kv_cache: number;
  activations: number;
  overhead: number;
  total: number;
  gradients?: number;
  optimizer?: number;
}

export interface BreakdownItem {
  category: string;
  key: string;
  label: string;
  bytes: number;
  /** One sentence: why this component is this big. */
  explanation: string;
}

/** The full answer of calculate(); see API_CONTRACT.md for every field. */
export interface Result {
  model: string;
  architecture: string;
  inputs: Record<string, unknown>;
  parameters: number;
  active_parameters: number;
  embedding_parameters: number;
  trainable_parameters?: number;
  bytes: Bytes;
  host_bytes: number;
  weights: { bits_per_weight: number; bytes_read_per_token: number; routed_expert_bytes: number; bytes_by_type: Record<string, number> };
  kv_cache?: { bytes_per_token: number; tokens_per_sequence: number };
  vllm?: { reserved_bytes: number; kv_capacity_tokens: number };
  items: BreakdownItem[];
  notes: string[];
}

/** A numbers-only answer of numbers(). */
export interface Numbers {
  bytes: Bytes;
  parameters: number;
  active_parameters: number;
  /** Training modes. */
  trainable_parameters?: number;
  /** Inference mode, from here on. */
  kv_bytes_per_token?: number;
  bytes_read_per_token?: number;
  reserved_bytes?: number;
  kv_capacity_tokens?: number;
}

export interface Format {
  id: string;
  family: string;
  description: string;
}

/** An error the core returned as a value. */
export class EngineError extends Error {
  readonly name: 'EngineError';
  /** The core's error code: invalid_argument, out_of_range, not_found, parse_error, unsupported, limit_exceeded. */
  readonly code: string;
  /** The request field the message names ("context", "kv_dtype", "weights", ...), or "". */
  readonly field: string;
  constructor(code: string, message: string);
}

export interface Device {
  id: string;
  name: string;
  memory_bytes: number;
  gpu_working_set_bytes?: number | null;
  memory_bandwidth_bytes_per_s?: number;
}

export interface EstimateOptions {
  config_json: string | object;
  weights?: string;
  kv_dtype?: KvDType | '';
  runtime?: Runtime | '';
  context?: number;
  batch?: number;
}

export interface EstimateSummary {
  ok: true;
  error_code: string;
  error_message: string;
  weights: string;
  parameters: number;
  active_parameters: number;
  weights_bytes: number;
  kv_cache_bytes: number;
  activations_bytes: number;
  overhead_bytes: number;
  total_bytes: number;
}

/** One device of the core's fit table (Engine.fitTable). */
export interface FitRow {
  gpu: string;
  /** Memory one device offers this runtime (Apple: the GPU working set; vLLM: its budget). */
  capacity_bytes: number;
  /** On one device: capacity - total (negative when over). */
  headroom_bytes: number;
  /** One device holds it. */
  fits: boolean;
  /** Devices needed (training: the layout's GPUs when one fits); null when no count does. */
  gpus: number | null;
  decode_tokens_per_s: number | null;
  price_usd: number | null;
  /** Why the runtime or layout cannot use this device. */
  unsupported?: string;
}

/** A runtime, from its profile in the core (core/src/runtime/). */
export interface RuntimeInfo {
  id: string;
  name: string;
  default_weights: string;
  /** Weight-format families it loads; empty = every family. */
  weight_families: string[];
  /** Request fields only this runtime reads. */
  option_fields: string[];
  needs_device_memory: boolean;
  offloads_to_host: boolean;
}

export class Engine {
  /** The Embind module (its Session class). */
  readonly module: unknown;
  /** The core's Session: devices, imported models, prepared plans. */
  readonly session: unknown;
  /** The fit of one workload on every device given to setHardware (request.gpu: that one only). */
  fitTable(request: Request & { gpu?: string }, config: object | string): FitRow[];
  runtimes(): RuntimeInfo[];
  setHardware(hardware: object | string): void;
  /** Full itemized answer; throws EngineError with the core's message on invalid input. */
  calculate(request: Request, config: object | string): Result;
  /** Totals for many requests over one model; never throws for a bad request. */
  numbers(config: object | string, requests: Request[]): Array<Numbers | { error: EngineError }>;
  formats(): Format[];
  /** The totals of one request (a shortcut over calculate). */
  estimate(options: EstimateOptions): EstimateSummary;
  readonly hasPlanner: boolean;
  /** Decode tokens/s on `gpus` x `device`, or null until the core has the planner binding. */
  decodeTokensPerSecond(request: Request, config: object, device: Device, gpus?: number): number | null;
}

export interface LoadOptions {
  /** Folder (URL) of vramcalc.js and vramcalc.wasm; default: engine.js's folder. */
  base?: string | URL;
  /** The module factory (Node: require('.../vramcalc.js')). Default: the global createVramModule. */
  factory?: (options: object) => Promise<unknown>;
  /** The wasm bytes (Node); in a browser the engine fetches them itself. */
  wasmBinary?: ArrayBuffer | Uint8Array;
}

/** Loads the core once; later calls return the same engine. */
export function loadEngine(options?: LoadOptions): Promise<Engine>;

export const CORE_DEFAULTS: {
  readonly inference: Readonly<Required<Pick<Request, 'weights' | 'kv_dtype' | 'context' | 'batch' | 'runtime' | 'flash_attention' | 'attn_impl' | 'ubatch' | 'llamacpp_backend' | 'gpu_memory_utilization' | 'device_memory_bytes' | 'cuda_graphs' | 'max_num_batched_tokens' | 'max_num_seqs' | 'block_size'>>>;
  readonly training: Readonly<Required<Pick<Request, 'optimizer' | 'precision' | 'fp32_gradients' | 'checkpointing' | 'attn_impl' | 'micro_batch' | 'seq_len' | 'dropout' | 'fused_loss' | 'zero' | 'fsdp' | 'fsdp_shard_group' | 'tp' | 'sequence_parallel' | 'pp' | 'pp_microbatches' | 'dp' | 'offload'>>>;
  readonly lora: Readonly<Required<Pick<Request, 'weights' | 'lora_rank' | 'lora_targets' | 'dora' | 'lora_dropout'>>>;
};
export const MODE_FIELDS: Readonly<Record<Mode, readonly (keyof Request)[]>>;
export const ESTIMATE_DEFAULTS: Readonly<Required<EstimateOptions>>;
/** The core's default of `field` in `mode`, or undefined if the mode does not read it. */
export function coreDefault(mode: Mode, field: keyof Request): unknown;
/** Every field the mode reads, from `options` or the core's default. */
export function withDefaults(options?: Request): Request;
/** The same request without the fields equal to the core's defaults. */
export function minimalRequest(options?: Request): Request;
