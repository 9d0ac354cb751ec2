import { basename } from "node:path";
import type { FindingFile, Model, RecordedRun, RegressCheck, Strategy, Verdict } from "../types.js";
import { loadCaseFile } from "../case/load.js";
import { changeLines } from "../corpus/compare.js";
import { corpusFiles, rewriteRecordedRuns } from "../corpus/files.js";
import { InputError } from "../errors.js";
import { findingName } from "../files/store.js";
import { pickFinding } from "../oracle/classify.js";
import { regressCase, rerecord, summarize } from "../corpus/regress.js";
import { regressRow, regressSummaryLine, regressTable, type RegressRow } from "../report/regress.js";
import { EXIT, reportSelfCheck } from "./exit.js";
import { breaksSelfCheck, selfCheckLine } from "../oracle/self-check.js";
import { selectRecordedRuns } from "./resolve.js";
import { withFile } from "./run.js";

export interface RegressOptions {
  strategy?: string[];
  model?: string[];
  update: boolean;
  json: boolean;
}

/** A case's description naming a finding, or saying it names none. */
function describedAs(finding: Pick<FindingFile, "kind" | "signature"> | undefined): string {
  return finding ? findingName(finding) : "no finding";
}

/**
 * `regress [dir]`: replays every recorded run of every corpus case and compares it with its stored
 * expectation. Exit 1 on any change (3 when a change is a harness error); `--update` rewrites the
 * expectations of changed runs instead, prints what changed, and exits 0.
 */
export async function regressCommand(path: string | undefined, opts: RegressOptions): Promise<void> {
  const files = corpusFiles(path ?? "corpus");
  // A CI gate must not pass on nothing (a corpus moved, a directory emptied).
  if (files.length === 0) throw new InputError(`${path ?? "corpus"}: no case file (.json) to replay`);
  const rows: RegressRow[] = [];
  const all: RegressCheck[] = [];
  const replayed: (Verdict | undefined)[] = [];
  /** Self-check breaches --update found and did not write; the runs it did write. */
  const unrecorded: string[] = [];
  let written = 0;
  const updated: string[] = [];
  for (const file of files) {
    const loaded = withFile(file, () => loadCaseFile(file));
    const selected = await selectRecordedRuns(loaded.kase.runs, opts, file);
    const pairs = new Map<number, readonly [Strategy, Model]>(selected.map((x) => [x.index, [x.strategy, x.model]]));
    const { prepared, checks, verdicts } = regressCase(file, loaded, (_run, i) => pairs.get(i));
    rows.push(regressRow(basename(file), checks));
    all.push(...checks);
    replayed.push(...verdicts);
    if (opts.update) {
      const updates = new Map<number, RecordedRun>();
      for (const c of checks.filter((x) => x.changes.length > 0)) {
        const [strategy, model] = pairs.get(c.index)!;
        const run = rerecord(prepared, loaded.kase.runs[c.index]!, strategy, model);
        // A stop_machine run that diverges is a bug of the tool's (SPEC 6.6), never an expectation.
        if (breaksSelfCheck({ strategy: strategy.name, kind: run.expect!.verdict, rules: run.expect!.rules })) {
          unrecorded.push(`${file}: runs[${c.index}] not updated: ${selfCheckLine(model.name, `it now records ${run.expect!.signature ?? `${run.expect!.verdict} with rules ${run.expect!.rules.join(", ")}`}`)}`);
          continue;
        }
        updates.set(c.index, run);
        const redone = c.drift ? ` (re-recorded by a schedule search from seed ${loaded.kase.runs[c.index]!.seed}: seed ${run.seed}, ${run.decisions?.length ?? 0} decisions, now ${run.expect!.verdict}${run.expect!.signature ? ` ${run.expect!.signature}` : ""})` : "";
        updated.push(...changeLines(c).map((l) => `updated ${l}${redone}`));
      }
      // A vanished named finding: the case is named after what its runs show now.
      const renamed = checks.some((c) => c.changes.includes("vanished-finding"))
        ? describedAs(pickFinding(verdicts.filter((v) => v !== undefined), undefined)) : undefined;
      if (updates.size > 0 || renamed !== undefined) rewriteRecordedRuns(file, updates, renamed);
      written += updates.size;
    }
  }
  // Nor on cases holding no recorded run (of the runs selected).
  if (all.length === 0) throw new InputError(`${path ?? "corpus"}: no recorded run to replay${opts.strategy || opts.model ? " (of the strategies and models selected)" : ""}`);
  const summary = summarize(files.length, all);
  if (opts.json) {
    process.stdout.write(JSON.stringify({ ...summary, updated: written, checks: all }, null, 2) + "\n");
  } else {
    process.stdout.write(regressTable(rows));
    process.stdout.write("\n");
    if (opts.update) for (const l of updated) process.stdout.write(`${l}\n`);
    else for (const c of all) for (const l of changeLines(c)) process.stdout.write(`CHANGED ${l}\n`);
    process.stdout.write(opts.update && summary.changed > 0 ? `regress: updated ${written} recorded runs${unrecorded.length > 0 ? ` (${unrecorded.length} left as they were: see stderr)` : ""}\n` : regressSummaryLine(summary));
  }
  // A stop_machine run that diverges is a bug of the tool's even where a case expects it (SPEC 6.6).
  for (const line of unrecorded) process.stderr.write(`xmcfuzz: ${line}\n`);
  if (reportSelfCheck(replayed) || unrecorded.length > 0) process.exitCode = EXIT.harnessError;
  else if (opts.update || summary.changed === 0) return;
  else {
    const harness = all.some((c) => c.changes.length > 0 && c.actual?.verdict === "harness-error");
    process.exitCode = harness ? EXIT.harnessError : EXIT.divergence;
  }
}
