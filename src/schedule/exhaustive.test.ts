import { describe, expect, it } from "vitest";
import type { Decision, Model, Strategy } from "../types.js";
import { expectationOf, runOnce, type PreparedCase } from "../differential.js";
import { runCase } from "../machine/run.js";
import { HarnessError } from "../machine/strategy-driver.js";
import { NAMED_MODELS, namedModel } from "../models/named.js";
import { builtinStrategy } from "../strategies/registry.js";
import { prepareSketch } from "../testing/build.js";
import { imm8, jumpLabel } from "../testing/programs.js";
import { formatDecisions } from "./choosers.js";
import { deviations, exploreExhaustive, PrefixChooser, type ExhaustiveSpec } from "./exhaustive.js";
import { formatExhaustive } from "../report/search.js";

// SPEC 8 `exhaustive` and the 6.6 self-check it serves: on a case small enough to enumerate,
// stop_machine has no divergent schedule within the delay bound, direct_write has one.

const stopMachine = builtinStrategy("stop_machine")!;
const directWrite = builtinStrategy("direct_write")!;
/** 2 program cores, one nop5 -> jmp32 slot, 2 iterations. */
const small: PreparedCase = prepareSketch(jumpLabel(2, 2));
const model = (name: string): Model => namedModel(name)!;

/** Bound 2 under sdm-strict is 437,267 runs, ~3 min (each byte refill chooses among ~80 block counts). */
const BOUND2_MODELS = NAMED_MODELS.filter((m) => m.name !== "sdm-strict");

/** Runs a prefix then zeros, returning the whole decision list. */
function decisionsOf(spec: ExhaustiveSpec, prefix: readonly Decision[]): readonly Decision[] {
  const chooser = new PrefixChooser(prefix, spec.strategy.name);
  runCase(small.plan, spec.strategy, spec.model, { chooser, soloBudget: small.soloBudget });
  return chooser.decisions;
}

/** The textbook DFS (lexicographic order): increase the deepest decision the bound allows. */
function nextLexicographic(list: readonly Decision[], bound: number): Decision[] | undefined {
  let before = deviations(list);
  for (let i = list.length - 1; i >= 0; i--) {
    const [c, n] = list[i]!;
    if (c !== 0) before--;
    if (c + 1 < n && before + 1 <= bound) return [...list.slice(0, i), [c + 1, n]];
  }
  return undefined;
}

function lexicographicSchedules(spec: ExhaustiveSpec, bound: number): string[] {
  const seen: string[] = [];
  for (let prefix: Decision[] | undefined = []; prefix; ) {
    const list = decisionsOf(spec, prefix);
    seen.push(formatDecisions(list));
    prefix = nextLexicographic(list, bound);
  }
  return seen;
}

function exploredSchedules(spec: ExhaustiveSpec, bound: number): string[] {
  const seen: string[] = [];
  const r = exploreExhaustive(small, spec, { bound, onSchedule: (d) => { seen.push(formatDecisions(d)); } }, false);
  expect(r.explored).toBe(seen.length);
  expect(r.complete).toBe(true);
  return seen;
}

describe("exhaustive scheduler: stop_machine self-check (SPEC 6.6)", () => {
  const cases = [
    ...NAMED_MODELS.map((m) => ({ m, bound: 1 })),
    ...BOUND2_MODELS.map((m) => ({ m, bound: 2 })),
  ];
  for (const { m, bound } of cases) {
    it(`no divergent schedule and no rule finding under ${m.name} within delay bound ${bound}`, () => {
      const rules: string[] = [];
      const spec = { strategy: stopMachine, model: m };
      const r = exploreExhaustive(small, spec, {
        bound,
        onSchedule: (d, o) => { if (o.verdict.rules.length) rules.push(`${formatDecisions(d)}: ${o.verdict.rules.map((x) => x.rule).join(",")}`); },
      });
      expect(formatExhaustive(r, bound)).toBe(`no divergence in all ${r.explored} schedules within delay bound ${bound}`);
      expect(r.divergent).toBeUndefined();
      expect(rules).toEqual([]);
      expect(r.explored).toBeGreaterThan(1);
      expect(r.complete).toBe(true);
    });
  }
});

