import type { Verdict } from "../types.js";

/** Exit statuses (README): 0 clean, 1 divergence, 2 bad input, 3 harness error. */
export const EXIT = { clean: 0, divergence: 1, badInput: 2, harnessError: 3 } as const;

/** A harness error outranks a divergence: the results around it cannot be trusted. */
export function exitFor(verdicts: readonly Verdict[]): number {
  if (verdicts.some((v) => v.kind === "harness-error")) return EXIT.harnessError;
  if (verdicts.some((v) => v.kind === "diverges")) return EXIT.divergence;
  return EXIT.clean;
}
