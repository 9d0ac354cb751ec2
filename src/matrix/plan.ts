import type { CaseScope, Shard } from "../types.js";

// Making the shard list of a matrix: every (strategy, model) cell split into shards. Kept apart
// from serving shards (local worker threads, or the hub) and from folding and formatting results.

export interface MatrixPlan {
  /** Built-in names or plugin paths, as given. */
  readonly strategies: readonly string[];
  /** Named models or model file paths, as given. */
  readonly models: readonly string[];
  readonly seed: number;
  /** Execs per cell (split over its shards). */
  readonly maxExecs: number;
  /** Wall time per cell, in ms (split over its shards). */
  readonly maxMs: number;
  /** Shards per cell (default 1): more lets more workers or machines share one cell. */
  readonly shardsPerCell?: number;
  /**
   * What the cells' cases may hold. Every shard carries it, so a cell means the same whichever
   * node serves it; without one a node fuzzes the shard within its own scope.
   */
  readonly scope?: CaseScope;
  /** The schedule policy every shard is fuzzed with, whichever node serves it. */
  readonly scheduler?: "random" | "pct";
}

/**
 * The shards of every cell, cell by cell in strategy-major order. Shard k of a cell gets seed
 * `seed + k` and its share of the cell's budget, so the cell's budget is what the user asked for
 * however many workers serve it; a cell bounded by execs alone is deterministic.
 */
export function planShards(plan: MatrixPlan): Shard[] {
  const k = Math.max(1, Math.floor(plan.shardsPerCell ?? 1));
  const share = (total: number, i: number) =>
    total >= Number.MAX_SAFE_INTEGER ? Number.MAX_SAFE_INTEGER : Math.floor(total / k) + (i < total % k ? 1 : 0);
  const out: Shard[] = [];
  for (const strategy of plan.strategies) {
    for (const model of plan.models) {
      for (let i = 0; i < k; i++) {
        out.push({
          strategy, model, seed: plan.seed + i, maxExecs: share(plan.maxExecs, i), maxMs: share(plan.maxMs, i),
          ...(plan.scope ? { scope: plan.scope } : {}), ...(plan.scheduler ? { scheduler: plan.scheduler } : {}),
        });
      }
    }
  }
  return out;
}
