import type { Expectation, RegressChangeKind, RegressCheck } from "../types.js";

// Comparing a replayed run with the expectation stored in its case: which changes, and one line
// per change that says what was expected and what happened. Pure: no replay, no files.

const sameRules = (a: readonly string[], b: readonly string[]) =>
  JSON.stringify([...new Set(a)].sort()) === JSON.stringify([...new Set(b)].sort());

/** The changes between what a case expects and what its replay produced (none: it still holds). */
export function compareExpectation(expected: Expectation | undefined, actual: Expectation | { drift: string }): RegressChangeKind[] {
  if ("drift" in actual) return ["drift"];
  if (!expected) return ["no-expectation"];
  const out: RegressChangeKind[] = [];
  if (expected.verdict !== actual.verdict) {
    if (expected.verdict === "clean" && actual.verdict === "diverges") out.push("new-divergence");
    else if (expected.verdict === "diverges" && actual.verdict === "clean") out.push("vanished-divergence");
    else out.push("changed-verdict");
  } else if (expected.signature !== actual.signature) {
    out.push("changed-signature");
  }
  if (!sameRules(expected.rules, actual.rules)) out.push("changed-rules");
  return out;
}

const rulesText = (rules: readonly string[]) => (rules.length > 0 ? [...rules].sort().join(", ") : "none");

function verdictText(e: Expectation, harnessError?: string): string {
  if (e.verdict === "diverges") return `diverges (${e.signature ?? "rule findings counted as divergences"})`;
  if (e.verdict === "harness-error") return `harness-error${harnessError ? ` (${harnessError})` : ""}`;
  return "clean";
}

/** One self-contained line per change: file, run, cell, what changed, expected vs now. */
export function changeLines(c: RegressCheck): string[] {
  const where = `${c.file} runs[${c.index}] ${c.strategy} ${c.model}`;
  return c.changes.map((kind) => {
    const exp = c.expected, act = c.actual;
    switch (kind) {
      case "drift":
        return `${where}: drift: ${c.drift}`;
      case "no-expectation":
        return `${where}: no expectation recorded (now ${verdictText(act!, c.harnessError)}; --update records it)`;
      case "new-divergence":
        return `${where}: new divergence: expected clean, now ${verdictText(act!, c.harnessError)}`;
      case "vanished-divergence":
        return `${where}: vanished divergence: expected ${verdictText(exp!)}, now clean`;
      case "changed-signature":
        return `${where}: changed signature: expected ${exp!.signature ?? "none"}, now ${act!.signature ?? "none"}`;
      case "changed-verdict":
        return `${where}: changed verdict: expected ${verdictText(exp!)}, now ${verdictText(act!, c.harnessError)}`;
      case "changed-rules":
        return `${where}: changed rules: expected ${rulesText(exp!.rules)}, now ${rulesText(act!.rules)}`;
      case "vanished-finding":
        return `${c.file}: vanished finding: the case is named after ${c.finding}, which no run shows now`;
    }
  });
}
