import { InputError } from "../errors.js";
import { existsSync } from "node:fs";
import { isRedisUrl, openHubNow } from "../hub/open.js";
import { planShards } from "../matrix/plan.js";
import { formatHubStatus } from "../hub/status.js";
import { forEveryNode, modelArgsOf, modelsFrom, scopeFrom, type ScopeArgs, strategiesFrom, strategyArgsOf } from "./resolve.js";

// `hub enqueue` and `hub status`: thin shells over a hub (Redis URL or shared directory).

export interface EnqueueOptions extends ScopeArgs {
  strategy?: string[];
  model?: string[];
  matrix: boolean;
  campaign: boolean;
  seed: number;
  seeds: number;
  scheduler: "random" | "pct";
  maxExecs?: number;
  duration?: number;
  json: boolean;
}

export async function hubEnqueueCommand(where: string, opts: EnqueueOptions): Promise<void> {
  if (opts.matrix === opts.campaign) throw new InputError("hub enqueue: give exactly one of --matrix or --campaign");
  if (opts.matrix && opts.maxExecs === undefined) throw new InputError("hub enqueue --matrix: --max-execs is required (exec-bounded shards give deterministic cells)");
  if (opts.campaign && opts.duration === undefined) throw new InputError("hub enqueue --campaign: --duration (per shard) is required");
  const given = strategyArgsOf(opts.strategy), givenModels = modelArgsOf(opts.model);
  // Bad names fail here, not on every node.
  await strategiesFrom(given);
  modelsFrom(givenModels);
  const strategies = forEveryNode(given), models = forEveryNode(givenModels);
  // The matrix's own plan, so `hub enqueue --matrix` and `matrix --hub` make the same shards: a
  // cell's budget is split over its shards, here `--seeds` shards of the per-shard budget each.
  // Matrix shards have no time cap unless asked (as `matrix --max-execs` alone: deterministic cells).
  const perCell = (perShard: number) => Math.min(Number.MAX_SAFE_INTEGER, perShard * opts.seeds);
  const shards = planShards({
    strategies, models, seed: opts.seed, shardsPerCell: opts.seeds, scheduler: opts.scheduler,
    maxExecs: perCell(opts.maxExecs ?? Number.MAX_SAFE_INTEGER), maxMs: perCell(opts.duration ?? Number.MAX_SAFE_INTEGER), scope: scopeFrom(opts),
  });
  const hub = await openHubNow(where);
  try {
    const added = await hub.enqueueShards(shards);
    if (opts.json) process.stdout.write(JSON.stringify({ shards: shards.length, added }) + "\n");
    else process.stdout.write(`${added} shards added (${shards.length - added} already known to the hub)\n`);
  } finally {
    await hub.close();
  }
}

export async function hubStatusCommand(where: string, opts: { json: boolean }): Promise<void> {
  if (!isRedisUrl(where) && !where.includes("://") && !existsSync(where)) throw new InputError(`hub status: no such hub directory: ${where}`);
  const hub = await openHubNow(where);
  try {
    const s = await hub.status();
    process.stdout.write(opts.json ? JSON.stringify(s, null, 2) + "\n" : formatHubStatus(s));
  } finally {
    await hub.close();
  }
}
