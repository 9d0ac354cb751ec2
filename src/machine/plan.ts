import type { ByteOrigin, Case, Instr, Slot } from "../types.js";
import { decode } from "../isa/decode.js";
import { sameBytes } from "../isa/bytes.js";

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
  /**
   * Per slot: the ops that change it (from differs from to), in order. A passage's provenance is
   * judged against the latest begun of them: an op that re-patches a slot to the version it holds
   * explains none of its bytes, and judged against it a stale byte would read as intermediate.
   */
  readonly changingOpsOfSlot: readonly (readonly number[])[];
  /** Code image expected after ops 0..j have returned (index 0: initial image). */
  readonly images: readonly Uint8Array[];
  /** Per slot: every instruction of either version as (offset, bytes), to detect widened passages. */
  readonly versionInstrList: readonly (readonly VersionInstr[])[];
  /** What fetches of never-modified code see (decodes, bytes, provenance), filled as runs ask. */
  readonly initial: InitialImage;
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

/** Whether `bytes` at `offset` in the slot is an instruction of either version. */
export function isVersionInstrAt(list: readonly VersionInstr[], offset: number, bytes: readonly number[]): boolean {
  for (const v of list) {
    if (v.offset !== offset || v.bytes.length !== bytes.length) continue;
    let same = true;
    for (let i = 0; i < bytes.length && same; i++) same = v.bytes[i] === bytes[i];
    if (same) return true;
  }
  return false;
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
  const changingOpsOfSlot: number[][] = program.slots.map(() => []);
  const opSlots = ops.map((op, j) => {
    const image = images[j]!.slice();
    const plans = op.targets.map((t) => {
      const s = program.slots[t.slot]!;
      const to = t.to === "new" ? s.new : s.old;
      const plan = { slot: t.slot, from: current[t.slot]!, to };
      current[t.slot] = to;
      image.set(to, s.start - base);
      opsOfSlot[t.slot]!.push(j);
      if (!sameBytes(plan.from, to)) changingOpsOfSlot[t.slot]!.push(j);
      return plan;
    });
    images.push(image);
    return plans;
  });
  const versionInstrList = program.slots.map(instrList);
  return {
    kase, base, end: base + program.code.length, slotAt, slotAhead, opSlots, opsOfSlot, changingOpsOfSlot, images,
    versionInstrList,
    initial: new InitialImage(base, program.code, program.slots, slotAt, versionInstrList, opSlots),
  };
}

// What a fetch of never-modified code sees, cached per case. Most instructions a run executes lie
// in bytes no store ever touched (outside slots, or in slots before their patch), and every run
// and core of a case decodes them, and classifies their bytes, the same way.

export class InitialImage {
  private readonly instrs: (Instr | null | undefined)[] = [];
  private readonly bytes: (readonly number[] | undefined)[] = [];
  private readonly versionInstr = new Map<number, boolean>();
  private readonly origins = new Map<number, readonly ByteOrigin[]>();

  constructor(
    private readonly base: number,
    private readonly code: Uint8Array,
    private readonly slots: readonly Slot[],
    private readonly slotAt: Int16Array,
    private readonly versionInstrList: readonly (readonly VersionInstr[])[],
    private readonly opSlots: readonly (readonly OpSlotPlan[])[],
  ) {}

  /** The instruction at code offset `off` (null: it runs past the region end). */
  instrAt(off: number): Instr | null {
    let d = this.instrs[off];
    if (d === undefined) {
      const r = decode(this.code, off, this.code.length);
      this.instrs[off] = d = "incomplete" in r ? null : r;
    }
    return d;
  }

  /** The bytes of the (complete) instruction at `off`: one array shared by every fetch of it, never written. */
  bytesAt(off: number): readonly number[] {
    let b = this.bytes[off];
    if (b === undefined) this.bytes[off] = b = [...this.code.subarray(off, off + this.instrAt(off)!.len)];
    return b;
  }

  /** Whether the instruction at `off` is an instruction of slot k's versions at its offset (SPEC 6.1). */
  isVersionInstr(off: number, k: number): boolean {
    const key = off * this.slots.length + k;
    let v = this.versionInstr.get(key);
    if (v === undefined) {
      const rel = off - (this.slots[k]!.start - this.base);
      v = rel >= 0 && isVersionInstrAt(this.versionInstrList[k]!, rel, this.bytesAt(off));
      this.versionInstr.set(key, v);
    }
    return v;
  }

  /**
   * Provenance of the instruction's bytes (SPEC 6.5) judged against op j's version of slot k, when
   * every slot byte it covers is k's; undefined otherwise (another slot's bytes are judged against
   * whichever op is current, so they cannot be cached).
   */
  originsAt(off: number, k: number, j: number): readonly ByteOrigin[] | undefined {
    const key = (off * this.slots.length + k) * (this.opSlots.length + 1) + j + 1;
    let o = this.origins.get(key);
    if (o === undefined) {
      const bytes = this.bytesAt(off), start = this.slots[k]!.start - this.base, out: ByteOrigin[] = [];
      for (let i = 0; i < bytes.length; i++) {
        const kk = this.slotAt[off + i]!;
        if (kk >= 0 && kk !== k) return undefined;
        out.push(kk < 0 || j < 0 ? "invariant" : originOf(bytes[i]!, off + i - start, slotPlanOf(this.opSlots[j]!, k)));
      }
      this.origins.set(key, (o = out));
    }
    return o;
  }
}

/** The plan of `slot` in an op's slot list (a loop: called per fetched byte inside slots). */
export function slotPlanOf(plans: readonly OpSlotPlan[], slot: number): OpSlotPlan {
  for (const p of plans) if (p.slot === slot) return p;
  return undefined as unknown as OpSlotPlan; // callers only ask for slots the op lists
}

/** Provenance of byte value v at offset o of a slot, against the op's from and to bytes (SPEC 6.5). */
export function originOf(v: number, o: number, p: OpSlotPlan): ByteOrigin {
  const from = p.from[o]!, to = p.to[o]!;
  if (v === from && v === to) return "invariant";
  if (v === from) return "old";
  if (v === to) return "new";
  if (o === 0 && v === 0xcc) return "int3";
  return "intermediate";
}
