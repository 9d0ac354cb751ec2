import seedrandom from "seedrandom";
import type { Case, CaseScope, Cause, Decision, FindingFile, Model, RecordedRun, RuleName, Strategy, Verdict } from "../types.js";
import { DEFAULT_MAX_CORES } from "../types.js";
import { parseCaseShape } from "../case/load.js";
import type { SoloCounts } from "../case/terminate.js";
import { caseToJson } from "../case/save.js";
import { expectationOf, prepare, runOnce, type Outcome, type PreparedCase, type SchedulerKind } from "../differential.js";
import { divergenceFindingsOf, ruleFindingsOf, ruleSignatures } from "../oracle/classify.js";
import { DriftError } from "../schedule/choosers.js";
import { CoverageMap, coverageOf } from "./coverage.js";
import { generateCase, type Rng } from "./generate.js";
import { entryInScope, inScope } from "./scope.js";
import { minimize, type Size } from "./minimize.js";
import { mutateCase } from "./mutate.js";
import { type FuzzCase, type MutationParent, prepareCase, prepareMutant } from "./prepare.js";

// One fuzzing engine: generate or mutate a case, pick a (strategy, model) cell and a schedule, run
// it differentially, keep cases that set new coverage bits, confirm and minimize findings. Pure
// computation: workers drive it and ship its output; it writes no file.

export interface EngineOptions {
  readonly seed: number | string;
  readonly strategies: readonly Strategy[];
  readonly models: readonly Model[];
  readonly scheduler: "random" | "pct";
  /** Coverage feedback (off: every case is freshly generated, for comparison). */
  readonly feedback: boolean;
  /** What generated cases may hold (default: all, up to DEFAULT_MAX_CORES cores); mutants and adopted entries outside it are dropped. */
  readonly scope?: CaseScope;
  /** Told which cell runs next (a watchdog names the strategy if the run never returns). */
  readonly onRun?: (strategy: number, model: number) => void;
  /**
   * Strict replay of a reproducer (its one recorded run), used to confirm findings and to judge a
   * minimized case. Default: replay on the prepared case. Workers pass one that replays the case
   * as it will be saved, traced, and keep the outcome for the finding's report.
   */
  readonly replay?: (reproducer: Case, prepared: PreparedCase, strategy: Strategy, model: Model) => Outcome;
}

/** A case that set new coverage bits, with the run that did. */
export interface CorpusEntry {
  readonly kase: Case;
  /** Every coverage bit of its run (other engines merge them). */
  readonly bits: number[];
}

export interface Finding {
  readonly kind: "divergence" | "rule";
  readonly signature: string;
  /** A divergence's cause (SPEC 7.1). */
  readonly cause?: Cause;
  /** The rule a rule finding breaks (SPEC 7.3). */
  readonly rule?: RuleName;
  /** The reproducer: the case with exactly one recorded run (strategy, model, decisions, verdict). */
  readonly kase: Case;
  readonly minimized: boolean;
  readonly before?: Size;
  readonly after?: Size;
}

/**
 * A finding as worker threads ship it to the main thread: its files, made where it was found (a
 * case with its decision list takes ten times longer to clone than its text), and the facts the
 * campaign counts and logs, its cell among them.
 */
export interface ShippedFinding extends Omit<Finding, "kase"> {
  readonly strategy: string;
  readonly model: string;
  readonly file: FindingFile;
}

export interface StepResult {
  readonly outcome: Outcome;
  readonly corpusEntry?: CorpusEntry;
  /** Without feedback (no corpus): the run's coverage bits when some were new, for the campaign's count. */
  readonly newBits?: number[];
  readonly findings: Finding[];
  readonly harnessError?: string;
  /** The parent's decisions the run replayed first (leniently), when it spliced its parent's schedule. */
  readonly spliced?: readonly Decision[];
}

/** A run's strict replay did not show a signature the run produced. */
class NotReplayed extends Error {}

/** A signature a run produced that this engine had not reported yet. */
type Fresh = Pick<Finding, "kind" | "signature" | "cause" | "rule">;

/** The case with one recorded run; without a verdict the run has no expectation yet. */
function recorded(kase: Case, strategy: Strategy, model: Model, seed: number, decisions: readonly Decision[], verdict?: Verdict): Case {
  const run: RecordedRun = { strategy: strategy.name, model: model.name, seed, decisions, ...(verdict ? { expect: expectationOf(verdict) } : {}) };
  return { ...kase, runs: [run] };
}

