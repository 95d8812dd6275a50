// The accuracy page: renders accuracy-data.json (built by scripts/build_accuracy.mjs) as a summary
// per kind, an SVG scatter plot of estimate against measurement, and a table of every case with
// its error and a link to its source. No network access beyond that same-origin file.

const SVG = 'http://www.w3.org/2000/svg';
const GROUPS = [
  { id: 'all', label: 'All' },
  { id: 'weights', label: 'Weights and files' },
  { id: 'runtime', label: 'Runtime logs' },
  { id: 'training', label: 'Fine-tuning' },
  { id: 'differential', label: 'Differential (real llama.cpp)' },
  { id: 'speed', label: 'Speed (tokens/s)' },
];

const $ = (id) => document.getElementById(id);
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}
function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

const pct = (x) => `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(2)}%`;
const ape = (x) => `${(100 * Math.abs(x)).toFixed(2)}%`;
function amount(value, unit) {
  if (unit === 'tokens') return `${Math.round(value).toLocaleString('en-US')} tokens`;
  if (unit === 'tokens/s') return `${value.toFixed(1)} tokens/s`;
  if (unit === 'parameters') return `${(value / 1e9).toFixed(3)} B params`;
  const abs = Math.abs(value);
  if (abs >= 2 ** 30) return `${(value / 2 ** 30).toFixed(3)} GiB`;
  if (abs >= 2 ** 20) return `${(value / 2 ** 20).toFixed(2)} MiB`;
  return `${Math.round(value).toLocaleString('en-US')} B`;
}
function host(url) {
  try {
    const u = new URL(url);
    const parts = u.pathname.split('/').filter(Boolean);
    return u.hostname === 'github.com' && parts.length >= 2 ? `${parts[0]}/${parts[1]}` : u.hostname;
  } catch {
    return 'source';
  }
}
const boundText = (b) => (b === 0 ? 'exact' : `${(100 * b).toFixed(b < 0.01 ? 1 : 0)}%`);

function renderSummary(data) {
  const table = $('acc-summary');
  table.replaceChildren(el('thead', {}, el('tr', {},
    el('th', { scope: 'col' }, 'Kind'), el('th', { scope: 'col' }, 'What is compared'), el('th', { scope: 'col', class: 'num' }, 'Cases'),
    el('th', { scope: 'col', class: 'num' }, 'Median APE'), el('th', { scope: 'col', class: 'num' }, 'p90 APE'),
    el('th', { scope: 'col', class: 'num' }, 'Bound'), el('th', { scope: 'col' }, 'Asserted by'))));
  const body = el('tbody');
  for (const [kind, k] of Object.entries(data.kinds)) {
    const over = k.p90_ape > k.bound + 1e-12;
    body.append(el('tr', { 'data-kind': kind },
      el('th', { scope: 'row' }, el('span', { class: `swatch g-${k.group}`, 'aria-hidden': 'true' }), k.label),
      el('td', {}, k.what), el('td', { class: 'num' }, k.n), el('td', { class: 'num' }, ape(k.median_ape)),
      el('td', { class: `num${over ? ' bad' : ''}` }, ape(k.p90_ape)), el('td', { class: 'num' }, k.bound_text ?? boundText(k.bound)),
      el('td', {}, el('code', {}, k.test))));
  }
  table.append(body);
  if (data.peer) {
    $('acc-peer').textContent = `Peer on the same differential cases (total): ${data.peer.name}: median APE ${ape(data.peer.median_ape)}, ` +
      `p90 ${ape(data.peer.p90_ape)} (n = ${data.peer.n}).`;
  }
}

