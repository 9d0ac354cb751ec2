import type { Shard, ShardResult } from "../types.js";
import type { ShippedFinding } from "../fuzz/engine.js";
import { type Lane, runOnLanes } from "./lanes.js";
import { ShardThread, type ShardThreadOptions } from "./shard-thread.js";

// Serving a shard list on this machine: a pool of worker threads, each taking the next shard as
// soon as it is free. (The hub serves the same shards to many machines.)

export interface ServeOptions extends ShardThreadOptions {
  readonly workers: number;
  readonly stallMs?: number;
  /** Each confirmed finding with its report, as it arrives (and again once minimized). */
  readonly onFinding?: (f: ShippedFinding) => void;
  /** Each shard's result as it completes. */
  readonly onResult?: (r: ShardResult, done: number, total: number) => void;
  /** Asked before each shard is handed out: stop serving (running shards finish). */
  readonly shouldStop?: () => boolean;
}

export async function serveShards(shards: readonly Shard[], opts: ServeOptions): Promise<ShardResult[]> {
  const { workers, stallMs, onFinding, onResult, shouldStop, ...threadOpts } = opts;
  const open = (): Lane<Shard, ShardResult> => {
    const thread = new ShardThread({ ...threadOpts, ...(stallMs ? { stallMs } : {}) });
    return { run: async (shard) => (await thread.run(shard, { onFinding })).result, close: () => thread.close() };
  };
  return runOnLanes(shards, workers, open, { shouldStop, onResult: (r, done) => onResult?.(r, done, shards.length) });
}
