import type { ByteOrigin, FetchedInstr, ObsEvent, Passage } from "../types.js";
import { sameBytes } from "../isa/bytes.js";
import { decode } from "../isa/decode.js";
import { type Cpu, cloneCpu, execute, Flow, sameMemory } from "./cpu.js";
import { programInt3 } from "./int3.js";
import { type CasePlan, isVersionInstrAt, originOf, slotPlanOf } from "./plan.js";

// A run's passages (SPEC 6.1) and their provenance (SPEC 6.5): which op each passage is judged
// against, where each fetched byte came from, and which version a resolved trap reproduced. The
// machine says when a passage begins, what its cores fetch and when they leave a slot; nothing
// here decides a verdict.

/** How far the patcher has got: every op before `op` has begun, and `op` too once `opStarted`. */
export interface OpProgress {
  readonly op: number;
  readonly opStarted: boolean;
}

/** What a fetch hands over for the record: its bytes, and when each was fetched. */
export interface FetchRecord {
  readonly bytes: readonly number[];
  readonly times: readonly number[];
  readonly psteps: readonly number[];
}

export class PassageLog {
  readonly passages: Passage[] = [];
  private readonly base: number;

  constructor(private readonly plan: CasePlan, private readonly progress: OpProgress) {
    this.base = plan.kase.program.base;
  }

  /** A passage of `core` begins at time t with an instruction whose bytes reach slot byte `at` (a code offset). */
  begin(core: number, at: number, t: number): Passage {
    const k = this.plan.slotAt[at]!;
    // Every field from the start (the optional ones undefined), so that every passage has one shape.
    const p: Passage = {
      core, slot: k, op: this.opForSlot(k), begin: t, end: -1, fetched: [], widened: false, fellThrough: false,
      badEmulation: false, resolution: undefined, resolvedAs: undefined, resolvedAt: undefined,
    };
    this.passages.push(p);
    return p;
  }

  /** Whether a passage is over at an instruction boundary at pc (or at its core's end). */
  isOver(p: Passage, pc: number, ended: boolean): boolean {
    const s = this.plan.kase.program.slots[p.slot]!;
    return ended || !(pc > s.start && pc < s.start + s.len);
  }

  /** Ends passage p at time t, the core at pc (or ended). */
  end(p: Passage, t: number, pc: number, ended: boolean): void {
    const s = this.plan.kase.program.slots[p.slot]!;
    p.end = t;
    p.fellThrough = !ended && pc === s.start + s.len;
  }

  /** A retry did nothing: its passage is not counted (SPEC 6.1). */
  drop(p: Passage): void {
    this.passages.splice(this.passages.lastIndexOf(p), 1);
  }

  /** Records an instruction the passage fetched. */
  fetched(p: Passage, pc: number, f: FetchRecord): FetchedInstr {
    const origin = (this.isInitialBytes(pc, f.bytes) && this.plan.initial.originsAt(pc - this.base, p.slot, p.op)) ||
      this.originsOf(pc, f.bytes, p.op, p.slot);
    const fi: FetchedInstr = { addr: pc, bytes: f.bytes, origin, fetchedAt: f.times, patcherStepAt: f.psteps };
    p.fetched.push(fi);
    return fi;
  }

  /**
   * The passage's last fetch ran into the region end: the bytes [pc, end) the fetch unit held, an
   * incomplete instruction, whose execution is the core's #PF. Its old or new bytes name the cause
   * of the #PF; it may begin the passage (see the machine's execCore), and widens it as any
   * instruction that is none of the versions' does.
   */
  cutOff(p: Passage, pc: number, f: FetchRecord): void {
    p.fetched.push({ addr: pc, bytes: f.bytes, origin: this.originsOf(pc, f.bytes, p.op, p.slot), fetchedAt: f.times, patcherStepAt: f.psteps });
  }

  /** Whether `bytes` at pc is an instruction of either version of the passage's slot (else the passage widens). */
  isVersionInstr(p: Passage, pc: number, bytes: readonly number[]): boolean {
    if (this.isInitialBytes(pc, bytes)) return this.plan.initial.isVersionInstr(pc - this.base, p.slot);
    const s = this.plan.kase.program.slots[p.slot]!;
    return pc >= s.start && isVersionInstrAt(this.plan.versionInstrList[p.slot]!, pc - s.start, bytes);
  }

  /** The op whose patching a trap in slot k meets: the latest begun op listing it (before any, the first). */
  trapOpForSlot(k: number): number {
    const listing = this.plan.opsOfSlot[k]!;
    const j = this.latestBegun(listing);
    return j >= 0 ? j : listing[0] ?? -1;
  }

