import type { MatrixCell, Model, RuleName, Strategy } from "../types.js";
import type { PreparedCase } from "../differential.js";
import { exploreExhaustive } from "../schedule/exhaustive.js";

// The exhaustive check of a cell where fuzzing found no divergence: every schedule of every corpus
// case within a growing delay bound (0, 1, ... up to the bound asked), stopping at the first
// divergence or at the first bound a case cannot exhaust within its schedule cap.

export type CellVerification = NonNullable<MatrixCell["verified"]>;

/**
 * A cell's check: what it verified, or the harness error that stopped it (a strategy that threw or
 * misused the API in some schedule). That is a harness error of the cell, never a divergence.
 */
export type CellCheck = { readonly verified: CellVerification } | { readonly harnessError: string };

export interface VerifyOptions {
  /** Largest delay bound to try. */
  readonly bound: number;
  /** Schedules per (case, bound) before that bound counts as not exhausted. */
  readonly maxSchedules: number;
  /** Called after each schedule (a heartbeat for watchdogs). */
  readonly onSchedule?: () => void;
}

/**
 * `bound`: the largest bound exhausted on every case without a divergence (-1: not even the
 * default schedule of each case); `complete`: that is the bound asked for.
 */
export function verifyCell(strategy: Strategy, model: Model, cases: readonly { name: string; prepared: PreparedCase }[], opts: VerifyOptions): CellCheck {
  let reached = -1, schedules = 0;
  const broken = new Set<RuleName>();
  const rules = () => (broken.size > 0 ? { rules: [...broken].sort() } : {});
  for (let b = 0; b <= opts.bound; b++) {
    let exhausted = true;
    for (const c of cases) {
      const r = exploreExhaustive(c.prepared, { strategy, model }, { bound: b, maxSchedules: opts.maxSchedules, onSchedule: opts.onSchedule });
      schedules += r.explored;
      for (const s of r.ruleSchedules) broken.add(s.rule);
      const d = r.divergent;
      if (d?.verdict.kind === "harness-error") return { harnessError: `exhaustive verify, corpus case ${c.name}, bound ${b}: ${d.verdict.harnessError ?? "harness error"}` };
      if (d) {
        const signature = d.verdict.signature ?? d.verdict.kind;
        return { verified: { bound: reached, cases: cases.length, schedules, complete: false, divergent: { case: c.name, bound: b, signature }, ...rules() } };
      }
      if (!r.complete) exhausted = false;
    }
    if (!exhausted) break;
    reached = b;
  }
  return { verified: { bound: reached, cases: cases.length, schedules, complete: reached === opts.bound, ...rules() } };
}
