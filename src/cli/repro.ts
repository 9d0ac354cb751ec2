import type { Verdict } from "../types.js";
import { loadCaseFile } from "../case/load.js";
import { InputError } from "../errors.js";
import { expectationOf, prepare, runOnce, sameExpectation } from "../differential.js";
import { NAMED_MODELS } from "../models/named.js";
import { runJson } from "../report/json.js";
import { formatReport } from "../report/text.js";
import { BUILTIN_STRATEGIES } from "../strategies/registry.js";
import { exitFor } from "./exit.js";
import { modelsFrom, recordedPair, strategiesFrom } from "./resolve.js";
import { withFile } from "./run.js";

interface ReproOptions {
  strategy?: string[];
  model?: string[];
  rulesFail: boolean;
  json: boolean;
}

/** `repro`: strict replay of each recorded run (drift fails loudly), with the full report. */
export async function reproCommand(file: string, opts: ReproOptions): Promise<void> {
  const loaded = withFile(file, () => loadCaseFile(file));
  const given = await strategiesFrom(opts.strategy);
  const models = modelsFrom(opts.model);
  // Names given on the command line filter the runs; otherwise every recorded run is replayed.
  const strategies = [...given, ...BUILTIN_STRATEGIES.filter((s) => !given.includes(s))];
  const allModels = [...models, ...NAMED_MODELS.filter((m) => !models.includes(m))];
  const runs = loaded.kase.runs.filter((r) =>
    (!opts.strategy || given.some((s) => s.name === r.strategy)) && (!opts.model || models.some((m) => m.name === r.model)));
  if (runs.length === 0) throw new InputError(`${file}: no recorded run to replay${opts.strategy || opts.model ? " for the given strategy/model" : ""}`);
  const prepared = prepare(loaded.kase, loaded.soloBudget);
  const verdicts: Verdict[] = [];
  const json: unknown[] = [];
  for (const [i, r] of runs.entries()) {
    const [strategy, model] = recordedPair(r, strategies, allModels, `${file}: runs[${i}]`);
    const o = runOnce(prepared, { strategy, model, seed: r.seed, decisions: r.decisions ?? [], trace: !opts.json, judge: { rulesFail: opts.rulesFail } });
    verdicts.push(o.verdict);
    const matches = r.expect ? sameExpectation(r.expect, expectationOf(o.verdict)) : undefined;
    if (opts.json) {
      json.push({ ...runJson(o.run, o.verdict), expected: r.expect ?? null, matchesExpectation: matches ?? null });
    } else {
      const title = `xmcfuzz repro ${file}  [run ${i + 1}/${runs.length}]`;
      process.stdout.write(formatReport(loaded.kase, o.run, o.verdict, title));
      if (r.expect) {
        process.stdout.write(`\nrecorded expectation: ${r.expect.verdict}${r.expect.signature ? ` (${r.expect.signature})` : ""}: ${matches ? "reproduced" : "CHANGED"}\n`);
      }
      process.stdout.write("\n");
    }
  }
  if (opts.json) process.stdout.write(JSON.stringify(json, null, 2) + "\n");
  process.exitCode = exitFor(verdicts);
}
