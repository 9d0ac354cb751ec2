import type { Verdict } from "../types.js";
import { loadCaseFile } from "../case/load.js";
import { InputError } from "../errors.js";
import { expectationOf, sameExpectation } from "../differential.js";
import { IsolatedCells } from "./cells.js";
import { runJson } from "../report/json.js";
import { formatReport } from "../report/text.js";
import { crashReportModel, type CrashReportModel } from "../report/html/crash-model.js";
import { crashReportHtml } from "../report/html/crash.js";
import { writeOutputFile } from "../files/atomic.js";
import { describedFinding } from "../files/store.js";
import { settleExit } from "./exit.js";
import { modelsOfRuns, replayNamingDrift, selectRecordedRuns } from "./resolve.js";
import { withFile } from "./run.js";

interface ReproOptions {
  strategy?: string[];
  model?: string[];
  rulesFail: boolean;
  /** Wall budget of one recorded run's replay, in ms. */
  timeout: number;
  json: boolean;
  /** Also write the self-contained HTML report of the replayed runs here. */
  html?: string;
}

/** `repro`: strict replay of each recorded run (drift fails loudly), with the full report. */
export async function reproCommand(file: string, opts: ReproOptions): Promise<void> {
  const loaded = withFile(file, () => loadCaseFile(file));
  const runs = await selectRecordedRuns(loaded.kase.runs, opts, file);
  if (runs.length === 0) throw new InputError(`${file}: no recorded run to replay${opts.strategy || opts.model ? " for the given strategy/model" : ""}`);
  const models = modelsOfRuns(runs);
  const cells = new IsolatedCells(loaded.kase, opts.strategy ?? [], models, opts.timeout);
  const verdicts: Verdict[] = [];
  const json: unknown[] = [];
  const pages: CrashReportModel[] = [];
  try {
    // A crash file's report shows in full the divergence it is named after (another core's may come first).
    const focus = describedFinding(loaded.kase);
    for (const [i, { run: r, index, strategy, model }] of runs.entries()) {
      const title = `xmcfuzz repro ${file}  [run ${i + 1}/${runs.length}]`;
      const c = await replayNamingDrift(`${file}: runs[${index}]`, r, () => cells.run({
        strategy: strategy.name, model: model.name, mode: "once", seed: r.seed, decisions: r.decisions, trace: !opts.json || opts.html !== undefined, judge: { rulesFail: opts.rulesFail },
      }));
      if (c.kind === "timeout") {
        // No run to report: the cell was cut off.
        verdicts.push(c.verdict);
        if (opts.json) json.push({ verdict: "harness-error", strategy: strategy.name, model: model.name, harnessError: c.verdict.harnessError, expected: r.expect ?? null, matchesExpectation: null });
        else process.stdout.write(`${title}\nHARNESS ERROR: ${c.verdict.harnessError}\n\n`);
        continue;
      }
      const o = c.outcome;
      verdicts.push(o.verdict);
      if (opts.html !== undefined) pages.push(crashReportModel(loaded.kase, o.run, o.verdict, title, focus));
      const matches = r.expect ? sameExpectation(r.expect, expectationOf(o.verdict)) : undefined;
      if (opts.json) {
        json.push({ ...runJson(o.run, o.verdict), expected: r.expect ?? null, matchesExpectation: matches ?? null });
      } else {
        process.stdout.write(formatReport(loaded.kase, o.run, o.verdict, title, focus));
        if (r.expect) {
          process.stdout.write(`\nrecorded expectation: ${r.expect.verdict}${r.expect.signature ? ` (${r.expect.signature})` : ""}: ${matches ? "reproduced" : "CHANGED"}\n`);
        }
        process.stdout.write("\n");
      }
    }
  } finally {
    cells.close();
  }
  if (opts.json) process.stdout.write(JSON.stringify(json, null, 2) + "\n");
  if (opts.html !== undefined) writeHtml(opts.html, crashReportHtml(pages));
  settleExit(verdicts);
}

function writeHtml(path: string, html: string): void {
  try {
    writeOutputFile(path, html);
  } catch (e) {
    throw new InputError(`${path}: cannot write the HTML report (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}
