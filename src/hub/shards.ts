import type { Shard, ShardResult } from "../types.js";
import type { ShippedFinding } from "../fuzz/engine.js";
import { ShardThread, type ShardThreadOptions } from "../matrix/shard-thread.js";
import { ShardHandedBack } from "./common.js";

// The node's shard threads: one ShardThread per shard running at once, reused between shards.
// A node that stops ends its running shards and hands them back to the queue (the run throws)
// instead of recording a partial result, which the hub would count as the shard's.

export interface ShardListener {
  onExecs?(execs: number): void;
  onFinding?(f: ShippedFinding): void;
}

export class ShardPool {
  private readonly idle: ShardThread[] = [];
  private readonly all = new Set<ShardThread>();
  private stopping = false;

  constructor(private readonly opts: ShardThreadOptions & { readonly stallMs?: number } = {}) {}

  async run(shard: Shard, listener: ShardListener = {}): Promise<ShardResult> {
    if (this.stopping) throw new ShardHandedBack();
    const thread = this.idle.pop() ?? new ShardThread(this.opts);
    this.all.add(thread);
    let reported = 0;
    try {
      const r = await thread.run(shard, {
        onProgress: (execs) => {
          listener.onExecs?.(execs - reported);
          reported = execs;
        },
        onFinding: (f) => listener.onFinding?.(f),
      });
      if (this.stopping) throw new ShardHandedBack();
      listener.onExecs?.(r.result.execs - reported);
      return r.result;
    } finally {
      if (this.stopping) this.all.delete(thread);
      else this.idle.push(thread);
    }
  }

  /** Ends every shard thread; running shards throw (and go back to the queue). */
  async abort(): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.all].map((t) => t.close()));
    this.all.clear();
    this.idle.length = 0;
  }
}
