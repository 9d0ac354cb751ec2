import { describe, expect, it } from "vitest";
import { type CaseSketch, sketchCase } from "../testing/build.js";
import { twoJumpLabels } from "../testing/programs.js";
import { isVersionInstrAt, planCase } from "./plan.js";

// What a case's plan says before any run: the image after each op, which ops list and which
// change each slot, and where the slots lie.

describe("planCase", () => {
  // Op 0 patches a and b, op 1 reverts a, op 2 patches b again (already new: a change of nothing).
  const sketch: CaseSketch = { ...twoJumpLabels("per-site"), ops: [["a", "b"], ["!a"], ["b"]] };
  const kase = sketchCase(sketch);
  const plan = planCase(kase);
  const [a, b] = kase.program.slots;
  const at = (image: Uint8Array, s: typeof a) => [...image.subarray(s!.start - kase.program.base, s!.start - kase.program.base + s!.len)];

  it("has the image after each op, the initial one first", () => {
    expect(plan.images).toHaveLength(4);
    expect([...plan.images[0]!]).toEqual([...kase.program.code]);
    expect([at(plan.images[1]!, a), at(plan.images[1]!, b)]).toEqual([[...a!.new], [...b!.new]]);
    expect([at(plan.images[2]!, a), at(plan.images[2]!, b)]).toEqual([[...a!.old], [...b!.new]]);
    expect([...plan.images[3]!]).toEqual([...plan.images[2]!]);
    // Outside the slots every image is the initial code.
    const outside = (img: Uint8Array) => [...img].filter((_, o) => plan.slotAt[o] === -1);
    for (const img of plan.images) expect(outside(img)).toEqual(outside(plan.images[0]!));
  });

  it("says which ops list a slot, which change it, and from what to what", () => {
    expect(plan.opsOfSlot).toEqual([[0, 1], [0, 2]]);
    expect(plan.changingOpsOfSlot).toEqual([[0, 1], [0]]); // op 2 writes b's new version over itself
    expect(plan.opSlots[1]!.map((p) => [p.slot, [...p.from], [...p.to]])).toEqual([[0, [...a!.new], [...a!.old]]]);
  });

  it("maps each code offset to its slot and to the next slot byte at or after it", () => {
    const starts = [a!, b!].map((s) => s.start - kase.program.base);
    expect(plan.slotAt[starts[0]!]).toBe(0);
    expect(plan.slotAt[starts[0]! + a!.len]).toBe(-1);
    expect(plan.slotAt[starts[1]! + b!.len - 1]).toBe(1);
    expect(plan.slotAhead[0]).toBe(starts[0]);
    expect(plan.slotAhead[starts[0]! + 2]).toBe(starts[0]! + 2);
    expect(plan.slotAhead[starts[0]! + a!.len]).toBe(starts[1]);
    expect(plan.slotAhead[kase.program.code.length - 1]).toBe(kase.program.code.length);
  });

  it("lists every instruction of either version by offset, to tell a widened passage", () => {
    const list = plan.versionInstrList[0]!;
    expect(isVersionInstrAt(list, 0, [...a!.old])).toBe(true); // nop5
    expect(isVersionInstrAt(list, 0, [...a!.new])).toBe(true); // jmp
    expect(isVersionInstrAt(list, 0, [a!.new[0]!, ...a!.old.subarray(1)])).toBe(false); // torn
    expect(isVersionInstrAt(list, 1, [...a!.old.subarray(1)])).toBe(false); // not at an instruction start
  });
});
