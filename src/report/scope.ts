import type { CaseScope } from "../types.js";

/** What a restricted scope leaves in, for headers and start lines; undefined when nothing is left out. */
export function scopeText(scope: CaseScope): string | undefined {
  const parts = [
    ...(scope.slotKinds ? [`slot kinds ${scope.slotKinds.join(", ")}`] : []),
    ...(scope.atomicBatches === false ? ["per-site ops only"] : []),
  ];
  return parts.length > 0 ? `generated cases: ${parts.join("; ")}` : undefined;
}
