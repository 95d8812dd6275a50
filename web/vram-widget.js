// <vram-calculator>: the vramcalc estimate as one custom element for blog posts and docs.
//
//   <script type="module" src="https://example.org/vramcalc/vram-widget.js"></script>
//   <vram-calculator model="llama-3.1-8b" weights="q4_k_m" context="32768"></vram-calculator>
//
// Attributes (a bad value shows a message inside the widget naming the attribute and what it
// accepts; nothing is thrown or logged):
//   model     preset id (presets/models.json), default llama-3.1-8b
//   mode      inference (default) | lora | qlora | train
//   runtime   llamacpp (default) | vllm | transformers | theoretical      (inference)
//   weights   format id; default q4_k_m for llamacpp, bf16 for the others, bf16 for lora, nf4-dq for qlora
//   context   tokens, default 8192; batch, default 1; kv-dtype, default f16      (inference)
//   seq-len   tokens per training sequence, default 2048                          (lora, qlora, train)
//   gpu       device id (presets/hardware.json) to highlight; devices: comma-separated ids of the cards
//   unit      GB (10^9 bytes, default) | GiB (2^30 bytes);  theme: auto (default) | light | dark
// Changing an attribute recomputes; the controls inside set the same attributes. el.result is the
// core's last answer (bytes.total, items, ...), or null.
//
// Styling: the widget lives in a shadow root, so page rules do not reach inside and its rules do
// not leak out. Theme it with custom properties on the element (or any ancestor):
//   --vram-bg, --vram-fg, --vram-muted, --vram-border, --vram-accent, --vram-ok, --vram-bad,
//   --vram-font, --vram-font-size (default 15px), --vram-radius (default 10px),
//   --vram-c-weights, --vram-c-kv_cache, --vram-c-activations, --vram-c-overhead,
//   --vram-c-gradients, --vram-c-optimizer (bar colours); and ::part(container|total|bar|card|link|error).
//
// Everything loads relative to this file: engine.js, vramcalc.js + vramcalc.wasm (one instance per
// page, shared by every widget), presets/models.json and presets/hardware.json (fetched once).
// Host page CSP: script-src <widget origin> 'wasm-unsafe-eval'; connect-src <widget origin>.
// No style-src is needed (constructable stylesheet), no img-src, no eval. From another origin the
// widget's server must send Access-Control-Allow-Origin (module scripts, wasm and presets use CORS).

import { EngineError, loadEngine } from './engine.js';
import * as fmt from './format.js';
import { barSvg, CATEGORIES } from './charts.js';

const CATEGORY_NAMES = Object.fromEntries(CATEGORIES);

const HERE = import.meta.url;
const DEFAULT_DEVICES = ['rtx-4060-ti-16gb', 'rtx-4090', 'rtx-5090', 'apple-m4-max-40c-128gb', 'h100-sxm'];
const MODE_NAMES = { inference: 'Inference', lora: 'LoRA fine-tuning', qlora: 'QLoRA fine-tuning', train: 'Full training' };
// A short list per runtime or mode (the full page has all of them); the current value is always kept.
const WEIGHTS = {
  llamacpp: ['iq2_xs', 'q2_k', 'iq3_xxs', 'q3_k_m', 'iq4_xs', 'q4_0', 'q4_k_s', 'q4_k_m', 'q5_k_m', 'q6_k', 'q8_0', 'gguf-bf16', 'gguf-f16'],
  vllm: ['bf16', 'fp16', 'fp8-e4m3', 'gptq-8bit-g128', 'gptq-4bit-g128', 'awq-4bit-g128', 'nf4', 'mxfp4'],
  transformers: ['bf16', 'fp16', 'fp8-e4m3', 'int8', 'nf4', 'nf4-dq', 'gptq-4bit-g128', 'awq-4bit-g128'],
  theoretical: ['fp32', 'bf16', 'fp8-e4m3', 'q8_0', 'q4_k_m', 'nf4'],
  lora: ['bf16', 'fp16', 'int8', 'fp8-e4m3'],
  qlora: ['nf4-dq', 'nf4', 'fp4-dq', 'fp4'],
};
/** The base format of the training modes (the runtimes' own defaults come from the core). */
const MODE_WEIGHTS_DEFAULT = { lora: 'bf16', qlora: 'nf4-dq' };
/** The core's runtime profiles by id ({ name, default_weights, weight_families, ... }), and each
 * format's family: read once from the engine. */
