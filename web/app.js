// The calculator page: reads the form, asks the core (engine.js), draws the results. The URL
// holds the whole state (only what differs from the defaults), so a link reproduces the result
// and back/forward step through changes.

import { EngineError, ImportedModel, loadEngine, minimalRequest } from './engine.js';
import * as fmt from './format.js';
import { barSvg, CATEGORIES, contextChartSvg, shades } from './charts.js';
import { ModelPicker } from './picker.js';

const $ = (id) => document.getElementById(id);
const form = $('form');
/** Sets markup or text only when it differs, so unchanged parts of the page are not laid out again. */
const shownHtml = new WeakMap();
function setHtml(el, html) {
  if (shownHtml.get(el) === html) return;
  shownHtml.set(el, html);
  el.innerHTML = html;
}
function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

/**
 * Shows table rows [{ key, attrs, cells: [{ tag, attrs, html }] }] in `tbody`. When the rows are
 * the same ones in the same order, only the cells that changed are touched; else it is rebuilt.
 */
function patchBody(tbody, rows) {
  const attrs = (a) => Object.entries(a).map(([k, v]) => ` ${k}="${fmt.esc(v)}"`).join('');
  const keys = rows.map((r) => r.key).join('\n');
  if (tbody.dataset.keys !== keys || tbody.rows.length !== rows.length) {
    tbody.innerHTML = rows.map((r) => `<tr${attrs(r.attrs)}>` +
      r.cells.map((c) => `<${c.tag}${attrs(c.attrs)}>${c.html}</${c.tag}>`).join('') + '</tr>').join('');
    tbody.dataset.keys = keys;
    rows.forEach((r, i) => r.cells.forEach((c, j) => shownHtml.set(tbody.rows[i].cells[j], c.html)));
    return;
  }
  rows.forEach((r, i) => {
    const tr = tbody.rows[i];
    for (const [k, v] of Object.entries(r.attrs)) if (tr.getAttribute(k) !== v) tr.setAttribute(k, v);
    r.cells.forEach((c, j) => {
      const cell = tr.cells[j];
      for (const [k, v] of Object.entries(c.attrs)) if (cell.getAttribute(k) !== v) cell.setAttribute(k, v);
      setHtml(cell, c.html);
    });
  });
}

/** What a first visit shows. Numbers are kept as the text typed, so bad input can be reported. */
const DEFAULTS = Object.freeze({
  model: 'llama-3.1-8b', gpu: 'rtx-4090', mode: 'inference', unit: 'GB',
  runtime: 'llamacpp', weights: 'q4_k_m', context: '8192', batch: '1', kv_dtype: 'f16',
  flash_attention: true, attn_impl: 'sdpa', ubatch: '512', llamacpp_backend: 'cuda', gpu_memory_utilization: '0.92',
  cuda_graphs: true, max_num_batched_tokens: '0', max_num_seqs: '0', block_size: '16',
  lora_weights: 'bf16', qlora_weights: 'nf4-dq', seq_len: '2048', micro_batch: '1', lora_rank: '16',
  lora_targets: 'q,v', dora: false, precision: 'mixed_bf16', optimizer: 'adamw', checkpointing: 'none',
  train_attn: 'flash_attention_2', fused_loss: false, fp32_gradients: false, dropout: '0', lora_dropout: '0',
  zero: '0', fsdp: 'none', fsdp_shard_group: '8', dp: '1', tp: '1', sequence_parallel: false, pp: '1',
  pp_microbatches: '0', offload: 'none', vendor: 'all', budget: '', sort: 'cost', dir: 'asc', rows: 'top',
  embed: '0',
});
const TOP_ROWS = 20;
/** State kept by the page itself rather than read from a form control. */
const PAGE_ONLY = new Set(['model', 'mode', 'sort', 'dir', 'rows', 'embed']);
const NUMERIC = new Set(['context', 'batch', 'ubatch', 'gpu_memory_utilization', 'max_num_batched_tokens',
  'max_num_seqs', 'block_size', 'seq_len', 'micro_batch', 'lora_rank', 'zero', 'dp', 'tp', 'pp', 'dropout',
  'lora_dropout', 'fsdp_shard_group', 'pp_microbatches']);
const MODES = ['inference', 'train', 'lora', 'qlora'];
const MODE_NAMES = { inference: 'Inference', train: 'Full training', lora: 'LoRA fine-tuning', qlora: 'QLoRA fine-tuning' };
/** Each runtime's name, the options it reads, the formats it loads and its usual format: read
 * from the core's runtime profiles (engine.runtimes()) when the engine loads. */
const RUNTIME_NAMES = {};
const RUNTIME_FIELDS = {};
const RUNTIME_FAMILIES = {};
const RUNTIME_DEFAULT_WEIGHTS = {};
const RUNTIME_NEEDS_DEVICE = {};
function loadRuntimes() {
  for (const r of engine.runtimes()) {
    RUNTIME_NAMES[r.id] = r.name;
    RUNTIME_FIELDS[r.id] = r.option_fields;
    RUNTIME_FAMILIES[r.id] = r.weight_families.length ? r.weight_families : null;
    RUNTIME_DEFAULT_WEIGHTS[r.id] = r.default_weights;
    RUNTIME_NEEDS_DEVICE[r.id] = r.needs_device_memory;
  }
  // A runtime the markup does not list yet (a new profile in the core) still gets its option.
  const select = form.elements.namedItem('runtime');
  for (const r of engine.runtimes()) {
    if (![...select.options].some((o) => o.value === r.id)) select.add(new Option(r.name, r.id));
  }
}
const FAMILY_NAMES = {
  dense: '16/32-bit', fp8: 'FP8', bitsandbytes: 'bitsandbytes', gptq: 'GPTQ', awq: 'AWQ', mxfp4: 'MXFP4',
  exl2: 'EXL2', gguf: 'GGUF (llama.cpp)',
};
/** Quick reference: popular sizes (rows) and, per mode or runtime, common formats (columns). */
const QUICK_MODELS = ['llama-3.2-1b', 'llama-3.2-3b', 'llama-3.1-8b', 'qwen2.5-14b', 'mistral-small-24b',
  'qwen2.5-32b', 'llama-3.1-70b', 'mixtral-8x7b', 'qwen3-235b-a22b', 'llama-3.1-405b', 'deepseek-v3'];
const QUICK_COLUMNS = {
  llamacpp: [['weights', 'gguf-f16', '16-bit F16'], ['weights', 'q8_0', '8-bit Q8_0'], ['weights', 'q4_k_m', '4-bit Q4_K_M'], ['weights', 'iq2_xs', '2-bit IQ2_XS']],
  vllm: [['weights', 'bf16', '16-bit BF16'], ['weights', 'fp8-e4m3', '8-bit FP8'], ['weights', 'awq-4bit-g128', '4-bit AWQ']],
  transformers: [['weights', 'bf16', '16-bit BF16'], ['weights', 'int8', '8-bit LLM.int8()'], ['weights', 'nf4-dq', '4-bit NF4']],
  theoretical: [['weights', 'bf16', '16-bit BF16'], ['weights', 'q8_0', '8-bit Q8_0'], ['weights', 'q4_k_m', '4-bit Q4_K_M']],
  train: [['precision', 'fp32', 'fp32'], ['precision', 'mixed_bf16', 'Mixed bf16'], ['precision', 'bf16', 'Pure bf16']],
  lora: [['weights', 'bf16', 'bf16 base'], ['weights', 'int8', 'int8 base'], ['weights', 'fp8-e4m3', 'fp8 base']],
  qlora: [['weights', 'nf4-dq', 'NF4 + double quant'], ['weights', 'nf4', 'NF4'], ['weights', 'fp4', 'FP4']],
};
/** Horizontal lines on the chart: common capacities and one card that has each. */
const CAPACITY_DEVICES = ['rtx-3070', 'rtx-3060-12gb', 'rtx-4060-ti-16gb', 'rtx-4090', 'rtx-5090', 'rtx-6000-ada',
  'h100-sxm', 'h200-sxm', 'mi300x'];
const SORTS = ['name', 'usable', 'headroom', 'gpus', 'cost'];
const MAX_GPUS = 64;

let engine = null;
let models = [];
let devices = [];
let picker = null;
let state = { ...DEFAULTS };
let last = null;  // { result, request, model, state } of the last good calculation
let chartWidth = 600;

