import { Worker } from "node:worker_threads";

// A long-lived worker thread that serves one job at a time, watched: a job whose thread sends
// nothing for `stallMs` is stuck in a strategy step that never yields (which nothing inside the
// thread can pre-empt), so the thread is terminated, the job ends through `dead`, and the next job
// gets a fresh thread. Shards (shard-thread.ts), exhaustive checks (verify-thread.ts) and the CLI's
// isolated cells (cli/cells.ts: a job that sends no progress has its whole wall time) run on it.

export interface JobHandlers<Msg, R> {
  /** Every message of this job; a returned value settles it. */
  readonly message: (m: Msg) => R | undefined;
  /** The thread exited or stalled before settling the job. */
  readonly dead: (why: string, stalled: boolean) => R;
}

/** A check of a fresh thread's first message, for threads that load code before they can serve. */
export interface ThreadStartup {
  /** Budget of that first message (loading modules and plugins is not a job's time). */
  readonly ms: number;
  /** Undefined when the message says the thread is ready, else why it cannot serve. */
  readonly failure: (first: unknown) => Error | undefined;
}

export class WatchedThread<Msg extends { readonly id: number }> {
  private worker: Promise<Worker> | undefined;
  private nextId = 0;

  constructor(private readonly url: URL, private readonly workerData: unknown, private readonly stallMs: number, private readonly startup?: ThreadStartup) {}

  /** Posts `{...job, id}`; rejects only when a fresh thread fails its startup check. */
  async run<R>(job: object, on: JobHandlers<Msg, R>): Promise<R> {
    const started = (this.worker ??= this.start());
    const w = await started;
    const id = this.nextId++;
    let last = performance.now();
    return new Promise((resolve) => {
      const finish = (r: R, kill: boolean) => {
        clearInterval(watchdog);
        w.off("message", onMessage);
        w.off("exit", onExit);
        if (kill) {
          if (this.worker === started) this.worker = undefined;
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

  private async start(): Promise<Worker> {
    const w = new Worker(this.url, { workerData: this.workerData });
    w.unref();
    const startup = this.startup;
    if (!startup) return w;
    try {
      const first = await new Promise<unknown>((resolve, reject) => {
        const settle = (f: () => void) => {
          clearTimeout(timer);
          w.off("message", onMessage);
          w.off("exit", onExit);
          f();
        };
        const onMessage = (m: unknown) => settle(() => resolve(m));
        const onExit = (code: number) => settle(() => reject(new Error(`worker thread exited (code ${code}) while starting`)));
        const timer = setTimeout(() => settle(() => reject(new Error(`worker thread did not start within ${startup.ms} ms`))), startup.ms);
        w.on("message", onMessage);
        w.on("exit", onExit);
      });
      const failure = startup.failure(first);
      if (failure) throw failure;
      return w;
    } catch (e) {
      this.worker = undefined;
      void w.terminate();
      throw e;
    }
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (w) await (await w.catch(() => undefined))?.terminate();
  }
}
