import { describe, expect, it } from "vitest";
import seedrandom from "seedrandom";
import type { Case, ObsEvent } from "../types.js";
import { generateCase } from "./generate.js";
import { countInstructions, layout, lift } from "./relocate.js";
import { sketchCase } from "../testing/build.js";
import { parseCase } from "../case/load.js";
import { caseToJson } from "../case/save.js";
import { planCase } from "../machine/plan.js";
import { soloRun } from "../oracle/solo.js";

// Loops, calls, rel8 and rel32 branches across the deleted spots, a slot whose new version
// branches out of it, and an unreachable byte after hlt.
const sketchOf = {
  asm: [
    "core1: mov ecx, 5",
    "loop: nop",
    "call f",
    ".slot s", "nop5", ".endslot",
    "nop3",
    "cmp ecx, 3",
    "je short skip",
    "mov al, 7", "out 0x11",
    "skip: nop2",
    "dec ecx",
    "jne short loop",
    "hlt",
    "nop",
    "f: nop4", "mov al, 1", "out 0x10", "ret",
  ],
  entries: ["core1", "core1"],
  slots: { s: { new: "jmp skip" } },
  ops: [["s"]],
};
const sketch = sketchCase(sketchOf);

function outs(kase: Case): ObsEvent[][] {
  const { base, entries, slots } = kase.program;
  return planCase(kase).images.map((image) => soloRun(entries[0]!, image, base, slots, 10_000).events);
}

describe("relocate", () => {
  it("round-trips generated cases to identical bytes", () => {
    for (let g = 0; g < 100; g++) {
      const kase = generateCase(seedrandom.alea(`reloc${g}`));
      const l = lift(kase.program);
      expect(l, `case ${g}`).toBeDefined();
      const p = layout(l!)!;
      expect(Buffer.from(p.code).equals(Buffer.from(kase.program.code)), `case ${g}`).toBe(true);
      expect(p.entries).toEqual(kase.program.entries);
      expect(p.slots).toEqual(kase.program.slots);
    }
  });

  it("lifts instructions, the slot and the unreached byte", () => {
    const l = lift(sketch.program)!;
    expect(l.items.filter((i) => i.kind === "slot")).toHaveLength(1);
    expect(l.items.filter((i) => i.kind === "raw").map((i) => i.kind === "raw" && [...i.bytes])).toEqual([[0x90]]);
    // 16 instructions outside the slot, plus the slot's nop5
    expect(countInstructions(sketch.program)).toBe(17);
  });

  it("deleting a nop keeps every other instruction's behaviour, in both versions", () => {
    const l = lift(sketch.program)!;
    const want = outs(sketch);
    const nops = l.items.flatMap((it, i) => (it.kind === "raw" || (it.kind === "ins" && it.ins.op.startsWith("nop")) ? [i] : []));
    expect(nops.length).toBe(5); // nop, nop3, nop2 (a branch target), the unreached nop, nop4 (a call target)
    for (const i of nops) {
      const program = layout(l, l.items.map((_, k) => k !== i))!;
      const kase = { ...sketch, program };
      expect(() => parseCase(caseToJson(kase))).not.toThrow();
      expect(program.code.length).toBe(sketch.program.code.length - (l.items[i]!.kind === "raw" ? 1 : (l.items[i] as { bytes: Uint8Array }).bytes.length));
      expect(outs(kase)).toEqual(want);
      expect(program.slots[0]!.bpResume - program.slots[0]!.start).toBe(5);
    }
  });

  it("a slot's bpResume follows its label when instructions before it are deleted (SPEC 5.4)", () => {
    const resumeAtSkip = sketchCase({ ...sketchOf, slots: { s: { new: "jmp skip", bpResume: "skip" } } });
    const l = lift(resumeAtSkip.program)!;
    const { base } = resumeAtSkip.program;
    const bytesAtResume = (p: { code: Uint8Array; slots: readonly { bpResume: number }[] }) => [...p.code.slice(p.slots[0]!.bpResume - base, p.slots[0]!.bpResume - base + 2)];
    expect(bytesAtResume(resumeAtSkip.program)).toEqual([0x66, 0x90]); // nop2 at skip
    const between = l.items.findIndex((it) => it.kind === "ins" && it.ins.op === "nopN" && it.bytes.length === 3); // nop3: after the slot, before skip
    const program = layout(l, l.items.map((_, k) => k !== between))!;
    expect(program.code.length).toBe(resumeAtSkip.program.code.length - 3);
    expect(bytesAtResume(program)).toEqual([0x66, 0x90]);
  });

  it("drops a layout whose rel8 branch no longer reaches", () => {
    const k = sketchCase({
      asm: ["core1: jmp short far", ".byte 0x90", ...Array(120).fill("nop"), "far: hlt"],
      entries: ["core1"], slots: {}, ops: [],
    });
    const l = lift(k.program)!;
    expect(layout(l)).toBeDefined();
    // Nothing can grow by deletion; only an outside target can move out of range, so check encode directly:
    const back = layout({ ...l, items: l.items.map((it) => (it.kind === "ins" && it.branch ? { ...it, branch: { ...it.branch, target: { abs: 0x1000 + 400 } } } : it)) });
    expect(back).toBeUndefined();
  });
});