// ---------------------------------------------------------------------------------------------
// State <-> controls <-> URL

const controls = new Map();
function control(name) {
  if (!controls.has(name)) controls.set(name, form.elements.namedItem(name) ?? document.querySelector(`[name="${name}"]`));
  return controls.get(name);
}

let radios = null;
function unitRadios() {
  radios ??= [...document.querySelectorAll('input[name="unit"]')];
  return radios;
}

function readControls() {
  const s = { ...state };
  for (const name of Object.keys(DEFAULTS)) {
    if (PAGE_ONLY.has(name)) continue;
    if (name === 'unit') {
      s.unit = unitRadios().find((r) => r.checked)?.value ?? 'GB';
      continue;
    }
    const el = control(name);
    if (!el) continue;
    s[name] = el.type === 'checkbox' ? el.checked : el.value;
  }
  return s;
}

function writeControls(s) {
  for (const name of Object.keys(DEFAULTS)) {
    if (PAGE_ONLY.has(name)) continue;
    if (name === 'unit') {
      for (const r of unitRadios()) r.checked = r.value === s.unit;
      continue;
    }
    const el = control(name);
    if (!el) continue;
    if (el.type === 'checkbox') el.checked = Boolean(s[name]);
    else {
      if (el.tagName === 'SELECT' && ![...el.options].some((o) => o.value === String(s[name]))) {
        el.add(new Option(String(s[name]), String(s[name])));  // unknown value from a link: keep it visible
      }
      el.value = String(s[name]);
    }
  }
  picker?.set(s.model);
  selectMode(s.mode, false);
}

function toQuery(s) {
  const q = new URLSearchParams();
  const model = models.find((m) => m.id === s.model);
  // A model read from files cannot travel in a link; a config.json that fits does.
  if (model?.imported) s = { ...s, model: DEFAULTS.model };
  // 'native' means a file's own weights; a link falls back to the runtime's usual format.
  if (model?.imported === 'files' && s.weights === 'native') s = { ...s, weights: RUNTIME_DEFAULT_WEIGHTS[s.runtime] };
  if (model?.share) q.set('config', model.share);
  for (const [k, v] of Object.entries(s)) {
    if (v !== DEFAULTS[k]) q.set(k, typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
  }
  const text = q.toString();
  return text ? `?${text}` : location.pathname;
}

function fromQuery(search) {
  const q = new URLSearchParams(search);
  const s = { ...DEFAULTS };
  for (const [k, v] of q) {
    if (!(k in DEFAULTS)) continue;
    s[k] = typeof DEFAULTS[k] === 'boolean' ? v === '1' || v === 'true' : v;
  }
  if (q.has('config')) s.model = modelFromLink(q.get('config'))?.id ?? s.model;
  if (!MODES.includes(s.mode)) s.mode = 'inference';
  if (!fmt.UNITS[s.unit]) s.unit = 'GB';
  if (!SORTS.includes(s.sort)) s.sort = DEFAULTS.sort;
  if (s.dir !== 'asc' && s.dir !== 'desc') s.dir = 'asc';
  if (s.rows !== 'all') s.rows = 'top';
  return s;
}

/**
 * Records the state in the URL: 'push' adds a history entry, 'replace' rewrites the current one.
 * It runs after the result is drawn (history updates cost milliseconds), once for a burst of changes.
 */
let pendingUrl = null;
function commitUrl(how) {
  if (how !== 'push' && how !== 'replace') return;
  if (pendingUrl === null) setTimeout(flushUrl);
  pendingUrl = pendingUrl === 'push' || how === 'push' ? 'push' : 'replace';
}
function flushUrl() {
  const how = pendingUrl;
  pendingUrl = null;
  const url = toQuery(state);
  if (state.embed === '1') $('embed-full').href = toQuery({ ...state, embed: '0' });
  if (how === null || url === (location.search || location.pathname)) return;
  if (how === 'push') history.pushState(null, '', url);
  else history.replaceState(null, '', url);
}

// ---------------------------------------------------------------------------------------------
// Requests

/** A number typed in a field, or the text itself when it is not one (the core names the error). */
function num(text) {
  const t = String(text).trim();
  return /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t) ? Number(t) : t;
}

function device(id = state.gpu) {
  return devices.find((d) => d.id === id) ?? null;
}

/** The core request for a state (only what differs from the core's defaults is sent). */
function requestFor(s, model, override = {}) {
  const o = { model: model.id, mode: s.mode };
  if (s.mode === 'inference') {
    Object.assign(o, { weights: s.weights, runtime: s.runtime, kv_dtype: s.kv_dtype, context: num(s.context), batch: num(s.batch) });
    for (const f of RUNTIME_FIELDS[s.runtime] ?? []) o[f] = NUMERIC.has(f) ? num(s[f]) : s[f];
    if (RUNTIME_NEEDS_DEVICE[s.runtime]) o.device_memory_bytes = device(s.gpu)?.memory_bytes ?? 0;
  } else {
    Object.assign(o, {
      seq_len: num(s.seq_len), micro_batch: num(s.micro_batch), precision: s.precision, optimizer: s.optimizer,
      fp32_gradients: s.fp32_gradients, checkpointing: s.checkpointing, attn_impl: s.train_attn,
      dropout: num(s.dropout), fused_loss: s.fused_loss, zero: num(s.zero), fsdp: s.fsdp, dp: num(s.dp), tp: num(s.tp),
      sequence_parallel: s.sequence_parallel, pp: num(s.pp), pp_microbatches: num(s.pp_microbatches), offload: s.offload,
    });
    if (s.fsdp === 'hybrid_shard') o.fsdp_shard_group = num(s.fsdp_shard_group);
    if (s.mode !== 'train') {
      Object.assign(o, {
        weights: s.mode === 'lora' ? s.lora_weights : s.qlora_weights, lora_rank: num(s.lora_rank),
        lora_targets: s.lora_targets, dora: s.dora, lora_dropout: num(s.lora_dropout),
      });
    }
  }
  return minimalRequest({ ...o, ...override });
}

/**
 * The core's fit of the current workload on one device ({ capacity_bytes, headroom_bytes, fits,
 * gpus, decode_tokens_per_s, ... }), or null without a device or a result.
 */
function fitOn(d) {
  if (!d || !last) return null;
  try {
    return engine.fitTable({ ...last.request, gpu: d.id }, last.model.config)[0] ?? null;
  } catch (error) {
    if (!(error instanceof EngineError)) throw error;
    return null;
  }
}

/** GPUs of the training layout: data x tensor x pipeline parallel. */
function worldSize(s) {
  const n = Number(s.dp) * Number(s.tp) * Number(s.pp);
  return Number.isInteger(n) && n >= 1 ? n : 1;
}

// ---------------------------------------------------------------------------------------------
// Field errors

const ERROR_FIELDS = {
  kv_dtype: 'kv_dtype', runtime: 'runtime', llamacpp_backend: 'llamacpp_backend', context: 'context', batch: 'batch', ubatch: 'ubatch',
  attn_impl: 'attn_impl', gpu_memory_utilization: 'gpu_memory_utilization', vllm_block_size: 'block_size',
  block_size: 'block_size', max_num_batched_tokens: 'max_num_batched_tokens', max_num_seqs: 'max_num_seqs',
  device_memory: 'gpu', device_memory_bytes: 'gpu', seq_len: 'seq_len', micro_batch: 'micro_batch',
  lora_rank: 'lora_rank', lora_targets: 'lora_targets', dora: 'dora', precision: 'precision',
  precision_regime: 'precision', optimizer: 'optimizer', checkpointing: 'checkpointing', fused_loss: 'fused_loss',
  zero: 'zero', fsdp: 'fsdp', dp: 'dp', tp: 'tp', pp: 'pp', offload: 'offload', mode: 'mode',
  fp32_gradients: 'fp32_gradients', fp32_grads: 'fp32_gradients', dropout: 'dropout', lora_dropout: 'lora_dropout',
  fsdp_shard_group: 'fsdp_shard_group', sequence_parallel: 'sequence_parallel', pp_microbatches: 'pp_microbatches',
};

function fieldFor(error, s) {
  let f = ERROR_FIELDS[error.field];
  if (error.field === 'weights') f = s.mode === 'lora' ? 'lora_weights' : s.mode === 'qlora' ? 'qlora_weights' : 'weights';
  if (error.field === 'attn_impl' && s.mode !== 'inference') f = 'train_attn';
  // A rule about a combination of options names no single field: show it above the options.
  return f && document.getElementById(`e-${f}`) ? f : 'mode';
}

