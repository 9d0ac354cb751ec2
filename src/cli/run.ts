import type { RecordedRun, Verdict } from "../types.js";
import { loadCaseFile } from "../case/load.js";
import { writeCaseFile } from "../case/save.js";
import { expectationOf } from "../differential.js";
import { verdictJson } from "../report/json.js";
import { verdictLine } from "../report/text.js";
import { exitFor } from "./exit.js";
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

/** `run`: per (strategy, model), random schedules until the first divergence or the budget. */
export async function runCommand(file: string, opts: RunOptions): Promise<void> {
  const loaded = withFile(file, () => loadCaseFile(file));
  const strategies = await strategiesFrom(opts.strategy);
  const models = modelsFrom(opts.model);
  const results: { verdict: Verdict; seed: number; decisions: RecordedRun["decisions"] }[] = [];
  const cells = new IsolatedCells(loaded.kase, opts.strategy ?? [], models, opts.timeout);
  try {
    for (const strategy of strategies) {
      for (const model of models) {
        const r = await cells.run({ strategy: strategy.name, model: model.name, mode: "search", seed: opts.seed, schedules: opts.schedules, judge: { rulesFail: opts.rulesFail } });
        const result = r.kind === "done"
          ? { verdict: r.outcome.verdict, seed: r.seed, decisions: r.outcome.decisions }
          : { verdict: r.verdict, seed: opts.seed, decisions: [] };
        results.push(result);
        if (!opts.json) {
          const where = result.verdict.kind === "clean" ? `${opts.schedules} schedules from seed ${opts.seed}` : `seed ${result.seed}`;
          process.stdout.write(`${verdictLine(result.verdict)}  (${where})\n`);
        }
      }
    }
  } finally {
    cells.close();
  }
  if (opts.json) {
    process.stdout.write(JSON.stringify(results.map((r) => ({ ...verdictJson(r.verdict), seed: r.seed, decisions: r.decisions?.length ?? 0 })), null, 2) + "\n");
  }
  if (opts.record) {
    const runs: RecordedRun[] = results.map((r) => ({
      strategy: r.verdict.strategy, model: r.verdict.model, seed: r.seed, decisions: r.decisions,
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
