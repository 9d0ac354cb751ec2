import type { RunResult, Slot, Verdict } from "../types.js";
import { passageVersion } from "../oracle/classify.js";

// Semantic coverage (SPEC 9): what the emulation exercised, hashed into a fixed-size bitmap:
// patcher phase x slot kind x pc offset in the slot x provenance of the fetched bytes x how a trap
// was resolved; patcher phase kind x scheduler event kind (snoops, refills, IPIs, handler steps,
// invalidations, write-backs); the verdict's cause, effect and rule findings. New bits keep a case.

export const COVERAGE_BITS = 1 << 16;

// Each feature is a few fields hashed with FNV-1a, fed one at a time: a run has hundreds of
// fetches, and building a string per fetch was a large share of what an exec allocated.
const FNV_OFFSET = 0x811c9dc5, FNV_PRIME = 0x01000193, SEPARATOR = 0x7c;

function text(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
  return Math.imul(h ^ SEPARATOR, FNV_PRIME);
}

/** A small integer field (>= -1). */
function int(h: number, n: number): number {
  return Math.imul(Math.imul(h ^ ((n + 1) & 0xff), FNV_PRIME) ^ SEPARATOR, FNV_PRIME);
}

const bit = (h: number) => (h >>> 0) & (COVERAGE_BITS - 1);

const ORIGIN_CODE = { invariant: 0, old: 1, new: 2, int3: 3, intermediate: 4 } as const;

/**
 * Distinct bits of the run being hashed: bit b is in it when seenIn[b] === run. A flat array
 * stamped per run instead of a Set per run (a run sets dozens of bits, most of them again and again).
 */
const seenIn = new Uint32Array(COVERAGE_BITS);
let stamp = 0;

class Bits {
  readonly list: number[] = [];
  private readonly run: number;
  constructor() {
    if (++stamp === 0x1_0000_0000) {
      seenIn.fill(0);
      stamp = 1;
    }
    this.run = stamp;
  }
  add(b: number): void {
    if (seenIn[b] === this.run) return;
    seenIn[b] = this.run;
    this.list.push(b);
  }
}

/** The coverage bits of one run, each once. */
export function coverageOf(run: RunResult, verdict: Verdict, slots: readonly Pick<Slot, "kind" | "start">[]): number[] {
  const bits = new Bits();
  const phases = run.phases;
  // Patcher steps taken in the run: a byte fetched after the last one, with the patcher done, was
  // fetched "after" (phases ends with that entry, one past the last step's).
  const done = phases[phases.length - 1]?.phase.kind === "after", steps = phases.length - (done ? 2 : 1);
  for (const p of run.passages) {
    const slot = slots[p.slot]!;
    const kind = slot.kind ?? "-", resolution = p.resolution ?? "-";
    bits.add(bit(int(int(text(text(text(text(FNV_OFFSET, "passage"), kind), passageVersion(p)), resolution), p.widened ? 1 : 0), p.badEmulation ? 1 : 0)));
    const fetchKind = text(text(FNV_OFFSET, "fetch"), kind);
    for (const f of p.fetched) {
      let h = int(fetchKind, Math.min(16, Math.max(-1, f.addr - slot.start)));
      for (const o of f.origin) h = int(h, ORIGIN_CODE[o]);
      h = int(h, 8); // end of the origins
      let firstStep = Infinity;
      for (const s of f.patcherStepAt) if (s < firstStep) firstStep = s;
      // The patcher phase in force after the first patcher step that wrote a fetched byte.
      const phase = phases[done && firstStep >= steps ? phases.length - 1 : Math.min(firstStep, steps)]!.phase;
      bits.add(bit(text(int(text(h, phase.kind), Math.min(phase.syncs, 4)), resolution)));
    }
  }
  run.eventKinds.forEach((kinds, phase) => {
    for (let kind = 0; kinds >> kind; kind++) if ((kinds >> kind) & 1) bits.add(bit(int(int(text(FNV_OFFSET, "event"), phase), kind)));
  });
  for (const d of verdict.divergences) bits.add(bit(text(text(text(text(text(FNV_OFFSET, "div"), d.cause), d.effect), d.slotKind), d.phase.kind)));
  for (const r of verdict.rules) bits.add(bit(text(text(text(text(FNV_OFFSET, "rule"), r.rule), r.slotKind), r.phase.kind)));
  if (run.hung) bits.add(bit(int(int(text(FNV_OFFSET, "hung"), run.hung.deadlock ? 1 : 0), run.hung.patcherStuck ? 1 : 0)));
  if (run.harnessError) bits.add(bit(text(FNV_OFFSET, "harness-error")));
  return bits.list;
}

/** Whether a corpus entry's `bits` (read from a file or a hub: any JSON) are bits of this bitmap; others would count as new at every merge. */
export function isCoverageBits(bits: unknown): bits is number[] {
  return Array.isArray(bits) && bits.every((b) => Number.isInteger(b) && b >= 0 && b < COVERAGE_BITS);
}

/** A bitmap of every coverage bit seen so far. */
export class CoverageMap {
  readonly bytes = new Uint8Array(COVERAGE_BITS / 8);
  count = 0;

  /** Adds bits; returns how many were new. */
  merge(bits: readonly number[]): number {
    let fresh = 0;
    for (const b of bits) {
      const byte = b >>> 3, mask = 1 << (b & 7);
      if (this.bytes[byte]! & mask) continue;
      this.bytes[byte]! |= mask;
      fresh++;
    }
    this.count += fresh;
    return fresh;
  }

  hasNew(bits: readonly number[]): boolean {
    return bits.some((b) => !(this.bytes[b >>> 3]! & (1 << (b & 7))));
  }
}
