import type { CaseScope, MatrixCell } from "../types.js";
import { cellStatus, ruleNames } from "../matrix/cells.js";
import { scopeText } from "./scope.js";

// The safety matrix as text: a terminal grid with one line per cell, Markdown, and JSON.
// Formatting only; the cells come folded (matrix/cells.ts).

export interface MatrixMeta {
  readonly strategies: readonly string[];
  readonly models: readonly string[];
  /** Per cell. */
  readonly budgetMs: number;
  readonly maxExecs: number;
  readonly seed: number;
  readonly workers: number;
  readonly shardsPerCell: number;
  readonly verifyBound: number;
  readonly verifyMaxSchedules: number;
  readonly corpusCases: number;
  readonly elapsedMs: number;
  /** What the cells' generated cases were drawn from. */
  readonly scope: CaseScope;
}

const secs = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
const count = (n: number) => n.toLocaleString("en-US");
const unbounded = (n: number) => n >= Number.MAX_SAFE_INTEGER;

export function budgetText(m: MatrixMeta): string {
  const parts = [...(unbounded(m.budgetMs) ? [] : [secs(m.budgetMs)]), ...(unbounded(m.maxExecs) ? [] : [`${count(m.maxExecs)} execs`])];
  return `${parts.join(" or ") || "unbounded"} per cell`;
}

function verifyText(c: MatrixCell): string {
  const v = c.verified;
  if (!v) return "";
  if (v.divergent) return `exhaustive verify diverges at bound ${v.divergent.bound} on corpus case ${v.divergent.case}: ${v.divergent.signature}`;
  if (v.bound < 0) return `exhaustive verify: no bound exhausted within the schedule cap (${count(v.schedules)} schedules on ${v.cases} corpus cases)`;
  return `exhaustive verify: clean to delay bound ${v.bound}${v.complete ? "" : " (higher bounds not exhausted within the schedule cap)"} on ${v.cases} corpus cases (${count(v.schedules)} schedules)`;
}

/** Short grid text of a cell. */
export function cellShort(c: MatrixCell): string {
  const err = c.harnessErrors > 0 ? "!" : "";
  switch (cellStatus(c)) {
    case "diverges": return `DIVERGES ${c.signatures.length}${err}`;
    case "diverges-exhaustive": return `DIVERGES (verify)${err}`;
    case "harness-error": return `harness error${c.harnessErrors > 1 ? `s ${c.harnessErrors}` : ""}`;
    case "no-divergence": return c.verified ? (c.verified.bound >= 0 ? `none (bound ${c.verified.bound})` : "none (unverified)") : "none found";
  }
}

/** One sentence per cell: the verdict and its evidence. */
export function cellLine(c: MatrixCell): string {
  const rules = ruleNames(c);
  const ruleText = rules.length > 0 ? `; rule findings: ${rules.join(", ")}` : "";
  const errText = c.harnessErrors > 0 ? `; ${c.harnessErrors} harness error${c.harnessErrors === 1 ? "" : "s"}${c.firstHarnessError ? ` (first: ${c.firstHarnessError})` : ""}` : "";
  const work = `${count(c.execs)} execs in ${secs(c.ms)}`;
  const head = `${c.strategy} x ${c.model}: `;
  const status = cellStatus(c);
  if (status === "diverges") {
    const f = c.firstDivergence!;
    return `${head}DIVERGES (${c.signatures.length} signature${c.signatures.length === 1 ? "" : "s"}): causes ${c.causes.join(", ")}; effects ${c.effects.join(", ")}; first after ${count(f.execs)} execs (${secs(f.ms)}); ${work}${ruleText}${errText}`;
  }
  const v = verifyText(c);
  if (status === "diverges-exhaustive") return `${head}no divergence found by fuzzing (${work}), but ${v}${ruleText}${errText}`;
  return `${head}no divergence found in ${work}${v ? `; ${v}` : ""}${ruleText}${errText}`;
}

function grid(meta: MatrixMeta, cells: readonly MatrixCell[]): string[][] {
  const at = (s: string, m: string) => cells.find((c) => c.strategy === s && c.model === m);
  return [["", ...meta.models], ...meta.strategies.map((s) => [s, ...meta.models.map((m) => { const c = at(s, m); return c ? cellShort(c) : ""; })])];
}

export function headerLine(meta: MatrixMeta): string {
  const scope = scopeText(meta.scope);
  return `safety matrix: ${meta.strategies.length} strategies x ${meta.models.length} models, ${budgetText(meta)}, seed ${meta.seed}, ${meta.workers} worker${meta.workers === 1 ? "" : "s"}${scope ? `; ${scope}` : ""}; ${secs(meta.elapsedMs)} in all`;
}

export function matrixText(cells: readonly MatrixCell[], meta: MatrixMeta): string {
  const rows = grid(meta, cells);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const table = rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n");
  return `${headerLine(meta)}\n\n${table}\n\n${cells.map(cellLine).join("\n")}\n`;
}

const mdEscape = (s: string) => s.replace(/\|/g, "\\|");

export function matrixMarkdown(cells: readonly MatrixCell[], meta: MatrixMeta): string {
  const rows = grid(meta, cells).map((r, i) => (i === 0 ? r : [`\`${r[0]}\``, ...r.slice(1).map((c) => (c.startsWith("DIVERGES") ? `**${c}**` : c))]));
  const line = (r: readonly string[]) => `| ${r.map(mdEscape).join(" | ")} |`;
  const table = [line(rows[0]!.map((h, i) => (i === 0 ? "strategy \\ model" : `\`${h}\``))), line(rows[0]!.map(() => "---")), ...rows.slice(1).map(line)];
  const detailHead = ["strategy", "model", "result", "causes", "effects", "first divergence", "execs", "rule findings", "exhaustive verify"];
  const details = cells.map((c) => {
    const f = c.firstDivergence;
    const v = c.verified;
    const verify = !v ? "" : v.divergent ? `diverges at bound ${v.divergent.bound} (${v.divergent.case})` : v.bound < 0 ? "not exhausted" : `bound ${v.bound}${v.complete ? "" : " (cap)"}, ${v.cases} cases, ${count(v.schedules)} schedules`;
    return [c.strategy, c.model, cellShort(c), c.causes.join(", "), c.effects.join(", "), f ? `${count(f.execs)} execs, ${secs(f.ms)}` : "", `${count(c.execs)} (${secs(c.ms)})`, ruleNames(c).join(", "), verify];
  });
  return [
    `**${headerLine(meta)}**`, "",
    ...table, "",
    line(detailHead), line(detailHead.map(() => "---")), ...details.map(line), "",
  ].join("\n");
}

export function matrixJson(cells: readonly MatrixCell[], meta: MatrixMeta): object {
  const finite = (n: number) => (unbounded(n) ? null : n);
  return { meta: { ...meta, budgetMs: finite(meta.budgetMs), maxExecs: finite(meta.maxExecs) }, cells: cells.map((c) => ({ ...c, status: cellStatus(c), ruleNames: ruleNames(c) })) };
}
