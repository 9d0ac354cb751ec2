// SPEC 6.6: a stop_machine run never diverges and raises no rule finding, under any model; a
// failure is a bug in the emulator or the oracle, never a finding. Commands still save such a
// run (it is how the bug gets fixed) but say what it is, and exit as for an internal error.

/** The reference strategy (built-in: a plugin may not take its name). */
export const REFERENCE_STRATEGY = "stop_machine";

/** Whether a run's verdict breaks the self-check. */
export function breaksSelfCheck(v: { readonly strategy: string; readonly kind: string; readonly rules: readonly unknown[] }): boolean {
  return v.strategy === REFERENCE_STRATEGY && (v.kind === "diverges" || v.rules.length > 0);
}

/** The line a command prints when a run broke the self-check. */
export function selfCheckLine(model: string, what: string): string {
  return `SELF-CHECK FAILED: ${REFERENCE_STRATEGY} under ${model}: ${what}. stop_machine never diverges (SPEC 6.6): this is a bug in xmcfuzz's emulator or oracle, not a finding; please report it with the case`;
}
