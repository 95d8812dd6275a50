// Number formatting for reading: bytes in GB (10^9) or GiB (2^30), parameter counts, prices.
// Every function returns "—" for a value that is not a finite number, so no NaN reaches the page.

export const UNITS = Object.freeze({
  GB: { big: 1e9, small: 1e6, bigName: 'GB', smallName: 'MB', note: 'GB = 10⁹ bytes' },
  GiB: { big: 2 ** 30, small: 2 ** 20, bigName: 'GiB', smallName: 'MiB', note: 'GiB = 2³⁰ bytes' },
});
export const DASH = '—';

/** A value with about three significant digits: 1234 -> "1,234", 17.18 -> "17.2", 5.345 -> "5.35". */
/** `x` with `digits` decimals and thousands separators: grouped(1234.5, 1) -> "1,234.5". */
function grouped(x, digits) {
  const text = Math.abs(x).toFixed(digits);
  const dot = text.indexOf('.');
  let int = dot < 0 ? text : text.slice(0, dot);
  for (let i = int.length - 3; i > 0; i -= 3) int = `${int.slice(0, i)},${int.slice(i)}`;
  return `${x < 0 && Number(text) !== 0 ? '-' : ''}${int}${dot < 0 ? '' : text.slice(dot)}`;
}
const fixed = [0, 1, 2].map((d) => ({ format: (x) => grouped(x, d) }));

export function sig3(x) {
  if (!Number.isFinite(x)) return DASH;
  const a = Math.abs(x);
  return fixed[a >= 99.95 ? 0 : a >= 9.995 ? 1 : 2].format(x);
}

/** Bytes as "17.2 GB" / "16.0 GiB"; below one GB (GiB), in MB (MiB). */
export function bytes(b, unit = 'GB') {
  if (!Number.isFinite(b)) return DASH;
  const u = UNITS[unit] ?? UNITS.GB;
  if (Math.abs(b) >= u.big || b === 0) return `${sig3(b / u.big)} ${u.bigName}`;
  return `${sig3(b / u.small)} ${u.smallName}`;
}

/** Bytes in the big unit only, as a number of that unit (for axes). */
export function inUnit(b, unit = 'GB') {
  return b / (UNITS[unit] ?? UNITS.GB).big;
}

/** Signed bytes: "+6.6 GB" / "−3.1 GB" (a true minus sign). */
export function signedBytes(b, unit = 'GB') {
  if (!Number.isFinite(b)) return DASH;
  return `${b < 0 ? '−' : '+'}${bytes(Math.abs(b), unit)}`;
}

/** Parameter counts: 8030261248 -> "8.03B", 124439808 -> "124M". */
export function params(n) {
  if (!Number.isFinite(n)) return DASH;
  if (n >= 1e12) return `${sig3(n / 1e12)}T`;
  if (n >= 1e9) return `${sig3(n / 1e9)}B`;
  if (n >= 1e6) return `${sig3(n / 1e6)}M`;
  return fixed[0].format(n);
}

/** Whole numbers with thousands separators. */
export function count(n) {
  return Number.isFinite(n) ? fixed[0].format(Math.round(n)) : DASH;
}

/** Context lengths: 8192 -> "8K", 131072 -> "128K", 1048576 -> "1M", 3000 -> "3,000". */
export function tokens(n) {
  if (!Number.isFinite(n)) return DASH;
  if (n >= 2 ** 20 && n % 2 ** 20 === 0) return `${n / 2 ** 20}M`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024}K`;
  return count(n);
}

/** US dollars: 1599 -> "$1,599". */
export function usd(n) {
  return Number.isFinite(n) ? `$${fixed[0].format(Math.round(n))}` : DASH;
}

/** "MoE: 46.7B stored / 12.9B active" or "8.03B parameters". */
export function modelSize(parameters, active) {
  if (Number.isFinite(active) && active > 0 && active < parameters) {
    return `MoE: ${params(parameters)} stored / ${params(active)} active`;
  }
  return `${params(parameters)} parameters`;
}

/** Escapes text for HTML. */
export function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

/** A Markdown table cell (pipes escaped). */
export function mdCell(s) {
  return String(s).replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
