import { describe, expect, it } from "vitest";
import { namedModel } from "../models/named.js";
import { builtinStrategy } from "../strategies/registry.js";
import { prepareSketch } from "../testing/build.js";
import { jumpLabel } from "../testing/programs.js";
import { everyRun } from "../testing/search.js";
import type { ByteOrigin, Passage, PhaseKind, RunResult, Verdict } from "../types.js";
import { COVERAGE_BITS, coverageOf, CoverageMap } from "./coverage.js";

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
    const run = (p: Passage, phase: PhaseKind = "write") => ({
      passages: [p], phases: [{ t: 0, phase: { kind: "before", syncs: 0 } }, { t: 1, phase: { kind: phase, syncs: 1 } }],
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
    ];
    const keys = [base, ...variants].map(key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(key(run(passage(0, ["old", "old"])))).toBe(keys[0]);
  });

  it("has nothing to say of a run that passed no slot and found nothing", () => {
    const quiet = { passages: [], phases: [], hung: undefined, harnessError: undefined } as unknown as RunResult;
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
