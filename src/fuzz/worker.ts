import { parentPort, workerData } from "node:worker_threads";
import type { Case, Model, Strategy } from "../types.js";
import { corpusText, type CorpusText } from "../files/store.js";
import { parseCase } from "../case/load.js";
import { caseToJson } from "../case/save.js";
import { type Outcome, prepare, runOnce } from "../differential.js";
import { formatReport } from "../report/text.js";
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
  /** Int32 [strategy index, model index, runs started]: read by the main thread's watchdog. */
  readonly heartbeat: SharedArrayBuffer;
}

export type ToMain =
  | { readonly type: "stats"; readonly execs: number; readonly harnessErrors: number; readonly fuzzMs: number; readonly minimizeMs: number }
  | { readonly type: "corpus"; readonly entry: CorpusText }
  | { readonly type: "finding"; readonly finding: Finding; readonly report: string }
  | { readonly type: "harness-error"; readonly message: string; readonly strategy: string; readonly model: string }
  | { readonly type: "done" };

/**
 * Corpus entries travel as JSON text: one string is far cheaper to clone than a case. `known`:
 * signatures another worker found first (it minimizes them; this one stops confirming, reporting
 * and minimizing them). `minimize`: raw findings of a worker that died before minimizing them.
 */
export type ToWorker =
  | { readonly type: "adopt"; readonly entries: readonly CorpusText[] }
  | { readonly type: "known"; readonly signatures: readonly string[] }
  | { readonly type: "minimize"; readonly findings: readonly Finding[] };

/**
 * The engine's strict replays (confirmation, minimized verdicts), made on the reproducer as it will
 * be saved (through the loader) and traced, so the same replay yields the finding's `repro` report:
 * one replay per finding instead of a confirmation and a report replay.
 */
class TracedReplays {
  private last: { reproducer: Case; kase: Case; outcome: Outcome } | undefined;

  replay(reproducer: Case, strategy: Strategy, model: Model): Outcome {
    const loaded = parseCase(caseToJson(reproducer));
    const outcome = runOnce(prepare(loaded.kase, loaded.soloBudget), { strategy, model, decisions: reproducer.runs[0]!.decisions, trace: true });
    this.last = { reproducer, kase: loaded.kase, outcome };
    return outcome;
  }

  /** The `repro` report of a finding (made here, off the main thread), from its confirming replay. */
  reportOf(f: Finding, strategies: readonly Strategy[], models: readonly Model[]): string {
    const run = f.kase.runs[0]!;
    const last = this.last?.reproducer.runs[0];
    if (!last || last.decisions !== run.decisions || last.strategy !== run.strategy || last.model !== run.model) {
      // Not the engine's last replay (never the case today): replay it now.
      const strategy = strategies.find((s) => s.name === run.strategy)!;
      const model = models.find((m) => m.name === run.model)!;
      this.replay(f.kase, strategy, model);
    }
    const { kase, outcome } = this.last!;
    return formatReport(kase, outcome.run, outcome.verdict, `xmcfuzz finding: ${f.signature}`);
  }
}

const BATCH_MS = 100;
/** Wall-time budget of one minimization (the smallest reproducer found by then is kept). */
const MINIMIZE_MS = 5_000;

async function main(): Promise<void> {
  const config = workerData as WorkerConfig;
  const port = parentPort!;
  const stop = new Int32Array(config.stop);
  const strategies = await Promise.all(config.strategies.map(resolveStrategy));
  const beat = new Int32Array(config.heartbeat);
  const replays = new TracedReplays();
  const engine = new FuzzEngine({
    seed: config.seed, strategies, models: config.models, scheduler: config.scheduler,
    feedback: config.feedback, maxCores: config.maxCores,
    replay: (reproducer, _prepared, strategy, model) => replays.replay(reproducer, strategy, model),
    onRun: (s, m) => {
      Atomics.store(beat, 0, s);
      Atomics.store(beat, 1, m);
      Atomics.add(beat, 2, 1);
    },
  });
  // Findings wait here for minimization, which gets at most half of the worker's time so that a
  // burst of new signatures early in a campaign does not stop the fuzzing.
  const toMinimize: Finding[] = [];
  port.on("message", (m: ToWorker) => {
    switch (m.type) {
      case "adopt":
        for (const e of m.entries) engine.adopt(e.json, e.bits);
        break;
      case "known":
        for (const s of m.signatures) engine.known.add(s);
        for (let i = toMinimize.length - 1; i >= 0; i--) if (m.signatures.includes(toMinimize[i]!.signature)) toMinimize.splice(i, 1);
        break;
      case "minimize":
        for (const f of m.findings) engine.known.add(f.signature);
        if (config.minimize) toMinimize.push(...m.findings);
        break;
    }
  });
  const send = (m: ToMain) => port.postMessage(m);
  // Test hook: the first incarnation of worker 0 dies after this many ms (a crash mid-campaign).
  const dieAfter = Number(process.env["XMCFUZZ_TEST_WORKER_DIES_MS"] ?? NaN);
  const dieAt = config.index === 0 && config.seed.endsWith(":0") ? performance.now() + dieAfter : Infinity;
  let harnessErrors = 0, reported = 0;
  let fuzzMs = 0, minimizeMs = 0, reportedFuzzMs = 0, reportedMinimizeMs = 0;
  while (Atomics.load(stop, 0) === 0) {
    if (performance.now() > dieAt) process.exit(70);
    const until = performance.now() + BATCH_MS;
    const t0 = performance.now();
    while (performance.now() < until && Atomics.load(stop, 0) === 0) {
      const r = engine.step();
      if (r.harnessError) {
        harnessErrors++;
        send({ type: "harness-error", message: r.harnessError, strategy: r.outcome.verdict.strategy, model: r.outcome.verdict.model });
      }
      if (r.corpusEntry) send({ type: "corpus", entry: corpusText(r.corpusEntry.kase, r.corpusEntry.bits) });
      for (const f of r.findings) {
        send({ type: "finding", finding: f, report: replays.reportOf(f, strategies, config.models) });
        if (config.minimize && f.kind === "divergence") toMinimize.push(f);
      }
    }
    fuzzMs += performance.now() - t0;
    while (toMinimize.length > 0 && minimizeMs < fuzzMs && Atomics.load(stop, 0) === 0) {
      const t1 = performance.now();
      const deadline = t1 + MINIMIZE_MS;
      const stopNow = () => performance.now() > deadline || Atomics.load(stop, 0) !== 0;
      Atomics.add(beat, 2, 1);
      const m = engine.minimizeFinding(toMinimize.shift()!, stopNow);
      send({ type: "finding", finding: m, report: replays.reportOf(m, strategies, config.models) });
      minimizeMs += performance.now() - t1;
    }
    send({ type: "stats", execs: engine.execs - reported, harnessErrors, fuzzMs: fuzzMs - reportedFuzzMs, minimizeMs: minimizeMs - reportedMinimizeMs });
    reportedFuzzMs = fuzzMs;
    reportedMinimizeMs = minimizeMs;
    reported = engine.execs;
    harnessErrors = 0;
    await new Promise((resolve) => setImmediate(resolve));
  }
  send({ type: "done" });
  // The message listener would keep the thread alive; nothing more will arrive that matters.
  port.unref();
}

void main();
