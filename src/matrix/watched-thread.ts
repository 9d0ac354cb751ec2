import { Worker } from "node:worker_threads";

// A long-lived worker thread that serves one job at a time, watched: a job whose thread sends
// nothing for `stallMs` is stuck in a strategy step that never yields (which nothing inside the
// thread can pre-empt), so the thread is terminated, the job ends through `dead`, and the next job
// gets a fresh thread. Shards (shard-thread.ts) and exhaustive checks (verify-thread.ts) run on it.

export interface JobHandlers<Msg, R> {
  /** Every message of this job; a returned value settles it. */
  readonly message: (m: Msg) => R | undefined;
  /** The thread exited or stalled before settling the job. */
  readonly dead: (why: string, stalled: boolean) => R;
}

export class WatchedThread<Msg extends { readonly id: number }> {
  private worker: Worker | undefined;
  private nextId = 0;

  constructor(private readonly url: URL, private readonly workerData: unknown, private readonly stallMs: number) {}

  /** Posts `{...job, id}`; never rejects. */
  run<R>(job: object, on: JobHandlers<Msg, R>): Promise<R> {
    const w = (this.worker ??= new Worker(this.url, { workerData: this.workerData }));
    w.unref();
    const id = this.nextId++;
    let last = performance.now();
    return new Promise((resolve) => {
      const finish = (r: R, kill: boolean) => {
        clearInterval(watchdog);
        w.off("message", onMessage);
        w.off("exit", onExit);
        if (kill) {
          this.worker = undefined;
          void w.terminate();
        }
        resolve(r);
      };
      const onMessage = (m: Msg) => {
        if (m.id !== id) return;
        last = performance.now();
        const r = on.message(m);
        if (r !== undefined) finish(r, false);
      };
      const onExit = (code: number) => finish(on.dead(`thread exited with status ${code}`, false), true);
      const watchdog = setInterval(() => {
        if (performance.now() - last > this.stallMs) finish(on.dead(`no progress for ${this.stallMs} ms: a step that never yields`, true), true);
      }, Math.min(1_000, this.stallMs));
      w.on("message", onMessage);
      w.on("exit", onExit);
      w.postMessage({ ...job, id });
    });
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }
}
