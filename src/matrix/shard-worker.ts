import { parentPort, workerData } from "node:worker_threads";
import type { Model, Strategy } from "../types.js";
import { TracedReplays } from "../fuzz/finding-report.js";
import { resolveModel } from "../models/load.js";
import { resolveStrategy } from "../strategies/load.js";
import { runShard } from "./shard.js";
import type { ShardThreadOptions, ToShardThread, FromShardThread } from "./shard-thread.js";

// The worker-thread side of shard-thread.ts: serves shards one at a time, resolving strategies and
// models from their names or files once per thread.

const strategies = new Map<string, Strategy>();
const models = new Map<string, Model>();

async function serve(m: ToShardThread, opts: ShardThreadOptions): Promise<void> {
  const send = (msg: FromShardThread) => parentPort!.postMessage(msg);
  try {
    const { shard } = m;
    if (!strategies.has(shard.strategy)) strategies.set(shard.strategy, await resolveStrategy(shard.strategy));
    if (!models.has(shard.model)) models.set(shard.model, resolveModel(shard.model));
    const strategy = strategies.get(shard.strategy)!, model = models.get(shard.model)!;
    // The engine confirms each finding with a traced replay of the reproducer as saved; its report
    // comes from that same replay.
    const replays = new TracedReplays();
    const run = runShard(shard, strategy, model, {
      ...opts,
      replay: (reproducer, prepared, s, mo) => replays.replay(reproducer, prepared, s, mo),
      onProgress: (execs) => send({ type: "progress", id: m.id, execs }),
      onFinding: (finding) => send({ type: "finding", id: m.id, finding: replays.ship(finding, [strategy], [model]) }),
    });
    send({ type: "done", id: m.id, result: run.result });
  } catch (e) {
    send({ type: "failed", id: m.id, message: e instanceof Error ? e.message : String(e) });
  }
}

// Shards arrive one at a time (the main side waits for "done"), so they are served in order.
parentPort!.on("message", (m: ToShardThread) => void serve(m, workerData as ShardThreadOptions));
