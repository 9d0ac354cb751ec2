import { join } from "node:path";
import { hostname } from "node:os";
import { InputError } from "../errors.js";
import { Campaign } from "../fuzz/campaign.js";
import { checkOutputDir } from "./output-paths.js";
import { modelsFrom, scopeFrom, type ScopeArgs, strategiesFrom, strategyArgsOf } from "./resolve.js";
import { openHub } from "../hub/open.js";
import { RedisHub } from "../hub/redis.js";
import { checkNodeName } from "../files/store.js";
import type { Hub } from "../types.js";

export interface FuzzOptions extends ScopeArgs {
  strategy?: string[];
  model?: string[];
  duration: number;
  maxExecs: number;
  workers: number;
  /** Default 1; nodes sharing a directory or hub mix their name in, so they draw different cases. */
  seed?: number;
  scheduler: "random" | "pct";
  /** Default fuzz-out; with an explicit --sync-dir, the node's own directory there. */
  out?: string;
  crashes?: string;
  syncDir?: string;
  /** The sync directory came from --corpus (one machine): the default --out stays fuzz-out. */
  corpusAlias?: boolean;
  node?: string;
  log?: string;
  feedback: boolean;
  minimize: boolean;
  stallTimeout: number;
  json: boolean;
  hub?: string;
  shardWorkers?: number;
  shardsOnly?: boolean;
  untilIdle?: boolean;
  shardLease?: number;
  /** `--promote [dir]`: true means the default corpus directory. */
  promote?: string | boolean;
}

/** "8h", "30m", "90s", "1h30m", "250ms" or a number of seconds. */
export function parseDuration(text: string): number {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  let total = 0, consumed = 0;
  for (const m of text.matchAll(re)) {
    total += Number(m[1]) * unit[m[2]!]!;
    consumed += m[0].length;
  }
  if (consumed !== text.length || consumed === 0) throw new InputError(`--duration: expected a duration like 30s, 10m, 8h or 1h30m, got "${text}"`);
  return total;
}

/** Makes the campaign; a path it cannot use closes the hub first (its socket would keep the process alive). */
function closingHubOnError<T>(hub: Hub | undefined, make: () => T): T {
  try {
    return make();
  } catch (e) {
    void hub?.close();
    throw e;
  }
}

/** `fuzz`: a campaign over every (strategy, model) cell by default; keeps going after findings. */
export async function fuzzCommand(opts: FuzzOptions): Promise<void> {
  // The workers load the same list: indices into it name cells in their messages.
  const strategyArgs = strategyArgsOf(opts.strategy);
  const strategies = await strategiesFrom(strategyArgs);
  const models = modelsFrom(opts.model);
  // Before the hub opens: bad input must not leave a connection that keeps the process alive.
  if (opts.node !== undefined) checkNodeName(opts.node);
  const node = opts.node ?? `${hostname()}-${process.pid}`;
  const promote = opts.promote === true ? "corpus" : opts.promote || undefined;
  // Checked before any work: the first finding must not be where a bad path shows.
  if (promote) checkOutputDir("--promote", promote);
  // Shorter, and a node busy for a moment would lose its shard to another while alive.
  if (opts.shardLease !== undefined && opts.shardLease < 1000) throw new InputError("--shard-lease: at least 1s");
  // A hub joins this node to others: its corpus and findings mirrored there, its shards served here.
  const hub = opts.hub ? openHub(opts.hub, { lockMs: opts.shardLease, stalledMs: opts.shardLease ? Math.max(500, opts.shardLease / 2) : undefined }) : undefined;
  if (!hub && (opts.shardsOnly || opts.untilIdle)) throw new InputError("--shards-only and --until-idle need --hub");
  if (hub instanceof RedisHub) {
    try {
      await hub.checkDatabase();
      // A batch node (--until-idle) has nothing to do without the hub: a wrong URL is bad input.
      if (opts.untilIdle) await hub.reachable();
    } catch (e) {
      await hub.close(0);
      throw e;
    }
  }
  const campaignNode = opts.node ?? (opts.syncDir || hub ? node : "local");
  // Processes sharing a sync directory each write their stats and log in their own node's
  // directory there (as AFL's instances do), not all into one ./fuzz-out.
  const out = opts.out ?? (opts.syncDir && !opts.corpusAlias ? join(opts.syncDir, campaignNode) : "fuzz-out");
  const syncDir = opts.syncDir ?? join(out, "sync");
  const campaign = closingHubOnError(hub, () => new Campaign({
    strategies, strategyArgs, models,
    durationMs: opts.duration, maxExecs: opts.maxExecs, workers: opts.shardsOnly ? 0 : opts.workers,
    seed: opts.seed !== undefined ? String(opts.seed) : opts.node !== undefined && (opts.syncDir !== undefined || hub) ? `1:${opts.node}` : "1",
    scheduler: opts.scheduler, feedback: opts.feedback, minimize: opts.minimize, scope: scopeFrom(opts),
    out, crashes: opts.crashes ?? (opts.syncDir ? join(opts.syncDir, "crashes") : "crashes"),
    syncDir, node: campaignNode, log: opts.log ?? join(out, "fuzz.log"),
    tty: process.stderr.isTTY === true, stallMs: opts.stallTimeout,
    ...(hub ? { hub, shardWorkers: opts.shardWorkers ?? opts.workers, untilIdle: opts.untilIdle === true } : {}),
    ...(promote ? { promote } : {}),
  }));
  // A hub that stopped answering (or refused this node) can leave a socket (BullMQ's blocking
  // connection) that never closes: everything is on disk by now, so such a node exits anyway once
  // its output is written, with the status main gives a failed run.
  const stats = await campaign.run().finally(() => {
    if (hub) setTimeout(() => process.exit(process.exitCode ?? 0), 2_000).unref();
    return hub?.close();
  });
  if (opts.json) process.stdout.write(JSON.stringify(stats, null, 2) + "\n");
}
