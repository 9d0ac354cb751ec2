import type { Case, Model, RecordedRun, RegressCheck, Strategy, Verdict } from "../types.js";
import type { LoadedCase } from "../case/load.js";
import { expectationOf, prepare, runOnce, searchSchedules, type PreparedCase } from "../differential.js";
import { InputError } from "../errors.js";
import { namedModel } from "../models/named.js";
import { DriftError } from "../schedule/choosers.js";
import { builtinStrategy } from "../strategies/registry.js";
import { compareExpectation } from "./compare.js";
import { describedFinding } from "../files/store.js";
import { showsSignature } from "../oracle/classify.js";

// The regression check: every recorded run of a corpus case replayed strictly under its recorded
// schedule, its verdict, signature and rule findings compared with the case's expectation.

/** A recorded run's strategy and model, or undefined to skip the run (filtered out). */
export type PairOf = (run: RecordedRun, index: number) => readonly [Strategy, Model] | undefined;

/** Built-ins by name; anything else is bad input naming the run. */
export function builtinPairOf(where: string): PairOf {
  return (run, index) => {
    const s = builtinStrategy(run.strategy), m = namedModel(run.model);
    if (!s) throw new InputError(`${where}: runs[${index}]: strategy "${run.strategy}" is not built in; pass its plugin with --strategy <file>`);
    if (!m) throw new InputError(`${where}: runs[${index}]: model "${run.model}" is not built in; pass its file with --model <file>`);
    return [s, m];
  };
}

export interface CaseRegress {
  readonly prepared: PreparedCase;
  readonly checks: readonly RegressCheck[];
  /** Each check's replayed verdict (undefined where the run drifted). */
  readonly verdicts: readonly (Verdict | undefined)[];
}

/** Replays each selected recorded run of a loaded case once, strictly, and compares. */
export function regressCase(file: string, loaded: LoadedCase, pairOf: PairOf): CaseRegress {
  const prepared = prepare(loaded.kase, loaded.soloBudget);
  const checks: RegressCheck[] = [], verdicts: (Verdict | undefined)[] = [];
  for (const [index, run] of loaded.kase.runs.entries()) {
    const pair = pairOf(run, index);
    if (!pair) continue;
    const [strategy, model] = pair;
    const base = { file, index, strategy: run.strategy, model: run.model, ...(run.expect ? { expected: run.expect } : {}) };
    try {
      const o = runOnce(prepared, { strategy, model, seed: run.seed, decisions: run.decisions });
      const actual = expectationOf(o.verdict);
      checks.push({ ...base, actual, ...(o.verdict.harnessError ? { harnessError: o.verdict.harnessError } : {}), changes: compareExpectation(run.expect, actual) });
      verdicts.push(o.verdict);
    } catch (e) {
      if (!(e instanceof DriftError)) throw e;
      if (e.actual !== undefined && run.expect?.verdict !== "harness-error") {
        // The strategy now throws before the recorded schedule ends: a changed verdict (exit 3).
        checks.push({ ...base, actual: e.actual, harnessError: e.harnessError, changes: compareExpectation(run.expect, e.actual) });
      } else {
        checks.push({ ...base, drift: e.message, changes: compareExpectation(run.expect, { drift: e.message }) });
      }
      verdicts.push(undefined);
    }
  }
  return { prepared, checks: withNamedFinding(loaded.kase, checks, verdicts), verdicts };
}

/**
 * A case named after a finding that is no run's expected signature (a run's second divergence
 * class, promoted) is checked by that name: some replayed run must still show it. Otherwise its
 * first check carries `vanished-finding`. Runs that drifted show nothing either way, and when
 * `--strategy`/`--model` left runs out, the one showing it may be among them: no judgement then.
 */
function withNamedFinding(kase: Case, checks: RegressCheck[], verdicts: readonly (Verdict | undefined)[]): RegressCheck[] {
  const named = describedFinding(kase);
  if (named === undefined || checks.length < kase.runs.length || checks.some((c) => c.expected?.signature === named)) return checks;
  if (verdicts.every((v) => v === undefined) || verdicts.some((v) => v !== undefined && showsSignature(v, named))) return checks;
  const [first, ...rest] = checks;
  return [{ ...first!, finding: named, changes: [...first!.changes, "vanished-finding"] }, ...rest];
}

/** Random schedules a drifted run's re-recording searches (as scripts/record-corpus.ts does). */
export const RERECORD_SCHEDULES = 300;

/**
 * The recorded run that `--update` stores for a changed check: the new expectation, and for a
 * drifted run a new schedule found the way the corpus was recorded: random schedules from the
 * run's seed on, the first that is not clean (else the last). Not a lenient replay of the old
 * list: SPEC 8 keeps lenient replay to the minimizer.
 */
export function rerecord(prepared: PreparedCase, run: RecordedRun, strategy: Strategy, model: Model): RecordedRun {
  try {
    const o = runOnce(prepared, { strategy, model, seed: run.seed, decisions: run.decisions });
    return { ...run, expect: expectationOf(o.verdict) };
  } catch (e) {
    if (!(e instanceof DriftError)) throw e;
    const o = searchSchedules(prepared, { strategy, model, seed: run.seed }, RERECORD_SCHEDULES);
    return { ...run, seed: o.seed, decisions: o.decisions, expect: expectationOf(o.verdict) };
  }
}

export interface RegressSummary {
  readonly cases: number;
  readonly runs: number;
  readonly changed: number;
  readonly changes: number;
}

export function summarize(cases: number, checks: readonly RegressCheck[]): RegressSummary {
  const changed = checks.filter((c) => c.changes.length > 0);
  return { cases, runs: checks.length, changed: changed.length, changes: changed.reduce((n, c) => n + c.changes.length, 0) };
}
