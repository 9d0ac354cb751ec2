import type { Verdict } from "../types.js";
import { verdictKindOf, type RuleSchedules } from "../differential.js";
import type { ExhaustiveResult } from "../schedule/exhaustive.js";

// One-line summaries of searches over schedules (`run --schedules`, `verify`), for the CLI and logs.

/** "unsynchronized-xmc in 18 of 19 schedules (first: seed 0)": `firstName` names a schedule. */
export function formatRuleSchedules(rules: readonly RuleSchedules[], total: number, firstName: (first: number) => string): string {
  return rules.map((r) => `${r.rule} in ${r.schedules} of ${total} schedules (first: ${firstName(r.first)})`).join(", ");
}

/** One line for the CLI and logs; rule findings follow, apart from divergences (SPEC 7.3). */
export function formatExhaustive(result: ExhaustiveResult, bound: number): string {
  return `${formatSearch(result, bound)}${formatRules(result)}`;
}

function formatSearch(result: ExhaustiveResult, bound: number): string {
  const d = result.divergent;
  if (d?.verdict.kind === "harness-error") return `harness error after ${result.explored} schedules: ${d.verdict.harnessError}`;
  if (d) {
    // Without stopAtFirst the search ran on: say how many schedules diverged.
    const more = result.divergentSchedules > 1 ? ` (${result.divergentSchedules} divergent schedules)` : "";
    return `divergent schedule found after ${result.explored} schedules: ${findingOf(d.verdict)}${more}`;
  }
  const cut = result.complete ? "" : " (stopped at maxSchedules: the bound was not exhausted)";
  return `no divergence in all ${result.explored} schedules within delay bound ${bound}${cut}`;
}

/** What the divergent schedule found: its signature, or (`--rules-fail`) the rules it broke. */
function findingOf(v: Verdict): string {
  if (v.signature) return v.signature;
  if (verdictKindOf(v) === "clean") return `rule finding ${[...new Set(v.rules.map((r) => r.rule))].sort().join(", ")} (counted as a divergence: --rules-fail)`;
  return v.kind;
}

function formatRules(result: ExhaustiveResult): string {
  if (result.ruleSchedules.length === 0) return "";
  return `; rule findings: ${formatRuleSchedules(result.ruleSchedules, result.explored, (n) => `schedule ${n}`)}`;
}