let shownErrors = [];
function clearErrors() {
  for (const f of shownErrors) {
    const box = $(`e-${f}`);
    box.hidden = true;
    box.textContent = '';
    const el = f === 'mode' ? null : control(f);
    if (el) {
      el.removeAttribute('aria-invalid');
      el.setAttribute('aria-describedby', `h-${f}`);
      el.closest('.field')?.classList.remove('invalid');
    }
  }
  shownErrors = [];
  if (!$('error-summary').hidden) $('error-summary').hidden = true;
}

function showError(error, s) {
  const f = fieldFor(error, s);
  const summary = $('error-summary');
  if (f) {
    const box = $(`e-${f}`);
    box.textContent = error.message;
    box.hidden = false;
    const el = f === 'mode' ? null : control(f);
    if (el) {
      el.setAttribute('aria-invalid', 'true');
      el.setAttribute('aria-describedby', `e-${f} h-${f}`);
      el.closest('.field')?.classList.add('invalid');
      const label = document.querySelector(`label[for="${el.id}"]`)?.textContent.replace(/\s+/g, ' ').trim() ?? f;
      summary.innerHTML = `Check <a href="#${el.id}">${fmt.esc(label)}</a>: ${fmt.esc(error.message)}`;
    } else {
      summary.textContent = error.message;
    }
    shownErrors.push(f);
  } else {
    summary.textContent = error.message;
  }
  summary.hidden = false;
}

// ---------------------------------------------------------------------------------------------
// Rendering

let visibleFor = '';
function setVisibility(s) {
  if (visibleFor === `${s.mode} ${s.runtime}`) return;
  visibleFor = `${s.mode} ${s.runtime}`;
  for (const el of form.querySelectorAll('[data-modes]')) {
    const inMode = el.dataset.modes.split(' ').includes(s.mode);
    const runtimes = el.dataset.runtimes;
    el.hidden = !(inMode && (!runtimes || runtimes.split(' ').includes(s.runtime)));
  }
}

function fillWeights(select, families, value, stored = null) {
  const groups = new Map();
  for (const f of engine.formats()) {
    if (families && !families.includes(f.family)) continue;
    if (!groups.has(f.family)) groups.set(f.family, []);
    groups.get(f.family).push(f);
  }
  let html = stored ? `<optgroup label="Your model"><option value="native">as stored: ${fmt.esc(stored)}</option></optgroup>` : '';
  for (const [family, list] of groups) {
    html += `<optgroup label="${fmt.esc(FAMILY_NAMES[family] ?? family)}">` +
      list.map((f) => `<option value="${fmt.esc(f.id)}" title="${fmt.esc(f.description)}">${fmt.esc(f.id)}</option>`).join('') +
      '</optgroup>';
  }
  const key = `${families} ${stored}`;
  if (select.dataset.families !== key) {
    select.innerHTML = html;
    select.dataset.families = key;
  }
  if (select.value === value) return;
  if (![...select.options].some((o) => o.value === value)) select.add(new Option(value, value));
  select.value = value;
}

function renderTotal(result, s, model) {
  const total = result.bytes.total;
  const out = $('total');
  setText(out, fmt.bytes(total, s.unit));
  out.dataset.bytes = String(total);
  setText($('unit-note'), `${fmt.UNITS[s.unit].note}; ${fmt.bytes(total, s.unit === 'GB' ? 'GiB' : 'GB')}`);
  const d = device(s.gpu);
  const line = $('fit-line');
  $('sticky-total').hidden = false;
  setText($('sticky-value'), out.textContent);
  if (!d) {
    setHtml(line, '');
    setText($('sticky-fit'), '');
    return;
  }
  const fit = fitOn(d);
  const cap = fit?.capacity_bytes ?? NaN;
  const n = fit?.gpus ?? null;
  const perGpu = s.mode !== 'inference' && worldSize(s) > 1 ? ' per GPU' : '';
  setText($('sticky-fit'), s.mode !== 'inference' ? (n ? `✓ fits ${shortName(d)}${perGpu}` : `✗ too big for ${shortName(d)}`) : n === 1 ? `✓ fits one ${shortName(d)}` : n ? `✗ needs ${n} × ${shortName(d)}` : `✗ not on ${shortName(d)}`);
  const cls = `fit-line ${n === 1 ? 'fits' : 'nofit'}`;
  if (line.className !== cls) line.className = cls;
  const what = `${MODE_NAMES[s.mode]} of ${model.name}`;
  if (s.mode !== 'inference') {
    setHtml(line, fit?.fits
      ? `<span class="mark" aria-hidden="true">✓</span> ${fmt.esc(what)} fits${perGpu} on ${fmt.esc(d.name)} ` +
        `(${fmt.bytes(cap, s.unit)} usable) with ${fmt.bytes(cap - total, s.unit)} to spare.`
      : `<span class="mark" aria-hidden="true">✗</span> ${fmt.esc(what)} needs ${fmt.bytes(total, s.unit)}${perGpu}, more than ` +
        `${fmt.esc(d.name)} holds (${fmt.bytes(cap, s.unit)} usable): see <a href="#h-advice">what would make it fit</a>.`);
  } else if (n === 1) {
    setHtml(line, `<span class="mark" aria-hidden="true">✓</span> ${fmt.esc(what)} fits on one ${fmt.esc(d.name)} ` +
      `(${fmt.bytes(cap, s.unit)} usable) with ${fmt.bytes(cap - total, s.unit)} to spare.`);
  } else if (n) {
    setHtml(line, `<span class="mark" aria-hidden="true">✗</span> Too big for one ${fmt.esc(d.name)} ` +
      `(${fmt.bytes(cap, s.unit)} usable): needs ${n} of them; see <a href="#h-advice">what would make it fit</a>.`);
  } else {
    setHtml(line, `<span class="mark" aria-hidden="true">✗</span> Does not fit on ${fmt.esc(d.name)} ` +
      `(${fmt.bytes(cap, s.unit)} usable).`);
  }
}

