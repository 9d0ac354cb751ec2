import { existsSync, readdirSync, realpathSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Case, Model, Strategy } from "../types.js";
import { parseCase } from "../case/load.js";
import { caseToJson } from "../case/save.js";
import { expectationOf, prepare, runOnce, sameExpectation, type Outcome } from "../differential.js";
import { InputError } from "../errors.js";
import { readInputFile } from "../files/read.js";
import { NAMED_MODELS } from "../models/named.js";
import { BUILTIN_STRATEGIES } from "../strategies/registry.js";
import { IsolatedCells } from "./cells.js";
import { breach, EXIT } from "./exit.js";
import { breaksSelfCheck, selfCheckLine } from "../oracle/self-check.js";
import { modelsFrom, recordedPair, strategiesFrom } from "./resolve.js";

// `check-replay`: every recorded run of every case under the given paths (corpus/, crashes/,
// sync-directory corpus entries) replays bit-identically: twice in this thread and once in a
// worker thread, with the same decision count and the same observation, and its verdict still
// matches the one recorded with it.

/** A campaign's statistics, which a sync directory holds beside the cases: never a case. */
const CAMPAIGN_STATS = "stats.json";

interface CheckReplayOptions {
  strategy?: string[];
  model?: string[];
  timeout: number;
  json: boolean;
}

export interface ReplayProblem {
  readonly file: string;
  readonly run: number;
  readonly problem: string;
}

/**
 * The files to check, in a stable order: a file named is itself (whatever its name), a directory
 * its regular .json files, recursively, but for a campaign's `stats.json` (a sync directory holds
 * each node's), each directory once (a link back up is no loop). None at all is bad input: a CI
 * gate must not pass on nothing.
 */
export function caseFiles(paths: readonly string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const walk = (p: string, named: boolean) => {
    const st = statSync(p);
    if (st.isDirectory()) {
      const real = realpathSync(p);
      if (seen.has(real)) return;
      seen.add(real);
      for (const n of readdirSync(p).sort()) if (!n.startsWith(".") && n !== CAMPAIGN_STATS) walk(join(p, n), false);
    } else if (named || (st.isFile() && p.endsWith(".json"))) {
      out.push(p);
    }
  };
  for (const p of paths) {
    if (!existsSync(p)) throw new InputError(`${p}: no such file or directory`);
    walk(p, true);
  }
  if (out.length === 0) throw new InputError(`${paths.join(", ")}: no case file (.json) to check`);
  return out;
}

/** What must not change between replays: decisions, observations, verdict, final code. */
export function fingerprint(o: Outcome): string {
  const r = o.run;
  return JSON.stringify({
    decisions: o.decisions.length, events: r.events, observations: r.observations, rules: r.rules, hung: r.hung ?? null,
    wrongFinalCode: r.wrongFinalCode ?? null, harnessError: r.harnessError ?? null, finalCode: Buffer.from(r.finalCode).toString("hex"),
    verdict: { kind: o.verdict.kind, signature: o.verdict.signature ?? null, divergences: o.verdict.divergences },
  });
}

/** Whether a document is a sync-directory corpus entry; any JSON value may reach here (null, 5, [...]). */
function isCorpusEntry(json: unknown): json is { case?: unknown; bits: unknown } {
  return typeof json === "object" && json !== null && !Array.isArray(json) && "bits" in json;
}

/** A case file, or a sync-directory corpus entry (`{case, bits}`). */
function caseOf(file: string): Case {
  let json: unknown;
  try {
    json = JSON.parse(readInputFile(file, "utf8"));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(`${file}: ${code ? `cannot read (${code})` : `not valid JSON (${(e as Error).message.split("\n")[0]})`}`);
  }
  try {
    return parseCase(isCorpusEntry(json) ? json.case : json).kase;
  } catch (e) {
    throw e instanceof InputError ? new InputError(`${file}: ${e.message}`) : e;
  }
}

