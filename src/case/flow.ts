// Static control-flow check of SPEC 3.2: slots must be entered only at their start, whatever
// version each holds. A recursive traversal from every entry explores every slot in both
// versions, so one pass covers every mix of patched and unpatched slots.
import type { Instr, Op, Program } from "../types.js";
import { decode, decodeVersion, isBranch } from "../isa/decode.js";
import { isProbeSlot } from "./kind.js";
import { CaseError } from "./error.js";
import { h } from "./build.js";

/** No fall-through after these (a probe's CC continues as the other version, explored anyway). */
const STOPS: ReadonlySet<Op> = new Set<Op>(["jmp8", "jmp32", "ret", "hlt", "ud", "ud2", "int3"]);

/**
 * Throws a CaseError on an instruction straddling into a slot, or a branch target, call return
 * address or another slot's bpResume strictly inside a slot. `versionField(k, v)` names slot k's version v.
 */
export function checkFlow(program: Program, versionField: (k: number, v: "old" | "new") => string): void {
  const { base, code, slots } = program;
  const end = base + code.length;
  const slotAt = new Int16Array(code.length).fill(-1);
  slots.forEach((s, k) => slotAt.fill(k, s.start - base, s.start - base + s.len));

  /** The slot whose interior holds `a`, or -1 (addresses outside the region just #PF). */
  const inside = (a: number): number => {
    if (a <= base || a >= end) return -1;
    const k = slotAt[a - base]!;
    return k >= 0 && slots[k]!.start !== a ? k : -1;
  };

  const seen = new Uint8Array(code.length);
  const seenVersion = new Uint8Array(slots.length * 2);
  const work: number[] = [];

  program.entries.forEach((a, i) => {
    const k = inside(a);
    if (k >= 0) throw new CaseError(`entries[${i}]`, `${h(a)} is inside slot "${slots[k]!.name}"`);
    work.push(a);
  });
  // The 2013 text_poke_bp handler resumes at bpResume: a control transfer like a branch's.
  slots.forEach((s, i) => {
    const k = inside(s.bpResume);
    if (k >= 0 && k !== i) throw new CaseError(`slots[${i}].bpResume`, `${h(s.bpResume)} is inside slot "${slots[k]!.name}"`);
    if (k < 0) work.push(s.bpResume);
  });

  /** Queues the successors of `ins` at `at`; returns whether it falls through. */
  const follow = (ins: Instr, at: number, where: string): boolean => {
    const next = at + ins.len;
    if (isBranch(ins.op)) {
      const t = next + ins.rel;
      const k = inside(t);
      if (k >= 0) throw new CaseError(where, `branch at ${h(at)} targets ${h(t)} inside slot "${slots[k]!.name}"`);
      work.push(t);
    }
    if (ins.op === "call") {
      const k = inside(next);
      if (k >= 0) throw new CaseError(where, `call at ${h(at)} returns to ${h(next)} inside slot "${slots[k]!.name}"`);
    }
    return !STOPS.has(ins.op);
  };

  const walkVersion = (k: number, v: "old" | "new"): void => {
    const idx = 2 * k + (v === "new" ? 1 : 0);
    if (seenVersion[idx]) return;
    seenVersion[idx] = 1;
    const s = slots[k]!;
    let at = s.start;
    // Versions were checked to decode when the case was built; padding is never reached.
    for (const ins of decodeVersion(s[v], isProbeSlot(s.old, s.new))!) {
      if (!follow(ins, at, versionField(k, v))) return;
      at += ins.len;
    }
    work.push(at);
  };

  while (work.length > 0) {
    const a = work.pop()!;
    if (a < base || a >= end || seen[a - base]) continue;
    seen[a - base] = 1;
    const k = slotAt[a - base]!;
    if (k >= 0) {
      // Only slot starts get here: interiors were rejected before being queued.
      walkVersion(k, "old");
      walkVersion(k, "new");
      continue;
    }
    const ins = decode(code, a - base, code.length);
    if ("incomplete" in ins) continue; // runs off the region: #PF at run time
    for (let o = 1; o < ins.len; o++) {
      const j = slotAt[a - base + o]!;
      if (j >= 0) throw new CaseError("code", `instruction at ${h(a)} straddles slot "${slots[j]!.name}"`);
    }
    if (follow(ins, a, "code")) work.push(a + ins.len);
  }
}