/** The core's phrase with a final period (its first word may be a name such as llama.cpp or adamw). */
function sentence(text) {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

function renderBreakdown(result, s) {
  const total = result.bytes.total;
  setHtml($('bar'), barSvg(result.items, total, s.unit));
  const shade = shades(result.items);
  setHtml($('legend'), result.items.map((item, i) =>
    `<li data-key="${fmt.esc(item.key)}" data-bytes="${item.bytes}"><span class="swatch c-${fmt.esc(item.category)}${shade[i] ? ' alt' : ''}" aria-hidden="true"></span>` +
    `<span class="legend-head"><span class="legend-label">${fmt.esc(item.label)}</span> ` +
    `<span class="legend-value">${fmt.bytes(item.bytes, s.unit)}</span> <span class="legend-pct">${total > 0 ? Math.round((item.bytes / total) * 100) : 0}%</span></span>` +
    `<span class="legend-why">${fmt.esc(sentence(item.explanation))}</span></li>`).join(''));
  const extra = [];
  if (result.trainable_parameters) extra.push(`Trainable parameters: ${fmt.count(result.trainable_parameters)} of ${fmt.count(result.parameters)}.`);
  const notes = [...extra, ...result.notes.map(sentence)];
  setHtml($('notes'), notes.map((n) => `<li>${fmt.esc(n)}</li>`).join(''));
}

/** Context lengths for the chart: 512 .. the model's maximum (or the chosen value), x1.5 steps. */
function chartXs(current, model, limit) {
  const hi = Math.min(limit, Math.max(8192, model.max_context ?? 0, Number.isFinite(current) ? current : 0));
  const top = 2 ** Math.ceil(Math.log2(hi));
  const xs = new Set();
  for (let x = 512; x <= top; x *= 2) {
    xs.add(x);
    if (x * 1.5 < top) xs.add(x * 1.5);
  }
  if (Number.isInteger(current) && current >= 1 && current <= limit) xs.add(current);
  return [...xs].filter((x) => x >= 256).sort((a, b) => a - b);
}

function renderChart(s, model) {
  const training = s.mode !== 'inference';
  const key = training ? 'seq_len' : 'context';
  const current = num(s[key]);
  const xs = chartXs(current, model, training ? 2 ** 20 : 2 ** 24);
  const answers = engine.numbers(model.config, xs.map((x) => requestFor(s, model, { [key]: x })));
  const points = xs.map((x, i) => ({ x, bytes: answers[i].bytes }));
  const mine = device(s.gpu);
  const capacities = CAPACITY_DEVICES.map((id) => device(id)).filter(Boolean)
    .filter((d) => !mine || d.memory_bytes !== mine.memory_bytes)
    .map((d) => ({ bytes: d.memory_bytes, label: `${fmt.bytes(d.memory_bytes, s.unit)} · ${shortName(d)}`, mine: false }));
  const mineCap = fitOn(mine)?.capacity_bytes;
  if (mine && mineCap) capacities.push({ bytes: mineCap, label: `${fmt.bytes(mineCap, s.unit)} · your ${shortName(mine)}`, mine: true });
  setHtml($('chart'), contextChartSvg({
    points, current, capacities: capacities.filter((c) => Number.isFinite(c.bytes)), unit: s.unit, width: chartWidth,
    xLabel: training ? 'Sequence length (tokens)' : 'Context length (tokens)',
  }));
  const present = CATEGORIES.filter(([k]) => points.some((p) => (p.bytes?.[k] ?? 0) > 0));
  setHtml($('chart-key'), present.reverse().map(([k, name]) =>
    `<li><span class="swatch c-${k}" aria-hidden="true"></span>${name}</li>`).join(''));
}

/** A device name without the vendor's prefix ("RTX 4090", "Radeon RX 7900 XTX", "Arc B580"). */
function shortName(d) {
  return d.name.replace(/^NVIDIA (GeForce )?/, '').replace(/^(AMD|Intel) /, '').replace(/^(CPU system: .*?) \(.*\)$/, '$1');
}

/** The fit table's rows, decided by the core (capacity, devices needed, headroom, speed). */
function fitRows(s, model) {
  const byId = new Map(engine.fitTable(last.request, model.config).map((r) => [r.gpu, r]));
  return devices.map((d) => {
    const r = byId.get(d.id);
    return { d, cap: r?.capacity_bytes ?? NaN, gpus: r?.gpus ?? null, headroom: r?.headroom_bytes ?? NaN,
      cost: r?.price_usd ?? null, tps: r?.decode_tokens_per_s ?? null, fits: r?.fits ?? false, why: r?.unsupported ?? '' };
  });
}

/** The budget filter (a page option, not a core one): null for none, NaN when invalid. */
function checkBudget(s) {
  const budget = s.budget.trim() === '' ? null : Number(s.budget);
  const bad = budget !== null && !(budget >= 0);
  const eb = $('e-budget');
  if (eb.hidden === bad) eb.hidden = !bad;
  setText(eb, bad ? 'budget: enter an amount in US dollars, 0 or more, or leave it empty' : '');
  const el = control('budget');
  if (bad) {
    el.setAttribute('aria-invalid', 'true');
    el.setAttribute('aria-describedby', 'e-budget');
  } else {
    el.removeAttribute('aria-invalid');
    el.removeAttribute('aria-describedby');
  }
  return bad ? NaN : budget;
}

let fitKey = '';
function renderFit(result, s, model) {
  const budget = checkBudget(s);
  const budgetError = Number.isNaN(budget);
  // Redraw only when what the table shows can have changed.
  const key = JSON.stringify([last.request, s.unit, s.vendor, s.budget, s.sort, s.dir, s.rows]);
  if (key === fitKey) return;
  fitKey = key;
  let rows = fitRows(s, model).filter((r) => (s.vendor === 'all' || r.d.vendor === s.vendor) &&
    (budget === null || budgetError || (r.cost !== null && r.cost <= budget)));
  const dir = s.dir === 'desc' ? -1 : 1;
  const keyOf = {
    name: (r) => r.d.name, usable: (r) => r.cap, headroom: (r) => r.headroom,
    gpus: (r) => r.gpus ?? Infinity, cost: (r) => r.cost ?? Infinity,
  }[s.sort];
  rows = rows.sort((a, b) => {
    const ka = keyOf(a);
    const kb = keyOf(b);
    if (typeof ka === 'string') return dir * ka.localeCompare(kb);
    if (ka === kb) return a.d.name.localeCompare(b.d.name);
    if (!Number.isFinite(ka)) return 1;  // unknown values last in both directions
    if (!Number.isFinite(kb)) return -1;
    return dir * (ka - kb);
  });
  for (const th of document.querySelectorAll('#fit-table th[data-sort]')) {
    const sort = th.dataset.sort === s.sort ? (s.dir === 'desc' ? 'descending' : 'ascending') : 'none';
    if (th.getAttribute('aria-sort') !== sort) th.setAttribute('aria-sort', sort);
  }
  const body = (s.rows === 'all' ? rows : rows.slice(0, TOP_ROWS)).map((r) => {
    const fits = r.fits;
    return {
      key: r.d.id,
      attrs: { class: fits ? 'fits' : 'nofit', 'data-id': r.d.id },
      cells: [
        { tag: 'th', attrs: { scope: 'row', title: r.d.name }, html: `<span class="mark" role="img" ` +
          `aria-label="${fits ? 'fits on one' : 'does not fit on one'}">${fits ? '✓' : '✗'}</span> ${fmt.esc(shortName(r.d))}` },
        { tag: 'td', attrs: { class: 'num' }, html: fmt.bytes(r.cap, s.unit) },
        { tag: 'td', attrs: { class: `num ${r.headroom >= 0 ? 'pos' : 'neg'}` }, html: r.why ? fmt.DASH : fmt.signedBytes(r.headroom, s.unit) },
        { tag: 'td', attrs: { class: 'num' }, html: r.gpus === null ? `<span class="nofit"${r.why ? ` title="${fmt.esc(r.why)}"` : ''}>won’t fit</span>` : `${r.gpus}` },
        { tag: 'td', attrs: { class: 'num' }, html: r.cost === null ? fmt.DASH : fmt.usd(r.cost) },
        { tag: 'td', attrs: { class: 'num' }, html: r.tps === null ? '<span title="Needs the hardware planner">—</span>' : fmt.sig3(r.tps) },
      ],
    };
  });
  patchBody($('fit-body'), body.length ? body : [{ key: 'none', attrs: {}, cells: [{ tag: 'td', attrs: { colspan: '6' }, html: 'No device matches these filters.' }] }]);
  const fitting = rows.filter((r) => r.fits).length;
  const shown = s.rows === 'all' ? rows.length : Math.min(TOP_ROWS, rows.length);
  setText($('fit-summary'), `${rows.length} of ${devices.length} devices match` +
    `${shown < rows.length ? ` (first ${shown} shown)` : ''}; ${fitting} hold it on a single device.`);
  const more = $('fit-more');
  if (more.hidden !== rows.length <= TOP_ROWS) more.hidden = rows.length <= TOP_ROWS;
  setText(more, s.rows === 'all' ? `Show the first ${TOP_ROWS}` : `Show all ${rows.length}`);
  if (more.getAttribute('aria-expanded') !== String(s.rows === 'all')) more.setAttribute('aria-expanded', String(s.rows === 'all'));
}

/** The quick reference's requests: [model, one request per column] for each row. */
function quickRequests(s) {
  const columns = QUICK_COLUMNS[s.mode === 'inference' ? s.runtime : s.mode];
  return QUICK_MODELS.map((id) => models.find((x) => x.id === id)).filter(Boolean)
    .map((m) => [m, columns.map(([field, value]) => requestFor(s, m, { [field]: value }))]);
}

let quickKey = '';
function renderQuick(s) {
  const columns = QUICK_COLUMNS[s.mode === 'inference' ? s.runtime : s.mode];
  // The table does not depend on the chosen model, nor on the option its columns vary.
  const base = requestFor(s, { id: '' });
  delete base[columns[0][0]];
  const key = JSON.stringify([base, s.unit, s.gpu, s.context, s.batch, s.seq_len, s.micro_batch]);
  if (key === quickKey) return;
  quickKey = key;
  const d = device(s.gpu);
  const cap = d ? fitOn(d)?.capacity_bytes ?? NaN : NaN;
  const what = s.mode === 'inference'
    ? `inference with ${RUNTIME_NAMES[s.runtime]} at ${fmt.tokens(num(s.context))} tokens × ${s.batch}`
    : `${MODE_NAMES[s.mode].toLowerCase()} at ${fmt.tokens(num(s.seq_len))} tokens × ${s.micro_batch}`;
  setText($('quick-caption'), `Total memory for ${what}, other options as set above. ` +
    (d ? `✓ fits on your ${d.name} (${fmt.bytes(cap, s.unit)} usable), ✗ does not.` : ''));
  setHtml($('quick-head'), `<tr><th scope="col">Model</th>${columns.map((c) => `<th scope="col" class="num">${fmt.esc(c[2])}</th>`).join('')}</tr>`);
  const body = [];
  for (const [m, requests] of quickRequests(s)) {
    const answers = engine.numbers(m.config, requests);
    const cells = [{ tag: 'th', attrs: { scope: 'row' }, html: `${fmt.esc(m.name)}<span class="row-meta">${fmt.esc(fmt.modelSize(m.parameters, m.active_parameters))}</span>` }];
    answers.forEach((a, i) => {
      if (a.error) {
        cells.push({ tag: 'td', attrs: { class: 'num na', title: a.error.message, 'data-format': columns[i][1], 'data-bytes': '' },
          html: `<span role="img" aria-label="${fmt.esc(a.error.message)}">—</span>` });
        return;
      }
      const fits = a.bytes.total <= cap;
      cells.push({ tag: 'td', attrs: { class: `num ${fits ? 'fits' : 'nofit'}`, title: '', 'data-format': columns[i][1], 'data-bytes': String(a.bytes.total) },
        html: `${fmt.bytes(a.bytes.total, s.unit)} <span class="mark" role="img" aria-label="${fits ? 'fits' : 'does not fit'}">${fits ? '✓' : '✗'}</span>` });
    });
    body.push({ key: `${m.id} ${columns.map((c) => c[1]).join(' ')}`, attrs: {}, cells });
  }
  patchBody($('quick-body'), body);
}

function renderInvalid() {
  const out = $('total');
  setText(out, '—');
  setText($('sticky-value'), '—');
  setText($('sticky-fit'), 'check the highlighted option');
  delete out.dataset.bytes;
  setText($('unit-note'), 'No result until the highlighted input is fixed.');
  for (const id of ['fit-line', 'bar', 'legend', 'notes', 'chart-key', 'quick-head']) setHtml($(id), '');
  setHtml($('chart'), '<p class="hint">No chart until the highlighted option is fixed.</p>');
  for (const id of ['copy-text', 'copy-md']) $(id).disabled = true;
  for (const id of ['fit-body', 'quick-body']) {
    $(id).innerHTML = '';
    delete $(id).dataset.keys;
  }
  fitKey = '';
  quickKey = '';
  adviceKey = '';
  recommendKey = '';
  for (const id of ['h-advice', 'h-recommend']) $(id).parentElement.hidden = true;
  setText($('fit-summary'), '');
  setText($('quick-caption'), '');
}

/** Recomputes everything from the controls (or from `state` when fromUrl). On the first call
 * (`later`), the fit table and quick reference are drawn in tasks of their own after the result,
 * so the page answers before their weight plans are prepared. */
function update({ url = 'push', fromUrl = false, later = false } = {}) {
  if (!fromUrl) state = readControls();
  const s = state;
  const model = models.find((m) => m.id === s.model) ?? models[0];
  if (s.mode === 'inference') {
    const families = RUNTIME_FAMILIES[s.runtime] ?? null;
    const current = engine.formats().find((f) => f.id === s.weights);
    if (!fromUrl && current && families && !families.includes(current.family)) {
      s.weights = RUNTIME_DEFAULT_WEIGHTS[s.runtime];  // keep the pair valid when the runtime changes
    }
    fillWeights(control('weights'), families, s.weights, model.config instanceof ImportedModel ? model.config.weights_format : null);
  } else if (s.mode === 'lora') {
    fillWeights(control('lora_weights'), ['dense', 'fp8', 'bitsandbytes', 'gptq', 'awq'], s.lora_weights);
  } else if (s.mode === 'qlora') {
    fillWeights(control('qlora_weights'), ['bitsandbytes'], s.qlora_weights);
  }
  setVisibility(s);
  setHtml($('model-info'), `${fmt.esc(model.family)} · ${fmt.esc(fmt.modelSize(model.parameters, model.active_parameters))}` +
    (model.max_context ? ` · up to ${fmt.tokens(model.max_context)} tokens` : '') +
    (model.imported ? ` · from ${fmt.esc(model.source)} · ${fmt.esc(model.shareNote)}`
      : ` · <a href="${fmt.esc(model.config_source)}">config.json</a>`));
  clearErrors();
  checkBudget(s);
  const request = requestFor(s, model);
  let result;
  try {
    result = engine.calculate(request, model.config);
  } catch (error) {
    if (!(error instanceof EngineError)) throw error;
    showError(error, s);
    renderInvalid();
    last = null;
    commitUrl(url);
    document.documentElement.dataset.state = 'error';
    return;
  }
  last = { result, request, model, state: s };
  for (const id of ['copy-text', 'copy-md']) if ($(id).disabled) $(id).disabled = false;
  renderTotal(result, s, model);
  renderBreakdown(result, s);
  renderChart(s, model);
  if (later) {
    // One task each: the fit table, the quick reference's weight plans model by model, its table.
    const steps = [() => renderFit(result, s, model), () => renderAdvice(s, model), () => renderRecommend(s, model),
      ...quickRequests(s).map(([m, rs]) => () => engine.numbers(m.config, rs)),
      () => renderQuick(s)];
    const next = () => {
      if (last?.result !== result) return;  // the user changed something: update() drew it all
      steps.shift()();
      if (steps.length) setTimeout(next);
    };
    setTimeout(next);
  } else {
    renderFit(result, s, model);
    renderQuick(s);
    // The planner views cost a few ms (recommend fits 87 devices): drawn in the next task, once
    // for a burst of changes, so typing stays quick.
    clearTimeout(plannerTimer);
    plannerTimer = setTimeout(() => {
      if (last?.result !== result) return;
      renderAdvice(s, model);
      renderRecommend(s, model);
    });
  }
  commitUrl(url);
  document.documentElement.dataset.state = 'ok';
}

// ---------------------------------------------------------------------------------------------
// Modes (tabs), sorting, copying, theme

function selectMode(mode, focus) {
  state.mode = mode;
  for (const tab of document.querySelectorAll('[role="tab"]')) {
    const on = tab.dataset.mode === mode;
    tab.setAttribute('aria-selected', String(on));
    tab.tabIndex = on ? 0 : -1;
    if (on) {
      $('mode-panel').setAttribute('aria-labelledby', tab.id);
      if (focus) tab.focus();
    }
  }
}

function onTabKey(e) {
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  const i = tabs.indexOf(e.target);
  let j = null;
  if (e.key === 'ArrowRight') j = (i + 1) % tabs.length;
  else if (e.key === 'ArrowLeft') j = (i - 1 + tabs.length) % tabs.length;
  else if (e.key === 'Home') j = 0;
  else if (e.key === 'End') j = tabs.length - 1;
  if (j === null) return;
  e.preventDefault();
  selectMode(tabs[j].dataset.mode, true);
  update();
}

function resultText(markdown) {
  if (!last) return '';
  const { result, model, state: s } = last;
  const u = s.unit;
  const inputs = s.mode === 'inference'
    ? `${MODE_NAMES[s.mode]}, ${result.inputs.weights}, ${RUNTIME_NAMES[s.runtime]}, context ${fmt.count(result.inputs.context)} × ${result.inputs.batch}, KV ${result.inputs.kv_dtype}`
    : `${MODE_NAMES[s.mode]}, ${result.inputs.weights}, ${result.inputs.optimizer}, ${result.inputs.precision}, sequence ${fmt.count(result.inputs.seq_len)} × ${result.inputs.micro_batch}`;
  const title = `${model.name} (${fmt.modelSize(result.parameters, result.active_parameters)}): ${inputs}`;
  if (markdown) {
    const rows = result.items.map((i) => `| ${fmt.mdCell(i.label)} | ${fmt.bytes(i.bytes, u)} | ${fmt.mdCell(i.explanation)} |`);
    return [`**${fmt.mdCell(title)}**`, '', '| Component | Memory | Why |', '| --- | ---: | --- |', ...rows,
      `| **Total** | **${fmt.bytes(result.bytes.total, u)}** | ${fmt.UNITS[u].note} |`, '', `[vramcalc](${location.href})`].join('\n');
  }
  const width = Math.max(...result.items.map((i) => i.label.length), 5);
  const lines = result.items.map((i) => `${i.label.padEnd(width)}  ${fmt.bytes(i.bytes, u).padStart(10)}  ${i.explanation}`);
  return [title, '', ...lines, `${'Total'.padEnd(width)}  ${fmt.bytes(result.bytes.total, u).padStart(10)}  (${fmt.UNITS[u].note})`, '', location.href].join('\n');
}

async function copy(text, what) {
  const status = $('copy-status');
  try {
    await navigator.clipboard.writeText(text);
    status.textContent = `Copied ${what}.`;
  } catch {
    status.textContent = `Copying was blocked by the browser; select and copy the ${what} by hand.`;
  }
  setTimeout(() => { status.textContent = ''; }, 4000);
}

const THEMES = ['system', 'light', 'dark'];
function applyTheme(theme) {
  if (theme === 'system') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
  const next = THEMES[(THEMES.indexOf(theme) + 1) % THEMES.length];
  $('theme-text').textContent = theme[0].toUpperCase() + theme.slice(1);
  $('theme').setAttribute('aria-label', `Colour theme: ${theme === 'system' ? 'follows the system' : theme}. Switch to ${next}.`);
}


// ---------------------------------------------------------------------------------------------
// Your own model: dropped or picked files, a pasted config.json, a Hugging Face repository
// (web/modelfiles.js reads only headers). Imported models join the picker like presets.

/** Longest config.json (base64url) put in a link: whole URLs stay under the 8 KB request-line
 * buffers common web servers use (nginx large_client_header_buffers, 8k by default). */
const MAX_SHARE_CHARS = 6000;
let importCount = 0;
let hubToken = '';  // in memory only: never stored, never in a link

function toBase64Url(text) {
  let bin = '';
  for (const b of new TextEncoder().encode(text)) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text) {
  const bin = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
}

/** Adds a model to the picker's list (replacing one with the same id) and returns it. */
function addModel(entry) {
  const i = models.findIndex((m) => m.id === entry.id);
  if (i >= 0) models.splice(i, 1, entry);
  else models.push(entry);
  return entry;
}

/**
 * A model from config.json (an object): checked by the core first, so a bad config is reported
 * where it was given. `id` 'custom' is the one a link carries.
 */
function configModel(config, source, id = `custom-${++importCount}`) {
  const result = engine.calculate({ mode: 'inference' }, config);
  return {
    id, name: `${source}${config.model_type ? ` (${config.model_type})` : ''}`, family: 'Your models', source,
    parameters: result.parameters, active_parameters: result.active_parameters,
    max_context: config.max_position_embeddings ?? config.text_config?.max_position_embeddings ?? null,
    config, imported: 'config', ...linkFor(config),
  };
}

/** { share, shareNote }: the `config` link parameter of a config.json, or '' when too long. */
function linkFor(config) {
  const text = JSON.stringify(config);
  const share = toBase64Url(text);
  return share.length <= MAX_SHARE_CHARS ? { share, shareNote: 'the link to this page carries its config.json' }
    : { share: '', shareNote: `its config.json (${fmt.count(text.length)} characters) is too long for a link, so links show the default model` };
}

/** The model a link's `config` parameter carries, or null when it is not a valid config. */
function modelFromLink(param) {
  try {
    return addModel(configModel(JSON.parse(fromBase64Url(param)), 'config.json from the link', 'custom'));
  } catch {
    return null;  // update() shows the default model; the import panel is the place for errors
  }
}

function fileModel(imported, source) {
  return {
    id: `file-${++importCount}`, name: imported.name || source, family: 'Your models', source,
    parameters: imported.parameters, active_parameters: imported.active_parameters,
    max_context: imported.max_context || null, config: imported, imported: 'files', share: '',
    shareNote: 'read from your files, which a link cannot carry (links show the default model)',
  };
}

/** Selects an imported model; a model file's own weights become the chosen format. */
function useModel(entry, runtime = null) {
  state = readControls();
  state.model = entry.id;
  if (entry.imported === 'files') {
    state.runtime = runtime ?? state.runtime;
    state.weights = 'native';
  }
  writeControls(state);
  update();
}

function importStatus(text, isError = false) {
  const box = $('import-status');
  box.className = `import-status${isError ? ' error' : ''}`;
  box.textContent = text;
}

async function runImport(what, job) {
  importStatus(`Reading ${what}…`);
  let mf;
  try {
    mf = await import('./modelfiles.js');
    const { entry, runtime, note } = await job(mf);
    useModel(entry, runtime);
    importStatus(`Loaded ${entry.name}: ${fmt.modelSize(entry.parameters, entry.active_parameters)}${note ? `; ${note}` : ''}.`);
  } catch (error) {
    if (!(mf && error instanceof mf.ImportError) && !(error instanceof EngineError)) {
      importStatus(`Could not read ${what}: ${error.message ?? error}`, true);
      return;
    }
    importStatus(error.message, true);
    if (error.needsToken) {
      $('import-token-row').hidden = false;
      $('import-token').focus();
    }
  }
}

/** What runImport needs for a model read from files. A GGUF runs in llama.cpp; llama.cpp cannot
 * load safetensors, so it gives way to vLLM. */
function storedResult(entry, read) {
  const imported = entry.config;
  const runtime = imported.weights_format === 'gguf-file' ? 'llamacpp' : state.runtime === 'llamacpp' ? 'vllm' : null;
  return { entry, runtime, note: `weights ${fmt.bytes(imported.weights_bytes, state.unit)} as stored; ${read}` };
}

function importFileList(files) {
  const list = [...files];
  if (!list.length) return;
  const total = list.reduce((n, f) => n + f.size, 0);
  runImport(list.length === 1 ? list[0].name : `${list.length} files`, async (mf) => {
    const out = await mf.importFiles(engine, list);
    const read = `read ${fmt.bytes(out.bytesRead, 'MB')} of ${fmt.bytes(total, 'GB')}`;
    if (out.model) {
      return storedResult(addModel(fileModel(out.model, out.source)), read);
    }
    return { entry: addModel(configModel(out.config, out.source)), note: read };
  });
}

/** A local hub mirror from the first URL (?hub=, for tests and offline setups), loopback only so
 * that a link cannot send a token to another host; null = the hub itself. */
const LOCAL_HUB = (() => {
  const hub = new URLSearchParams(location.search).get('hub');
  return hub && /^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?$/.test(hub) ? hub : null;
})();

function importFromHub() {
  const repo = $('import-repo').value;
  hubToken = $('import-token').value.trim();
  const ggufFile = $('import-gguf-row').hidden ? undefined : $('import-gguf').value || undefined;
  runImport(repo.trim() || 'the repository', async (mf) => {
    const out = await mf.loadFromHub(engine, repo, {
      endpoint: LOCAL_HUB ?? mf.DEFAULT_HUB, token: hubToken, ggufFile, online: () => navigator.onLine,
    });
    if (out.ggufFiles.length > 1) {
      const select = $('import-gguf');
      select.innerHTML = out.ggufFiles.map((f) => `<option>${fmt.esc(f)}</option>`).join('');
      select.value = ggufFile ?? mf.preferredGguf(out.ggufFiles);
      $('import-gguf-row').hidden = false;
    }
    const read = `read ${fmt.bytes(out.bytesRead, 'MB')} from the hub`;
    if (out.model) {
      const entry = fileModel(out.model, out.model.source || out.repo);
      if (out.config) {
        // A safetensors checkpoint: its config.json still travels in a link (without the bytes).
        const link = linkFor(out.config);
        Object.assign(entry, { share: link.share, shareNote: link.share
          ? 'the link to this page carries its config.json (the weights then follow torch_dtype, not the files)' : link.shareNote });
      }
      return storedResult(addModel(entry), read);
    }
    return { entry: addModel(configModel(out.config, out.repo)), note: read };
  });
}

function startImport() {
  if (LOCAL_HUB) $('import-hub-host').textContent = `${LOCAL_HUB} (a local mirror)`;
  $('import-files').addEventListener('change', (e) => {
    importFileList(e.target.files);
    e.target.value = '';  // the same file again is a new import
  });
  $('import-paste-go').addEventListener('click', () => {
    runImport('the pasted config.json', async (mf) => ({
      entry: addModel(configModel(mf.parseConfigText($('import-paste').value, 'pasted config.json'), 'pasted config.json')),
    }));
  });
  $('import-hub-go').addEventListener('click', importFromHub);
  $('import-repo').addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      importFromHub();
    }
  });
  // Files dropped anywhere on the page are imported (the browser would otherwise open them).
  let depth = 0;
  const dragging = (on) => document.body.classList.toggle('dragging', on);
  document.addEventListener('dragenter', (e) => {
    if (![...(e.dataTransfer?.types ?? [])].includes('Files')) return;
    depth += 1;
    dragging(true);
    $('import').open = true;
  });
  document.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (!depth) dragging(false);
  });
  document.addEventListener('dragover', (e) => {
    if ([...(e.dataTransfer?.types ?? [])].includes('Files')) e.preventDefault();
  });
  document.addEventListener('drop', (e) => {
    if (!e.dataTransfer?.files?.length) return;
    e.preventDefault();
    depth = 0;
    dragging(false);
    importFileList(e.dataTransfer.files);
  });
}



