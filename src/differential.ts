import type { Case, Decision, Model, RunResult, Strategy, Verdict } from "./types.js";
import { type CasePlan, planCase } from "./machine/plan.js";
import { runCase } from "./machine/run.js";
import { judge, type JudgeOptions } from "./oracle/judge.js";
import { RandomChooser, RecordingChooser, ReplayChooser } from "./schedule/choosers.js";

// One differential run: case -> run (under a schedule) -> observation -> verdict.

export interface RunSpec {
  readonly strategy: Strategy;
  readonly model: Model;
  /** Seed of the random policy (ignored when `decisions` is given). */
  readonly seed?: number;
  /** A recorded decision list to replay strictly (drift throws DriftError). */
  readonly decisions?: readonly Decision[];
  readonly trace?: boolean;
  readonly judge?: JudgeOptions;
}

export interface Outcome {
  readonly run: RunResult;
  readonly verdict: Verdict;
  readonly decisions: readonly Decision[];
}

export interface PreparedCase {
  readonly kase: Case;
  readonly plan: CasePlan;
  readonly soloBudget: number;
}

export function prepare(kase: Case, soloBudget: number): PreparedCase {
  return { kase, plan: planCase(kase), soloBudget };
}

export function runOnce(prepared: PreparedCase, spec: RunSpec): Outcome {
  const replay = spec.decisions ? new ReplayChooser(spec.decisions) : undefined;
  const chooser = new RecordingChooser(replay ?? new RandomChooser(spec.seed ?? 0));
  const run = runCase(prepared.plan, spec.strategy, spec.model, { chooser, soloBudget: prepared.soloBudget, trace: spec.trace });
  replay?.assertConsumed();
  const withDecisions: RunResult = { ...run, decisions: chooser.decisions };
  return { run: withDecisions, verdict: judge(prepared.plan, withDecisions, spec.judge), decisions: chooser.decisions };
}
