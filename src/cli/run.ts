import type { Decision, RecordedRun, Verdict } from "../types.js";
import { loadCaseFile } from "../case/load.js";
import { writeCaseFile } from "../case/save.js";
import { expectationOf, ruleSchedulesBeyond, type RuleSchedules, type SearchOutcome } from "../differential.js";
import { formatRuleSchedules } from "../report/search.js";
import { verdictJson } from "../report/json.js";
import { verdictLine } from "../report/text.js";
import { settleExit } from "./exit.js";
import { modelsFrom, strategiesFrom } from "./resolve.js";
import { InputError } from "../errors.js";
import { IsolatedCells } from "./cells.js";

interface RunOptions {
  strategy?: string[];
  model?: string[];
  seed: number;
  schedules: number;
  rulesFail: boolean;
  record?: string;
  /** Wall budget of one (strategy, model) cell, in ms. */
  timeout: number;
  json: boolean;
}

/** One (strategy, model) cell of `run`: the run it reports and the rule findings of all its schedules. */
interface CellOutcome {
  readonly verdict: Verdict;
  readonly seed: number;
  readonly decisions: readonly Decision[];
  /** Schedules run (0 for a cell cut off by `--timeout`). */
  readonly schedules: number;
  readonly ruleSchedules: readonly RuleSchedules[];
  /** Cut off by `--timeout`: there is no decision list to replay, so `--record` cannot keep it. */
  readonly cutOff: boolean;
}

/** `run`: per (strategy, model), random schedules until the first divergence or the budget. */
export async function runCommand(file: string, opts: RunOptions): Promise<void> {
  const loaded = withFile(file, () => loadCaseFile(file));
  const strategies = await strategiesFrom(opts.strategy);
  const models = modelsFrom(opts.model);
  const results: CellOutcome[] = [];
  const cells = new IsolatedCells(loaded.kase, opts.strategy ?? [], models, opts.timeout);
  try {
    for (const strategy of strategies) {
      for (const model of models) {
        const r = await cells.run({ strategy: strategy.name, model: model.name, mode: "search", seed: opts.seed, schedules: opts.schedules, judge: { rulesFail: opts.rulesFail } });
        const result = r.kind === "done" ? searched(r.outcome as SearchOutcome) : cutOff(r.verdict, opts.seed);
        results.push(result);
        if (!opts.json) process.stdout.write(`${resultLine(result, opts.seed)}\n`);
      }
    }
  } finally {
    cells.close();
  }
  if (opts.json) process.stdout.write(JSON.stringify(results.map(resultJson), null, 2) + "\n");
  if (opts.record) writeCaseFile(opts.record, { ...loaded.kase, runs: results.flatMap(recordedRuns) });
  settleExit(results.map((r) => r.verdict));
}

// A search cell posts searchSchedules' whole result (cell-worker.ts); its reply type names the Outcome part.
function searched(o: SearchOutcome): CellOutcome {
  return { verdict: o.verdict, seed: o.seed, decisions: o.decisions, schedules: o.schedules, ruleSchedules: o.ruleSchedules, cutOff: false };
}

function cutOff(verdict: Verdict, seed: number): CellOutcome {
  return { verdict, seed, decisions: [], schedules: 0, ruleSchedules: [], cutOff: true };
}

function resultLine(r: CellOutcome, from: number): string {
  const where = r.verdict.kind === "clean" ? `${r.schedules} schedules from seed ${from}` : `seed ${r.seed}`;
  // After one schedule its verdict's own [rules: ...] says it all.
  const rules = r.ruleSchedules.length > 0 && r.schedules > 1 ? `  rule findings: ${formatRuleSchedules(r.ruleSchedules, r.schedules, (seed) => `seed ${seed}`)}` : "";
  return `${verdictLine(r.verdict)}  (${where})${rules}`;
}

function resultJson(r: CellOutcome) {
  return {
    ...verdictJson(r.verdict), seed: r.seed, decisions: r.decisions.length, schedules: r.schedules,
    ruleSchedules: r.ruleSchedules.map(({ rule, schedules, first }) => ({ rule, schedules, firstSeed: first })),
  };
}

/**
 * What `--record` keeps of a cell: the reported run, and the first schedule of each rule finding
 * that run does not show. A cell cut off by `--timeout` left no decisions to replay (a recorded
 * empty list only drifts), so it is left out and said so; `run` again reproduces the cut-off.
 */
function recordedRuns(r: CellOutcome): RecordedRun[] {
  const { strategy, model } = r.verdict;
  if (r.cutOff) {
    process.stderr.write(`xmcfuzz: --record: ${strategy} x ${model} not recorded: it was cut off by --timeout, so it has no decision list to replay\n`);
    return [];
  }
  const reported: RecordedRun = { strategy, model, seed: r.seed, decisions: r.decisions, expect: expectationOf(r.verdict) };
  const beyond = ruleSchedulesBeyond(r.verdict, r.ruleSchedules);
  return [reported, ...beyond.map((b) => ({ strategy, model, seed: b.first, decisions: b.decisions, expect: expectationOf(b.verdict) }))];
}

/** Prefixes a field-level input error with the file it came from. */
export function withFile<T>(file: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof InputError && !e.message.startsWith(file)) throw new InputError(`${file}: ${e.message}`);
    throw e;
  }
}
