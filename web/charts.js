// Inline SVG charts drawn from numbers: the stacked breakdown bar and memory vs context length.
// Colours come from CSS classes (c-weights, c-kv_cache, ...), so the theme applies without a redraw.

import { bytes, esc, inUnit, tokens, UNITS } from './format.js';

/** Categories bottom to top, with their display names. */
export const CATEGORIES = [
  ['weights', 'Weights'], ['gradients', 'Gradients'], ['optimizer', 'Optimizer states'],
  ['overhead', 'Runtime overhead'], ['activations', 'Activations'], ['kv_cache', 'KV cache'],
];

/** Alternate shades for neighbours of one category, so adjacent items stay distinguishable. */
export function shades(items) {
  const out = [];
  items.forEach((item, i) => out.push(i > 0 && items[i - 1].category === item.category && !out[i - 1]));
  return out;
}

/** The stacked bar: one segment per breakdown item, widths proportional to bytes. */
export function barSvg(items, total, unit) {
  const shade = shades(items);
  if (!(total > 0)) return '';
  // Every component stays visible: at least 0.8% of the width, the rest shared by size.
  const min = 14;
  const small = items.filter((item) => (item.bytes / total) * 1000 < min);
  const rest = items.reduce((a, item) => a + ((item.bytes / total) * 1000 >= min ? item.bytes : 0), 0);
  const scale = (1000 - min * small.length) / (rest || 1);
  let x = 0;
  const rects = items.map((item, i) => {
    const w = (item.bytes / total) * 1000 < min ? min : item.bytes * scale;
    const r = `<rect class="seg c-${esc(item.category)}${shade[i] ? ' alt' : ''}" x="${x.toFixed(2)}" y="0" ` +
      `width="${Math.max(w, 0).toFixed(2)}" height="32"><title>${esc(item.label)}: ${bytes(item.bytes, unit)}</title></rect>`;
    x += w;
    return r;
  }).join('');
  const summary = items.map((item) => `${item.label} ${bytes(item.bytes, unit)}`).join(', ');
  return `<svg class="bar-svg" viewBox="0 0 1000 32" preserveAspectRatio="none" role="img" ` +
    `aria-label="Breakdown of ${bytes(total, unit)}: ${esc(summary)}">${rects}</svg>`;
}

