import type { Shard, ShardResult } from "../types.js";
import type { Finding } from "../fuzz/engine.js";
import { ShardThread, type ShardThreadOptions } from "./shard-thread.js";

// Serving a shard list on this machine: a pool of worker threads, each taking the next shard as
// soon as it is free. (The hub serves the same shards to many machines.)

export interface ServeOptions extends ShardThreadOptions {
  readonly workers: number;
  readonly stallMs?: number;
  /** Each confirmed finding with its report, as it arrives (and again once minimized). */
  readonly onFinding?: (f: Finding, report: string) => void;
  /** Each shard's result as it completes. */
  readonly onResult?: (r: ShardResult, done: number, total: number) => void;
  /** Asked before each shard is handed out: stop serving (running shards finish). */
  readonly shouldStop?: () => boolean;
}

export async function serveShards(shards: readonly Shard[], opts: ServeOptions): Promise<ShardResult[]> {
  const { workers, stallMs, onFinding, onResult, shouldStop, ...threadOpts } = opts;
  const results: ShardResult[] = [];
  let next = 0;
  const lane = async (thread: ShardThread) => {
    try {
      while (next < shards.length && !shouldStop?.()) {
        const shard = shards[next++]!;
        const run = await thread.run(shard, { onFinding });
        results.push(run.result);
        onResult?.(run.result, results.length, shards.length);
      }
    } finally {
      await thread.close();
    }
  };
  const lanes = Array.from({ length: Math.max(1, Math.min(workers, shards.length)) }, () => new ShardThread({ ...threadOpts, ...(stallMs ? { stallMs } : {}) }));
  await Promise.all(lanes.map(lane));
  return results;
}
