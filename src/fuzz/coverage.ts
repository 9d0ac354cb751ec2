import type { RunResult, Slot, Verdict } from "../types.js";
import { fnv1a } from "../hash.js";
import { passageVersion } from "../oracle/classify.js";

// Semantic coverage (SPEC 9): what the emulation exercised, hashed into a fixed-size bitmap:
// patcher phase x slot kind x pc offset in the slot x provenance of the fetched bytes x how a trap
// was resolved, plus the verdict's cause, effect and rule findings. New bits keep a case.

export const COVERAGE_BITS = 1 << 16;

function bit(feature: string): number {
  return fnv1a(feature) & (COVERAGE_BITS - 1);
}

const ORIGIN_CHAR = { invariant: "=", old: "o", new: "N", int3: "^", intermediate: "?" } as const;

/** The coverage bits of one run. */
export function coverageOf(run: RunResult, verdict: Verdict, slots: readonly Pick<Slot, "kind" | "start">[]): number[] {
  const bits = new Set<number>();
  const phaseAfter = (steps: number) => {
    const p = run.phases[Math.min(steps, run.phases.length - 1)]!.phase;
    return `${p.kind}/${Math.min(p.syncs, 4)}`;
  };
  for (const p of run.passages) {
    const slot = slots[p.slot]!;
    const kind = slot.kind;
    bits.add(bit(`passage|${kind}|${passageVersion(p)}|${p.resolution ?? "-"}|${p.widened}|${p.badEmulation}`));
    for (const f of p.fetched) {
      let origins = "";
      for (const o of f.origin) origins += ORIGIN_CHAR[o];
      let firstStep = Infinity;
      for (const s of f.patcherStepAt) if (s < firstStep) firstStep = s;
      const offset = Math.min(16, Math.max(-1, f.addr - slot.start));
      bits.add(bit(`fetch|${kind}|${offset}|${origins}|${phaseAfter(firstStep)}|${p.resolution ?? "-"}`));
    }
  }
  for (const d of verdict.divergences) bits.add(bit(`div|${d.cause}|${d.effect}|${d.slotKind}|${d.phase.kind}`));
  for (const r of verdict.rules) bits.add(bit(`rule|${r.rule}|${r.slotKind}|${r.phase.kind}`));
  if (run.hung) bits.add(bit(`hung|${run.hung.deadlock}|${run.hung.patcherStuck}`));
  if (run.harnessError) bits.add(bit("harness-error"));
  return [...bits];
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
