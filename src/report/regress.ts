import type { RegressCheck } from "../types.js";
import type { RegressSummary } from "../corpus/regress.js";

// The regression table: one row per case file, counting its replayed runs by verdict.

export interface RegressRow {
  readonly file: string;
  readonly runs: number;
  readonly clean: number;
  readonly diverges: number;
  readonly harnessErrors: number;
  /** Runs with rule findings. */
  readonly rules: number;
  readonly changed: number;
}

export function regressRow(file: string, checks: readonly RegressCheck[]): RegressRow {
  const kind = (k: string) => checks.filter((c) => c.actual?.verdict === k).length;
  return {
    file, runs: checks.length, clean: kind("clean"), diverges: kind("diverges"), harnessErrors: kind("harness-error"),
    rules: checks.filter((c) => (c.actual?.rules.length ?? 0) > 0).length,
    changed: checks.filter((c) => c.changes.length > 0).length,
  };
}

export function regressTable(rows: readonly RegressRow[]): string {
  const header = ["case", "runs", "clean", "diverges", "harness-err", "with-rules", "changed", ""];
  const total: RegressRow = rows.reduce((t, r) => ({
    file: "total", runs: t.runs + r.runs, clean: t.clean + r.clean, diverges: t.diverges + r.diverges,
    harnessErrors: t.harnessErrors + r.harnessErrors, rules: t.rules + r.rules, changed: t.changed + r.changed,
  }), { file: "total", runs: 0, clean: 0, diverges: 0, harnessErrors: 0, rules: 0, changed: 0 });
  const cells = (r: RegressRow) => [r.file, ...[r.runs, r.clean, r.diverges, r.harnessErrors, r.rules, r.changed].map(String), r.changed > 0 ? "CHANGED" : r.runs === 0 ? "no runs" : "ok"];
  const body = [header, ...rows.map(cells), cells(total)];
  const widths = header.map((_, i) => Math.max(...body.map((r) => r[i]!.length)));
  return body.map((r) => r.map((c, i) => (i === 0 || i === r.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ").trimEnd() + "\n").join("");
}

export function regressSummaryLine(s: RegressSummary): string {
  return s.changed === 0
    ? `regress: ${s.runs} recorded runs in ${s.cases} cases replayed, no change\n`
    : `regress: ${s.changed} of ${s.runs} recorded runs in ${s.cases} cases changed (${s.changes} changes)\n`;
}
