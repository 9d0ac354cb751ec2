import { describe, expect, it } from "vitest";
import { expectationOf, runOnce } from "./differential.js";
import { namedModel } from "./models/named.js";
import { builtinStrategy } from "./strategies/registry.js";
import { prepareSketch } from "./testing/build.js";
import { imm8, jumpLabel } from "./testing/programs.js";

// What a recorded run expects: rule findings are shown apart from divergences (SPEC 7.3),
// whatever `--rules-fail` said.

const cell = (strategy: string, model: string) => ({ strategy: builtinStrategy(strategy)!, model: namedModel(model)! });
/** One program core, two passages through `mov al, 1 -> mov al, 2`. */
const imm = prepareSketch(imm8(1, 2));

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
