import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCaseFile } from "../case/load.js";
import { expectationOf, prepare, runOnce, searchSchedules } from "../differential.js";
import { namedModel } from "../models/named.js";
import { builtinStrategy } from "../strategies/registry.js";
import { RERECORD_SCHEDULES, rerecord } from "./regress.js";

const corpus = join(import.meta.dirname, "..", "..", "corpus");

describe("rerecord", () => {
  it("re-records a drifted run by a strict schedule search, never a lenient replay of its old list (SPEC 8)", () => {
    const { kase, soloBudget } = loadCaseFile(join(corpus, "jump-label-nop5-jmp32.json"));
    const prepared = prepare(kase, soloBudget);
    const run = kase.runs.find((r) => r.strategy === "direct_write" && r.expect?.verdict === "diverges")!;
    const strategy = builtinStrategy(run.strategy)!, model = namedModel(run.model)!;
    // Indices far out of range: a lenient replay would wrap them into a schedule of its own.
    const drifted = { ...run, decisions: run.decisions!.map(([, n]) => [n + 7, n + 1] as const) };
    const again = rerecord(prepared, drifted, strategy, model);
    const searched = searchSchedules(prepared, { strategy, model, seed: run.seed }, RERECORD_SCHEDULES);
    expect(again.seed).toBe(searched.seed);
    expect(again.decisions).toEqual(searched.decisions);
    expect(again.expect).toEqual(expectationOf(searched.verdict));
    expect(again.expect!.verdict).toBe("diverges");
    // What it stores replays strictly to what it stores.
    expect(expectationOf(runOnce(prepared, { strategy, model, decisions: again.decisions }).verdict)).toEqual(again.expect);
  });

  it("keeps the decisions of a run that still replays, with its new expectation", () => {
    const { kase, soloBudget } = loadCaseFile(join(corpus, "static-call.json"));
    const run = kase.runs[0]!;
    const again = rerecord(prepare(kase, soloBudget), { ...run, expect: { verdict: "diverges", signature: "made up", rules: [] } }, builtinStrategy(run.strategy)!, namedModel(run.model)!);
    expect(again).toEqual(run);
  });
});
