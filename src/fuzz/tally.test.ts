import { describe, expect, it } from "vitest";
import { FindingTally } from "./tally.js";

const cell = (strategy: string, model: string) => ({ strategy, model });

describe("FindingTally", () => {
  it("counts signatures per cell and class, most first, and harness errors, and lists every cell asked for", () => {
    const t = new FindingTally();
    for (const cause of ["torn-fetch", "bad-emulation", "torn-fetch"] as const) t.add({ kind: "divergence", cause, ...cell("a", "m1") });
    t.add({ kind: "rule", rule: "unsynchronized-xmc", ...cell("a", "m1") });
    t.add({ kind: "divergence", cause: "spurious-int3", ...cell("b", "m2") });
    t.harnessError("a", "m2");
    t.harnessError("a", "m2");
    expect([t.divergences, t.ruleFindings, t.harnessErrors]).toEqual([4, 1, 2]);
    expect(t.byCell(["a", "b"], ["m1", "m2"])).toEqual([
      { strategy: "a", model: "m1", divergences: 3, causes: [["torn-fetch", 2], ["bad-emulation", 1]], ruleFindings: 1, rules: [["unsynchronized-xmc", 1]], harnessErrors: 0 },
      { strategy: "a", model: "m2", divergences: 0, causes: [], ruleFindings: 0, rules: [], harnessErrors: 2 },
      { strategy: "b", model: "m1", divergences: 0, causes: [], ruleFindings: 0, rules: [], harnessErrors: 0 },
      { strategy: "b", model: "m2", divergences: 1, causes: [["spurious-int3", 1]], ruleFindings: 0, rules: [], harnessErrors: 0 },
    ]);
  });

  it("appends cells found beyond those asked for (a hub's shards), in the order found", () => {
    const t = new FindingTally();
    t.add({ kind: "divergence", cause: "unexplained", ...cell("z", "m9") });
    t.add({ kind: "divergence", cause: "torn-fetch", ...cell("y", "m9") });
    expect(t.byCell(["a"], ["m1"]).map((c) => `${c.strategy}/${c.model}/${c.divergences}`)).toEqual(["a/m1/0", "z/m9/1", "y/m9/1"]);
  });

  it("breaks ties between classes by name, so equal counts always print alike", () => {
    const t = new FindingTally();
    for (const cause of ["torn-fetch", "bad-emulation"] as const) t.add({ kind: "divergence", cause, ...cell("a", "m") });
    expect(t.byCell(["a"], ["m"])[0]!.causes).toEqual([["bad-emulation", 1], ["torn-fetch", 1]]);
  });
});