// ---------------------------------------------------------------------------------------------
// The hardware planner's answers: what would make it fit (advise) and the cheapest hardware
// (recommend), both from the core (core/include/vram/planner.h).

/** Page state keys of the request fields an advice's "apply" sets. */
function stateKeyOf(field, s) {
  if (field === 'weights') return s.mode === 'lora' ? 'lora_weights' : s.mode === 'qlora' ? 'qlora_weights' : 'weights';
  if (field === 'attn_impl' && s.mode !== 'inference') return 'train_attn';
  if (field === 'mode') return 'mode';
  return field in DEFAULTS && !PAGE_ONLY.has(field) ? field : null;
}

/** The state an advice leads to, or null when the page cannot express it (offloading layers, more
 * inference GPUs). */
function appliedState(apply, s) {
  if (!apply || Object.keys(apply).length === 0) return null;
  const next = { ...s, mode: apply.mode ?? s.mode };
  for (const [field, value] of Object.entries(apply)) {
    if (field === 'mode') continue;
    if (field === 'gpus' && next.mode !== 'inference') continue;  // the layout (dp x tp x pp) sets it
    const key = stateKeyOf(field, next);
    if (!key) return null;
    next[key] = typeof DEFAULTS[key] === 'boolean' ? Boolean(value) : String(value);
  }
  return next;
}

