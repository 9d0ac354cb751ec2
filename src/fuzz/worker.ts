import { setPriority } from "node:os";
import { getHeapStatistics } from "node:v8";
import { parentPort, workerData } from "node:worker_threads";
import type { CaseScope, Model } from "../types.js";
import { corpusText, type CorpusText } from "../files/store.js";
import { resolveStrategy } from "../strategies/load.js";
import { FuzzEngine, type Finding, type ShippedFinding, type StepResult } from "./engine.js";
import { TracedReplays, unship } from "./finding-report.js";
import { MinimizeBudget } from "./minimize-budget.js";

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
  readonly scope: CaseScope;
  /** Int32 flag set to 1 by the main thread to stop. */
  readonly stop: SharedArrayBuffer;
  /** Int32 [strategy index, model index, runs started]: read by the main thread's watchdog. */
  readonly heartbeat: SharedArrayBuffer;
  /**
   * Signatures already stored or claimed, and the corpus to start from. In the worker's data, not
   * messages: those arrive only between batches, after a first batch that found known signatures again.
   */
  readonly known: readonly string[];
  readonly corpus: readonly CorpusText[];
  /** BigInt64 [execs not yet started], shared by the campaign's workers; absent without --max-execs. */
  readonly execBudget?: SharedArrayBuffer;
}

export type ToMain =
  | { readonly type: "stats"; readonly execs: number; readonly events: number; readonly harnessErrors: number; readonly fuzzMs: number; readonly minimizeMs: number; readonly heapUsed?: number }
  | { readonly type: "corpus"; readonly entry: CorpusText }
  /** Coverage bits of a run that set new ones, without feedback (no corpus entry): counted only. */
  | { readonly type: "coverage"; readonly bits: readonly number[] }
  /** `queued`: this worker will minimize it (a raw finding past a full queue stays as it is). */
  | { readonly type: "finding"; readonly finding: ShippedFinding; readonly queued?: boolean }
  | { readonly type: "harness-error"; readonly message: string; readonly strategy: string; readonly model: string }
  /** Sent before each minimization: if the worker dies before shipping its result, that finding is the likely cause. */
  | { readonly type: "minimizing"; readonly signature: string }
  | { readonly type: "done" };

/**
 * Corpus entries travel as JSON text: one string is far cheaper to clone than a case. `known`:
 * signatures another worker found first (it minimizes them; this one stops confirming, reporting
 * and minimizing them). `minimize`: raw findings of a worker that died before minimizing them.
 */
export type ToWorker =
  | { readonly type: "adopt"; readonly entries: readonly CorpusText[] }
  | { readonly type: "known"; readonly signatures: readonly string[] }
  | { readonly type: "minimize"; readonly findings: readonly ShippedFinding[] };

const BATCH_MS = 100;
/**
 * Findings waiting for minimization, at most. New signatures can arrive far faster than they are
 * minimized (thousands in ten minutes); past this the raw reproducer (already saved) is kept
 * as it is rather than queued, so the queue cannot grow without bound (the soak's RSS).
 */
const MAX_MINIMIZE_QUEUE = 64;

/**
 * Whether a finding gets a place in the minimization queue. Rule findings, as many as divergences
 * early on, join it only while it is less than half full, so that the other half is always left
 * for divergences; and divergences are minimized first.
 */
function queues(f: Pick<Finding, "kind">, waiting: number): boolean {
  return waiting < (f.kind === "divergence" ? MAX_MINIMIZE_QUEUE : MAX_MINIMIZE_QUEUE / 2);
}

function takeNext(queue: Finding[]): Finding {
  const divergence = queue.findIndex((f) => f.kind === "divergence");
  return queue.splice(Math.max(0, divergence), 1)[0]!;
}

/** Wall-time budget of one minimization (the smallest reproducer found by then is kept). */
const MINIMIZE_MS = 5_000;
/**
 * A worker's nice value. On Linux it is per thread: the main thread (files, stats, the hub) then
 * gets a core back as soon as a file operation returns, instead of waiting for a busy worker's
 * time slice to end. With as many workers as cores it used to spend most of its time so, behind
 * its messages (2 workers, 2 cores: 3 s idle in 21 s, stats.json a burst behind; 12 s idle with
 * this). Elsewhere (macOS) it lowers the whole process a little: no harm either.
 */
const WORKER_NICENESS = 5;