const runtimeInfo = new Map();
const formatFamily = new Map();
const CONTEXTS = [2048, 4096, 8192, 16384, 32768, 65536, 131072, 262144];
const SEQ_LENS = [512, 1024, 2048, 4096, 8192, 16384, 32768];
/** Core request fields named in its errors -> the attribute that sets them. */
const ATTR_OF = { model: 'model', mode: 'mode', runtime: 'runtime', weights: 'weights', context: 'context',
  batch: 'batch', kv_dtype: 'kv-dtype', seq_len: 'seq-len' };

const CSS = `
:host { display: block; }
:host([hidden]) { display: none; }
[hidden] { display: none !important; }
.w {
  all: initial; display: block; box-sizing: border-box; text-align: start;
  --_bg: #fff; --_fg: #1b1f24; --_muted: #5b6470; --_border: #d3d8df; --_field: #f5f6f8;
  --_accent: #2456c7; --_ok: #17793a; --_bad: #b3261e;
  --_w: #2f6fdf; --_kv: #e07b00; --_act: #1e9e63; --_ov: #8a56c9; --_gr: #d0416b; --_opt: #0f8f9a;
  color-scheme: light;
  font: 400 var(--vram-font-size, 15px)/1.45 var(--vram-font, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif);
  color: var(--vram-fg, var(--_fg)); background: var(--vram-bg, var(--_bg));
  border: 1px solid var(--vram-border, var(--_border)); border-radius: var(--vram-radius, 10px);
  padding: .9em 1em;
}
@media (prefers-color-scheme: dark) {
  :host(:not([theme=light])) .w {
    --_bg: #17191e; --_fg: #e6e8eb; --_muted: #a3abb6; --_border: #3a404a; --_field: #22262d;
    --_accent: #7fa8ff; --_ok: #4cc47a; --_bad: #ff8a80; color-scheme: dark;
    --_w: #5b8ef0; --_kv: #f0a040; --_act: #3dbb7d; --_ov: #a983dc; --_gr: #e8678e; --_opt: #3cb8c2;
  }
}
:host([theme=dark]) .w {
  --_bg: #17191e; --_fg: #e6e8eb; --_muted: #a3abb6; --_border: #3a404a; --_field: #22262d;
  --_accent: #7fa8ff; --_ok: #4cc47a; --_bad: #ff8a80; color-scheme: dark;
  --_w: #5b8ef0; --_kv: #f0a040; --_act: #3dbb7d; --_ov: #a983dc; --_gr: #e8678e; --_opt: #3cb8c2;
}
*, *::before, *::after { box-sizing: border-box; }
p, ul { margin: 0; padding: 0; }
ul { list-style: none; }
.head { display: flex; flex-wrap: wrap; align-items: baseline; gap: .2em .6em; margin-bottom: .6em; }
.name { font-weight: 650; font-size: 1.1em; }
.size, .sub, .note, .cap { color: var(--vram-muted, var(--_muted)); font-size: .87em; }
.controls { display: flex; flex-wrap: wrap; gap: .5em .8em; margin-bottom: .7em; }
label { display: flex; flex-direction: column; gap: .15em; font-size: .8em; color: var(--vram-muted, var(--_muted)); }
select {
  font: inherit; font-size: 1.2em; color: var(--vram-fg, var(--_fg)); background: var(--_field);
  border: 1px solid var(--vram-border, var(--_border)); border-radius: calc(var(--vram-radius, 10px) * .6);
  padding: .25em .4em; min-height: 2.1em; margin: 0;
}
select:focus-visible, a:focus-visible { outline: 2px solid var(--vram-accent, var(--_accent)); outline-offset: 2px; }
.sum { display: flex; flex-wrap: wrap; align-items: baseline; gap: .2em .6em; margin-bottom: .4em; }
.total { font-size: 1.9em; font-weight: 700; font-variant-numeric: tabular-nums; }
.bar svg { display: block; width: 100%; height: 1.6em; border-radius: .35em; overflow: hidden; }
.seg { stroke: var(--vram-bg, var(--_bg)); stroke-width: 1.5px; vector-effect: non-scaling-stroke; }
.seg.alt { opacity: .75; }
.legend { display: flex; flex-wrap: wrap; gap: .15em 1em; margin: .45em 0 .8em; font-size: .85em; }
.legend li { display: flex; align-items: center; gap: .35em; }
.dot { display: inline-block; width: .75em; height: .75em; border-radius: 2px; }
.c-weights { fill: var(--vram-c-weights, var(--_w)); background: var(--vram-c-weights, var(--_w)); }
.c-kv_cache { fill: var(--vram-c-kv_cache, var(--_kv)); background: var(--vram-c-kv_cache, var(--_kv)); }
.c-activations { fill: var(--vram-c-activations, var(--_act)); background: var(--vram-c-activations, var(--_act)); }
.c-overhead { fill: var(--vram-c-overhead, var(--_ov)); background: var(--vram-c-overhead, var(--_ov)); }
.c-gradients { fill: var(--vram-c-gradients, var(--_gr)); background: var(--vram-c-gradients, var(--_gr)); }
.c-optimizer { fill: var(--vram-c-optimizer, var(--_opt)); background: var(--vram-c-optimizer, var(--_opt)); }
.fits { display: grid; grid-template-columns: repeat(auto-fill, minmax(7.4em, 1fr)); gap: .45em; margin-bottom: .7em; }
.card {
  display: flex; flex-direction: column; padding: .45em .6em; font-size: .85em;
  border: 1px solid var(--vram-border, var(--_border)); border-radius: calc(var(--vram-radius, 10px) * .6);
}
.card.mine { border-color: var(--vram-accent, var(--_accent)); box-shadow: inset 0 0 0 1px var(--vram-accent, var(--_accent)); }
.dev { font-weight: 600; }
.ok .verdict { color: var(--vram-ok, var(--_ok)); }
.no .verdict { color: var(--vram-bad, var(--_bad)); }
.errors p { color: var(--vram-bad, var(--_bad)); margin: .3em 0; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .92em; }
details { margin-top: .2em; font-size: .85em; color: var(--vram-muted, var(--_muted)); }
summary { cursor: pointer; }
.foot { display: flex; flex-wrap: wrap; justify-content: space-between; gap: .3em 1em; font-size: .87em; }
a { color: var(--vram-accent, var(--_accent)); text-decoration: underline; text-underline-offset: 2px; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;

let sheet = null;
/** One constructable stylesheet for every instance: no inline <style>, so style-src may stay strict. */
function adoptStyles(root) {
  try {
    sheet ??= new CSSStyleSheet();
    if (sheet.cssRules.length === 0) sheet.replaceSync(CSS);
    root.adoptedStyleSheets = [sheet];
  } catch {  // a browser without constructable stylesheets (Safari < 16.4)
    const style = document.createElement('style');
    style.textContent = CSS;
    root.append(style);
  }
}

let presets = null;
/** Models and devices, fetched once for all instances. */
function loadPresets() {
  presets ??= Promise.all(['models', 'hardware'].map(async (name) => {
    const r = await fetch(new URL(`presets/${name}.json`, HERE));
    if (!r.ok) throw new Error(`presets/${name}.json: HTTP ${r.status}`);
    return r.json();
  })).then(([m, h]) => ({
    models: new Map(m.models.map((x) => [x.id, x])),
    devices: new Map(h.devices.map((d) => [d.id, d])),
    hardware: h,
  }));
  presets.catch(() => { presets = null; });  // let a later instance try again
  return presets;
}

/** A whole number typed in an attribute, or the text itself (the core then names the error). */
function num(text) {
  const t = text.trim();
  return /^\d{1,9}$/.test(t) ? Number(t) : t;
}

function shortName(d) {
  return d.name.replace(/^NVIDIA (GeForce )?/, '').replace(/^Apple /, '').replace(/ \(\d+-core GPU\)/, '');
}

const TEMPLATE = `<div class="w" part="container" role="group" data-state="loading">
  <p class="head"><span class="name"></span><span class="size"></span></p>
  <div class="controls" hidden>
    <label><span class="ctx-label">Context</span><select class="ctx"></select></label>
    <label class="weights-field">Weights<select class="weights" data-attr="weights"></select></label>
    <label class="runtime-field">Runtime<select class="runtime" data-attr="runtime"></select></label>
  </div>
  <div class="result" hidden>
    <p class="sum" aria-live="polite" aria-atomic="true"><span class="sr">GPU memory needed: </span><span class="total" part="total"></span><span class="sub"></span></p>
    <div class="bar" part="bar"></div>
    <ul class="legend"></ul>
    <ul class="fits" aria-label="Fits on"></ul>
  </div>
  <div class="errors" role="alert"></div>
  <p class="loading">Loading the calculator…</p>
  <p class="foot"><a class="open" part="link" target="_blank" rel="noopener">Open in vramcalc<span class="sr"> (new tab)</span></a><span class="note"></span></p>