let adviceKey = '';
let adviceShown = [];
function renderAdvice(s, model) {
  const section = $('h-advice').parentElement;
  const d = device(s.gpu);
  const key = JSON.stringify([last?.request, s.gpu, s.unit, model.id]);
  if (key === adviceKey) return;
  adviceKey = key;
  adviceShown = [];
  let answer = null;
  if (d && last) {
    try {
      answer = engine.plan(last.request, model.config, { action: 'advise', gpu: d.id, gpus: worldSizeFor(s), headroom: 0.1 });
    } catch (error) {
      if (!(error instanceof EngineError)) throw error;
      answer = { error };
    }
  }
  const list = answer?.advice ?? [];
  const tight = answer && !answer.error && list.length > 0;
  if (section.hidden === tight) section.hidden = !tight;
  if (!tight) {
    setHtml($('advice-list'), '');
    setText($('advice-caption'), '');
    return;
  }
  const headroom = answer.current.headroom_bytes;
  setText($('advice-caption'), answer.fits_now
    ? `It fits on ${d.name}, but with ${fmt.bytes(Math.max(0, headroom), s.unit)} to spare, less than the 10% a runtime's growth and other programs need. Ranked by least loss first:`
    : `It needs ${fmt.bytes(-headroom, s.unit)} more than ${d.name} holds. Changes that would make it fit, ranked by least loss first:`);
  const items = list.slice(0, 8);
  adviceShown = items.map((a) => appliedState(a.apply, s));
  setHtml($('advice-list'), items.map((a, i) => {
    const fits = a.fits ? `<span class="fits">✓ fits, ${fmt.bytes(Math.max(0, a.headroom_bytes), s.unit)} to spare</span>`
      : '<span class="nofit">✗ not enough alone</span>';
    const apply = adviceShown[i] ? ` <button type="button" class="btn" data-advice="${i}">Apply</button>` : '';
    return `<li data-kind="${fmt.esc(a.kind)}" data-saves="${a.saves_bytes}"><span class="advice-head"><span class="advice-change">${fmt.esc(a.change)}</span>` +
      `<span>saves ${fmt.bytes(a.saves_bytes, s.unit)}</span>${fits}${apply}</span>` +
      `<span class="advice-cost">${fmt.esc(sentence(a.cost))}</span></li>`;
  }).join(''));
}

