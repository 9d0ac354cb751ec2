import type { RunResult, Slot, Verdict } from "../types.js";
import { passageVersion } from "../oracle/classify.js";

// Semantic coverage (SPEC 9): what the emulation exercised, hashed into a fixed-size bitmap:
// patcher phase x slot kind x pc offset in the slot x provenance of the fetched bytes x how a trap
// was resolved, plus the verdict's cause, effect and rule findings. New bits keep a case.

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

const PASSAGE = text(FNV_OFFSET, "passage"), FETCH = text(FNV_OFFSET, "fetch");

/**
 * The bits a run has listed so far, by byte: one bitmap for every run, cleared of the run's bits
 * when it is done, so that a run lists each bit once, in first-seen order (corpus entries keep
 * that order), without a set per run.
 */
const listed = new Uint8Array(COVERAGE_BITS / 8);

function list(bits: number[], b: number): void {
  const mask = 1 << (b & 7);
  if (listed[b >>> 3]! & mask) return;
  listed[b >>> 3]! |= mask;
  bits.push(b);
}

/** The coverage bits of one run. */
export function coverageOf(run: RunResult, verdict: Verdict, slots: readonly Pick<Slot, "kind" | "start">[]): number[] {
  const bits: number[] = [];
  try {
    listPassages(bits, run, slots);
    for (const d of verdict.divergences) list(bits, bit(text(text(text(text(text(FNV_OFFSET, "div"), d.cause), d.effect), d.slotKind), d.phase.kind)));
    for (const r of verdict.rules) list(bits, bit(text(text(text(text(FNV_OFFSET, "rule"), r.rule), r.slotKind), r.phase.kind)));
    if (run.hung) list(bits, bit(int(int(text(FNV_OFFSET, "hung"), run.hung.deadlock ? 1 : 0), run.hung.patcherStuck ? 1 : 0)));
    if (run.harnessError) list(bits, bit(text(FNV_OFFSET, "harness-error")));
    return bits;
  } finally {
    for (const b of bits) listed[b >>> 3] = 0;
  }
}

function listPassages(bits: number[], run: RunResult, slots: readonly Pick<Slot, "kind" | "start">[]): void {
  // Each passage's features start with its slot's kind: hashed once per slot, not per passage.
  const passageOfSlot: number[] = [], fetchOfSlot: number[] = [];
  for (const s of slots) {
    passageOfSlot.push(text(PASSAGE, s.kind ?? "-"));
    fetchOfSlot.push(text(FETCH, s.kind ?? "-"));
  }
  const phases = run.phases;
  for (const p of run.passages) {
    const slot = slots[p.slot]!;
    const resolution = p.resolution ?? "-";
    list(bits, bit(int(int(text(text(passageOfSlot[p.slot]!, passageVersion(p)), resolution), p.widened ? 1 : 0), p.badEmulation ? 1 : 0)));
    for (const f of p.fetched) {
      let h = int(fetchOfSlot[p.slot]!, Math.min(16, Math.max(-1, f.addr - slot.start)));
      for (const o of f.origin) h = int(h, ORIGIN_CODE[o]);
      h = int(h, 8); // end of the origins
      let firstStep = Infinity;
      for (const s of f.patcherStepAt) if (s < firstStep) firstStep = s;
      // The patcher phase in force after the first patcher step that wrote a fetched byte.
      const phase = phases[Math.min(firstStep, phases.length - 1)]!.phase;
      list(bits, bit(text(int(text(h, phase.kind), Math.min(phase.syncs, 4)), resolution)));
    }
  }
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
