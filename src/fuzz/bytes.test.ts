import seedrandom from "seedrandom";
import { describe, expect, it } from "vitest";
import { parseCase } from "../case/load.js";
import { caseToJson } from "../case/save.js";
import { NAMED_MODELS } from "../models/named.js";
import { BUILTIN_STRATEGIES } from "../strategies/registry.js";
import { ByteReader, caseFromBytes } from "./bytes.js";
import { DEFAULT_MAX_CORES } from "../types.js";

const u8 = (...xs: number[]) => new Uint8Array(xs);

function randomBytes(rng: () => number, maxLen: number): Uint8Array {
  const out = new Uint8Array(Math.floor(rng() * (maxLen + 1)));
  for (let i = 0; i < out.length; i++) out[i] = Math.floor(rng() * 256);
  return out;
}

function checkValid(bytes: Uint8Array): string {
  const d = caseFromBytes(bytes);
  const json = caseToJson(d.kase);
  // Round trip through the loader again: the decoded case is a valid, stable case file.
  const again = parseCase(json);
  expect(again.soloBudget).toBe(d.soloBudget);
  expect(BUILTIN_STRATEGIES).toContain(d.strategy);
  expect(NAMED_MODELS).toContain(d.model);
  expect(Number.isInteger(d.seed) && d.seed >= 0 && d.seed < 2 ** 32).toBe(true);
  expect(d.kase.cores).toBeGreaterThanOrEqual(2);
  expect(d.kase.cores).toBeLessThanOrEqual(DEFAULT_MAX_CORES);
  return JSON.stringify({ json, strategy: d.strategy.name, model: d.model.name, seed: d.seed, solo: d.soloBudget });
}

describe("ByteReader", () => {
  it("reads bytes in order, then zeros past the end", () => {
    const r = new ByteReader(u8(1, 2));
    expect(r.remaining).toBe(2);
    expect(r.u8()).toBe(1);
    expect(r.u8()).toBe(2);
    expect(r.remaining).toBe(0);
    expect(r.u8()).toBe(0);
    expect(r.u32()).toBe(0);
    expect(r.float()).toBe(0);
    expect(r.bool()).toBe(false);
    expect(r.remaining).toBe(0);
  });

  it("u32 is little-endian and unsigned", () => {
    expect(new ByteReader(u8(0x78, 0x56, 0x34, 0x12)).u32()).toBe(0x12345678);
    expect(new ByteReader(u8(0xff, 0xff, 0xff, 0xff)).u32()).toBe(0xffffffff);
  });

  it("float is in [0,1), int in [lo,hi], pick in the array", () => {
    expect(new ByteReader(u8(0xff, 0xff, 0xff, 0xff)).float()).toBeLessThan(1);
    const rng = seedrandom.alea("reader");
    const r = new ByteReader(randomBytes(rng, 4000));
    while (r.remaining > 0) {
      const f = r.float();
      expect(f >= 0 && f < 1).toBe(true);
      const i = r.int(-3, 7);
      expect(Number.isInteger(i) && i >= -3 && i <= 7).toBe(true);
      expect(["a", "b", "c"]).toContain(r.pick(["a", "b", "c"]));
      expect(typeof r.bool()).toBe("boolean");
    }
    expect(new ByteReader(u8()).int(5, 5)).toBe(5);
    expect(new ByteReader(u8(0xff, 0xff, 0xff, 0xff)).int(0, 9)).toBe(9);
  });

  it("is deterministic", () => {
    const bytes = randomBytes(seedrandom.alea("det"), 64);
    const read = () => {
      const r = new ByteReader(bytes);
      return [r.u8(), r.u32(), r.float(), r.int(0, 100), r.bool(), r.pick([1, 2, 3])];
    };
    expect(read()).toEqual(read());
  });
});

describe("caseFromBytes", () => {
  it("decodes the empty string and every 1-byte string", () => {
    checkValid(u8());
    for (let b = 0; b < 256; b++) checkValid(u8(b));
  });

  it("first bytes choose strategy and model", () => {
    const seen = new Set<string>();
    for (let s = 0; s < BUILTIN_STRATEGIES.length; s++) {
      for (let m = 0; m < NAMED_MODELS.length; m++) {
        const d = caseFromBytes(u8(s, m, 1, 2, 3, 4));
        expect(d.strategy).toBe(BUILTIN_STRATEGIES[s]);
        expect(d.model).toBe(NAMED_MODELS[m]);
        expect(d.seed).toBe(0x04030201);
        seen.add(`${d.strategy.name}/${d.model.name}`);
      }
    }
    expect(seen.size).toBe(BUILTIN_STRATEGIES.length * NAMED_MODELS.length);
  });

  it("same bytes give the same case", () => {
    const rng = seedrandom.alea("same");
    for (let i = 0; i < 200; i++) {
      const bytes = randomBytes(rng, 300);
      expect(checkValid(bytes.slice())).toBe(checkValid(bytes.slice()));
    }
  });

  // The generator itself is checked on 10,000 cases in generate.test.ts; this covers the byte path.
  it("2,000 random byte strings all give valid cases", () => {
    const rng = seedrandom.alea("bytes 100k");
    const kinds = new Set<number>();
    for (let i = 0; i < 2_000; i++) {
      const bytes = randomBytes(rng, i % 10 === 0 ? 2000 : 200);
      const d = caseFromBytes(bytes);
      kinds.add(d.kase.cores);
    }
    expect([...kinds].sort()).toEqual([2, 3, 4, 5]);
  });
});