/** GPUs of the current layout: the training layout's world size, one for inference. */
function worldSizeFor(s) {
  return s.mode === 'inference' ? 1 : worldSize(s);
}

let recommendKey = '';
let plannerTimer = 0;
function renderRecommend(s, model) {
  const section = $('h-recommend').parentElement;
  const key = JSON.stringify([last?.request, s.unit, model.id]);
  if (key === recommendKey) return;
  recommendKey = key;
  $('recommend').dataset.for = JSON.stringify(last?.request ?? null);  // for tests and the benchmark
  let answer = null;
  if (last && s.mode === 'inference') {
    try {
      answer = engine.plan(last.request, model.config, { action: 'recommend', headroom: 0.1, limit: 5 });
    } catch (error) {
      if (!(error instanceof EngineError)) throw error;
    }
  }
  if (section.hidden === Boolean(answer)) section.hidden = !answer;
  if (!answer) {
    setHtml($('recommend'), '');
    return;
  }
  setText($('recommend-caption'), `Devices with a known price that hold this workload with at least 10% of their memory to spare, ` +
    `from ${answer.devices_considered} in the database; tokens/s from the memory-bandwidth roofline at the full context.`);
  const column = (title, list, empty) => `<div><h3>${title}</h3>` + (list.length ? `<ol>${list.map((r) =>
    `<li data-gpu="${fmt.esc(r.gpu)}" data-gpus="${r.gpus}"><strong>${r.gpus > 1 ? `${r.gpus} × ` : ''}${fmt.esc(r.name)}</strong> · ` +
    `${fmt.usd(r.price_usd)} · ${r.decode_tokens_per_s === null ? '—' : `${fmt.sig3(r.decode_tokens_per_s)} tokens/s`}` +
    `<span class="why">${fmt.esc(sentence(r.reason))}</span></li>`).join('')}</ol>` : `<p class="hint">${empty}</p>`) + '</div>';
  setHtml($('recommend'), column('One device', answer.single_device, 'No single device with a price holds it.') +
    column('Several devices', answer.multi_device, 'No multi-device option within 8 devices.') +
    column('Most tokens/s per dollar', answer.best_value, 'No priced option fits.'));
}

// ---------------------------------------------------------------------------------------------
// Embedding: the iframe mode (?embed=1) and the Embed dialog's snippets

/** In an iframe, tells the host page our height whenever it changes (blog.js-style hosts set it). */
function startEmbedMode() {
  if (state.embed !== '1') return;
  $('embed-full').href = toQuery({ ...state, embed: '0' });
  if (window.parent === window) return;
  let sent = 0;
  const post = () => {
    const height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height === sent) return;
    sent = height;
    window.parent.postMessage({ type: 'vramcalc:height', height }, '*');
  };
  new ResizeObserver(post).observe(document.documentElement);
  post();
}

/** Widget attributes for the current state (the names web/vram-widget.js reads). */
function widgetAttributes(s) {
  const a = { model: s.model };
  if (s.mode !== 'inference') {
    a.mode = s.mode;
    a['seq-len'] = s.seq_len;
    if (s.mode !== 'train') a.weights = s.mode === 'lora' ? s.lora_weights : s.qlora_weights;
  } else {
    a.runtime = s.runtime;
    a.weights = s.weights;
    a.context = s.context;
    if (s.batch !== DEFAULTS.batch) a.batch = s.batch;
    if (s.kv_dtype !== DEFAULTS.kv_dtype) a['kv-dtype'] = s.kv_dtype;
  }
  a.gpu = s.gpu;
  if (s.unit !== 'GB') a.unit = s.unit;
  return a;
}