/** 1, 2, 5 x 10^k step giving about `n` ticks up to `max`. */
function niceStep(max, n) {
  const raw = max / n;
  const p = 10 ** Math.floor(Math.log10(raw));
  const f = raw / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

function shortNumber(v) {
  return v >= 100 || Number.isInteger(v) ? String(Math.round(v)) : v.toFixed(1);
}

/**
 * Memory vs context length as stacked areas (weights at the bottom, KV cache on top) on a log2
 * context axis, with dashed lines at GPU capacities and a marker at the chosen context.
 * points: [{ x: tokens, bytes: {weights, kv_cache, activations, overhead, gradients?, optimizer?, total} }]
 * capacities: [{ bytes, label, mine }]
 */
export function contextChartSvg({ points, current, capacities, unit, width, xLabel }) {
  const W = Math.max(300, Math.round(width));
  const H = W < 520 ? 240 : 300;
  const m = { l: 46, r: 12, t: 14, b: 38 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const good = points.filter((p) => p.bytes && Number.isFinite(p.bytes.total));
  if (good.length < 2) {
    return `<svg class="chart-svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="No data">` +
      `<text class="axis-label" x="${W / 2}" y="${H / 2}" text-anchor="middle">No result for these inputs</text></svg>`;
  }
  const u = UNITS[unit] ?? UNITS.GB;
  const maxTotal = Math.max(...good.map((p) => p.bytes.total));
  // Show the capacities under the curve's top plus the first one above it.
  const caps = capacities.slice().sort((a, b) => a.bytes - b.bytes);
  const above = caps.find((c) => c.bytes >= maxTotal);
  let yMaxBytes = maxTotal * 1.08;
  if (above && above.bytes <= maxTotal * 2.2) yMaxBytes = Math.max(yMaxBytes, above.bytes * 1.06);
  const yMax = yMaxBytes / u.big;
  const step = niceStep(yMax, H < 260 ? 4 : 5);
  const top = Math.ceil(yMax / step) * step;
  const x0 = Math.log2(good[0].x);
  const x1 = Math.log2(good[good.length - 1].x);
  const sx = (t) => m.l + ((Math.log2(t) - x0) / (x1 - x0 || 1)) * pw;
  const sy = (b) => m.t + ph - (inUnit(b, unit) / top) * ph;

  // Stacked areas.
  const present = CATEGORIES.filter(([key]) => good.some((p) => (p.bytes[key] ?? 0) > 0));
  let base = good.map(() => 0);
  let areas = '';
  for (const [key] of present) {
    const next = good.map((p, i) => base[i] + (p.bytes[key] ?? 0));
    const upper = good.map((p, i) => `${sx(p.x).toFixed(1)},${sy(next[i]).toFixed(1)}`);
    const lower = good.map((p, i) => `${sx(p.x).toFixed(1)},${sy(base[i]).toFixed(1)}`).reverse();
    areas += `<polygon class="area c-${key}" points="${upper.join(' ')} ${lower.join(' ')}"/>`;
    base = next;
  }
  const line = good.map((p) => `${sx(p.x).toFixed(1)},${sy(p.bytes.total).toFixed(1)}`).join(' ');

  // Axes.
  let grid = '';
  for (let v = 0; v <= top + step / 2; v += step) {
    const y = m.t + ph - (v / top) * ph;
    grid += `<line class="grid" x1="${m.l}" x2="${W - m.r}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}"/>` +
      `<text class="tick" x="${m.l - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end">${shortNumber(v)}</text>`;
  }
  const span = x1 - x0;
  const every = Math.max(1, Math.ceil((span * 44) / pw));
  for (let e = Math.ceil(x0); e <= Math.floor(x1); e += every) {
    const x = sx(2 ** e);
    const anchor = x > W - m.r - 14 ? 'end' : 'middle';
    grid += `<line class="tick-mark" x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${m.t + ph}" y2="${m.t + ph + 4}"/>` +
      `<text class="tick" x="${(anchor === 'end' ? x + 4 : x).toFixed(1)}" y="${m.t + ph + 16}" text-anchor="${anchor}">${tokens(2 ** e)}</text>`;
  }
  grid += `<text class="axis-label" x="${m.l + pw / 2}" y="${H - 4}" text-anchor="middle">${esc(xLabel)}</text>` +
    `<text class="axis-label" transform="translate(12 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle">${u.bigName}</text>`;

  // Capacity lines, labelled at the right end; labels too close to the previous one are dropped.
  let capLines = '';
  let lastLabelY = Infinity;
  for (const c of caps.filter((c) => c.bytes / u.big <= top).reverse()) {
    const y = sy(c.bytes);
    capLines += `<line class="cap${c.mine ? ' mine' : ''}" x1="${m.l}" x2="${W - m.r}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}"/>`;
    if (c.mine || lastLabelY - y >= 13) {
      capLines += `<text class="cap-label${c.mine ? ' mine' : ''}" x="${W - m.r - 4}" y="${(y - 3).toFixed(1)}" text-anchor="end">${esc(c.label)}</text>`;
      lastLabelY = y;
    }
  }

  // The chosen context.
  let marker = '';
  const here = good.find((p) => p.x === current);
  if (here) {
    const x = sx(here.x);
    const y = sy(here.bytes.total);
    const anchor = x > m.l + pw * 0.6 ? 'end' : 'start';
    marker = `<line class="here" x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${m.t}" y2="${m.t + ph}"/>` +
      `<circle class="here-dot" cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="4.5"/>` +
      `<text class="here-label" x="${(x + (anchor === 'end' ? -8 : 8)).toFixed(1)}" y="${Math.max(m.t + 12, y - 8).toFixed(1)}" ` +
      `text-anchor="${anchor}">${tokens(here.x)}: ${bytes(here.bytes.total, unit)}</text>`;
  }

  const first = good[0];
  const last = good[good.length - 1];
  const desc = `Total memory grows from ${bytes(first.bytes.total, unit)} at ${tokens(first.x)} tokens to ` +
    `${bytes(last.bytes.total, unit)} at ${tokens(last.x)} tokens` +
    (here ? `; ${bytes(here.bytes.total, unit)} at the chosen ${tokens(here.x)}.` : '.');
  return `<svg class="chart-svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-labelledby="chart-t chart-d">` +
    `<title id="chart-t">Memory vs ${esc(xLabel.toLowerCase())}</title><desc id="chart-d">${esc(desc)}</desc>` +
    `${grid}${areas}<polyline class="total-line" points="${line}"/>${capLines}${marker}</svg>`;
}