export async function checkReplay(
  paths: readonly string[], strategies: readonly Strategy[], models: readonly Model[], plugins: readonly string[], timeoutMs: number,
  onFile?: (file: string, runs: number, problems: readonly ReplayProblem[]) => void,
): Promise<{ files: number; runs: number; problems: ReplayProblem[] }> {
  const files = caseFiles(paths);
  const cells = new IsolatedCells(undefined, plugins, models, timeoutMs);
  const problems: ReplayProblem[] = [];
  let runs = 0;
  try {
    for (const file of files) {
      const mine: ReplayProblem[] = [];
      const note = (run: number, problem: string) => mine.push({ file, run, problem });
      let kase: Case;
      try {
        kase = caseOf(file);
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
        note(-1, `does not load: ${e.message}`);
        problems.push(...mine);
        onFile?.(file, 0, mine);
        continue;
      }
      const loaded = parseCase(caseToJson(kase));
      const prepared = prepare(loaded.kase, loaded.soloBudget);
      const caseJson = JSON.stringify(caseToJson(kase));
      for (const [i, run] of kase.runs.entries()) {
        runs++;
        const [strategy, model] = recordedPair(run, strategies, models, `${file}: runs[${i}]`);
        const spec = { strategy, model, seed: run.seed, decisions: run.decisions };
        let first: Outcome, second: Outcome;
        try {
          first = runOnce(prepared, spec);
          second = runOnce(prepare(loaded.kase, loaded.soloBudget), spec);
        } catch (e) {
          note(i, `${strategy.name} x ${model.name}: ${e instanceof Error ? e.message : String(e)}`);
          continue;
        }
        const a = fingerprint(first);
        if (fingerprint(second) !== a) note(i, `${strategy.name} x ${model.name}: a second replay differs`);
        const w = await cells.run({ caseJson, strategy: strategy.name, model: model.name, mode: "once", seed: run.seed, decisions: run.decisions })
          .catch((e: unknown) => ({ kind: "error" as const, message: e instanceof Error ? e.message : String(e) }));
        if (w.kind === "timeout") note(i, `${strategy.name} x ${model.name}: the worker-thread replay ran past ${timeoutMs} ms`);
        else if (w.kind === "error") note(i, `${strategy.name} x ${model.name}: worker-thread replay: ${w.message}`);
        else if (fingerprint(w.outcome) !== a) note(i, `${strategy.name} x ${model.name}: the worker-thread replay differs`);
        if (breaksSelfCheck(first.verdict)) note(i, selfCheckLine(model.name, breach(first.verdict)));
        if (run.expect && !sameExpectation(run.expect, expectationOf(first.verdict))) {
          note(i, `${strategy.name} x ${model.name}: recorded ${run.expect.verdict}${run.expect.signature ? ` (${run.expect.signature})` : ""}, replayed ${first.verdict.kind}${first.verdict.signature ? ` (${first.verdict.signature})` : ""}`);
        }
      }
      problems.push(...mine);
      onFile?.(file, kase.runs.length, mine);
    }
  } finally {
    cells.close();
  }
  return { files: files.length, runs, problems };
}

/** The command: one line per file with a problem (or per file with --json), a summary; exit 1 on any problem. */
export async function checkReplayCommand(paths: string[], opts: CheckReplayOptions): Promise<void> {
  const given = opts.strategy ? await strategiesFrom(opts.strategy) : [];
  const givenModels = opts.model ? modelsFrom(opts.model) : [];
  const strategies = [...given, ...BUILTIN_STRATEGIES];
  const models = [...givenModels, ...NAMED_MODELS];
  const result = await checkReplay(paths, strategies, models, opts.strategy ?? [], opts.timeout, (file, runs, problems) => {
    if (opts.json) return;
    for (const p of problems) process.stdout.write(`${file}${p.run >= 0 ? ` runs[${p.run}]` : ""}: ${p.problem}\n`);
    if (problems.length === 0 && runs === 0) process.stdout.write(`${file}: no recorded run\n`);
  });
  // A CI gate must not pass on nothing: files that hold no recorded run are no check.
  if (result.runs === 0 && result.problems.length === 0) throw new InputError(`${paths.join(", ")}: no recorded run to check`);
  if (opts.json) process.stdout.write(JSON.stringify(result, null, 2) + "\n");
  else process.stdout.write(`check-replay: ${result.files} files, ${result.runs} recorded runs, ${result.problems.length === 0 ? "all replay identically (twice here, once in a worker thread)" : `${result.problems.length} problems`}\n`);
  process.exitCode = result.problems.length === 0 ? EXIT.clean : EXIT.divergence;
}