/**
 * A corpus entry as a parent for mutation: its JSON text (`{"case": ...}`) and, while kept
 * parsed, its case without recorded runs (mutants never keep them) with the solo counts made
 * for it and its mutants, and the schedule that made it a corpus entry.
 */
interface Parent {
  readonly text: string;
  parsed?: ParsedParent;
}

interface ParsedParent extends MutationParent {
  readonly schedule?: ParentSchedule;
}

/** A parent's recorded run, to splice into its mutants' schedules (SPEC 9's schedule mutation). */
interface ParentSchedule {
  readonly strategy: number;
  readonly model: number;
  /** Its decisions, flat (chosen, options, ...): a tenth of the memory of Decision pairs. */
  readonly decisions: Uint32Array;
}

/**
 * Share of a mutant's runs that replay a prefix of its parent's decisions, cut at a random point,
 * on the parent's cell, drawing the rest at random: the interleaving that reached new coverage is
 * kept up to a point and varied from there (the wrapped indices of a lenient replay absorb what
 * the mutation changed).
 */
const SPLICED_RUNS = 0.25;

const RANDOM: SchedulerKind = { kind: "random" };

interface PctTally {
  steps: number;
  runs: number;
}

/**
 * Parents kept parsed: about 1.5 KB each without their runs (solo counts included), less than
 * their text (a parsed case with its decision list is ten times larger). Past this many, the
 * oldest go back to being text.
 */
const PARSED_PARENTS = 4096;

/** Schedules (each on a random cell) run per prepared case before the next case. */
const RUNS_PER_CASE = 8;

export class FuzzEngine {
  readonly coverage = new CoverageMap();
  /** The corpus, in the order it grew; a night's corpus holds thousands. */
  private readonly parents: Parent[] = [];
  /** The parents kept parsed, oldest first, at most PARSED_PARENTS, so memory stays flat. */
  private readonly parsed = new Set<Parent>();
  /** Signatures this engine has already reported (the store keeps the smallest across engines). */
  readonly known = new Set<string>();
  execs = 0;
  /** Scheduler events emulated by those execs' runs (stats: events per exec). */
  events = 0;
  private readonly rng: Rng;
  private readonly scope: CaseScope;
  private current: FuzzCase | undefined;
  /** The schedule of the parent the current case was mutated from, if it has one in scope. */
  private currentSchedule: ParentSchedule | undefined;
  /** PCT's counted choices over the runs so far, in the patch window and overall (see pctSchedule). */
  private readonly pctTallies: { readonly window: PctTally; readonly all: PctTally } = { window: { steps: 0, runs: 0 }, all: { steps: 0, runs: 0 } };
  private energy = 0;

  constructor(private readonly opts: EngineOptions) {
    this.rng = seedrandom.alea(`engine:${opts.seed}`);
    this.scope = { ...opts.scope, maxCores: opts.scope?.maxCores ?? DEFAULT_MAX_CORES };
  }

  /** The corpus: every parent's JSON text. */
  get corpus(): string[] {
    return this.parents.map((p) => p.text);
  }

  /** A corpus entry found by another engine (its file text): merge its coverage, keep it as a parent if it adds any. */
  adopt(json: string, bits: readonly number[]): void {
    if (!entryInScope(json, this.scope)) return;
    if (this.coverage.merge(bits) > 0) this.parents.push({ text: json });
  }

  /**
   * An entry of this campaign's own stored corpus (a resumed session): always a parent. Each
   * added bits when it was found; merged again in another order, a third add none.
   */
  resume(json: string, bits: readonly number[]): void {
    if (!entryInScope(json, this.scope)) return;
    this.coverage.merge(bits);
    this.parents.push({ text: json });
  }

  /** Keeps `parent` parsed; past PARSED_PARENTS, the oldest kept goes back to being text. */
  private keepParsed(parent: Parent, kase: Case, soloCounts: SoloCounts = new Map()): ParsedParent {
    parent.parsed = { kase: { ...kase, runs: [] }, soloCounts, schedule: this.scheduleOf(kase) };
    this.parsed.add(parent);
    if (this.parsed.size > PARSED_PARENTS) {
      const oldest = this.parsed.values().next().value!;
      oldest.parsed = undefined;
      this.parsed.delete(oldest);
    }
    return parent.parsed;
  }

