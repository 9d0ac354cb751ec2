import type { Case, Instr, Slot } from "../types.js";
import { decode } from "../isa/decode.js";

// Static facts derived once per case, shared by the real machine and the oracle.

export interface OpSlotPlan {
  readonly slot: number;
  readonly from: Uint8Array;
  readonly to: Uint8Array;
}

export interface CasePlan {
  readonly kase: Case;
  readonly base: number;
  readonly end: number;
  /** Slot index covering each code byte, -1 outside slots. */
  readonly slotAt: Int16Array;
  /** Per code offset: the first offset at or after it inside a slot (the code length if none). */
  readonly slotAhead: Int32Array;
  /** Per op: its slots with the bytes they hold before and after the op. */
  readonly opSlots: readonly (readonly OpSlotPlan[])[];
  /** Per slot: indices of the ops that list it, in order. */
  readonly opsOfSlot: readonly (readonly number[])[];
  /** Code image expected after ops 0..j have returned (index 0: initial image). */
  readonly images: readonly Uint8Array[];
  /** Per slot: "offset:hex" of every instruction of either version (to detect widened passages). */
  readonly versionInstrs: readonly ReadonlySet<string>[];
  /** The same instructions as (offset, bytes), checked per executed instruction without building keys. */
  readonly versionInstrList: readonly (readonly VersionInstr[])[];
  /** Decodes of the initial image by offset, filled as runs ask (null: runs past the region end). */
  readonly initialInstrs: (Instr | null | undefined)[];
}

export interface VersionInstr {
  readonly offset: number;
  readonly bytes: Uint8Array;
}

function instrList(s: Slot): VersionInstr[] {
  const out: VersionInstr[] = [];
  for (const bytes of [s.old, s.new]) {
    let o = 0;
    while (o < bytes.length) {
      const d = decode(bytes, o, bytes.length);
      if ("incomplete" in d) break;
      out.push({ offset: o, bytes: bytes.subarray(o, o + d.len) });
      o += d.len;
    }
  }
  return out;
}

/** Whether `bytes` at `offset` in the slot is an instruction of either version (versionInstrs.has(instrKey(...))). */
export function isVersionInstrAt(list: readonly VersionInstr[], offset: number, bytes: readonly number[]): boolean {
  for (const v of list) {
    if (v.offset !== offset || v.bytes.length !== bytes.length) continue;
    let same = true;
    for (let i = 0; i < bytes.length && same; i++) same = v.bytes[i] === bytes[i];
    if (same) return true;
  }
  return false;
}

function instrKeys(s: Slot): Set<string> {
  const keys = new Set<string>();
  for (const bytes of [s.old, s.new]) {
    let o = 0;
    while (o < bytes.length) {
      const d = decode(bytes, o, bytes.length);
      if ("incomplete" in d) break;
      keys.add(instrKey(o, bytes.subarray(o, o + d.len)));
      o += d.len;
    }
  }
  return keys;
}

export function instrKey(offset: number, bytes: ArrayLike<number>): string {
  let s = `${offset}:`;
  for (let i = 0; i < bytes.length; i++) s += (bytes[i]! | 0x100).toString(16).slice(1);
  return s;
}

export function planCase(kase: Case): CasePlan {
  const { program, ops } = kase;
  const base = program.base;
  const slotAt = new Int16Array(program.code.length).fill(-1);
  program.slots.forEach((s, k) => slotAt.fill(k, s.start - base, s.start - base + s.len));
  const slotAhead = new Int32Array(program.code.length);
  for (let o = program.code.length - 1, next = program.code.length; o >= 0; o--) slotAhead[o] = next = slotAt[o]! >= 0 ? o : next;
  const current = program.slots.map((s) => s.old);
  const images: Uint8Array[] = [program.code.slice()];
  const opsOfSlot: number[][] = program.slots.map(() => []);
  const opSlots = ops.map((op, j) => {
    const image = images[j]!.slice();
    const plans = op.targets.map((t) => {
      const s = program.slots[t.slot]!;
      const to = t.to === "new" ? s.new : s.old;
      const plan = { slot: t.slot, from: current[t.slot]!, to };
      current[t.slot] = to;
      image.set(to, s.start - base);
      opsOfSlot[t.slot]!.push(j);
      return plan;
    });
    images.push(image);
    return plans;
  });
  return {
    kase, base, end: base + program.code.length, slotAt, slotAhead, opSlots, opsOfSlot, images,
    versionInstrs: program.slots.map(instrKeys),
    versionInstrList: program.slots.map(instrList),
    initialInstrs: [],
  };
}

/** The instruction at code offset `off` of the initial image (null: it runs past the region end). */
export function initialInstrAt(plan: CasePlan, off: number): Instr | null {
  let d = plan.initialInstrs[off];
  if (d === undefined) {
    const code = plan.images[0]!;
    const r = decode(code, off, code.length);
    plan.initialInstrs[off] = d = "incomplete" in r ? null : r;
  }
  return d;
}

/** The slot whose interior (start, start+len) contains pc, or -1. */
export function slotStrictlyInside(plan: CasePlan, pc: number): number {
  if (pc <= plan.base || pc >= plan.end) return -1;
  const k = plan.slotAt[pc - plan.base]!;
  return k >= 0 && plan.kase.program.slots[k]!.start !== pc ? k : -1;
}
