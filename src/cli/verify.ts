import type { RecordedRun, Verdict } from "../types.js";
import { loadCaseFile } from "../case/load.js";
import { writeCaseFile } from "../case/save.js";
import { expectationOf, ruleSchedulesBeyond } from "../differential.js";
import type { ExhaustiveResult } from "../schedule/exhaustive.js";
import { formatExhaustive } from "../report/search.js";
import { IsolatedCells } from "./cells.js";
import { settleExit } from "./exit.js";
import { modelsFrom, strategiesFrom } from "./resolve.js";
import { withFile } from "./run.js";

interface VerifyOptions {
  strategy?: string[];
  model?: string[];
  bound: number;
  maxSchedules: number;
  rulesFail: boolean;
  record?: string;
  /** A cell whose search makes no progress this long (a step that never yields) is a harness error. */
  stallTimeout: number;
  json: boolean;
}

/** `verify`: the exhaustive scheduler per (strategy, model): every schedule within the bound. */
export async function verifyCommand(file: string, opts: VerifyOptions): Promise<void> {
  const loaded = withFile(file, () => loadCaseFile(file));
  const verdicts: Verdict[] = [];
  const runs: RecordedRun[] = [];
  const json: unknown[] = [];
  const models = modelsFrom(opts.model);
  // Each cell runs in a worker thread: a strategy step that never yields is cut off (a harness error).
  const cells = new IsolatedCells(loaded.kase, opts.strategy ?? [], models, opts.stallTimeout);
  try {
    for (const strategy of await strategiesFrom(opts.strategy)) for (const model of models) {
      const c = await cells.run({ strategy: strategy.name, model: model.name, mode: "verify", seed: 0, bound: opts.bound, maxSchedules: opts.maxSchedules, judge: { rulesFail: opts.rulesFail } });
      if (c.kind === "timeout") {
        verdicts.push(c.verdict);
        json.push({ strategy: strategy.name, model: model.name, bound: opts.bound, harnessError: c.verdict.harnessError });
        if (!opts.json) process.stdout.write(`${strategy.name.padEnd(20)} ${model.name.padEnd(22)} HARNESS ERROR: ${c.verdict.harnessError}\n`);
        continue;
      }
      const r = c.result;
      const line = formatExhaustive(r, opts.bound);
      if (r.divergent) verdicts.push(r.divergent.verdict);
      runs.push(...recordedRuns(strategy.name, model.name, r));
      json.push({
        strategy: strategy.name, model: model.name, bound: opts.bound, explored: r.explored, complete: r.complete,
        verdict: r.divergent?.verdict.kind ?? "clean", divergent: r.divergent?.verdict.signature ?? null,
        rules: r.ruleSchedules.map(({ rule, schedules, first }) => ({ rule, schedules, firstSchedule: first })), summary: line,
      });
      if (!opts.json) process.stdout.write(`${strategy.name.padEnd(20)} ${model.name.padEnd(22)} ${line}\n`);
    }
  } finally {
    cells.close();
  }
  if (opts.json) process.stdout.write(JSON.stringify(json, null, 2) + "\n");
  // The divergent schedules and those that broke a rule, recorded for `repro`.
  if (opts.record && runs.length > 0) writeCaseFile(opts.record, { ...loaded.kase, runs });
  settleExit(verdicts);
}

/** What `--record` keeps of a cell: its divergent schedule, and a schedule for each rule finding that one does not show. */
function recordedRuns(strategy: string, model: string, r: ExhaustiveResult): RecordedRun[] {
  const kept = [...(r.divergent ? [r.divergent] : []), ...ruleSchedulesBeyond(r.divergent?.verdict, r.ruleSchedules)];
  return kept.map((k) => ({ strategy, model, seed: 0, decisions: k.decisions, expect: expectationOf(k.verdict) }));
}