  /** The case's first recorded run as a schedule, when its cell is one this engine runs. */
  private scheduleOf(kase: Case): ParentSchedule | undefined {
    const run = kase.runs[0];
    if (!run?.decisions?.length) return undefined;
    const strategy = this.opts.strategies.findIndex((s) => s.name === run.strategy);
    const model = this.opts.models.findIndex((m) => m.name === run.model);
    if (strategy < 0 || model < 0) return undefined;
    const decisions = new Uint32Array(2 * run.decisions.length);
    run.decisions.forEach(([chosen, options], i) => decisions.set([chosen, options], 2 * i));
    return { strategy, model, decisions };
  }

  /** A prefix of a parent's decisions, cut at a random point (none to all). */
  private splicedPrefix(schedule: ParentSchedule): Decision[] {
    const n = Math.floor(this.rng() * (schedule.decisions.length / 2 + 1));
    const out: Decision[] = [];
    for (let i = 0; i < n; i++) out.push([schedule.decisions[2 * i]!, schedule.decisions[2 * i + 1]!]);
    return out;
  }

  /** A random parent, parsed (and validated by the loader) unless kept parsed. */
  private parent(): ParsedParent | undefined {
    const i = Math.floor(this.rng() * this.parents.length);
    const parent = this.parents[i]!;
    if (parent.parsed) return parent.parsed;
    try {
      // No termination check here: the mutant gets the full one before it runs.
      return this.keepParsed(parent, parseCaseShape((JSON.parse(parent.text) as { case: unknown }).case));
    } catch {
      this.parents.splice(i, 1);
      return undefined;
    }
  }

  private nextCase(): FuzzCase {
    for (;;) {
      const parent = this.opts.feedback && this.parents.length > 0 && this.rng() < 0.5 ? this.parent() : undefined;
      this.currentSchedule = parent?.schedule;
      // Generated cases pass the loader by construction (generate.test.ts checks 10,000 of them).
      if (!parent) return prepareCase(generateCase(this.rng, this.scope));
      const kase = mutateCase(this.rng, parent.kase);
      // A mutant the loader rejects (e.g. it no longer terminates) or out of scope is simply dropped.
      const prepared = kase && inScope(kase, this.scope) && prepareMutant(parent, kase);
      if (prepared) return prepared;
    }
  }

  /**
   * A PCT schedule: depth 1..3, change points in the patch window 70% of the time. Its length k is
   * the mean number of choices PCT counted in earlier runs of the same kind (in the window, or all):
   * change points drawn past a run's counted choices never fire, and a run has many more events
   * (a third to a half of them with one option, or outside the window) than counted choices.
   */
  private pctSchedule(): { scheduler: SchedulerKind; tally: PctTally; counted: { steps: number } } {
    const depth = 1 + Math.floor(this.rng() * 3), inPatchWindow = this.rng() < 0.7;
    const tally = inPatchWindow ? this.pctTallies.window : this.pctTallies.all;
    const length = tally.runs > 0 ? Math.max(2, Math.round(tally.steps / tally.runs)) : 200;
    const counted = { steps: 0 };
    return { scheduler: { kind: "pct", depth, length, inPatchWindow, counted }, tally, counted };
  }

  /** A run on a fresh schedule of the engine's policy. */
  private runFresh(prepared: PreparedCase, strategy: Strategy, model: Model, seed: number): Outcome {
    if (this.opts.scheduler === "random") return runOnce(prepared, { strategy, model, seed, scheduler: RANDOM });
    const pct = this.pctSchedule();
    const outcome = runOnce(prepared, { strategy, model, seed, scheduler: pct.scheduler });
    pct.tally.steps += pct.counted.steps;
    pct.tally.runs++;
    return outcome;
  }

