// Draws the app icons of the installable page into web/icons/ (committed; rerun after changing the
// logo): the logo of web/favicon.svg (a card with three memory bars) as SVG and as PNG, rasterized
// here with a minimal PNG encoder on node:zlib, so no image tool is needed.
//
//   node scripts/make_icons.mjs [out-dir]     (default: web/icons)
//
// "any" icons keep the favicon's transparent background. Maskable icons are full-bleed and keep the
// logo inside the safe zone, a centred circle of radius 40% of the icon (web.dev/articles/maskable-icon;
// W3C Web App Manifest, "icon masks"); apple-touch-icon is opaque because iOS fills transparency black.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = resolve(process.argv[2] ?? join(root, 'web', 'icons'));

const BLUE = '#0b57d0';
const WHITE = '#ffffff';
const YELLOW = '#ffd166';
const ORANGE = '#e07b00';  // --c-kv_cache in style.css

// The logo in the favicon's 32-unit box: the card, then the three bars.
const CARD = { x: 3, y: 7, w: 26, h: 18, r: 3 };
const BARS = [{ x: 7, y: 11, w: 6, h: 10, r: 1 }, { x: 15, y: 11, w: 4, h: 10, r: 1 }, { x: 21, y: 11, w: 4, h: 10, r: 1 }];

/** Shapes in a 0..1 box: the favicon as it is ("any"), or a white card on a blue tile (maskable). */
function design(maskable) {
  const u = (s, k, dx, dy, fill) => ({ x: s.x * k + dx, y: s.y * k + dy, w: s.w * k, h: s.h * k, r: s.r * k, fill });
  if (!maskable) {
    const k = 1 / 32;
    return [u(CARD, k, 0, 0, BLUE), u(BARS[0], k, 0, 0, WHITE), u(BARS[1], k, 0, 0, WHITE), u(BARS[2], k, 0, 0, YELLOW)];
  }
  // Card 60% of the width: its corners lie at 0.5·√(0.6² + (0.6·18/26)²) = 0.365 from the centre, inside 0.40.
  const k = 0.6 / CARD.w;
  const dx = 0.5 - (CARD.x + CARD.w / 2) * k;
  const dy = 0.5 - (CARD.y + CARD.h / 2) * k;
  return [{ x: 0, y: 0, w: 1, h: 1, r: 0, fill: BLUE }, u(CARD, k, dx, dy, WHITE),
    u(BARS[0], k, dx, dy, BLUE), u(BARS[1], k, dx, dy, BLUE), u(BARS[2], k, dx, dy, ORANGE)];
}

function inRoundedRect(px, py, s) {
  if (px < s.x || py < s.y || px > s.x + s.w || py > s.y + s.h) return false;
  const cx = Math.min(Math.max(px, s.x + s.r), s.x + s.w - s.r);
  const cy = Math.min(Math.max(py, s.y + s.r), s.y + s.h - s.r);
  return (px - cx) ** 2 + (py - cy) ** 2 <= s.r ** 2;
}

/** RGBA pixels: each shape's coverage from 8×8 samples per pixel, composited with "over". */
function rasterize(shapes, size) {
  const px = new Float64Array(size * size * 4);  // premultiplied, 0..1
  const N = 8;
  for (const s of shapes) {
    const c = [1, 3, 5].map((i) => parseInt(s.fill.slice(i, i + 2), 16) / 255);
    for (let y = Math.floor(s.y * size); y < Math.min(size, Math.ceil((s.y + s.h) * size)); y++) {
      for (let x = Math.floor(s.x * size); x < Math.min(size, Math.ceil((s.x + s.w) * size)); x++) {
        let hits = 0;
        for (let j = 0; j < N; j++) {
          for (let i = 0; i < N; i++) hits += inRoundedRect((x + (i + 0.5) / N) / size, (y + (j + 0.5) / N) / size, s);
        }
        const a = hits / (N * N);
        const o = (y * size + x) * 4;
        for (let k = 0; k < 3; k++) px[o + k] = c[k] * a + px[o + k] * (1 - a);
        px[o + 3] = a + px[o + 3] * (1 - a);
      }
    }
  }
  const rgba = Buffer.alloc(size * size * 4);
  for (let o = 0; o < px.length; o += 4) {
    const a = px[o + 3];
    for (let k = 0; k < 3; k++) rgba[o + k] = a ? Math.round((px[o + k] / a) * 255) : 0;
    rgba[o + 3] = Math.round(a * 255);
  }
  return rgba;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])));
  return Buffer.concat([head, data, crc]);
}

/** PNG (ISO/IEC 15948): 8-bit RGBA, filter type 0 on every row, one IDAT. */
export function encodePng(rgba, width, height) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);  // bit depth 8, colour type 6 (RGBA), deflate, filter 0, no interlace
  const raw = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) rgba.copy(raw, y * (width * 4 + 1) + 1, y * width * 4, (y + 1) * width * 4);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

function svg(shapes) {
  const n = (v) => +(v * 32).toFixed(3);
  return '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">' + shapes.map((s) =>
    `<rect x="${n(s.x)}" y="${n(s.y)}" width="${n(s.w)}" height="${n(s.h)}"${s.r ? ` rx="${n(s.r)}"` : ''} fill="${s.fill}"/>`).join('') +
    '</svg>\n';
}

mkdirSync(out, { recursive: true });
const files = [['icon-192.png', false, 192], ['icon-512.png', false, 512], ['maskable-192.png', true, 192],
  ['maskable-512.png', true, 512], ['apple-touch-icon.png', true, 180]];
for (const [name, maskable, size] of files) {
  writeFileSync(join(out, name), encodePng(rasterize(design(maskable), size), size, size));
}
writeFileSync(join(out, 'icon.svg'), svg(design(false)));
console.log(`make_icons: wrote ${files.length} PNGs and icon.svg to ${out}`);