function renderPlot(data, group) {
  // Speeds are another unit: they get their own plot, not the bytes one.
  const inPlot = (g) => (group === 'all' ? g !== 'speed' : g === group);
  const cases = data.cases.filter((c) => inPlot(data.kinds[c.kind]?.group) && c.measured > 0 && c.estimate > 0);
  const box = $('acc-plot');
  box.replaceChildren();
  if (cases.length === 0) {
    box.append(el('p', {}, 'No cases in this group.'));
    return;
  }
  const W = 720, H = 480, L = 70, R = 16, T = 16, B = 52;
  const values = cases.flatMap((c) => [c.measured, c.estimate]);
  const lo = Math.floor(Math.log10(Math.min(...values)));
  const hi = Math.ceil(Math.log10(Math.max(...values)));
  const span = Math.max(1, hi - lo);
  const x = (v) => L + ((Math.log10(v) - lo) / span) * (W - L - R);
  const y = (v) => H - B - ((Math.log10(v) - lo) / span) * (H - T - B);
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'acc-svg', role: 'img', 'aria-labelledby': 'acc-plot-title' });
  root.append(svg('title', { id: 'acc-plot-title' }, `Estimate against measurement, ${cases.length} cases, log-log`));
  for (let e = lo; e <= hi; e++) {
    const v = 10 ** e;
    root.append(svg('line', { x1: x(v), x2: x(v), y1: T, y2: H - B, class: 'grid' }));
    root.append(svg('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'grid' }));
    root.append(svg('text', { x: x(v), y: H - B + 18, class: 'tick', 'text-anchor': 'middle' }, `1e${e}`));
    root.append(svg('text', { x: L - 8, y: y(v) + 4, class: 'tick', 'text-anchor': 'end' }, `1e${e}`));
  }
  // ±10% band around the diagonal.
  const a = 10 ** lo, b = 10 ** hi;
  root.append(svg('polygon', {
    class: 'band',
    points: [[a, a * 1.1], [b, b * 1.1], [b, b * 0.9], [a, a * 0.9]].map(([p, q]) => `${x(p)},${y(Math.max(q, a))}`).join(' '),
  }));
  root.append(svg('line', { x1: x(a), y1: y(a), x2: x(b), y2: y(b), class: 'diag' }));
  root.append(svg('text', { x: (L + W - R) / 2, y: H - 10, class: 'axis', 'text-anchor': 'middle' }, 'measured / published'));
  root.append(svg('text', { x: 16, y: (T + H - B) / 2, class: 'axis', 'text-anchor': 'middle', transform: `rotate(-90 16 ${(T + H - B) / 2})` }, 'vramcalc estimate'));
  for (const c of cases) {
    const g = data.kinds[c.kind]?.group ?? 'other';
    const dot = svg('circle', { cx: x(c.measured), cy: y(c.estimate), r: 4.5, class: `pt g-${g}${Math.abs(c.error) > 0.1 ? ' off' : ''}`, tabindex: 0 });
    dot.append(svg('title', {}, `${data.kinds[c.kind]?.label}: ${c.label}\nestimate ${amount(c.estimate, c.unit)}, measured ${amount(c.measured, c.unit)} (${pct(c.error)})`));
    root.append(dot);
  }
  box.append(root);
}

function renderCases(data, group) {
  const table = $('acc-cases');
  table.replaceChildren(el('thead', {}, el('tr', {},
    el('th', { scope: 'col' }, 'Kind'), el('th', { scope: 'col' }, 'Case'), el('th', { scope: 'col', class: 'num' }, 'Estimate'),
    el('th', { scope: 'col', class: 'num' }, 'Measured'), el('th', { scope: 'col' }, 'As published'),
    el('th', { scope: 'col', class: 'num' }, 'Error'), el('th', { scope: 'col' }, 'Source'))));
  const body = el('tbody');
  const kindOrder = Object.keys(data.kinds);
  const rows = data.cases
    .filter((c) => group === 'all' || data.kinds[c.kind]?.group === group)
    .sort((p, q) => kindOrder.indexOf(p.kind) - kindOrder.indexOf(q.kind) || Math.abs(q.error) - Math.abs(p.error));
  for (const c of rows) {
    const k = data.kinds[c.kind];
    const over = k && Math.abs(c.error) > k.bound + 1e-12;
    const caseCell = el('td', {}, c.label);
    if (!c.asserted) caseCell.append(el('span', { class: 'tag' }, 'not asserted'));
    if (c.note) caseCell.append(el('div', { class: 'sub' }, c.note));
    if (c.peer) caseCell.append(el('div', { class: 'sub' }, `${c.peer.name}: ${amount(c.peer.estimate, c.unit)} (${pct((c.peer.estimate - c.measured) / c.measured)})`));
    const link = c.source ? el('a', { href: c.source, rel: 'noopener noreferrer', title: c.source_detail || c.source }, host(c.source)) : '';
    body.append(el('tr', { title: c.command ?? '' },
      el('td', {}, el('span', { class: `swatch g-${k?.group}`, 'aria-hidden': 'true' }), k?.label ?? c.kind), caseCell,
      el('td', { class: 'num' }, amount(c.estimate, c.unit)), el('td', { class: 'num' }, amount(c.measured, c.unit)),
      el('td', { class: 'pub' }, c.published ?? ''), el('td', { class: `num${over ? ' bad' : ''}` }, pct(c.error)), el('td', {}, link)));
  }
  table.append(body);
}

function renderFilters(data) {
  const box = $('acc-filters');
  let current = 'all';
  const draw = () => {
    for (const b of box.querySelectorAll('button')) b.setAttribute('aria-pressed', String(b.dataset.group === current));
    renderPlot(data, current);
    renderCases(data, current);
  };
  for (const g of GROUPS) {
    const n = g.id === 'all' ? data.cases.length : data.cases.filter((c) => data.kinds[c.kind]?.group === g.id).length;
    if (n === 0) continue;
    const b = el('button', { type: 'button', 'data-group': g.id, class: g.id === 'all' ? '' : `g-${g.id}` }, `${g.label} (${n})`);
    b.addEventListener('click', () => {
      current = g.id;
      draw();
    });
    box.append(b);
  }
  draw();
}

async function main() {
  let data;
  try {
    const res = await fetch('accuracy-data.json', { cache: 'no-cache' });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    data = await res.json();
  } catch (e) {
    const p = $('acc-error');
    p.hidden = false;
    p.textContent = `Could not load accuracy-data.json (${e.message}). Build it with: node scripts/build_accuracy.mjs`;
    return;
  }
  const d = data.differential;
  $('acc-meta').textContent = `${data.cases.length} cases, built ${data.generated.slice(0, 10)}` +
    (d ? `; differential run ${String(d.generated).slice(0, 10)} against llama.cpp ${d.llama_cpp_release?.release ?? '?'}` +
      (d.node_llama_cpp ? ` (node-llama-cpp ${d.node_llama_cpp})` : '') : '') + '.';
  $('acc-repro').textContent = `Reproduce: ${data.reproduce}`;
  renderSummary(data);
  renderFilters(data);
}

main();
