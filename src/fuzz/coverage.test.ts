import { describe, expect, it } from "vitest";
import { namedModel } from "../models/named.js";
import { builtinStrategy } from "../strategies/registry.js";
import { prepareSketch } from "../testing/build.js";
import { jumpLabel } from "../testing/programs.js";
import { everyRun } from "../testing/search.js";
import type { ByteOrigin, Passage, PhaseKind, RunResult, Verdict } from "../types.js";
import { COVERAGE_BITS, coverageOf, CoverageMap, isCoverageBits } from "./coverage.js";

describe("isCoverageBits (a corpus entry's bits from a file or a hub)", () => {
  it("takes integers inside the bitmap only: others would count as new at every merge", () => {
    expect(isCoverageBits([0, 5, COVERAGE_BITS - 1])).toBe(true);
    expect(isCoverageBits([])).toBe(true);
    for (const bad of [[COVERAGE_BITS], [-1], [1.5], ["3"], [null], null, undefined, 5, { 0: 1 }]) expect(isCoverageBits(bad), JSON.stringify(bad)).toBe(false);
  });
});

describe("CoverageMap", () => {
  it("counts a bit once, however often it comes", () => {
    const map = new CoverageMap();
    expect(map.merge([3, 9, 3, COVERAGE_BITS - 1])).toBe(3);
    expect(map.merge([9, 10])).toBe(1);
    expect(map.count).toBe(4);
    expect(map.hasNew([3, 9, 10])).toBe(false);
    expect(map.hasNew([3, 11])).toBe(true);
    expect(map.merge([])).toBe(0);
  });
});

describe("coverageOf", () => {
  const prepared = prepareSketch(jumpLabel(3, 8));
  const slots = prepared.kase.program.slots;
  const model = namedModel("x86-realistic")!;
  const bitsOf = (strategy: string, seeds: number) =>
    [...everyRun(prepared, builtinStrategy(strategy)!, model, seeds)].map((o) => ({ o, bits: coverageOf(o.run, o.verdict, slots) }));

  it("is a set of bits in the map's range, the same for the same run", () => {
    for (const { o, bits } of bitsOf("direct_write", 50)) {
      expect(new Set(bits).size).toBe(bits.length);
      for (const b of bits) expect(b >= 0 && b < COVERAGE_BITS && Number.isInteger(b)).toBe(true);
      expect(coverageOf(o.run, o.verdict, slots)).toEqual(bits);
    }
  });

  it("tells passages apart by the features SPEC 9 names: pc offset, byte provenance, patcher phase, trap resolution", () => {
    const passage = (offset: number, origin: ByteOrigin[], resolution?: Passage["resolution"]): Passage => ({
      core: 1, slot: 0, op: 0, begin: 1, end: 2, widened: false, badEmulation: false, resolution,
      fetched: [{ addr: slots[0]!.start + offset, bytes: origin.map(() => 0x90), origin, fetchedAt: origin.map(() => 1), patcherStepAt: origin.map(() => 1) }],
    });
    const run = (p: Passage, phase: PhaseKind = "write", done = false) => ({
      passages: [p], eventKinds: [],
      phases: [{ t: 0, phase: { kind: "before", syncs: 0 } }, { t: 1, phase: { kind: phase, syncs: 1 } }, ...(done ? [{ t: 1, phase: { kind: "after", syncs: 0 } }] : [])],
    }) as unknown as RunResult;
    const none = { divergences: [], rules: [] } as unknown as Verdict;
    const key = (r: RunResult) => coverageOf(r, none, slots).sort((a, b) => a - b).join();
    const base = run(passage(0, ["old", "old"]));
    const variants = [
      run(passage(1, ["old", "old"])), // another offset in the slot
      run(passage(0, ["old", "new"])), // torn: a mix of versions
      run(passage(0, ["intermediate", "old"])),
      run(passage(0, ["old", "old"]), "sync"), // fetched after a step of another phase
      run(passage(0, ["old", "old"], "emulate")), // a trap, resolved by emulation
      run(passage(0, ["old", "old"]), "write", true), // fetched once the patcher was done: "after"
    ];
    const keys = [base, ...variants].map(key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(key(run(passage(0, ["old", "old"])))).toBe(keys[0]);
  });

  it("tells runs apart by the scheduler event kinds each patcher phase saw (SPEC 9's event kind)", () => {
    const none = { divergences: [], rules: [] } as unknown as Verdict;
    const key = (eventKinds: number[]) => coverageOf({ passages: [], phases: [], eventKinds } as unknown as RunResult, none, slots).sort((a, b) => a - b).join();
    // Phase kinds before, write, sync; event kinds as bits (exec 1, refill 2, snoop 5, ...).
    const variants = [[0b10, 0, 0], [0b110, 0, 0], [0b10, 0b100000, 0], [0b10, 0, 0b100000], [0, 0b10, 0]];
    expect(new Set(variants.map(key)).size).toBe(variants.length);
    expect(key([0b10, 0, 0])).toBe(key([0b10, 0, 0]));
  });

  it("gets the event kinds from the machine: each phase kind's events as they ran", () => {
    const PATCHER = 1 << 0, EXEC = 1 << 1, REFILL = 1 << 2, SNOOP = 1 << 5;
    let snooped = 0;
    for (const o of everyRun(prepared, builtinStrategy("direct_write")!, model, 40)) {
      expect(o.run.eventKinds[0]! & PATCHER).toBe(PATCHER); // the first step is taken "before"
      expect(o.run.eventKinds.some((k) => k & EXEC)).toBe(true);
      if (o.run.eventKinds.slice(1).some((k) => k & SNOOP)) snooped++; // x86-realistic: eventual snoops after stores
    }
    expect(snooped).toBeGreaterThan(0);
    // No fetch buffer on coherent-atomic-byte: nothing is ever refilled.
    for (const o of everyRun(prepared, builtinStrategy("direct_write")!, namedModel("coherent-atomic-byte")!, 20)) {
      expect(o.run.eventKinds.every((k) => (k & REFILL) === 0)).toBe(true);
    }
  });

  it("has nothing to say of a run that passed no slot and found nothing", () => {
    const quiet = { passages: [], phases: [], eventKinds: [0, 0], hung: undefined, harnessError: undefined } as unknown as RunResult;
    expect(coverageOf(quiet, { divergences: [], rules: [] } as unknown as Verdict, slots)).toEqual([]);
  });

  it("tells a torn run from the clean runs of the same strategy: it sets bits none of them sets", () => {
    // A store a byte at a time lets a core fetch a mix of old and new bytes (provenance) and
    // diverge (the verdict's cause and effect); runs where no core did so show neither.
    const runs = bitsOf("direct_single_byte", 300);
    const clean = new Set(runs.filter((r) => r.o.verdict.kind === "clean").flatMap((r) => r.bits));
    const torn = runs.filter((r) => r.o.verdict.divergences.some((d) => d.cause === "torn-fetch"));
    expect(torn.length).toBeGreaterThan(0);
    expect(clean.size).toBeGreaterThan(0);
    for (const { bits } of torn) expect(bits.some((b) => !clean.has(b))).toBe(true);
  });
});
