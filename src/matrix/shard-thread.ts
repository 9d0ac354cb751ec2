import type { CaseScope, Shard, ShardResult } from "../types.js";
import type { ShippedFinding } from "../fuzz/engine.js";
import { WatchedThread } from "./watched-thread.js";

// Shards run in a long-lived worker thread, never on the event loop (a hub's leases and a CLI's
// signals must stay responsive). A thread that makes no progress for `stallMs` is stuck in a
// strategy step that never yields: it is terminated and replaced, and its shard ends as a harness
// error covering the execs it reported.

export interface ShardThreadOptions {
  readonly scheduler?: "random" | "pct";
  readonly scope?: CaseScope;
  readonly minimize?: boolean;
  readonly minimizeMs?: number;
}

export type ToShardThread = { readonly type: "run"; readonly id: number; readonly shard: Shard };
export type FromShardThread =
  | { readonly type: "progress"; readonly id: number; readonly execs: number }
  | { readonly type: "finding"; readonly id: number; readonly finding: ShippedFinding }
  /** The findings came one by one as "finding" messages: the result alone ends the shard. */
  | { readonly type: "done"; readonly id: number; readonly result: ShardResult }
  | { readonly type: "failed"; readonly id: number; readonly message: string };

export interface ShardHooks {
  /** Each confirmed finding with its `repro` report, as soon as it exists (and again minimized). */
  readonly onFinding?: (f: ShippedFinding) => void;
  readonly onProgress?: (execs: number) => void;
}

/** A shard's outcome; `stalled` or `failed` says why it ended early. */
export interface ThreadedShardRun {
  readonly result: ShardResult;
  /** The findings as shipped, in order (a minimized one after its raw reproducer). */
  readonly findings: readonly ShippedFinding[];
  readonly stalled?: boolean;
  readonly failed?: string;
}

export class ShardThread {
  private readonly thread: WatchedThread<FromShardThread>;

  constructor(opts: ShardThreadOptions & { readonly stallMs?: number } = {}) {
    const { stallMs, ...workerData } = opts;
    this.thread = new WatchedThread(new URL("./shard-worker.js", import.meta.url), workerData, stallMs ?? 60_000);
  }

  /** Runs one shard; never rejects (a dead or stuck thread yields a harness-error result). */
  run(shard: Shard, hooks: ShardHooks = {}): Promise<ThreadedShardRun> {
    const t0 = performance.now();
    let execs = 0;
    const findings: ShippedFinding[] = [];
    const partial = (why: { stalled?: boolean; failed?: string }): ThreadedShardRun => {
      const sigs = (kind: ShippedFinding["kind"]) => [...new Set(findings.filter((f) => f.kind === kind).map((f) => f.signature))].sort();
      const result: ShardResult = {
        shard, execs, ms: Math.round(performance.now() - t0), signatures: sigs("divergence"), rules: sigs("rule"), harnessErrors: 1,
        ...(why.failed ? { firstHarnessError: why.failed } : {}),
      };
      return { result, findings, ...why };
    };
    return this.thread.run<ThreadedShardRun>({ type: "run", shard } satisfies Omit<ToShardThread, "id">, {
      message: (m) => {
        switch (m.type) {
          case "progress":
            execs = m.execs;
            hooks.onProgress?.(m.execs);
            return undefined;
          case "finding":
            findings.push(m.finding);
            hooks.onFinding?.(m.finding);
            return undefined;
          case "done":
            return { result: m.result, findings };
          case "failed":
            return partial({ failed: m.message });
        }
      },
      dead: (why, stalled) => partial(stalled ? { stalled, failed: why } : { failed: `shard ${why}` }),
    });
  }

  close(): Promise<void> {
    return this.thread.close();
  }
}
