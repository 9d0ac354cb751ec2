import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { COVERAGE_BITS } from "../fuzz/coverage.js";
import { DirHub } from "./dir.js";

// The directory hub's own files: the coverage bitmap as bytes.

const fresh = () => mkdtempSync(join(tmpdir(), "xmcfuzz-dirhub-"));
const entry = (bits: number[]) => ({ json: JSON.stringify({ case: {}, bits }), bits });

const hubs: DirHub[] = [];
const open = (dir: string) => {
  const h = new DirHub(dir);
  hubs.push(h);
  return h;
};
afterEach(async () => {
  await Promise.all(hubs.splice(0).map((h) => h.close()));
});

describe("directory hub: the coverage bitmap", () => {
  const bitmapOf = (dir: string) => readFileSync(join(dir, "coverage.bin"));

  it("stays exactly its size with bytes >= 0x80, and tells new bits from known ones", async () => {
    const dir = fresh();
    const hub = open(dir);
    expect(await hub.publishCorpus("n1", entry([7, 15, 8, COVERAGE_BITS - 1]))).toBe(true);
    expect(statSync(join(dir, "coverage.bin")).size).toBe(COVERAGE_BITS / 8);
    expect([...bitmapOf(dir).subarray(0, 2)]).toEqual([0x80, 0x81]);
    expect(bitmapOf(dir).at(-1)).toBe(0x80);
    for (let i = 0; i < 50; i++) expect(await hub.publishCorpus("n2", entry([7, 15, 8 + (i % 2) * 7]))).toBe(false);
    expect(await hub.publishCorpus("n2", entry([7, 6]))).toBe(true);
    expect(statSync(join(dir, "coverage.bin")).size).toBe(COVERAGE_BITS / 8);
    expect(bitmapOf(dir)[0]).toBe(0xc0);
  });

  it("a bitmap of another size (an older xmcfuzz wrote it as UTF-8) starts over; bits outside it are no coverage", async () => {
    const dir = fresh();
    const hub = open(dir);
    writeFileSync(join(dir, "coverage.bin"), Buffer.alloc(COVERAGE_BITS / 4, 0xff));
    expect(await hub.publishCorpus("n1", entry([3]))).toBe(true);
    expect(statSync(join(dir, "coverage.bin")).size).toBe(COVERAGE_BITS / 8);
    expect(await hub.publishCorpus("n1", entry([COVERAGE_BITS, -1, 1.5]))).toBe(false);
  });
});
