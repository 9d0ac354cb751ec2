import { Worker } from "node:worker_threads";
import type { Shard, ShardResult } from "../types.js";
import type { Finding } from "../fuzz/engine.js";
import type { ShardRun } from "./shard.js";

// Shards run in a long-lived worker thread, never on the event loop (a hub's leases and a CLI's
// signals must stay responsive). A thread that makes no progress for `stallMs` is stuck in a
// strategy step that never yields: it is terminated and replaced, and its shard ends as a harness
// error covering the execs it reported.

export interface ShardThreadOptions {
  readonly scheduler?: "random" | "pct";
  readonly maxCores?: number;
  readonly minimize?: boolean;
  readonly minimizeMs?: number;
}

export type ToShardThread = { readonly type: "run"; readonly id: number; readonly shard: Shard };
export type FromShardThread =
  | { readonly type: "progress"; readonly id: number; readonly execs: number }
  | { readonly type: "finding"; readonly id: number; readonly finding: Finding; readonly report: string }
  | { readonly type: "done"; readonly id: number; readonly run: ShardRun }
  | { readonly type: "failed"; readonly id: number; readonly message: string };

export interface ShardHooks {
  /** Each confirmed finding with its `repro` report, as soon as it exists (and again minimized). */
  readonly onFinding?: (f: Finding, report: string) => void;
  readonly onProgress?: (execs: number) => void;
}

/** A shard's outcome; `stalled` or `failed` says why it ended early. */
export interface ThreadedShardRun extends ShardRun {
  readonly stalled?: boolean;
  readonly failed?: string;
}

export class ShardThread {
  private worker: Worker | undefined;
  private nextId = 0;

  constructor(private readonly opts: ShardThreadOptions & { readonly stallMs?: number } = {}) {}

  private spawn(): Worker {
    const { stallMs: _, ...workerData } = this.opts;
    const w = new Worker(new URL("./shard-worker.js", import.meta.url), { workerData });
    w.unref();
    return w;
  }

  /** Runs one shard; never rejects (a dead or stuck thread yields a harness-error result). */
  run(shard: Shard, hooks: ShardHooks = {}): Promise<ThreadedShardRun> {
    const w = (this.worker ??= this.spawn());
    const id = this.nextId++;
    const stallMs = this.opts.stallMs ?? 60_000;
    const t0 = performance.now();
    let execs = 0, lastProgress = t0;
    const findings: Finding[] = [];
    return new Promise((resolve) => {
      const partial = (why: { stalled?: boolean; failed?: string }): ThreadedShardRun => {
        const result: ShardResult = {
          shard, execs, ms: Math.round(performance.now() - t0), signatures: [...new Set(findings.filter((f) => f.kind === "divergence").map((f) => f.signature))].sort(),
          rules: [...new Set(findings.filter((f) => f.kind === "rule").map((f) => f.signature))].sort(), harnessErrors: 1,
        };
        return { result, findings, ...why };
      };
      const finish = (r: ThreadedShardRun, kill: boolean) => {
        clearInterval(watchdog);
        w.off("message", onMessage);
        w.off("exit", onExit);
        if (kill) {
          this.worker = undefined;
          void w.terminate();
        }
        resolve(r);
      };
      const onMessage = (m: FromShardThread) => {
        if (m.id !== id) return;
        lastProgress = performance.now();
        if (m.type === "progress") {
          execs = m.execs;
          hooks.onProgress?.(m.execs);
        } else if (m.type === "finding") {
          findings.push(m.finding);
          hooks.onFinding?.(m.finding, m.report);
        } else if (m.type === "done") finish(m.run, false);
        else finish(partial({ failed: m.message }), false);
      };
      const onExit = (code: number) => finish(partial({ failed: `shard thread exited with status ${code}` }), true);
      const watchdog = setInterval(() => {
        if (performance.now() - lastProgress > stallMs) finish(partial({ stalled: true, failed: `no progress for ${stallMs} ms: a step that never yields` }), true);
      }, Math.min(1_000, stallMs));
      w.on("message", onMessage);
      w.on("exit", onExit);
      w.postMessage({ type: "run", id, shard } satisfies ToShardThread);
    });
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }
}
