import { describe, expect, it } from "vitest";
import type { Model, Strategy } from "../types.js";
import { namedModel } from "../models/named.js";
import { builtinStrategy } from "../strategies/registry.js";
import { prepareSketch } from "../testing/build.js";
import { imm8, jumpLabel } from "../testing/programs.js";
import { everyRun, findRun } from "../testing/search.js";
import { passageVersion } from "../oracle/classify.js";
import { sync } from "../strategies/sync.js";
import type { Outcome } from "../differential.js";

// One test per fetch-unit mechanism of SPEC 4, each observed through what cores executed.

const model = (name: string): Model => namedModel(name)!;
const strategy = (name: string): Strategy => builtinStrategy(name)!;
const directWrite = strategy("direct_write");
const directSingleByte = strategy("direct_single_byte");

/** Passages of old bytes that began after the op returned, per core. */
function staleAfterReturn(o: Outcome, core: number): number {
  const ret = o.run.ops[0]!.returned;
  return o.run.passages.filter((p) => p.core === core && p.begin > ret && passageVersion(p) === "old").length;
}

describe("coherent fetch unit", () => {
  it("a refill's trace names the blocks it appended, the last one cut at the region end", () => {
    const prepared = prepareSketch(jumpLabel());
    const { base, code } = prepared.kase.program, end = base + code.length;
    const m = model("x86-realistic");
    expect(code.length % m.fetchBlock).not.toBe(0);
    const o = findRun(prepared, directWrite, m, (r) => r.run.trace.some((e) => e.text.endsWith(`0x${end.toString(16)})`)), 50, true);
    expect(o).toBeDefined();
    for (const e of o!.run.trace.filter((x) => x.kind === "refill")) {
      const [from, to] = /\[0x([0-9a-f]+), 0x([0-9a-f]+)\)/.exec(e.text)!.slice(1).map((x) => parseInt(x, 16)) as [number, number];
      expect((from - base) % m.fetchBlock).toBe(0);
      expect(to).toBeGreaterThan(from);
      expect(to === end || (to - base) % m.fetchBlock === 0).toBe(true);
    }
  });

  it("a refill straddling a store tears: one instruction holds bytes fetched on both sides of a store", () => {
    // Byte stores, 1-byte blocks, no snoop: refills on both sides of a store tear an instruction.
    const m = { ...model("sdm-strict"), name: "tear-test" };
    const straddles = (r: Outcome) => r.run.passages.some((p) => p.fetched.some((ins) => {
      const oldAt = ins.fetchedAt.filter((_, i) => ins.origin[i] === "old");
      const newAt = ins.fetchedAt.filter((_, i) => ins.origin[i] === "new");
      return oldAt.length > 0 && newAt.length > 0 && Math.max(...oldAt) < Math.min(...newAt);
    }));
    const o = findRun(prepareSketch(jumpLabel()), directWrite, m, straddles);
    expect(o).toBeDefined();
    expect(o!.verdict.kind).toBe("diverges");
    expect(o!.verdict.divergences.map((d) => d.cause)).toContain("torn-fetch");
  });

  it("with coherent-atomic-byte, a single-byte patch never tears and never goes stale", () => {
    const p = prepareSketch(imm8());
    for (const o of everyRun(p, directSingleByte, model("coherent-atomic-byte"), 300)) {
      expect(o.verdict.kind).toBe("clean");
      expect(staleAfterReturn(o, 1) + staleAfterReturn(o, 2)).toBe(0);
    }
  });

  it("a delivered snoop clears the buffer: immediate snoops never leave stale code, no snoop does", () => {
    const p = prepareSketch(imm8());
    const prefetching = { ...model("x86-realistic"), storeAtomicity: "byte" as const };
    const immediate = { ...prefetching, name: "snoop-immediate", crossModifySnoop: "immediate" as const };
    const none = { ...prefetching, name: "snoop-none", crossModifySnoop: "none" as const };
    for (const o of everyRun(p, directSingleByte, immediate, 300)) {
      expect(staleAfterReturn(o, 1) + staleAfterReturn(o, 2)).toBe(0);
      expect(o.verdict.kind).toBe("clean");
    }
    const stale = findRun(p, directSingleByte, none, (o) => staleAfterReturn(o, 1) + staleAfterReturn(o, 2) > 0);
    expect(stale).toBeDefined();
  });

  it("eventual snoops land within the bound: stale execution after the store stays below snoopBound", () => {
    const p = prepareSketch(imm8(2, 40));
    const m = { ...model("x86-realistic"), name: "bound-4", snoopBound: 4, storeAtomicity: "byte" as const };
    let sawStale = false;
    for (const o of everyRun(p, directSingleByte, m, 300)) {
      for (const core of [1, 2]) {
        const n = staleAfterReturn(o, core);
        if (n > 0) sawStale = true;
        // Each loop iteration retires 4 instructions, so a bound of 4 allows at most one stale passage.
        expect(n).toBeLessThanOrEqual(1);
      }
    }
    expect(sawStale).toBe(true);
  });

  it("sdm-strict keeps stale bytes across a branch to a buffered target until serialization", () => {
    const loop = prepareSketch(imm8(2, 20));
    const withCpuid = prepareSketch(imm8(2, 20, ["cpuid"]));
    const m = model("sdm-strict");
    // Without serialization the loop body stays stale for many iterations after the patch.
    const stale = findRun(loop, directSingleByte, m, (o) => staleAfterReturn(o, 1) >= 3);
    expect(stale).toBeDefined();
    expect(stale!.verdict.divergences.map((d) => d.cause)).toContain("stale-after-completion");
    // A cpuid in the loop bounds it: after the op returned, at most the iteration in flight is stale.
    for (const o of everyRun(withCpuid, directSingleByte, m, 300)) {
      expect(staleAfterReturn(o, 1)).toBeLessThanOrEqual(1);
      expect(staleAfterReturn(o, 2)).toBeLessThanOrEqual(1);
    }
  });

  it("mfence serializes fetch exactly where the model says so (mfenceSerializesFetch)", () => {
    const withMfence = prepareSketch(imm8(2, 20, ["mfence"]));
    const plain = { ...model("sdm-strict"), name: "mfence-plain" };
    const fencing = { ...plain, name: "mfence-fencing", mfenceSerializesFetch: true };
    expect(findRun(withMfence, directSingleByte, plain, (o) => staleAfterReturn(o, 1) >= 3)).toBeDefined();
    for (const o of everyRun(withMfence, directSingleByte, fencing, 300)) {
      expect(staleAfterReturn(o, 1)).toBeLessThanOrEqual(1);
      expect(staleAfterReturn(o, 2)).toBeLessThanOrEqual(1);
    }
  });

  it("a decoded cache keeps stale instructions across refetching branches; without it they refetch", () => {
    const p = prepareSketch(jumpLabel(2, 20));
    const refetching = { ...model("superscalar-stale"), name: "decoded-refetch", branchRefetch: true };
    const plain = { ...refetching, name: "plain-refetch", decodedCache: false };
    expect(findRun(p, directWrite, refetching, (o) => staleAfterReturn(o, 1) >= 3)).toBeDefined();
    for (const o of everyRun(p, directWrite, plain, 300)) {
      expect(staleAfterReturn(o, 1)).toBeLessThanOrEqual(1);
      expect(staleAfterReturn(o, 2)).toBeLessThanOrEqual(1);
    }
  });

  it("superscalar-stale: a trap still serializes, so the int3 protocol stays clean", () => {
    const p = prepareSketch(jumpLabel(2, 20));
    for (const o of everyRun(p, strategy("text_poke_bp_batch"), model("superscalar-stale"), 200)) {
      expect(o.verdict.kind).toBe("clean");
    }
  });
});

