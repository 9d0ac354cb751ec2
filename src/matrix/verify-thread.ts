import { Worker } from "node:worker_threads";
import type { CellVerification } from "./verify.js";

// Exhaustive cell checks in a long-lived worker thread, like shards (shard-thread.ts): a thread
// with no progress for `stallMs` is stuck in a strategy step that never yields; it is terminated
// and the check reported as failed.

export interface VerifyJob {
  readonly strategy: string;
  readonly model: string;
  /** Corpus case files. */
  readonly cases: readonly string[];
  readonly bound: number;
  readonly maxSchedules: number;
}

export type ToVerifyThread = { readonly type: "run"; readonly id: number; readonly job: VerifyJob };
export type FromVerifyThread =
  | { readonly type: "progress"; readonly id: number }
  | { readonly type: "done"; readonly id: number; readonly verified: CellVerification }
  | { readonly type: "failed"; readonly id: number; readonly message: string };

export type VerifyOutcome = { readonly verified: CellVerification } | { readonly failed: string };

export class VerifyThread {
  private worker: Worker | undefined;
  private nextId = 0;

  constructor(private readonly stallMs = 60_000) {}

  /** Never rejects: a dead or stuck thread yields `failed`. */
  run(job: VerifyJob): Promise<VerifyOutcome> {
    const w = (this.worker ??= new Worker(new URL("./verify-worker.js", import.meta.url)));
    w.unref();
    const id = this.nextId++;
    let last = performance.now();
    return new Promise((resolve) => {
      const finish = (r: VerifyOutcome, kill: boolean) => {
        clearInterval(watchdog);
        w.off("message", onMessage);
        w.off("exit", onExit);
        if (kill) {
          this.worker = undefined;
          void w.terminate();
        }
        resolve(r);
      };
      const onMessage = (m: FromVerifyThread) => {
        if (m.id !== id) return;
        last = performance.now();
        if (m.type === "done") finish({ verified: m.verified }, false);
        else if (m.type === "failed") finish({ failed: m.message }, false);
      };
      const onExit = (code: number) => finish({ failed: `verify thread exited with status ${code}` }, true);
      const watchdog = setInterval(() => {
        if (performance.now() - last > this.stallMs) finish({ failed: `no progress for ${this.stallMs} ms: a step that never yields` }, true);
      }, Math.min(1_000, this.stallMs));
      w.on("message", onMessage);
      w.on("exit", onExit);
      w.postMessage({ type: "run", id, job } satisfies ToVerifyThread);
    });
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }
}

/** Runs verify jobs on `workers` threads; results in job order. */
export async function serveVerifyJobs(jobs: readonly VerifyJob[], workers: number, stallMs?: number): Promise<VerifyOutcome[]> {
  const out: VerifyOutcome[] = new Array(jobs.length);
  let next = 0;
  const lane = async (t: VerifyThread) => {
    try {
      while (next < jobs.length) {
        const i = next++;
        out[i] = await t.run(jobs[i]!);
      }
    } finally {
      await t.close();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(workers, jobs.length)) }, () => lane(new VerifyThread(stallMs))));
  return out;
}
