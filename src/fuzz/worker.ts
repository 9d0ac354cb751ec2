import { parentPort, workerData } from "node:worker_threads";
import type { Case, Model } from "../types.js";
import { resolveStrategy } from "../strategies/load.js";
import { FuzzEngine, type Finding } from "./engine.js";

// A long-lived fuzzing worker thread: builds its engine once, runs it in short batches (so the
// corpus shared by other workers can arrive between them), and ships everything to the main
// thread, which owns the files. A raw finding is shipped before it is minimized, so a worker that
// dies mid-minimization loses nothing.

export interface WorkerConfig {
  readonly index: number;
  readonly seed: string;
  readonly strategies: readonly string[];
  readonly models: readonly Model[];
  readonly scheduler: "random" | "pct";
  readonly feedback: boolean;
  readonly minimize: boolean;
  readonly maxCores: number;
  /** Int32 flag set to 1 by the main thread to stop. */
  readonly stop: SharedArrayBuffer;
}

export type ToMain =
  | { readonly type: "stats"; readonly execs: number; readonly harnessErrors: number }
  | { readonly type: "corpus"; readonly kase: Case; readonly bits: number[] }
  | { readonly type: "finding"; readonly finding: Finding }
  | { readonly type: "harness-error"; readonly message: string; readonly strategy: string; readonly model: string }
  | { readonly type: "done" };

export type ToWorker = { readonly type: "adopt"; readonly entries: { kase: Case; bits: number[] }[] };

const BATCH_MS = 100;

async function main(): Promise<void> {
  const config = workerData as WorkerConfig;
  const port = parentPort!;
  const stop = new Int32Array(config.stop);
  const strategies = await Promise.all(config.strategies.map(resolveStrategy));
  const engine = new FuzzEngine({
    seed: config.seed, strategies, models: config.models, scheduler: config.scheduler,
    feedback: config.feedback, maxCores: config.maxCores,
  });
  port.on("message", (m: ToWorker) => {
    if (m.type === "adopt") for (const e of m.entries) engine.adopt(e.kase, e.bits);
  });
  const send = (m: ToMain) => port.postMessage(m);
  let harnessErrors = 0, reported = 0;
  while (Atomics.load(stop, 0) === 0) {
    const until = performance.now() + BATCH_MS;
    while (performance.now() < until && Atomics.load(stop, 0) === 0) {
      const r = engine.step();
      if (r.harnessError) {
        harnessErrors++;
        send({ type: "harness-error", message: r.harnessError, strategy: r.outcome.verdict.strategy, model: r.outcome.verdict.model });
      }
      if (r.corpusEntry) send({ type: "corpus", kase: r.corpusEntry.kase, bits: r.corpusEntry.bits });
      for (const f of r.findings) {
        send({ type: "finding", finding: f });
        if (config.minimize && f.kind === "divergence") send({ type: "finding", finding: engine.minimizeFinding(f) });
      }
    }
    send({ type: "stats", execs: engine.execs - reported, harnessErrors });
    reported = engine.execs;
    harnessErrors = 0;
    await new Promise((resolve) => setImmediate(resolve));
  }
  send({ type: "done" });
}

void main();