// The full bound-2 proof under sdm-strict takes minutes: opt in with XMCFUZZ_SLOW=1.
describe.runIf(process.env["XMCFUZZ_SLOW"])("exhaustive scheduler: stop_machine self-check, slow", () => {
  it("no divergent schedule and no rule finding under sdm-strict within delay bound 2", () => {
    const t0 = Date.now();
    let rules = 0;
    const r = exploreExhaustive(small, { strategy: stopMachine, model: model("sdm-strict") }, {
      bound: 2, onSchedule: (_d, o) => { rules += o.verdict.rules.length; },
    });
    console.log(`${formatExhaustive(r, 2)} in ${Date.now() - t0} ms`);
    expect(r.divergent).toBeUndefined();
    expect(rules).toBe(0);
    expect(r.complete).toBe(true);
  }, 3_600_000);
});

describe("exhaustive scheduler: direct_write diverges within a small bound", () => {
  for (const name of ["coherent-atomic-byte", "sdm-strict"]) {
    it(`finds a divergent schedule under ${name} that replays strictly to the same verdict`, () => {
      const spec = { strategy: directWrite, model: model(name) };
      const r = exploreExhaustive(small, spec, { bound: 2 });
      const d = r.divergent!;
      expect(d.verdict.kind).toBe("diverges");
      expect(r.complete).toBe(false);
      expect(deviations(d.decisions)).toBeLessThanOrEqual(2);
      // Rule findings follow, apart: direct_write breaks unsynchronized-xmc in every schedule.
      expect(formatExhaustive(r, 2)).toBe(`divergent schedule found after ${r.explored} schedules: ${d.verdict.signature}; rule findings: unsynchronized-xmc in ${r.explored} of ${r.explored} schedules (first: schedule 1)`);
      const replay = runOnce(small, { ...spec, decisions: d.decisions });
      expect(replay.verdict.signature).toBe(d.verdict.signature);
      expect(expectationOf(replay.verdict)).toEqual(expectationOf(d.verdict));
      expect(replay.decisions).toEqual(d.decisions);
    });
  }

  it("does not stop at the first divergence when asked to, and counts every divergent schedule", () => {
    const spec = { strategy: directWrite, model: model("coherent-atomic-byte") };
    const r = exploreExhaustive(small, spec, { bound: 2 }, false);
    expect(r.complete).toBe(true);
    expect(r.divergentSchedules).toBeGreaterThan(1);
    expect(r.divergentSchedules).toBeLessThan(r.explored);
    expect(formatExhaustive(r, 2)).toMatch(new RegExp(`^divergent schedule found after ${r.explored} schedules: .* \\(${r.divergentSchedules} divergent schedules\\); rule findings: unsynchronized-xmc in \\d+ of ${r.explored} schedules`));
  });
});

describe("exhaustive scheduler: rule findings apart from divergences (SPEC 7.3)", () => {
  // direct_single_byte patches an immediate without any sync: every schedule breaks unsynchronized-xmc.
  const imm = prepareSketch(imm8(1, 3));
  const spec = { strategy: builtinStrategy("direct_single_byte")!, model: model("coherent-atomic-byte") };

  it("counts the schedules that broke each rule and keeps the first, which replays to it", () => {
    const r = exploreExhaustive(imm, spec, { bound: 2 });
    expect(r.divergent).toBeUndefined();
    expect(r.explored).toBe(3);
    expect(r.ruleSchedules.map(({ rule, schedules, first }) => ({ rule, schedules, first }))).toEqual([{ rule: "unsynchronized-xmc", schedules: 3, first: 1 }]);
    expect(formatExhaustive(r, 2)).toBe("no divergence in all 3 schedules within delay bound 2; rule findings: unsynchronized-xmc in 3 of 3 schedules (first: schedule 1)");
    const replay = runOnce(imm, { ...spec, decisions: r.ruleSchedules[0]!.decisions });
    expect(expectationOf(replay.verdict)).toEqual(expectationOf(r.ruleSchedules[0]!.verdict));
  });

  it("with --rules-fail, the schedule found is reported by the rule it broke", () => {
    const r = exploreExhaustive(imm, { ...spec, judge: { rulesFail: true } }, { bound: 2 });
    expect(r.divergent?.verdict.kind).toBe("diverges");
    expect(formatExhaustive(r, 2)).toMatch(/^divergent schedule found after 1 schedules: rule finding unsynchronized-xmc \(counted as a divergence: --rules-fail\)/);
  });
});