function embedSnippets() {
  const s = state;
  const model = models.find((m) => m.id === s.model);
  const site = new URL('./', location.href);
  const attrs = Object.entries(widgetAttributes(s)).map(([k, v]) => ` ${k}="${fmt.esc(String(v))}"`).join('');
  const widget = model?.imported ? '' : `<script type="module" src="${new URL('vram-widget.js', site)}"></script>\n` +
    `<vram-calculator${attrs}></vram-calculator>`;
  const src = new URL(toQuery({ ...s, embed: '1' }), site);
  // Spell out the main choices, so the snippet keeps its meaning if the app's defaults change.
  if (!model?.imported) src.searchParams.set('model', s.model);
  if (s.mode === 'inference') for (const k of ['runtime', 'weights', 'context']) src.searchParams.set(k, s[k]);
  const title = `vramcalc: memory for ${model?.name ?? s.model}`;
  const iframe = model?.imported === 'files' ? '' :
    `<iframe src="${fmt.esc(src.href)}" title="${fmt.esc(title)}" width="100%" height="560" loading="lazy" frameborder="0"></iframe>\n` +
    '<script>\n' +
    '  // Sizes the iframe to its content (vramcalc posts its height).\n' +
    "  addEventListener('message', (e) => {\n" +
    `    if (e.origin !== '${site.origin}' || e.data?.type !== 'vramcalc:height') return;\n` +
    "    for (const f of document.querySelectorAll('iframe')) if (f.contentWindow === e.source) f.height = String(e.data.height);\n" +
    '  });\n' +
    '</script>';
  let note = 'Both show the state you have set here; readers can change it.';
  if (model?.imported === 'files') note = 'A model read from your files cannot be embedded: choose a preset.';
  else if (model?.imported) note = 'The widget takes preset models only; the iframe carries this config.json in its address.';
  return { widget, iframe, note };
}

function startEmbedDialog() {
  const dialog = $('embed-dialog');
  $('embed-open').addEventListener('click', () => {
    const { widget, iframe, note } = embedSnippets();
    $('embed-widget').value = widget;
    $('embed-iframe').value = iframe;
    $('embed-copy-widget').disabled = !widget;
    $('embed-copy-iframe').disabled = !iframe;
    $('embed-note').textContent = note;
    dialog.showModal();
  });
  $('embed-copy-widget').addEventListener('click', () => copy($('embed-widget').value, 'widget code'));
  $('embed-copy-iframe').addEventListener('click', () => copy($('embed-iframe').value, 'iframe code'));
}

// ---------------------------------------------------------------------------------------------
// Start

function fillDevices() {
  const names = { nvidia: 'NVIDIA', amd: 'AMD', intel: 'Intel', apple: 'Apple silicon', cpu: 'CPU (system RAM)' };
  const groups = new Map();
  for (const d of devices) {
    if (!groups.has(d.vendor)) groups.set(d.vendor, []);
    groups.get(d.vendor).push(d);
  }
  control('gpu').innerHTML = [...groups].map(([v, list]) => `<optgroup label="${fmt.esc(names[v] ?? v)}">` +
    list.map((d) => `<option value="${fmt.esc(d.id)}">${fmt.esc(shortName(d))} — ${fmt.bytes(d.memory_bytes, 'GiB')}</option>`).join('') +
    '</optgroup>').join('');
}

async function start() {
  const json = (url) => fetch(url).then((r) => {
    if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
    return r.json();
  });
  let hw;
  let presets;
  [engine, presets, hw] = await Promise.all([loadEngine(), json('presets/models.json'), json('presets/hardware.json')]);
  models = presets.models;
  devices = hw.devices;
  engine.setHardware(hw);
  loadRuntimes();
  fillDevices();
  picker = new ModelPicker($('model-search'), $('model-list'), models, (id) => {
    const before = models.find((m) => m.id === state.model);
    state.model = id;
    if (before?.imported === 'files' && !models.find((m) => m.id === id)?.imported) {
      // 'native' meant the file's own weights: a preset gets the runtime's usual format.
      state = readControls();
      state.model = id;
      if (state.weights === 'native') state.weights = RUNTIME_DEFAULT_WEIGHTS[state.runtime];
      writeControls(state);
    }
    update();
  });
  startImport();
  startEmbedDialog();
  state = fromQuery(location.search);
  writeControls(state);
  await new Promise((resolve) => setTimeout(resolve));  // let the page paint before the first result
  for (const id of ['h-chart', 'h-fit', 'h-quick']) $(id).parentElement.hidden = false;
  $('advice-list').addEventListener('click', (e) => {
    const next = adviceShown[Number(e.target.closest('[data-advice]')?.dataset.advice)];
    if (!next) return;
    state = next;
    writeControls(state);
    update({ fromUrl: true });
  });
  document.querySelector('.actions').hidden = false;
  chartWidth = $('chart').clientWidth || 600;
  update({ fromUrl: true, url: 'none', later: true });
  performance.mark('vramcalc:first-result');
  startEmbedMode();
  while (!$('quick-body').rows.length && last) await new Promise((resolve) => setTimeout(resolve, 5));
  document.documentElement.dataset.ready = 'true';

  // Typing recomputes at once; the URL gets a history entry when the value is committed.
  const onInput = (e) => {
    if (e.target.id !== 'model-search' && !('import' in e.target.dataset)) update({ url: 'none' });
  };
  const onChange = (e) => {
    if (e.target.id === 'model-search' || 'import' in e.target.dataset) return;
    const next = readControls();
    if (Object.keys(next).every((k) => next[k] === state[k])) commitUrl('push');
    else update();
  };
  form.addEventListener('input', onInput);
  form.addEventListener('change', onChange);
  for (const el of document.querySelectorAll('input[name="unit"], #f-vendor, #f-budget')) {
    el.addEventListener('input', onInput);
    el.addEventListener('change', onChange);
  }
  for (const tab of document.querySelectorAll('[role="tab"]')) {
    tab.addEventListener('click', () => {
      selectMode(tab.dataset.mode, false);
      update();
    });
    tab.addEventListener('keydown', onTabKey);
  }
  for (const chip of document.querySelectorAll('.chip[data-set]')) {
    chip.addEventListener('click', () => {
      control(chip.dataset.set).value = chip.dataset.value;
      update();
    });
  }
  for (const th of document.querySelectorAll('#fit-table th[data-sort]')) {
    th.querySelector('button').addEventListener('click', () => {
      const key = th.dataset.sort;
      state.dir = state.sort === key && state.dir === 'asc' ? 'desc' : 'asc';
      state.sort = key;
      update({ fromUrl: true });
    });
  }
  $('fit-more').addEventListener('click', () => {
    state.rows = state.rows === 'all' ? 'top' : 'all';
    update({ fromUrl: true });
  });
  window.addEventListener('popstate', () => {
    pendingUrl = null;
    state = fromQuery(location.search);
    writeControls(state);
    update({ fromUrl: true, url: 'none' });
  });
  $('copy-text').addEventListener('click', () => copy(resultText(false), 'text'));
  $('copy-md').addEventListener('click', () => copy(resultText(true), 'Markdown table'));
  $('copy-link').addEventListener('click', () => copy(location.href, 'link'));
  let theme = 'system';
  try { theme = localStorage.getItem('vramcalc-theme') ?? 'system'; } catch { /* blocked */ }
  applyTheme(THEMES.includes(theme) ? theme : 'system');
  $('theme').addEventListener('click', () => {
    const current = document.documentElement.dataset.theme ?? 'system';
    const next = THEMES[(THEMES.indexOf(current) + 1) % THEMES.length];
    applyTheme(next);
    try { localStorage.setItem('vramcalc-theme', next); } catch { /* blocked */ }
  });
  new ResizeObserver(() => {
    const w = $('chart').clientWidth;
    if (w && Math.abs(w - chartWidth) > 8) {
      chartWidth = w;
      if (last) renderChart(last.state, last.model);
    }
  }).observe($('chart'));
}

// For tests and the benchmark: the current request and result.
globalThis.vramcalc = { get last() { return last; }, get state() { return state; }, resultText };

start().catch((error) => {
  $('total').textContent = 'The calculator could not start.';
  const summary = $('error-summary');
  summary.textContent = String(error.message ?? error);
  summary.hidden = false;
  throw error;
});
