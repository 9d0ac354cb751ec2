import { deflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { decodePng, pixelStats } from "./png.js";

// Builds a PNG by hand: every scanline filter type, so the decoder's unfiltering is checked.

function chunk(type: string, body: Uint8Array): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, Buffer.from(type, "latin1"), body, Buffer.alloc(4)]); // CRC unchecked
}

function rgbPng(width: number, rows: number[][], filters: number[]): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(rows.length, 4);
  ihdr[8] = 8; ihdr[9] = 2;
  const stride = width * 3;
  const raw: number[] = [];
  rows.forEach((row, y) => {
    const f = filters[y]!, prev = y > 0 ? rows[y - 1]! : new Array<number>(stride).fill(0);
    raw.push(f);
    row.forEach((v, x) => {
      const a = x >= 3 ? row[x - 3]! : 0, b = prev[x]!, c = x >= 3 ? prev[x - 3]! : 0;
      const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
      const pred = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][f]!;
      raw.push((v - pred) & 0xff);
    });
  });
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", ihdr), chunk("IDAT", deflateSync(Buffer.from(raw))), chunk("IEND", new Uint8Array())]);
}

describe("decodePng", () => {
  const rows = Array.from({ length: 5 }, (_, y) => Array.from({ length: 12 }, (_, x) => (x * 37 + y * 91 + ((x * y) % 7) * 13) & 0xff));

  it("undoes every filter type", () => {
    const p = decodePng(rgbPng(4, rows, [0, 1, 2, 3, 4]));
    expect([p.width, p.height, p.channels]).toEqual([4, 5, 3]);
    expect([...p.data]).toEqual(rows.flat());
  });

  it("tells a blank image from a drawn one", () => {
    const blank = Array.from({ length: 3 }, () => new Array<number>(12).fill(255));
    expect(pixelStats(decodePng(rgbPng(4, blank, [0, 1, 2])))).toEqual({ variance: 0, colours: 1 });
    expect(pixelStats(decodePng(rgbPng(4, rows, [4, 3, 2, 1, 0]))).variance).toBeGreaterThan(100);
  });

  it("rejects what is not a PNG", () => {
    expect(() => decodePng(new Uint8Array(16))).toThrow(/not a PNG/);
  });
});
