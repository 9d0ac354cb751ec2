import type { CellCheck } from "./verify.js";
import { runOnLanes } from "./lanes.js";
import { WatchedThread } from "./watched-thread.js";

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
  | { readonly type: "done"; readonly id: number; readonly check: CellCheck }
  | { readonly type: "failed"; readonly id: number; readonly message: string };

/** A thread that failed or stalled is a harness error of its cell too (never a clean bill). */
export type VerifyOutcome = CellCheck;

export class VerifyThread {
  private readonly thread: WatchedThread<FromVerifyThread>;

  constructor(stallMs = 60_000) {
    this.thread = new WatchedThread(new URL("./verify-worker.js", import.meta.url), undefined, stallMs);
  }

  /** Never rejects: a dead or stuck thread yields a harness error. */
  run(job: VerifyJob): Promise<VerifyOutcome> {
    return this.thread.run<VerifyOutcome>({ type: "run", job } satisfies Omit<ToVerifyThread, "id">, {
      message: (m) => (m.type === "done" ? m.check : m.type === "failed" ? { harnessError: `exhaustive verify failed: ${m.message}` } : undefined),
      dead: (why) => ({ harnessError: `exhaustive verify ${why}` }),
    });
  }

  close(): Promise<void> {
    return this.thread.close();
  }
}

/** Runs verify jobs on `workers` threads; results in job order. */
export function serveVerifyJobs(jobs: readonly VerifyJob[], workers: number, stallMs?: number): Promise<VerifyOutcome[]> {
  return runOnLanes(jobs, workers, () => new VerifyThread(stallMs));
}
