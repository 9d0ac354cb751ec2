import type { Cpu } from "../machine/cpu.js";

// The membership search's memo (SPEC 6.3): the branch states already explored at a slot entry.
// States are looked up by a numeric hash and compared field by field, so a hash collision costs a
// comparison, never a wrong answer. Two states are the same when their registers, ZF, memory digest,
// position in the observation, passages completed, switch state, slot and slot version are.

/** One explored state; states with the same hash are chained through `next`. */
interface VisitedState {
  readonly pc: number;
  readonly regs: Uint32Array;
  readonly zf: boolean;
  readonly digest: string;
  readonly pos: number;
  readonly n: number;
  readonly sw: Uint8Array;
  readonly slot: number;
  readonly content: Uint8Array;
  readonly next: VisitedState | undefined;
}

/** The branch state at a slot entry, about to run `content` in `slot`. */
export interface BranchState {
  readonly cpu: Cpu;
  /** memoryDigest(cpu): the memory is compared by its digest, as the observation's is. */
  readonly digest: string;
  readonly pos: number;
  readonly n: number;
  readonly sw: Uint8Array;
  readonly slot: number;
  readonly content: Uint8Array;
}

const FNV_PRIME = 0x01000193;

function mix(h: number, v: number): number {
  return Math.imul(h ^ v, FNV_PRIME);
}

function hashOf(s: BranchState): number {
  const c = s.cpu;
  let h = mix(0x811c9dc5, c.pc);
  for (let i = 0; i < c.regs.length; i++) h = mix(h, c.regs[i]!);
  h = mix(h, c.zf ? 1 : 0);
  h = mix(h, parseInt(s.digest, 16));
  h = mix(mix(mix(h, s.pos), s.n), s.slot);
  for (let i = 0; i < s.sw.length; i++) h = mix(h, s.sw[i]!);
  for (let i = 0; i < s.content.length; i++) h = mix(h, s.content[i]!);
  return h;
}

export function sameBytes(x: ArrayLike<number>, y: ArrayLike<number>): boolean {
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

function sameState(v: VisitedState, s: BranchState): boolean {
  const c = s.cpu;
  return v.pc === c.pc && v.zf === c.zf && v.pos === s.pos && v.n === s.n && v.slot === s.slot && v.digest === s.digest
    && sameBytes(v.regs, c.regs) && sameBytes(v.sw, s.sw) && sameBytes(v.content, s.content);
}

export class VisitedStates {
  private readonly byHash = new Map<number, VisitedState>();

  /** Records the state; false if it was already recorded (its branch need not be explored again). */
  add(s: BranchState): boolean {
    const h = hashOf(s);
    const chain = this.byHash.get(h);
    for (let v = chain; v; v = v.next) if (sameState(v, s)) return false;
    const c = s.cpu;
    this.byHash.set(h, {
      pc: c.pc, regs: c.regs.slice(), zf: c.zf, digest: s.digest, pos: s.pos, n: s.n, sw: s.sw.slice(),
      slot: s.slot, content: s.content, next: chain,
    });
    return true;
  }
}
