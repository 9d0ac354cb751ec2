import { type Cpu, memoryHash } from "../machine/cpu.js";
import { sameElements } from "./same-elements.js";
import type { SwitchState } from "./versions.js";

// The membership search's memo (SPEC 6.3): the branch states already explored at a slot entry.
// Two states are the same when their pc, registers, ZF, memory digest, position in the
// observation, passages completed, switch state, slot and slot version are. States are found by a
// numeric hash of everything but the memory and then compared field by field, so a collision costs
// a comparison, never a wrong answer. The memory digest is the dear part: it is taken only when a
// state matches a recorded one in everything else, or when the memory is about to change.
//
// Twin states (the same state reached by paths of different lengths, e.g. through a nop5 and
// through nop2; nop3) run the same future, but a branch's instruction count still decides two
// things: where the search cuts the branch (its per-branch instruction limit), and for a hung
// core (SPEC 6.4) whether it "executes as many instructions as c did without ending". So an
// explored state stands for a twin only where its failure implies the twin's: for an ended core,
// a twin that has run at least as many instructions (it meets the limit no later); for a hung
// core, a twin that has run at most as many (it reaches the observed count no sooner). The hung
// case is exact up to the cut: the twin meets the limit later, so a future that matches the
// observation only past the explored state's limit is lost, as the cut loses it on any branch.

/** Where a branch stands at a slot entry, beside its cpu: the memory, and what it is about to run. */
interface EntryPoint {
  readonly memory: EntryMemory;
  /** Observed events matched. */
  readonly pos: number;
  /** Passages completed. */
  readonly n: number;
  readonly sw: SwitchState;
  readonly slot: number;
  /** Slot bytes owned by the case plan (never written), so kept by reference. */
  readonly content: Uint8Array;
}

/** A branch state at a slot entry, about to run `content` in `slot`. */
export interface BranchState extends EntryPoint {
  readonly cpu: Cpu;
}

/** One explored state (the cpu fields it is compared on, copied); states with the same hash are chained through `next`. */
interface VisitedState extends EntryPoint {
  readonly pc: number;
  readonly regs: readonly number[];
  readonly zf: boolean;
  /** Instructions the branch had executed (see the twin rule above). */
  readonly instructions: number;
  readonly next: VisitedState | undefined;
}

/**
 * The memory of a branch state at one slot entry, digested when first asked. Until then `holder`
 * keeps that memory: the branch itself during the slot entry, then a copy of the state waiting on
 * the search stack, which asks for the digest before it runs on.
 */
export class EntryMemory {
  private value: number | undefined;
  constructor(private holder: Cpu) {}
  digest(): number {
    return (this.value ??= memoryHash(this.holder));
  }
  /** Another copy of the same state keeps the memory from now on. */
  handTo(holder: Cpu): void {
    this.holder = holder;
  }
}

const FNV_PRIME = 0x01000193;

function mix(h: number, v: number): number {
  return Math.imul(h ^ v, FNV_PRIME);
}

/** A hash of everything but the memory and the count, kept in small-integer range (cheap Map keys). */
function hashOf(s: BranchState): number {
  const c = s.cpu;
  let h = mix(0x811c9dc5, c.pc);
  for (let i = 0; i < c.regs.length; i++) h = mix(h, c.regs[i]!);
  h = mix(mix(mix(mix(h, c.zf ? 1 : 0), s.pos), s.n), s.slot);
  for (let i = 0; i < s.sw.length; i++) h = mix(h, s.sw[i]!);
  for (let i = 0; i < s.content.length; i++) h = mix(h, s.content[i]!);
  return h & 0x3fffffff;
}

/** A plain array copy (Array.from on a typed array is slow, and typed arrays are dear to allocate). */
function plainCopy(a: Uint32Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < a.length; i++) out.push(a[i]!);
  return out;
}

function sameBeyondMemory(v: VisitedState, s: BranchState): boolean {
  const c = s.cpu;
  return v.pc === c.pc && v.zf === c.zf && v.pos === s.pos && v.n === s.n && v.slot === s.slot
    && sameElements(v.regs, c.regs) && sameElements(v.sw, s.sw) && sameElements(v.content, s.content);
}

export class VisitedStates {
  private readonly byHash = new Map<number, VisitedState>();

  /** `hang`: the search is for a hung core's observation (see the twin rule above). */
  constructor(private readonly hang: boolean) {}

  /** Whether the explored state v's failure implies that of s, a twin in everything but the count. */
  private covers(v: VisitedState, s: BranchState): boolean {
    return this.hang ? v.instructions >= s.cpu.instructions : v.instructions <= s.cpu.instructions;
  }

  /**
   * Whether the state was visited already. If not and `record` is set, records it. A search need
   * not record a state no later branch can reach (see MembershipSearch.chooseVersion).
   */
  visit(s: BranchState, record: boolean): boolean {
    const h = hashOf(s);
    const chain = this.byHash.get(h);
    for (let v = chain; v; v = v.next) {
      if (sameBeyondMemory(v, s) && this.covers(v, s) && v.memory.digest() === s.memory.digest()) return true;
    }
    if (record) {
      const c = s.cpu;
      this.byHash.set(h, {
        pc: c.pc, regs: plainCopy(c.regs), zf: c.zf, memory: s.memory, pos: s.pos, n: s.n,
        sw: s.sw.slice(), slot: s.slot, content: s.content, instructions: c.instructions, next: chain,
      });
    }
    return false;
  }
}
