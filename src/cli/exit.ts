import type { Verdict } from "../types.js";
import { breaksSelfCheck, selfCheckLine } from "../oracle/self-check.js";

/** Exit statuses (README): 0 clean, 1 divergence, 2 bad input, 3 harness error (or a broken self-check). */
export const EXIT = { clean: 0, divergence: 1, badInput: 2, harnessError: 3 } as const;

/**
 * A harness error outranks a divergence: the results around it cannot be trusted. So does a
 * stop_machine run that diverged or broke a rule: a bug of the tool's (SPEC 6.6), not a finding.
 */
export function exitFor(verdicts: readonly Verdict[]): number {
  if (verdicts.some((v) => v.kind === "harness-error" || breaksSelfCheck(v))) return EXIT.harnessError;
  if (verdicts.some((v) => v.kind === "diverges")) return EXIT.divergence;
  return EXIT.clean;
}

/** What a verdict that broke the self-check shows of itself. */
export function breach(v: Verdict): string {
  // A divergence by rule findings alone (--rules-fail) has no signature.
  return v.kind === "diverges" && v.signature ? `diverged (${v.signature})` : `broke the rule ${v.rules[0]!.rule}`;
}

/** A stderr line per model under which stop_machine broke the self-check; whether it did. */
export function reportSelfCheck(verdicts: readonly (Verdict | undefined)[]): boolean {
  const broken = new Map<string, Verdict>();
  for (const v of verdicts) if (v && breaksSelfCheck(v) && !broken.has(v.model)) broken.set(v.model, v);
  for (const [model, v] of broken) process.stderr.write(`xmcfuzz: ${selfCheckLine(model, breach(v))}\n`);
  return broken.size > 0;
}

/** Sets the exit status of a command's verdicts, saying any broken self-check (see reportSelfCheck). */
export function settleExit(verdicts: readonly Verdict[]): void {
  reportSelfCheck(verdicts);
  process.exitCode = exitFor(verdicts);
}
