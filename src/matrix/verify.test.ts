import { describe, expect, it } from "vitest";
import type { MatrixCell } from "../types.js";
import { namedModel } from "../models/named.js";
import { builtinStrategy } from "../strategies/registry.js";
import { prepareSketch } from "../testing/build.js";
import { imm8, jumpLabel } from "../testing/programs.js";
import { ruleNames, withVerification } from "./cells.js";
import { verifyCell } from "./verify.js";

// The exhaustive check of a cell fuzzing found clean: its bound, and (SPEC 7.3) the rules broken
// in the schedules it ran, shown beside the fuzzing's own rule findings.

const cases = [{ name: "imm8", prepared: prepareSketch(imm8(2, 2)) }, { name: "jump-label", prepared: prepareSketch(jumpLabel(2, 2)) }];
const opts = { bound: 1, maxSchedules: 2000 };

describe("verifyCell", () => {
  it("reports the rules a clean protocol breaks in the schedules it ran", () => {
    // One byte stored without synchronisation: no divergence on coherent-atomic-byte, but Intel's rule is broken.
    const v = verifyCell(builtinStrategy("direct_single_byte")!, namedModel("coherent-atomic-byte")!, cases.slice(0, 1), opts);
    expect(v.divergent).toBeUndefined();
    expect(v.bound).toBe(1);
    expect(v.rules).toEqual(["unsynchronized-xmc"]);
    const cell = { rules: [] } as unknown as MatrixCell;
    expect(ruleNames(withVerification(cell, v))).toEqual(["unsynchronized-xmc"]);
  });

  it("reports no rule for stop_machine", () => {
    const clean = verifyCell(builtinStrategy("stop_machine")!, namedModel("x86-realistic")!, cases, opts);
    expect(clean.divergent).toBeUndefined();
    expect(clean.bound).toBe(1);
    expect(clean.rules).toBeUndefined();
  });
});