async function main(): Promise<void> {
  try {
    setPriority(WORKER_NICENESS);
  } catch {
    // Not permitted here: run at the main thread's priority.
  }
  const config = workerData as WorkerConfig;
  const port = parentPort!;
  const stop = new Int32Array(config.stop);
  const strategies = await Promise.all(config.strategies.map(resolveStrategy));
  const beat = new Int32Array(config.heartbeat);
  const replays = new TracedReplays();
  const engine = new FuzzEngine({
    seed: config.seed, strategies, models: config.models, scheduler: config.scheduler,
    feedback: config.feedback, scope: config.scope,
    replay: (reproducer, prepared, strategy, model) => replays.replay(reproducer, prepared, strategy, model),
    onRun: (s, m) => {
      Atomics.store(beat, 0, s);
      Atomics.store(beat, 1, m);
      Atomics.add(beat, 2, 1);
    },
  });
  for (const signature of config.known) engine.known.add(signature);
  for (const e of config.corpus) engine.resume(e.json, e.bits);
  const cellNames = () => ({ strategy: strategies[Atomics.load(beat, 0)]?.name ?? "?", model: config.models[Atomics.load(beat, 1)]?.name ?? "?" });
  // Findings wait here for minimization, which gets the share of the worker's time MinimizeBudget
  // gives it: a tenth while new signatures keep arriving, up to half once discovery slows down.
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
        for (const f of m.findings) {
          engine.known.add(f.signature);
          if (!config.minimize || !queues(f, toMinimize.length)) continue;
          try {
            toMinimize.push(unship(f));
          } catch {
            // A case the loader refuses cannot be minimized; its raw reproducer is already saved.
          }
        }
        break;
    }
  });
  const send = (m: ToMain) => port.postMessage(m);
  // Test hook: the first incarnation of worker 0 dies after this many ms (a crash mid-campaign).
  const dieAfter = Number(process.env["XMCFUZZ_TEST_WORKER_DIES_MS"] ?? NaN);
  const dieAt = config.index === 0 && config.seed.endsWith(":0") ? performance.now() + dieAfter : Infinity;
  let harnessErrors = 0, fuzzMs = 0, minimizeMs = 0;
  // Stats go out as increments since the last message: the totals then are kept here.
  const totals = () => ({ execs: engine.execs, events: engine.events, fuzzMs, minimizeMs });
  let reported = totals();
  const budget = new MinimizeBudget();
  const execBudget = config.execBudget && new BigInt64Array(config.execBudget);
  /** Takes one exec from the campaign's budget: false once all are taken (by any worker). */
  const takeExec = () => execBudget === undefined || Atomics.sub(execBudget, 0, 1n) > 0n;
  let execsSpent = false;
  while (Atomics.load(stop, 0) === 0) {
    if (performance.now() > dieAt) process.exit(70);
    const until = performance.now() + BATCH_MS;
    const t0 = performance.now();
    let found = 0;
    while (performance.now() < until && Atomics.load(stop, 0) === 0 && !execsSpent) {
      if (!takeExec()) {
        execsSpent = true;
        break;
      }
      let r: StepResult;
      try {
        r = engine.step();
      } catch (e) {
        // A strategy that broke the engine, or an oracle search past its work cap: the run's
        // harness error, in the error's own words, never a dead worker.
        harnessErrors++;
        send({ type: "harness-error", message: e instanceof Error ? e.message : String(e), ...cellNames() });
        continue;
      }
      if (r.harnessError) {
        harnessErrors++;
        send({ type: "harness-error", message: r.harnessError, strategy: r.outcome.verdict.strategy, model: r.outcome.verdict.model });
      }
      if (r.corpusEntry) send({ type: "corpus", entry: corpusText(r.corpusEntry.kase, r.corpusEntry.bits) });
      else if (r.newBits) send({ type: "coverage", bits: r.newBits });
      for (const f of r.findings) {
        let shipped: ShippedFinding;
        try {
          shipped = replays.ship(f, strategies, config.models);
        } catch (e) {
          harnessErrors++;
          send({ type: "harness-error", message: `not replayable: ${e instanceof Error ? e.message : String(e)}`, strategy: f.kase.runs[0]!.strategy, model: f.kase.runs[0]!.model });
          continue;
        }
        found++;
        const queued = config.minimize && queues(f, toMinimize.length);
        if (queued) toMinimize.push(f);
        send({ type: "finding", finding: shipped, queued });
      }
    }
    const batchMs = performance.now() - t0;
    fuzzMs += batchMs;
    budget.fuzzed(batchMs, found);
    while (toMinimize.length > 0 && budget.available && Atomics.load(stop, 0) === 0) {
      const t1 = performance.now();
      const deadline = t1 + MINIMIZE_MS;
      const stopNow = () => performance.now() > deadline || Atomics.load(stop, 0) !== 0;
      const f = takeNext(toMinimize);
      send({ type: "minimizing", signature: f.signature });
      // The watchdog names this cell if a minimization run never returns; each run is a heartbeat.
      Atomics.store(beat, 0, strategies.findIndex((x) => x.name === f.kase.runs[0]!.strategy));
      Atomics.store(beat, 1, config.models.findIndex((x) => x.name === f.kase.runs[0]!.model));
      Atomics.add(beat, 2, 1);
      try {
        const m = engine.minimizeFinding(f, () => (Atomics.add(beat, 2, 1), stopNow()));
        send({ type: "finding", finding: replays.ship(m, strategies, config.models) });
      } catch (e) {
        harnessErrors++;
        send({ type: "harness-error", message: `minimization: ${e instanceof Error ? e.message : String(e)}`, ...cellNames() });
      }
      const ms = performance.now() - t1;
      minimizeMs += ms;
      budget.minimized(ms);
    }
    const now = totals();
    send({
      type: "stats", execs: now.execs - reported.execs, events: now.events - reported.events, harnessErrors,
      fuzzMs: now.fuzzMs - reported.fuzzMs, minimizeMs: now.minimizeMs - reported.minimizeMs, heapUsed: getHeapStatistics().used_heap_size,
    });
    reported = now;
    harnessErrors = 0;
    // With the budget spent, nothing is left but to wait for the stop (the main thread sees it within 100 ms).
    await new Promise((resolve) => (execsSpent ? setTimeout(resolve, 10) : setImmediate(resolve)));
  }
  send({ type: "done" });
  // The message listener would keep the thread alive; nothing more will arrive that matters.
  port.unref();
}

void main();