describe("exhaustive scheduler: the DFS itself", () => {
  for (const [name, bound] of [["coherent-atomic-byte", 2], ["x86-realistic", 2], ["sdm-strict", 1]] as const) {
    it(`runs each schedule within bound ${bound} exactly once under ${name}: the textbook DFS's set, no duplicates`, () => {
      const spec = { strategy: stopMachine, model: model(name) };
      const seen = exploredSchedules(spec, bound);
      expect(new Set(seen).size).toBe(seen.length);
      for (const s of seen) expect(s.split(" ").filter((t) => !t.startsWith("0/")).length).toBeLessThanOrEqual(bound);
      expect([...seen].sort()).toEqual(lexicographicSchedules(spec, bound).sort());
    });
  }

  it("bound 0 is the default schedule alone; each bound adds schedules", () => {
    const spec = { strategy: stopMachine, model: model("x86-realistic") };
    const zero = exploredSchedules(spec, 0);
    expect(zero).toHaveLength(1);
    expect(deviations(decisionsOf(spec, []))).toBe(0);
    expect(exploredSchedules(spec, 1).length).toBeLessThan(exploredSchedules(spec, 2).length);
  });

  it("maxSchedules cuts the search and says so", () => {
    const spec = { strategy: stopMachine, model: model("x86-realistic") };
    const r = exploreExhaustive(small, spec, { bound: 2, maxSchedules: 10 });
    expect(r.explored).toBe(10);
    expect(r.complete).toBe(false);
    expect(formatExhaustive(r, 2)).toBe("no divergence in all 10 schedules within delay bound 2 (stopped at maxSchedules: the bound was not exhausted)");
    const all = exploreExhaustive(small, spec, { bound: 1 });
    expect(exploreExhaustive(small, spec, { bound: 1, maxSchedules: all.explored }).complete).toBe(true);
  });

  it("PrefixChooser follows its prefix, then picks 0; a prefix that no longer fits is a strategy that is not deterministic", () => {
    const c = new PrefixChooser([[2, 3]], "s");
    expect(c.choose(3, "event")).toBe(2);
    expect(c.choose(4, "event")).toBe(0);
    expect(c.decisions).toEqual([[2, 3], [0, 4]]);
    expect(() => new PrefixChooser([[1, 3]], "s").choose(2, "event")).toThrow(new HarnessError("strategy s is not deterministic: the same decisions led elsewhere (decision 0 (event): 3 options before, 2 now)"));
  });

  it("a strategy that is not deterministic is the cell's harness error, not an abort of the search", () => {
    let calls = 0;
    const fickle: Strategy = {
      name: "fickle", description: "waits a varying number of barriers from one call to the next",
      *patch(ctx, slots) {
        for (let i = 0; i < calls++ % 3; i++) yield* ctx.barrier();
        for (const s of slots) yield* ctx.write(s.start, s.to);
      },
    };
    const r = exploreExhaustive(small, { strategy: fickle, model: model("coherent-atomic-byte") }, { bound: 1 });
    expect(r.divergent?.verdict.kind).toBe("harness-error");
    expect(r.complete).toBe(false);
    expect(formatExhaustive(r, 1)).toMatch(new RegExp(`^harness error after ${r.explored} schedules: strategy fickle is not deterministic: the same decisions led elsewhere`));
  });
});