</div>`;

class VramCalculator extends HTMLElement {
  static observedAttributes = ['model', 'mode', 'runtime', 'weights', 'context', 'batch', 'kv-dtype', 'seq-len',
    'gpu', 'devices', 'unit', 'theme'];

  #root;
  #el = {};
  #queued = false;
  #result = null;

  constructor() {
    super();
    this.#root = this.attachShadow({ mode: 'open' });
    adoptStyles(this.#root);
    const box = document.createElement('div');
    box.innerHTML = TEMPLATE;
    this.#root.append(box.firstElementChild);
    for (const name of ['w', 'name', 'size', 'controls', 'ctx', 'ctx-label', 'weights', 'weights-field', 'runtime',
      'runtime-field', 'result', 'total', 'sub', 'bar', 'legend', 'fits', 'errors', 'loading', 'open', 'note']) {
      this.#el[name] = this.#root.querySelector(`.${name}`);
    }
    // The controls set attributes, so the attributes stay the one source of truth.
    this.#el.controls.addEventListener('change', (e) => {
      const select = e.target;
      if (select === this.#el.runtime) this.#switchRuntime(select.value);
      else this.setAttribute(select.dataset.attr, select.value);
    });
  }

  /** The core's last answer (see engine.d.ts Result), or null. */
  get result() {
    return this.#result;
  }

  connectedCallback() {
    this.#schedule();
  }

  attributeChangedCallback() {
    this.#schedule();
  }

  /** One update per burst of attribute changes (the parser sets them one by one). */
  #schedule() {
    if (this.#queued || !this.isConnected) return;
    this.#queued = true;
    queueMicrotask(() => this.#update());
  }

  async #update() {
    let engine;
    let data;
    try {
      [engine, data] = await Promise.all([loadEngine(), loadPresets()]);
    } catch (e) {
      this.#queued = false;
      this.#showErrors([['', `could not load the calculator (${e.message}).`]]);
      return;
    }
    this.#queued = false;
    if (formatFamily.size === 0) {
      for (const f of engine.formats()) formatFamily.set(f.id, f.family);
      for (const r of engine.runtimes()) runtimeInfo.set(r.id, r);
      engine.setHardware(data.hardware);  // the cards' fit is the core's (engine.fitTable)
    }
    if (this.#el.runtime.options.length === 0) {
      this.#el.runtime.innerHTML = [...runtimeInfo.values()]
        .map((r) => `<option value="${fmt.esc(r.id)}">${fmt.esc(r.name)}</option>`).join('');
    }
    this.#render(engine, data);
  }

  /** Runtime chosen in the widget: keep the weights if that runtime loads them, else its default. */
  #switchRuntime(runtime) {
    const weights = this.getAttribute('weights');
    const info = runtimeInfo.get(runtime);
    const families = info?.weight_families ?? [];
    if (weights !== null && families.length && !families.includes(formatFamily.get(weights))) {
      this.setAttribute('weights', info.default_weights);
    }
    this.setAttribute('runtime', runtime);
  }

  /** The state from the attributes, with the problems found before asking the core. */
  #read(data) {
    const attr = (name, fallback) => this.getAttribute(name) ?? fallback;
    const errors = [];
    const s = {
      model: attr('model', 'llama-3.1-8b'), mode: attr('mode', 'inference'), runtime: attr('runtime', 'llamacpp'),
      context: attr('context', '8192'), batch: attr('batch', '1'), kvDtype: attr('kv-dtype', 'f16'),
      seqLen: attr('seq-len', '2048'), unit: attr('unit', 'GB'), gpu: attr('gpu', ''),
    };
    s.training = ['lora', 'qlora', 'train'].includes(s.mode);
    s.weights = attr('weights', (s.training ? MODE_WEIGHTS_DEFAULT[s.mode] : runtimeInfo.get(s.runtime)?.default_weights) ?? 'bf16');
    s.preset = data.models.get(s.model);
    if (!s.preset) errors.push(['model', `unknown preset '${s.model}'.`, [...data.models.keys()]]);
    if (!fmt.UNITS[s.unit]) errors.push(['unit', `'${s.unit}' is not one of GB, GiB.`]);
    const theme = this.getAttribute('theme');
    if (theme !== null && !['auto', 'light', 'dark'].includes(theme)) {
      errors.push(['theme', `'${theme}' is not one of auto, light, dark.`]);
    }
    const ids = (this.getAttribute('devices') ?? DEFAULT_DEVICES.join(',')).split(',').map((x) => x.trim()).filter(Boolean);
    if (s.gpu && !ids.includes(s.gpu)) ids.push(s.gpu);
    const unknown = ids.filter((id) => !data.devices.has(id));
    for (const id of unknown) {
      errors.push([id === s.gpu ? 'gpu' : 'devices', `unknown device '${id}'.`, [...data.devices.keys()]]);
    }
    s.devices = ids.filter((id) => data.devices.has(id)).map((id) => data.devices.get(id));
    return { s, errors };
  }

  #request(s) {
    const r = { model: s.model, mode: s.mode };
    if (s.training) {
      r.seq_len = num(s.seqLen);
      if (s.mode !== 'train') r.weights = s.weights;
    } else {
      Object.assign(r, { weights: s.weights, runtime: s.runtime, kv_dtype: s.kvDtype, context: num(s.context),
        batch: num(s.batch) });
    }
    return r;
  }

  #render(engine, data) {
    const { s, errors } = this.#read(data);
    const el = this.#el;
    let result = null;
    if (s.preset) {
      try {
        result = engine.calculate(this.#request(s), s.preset.config);
      } catch (e) {
        if (!(e instanceof EngineError)) errors.push(['', e.message]);
        else if (ATTR_OF[e.field]) {
          errors.push([ATTR_OF[e.field], e.message.replace(/^request: field '[a-z0-9_]+' /, '').replace(/^[a-z][a-z0-9_ -]*?: /i, '')]);
        } else errors.push(['', e.message]);
      }
    }
    const unit = fmt.UNITS[s.unit] ? s.unit : 'GB';
    el.loading.hidden = true;
    el.name.textContent = s.preset?.name ?? s.model;
    el.size.textContent = s.preset ? fmt.modelSize(s.preset.parameters, s.preset.active_parameters) : '';
    el.w.setAttribute('aria-label', `GPU memory calculator: ${el.name.textContent}`);
    el.open.href = this.#appUrl(s);
    el.note.textContent = fmt.UNITS[unit].note;
    el.controls.hidden = !s.preset;
    if (s.preset) this.#fillControls(s);
    this.#result = errors.length ? null : result;
    if (errors.length) {
      this.#showErrors(errors);
      return;
    }
    el.errors.replaceChildren();
    el.w.dataset.state = 'ready';
    el.result.hidden = false;
    const total = result.bytes.total;
    el.total.textContent = fmt.bytes(total, unit);
    el.total.dataset.bytes = String(total);
    el.sub.textContent = s.training
      ? `${MODE_NAMES[s.mode]} · ${s.mode === 'train' ? '' : `${s.weights} · `}${fmt.tokens(result.inputs.seq_len)} tokens per sequence`
      : `${runtimeInfo.get(s.runtime)?.name ?? s.runtime} · ${s.weights} · ${fmt.tokens(result.inputs.context)} context` +
        (result.inputs.batch > 1 ? ` × ${result.inputs.batch}` : '') +
        (result.inputs.kv_dtype !== 'f16' ? ` · KV ${result.inputs.kv_dtype}` : '');
    el.bar.innerHTML = barSvg(result.items, total, unit);
    // One legend entry per category, in the bar's order.
    const keys = [...new Set(result.items.map((i) => i.category))].filter((k) => result.bytes[k] > 0);
    el.legend.innerHTML = keys.map((k) => `<li><span class="dot c-${fmt.esc(k)}" aria-hidden="true"></span>` +
      `${fmt.esc(CATEGORY_NAMES[k] ?? k)} ${fmt.bytes(result.bytes[k], unit)}</li>`).join('');
    const request = this.#request(s);
    el.fits.innerHTML = s.devices.map((d) => {
      // The core decides: what the device offers this runtime (Apple: the GPU's working set; vLLM:
      // its utilization budget) and whether one holds the workload.
      const fit = engine.fitTable({ ...request, gpu: d.id }, s.preset.config)[0];
      const cap = fit.capacity_bytes;
      const ok = fit.fits;
      const free = fit.headroom_bytes;
      const mine = d.id === s.gpu;
      return `<li class="card ${ok ? 'ok' : 'no'}${mine ? ' mine' : ''}" part="card" data-device="${fmt.esc(d.id)}" ` +
        `data-fits="${ok}" title="${fmt.esc(d.name)}"><span class="dev">${fmt.esc(shortName(d))}` +
        `${mine ? '<span class="sr"> (selected)</span>' : ''}</span><span class="cap">${fmt.bytes(cap, unit)}` +
        `${d.gpu_working_set_bytes ? ' for the GPU' : ''}</span><span class="verdict">` +
        (ok ? `<span aria-hidden="true">✓ </span>fits, ${fmt.bytes(free, unit)} free`
          : fit.unsupported ? `<span aria-hidden="true">✗ </span>${fmt.esc(fit.unsupported.replace(/^gpu: /, ''))}`
          : `<span aria-hidden="true">✗ </span>does not fit, ${fmt.bytes(-free, unit)} short`) +
        '</span></li>';
    }).join('');
  }

  #showErrors(errors) {
    const el = this.#el;
    el.loading.hidden = true;
    el.result.hidden = true;
    el.w.dataset.state = 'error';
    el.total.textContent = '';
    delete el.total.dataset.bytes;
    el.errors.innerHTML = errors.map(([attr, message, accepted]) => '<p part="error">' +
      (attr ? `<code>${attr}</code> attribute: ` : '') + fmt.esc(message) +
      (accepted ? `<details><summary>Accepted values (${accepted.length})</summary>${fmt.esc(accepted.join(', '))}</details>` : '') +
      '</p>').join('');
  }

  #fillControls(s) {
    const el = this.#el;
    const max = s.preset.max_context;
    const sizes = s.training ? SEQ_LENS : CONTEXTS.filter((n) => !max || n <= max);
    const value = s.training ? s.seqLen : s.context;
    el['ctx-label'].textContent = s.training ? 'Sequence length' : 'Context';
    el.ctx.dataset.attr = s.training ? 'seq-len' : 'context';
    fillSelect(el.ctx, sizes.map((n) => [String(n), `${fmt.tokens(n)} tokens`]), value);
    el['weights-field'].hidden = s.mode === 'train';
    fillSelect(el.weights, (WEIGHTS[s.training ? s.mode : s.runtime] ?? []).map((w) => [w, w]), s.weights);
    el['runtime-field'].hidden = s.training;
    fillSelect(el.runtime, null, s.runtime);
  }

  /** The full calculator (index.html next to this file) with the same inputs, in its query names. */
  #appUrl(s) {
    const q = new URLSearchParams({ model: s.model, mode: s.mode });
    if (s.training) {
      q.set('seq_len', s.seqLen);
      if (s.mode !== 'train') q.set(`${s.mode}_weights`, s.weights);
    } else {
      for (const [k, v] of [['runtime', s.runtime], ['weights', s.weights], ['context', s.context],
        ['batch', s.batch], ['kv_dtype', s.kvDtype]]) q.set(k, v);
    }
    if (s.gpu) q.set('gpu', s.gpu);
    if (s.unit !== 'GB') q.set('unit', s.unit);
    return new URL(`index.html?${q}`, HERE).href;
  }
}

const shownOptions = new WeakMap();
/** Options [[value, label]] (null: keep the existing ones) with `value` selected, kept visible if unlisted. */
function fillSelect(select, options, value) {
  if (options) {
    if (!options.some(([v]) => v === value)) options = [...options, [value, value]];
    const html = options.map(([v, label]) => `<option value="${fmt.esc(v)}">${fmt.esc(label)}</option>`).join('');
    if (shownOptions.get(select) !== html) {  // rebuilt only when the list changes: focus and scroll stay
      select.innerHTML = html;
      shownOptions.set(select, html);
    }
  } else if (![...select.options].some((o) => o.value === value)) {
    select.add(new Option(value, value));
  }
  select.value = value;
}

if (!customElements.get('vram-calculator')) customElements.define('vram-calculator', VramCalculator);
