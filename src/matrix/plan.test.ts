import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { MatrixCell, Shard, ShardResult } from "../types.js";
import { loadCaseFile } from "../case/load.js";
import { prepare } from "../differential.js";
import { namedModel } from "../models/named.js";
import { builtinStrategy } from "../strategies/registry.js";
import { cellStatus, needsVerification, ruleNames } from "./cells.js";
import { foldCell, shardKey } from "./fold.js";
import { planShards } from "./plan.js";
import { runShard } from "./shard.js";
import { type CellCheck, verifyCell } from "./verify.js";

const corpusCase = (name: string) => {
  const loaded = loadCaseFile(join(import.meta.dirname, "..", "..", "corpus", `${name}.json`));
  return { name, prepared: prepare(loaded.kase, loaded.soloBudget) };
};

/** The verification of a check that must not have hit a harness error. */
const verified = (c: CellCheck) => {
  if ("harnessError" in c) throw new Error(c.harnessError);
  return c.verified;
};

describe("planShards", () => {
  it("every cell once per shard, strategy-major, the cell's budget split exactly", () => {
    const shards = planShards({ strategies: ["a", "b"], models: ["x", "y", "z"], seed: 10, maxExecs: 1001, maxMs: 30_000, shardsPerCell: 3 });
    expect(shards).toHaveLength(18);
    expect(shards.slice(0, 3).map((s) => [s.strategy, s.model, s.seed])).toEqual([["a", "x", 10], ["a", "x", 11], ["a", "x", 12]]);
    for (let c = 0; c < 6; c++) {
      const cell = shards.slice(3 * c, 3 * c + 3);
      expect(cell.reduce((n, s) => n + s.maxExecs, 0)).toBe(1001);
      expect(cell.reduce((n, s) => n + s.maxMs, 0)).toBe(30_000);
    }
  });
  it("every shard carries the matrix's scheduler, part of its identity (a hub never folds a pct shard into a random matrix)", () => {
    const plan = { strategies: ["direct_write"], models: ["sdm-strict"], seed: 1, maxExecs: 40, maxMs: Number.MAX_SAFE_INTEGER };
    const [random] = planShards({ ...plan, scheduler: "random" }), [pct] = planShards({ ...plan, scheduler: "pct" });
    expect([random!.scheduler, pct!.scheduler]).toEqual(["random", "pct"]);
    expect(shardKey(random!)).not.toBe(shardKey(pct!));
    // Served by a node whose own policy is the other one, a shard still runs its own.
    const run = (s: Shard, scheduler: "random" | "pct") => {
      const r = runShard(s, builtinStrategy("direct_write")!, namedModel("sdm-strict")!, { scheduler, minimize: false }).result;
      return { signatures: r.signatures, rules: r.rules, execs: r.execs, first: r.firstDivergence?.execs };
    };
    expect(run(random!, "pct")).toEqual(run(random!, "random"));
    expect(run(random!, "pct")).not.toEqual(run(pct!, "pct"));
  });
  it("a cell names its lowest-seeded shard's first harness error, whatever order the results came in", () => {
    const [a, b] = planShards({ strategies: ["s"], models: ["m"], seed: 1, maxExecs: 10, maxMs: 1000, shardsPerCell: 2 });
    const result = (shard: Shard, firstHarnessError?: string): ShardResult =>
      ({ shard, execs: 5, ms: 1, signatures: [], rules: [], harnessErrors: firstHarnessError ? 1 : 0, ...(firstHarnessError ? { firstHarnessError } : {}) });
    const results = [result(b!, "late"), result(a!, "early")];
    expect(foldCell("s", "m", results).firstHarnessError).toBe("early");
    expect(foldCell("s", "m", [...results].reverse()).firstHarnessError).toBe("early");
    expect(foldCell("s", "m", [result(a!), result(b!)]).firstHarnessError).toBeUndefined();
  });
  it("an unbounded budget stays unbounded in every shard", () => {
    const shards = planShards({ strategies: ["a"], models: ["x"], seed: 0, maxExecs: Number.MAX_SAFE_INTEGER, maxMs: 1000, shardsPerCell: 2 });
    expect(shards.map((s) => s.maxExecs)).toEqual([Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER]);
  });
});

describe("verifyCell", () => {
  it("stop_machine: clean up to the bound asked on corpus cases", () => {
    const v = verified(verifyCell(builtinStrategy("stop_machine")!, namedModel("x86-realistic")!, [corpusCase("jump-label-nop2-jmp8")], { bound: 1, maxSchedules: 100_000 }));
    expect(v).toMatchObject({ bound: 1, cases: 1, complete: true });
    expect(v.divergent).toBeUndefined();
    expect(v.schedules).toBeGreaterThan(1);
  });
  it("a schedule cap too small for bound 1 leaves the bound reached at 0, incomplete", () => {
    const v = verified(verifyCell(builtinStrategy("stop_machine")!, namedModel("x86-realistic")!, [corpusCase("jump-label-nop2-jmp8")], { bound: 1, maxSchedules: 3 }));
    expect(v).toMatchObject({ bound: 0, complete: false });
  });
  it("int3_flush on the non-coherent model: a divergent schedule within bound 1 names the case and bound", () => {
    const v = verified(verifyCell(builtinStrategy("int3_flush")!, namedModel("noncoherent-icache")!, [corpusCase("static-call")], { bound: 1, maxSchedules: 100_000 }));
    expect(v.divergent).toMatchObject({ case: "static-call", bound: 1 });
    expect(v.divergent!.signature).toMatch(/^int3_flush noncoherent-icache /);
    expect(v).toMatchObject({ bound: 0, complete: false });
  });
});

describe("cells", () => {
  const cell = (over: Partial<MatrixCell>): MatrixCell => ({
    strategy: "s", model: "m", shards: 1, execs: 10, ms: 5, signatures: [], causes: [], effects: [], rules: [], harnessErrors: 0, ...over,
  });
  it("status: fuzzing's divergences first, then the exhaustive check's, then harness errors", () => {
    expect(cellStatus(cell({ signatures: ["s m torn-fetch wild-jump k write/0"] }))).toBe("diverges");
    expect(cellStatus(cell({ verified: { bound: 0, cases: 1, schedules: 3, complete: false, divergent: { case: "c", bound: 1, signature: "x" } } }))).toBe("diverges-exhaustive");
    expect(cellStatus(cell({ harnessErrors: 2 }))).toBe("harness-error");
    expect(cellStatus(cell({}))).toBe("no-divergence");
    expect(needsVerification(cell({}))).toBe(true);
    expect(needsVerification(cell({ harnessErrors: 1 }))).toBe(false);
  });
  it("rule names from rule signatures", () => {
    expect(ruleNames(cell({ rules: ["rule s m unsynchronized-xmc nop5->jmp32 after/0", "rule s m unsynchronized-xmc k write/0", "rule s m cmodx-violation k after/0"] })))
      .toEqual(["cmodx-violation", "unsynchronized-xmc"]);
  });
});
