import type { Chooser, Decision, Model, Strategy } from "../types.js";
import { RuleTally, type Outcome, type PreparedCase, type RuleSchedules } from "../differential.js";
import { runCase } from "../machine/run.js";
import { HarnessError } from "../machine/strategy-driver.js";
import { judge, type JudgeOptions } from "../oracle/judge.js";

// SPEC 8 `exhaustive`: a bounded DFS over decision lists, for proving small cases. The bound is
// after delay bounding (Emmi, Qadeer, Rakamarić, POPL 2011): the default schedule picks option 0
// at every decision, and a schedule may deviate from it at most `bound` times. Unlike a delay,
// which skips one option, a deviation picks any non-zero index: bound b covers every schedule of
// delay bound b, and more (a decision's options include fetch-unit choices, not only cores).

export interface ExhaustiveOptions {
  /** Most decisions of one schedule that pick a non-zero index. */
  readonly bound: number;
  /** Stop after this many runs (the result is then not complete). */
  readonly maxSchedules?: number;
  /** Called after every run with its decision list (tests count deviations and duplicates). */
  readonly onSchedule?: (decisions: readonly Decision[], outcome: Outcome) => void;
}

export interface ExhaustiveResult {
  /** Runs made. */
  readonly explored: number;
  /** Every schedule within the bound was run (the search was not cut by maxSchedules or a finding). */
  readonly complete: boolean;
  /** The first run that was not clean (a divergence or a harness error). */
  readonly divergent?: Outcome & { readonly decisions: readonly Decision[] };
  /** Runs that were not clean (more than 1 only when not stopping at the first). */
  readonly divergentSchedules: number;
  /** Rule findings over every run, each rule with the first schedule (its number in the search order) that broke it. */
  readonly ruleSchedules: readonly RuleSchedules[];
}

export interface ExhaustiveSpec {
  readonly strategy: Strategy;
  readonly model: Model;
  readonly judge?: JudgeOptions;
}

/** Follows a recorded prefix, then picks 0 (the default schedule), recording every decision. */
export class PrefixChooser implements Chooser {
  readonly decisions: Decision[] = [];
  constructor(private readonly prefix: readonly Decision[], private readonly strategy: string) {}
  choose(options: number, what: string): number {
    const i = this.decisions.length;
    const p = this.prefix[i];
    // The machine is deterministic given its decisions, and the prefix came from a run of this
    // search moments ago: a prefix that no longer fits is a strategy that is not deterministic.
    if (p && p[1] !== options) {
      throw new HarnessError(`strategy ${this.strategy} is not deterministic: the same decisions led elsewhere (decision ${i} (${what}): ${p[1]} options before, ${options} now)`);
    }
    const chosen = p ? p[0] : 0;
    this.decisions.push([chosen, options]);
    return chosen;
  }
}

/** Decisions that pick a non-zero index. */
export function deviations(list: readonly Decision[]): number {
  return list.reduce((n, [c]) => n + (c === 0 ? 0 : 1), 0);
}

function runPrefix(prepared: PreparedCase, spec: ExhaustiveSpec, prefix: readonly Decision[]): Outcome {
  const chooser = new PrefixChooser(prefix, spec.strategy.name);
  const run = runCase(prepared.plan, spec.strategy, spec.model, { chooser, soloBudget: prepared.soloBudget });
  return { run, verdict: judge(prepared.plan, run, spec.judge), decisions: chooser.decisions };
}

/**
 * DFS over the tree of deviations: a schedule's children add one deviation after its last one.
 * Every schedule within the bound is run exactly once, as a prefix ending at its last deviation
 * (the rest defaults to 0). Children are taken shallowest position first, so deviations early in
 * the run (before the patch, where races start) are tried before the deep tail is exhausted; the
 * plain lexicographic DFS visits the same set but reaches early deviations last.
 */
class Explorer {
  explored = 0;
  divergentSchedules = 0;
  divergent: Outcome | undefined;
  readonly rules = new RuleTally();
  /** Stopped at a divergence or a harness error. */
  stopped = false;
  /** Stopped at maxSchedules with schedules left. */
  cut = false;

  constructor(
    private readonly prepared: PreparedCase,
    private readonly spec: ExhaustiveSpec,
    private readonly opts: ExhaustiveOptions,
    private readonly stopAtFirst: boolean,
  ) {}

  private done(): boolean {
    return this.stopped || this.cut;
  }

  /** Runs one schedule; undefined when maxSchedules is reached first. */
  visit(prefix: readonly Decision[]): Outcome | undefined {
    if (this.explored >= (this.opts.maxSchedules ?? Infinity)) {
      this.cut = true;
      return undefined;
    }
    const outcome = runPrefix(this.prepared, this.spec, prefix);
    this.explored++;
    this.rules.add(outcome, this.explored);
    this.opts.onSchedule?.(outcome.decisions, outcome);
    if (outcome.verdict.kind !== "clean") {
      this.divergentSchedules++;
      this.divergent ??= outcome;
      if (this.stopAtFirst || outcome.verdict.kind === "harness-error") this.stopped = true;
    }
    return outcome;
  }

  /** Every schedule adding deviations at `from` or later to `parent`, which has `used` of them. */
  expand(parent: readonly Decision[], from: number, used: number): void {
    if (used >= this.opts.bound) return;
    for (let q = from; q < parent.length; q++) {
      const n = parent[q]![1];
      for (let idx = 1; idx < n; idx++) {
        const child = this.visit([...parent.slice(0, q), [idx, n]]);
        if (!child || this.done()) return;
        this.expand(child.decisions, q + 1, used + 1);
        if (this.done()) return;
      }
    }
  }
}

/**
 * Runs every schedule with at most `opts.bound` deviations from the default one. Stops at the
 * first run that is not clean when `stopAtFirst` (always at a harness error); `complete` is then
 * false, as not every schedule was run.
 */
export function exploreExhaustive(
  prepared: PreparedCase, spec: ExhaustiveSpec, opts: ExhaustiveOptions, stopAtFirst = true,
): ExhaustiveResult {
  const ex = new Explorer(prepared, spec, opts, stopAtFirst);
  const root = ex.visit([]);
  if (root && !ex.stopped) ex.expand(root.decisions, 0, 0);
  const { explored, divergent, divergentSchedules } = ex;
  return { explored, complete: !ex.stopped && !ex.cut, divergentSchedules, ruleSchedules: ex.rules.list, ...(divergent ? { divergent } : {}) };
}
