// Pure one-step reductions of a case, for the minimizer. Each returns a structurally smaller case;
// whether it is still valid and still diverges the same way is the minimizer's business.
import type { Case, PatchOp, Program } from "../types.js";

function drop<T>(xs: readonly T[], start: number, count: number): T[] {
  return [...xs.slice(0, start), ...xs.slice(start + count)];
}

/** Removes program cores start+1..start+count (entries start..start+count-1). */
export function withoutCores(kase: Case, start: number, count: number): Case {
  const entries = drop(kase.program.entries, start, count);
  return { ...kase, cores: entries.length + 1, program: { ...kase.program, entries } };
}

export function withoutOps(kase: Case, start: number, count: number): Case {
  return { ...kase, ops: drop(kase.ops, start, count) };
}

/** Removes targets of op j (the caller keeps at least one). */
export function withoutTargets(kase: Case, j: number, start: number, count: number): Case {
  const ops = kase.ops.map((op, i): PatchOp => (i === j ? { ...op, targets: drop(op.targets, start, count) } : op));
  return { ...kase, ops };
}

/**
 * Stops slots start..start+count-1 from being slots: their old bytes stay in the code, ops lose
 * their targets (an op left empty goes), and the remaining slots are renumbered.
 */
export function withoutSlots(kase: Case, start: number, count: number): Case {
  const renumber = (k: number): number => (k < start ? k : k >= start + count ? k - count : -1);
  const ops = kase.ops
    .map((op): PatchOp => ({ ...op, targets: op.targets.filter((t) => renumber(t.slot) >= 0).map((t) => ({ ...t, slot: renumber(t.slot) })) }))
    .filter((op) => op.targets.length > 0);
  return { ...kase, ops, program: { ...kase.program, slots: drop(kase.program.slots, start, count) } };
}

export function withProgram(kase: Case, program: Program): Case {
  return { ...kase, program };
}
