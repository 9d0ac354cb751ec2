import type { Instr } from "../types.js";

// What a core's fetch unit hands the execute step, and the decoded-instruction cache that keeps
// such fetches (models with a decoded cache return a cached fetch as is, until a snoop or a
// serialization clears it).

export interface Fetch {
  readonly ins: Instr;
  /** Unmodified code: the initial image's shared array (see InitialImage.bytesAt). */
  readonly bytes: readonly number[];
  /** When each byte was fetched, and after how many patcher steps: empty unless a passage needs them (see Detail in fetch-unit.ts). */
  readonly times: number[];
  readonly psteps: number[];
  /** Returned by the decoded cache (set when the fetch is put there). */
  cached: boolean;
  /** Bytes, times and steps were left out (nothing needs them for this instruction); see Detail in fetch-unit.ts. */
  readonly lazy?: boolean;
}

/**
 * A core's decoded-instruction cache, by code offset. An array with the list of offsets filled,
 * not a Map: it is asked on every step of such a core, and serializations clear it, which a Map
 * does by allocating a new table.
 */
export class DecodedCache {
  private readonly at: (Fetch | undefined)[];
  private readonly filled: number[] = [];

  constructor(private readonly base: number, length: number) {
    this.at = new Array<Fetch | undefined>(length).fill(undefined);
  }

  get(pc: number): Fetch | undefined {
    const o = pc - this.base;
    return o >= 0 && o < this.at.length ? this.at[o] : undefined;
  }

  /** pc lies in the code region (only fetches from it are cached). */
  set(pc: number, f: Fetch): void {
    const o = pc - this.base;
    if (this.at[o] === undefined) this.filled.push(o);
    this.at[o] = f;
  }

  clear(): void {
    while (this.filled.length > 0) this.at[this.filled.pop()!] = undefined;
  }

  /** Whether a cached instruction overlaps [lo, hi). */
  overlaps(lo: number, hi: number): boolean {
    for (const o of this.filled) {
      const a = this.base + o;
      if (a < hi && lo < a + this.at[o]!.ins.len) return true;
    }
    return false;
  }
}

/** The decoded-instruction cache of cores whose model has none: shared, so never written. */
export const NO_DECODED = new DecodedCache(0, 0);
