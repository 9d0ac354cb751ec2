import type { Case, Decision, Model, Verdict } from "../types.js";
import { caseToJson } from "../case/save.js";
import type { Outcome } from "../differential.js";
import { InputError, OracleGaveUp } from "../errors.js";
import type { Minimized } from "../fuzz/minimize.js";
import type { JudgeOptions } from "../oracle/judge.js";
import type { ExhaustiveResult } from "../schedule/exhaustive.js";
import { DriftError } from "../schedule/choosers.js";
import { WatchedThread } from "../matrix/watched-thread.js";

// `run`, `repro`, `verify` and `minimize` cells in a worker thread under a budget: a strategy whose
// step never yields cannot be pre-empted inside its own thread, so the thread is terminated and
// the cell reported as a harness error (exit 3), never as a divergence. The next cell gets a
// fresh thread (matrix/watched-thread.ts, with a startup check: loading plugins is not a cell's time).

/** Default wall budget of one (strategy, model) cell of `run` or `repro`, as `--timeout` takes it. */
export const DEFAULT_CELL_TIMEOUT = "60s";
/** A fresh thread loads modules, the case and plugins (already tried by the main thread): not the cell's budget. */
const STARTUP_MS = 60_000;

export interface CellWorkerData {
  readonly caseJson: string | undefined;
  /** The `-s` arguments (plugin paths and built-in names); built-ins are always available. */
  readonly plugins: readonly string[];
  readonly models: readonly Model[];
}

export interface CellJob {
  /** Another case to run this job on (canonical JSON); the thread's own case otherwise. */
  readonly caseJson?: string;
  readonly strategy: string;
  readonly model: string;
  /**
   * `search`: random schedules from `seed` until the first divergence; `once`: a strict replay of
   * `decisions`; `verify`: the exhaustive scheduler within `bound`; `minimize`: shrink the run of
   * `decisions` keeping `signature`. The last two report progress and are cut off only when it stops.
   */
  readonly mode: "search" | "once" | "verify" | "minimize";
  readonly seed: number;
  readonly schedules?: number;
  readonly decisions?: readonly Decision[];
  readonly trace?: boolean;
  readonly judge?: JudgeOptions;
  readonly bound?: number;
  readonly maxSchedules?: number;
  readonly signature?: string;
  readonly maxRuns?: number;
}

export type CellReply =
  | { readonly kind: "ready" }
  | { readonly kind: "progress" }
  | { readonly kind: "done"; readonly outcome: Outcome; readonly seed: number }
  | { readonly kind: "verified"; readonly result: ExhaustiveResult }
  | { readonly kind: "minimized"; readonly result: Minimized; readonly final: Outcome }
  | { readonly kind: "error"; readonly error: "drift" | "input" | "oracle" | "internal"; readonly message: string };

type Reply<K extends CellReply["kind"]> = Extract<CellReply, { kind: K }>;
type Mode = CellJob["mode"];
/** What a cell of each mode gives back, or a timeout (a harness error). */
export type CellResult<M extends Mode = Mode> =
  | (M extends "verify" ? Reply<"verified"> : M extends "minimize" ? Reply<"minimized"> : Reply<"done">)
  | { readonly kind: "timeout"; readonly verdict: Verdict };

/** A harness-error verdict for a cell cut off by its budget (`--timeout`, or `--stall-timeout` without progress). */
export function timeoutVerdict(strategy: string, model: string, ms: number, progressing = false): Verdict {
  const what = progressing ? `no progress for ${ms} ms (--stall-timeout)` : `no result within ${ms} ms (--timeout)`;
  return { kind: "harness-error", strategy, model, divergences: [], rules: [], harnessError: `strategy ${strategy}: ${what}; a step that never yields?` };
}

export class IsolatedCells {
  private readonly thread: WatchedThread<CellReply & { readonly id: number }>;

  constructor(kase: Case | undefined, plugins: readonly string[], models: readonly Model[], private readonly timeoutMs: number) {
    const data: CellWorkerData = { caseJson: kase ? JSON.stringify(caseToJson(kase)) : undefined, plugins, models };
    this.thread = new WatchedThread(new URL("./cell-worker.js", import.meta.url), data, timeoutMs, {
      ms: STARTUP_MS,
      failure: (first) => {
        const r = first as CellReply;
        return r.kind === "ready" ? undefined : r.kind === "error" ? errorOf(r) : new Error("cell worker: unexpected reply");
      },
    });
  }

  /**
   * Runs one cell; past the budget the thread is terminated and the cell is a harness error. The
   * budget is the cell's wall time, or for jobs that report progress the time without progress.
   */
  async run<M extends Mode>(job: CellJob & { readonly mode: M }): Promise<CellResult<M>> {
    const r = await this.thread.run<CellReply | "timeout">(job, {
      message: (m) => (m.kind === "progress" ? undefined : m),
      dead: (why, stalled) => (stalled ? "timeout" : { kind: "error", error: "internal", message: `cell worker: ${why}` }),
    });
    if (r === "timeout") {
      return { kind: "timeout", verdict: timeoutVerdict(job.strategy, job.model, this.timeoutMs, job.mode === "verify" || job.mode === "minimize") };
    }
    if (r.kind === "done" || r.kind === "verified" || r.kind === "minimized") return r as CellResult<M>;
    // A thread that failed a cell is not reused.
    await this.thread.close();
    throw r.kind === "error" ? errorOf(r) : new Error("cell worker: unexpected reply");
  }

  close(): void {
    void this.thread.close();
  }
}

function errorOf(r: Extract<CellReply, { kind: "error" }>): Error {
  if (r.error === "drift") return new DriftError(r.message);
  if (r.error === "input") return new InputError(r.message);
  if (r.error === "oracle") return new OracleGaveUp(r.message);
  return new Error(r.message);
}
