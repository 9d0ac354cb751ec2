import type { RecordedRun, Verdict } from "../types.js";
import { loadCaseFile } from "../case/load.js";
import { writeCaseFile } from "../case/save.js";
import { expectationOf, prepare, searchSchedules, type Outcome } from "../differential.js";
import { verdictJson } from "../report/json.js";
import { verdictLine } from "../report/text.js";
import { exitFor } from "./exit.js";
import { modelsFrom, strategiesFrom } from "./resolve.js";
import { InputError } from "../errors.js";

interface RunOptions {
  strategy?: string[];
  model?: string[];
  seed: number;
  schedules: number;
  rulesFail: boolean;
  record?: string;
  json: boolean;
}

/** `run`: per (strategy, model), random schedules until the first divergence or the budget. */
export async function runCommand(file: string, opts: RunOptions): Promise<void> {
  const loaded = withFile(file, () => loadCaseFile(file));
  const strategies = await strategiesFrom(opts.strategy);
  const models = modelsFrom(opts.model);
  const prepared = prepare(loaded.kase, loaded.soloBudget);
  const results: { verdict: Verdict; seed: number; outcome: Outcome }[] = [];
  for (const strategy of strategies) {
    for (const model of models) {
      const outcome = searchSchedules(prepared, { strategy, model, seed: opts.seed, judge: { rulesFail: opts.rulesFail } }, opts.schedules);
      results.push({ verdict: outcome.verdict, seed: outcome.seed, outcome });
      if (!opts.json) {
        const where = outcome.verdict.kind === "clean" ? `${opts.schedules} schedules from seed ${opts.seed}` : `seed ${outcome.seed}`;
        process.stdout.write(`${verdictLine(outcome.verdict)}  (${where})\n`);
      }
    }
  }
  if (opts.json) {
    process.stdout.write(JSON.stringify(results.map((r) => ({ ...verdictJson(r.verdict), seed: r.seed, decisions: r.outcome.decisions.length })), null, 2) + "\n");
  }
  if (opts.record) {
    const runs: RecordedRun[] = results.map((r) => ({
      strategy: r.verdict.strategy, model: r.verdict.model, seed: r.seed, decisions: r.outcome.decisions,
      expect: expectationOf(r.verdict),
    }));
    writeCaseFile(opts.record, { ...loaded.kase, runs });
  }
  process.exitCode = exitFor(results.map((r) => r.verdict));
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
