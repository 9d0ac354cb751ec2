import type { FindingFile, Shard, ShardResult } from "../types.js";
import type { ShippedFinding } from "../fuzz/engine.js";
import type { ShardThreadOptions } from "../matrix/shard-thread.js";
import { shardKey } from "../matrix/fold.js";
import { openHubNow } from "./open.js";
import { RedisHub, shownUrl } from "./redis.js";
import { ShardPool } from "./shards.js";

// The hook `matrix --hub` uses: put the matrix's shards on the hub's queue and wait for their
// results, served by `fuzz --hub` nodes (and, if asked, by local threads too). Folding them with
// foldCell gives the same matrix as a single-machine run: a retried shard has one result.

export interface ServeMatrixOptions extends ShardThreadOptions {
  readonly stallMs?: number;
  /** Findings of the shards this process serves (other nodes keep theirs and offer them to the hub). */
  readonly onFinding?: (f: ShippedFinding) => void;
  /** Once every shard has a result: the hub's reproducer of each signature other nodes found. */
  readonly onHubFinding?: (f: FindingFile) => void;
  /** Shard threads this process serves itself (0: only other nodes do). */
  readonly localWorkers?: number;
  /** Node name of this process on the hub's board. */
  readonly node?: string;
  /** Told how many shards have a result, every poll. */
  readonly onProgress?: (done: number, total: number) => void;
  readonly pollMs?: number;
}

export async function serveMatrixThroughHub(where: string, shards: readonly Shard[], opts: ServeMatrixOptions = {}): Promise<ShardResult[]> {
  const hub = await openHubNow(where);
  if (hub instanceof RedisHub) {
    // Waiting for other nodes' results can take hours: a server lost meanwhile is waited for, said so.
    hub.onOutage((error) => process.stderr.write(`hub ${shownUrl(where)} unreachable (${error}); waiting for it\n`), () => process.stderr.write(`hub ${shownUrl(where)} reachable again\n`));
  }
  const { localWorkers, node, onProgress: _p, pollMs: _m, onFinding, onHubFinding, ...threadOpts } = opts;
  const pool = new ShardPool(threadOpts);
  const local = new Set<string>();
  const keep = (f: ShippedFinding) => {
    local.add(f.signature);
    onFinding?.(f);
  };
  const server = (localWorkers ?? 0) > 0 ? hub.serveShards(node ?? `matrix-${process.pid}`, (s) => pool.run(s, { onFinding: keep }), { concurrency: localWorkers! }) : undefined;
  try {
    await hub.enqueueShards(shards);
    const wanted = new Set(shards.map(shardKey));
    for (;;) {
      const mine = (await hub.results()).filter((r) => wanted.has(shardKey(r.shard)));
      opts.onProgress?.(mine.length, wanted.size);
      if (mine.length >= wanted.size) {
        // The other nodes' reproducers, as the hub keeps them (its smallest of each signature).
        if (onHubFinding) {
          for (const sig of new Set(mine.flatMap((r) => [...r.signatures, ...r.rules]))) {
            if (local.has(sig)) continue;
            const f = await hub.finding(sig);
            if (f) onHubFinding(f);
          }
        }
        return mine;
      }
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 500));
    }
  } finally {
    await server?.close();
    await pool.abort();
    await hub.close();
  }
}