describe("non-coherent instruction cache", () => {
  const m = model("noncoherent-icache");

  it("a fetch can see new bytes before any maintenance, and old bytes again after new", () => {
    const p = prepareSketch(jumpLabel(2, 20));
    const early = findRun(p, directWrite, m, (o) => o.run.passages.some((q) => passageVersion(q) === "new"));
    expect(early).toBeDefined();
    const back = findRun(p, directWrite, m, (o) => {
      const mine = o.run.passages.filter((q) => q.core === 1).map(passageVersion);
      const firstNew = mine.indexOf("new");
      return firstNew >= 0 && mine.slice(firstNew).includes("old");
    });
    expect(back).toBeDefined();
    expect(back!.verdict.divergences.map((d) => d.cause)).toContain("non-monotonic");
  });

  it("snoops clear the fetch buffer in front of the I-cache too (crossModifySnoop is its own parameter)", () => {
    const p = prepareSketch(jumpLabel(2, 20));
    const keeping = { ...m, name: "nc-keep-buffer", branchRefetch: false };
    const snooping = { ...keeping, name: "nc-snoop", crossModifySnoop: "immediate" as const };
    const oldThenNew = (o: Outcome) => [1, 2].some((c) => {
      const mine = o.run.passages.filter((q) => q.core === c).map(passageVersion);
      const firstOld = mine.indexOf("old");
      return firstOld >= 0 && mine.slice(firstOld).includes("new");
    });
    // Without snoops and without a serializing event, the buffered loop keeps the bytes it first read.
    for (const o of everyRun(p, directWrite, keeping, 300)) expect(oldThenNew(o)).toBe(false);
    expect(findRun(p, directWrite, snooping, oldThenNew)).toBeDefined();
  });

  it("an invalidate delivered before the clean completed leaves stale code after serialization", () => {
    const invalidateFirst: Strategy = {
      name: "invalidate_then_clean",
      description: "test: invalidate the I-cache before the write-back completed",
      *patch(ctx, slots) {
        for (const s of slots) {
          yield* ctx.write(s.start, s.to);
          yield* ctx.invalidateIcache({ lo: s.start, hi: s.start + s.len });
          yield* ctx.barrier();
          yield* ctx.cleanData({ lo: s.start, hi: s.start + s.len });
          yield* ctx.barrier();
          yield* sync(ctx);
        }
      },
    };
    const p = prepareSketch(jumpLabel(2, 20));
    const o = findRun(p, invalidateFirst, m, (r) => staleAfterReturn(r, 1) + staleAfterReturn(r, 2) > 0);
    expect(o).toBeDefined();
    expect(o!.verdict.divergences.map((d) => d.cause)).toContain("stale-after-completion");
  });

  it("clean + barrier + invalidate + barrier + serialize never leaves stale code (property)", () => {
    const flush = strategy("noncoherent_flush");
    for (const sketch of [jumpLabel(2, 12), jumpLabel(3, 8), imm8(3, 10)]) {
      const p = prepareSketch(sketch);
      for (const o of everyRun(p, flush, m, 400)) {
        for (let c = 1; c < p.kase.cores; c++) expect(staleAfterReturn(o, c)).toBe(0);
        expect(o.verdict.divergences.map((d) => d.cause)).not.toContain("stale-after-completion");
      }
    }
  });
});