  /** One exec. A case is reused for RUNS_PER_CASE schedules and cells, amortizing its preparation. */
  step(): StepResult {
    if (!this.current || this.energy <= 0) {
      this.current = this.nextCase();
      this.energy = RUNS_PER_CASE;
    }
    this.energy--;
    const prepared = this.current;
    const { kase } = prepared;
    const splice = this.currentSchedule && this.rng() < SPLICED_RUNS ? this.currentSchedule : undefined;
    const si = splice ? splice.strategy : Math.floor(this.rng() * this.opts.strategies.length);
    const mi = splice ? splice.model : Math.floor(this.rng() * this.opts.models.length);
    const strategy = this.opts.strategies[si]!, model = this.opts.models[mi]!;
    this.opts.onRun?.(si, mi);
    const seed = Math.floor(this.rng() * 2 ** 31);
    const spliced = splice && this.splicedPrefix(splice);
    const outcome = spliced
      ? runOnce(prepared, { strategy, model, seed, decisions: spliced, lenient: true })
      : this.runFresh(prepared, strategy, model, seed);
    this.execs++;
    this.events += outcome.run.events;
    const v = outcome.verdict;
    if (v.kind === "harness-error") return { outcome, findings: [], harnessError: v.harnessError, spliced };
    const bits = coverageOf(outcome.run, v, kase.program.slots);
    let corpusEntry: CorpusEntry | undefined, newBits: number[] | undefined;
    if (this.coverage.merge(bits) > 0) {
      if (this.opts.feedback) {
        const entry = recorded(kase, strategy, model, seed, outcome.decisions, v);
        const parent = { text: JSON.stringify({ case: caseToJson(entry) }) };
        this.parents.push(parent);
        this.keepParsed(parent, entry, prepared.soloCounts);
        corpusEntry = { kase: entry, bits };
      } else {
        newBits = bits;
      }
    }
    const fresh: Fresh[] = [];
    for (const [signature, cause] of divergenceFindingsOf(v)) if (!this.known.has(signature)) fresh.push({ kind: "divergence", signature, cause });
    for (const [signature, rule] of ruleFindingsOf(v)) if (!this.known.has(signature)) fresh.push({ kind: "rule", signature, rule });
    let findings: Finding[] = [];
    try {
      if (fresh.length > 0) findings = this.confirm(fresh, prepared, strategy, model, seed, outcome);
    } catch (e) {
      // A run that does not replay (its strict replay drifts, or shows other findings) is a
      // strategy that is not deterministic: the run's harness error. The corpus entry it made is
      // still one (its bits are merged already).
      const why = e instanceof Error ? e.message : String(e);
      const harnessError = e instanceof DriftError || e instanceof NotReplayed ? `strategy ${strategy.name} is not deterministic: ${why}` : why;
      return { outcome, corpusEntry, newBits, findings: [], harnessError, spliced };
    }
    return { outcome, corpusEntry, newBits, findings, spliced };
  }

  private replay(reproducer: Case, prepared: PreparedCase, strategy: Strategy, model: Model): Outcome {
    if (this.opts.replay) return this.opts.replay(reproducer, prepared, strategy, model);
    return runOnce(prepared, { strategy, model, decisions: reproducer.runs[0]!.decisions ?? [] });
  }

  /**
   * Strict replay confirms findings before anyone sees them (SPEC 9): one replay of the run
   * confirms every new signature it produced (a divergence and its rule findings).
   */
  private confirm(fresh: readonly Fresh[], prepared: PreparedCase, strategy: Strategy, model: Model, seed: number, outcome: Outcome): Finding[] {
    const kase = recorded(prepared.kase, strategy, model, seed, outcome.decisions, outcome.verdict);
    const replay = this.replay(kase, prepared, strategy, model).verdict;
    const replayed = new Set([...divergenceFindingsOf(replay).keys(), ...ruleSignatures(replay)]);
    // All or none: a signature marked known but never reported would be lost for the campaign.
    const lost = fresh.find((f) => !replayed.has(f.signature));
    if (lost) throw new NotReplayed(`a finding did not replay: ${lost.signature}`);
    return fresh.map((f) => {
      this.known.add(f.signature);
      return { ...f, kase, minimized: false };
    });
  }

  /** The smallest case and decision list found that keep the finding's signature. */
  minimizeFinding(f: Finding, shouldStop?: () => boolean): Finding {
    const run = f.kase.runs[0]!;
    const strategy = this.opts.strategies.find((s) => s.name === run.strategy)!;
    const model = this.opts.models.find((m) => m.name === run.model)!;
    const m = minimize(f.kase, strategy, model, run.decisions ?? [], f.signature, { seed: run.seed, maxRuns: 400, shouldStop });
    // The final verdict of the minimized case comes from a replay of its decisions (it is recorded).
    const unjudged = recorded(m.kase, strategy, model, run.seed, m.decisions);
    const final = this.replay(unjudged, prepare(m.kase, m.soloBudget), strategy, model);
    return { ...f, kase: { ...unjudged, runs: [{ ...unjudged.runs[0]!, expect: expectationOf(final.verdict) }] }, minimized: true, before: m.before, after: m.after };
  }
}
