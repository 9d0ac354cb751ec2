import type { RecordedRun, Verdict } from "../types.js";
import { loadCaseFile } from "../case/load.js";
import { writeCaseFile } from "../case/save.js";
import { expectationOf, prepare } from "../differential.js";
import { exploreExhaustive, formatExhaustive } from "../schedule/exhaustive.js";
import { exitFor } from "./exit.js";
import { modelsFrom, strategiesFrom } from "./resolve.js";
import { withFile } from "./run.js";

interface VerifyOptions {
  strategy?: string[];
  model?: string[];
  bound: number;
  maxSchedules: number;
  rulesFail: boolean;
  record?: string;
  json: boolean;
}

/** `verify`: the exhaustive scheduler per (strategy, model): every schedule within the bound. */
export async function verifyCommand(file: string, opts: VerifyOptions): Promise<void> {
  const loaded = withFile(file, () => loadCaseFile(file));
  const prepared = prepare(loaded.kase, loaded.soloBudget);
  const verdicts: Verdict[] = [];
  const runs: RecordedRun[] = [];
  const json: unknown[] = [];
  for (const strategy of await strategiesFrom(opts.strategy)) {
    for (const model of modelsFrom(opts.model)) {
      const r = exploreExhaustive(prepared, { strategy, model, judge: { rulesFail: opts.rulesFail } }, { bound: opts.bound, maxSchedules: opts.maxSchedules });
      const line = formatExhaustive(r, opts.bound);
      if (r.divergent) {
        verdicts.push(r.divergent.verdict);
        runs.push({ strategy: strategy.name, model: model.name, seed: 0, decisions: r.divergent.decisions, expect: expectationOf(r.divergent.verdict) });
      }
      json.push({ strategy: strategy.name, model: model.name, bound: opts.bound, explored: r.explored, complete: r.complete, divergent: r.divergent?.verdict.signature ?? null, summary: line });
      if (!opts.json) process.stdout.write(`${strategy.name.padEnd(20)} ${model.name.padEnd(22)} ${line}\n`);
    }
  }
  if (opts.json) process.stdout.write(JSON.stringify(json, null, 2) + "\n");
  // The divergent schedules, recorded for `repro`.
  if (opts.record && runs.length > 0) writeCaseFile(opts.record, { ...loaded.kase, runs });
  process.exitCode = exitFor(verdicts);
}
