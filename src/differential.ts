import type { Case, Chooser, Decision, Expectation, Model, RuleName, RunResult, Strategy, Verdict, VerdictKind } from "./types.js";
import { PctChooser, type PctOptions } from "./schedule/pct.js";
import { type CasePlan, planCase } from "./machine/plan.js";
import { runCase } from "./machine/run.js";
import { judge, type JudgeOptions } from "./oracle/judge.js";
import { DriftError, RandomChooser, RecordingChooser, ReplayChooser } from "./schedule/choosers.js";

// One differential run: case -> run (under a schedule) -> observation -> verdict.

export interface RunSpec {
  readonly strategy: Strategy;
  readonly model: Model;
  /** Seed of the random policy (ignored when `decisions` is given). */
  readonly seed?: number;
  /** A recorded decision list to replay strictly (drift throws DriftError). */
  readonly decisions?: readonly Decision[];
  /** Replay `decisions` leniently: wrap bad indices, draw missing ones from the policy (splices). */
  readonly lenient?: boolean;
  /** The policy drawing fresh decisions: uniform random (default) or PCT. */
  readonly scheduler?: SchedulerKind;
  readonly trace?: boolean;
  readonly judge?: JudgeOptions;
}

export type SchedulerKind = { readonly kind: "random" } | ({ readonly kind: "pct" } & PctOptions);

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

/** The policy drawing a spec's fresh decisions (random unless it names PCT). */
export function policyFor(spec: RunSpec): Chooser {
  const seed = spec.seed ?? 0;
  return spec.scheduler?.kind === "pct" ? new PctChooser(seed, spec.scheduler) : new RandomChooser(seed);
}

export function runOnce(prepared: PreparedCase, spec: RunSpec): Outcome {
  const replay = spec.decisions ? new ReplayChooser(spec.decisions, spec.lenient ? policyFor(spec) : undefined) : undefined;
  const chooser = new RecordingChooser(replay ?? policyFor(spec));
  let run: RunResult;
  try {
    run = runCase(prepared.plan, spec.strategy, spec.model, { chooser, soloBudget: prepared.soloBudget, trace: spec.trace });
  } finally {
    chooser.seal();
  }
  try {
    replay?.assertConsumed();
  } catch (e) {
    // A strategy that threw ended the replay early: said, so that a plugin that now throws is
    // told from a schedule that no longer fits (regress: a changed verdict, unless it expected one).
    if (!(e instanceof DriftError) || !run.harnessError) throw e;
    throw new DriftError(`${e.message}, ended by a harness error: ${run.harnessError}`, run.harnessError, expectationOf(judge(prepared.plan, run, spec.judge)));
  }
  return new RecordedOutcome(run, judge(prepared.plan, run, spec.judge), chooser);
}

/** The outcome as plain data, to post to another thread (a structured clone drops getters). */
export function settledOutcome(o: Outcome): Outcome {
  return { run: o.run, verdict: o.verdict, decisions: o.decisions };
}

/**
 * An outcome whose decision list is materialized on first read (the oracle never reads it;
 * recording does). A class, not a literal with a getter: V8 allocates such literals in the old
 * generation, where a dead one kept its whole run alive across young-generation collections.
 */
class RecordedOutcome implements Outcome {
  constructor(readonly run: RunResult, readonly verdict: Verdict, private readonly recorder: RecordingChooser) {}
  get decisions(): readonly Decision[] {
    return this.recorder.decisions;
  }
}

/** One rule broken somewhere in a search over schedules (SPEC 7.3: shown apart from divergences). */
export interface RuleSchedules {
  readonly rule: RuleName;
  /** Schedules whose run broke the rule. */
  readonly schedules: number;
  /** The first of them: its seed (random search) or its number in the search order, from 1 (exhaustive). */
  readonly first: number;
  /** That run's decisions and verdict, to record it for `repro`. */
  readonly decisions: readonly Decision[];
  readonly verdict: Verdict;
}

/**
 * Counts, per rule, the schedules of a search that broke it and keeps the first of them. A search
 * reports one run; without this, rule findings of the other schedules were lost (a clean search
 * showed only its last schedule's).
 */
export class RuleTally {
  private readonly seen = new Map<RuleName, RuleSchedules>();

  add(o: Outcome, at: number): void {
    for (const rule of new Set(o.verdict.rules.map((r) => r.rule))) {
      const s = this.seen.get(rule);
      this.seen.set(rule, s ? { ...s, schedules: s.schedules + 1 } : { rule, schedules: 1, first: at, decisions: o.decisions, verdict: o.verdict });
    }
  }

