// vramcalc engine: loads the C++ core (WebAssembly, Embind) once and wraps its Session (the
// core's front-end state: devices, imported models, prepared plans) in plain JavaScript. Errors
// come back from the core as values; this module turns them into thrown EngineErrors carrying the
// core's message and field. Reusable outside the page: see engine.d.ts.

/**
 * Every request field with the core's own default, per mode: filled from the core's request
 * schema (vram/schema.h) when the engine loads, so nothing here repeats a default or a range.
 */
export const CORE_DEFAULTS = { inference: {}, training: {}, lora: {} };

/** The request fields each mode reads, in the order the core's schema lists them. */
export const MODE_FIELDS = { inference: [], train: [], lora: [], qlora: [] };

/** The schema itself: [{ key, flag, kind, scope, default, min?, max?, values?, help }]. */
export const REQUEST_SCHEMA = [];

function loadSchema(module) {
  if (REQUEST_SCHEMA.length) return;
  REQUEST_SCHEMA.push(...JSON.parse(module.Session.schema()));
  for (const f of REQUEST_SCHEMA) {
    if (f.key === 'mode') continue;
    // "all" fields (weights) belong to inference and to the adapters' group, as the core reads them.
    const groups = { all: ['inference', 'lora'], inference: ['inference'], training: ['training'], lora: ['lora'] }[f.scope];
    for (const g of groups) CORE_DEFAULTS[g][f.key] = f.default;
  }
  MODE_FIELDS.inference = Object.keys(CORE_DEFAULTS.inference);
  MODE_FIELDS.train = Object.keys(CORE_DEFAULTS.training);
  MODE_FIELDS.lora = [...Object.keys(CORE_DEFAULTS.lora), ...Object.keys(CORE_DEFAULTS.training)];
  MODE_FIELDS.qlora = MODE_FIELDS.lora;
  for (const k of ['weights', 'kv_dtype', 'runtime', 'context', 'batch']) ESTIMATE_DEFAULTS[k] = CORE_DEFAULTS.inference[k];
}

/** Defaults of estimate()'s flat options (the core's, filled when the engine loads). */
export const ESTIMATE_DEFAULTS = { config_json: '' };

/** An error the core returned as a value: `code` is the core's error code, `field` the request
 * field its message names ("context", "weights", ...) when it names one. */
export class EngineError extends Error {
  constructor(code, message, field = '') {
    super(message);
    this.name = 'EngineError';
    this.code = code;
    this.field = field;  // the core's Status names it
  }
}

/** Default value of `field` for `mode`, or undefined if the mode does not read it. */
export function coreDefault(mode, field) {
  if (mode === 'inference') return CORE_DEFAULTS.inference[field];
  if (field in CORE_DEFAULTS.training) return CORE_DEFAULTS.training[field];
  if (mode !== 'train' && field in CORE_DEFAULTS.lora) return CORE_DEFAULTS.lora[field];
  return undefined;
}

/**
 * A complete request for `mode`: every field the mode reads, from `options` or the core's default.
 * Fields the mode does not read are dropped.
 */
export function withDefaults(options = {}) {
  const mode = options.mode ?? 'inference';
  const out = { mode };
  if (options.model !== undefined) out.model = options.model;
  for (const field of MODE_FIELDS[mode] ?? []) out[field] = options[field] ?? coreDefault(mode, field);
  return out;
}

/** The same request with the fields equal to the core's defaults left out (shorter, same answer). */
export function minimalRequest(options = {}) {
  const full = withDefaults(options);
  const out = { mode: full.mode };
  if (full.model !== undefined) out.model = full.model;
  for (const field of MODE_FIELDS[full.mode] ?? []) {
    if (full[field] !== coreDefault(full.mode, field)) out[field] = full[field];
  }
  return out;
}

function loadScript(url) {
  return new Promise((resolve, reject) => {
    if (typeof document === 'undefined') {
      importScripts(url);  // a worker
      resolve();
      return;
    }
    const script = document.createElement('script');
    script.src = url;
    script.onload = () => resolve();
    script.onerror = () => reject(new Error(`vramcalc: cannot load ${url}`));
    document.head.append(script);
  });
}

