import { Worker } from "node:worker_threads";
import type { Shard, ShardResult } from "../types.js";
import type { Finding } from "../fuzz/engine.js";
import type { FromShard } from "./shard-thread.js";

// Runs a shard in a worker thread and resolves with its result; a thread that dies rejects (the
// queue then retries the shard, here or on another node).

export interface ShardListener {
  onExecs?(execs: number): void;
  onFinding?(f: Finding, report: string): void;
}

const running = new Set<Worker>();

/** Ends every running shard thread (a stopping node): their shards go back to the queue. */
export async function abortShards(): Promise<void> {
  await Promise.all([...running].map((w) => w.terminate()));
}

export function runShardInThread(shard: Shard, listener: ShardListener = {}): Promise<ShardResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL("./shard-thread.js", import.meta.url), { workerData: shard });
    running.add(w);
    let result: ShardResult | undefined;
    w.on("message", (m: FromShard) => {
      if (m.type === "execs") listener.onExecs?.(m.execs);
      else if (m.type === "finding") listener.onFinding?.(m.finding, m.report);
      else result = m.result;
    });
    w.on("error", reject);
    w.on("exit", (code) => {
      running.delete(w);
      return result ? resolve(result) : reject(new Error(`shard thread exited (${code}) without a result`));
    });
  });
}
