// Draws the app icons (public/icon-192.png, icon-512.png and the maskable icon-maskable-512.png)
// from the same shapes as favicon.svg, with no image library: each pixel is sampled 4×4 against
// the slice's shapes and the result written as a PNG with zlib. Run: node scripts/icons.mjs
import { writeFileSync } from "node:fs";
import { deflateSync } from "node:zlib";

const crust = [201, 112, 45];
const cheese = [244, 193, 93];
const pepperoni = [210, 69, 47];
const background = [17, 20, 24];

// The favicon's shapes in its 64×64 box: the colour at (x, y), or null outside the slice.
function colour(x, y) {
  const inTriangle = y <= 60 && Math.abs(x - 32) <= ((60 - y) / 48) * 26 + 0.0001 && y >= 6;
  const outer = Math.hypot(x - 32, y - 78.6) <= 72.6; // the top arc: a circle through (6,12), (58,12)
  if (!inTriangle || !outer) return null;
  for (const [cx, cy, r] of [[24, 26, 5], [39, 29, 5], [31, 42, 4.5]]) if (Math.hypot(x - cx, y - cy) <= r) return pepperoni;
  return Math.hypot(x - 32, y - 78.6) >= 65.6 ? crust : cheese;
}

function draw(size, { maskable }) {
  const px = new Uint8Array(size * size * 4);
  // A maskable icon keeps its content in the inner 80 % circle and fills the rest.
  const scale = (maskable ? 0.62 : 0.94) * (size / 64);
  const offset = (size - 64 * scale) / 2;
  const n = 4;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (let sy = 0; sy < n; sy++) {
        for (let sx = 0; sx < n; sx++) {
          const c = colour((x + (sx + 0.5) / n - offset) / scale, (y + (sy + 0.5) / n - offset) / scale + (maskable ? 3 : 1));
          const fill = c ?? (maskable ? background : null);
          if (!fill) continue;
          r += fill[0]; g += fill[1]; b += fill[2]; a += 255;
        }
      }
      const i = (y * size + x) * 4;
      const k = n * n;
      const cover = a / 255;
      px[i] = cover ? r / cover : 0;
      px[i + 1] = cover ? g / cover : 0;
      px[i + 2] = cover ? b / cover : 0;
      px[i + 3] = a / k;
    }
  }
  return png(size, px);
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, "ascii");
  data.copy(out, 8);
  out.writeUInt32BE(crc(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}
function png(size, px) {
  const raw = Buffer.alloc((size * 4 + 1) * size);
  for (let y = 0; y < size; y++) Buffer.from(px.buffer, y * size * 4, size * 4).copy(raw, y * (size * 4 + 1) + 1);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw, { level: 9 })), chunk("IEND", Buffer.alloc(0))]);
}

const dir = new URL("../public/", import.meta.url);
writeFileSync(new URL("icon-192.png", dir), draw(192, { maskable: false }));
writeFileSync(new URL("icon-512.png", dir), draw(512, { maskable: false }));
writeFileSync(new URL("icon-maskable-512.png", dir), draw(512, { maskable: true }));
