import type { Shard } from "../types.js";

// Splitting work into shards: (strategy, model, seed, budget). A matrix uses exec-bounded shards
// (deterministic results); a campaign uses time-bounded ones.

export interface ShardPlan {
  readonly strategies: readonly string[];
  readonly models: readonly string[];
  readonly firstSeed: number;
  /** Shards (consecutive seeds) per (strategy, model) cell. */
  readonly seeds: number;
  readonly maxExecs: number;
  readonly maxMs: number;
}

export function planShards(p: ShardPlan): Shard[] {
  const out: Shard[] = [];
  for (const strategy of p.strategies) {
    for (const model of p.models) {
      for (let i = 0; i < p.seeds; i++) out.push({ strategy, model, seed: p.firstSeed + i, maxExecs: p.maxExecs, maxMs: p.maxMs });
    }
  }
  return out;
}
