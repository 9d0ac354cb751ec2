import { describe, expect, it } from "vitest";
import type { MatrixCell, Strategy } from "../types.js";
import { namedModel } from "../models/named.js";
import { builtinStrategy } from "../strategies/registry.js";
import { prepareSketch } from "../testing/build.js";
import { imm8, jumpLabel } from "../testing/programs.js";
import { ruleNames, withVerification } from "./cells.js";
import { type CellCheck, verifyCell } from "./verify.js";

// The exhaustive check of a cell fuzzing found clean: its bound, and (SPEC 7.3) the rules broken
// in the schedules it ran, shown beside the fuzzing's own rule findings.

const cases = [{ name: "imm8", prepared: prepareSketch(imm8(2, 2)) }, { name: "jump-label", prepared: prepareSketch(jumpLabel(2, 2)) }];
const opts = { bound: 1, maxSchedules: 2000 };

/** The verification of a check that must not have hit a harness error. */
const verified = (c: CellCheck) => {
  if ("harnessError" in c) throw new Error(c.harnessError);
  return c.verified;
};

describe("verifyCell", () => {
  it("reports the rules a clean protocol breaks in the schedules it ran", () => {
    // One byte stored without synchronisation: no divergence on coherent-atomic-byte, but Intel's rule is broken.
    const v = verified(verifyCell(builtinStrategy("direct_single_byte")!, namedModel("coherent-atomic-byte")!, cases.slice(0, 1), opts));
    expect(v.divergent).toBeUndefined();
    expect(v.bound).toBe(1);
    expect(v.rules).toEqual(["unsynchronized-xmc"]);
    const cell = { rules: [] } as unknown as MatrixCell;
    expect(ruleNames(withVerification(cell, v))).toEqual(["unsynchronized-xmc"]);
  });

  it("reports no rule for stop_machine", () => {
    const clean = verified(verifyCell(builtinStrategy("stop_machine")!, namedModel("x86-realistic")!, cases, opts));
    expect(clean.divergent).toBeUndefined();
    expect(clean.bound).toBe(1);
    expect(clean.rules).toBeUndefined();
  });

  it("reports a strategy that throws on a corpus case as a harness error, never as a divergent schedule", () => {
    const stop = builtinStrategy("stop_machine")!;
    // stop_machine, except on the jump label's 5-byte slot (the second case).
    const picky: Strategy = {
      name: "picky", description: "throws on jump labels",
      *patch(ctx, slots) {
        if (slots.some((sl) => sl.len === 5)) throw new Error("picky: I refuse this patch");
        return yield* stop.patch(ctx, slots);
      },
    };
    const check = verifyCell(picky, namedModel("x86-realistic")!, cases, opts);
    expect(check).toEqual({ harnessError: expect.stringMatching(/^exhaustive verify, corpus case jump-label, bound 0: .*picky: I refuse this patch$/) as unknown });
  });
});
