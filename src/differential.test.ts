import { describe, expect, it } from "vitest";
import type { Expectation, Verdict } from "./types.js";
import { expectationOf, ruleSchedulesBeyond, runOnce, searchSchedules, type RuleSchedules } from "./differential.js";
import { namedModel } from "./models/named.js";
import { regressCase } from "./corpus/regress.js";
import { DriftError } from "./schedule/choosers.js";
import { builtinStrategy } from "./strategies/registry.js";
import { prepareSketch } from "./testing/build.js";
import { imm8, jumpLabel } from "./testing/programs.js";

// The random search of `run` and what a recorded run expects: rule findings are shown apart from
// divergences (SPEC 7.3), in every schedule searched and whatever `--rules-fail` said.

const cell = (strategy: string, model: string) => ({ strategy: builtinStrategy(strategy)!, model: namedModel(model)! });
/** One program core, two passages through `mov al, 1 -> mov al, 2`. */
const imm = prepareSketch(imm8(1, 2));

describe("searchSchedules: rule findings across the schedules", () => {
  it("a clean search keeps the rule findings of every schedule, not only the last one's", () => {
    // Under noncoherent_flush x x86-realistic seeds 0-3 break unsynchronized-xmc, seed 4 does not.
    const spec = { ...cell("noncoherent_flush", "x86-realistic"), seed: 0 };
    const byRun = [0, 1, 2, 3, 4].map((seed) => runOnce(imm, { ...spec, seed }).verdict.rules.length > 0);
    expect(byRun).toEqual([true, true, true, true, false]);
    const o = searchSchedules(imm, spec, 5);
    expect(o.verdict.kind).toBe("clean");
    expect(o.schedules).toBe(5);
    expect(o.ruleSchedules.map(({ rule, schedules, first }) => ({ rule, schedules, first }))).toEqual([{ rule: "unsynchronized-xmc", schedules: 4, first: 0 }]);
    // The run reported (and recorded) is the first that broke the rule, and replays to it.
    expect(o.seed).toBe(0);
    expect(o.verdict.rules.map((r) => r.rule)).toContain("unsynchronized-xmc");
    expect(runOnce(imm, { ...spec, decisions: o.ruleSchedules[0]!.decisions }).verdict.rules.length).toBeGreaterThan(0);
  });

  it("a divergent search names its seed and still counts the rule findings before it", () => {
    // Under int3_nosync x x86-realistic, on a jump label, seeds 0-2 break the rule and seed 3 diverges.
    const jl = prepareSketch(jumpLabel(1, 2));
    const o = searchSchedules(jl, { ...cell("int3_nosync", "x86-realistic"), seed: 0 }, 10);
    expect(o.verdict.kind).toBe("diverges");
    expect(o.seed).toBe(3);
    expect(o.schedules).toBe(4);
    expect(o.ruleSchedules[0]).toMatchObject({ rule: "unsynchronized-xmc", first: 0 });
    expect(o.ruleSchedules[0]!.schedules).toBeGreaterThanOrEqual(3);
  });

  it("refuses seeds past 2^53 - 1 instead of running one seed forever", () => {
    const spec = { ...cell("direct_single_byte", "coherent-atomic-byte"), seed: Number.MAX_SAFE_INTEGER };
    expect(() => searchSchedules(imm, spec, 2)).toThrow(RangeError);
    expect(searchSchedules(imm, spec, 1).seed).toBe(Number.MAX_SAFE_INTEGER);
  });
});