/**
 * A model read from model files (GGUF or safetensors headers) by Engine.importModel. Pass it
 * wherever a config.json object goes: the core keeps the model under `handle`.
 */
export class ImportedModel {
  constructor(summary) {
    Object.assign(this, summary);
  }

  /** What the binding takes in place of config.json text. */
  get ref() {
    return `@${this.handle}`;
  }
}

const configText = new WeakMap();
function configJson(config) {
  if (typeof config === 'string') return config;
  if (config instanceof ImportedModel) return JSON.stringify(config.ref);
  let text = configText.get(config);
  if (text === undefined) {
    text = JSON.stringify(config);
    configText.set(config, text);
  }
  return text;
}

/** A request object with its model as JSON text ("config": {...} or the imported model's ref). */
function withConfig(request, config) {
  const head = JSON.stringify(request).slice(0, -1);
  return `${head}${head.length > 1 ? ',' : ''}"config":${configJson(config)}}`;
}

function unwrap(json) {
  const out = JSON.parse(json);
  if (out.error) throw new EngineError(out.error.code, out.error.message, out.error.field);
  return out;
}

/** The engine over a loaded module (see loadEngine). */
export class Engine {
  constructor(module) {
    this.module = module;
    loadSchema(module);
    this.session = new module.Session();
    this.formatList = null;
    this.runtimeList = null;
  }

  /** The full, itemized result for one request; `config` is the model's config.json object. */
  calculate(request, config) {
    return unwrap(this.session.calculate(withConfig(request, config)));
  }

  /**
   * Totals only, for many requests over one model (charts and tables), through the core's
   * numbers-only batch: the model and its weight plans are prepared once. Each answer is
   * { bytes: {...}, parameters, ... } or { error: EngineError } (errors are not thrown here).
   */
  numbers(config, requests) {
    if (requests.length === 0) return [];
    const lines = requests.map((r) => JSON.stringify(r)).join('\n');
    const model = config instanceof ImportedModel ? config.ref : configJson(config);
    const answers = JSON.parse(this.session.numbers(model, lines));
    return answers.map((a) => (a.error ? { error: new EngineError(a.error.code, a.error.message, a.error.field) } : a));
  }

  /** The weight-format catalogue: [{ id, family, description }], one entry per id. */
  formats() {
    if (this.formatList === null) this.formatList = JSON.parse(this.module.Session.formats());
    return this.formatList;
  }

  /**
   * The runtimes, from their profiles in the core: [{ id, name, default_weights,
   * weight_families (empty = all), option_fields, needs_device_memory, offloads_to_host }].
   */
  runtimes() {
    if (this.runtimeList === null) this.runtimeList = JSON.parse(this.module.Session.runtimes());
    return this.runtimeList;
  }

  /** The flat minimal estimate: totals of one request; throws on an error value. */
  estimate(options) {
    const o = { ...ESTIMATE_DEFAULTS, ...options };
    const config = typeof o.config_json === 'string' ? JSON.parse(o.config_json) : o.config_json;
    const r = this.calculate({ weights: o.weights, kv_dtype: o.kv_dtype, runtime: o.runtime, context: o.context,
      batch: o.batch }, config);
    return {
      ok: true, weights: r.inputs.weights, parameters: r.parameters, active_parameters: r.active_parameters,
      weights_bytes: r.bytes.weights, kv_cache_bytes: r.bytes.kv_cache, activations_bytes: r.bytes.activations,
      overhead_bytes: r.bytes.overhead, total_bytes: r.bytes.total,
    };
  }

  /** Always true: the planner is part of the core. */
  get hasPlanner() {
    return true;
  }

  /** Gives the planner the devices (presets/hardware.json, parsed); call once after loading. */
  setHardware(hardware) {
    const error = this.session.setDevices(typeof hardware === 'string' ? hardware : JSON.stringify(hardware));
    if (error) throw new EngineError('invalid_argument', error);
  }