  get list(): readonly RuleSchedules[] {
    return [...this.seen.values()].sort((a, b) => a.rule.localeCompare(b.rule));
  }
}

/**
 * The schedules to record beside a reported run so that every rule broken in the search can be
 * replayed: the first schedule of each rule the reported run does not show, each schedule once.
 */
export function ruleSchedulesBeyond(reported: Verdict | undefined, rules: readonly RuleSchedules[]): RuleSchedules[] {
  const shown = new Set(reported?.rules.map((f) => f.rule));
  const kept = new Map<number, RuleSchedules>();
  for (const r of rules) if (!shown.has(r.rule) && !kept.has(r.first)) kept.set(r.first, r);
  return [...kept.values()];
}

export interface SearchOutcome extends Outcome {
  /** The seed of the reported run. */
  readonly seed: number;
  /** Schedules run. */
  readonly schedules: number;
  /** Rule findings over all of them. */
  readonly ruleSchedules: readonly RuleSchedules[];
}

/**
 * Random schedules from `seed` on, until the first run that is not clean or `schedules` runs:
 * a clean result covers them all, a divergent one names the seed that reproduces it. The run
 * reported when none diverges is the first that broke a rule (else the last), so that recording
 * it keeps a rule finding; `ruleSchedules` counts the findings of every schedule run.
 */
export function searchSchedules(prepared: PreparedCase, spec: RunSpec, schedules: number): SearchOutcome {
  const from = spec.seed ?? 0;
  // Past 2^53 - 1 seed + 1 may equal seed (run looped on one seed): the CLI refuses such seeds.
  if (from > Number.MAX_SAFE_INTEGER - (schedules - 1)) throw new RangeError(`seed ${from} with ${schedules} schedules passes 2^53 - 1`);
  const rules = new RuleTally();
  let reported: { outcome: Outcome; seed: number } | undefined;
  let run = 0;
  while (run < schedules) {
    const seed = from + run++;
    const outcome = runOnce(prepared, { ...spec, seed });
    rules.add(outcome, seed);
    if (outcome.verdict.kind !== "clean") {
      reported = { outcome, seed };
      break;
    }
    if (!reported?.outcome.verdict.rules.length) reported = { outcome, seed };
  }
  const settled = settledOutcome(reported!.outcome);
  return Object.assign(replayedOrBlamed(prepared, spec, settled), { seed: reported!.seed, schedules: run, ruleSchedules: rules.list });
}

/**
 * A run with a finding, replayed strictly once before it is reported: one that does not replay
 * to the same verdict is its strategy's harness error (it is not deterministic: module state,
 * Math.random), as in campaigns, never a divergence whose recording then fails as bad input.
 */
function replayedOrBlamed(prepared: PreparedCase, spec: RunSpec, o: Outcome): Outcome {
  const v = o.verdict;
  if (v.kind === "harness-error" || (v.kind === "clean" && v.rules.length === 0)) return o;
  let why: string | undefined;
  try {
    const again = runOnce(prepared, { ...spec, decisions: o.decisions }).verdict;
    if (!sameExpectation(expectationOf(again), expectationOf(v))) why = `the run it reported (${v.signature ?? v.kind}) replays as ${again.signature ?? again.kind}`;
  } catch (e) {
    if (!(e instanceof DriftError)) throw e;
    why = `the run it reported does not replay (${e.message})`;
  }
  if (why === undefined) return o;
  const harnessError = `strategy ${spec.strategy.name} is not deterministic: ${why}`;
  return { ...o, verdict: { kind: "harness-error", strategy: v.strategy, model: v.model, divergences: [], rules: [], harnessError } };
}

/**
 * What a recorded run stores about its verdict: the verdict itself, its rule findings apart (SPEC
 * 7.3), whatever `--rules-fail` said, so that a recorded run replays to its expectation in
 * `check-replay`, `regress` and `repro`, with or without `--rules-fail`.
 */
export function expectationOf(v: Verdict): Expectation {
  return { verdict: verdictKindOf(v), ...(v.signature ? { signature: v.signature } : {}), rules: [...new Set(v.rules.map((r) => r.rule))].sort() };
}

/** The verdict as judged without `--rules-fail`: a run that diverges by its rule findings alone is clean. */
export function verdictKindOf(v: Verdict): VerdictKind {
  return v.kind === "diverges" && v.divergences.length === 0 ? "clean" : v.kind;
}

export function sameExpectation(a: Expectation, b: Expectation): boolean {
  return a.verdict === b.verdict && a.signature === b.signature &&
    JSON.stringify([...a.rules].sort()) === JSON.stringify([...b.rules].sort());
}
