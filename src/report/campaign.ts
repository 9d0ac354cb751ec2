import type { CellFindings } from "../types.js";

// The end of a campaign as text: its new signatures per cell. Formatting only.

const plural = (n: number, one: string) => `${n.toLocaleString("en-US")} ${one}${n === 1 ? "" : "s"}`;
const listed = (counts: readonly (readonly [string, number])[]) => counts.map(([name, n]) => `${name} ${n}`).join(", ");

/** A heading and one line per cell: "none" where the campaign found nothing new; harness errors flagged. */
export function findingsByCellLines(cells: readonly CellFindings[]): string[] {
  if (cells.length === 0) return ["new signatures by cell: none"];
  const sw = Math.max(0, ...cells.map((c) => c.strategy.length)), mw = Math.max(0, ...cells.map((c) => c.model.length));
  const lines = cells.map((c) => {
    const parts: string[] = [];
    if (c.divergences > 0) parts.push(`${plural(c.divergences, "divergence")} (${listed(c.causes)})`);
    if (c.ruleFindings > 0) parts.push(`${plural(c.ruleFindings, "rule finding")} (${listed(c.rules)})`);
    const found = parts.join("; ") || "none";
    const errors = c.harnessErrors > 0 ? `  [${plural(c.harnessErrors, "harness error")}: the cell's verdicts are not to be trusted]` : "";
    return `  ${c.strategy.padEnd(sw)}  ${c.model.padEnd(mw)}  ${found}${errors}`;
  });
  return ["new signatures by cell (divergences by cause; rule findings by rule):", ...lines];
}
