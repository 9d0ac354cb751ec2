import { inflateSync } from "node:zlib";

// A minimal PNG decoder for tests (8-bit greyscale, RGB, grey+alpha and RGBA, non-interlaced):
// enough to tell a rendered screenshot from a blank one without an image library.

export interface Pixels {
  readonly width: number;
  readonly height: number;
  /** Samples per pixel (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA). */
  readonly channels: number;
  readonly data: Uint8Array;
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 4: 2, 6: 4 };

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

export function decodePng(png: Uint8Array): Pixels {
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (!sig.every((b, i) => png[i] === b)) throw new Error("not a PNG");
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let width = 0, height = 0, channels = 0;
  const idat: Uint8Array[] = [];
  for (let off = 8; off < png.length;) {
    const len = view.getUint32(off), type = String.fromCharCode(...png.subarray(off + 4, off + 8));
    const body = png.subarray(off + 8, off + 8 + len);
    if (type === "IHDR") {
      width = view.getUint32(off + 8);
      height = view.getUint32(off + 12);
      const depth = body[8]!, colour = body[9]!, interlace = body[12]!;
      channels = CHANNELS[colour] ?? 0;
      if (depth !== 8 || channels === 0 || interlace !== 0) throw new Error(`unsupported PNG (depth ${depth}, colour type ${colour}, interlace ${interlace})`);
    } else if (type === "IDAT") idat.push(body);
    else if (type === "IEND") break;
    off += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const data = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const row = data.subarray(y * stride, (y + 1) * stride);
    const prev = y > 0 ? data.subarray((y - 1) * stride, y * stride) : new Uint8Array(stride);
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? row[x - channels]! : 0, b = prev[x]!, c = x >= channels ? prev[x - channels]! : 0;
      const pred = filter === 0 ? 0 : filter === 1 ? a : filter === 2 ? b : filter === 3 ? (a + b) >> 1 : filter === 4 ? paeth(a, b, c) : NaN;
      if (Number.isNaN(pred)) throw new Error(`bad PNG filter ${filter} on row ${y}`);
      row[x] = (src[x]! + pred) & 0xff;
    }
  }
  return { width, height, channels, data };
}

/** Variance of the pixels' luminance (0 for a blank image) and how many distinct colours appear. */
export function pixelStats(p: Pixels): { variance: number; colours: number } {
  let sum = 0, sq = 0;
  const colours = new Set<number>();
  const n = p.width * p.height;
  for (let i = 0; i < n; i++) {
    const o = i * p.channels;
    const r = p.data[o]!, g = p.channels >= 3 ? p.data[o + 1]! : r, b = p.channels >= 3 ? p.data[o + 2]! : r;
    const lum = 0.299 * r + 0.587 * g + 0.114 * b;
    sum += lum;
    sq += lum * lum;
    if (colours.size < 4096) colours.add((r << 16) | (g << 8) | b);
  }
  const mean = sum / n;
  return { variance: sq / n - mean * mean, colours: colours.size };
}