describe("ruleSchedulesBeyond: what --record keeps beside the reported run", () => {
  const finding = (rule: RuleSchedules["rule"]) => ({ rule, core: 1, addr: 0, t: 0, bytes: [], phase: { kind: "write" as const, syncs: 0 }, slotKind: "k" });
  const verdict = (rules: RuleSchedules["rule"][]): Verdict => ({ kind: "clean", strategy: "s", model: "m", divergences: [], rules: rules.map(finding) });
  const seen = (rule: RuleSchedules["rule"], first: number): RuleSchedules => ({ rule, schedules: 1, first, decisions: [], verdict: verdict([rule]) });

  it("the first schedule of each rule the reported run does not show, each schedule once", () => {
    const both = [seen("cmodx-violation", 3), seen("unsynchronized-xmc", 3)];
    expect(ruleSchedulesBeyond(verdict(["cmodx-violation", "unsynchronized-xmc"]), both)).toEqual([]);
    expect(ruleSchedulesBeyond(verdict(["cmodx-violation"]), both).map((r) => r.rule)).toEqual(["unsynchronized-xmc"]);
    expect(ruleSchedulesBeyond(verdict([]), both).map((r) => r.first)).toEqual([3]);
    expect(ruleSchedulesBeyond(undefined, [seen("cmodx-violation", 1), seen("unsynchronized-xmc", 4)]).map((r) => r.first)).toEqual([1, 4]);
  });
});

describe("expectationOf: the verdict itself, rule findings apart", () => {
  it("is the same with and without --rules-fail, so a run recorded with it replays", () => {
    const spec = { ...cell("direct_single_byte", "coherent-atomic-byte"), seed: 0 };
    const counted = runOnce(imm, { ...spec, judge: { rulesFail: true } });
    const apart = runOnce(imm, spec);
    expect(counted.verdict.kind).toBe("diverges");
    expect(apart.verdict.kind).toBe("clean");
    expect(expectationOf(counted.verdict)).toEqual({ verdict: "clean", rules: ["unsynchronized-xmc"] });
    expect(expectationOf(counted.verdict)).toEqual(expectationOf(apart.verdict));
  });

  it("a real divergence stays one under --rules-fail", () => {
    const jl = prepareSketch(jumpLabel(1, 2));
    const spec = { ...cell("int3_nosync", "x86-realistic"), seed: 3 };
    const counted = expectationOf(runOnce(jl, { ...spec, judge: { rulesFail: true } }).verdict);
    expect(counted.verdict).toBe("diverges");
    expect(counted).toEqual(expectationOf(runOnce(jl, spec).verdict));
  });
});

describe("runOnce: strict replay", () => {
  it("a strategy that now throws ends the replay early: a drift naming its error; regress reads a changed verdict unless it expected one", () => {
    const p = prepareSketch(jumpLabel(3, 12));
    const model = namedModel("x86-realistic")!;
    const good = builtinStrategy("text_poke_bp_batch")!;
    const recorded = runOnce(p, { strategy: good, model, seed: 4 });
    expect(recorded.run.harnessError).toBeUndefined();
    const throwsLater: typeof good = {
      ...good,
      *patch(ctx, slots) {
        let steps = 0;
        for (const step of good.patch(ctx, slots)) {
          if (++steps === 3) throw new Error("boom");
          yield step;
        }
      },
    };
    const error = `strategy ${good.name} threw in patch: boom`;
    let drift: unknown;
    try {
      runOnce(p, { strategy: throwsLater, model, decisions: recorded.decisions });
    } catch (e) {
      drift = e;
    }
    expect(drift).toBeInstanceOf(DriftError);
    expect((drift as DriftError).harnessError).toBe(error);
    expect((drift as DriftError).message).toMatch(new RegExp(`^replay drift: run ended after \\d+ of ${recorded.decisions.length} recorded decisions, ended by a harness error: ${error}$`));
    const regress = (expect: Expectation) => regressCase("t.json", { kase: { ...p.kase, runs: [{ strategy: good.name, model: model.name, seed: 4, decisions: recorded.decisions, expect }] }, soloBudget: p.soloBudget }, () => [throwsLater, model]).checks[0]!;
    const wasClean = regress(expectationOf(recorded.verdict));
    expect([wasClean.changes, wasClean.actual?.verdict, wasClean.harnessError]).toEqual([["changed-verdict"], "harness-error", error]);
    // A recorded harness error that now comes earlier: the schedule no longer fits it.
    expect(regress({ verdict: "harness-error", rules: [] }).changes).toEqual(["drift"]);
  });
});
