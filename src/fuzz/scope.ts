import type { Case, CaseScope } from "../types.js";
import { MAX_CORES, MIN_CORES } from "../types.js";
import { parseCaseShape } from "../case/load.js";

// Whether cases lie within a campaign's scope (what its generated cases may hold): mutants and
// corpus entries shared by other workers, processes or a hub may not.

/** The generated kind a slot kind belongs to (`rewrite3` is a `rewrite`). */
export function generatedKindOf(slotKind: string): string {
  return /^rewrite\d+$/.test(slotKind) ? "rewrite" : slotKind;
}

/** Whether a scope leaves out any core count, slot kind or batching (an empty kind list leaves out none). */
export function isRestricted(scope: CaseScope): boolean {
  return (scope.slotKinds?.length ?? 0) > 0 || scope.atomicBatches === false ||
    (scope.minCores ?? MIN_CORES) > MIN_CORES || (scope.maxCores ?? MAX_CORES) < MAX_CORES;
}

/** Whether a case lies within the scope's core counts, slot kinds and batching. */
export function inScope(kase: Case, scope: CaseScope): boolean {
  if (kase.cores < (scope.minCores ?? MIN_CORES) || kase.cores > (scope.maxCores ?? MAX_CORES)) return false;
  const kinds = scope.slotKinds;
  if (kinds?.length && !kase.program.slots.every((s) => kinds.includes(generatedKindOf(s.kind)))) return false;
  return scope.atomicBatches !== false || kase.ops.every((op) => op.batch !== "atomic");
}

/** Whether a corpus entry (its file text, `{"case": ...}`) lies within the scope; unreadable text does not. */
export function entryInScope(json: string, scope: CaseScope): boolean {
  if (!isRestricted(scope)) return true;
  try {
    return inScope(parseCaseShape((JSON.parse(json) as { case: unknown }).case), scope);
  } catch {
    return false;
  }
}
