import type { Cause, Effect, MatrixCell, Shard, ShardResult } from "../types.js";

// Folding shard results into matrix cells. Pure and order-independent, so a matrix served by one
// process's workers and one served by many machines through the hub come out the same.

const sortedUnion = (lists: readonly (readonly string[])[]): string[] => [...new Set(lists.flat())].sort();

/** Earliest by execs, then by ms (execs are what a seed-bounded shard makes deterministic). */
function earlier(a: MatrixCell["firstDivergence"], b: MatrixCell["firstDivergence"]): MatrixCell["firstDivergence"] {
  if (!a) return b;
  if (!b) return a;
  return b.execs < a.execs || (b.execs === a.execs && b.ms < a.ms) ? b : a;
}

/** Signatures read "strategy model cause effect kind phase" (oracle/classify.ts signatureOf). */
function signatureParts(signature: string): { cause: Cause; effect: Effect } {
  const [, , cause, effect] = signature.split(" ");
  return { cause: cause as Cause, effect: effect as Effect };
}

/** Folds the results of shards of one (strategy, model) cell; duplicates of one shard count once. */
export function foldCell(strategy: string, model: string, results: readonly ShardResult[]): MatrixCell {
  const unique = new Map<string, ShardResult>();
  for (const r of results) {
    if (r.shard.strategy !== strategy || r.shard.model !== model) throw new Error(`shard of ${r.shard.strategy}/${r.shard.model} folded into ${strategy}/${model}`);
    unique.set(shardKey(r.shard), r);
  }
  const rs = [...unique.values()];
  const signatures = sortedUnion(rs.map((r) => r.signatures));
  const parts = signatures.map(signatureParts);
  return {
    strategy,
    model,
    shards: rs.length,
    execs: rs.reduce((n, r) => n + r.execs, 0),
    ms: rs.reduce((n, r) => n + r.ms, 0),
    firstDivergence: rs.reduce<MatrixCell["firstDivergence"]>((f, r) => earlier(f, r.firstDivergence), undefined),
    signatures,
    causes: [...new Set(parts.map((p) => p.cause))].sort(),
    effects: [...new Set(parts.map((p) => p.effect))].sort(),
    rules: sortedUnion(rs.map((r) => r.rules)),
    harnessErrors: rs.reduce((n, r) => n + r.harnessErrors, 0),
    ...firstHarnessError(rs),
  };
}

/**
 * A shard's identity: a retried shard has the same key, so its result is counted once. Its scope
 * and scheduler are part of it, so a scoped or random-schedule matrix never folds in a hub's
 * results of another one.
 */
export function shardKey(s: Shard): string {
  const key = `${s.strategy}|${s.model}|${s.seed}|${s.maxExecs}|${s.maxMs}${s.scheduler ? `|${s.scheduler}` : ""}`;
  if (!s.scope) return key;
  const { minCores, maxCores, maxOps, slotKinds, atomicBatches } = s.scope;
  return `${key}|${JSON.stringify({ minCores, maxCores, maxOps, slotKinds, atomicBatches })}`;
}

/** The words of the lowest-seeded shard's first harness error: the same whatever order results came in. */
function firstHarnessError(rs: readonly ShardResult[]): { firstHarnessError?: string } {
  const first = [...rs].sort((a, b) => a.shard.seed - b.shard.seed).find((r) => r.firstHarnessError !== undefined);
  return first ? { firstHarnessError: first.firstHarnessError! } : {};
}
