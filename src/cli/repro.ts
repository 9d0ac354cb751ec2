import type { Verdict } from "../types.js";
import { loadCaseFile } from "../case/load.js";
import { InputError } from "../errors.js";
import { expectationOf, prepare, runOnce, sameExpectation } from "../differential.js";
import { runJson } from "../report/json.js";
import { formatReport } from "../report/text.js";
import { crashReportModel, type CrashReportModel } from "../report/html/crash-model.js";
import { crashReportHtml } from "../report/html/crash.js";
import { writeFileAtomic } from "../files/atomic.js";
import { exitFor } from "./exit.js";
import { selectRecordedRuns } from "./resolve.js";
import { withFile } from "./run.js";

interface ReproOptions {
  strategy?: string[];
  model?: string[];
  rulesFail: boolean;
  json: boolean;
  /** Also write the self-contained HTML report of the replayed runs here. */
  html?: string;
}

/** `repro`: strict replay of each recorded run (drift fails loudly), with the full report. */
export async function reproCommand(file: string, opts: ReproOptions): Promise<void> {
  const loaded = withFile(file, () => loadCaseFile(file));
  const runs = await selectRecordedRuns(loaded.kase.runs, opts, file);
  if (runs.length === 0) throw new InputError(`${file}: no recorded run to replay${opts.strategy || opts.model ? " for the given strategy/model" : ""}`);
  const prepared = prepare(loaded.kase, loaded.soloBudget);
  const verdicts: Verdict[] = [];
  const json: unknown[] = [];
  const pages: CrashReportModel[] = [];
  for (const [i, { run: r, strategy, model }] of runs.entries()) {
    const o = runOnce(prepared, { strategy, model, seed: r.seed, decisions: r.decisions ?? [], trace: !opts.json || opts.html !== undefined, judge: { rulesFail: opts.rulesFail } });
    verdicts.push(o.verdict);
    const title = `xmcfuzz repro ${file}  [run ${i + 1}/${runs.length}]`;
    if (opts.html !== undefined) pages.push(crashReportModel(loaded.kase, o.run, o.verdict, title));
    const matches = r.expect ? sameExpectation(r.expect, expectationOf(o.verdict)) : undefined;
    if (opts.json) {
      json.push({ ...runJson(o.run, o.verdict), expected: r.expect ?? null, matchesExpectation: matches ?? null });
    } else {
      process.stdout.write(formatReport(loaded.kase, o.run, o.verdict, title));
      if (r.expect) {
        process.stdout.write(`\nrecorded expectation: ${r.expect.verdict}${r.expect.signature ? ` (${r.expect.signature})` : ""}: ${matches ? "reproduced" : "CHANGED"}\n`);
      }
      process.stdout.write("\n");
    }
  }
  if (opts.json) process.stdout.write(JSON.stringify(json, null, 2) + "\n");
  if (opts.html !== undefined) writeHtml(opts.html, crashReportHtml(pages));
  process.exitCode = exitFor(verdicts);
}

function writeHtml(path: string, html: string): void {
  try {
    writeFileAtomic(path, html);
  } catch (e) {
    throw new InputError(`${path}: cannot write the HTML report (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}
