import type { MatrixCell, ShardResult } from "../types.js";
import { foldCell } from "./fold.js";
import type { CellVerification } from "./verify.js";

// From shard results to the matrix: one folded cell per (strategy, model), in the order asked.

export function matrixCells(strategies: readonly string[], models: readonly string[], results: readonly ShardResult[]): MatrixCell[] {
  return strategies.flatMap((s) => models.map((m) => foldCell(s, m, results.filter((r) => r.shard.strategy === s && r.shard.model === m))));
}

/** A cell that fuzzing found no divergence in, and harness errors did not spoil, gets checked exhaustively. */
export function needsVerification(c: MatrixCell): boolean {
  return c.signatures.length === 0 && c.harnessErrors === 0;
}

export function withVerification(c: MatrixCell, verified: CellVerification): MatrixCell {
  return { ...c, verified };
}

export type CellStatus = "diverges" | "diverges-exhaustive" | "no-divergence" | "harness-error";

export function cellStatus(c: MatrixCell): CellStatus {
  if (c.signatures.length > 0) return "diverges";
  if (c.verified?.divergent) return "diverges-exhaustive";
  if (c.harnessErrors > 0) return "harness-error";
  return "no-divergence";
}

/**
 * Rule names ("unsynchronized-xmc") from rule-finding signatures ("rule s m unsynchronized-xmc kind
 * phase"), and those the exhaustive check of the cell saw.
 */
export function ruleNames(c: MatrixCell): string[] {
  return [...new Set([...c.rules.map((r) => r.split(" ")[3] ?? r), ...(c.verified?.rules ?? [])])].sort();
}