  /**
   * The fit table of one workload on every device given to setHardware, decided by the core:
   * [{ gpu, capacity_bytes, headroom_bytes, fits, gpus (null: no count fits), decode_tokens_per_s,
   * price_usd, unsupported? }].
   */
  fitTable(request, config) {
    const body = withConfig(request, config);
    if (this.fitMemo?.body === body) return this.fitMemo.rows;
    const rows = unwrap(this.session.fitTable(body)).devices;
    this.fitMemo = { body, rows };
    return rows;
  }

  /**
   * Decode tokens per second of one workload (a calculate() request and its config) on each
   * {gpu, gpus} target, from the core's memory-roofline model: an array of numbers, null where it
   * does not fit (or in training modes, which the planner does not time).
   */
  decodeTokensPerSecondMany(request, config, targets) {
    if (!this.hasPlanner || !request || targets.length === 0) return targets.map(() => null);
    const body = withConfig(request, config);
    const list = JSON.stringify(targets);
    // Display-only changes (units, vendor or budget filters) ask again with the same inputs.
    if (this.speedMemo?.body === body && this.speedMemo.list === list) return this.speedMemo.speeds;
    const speeds = JSON.parse(this.session.decodeTokens(body, list));
    this.speedMemo = { body, list, speeds };
    return speeds;
  }

  /** As decodeTokensPerSecondMany for one device. */
  decodeTokensPerSecond(request, config, device, gpus = 1) {
    return this.decodeTokensPerSecondMany(request, config, [{ gpu: device.id, gpus }])[0];
  }

  /** A planner action (fit, max-context, recommend, advise, cost, ...): see core planner.h. */
  plan(request, config, fields) {
    return unwrap(this.session.plan(withConfig({ ...request, ...fields }, config)));
  }

  /**
   * How much of a model file's header `bytes` (a prefix of the file) holds: { complete: true,
   * header_bytes, ... } or { complete: false, bytes_needed }. `kind`: 'gguf', 'safetensors' or
   * 'index' (model.safetensors.index.json text). Throws EngineError on a malformed file.
   */
  probe(kind, bytes, fileSize = 0) {
    return unwrap(this.session.probe(kind, bytes, fileSize));
  }

  /**
   * Builds a model from complete header prefixes: `spec` is { kind: 'gguf' | 'safetensors',
   * source, config (config.json text, safetensors), index (index.json text or '') }, `parts`
   * [{ bytes: Uint8Array, size }]. Returns an ImportedModel (name, parameters, weights_bytes, ...).
   */
  importModel(spec, parts) {
    const full = { kind: '', source: '', config: '', index: '', ...spec };
    return new ImportedModel(unwrap(this.session.importModel(JSON.stringify(full), parts)));
  }
}

let shared = null;

/**
 * Loads the module once (later calls return the same engine). In a page, `base` is the folder
 * holding vramcalc.js and vramcalc.wasm (default: this module's folder). Under Node, pass
 * `factory` (require('vramcalc.js')) and `wasmBinary`.
 */
export function loadEngine({ base, factory, wasmBinary } = {}) {
  if (shared) return shared;
  shared = (async () => {
    const root = new URL(base ?? './', import.meta.url);
    let create = factory ?? globalThis.createVramModule;
    const options = {};
    if (wasmBinary) {
      options.wasmBinary = wasmBinary;
    } else {
      // Start the wasm download and compile while the glue script loads.
      const url = new URL('vramcalc.wasm', root);
      const compiled = WebAssembly.compileStreaming(fetch(url)).catch(
        () => fetch(url).then((r) => r.arrayBuffer()).then((bytes) => WebAssembly.compile(bytes)));
      let failed;
      const failure = new Promise((_, reject) => { failed = reject; });
      options.instantiateWasm = (imports, done) => {
        compiled.then((m) => WebAssembly.instantiate(m, imports)).then((instance) => done(instance), failed);
        return {};
      };
      if (!create) {
        await loadScript(new URL('vramcalc.js', root).href);
        create = globalThis.createVramModule;
      }
      return new Engine(await Promise.race([create(options), failure]));
    }
    return new Engine(await create(options));
  })();
  shared.catch(() => { shared = null; });
  return shared;
}
