import type { RecordedRun, Verdict } from "../types.js";
import { loadCaseFile } from "../case/load.js";
import { writeCaseFile } from "../case/save.js";
import { prepare, runOnce, type Outcome } from "../differential.js";
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
  // A clean verdict covers `schedules` seeds; a divergent one names the seed that reproduces it.
  for (const strategy of strategies) {
    for (const model of models) {
      let seed = opts.seed;
      let outcome = runOnce(prepared, { strategy, model, seed, judge: { rulesFail: opts.rulesFail } });
      while (outcome.verdict.kind === "clean" && seed < opts.seed + opts.schedules - 1) {
        outcome = runOnce(prepared, { strategy, model, seed: ++seed, judge: { rulesFail: opts.rulesFail } });
      }
      results.push({ verdict: outcome.verdict, seed, outcome });
      if (!opts.json) {
        const where = outcome.verdict.kind === "clean" ? `${seed - opts.seed + 1} schedules from seed ${opts.seed}` : `seed ${seed}`;
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
      expect: { verdict: r.verdict.kind, signature: r.verdict.signature, rules: [...new Set(r.verdict.rules.map((x) => x.rule))].sort() },
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