  /**
   * Whether the handler's effect equals executing the from or to version of the op whose patching
   * the trap met (SPEC 7.1), as a version of the op the passage is judged against: its first
   * instruction (an emulation), or as many of its instructions as run in sequence from the slot's
   * start (resuming past the old `nop2; nop3` is that version's effect too). The two ops differ
   * when that op re-patches the slot to the version it holds: then its one version is the judged
   * op's new one. `before` is the core at the trap, with its first `eventsBefore` events left out.
   */
  versionEffect(p: Passage, trapOp: number, before: Cpu, after: Cpu, eventsBefore: number): "old" | "new" | undefined {
    const trapped = slotPlanOf(this.plan.opSlots[trapOp]!, p.slot), judged = slotPlanOf(this.plan.opSlots[p.op]!, p.slot);
    const s = this.plan.kase.program.slots[p.slot]!;
    for (const version of [trapped.from, trapped.to]) {
      const trial = cloneCpu(before, false);
      trial.iflag = after.iflag;
      // The first instruction runs at the slot start; later ones only as long as it falls through.
      for (let off = 0; off < version.length && (off === 0 || trial.pc === s.start + off);) {
        const d = decode(version, off, version.length);
        if ("incomplete" in d) break;
        const flow = d.op !== "int3" ? execute(trial, d, s.start + off) : off === 0 ? programInt3(trial, this.plan.kase.program.slots, s.start) : Flow.Trap;
        if (flow === Flow.Trap) break;
        if (sameArchState(trial, after, eventsBefore)) return sameBytes(version, judged.from) ? "old" : sameBytes(version, judged.to) ? "new" : undefined;
        if (flow === Flow.Ended) break;
        off += d.len;
      }
    }
    return undefined;
  }

  /**
   * The op a passage through slot k is judged against: the latest begun op that changes it; while
   * none has, the latest begun op listing it (a byte it wrote is no later op's version yet); before
   * any op listing it, the first that changes it (its from bytes are the slot's initial ones).
   */
  private opForSlot(k: number): number {
    const changing = this.plan.changingOpsOfSlot[k]!, listing = this.plan.opsOfSlot[k]!;
    const j = this.latestBegun(changing);
    if (j >= 0) return j;
    const l = this.latestBegun(listing);
    return l >= 0 ? l : changing[0] ?? listing[0] ?? -1;
  }

  /** The latest begun op of `ops` (in order), -1 if none has begun. */
  private latestBegun(ops: readonly number[]): number {
    const { op, opStarted } = this.progress;
    let j = -1;
    for (let i = 0; i < ops.length; i++) {
      const o = ops[i]!;
      if (o < op || (o === op && opStarted)) j = o;
    }
    return j;
  }

  private originsOf(pc: number, bytes: readonly number[], j: number, k: number): ByteOrigin[] {
    const out = new Array<ByteOrigin>(bytes.length);
    for (let i = 0; i < bytes.length; i++) out[i] = this.originOf(pc + i, bytes[i]!, j, k);
    return out;
  }

  private originOf(addr: number, v: number, j: number, k: number): ByteOrigin {
    const kk = this.plan.slotAt[addr - this.base] ?? -1;
    if (kk < 0) return "invariant";
    const op = kk === k ? j : this.opForSlot(kk);
    if (op < 0) return "invariant";
    return originOf(v, addr - this.plan.kase.program.slots[kk]!.start, slotPlanOf(this.plan.opSlots[op]!, kk));
  }

  /** Whether `bytes` is the shared array of the initial image's instruction at pc (see the fetch unit's details). */
  private isInitialBytes(pc: number, bytes: readonly number[]): boolean {
    const off = pc - this.base;
    return off >= 0 && off < this.plan.slotAt.length && this.plan.initial.instrAt(off) !== null && bytes === this.plan.initial.bytesAt(off);
  }
}

/** `trial` started from an event-less snapshot taken when b had `eventsBefore` events. */
function sameArchState(trial: Cpu, b: Cpu, eventsBefore: number): boolean {
  if (trial.pc !== b.pc || trial.zf !== b.zf || trial.end?.kind !== b.end?.kind) return false;
  for (let i = 0; i < 8; i++) if (trial.regs[i] !== b.regs[i]) return false;
  if (!sameMemory(trial, b)) return false;
  if (b.events.length - eventsBefore !== trial.events.length) return false;
  for (let i = 0; i < trial.events.length; i++) if (!sameEvent(trial.events[i]!, b.events[eventsBefore + i]!)) return false;
  return true;
}

function sameEvent(a: ObsEvent, b: ObsEvent): boolean {
  return a.kind === "out" ? b.kind === "out" && a.port === b.port && a.value === b.value : b.kind === "probe" && a.addr === b.addr;
}
