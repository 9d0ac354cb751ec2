import { describe, expect, it } from "vitest";
import { sameBytes } from "../isa/bytes.js";
import { planCase } from "../machine/plan.js";
import { type CaseSketch, sketchCase } from "../testing/build.js";
import { twoJumpLabels } from "../testing/programs.js";
import { factsOf } from "./case-facts.js";
import { type Choice, SlotVersions } from "./versions.js";

// SPEC 6.2's switch rules at one core's slot passages, given its windows [a_j, b_j]: outside a
// window an op has switched or not, inside it either; per-site ops switch each slot on its own,
// atomic ones all at once; later ops of a slot switch after earlier ones; a non-monotonic op
// may show either version at any passage inside its window.

const A = 0, B = 1;

function versions(sketch: CaseSketch, a: number[], b: number[]) {
  const plan = planCase(sketchCase(sketch));
  const v = new SlotVersions(plan, factsOf(plan), { a, b, widened: false, opened: false }, []);
  const slot = (k: number) => plan.kase.program.slots[k]!;
  /** Each choice as [version of slot k its bytes are, switch state]. */
  const version = (k: number, bytes: Uint8Array) => (sameBytes(bytes, slot(k).old) ? "old" : sameBytes(bytes, slot(k).new) ? "new" : "neither");
  const named = (k: number, choices: Choice[]) => choices.map((c) => [version(k, c.content), c.sw.join("")]);
  return { v, named, slot };
}

describe("SlotVersions", () => {
  it("a per-site op: switched or not inside its window, one slot at a time", () => {
    const { v, named } = versions(twoJumpLabels("per-site"), [1], [3]);
    const none = v.initial();
    expect(named(A, v.options(none, A, 0))).toEqual([["old", "00"]]); // before the window
    expect(v.windowOpen(none, A, 0)).toBe(false);
    expect(v.windowOpen(none, A, 1)).toBe(true);
    // Inside: either, and switching slot a leaves slot b as it was.
    expect(named(A, v.options(none, A, 1))).toEqual([["old", "00"], ["new", "10"]]);
    expect(named(A, v.options(none, A, 3))).toEqual([["new", "10"]]); // the window has closed
    const due = v.initial();
    v.switchDue(due, B, 3);
    expect(due.join("")).toBe("01");
  });

  it("an atomic op switches all its slots at one point", () => {
    const { v, named } = versions(twoJumpLabels("atomic"), [1], [3]);
    expect(named(A, v.options(v.initial(), A, 2))).toEqual([["old", "00"], ["new", "11"]]);
    const due = v.initial();
    v.switchDue(due, B, 5);
    expect(due.join("")).toBe("11");
  });

  it("later ops of a slot switch after earlier ones: patch, then revert", () => {
    const sketch: CaseSketch = { ...twoJumpLabels("per-site"), ops: [["a"], ["!a"]] };
    // Switch state index: op * 2 + slot. Both windows open at passage 2.
    const { v, named } = versions(sketch, [1, 2], [5, 6]);
    expect(named(A, v.options(v.initial(), A, 2))).toEqual([["old", "0000"], ["new", "1000"], ["old", "1010"]]);
    // At passage 1 only op 0's window is open: the revert cannot come first.
    expect(named(A, v.options(v.initial(), A, 1))).toEqual([["old", "0000"], ["new", "1000"]]);
    // Op 1's window closing switches op 0 first.
    const due = v.initial();
    v.switchDue(due, A, 6);
    expect(due.join("")).toBe("1010");
  });

  it("an atomic op switching a slot switches that slot's earlier ops first, even through another slot", () => {
    // Op 0 patches b alone; op 1 patches a and reverts b at one point. Switching op 1 at a passage
    // through a must switch op 0 for b first: b's points keep their order.
    const sketch: CaseSketch = { ...twoJumpLabels("per-site"), ops: [["b"], { slots: ["a", "!b"], batch: "atomic" }] };
    const { v, named } = versions(sketch, [0, 1], [5, 6]);
    // Switch state index: op * 2 + slot.
    expect(named(A, v.options(v.initial(), A, 2))).toEqual([["old", "0000"], ["new", "0111"]]);
  });

  it("a non-monotonic op may show the new version without having switched (new, then old again)", () => {
    const sketch: CaseSketch = { ...twoJumpLabels("per-site"), ops: [{ slots: ["a"], monotonic: false }] };
    const { v, named } = versions(sketch, [1], [3]);
    expect(named(A, v.options(v.initial(), A, 2))).toEqual([["old", "00"], ["new", "00"], ["new", "10"]]);
    // Outside the window the rules of a monotonic op apply.
    expect(named(A, v.options(v.initial(), A, 0))).toEqual([["old", "00"]]);
    expect(named(A, v.options(v.initial(), A, 3))).toEqual([["new", "10"]]);
  });

  it("contentOf reads a slot's bytes off a switch state, with an op seen as switched for the moment", () => {
    const { v, slot } = versions(twoJumpLabels("per-site"), [1], [3]);
    expect([...v.contentOf(v.initial(), A, -1)]).toEqual([...slot(A).old]);
    expect([...v.contentOf(v.initial(), A, 0)]).toEqual([...slot(A).new]);
    expect([...v.contentOf([1, 0], A, -1)]).toEqual([...slot(A).new]);
  });
});
