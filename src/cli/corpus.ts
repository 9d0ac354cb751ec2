import type { Model, RecordedRun, Strategy } from "../types.js";
import { loadCaseFile } from "../case/load.js";
import { changeLines } from "../corpus/compare.js";
import { promote } from "../corpus/promote.js";
import { regressCase } from "../corpus/regress.js";
import { InputError } from "../errors.js";
import { pickFinding } from "../oracle/classify.js";
import { describedFinding } from "../files/store.js";
import { selectRecordedRuns } from "./resolve.js";
import { withFile } from "./run.js";
import { EXIT, reportSelfCheck } from "./exit.js";

export interface CorpusAddOptions {
  corpus: string;
  strategy?: string[];
  model?: string[];
  json: boolean;
}

/**
 * `corpus add <crash>`: checks that every recorded run of the crash file still reproduces its
 * recorded verdict (a run without one gets it recorded), then copies the case into the corpus
 * under a name read from its signature.
 */
export async function corpusAddCommand(file: string, opts: CorpusAddOptions): Promise<void> {
  const loaded = withFile(file, () => loadCaseFile(file));
  const selected = await selectRecordedRuns(loaded.kase.runs, { strategy: opts.strategy, model: opts.model }, file);
  if (selected.length === 0) throw new InputError(`${file}: no recorded run to promote (a corpus case needs a recorded schedule as its expectation)`);
  const pairs = new Map<number, readonly [Strategy, Model]>(selected.map((x) => [x.index, [x.strategy, x.model]]));
  const { checks, verdicts } = regressCase(file, loaded, (_run, i) => pairs.get(i));
  const broken = checks.find((c) => c.changes.some((k) => k !== "no-expectation"));
  if (broken) throw new InputError(`${file}: does not reproduce its recorded run: ${changeLines(broken).find((l) => !l.includes("no expectation recorded"))!.slice(file.length + 1).trim()}`);
  // No run drifted and every recorded expectation held: a run without one gets its replay's.
  const runs: RecordedRun[] = checks.map((c) => {
    const run = loaded.kase.runs[c.index]!;
    return c.changes.length > 0 ? { ...run, expect: c.actual! } : run;
  });
  // A stop_machine run that diverges is a bug of the tool's, never a regression expectation (SPEC 6.6).
  if (reportSelfCheck(verdicts)) {
    process.stderr.write(`xmcfuzz: ${file}: not added to the corpus\n`);
    process.exitCode = EXIT.harnessError;
    return;
  }
  const kase = { ...loaded.kase, runs };
  // A case no run of which finds anything (a clean regression case) is named after itself.
  const finding = pickFinding(verdicts.map((v) => v!), describedFinding(kase));
  const signature = finding?.signature ?? kase.name;
  const p = promote(kase, finding, opts.corpus, { replace: false });
  if (opts.json) process.stdout.write(JSON.stringify({ ...p, signature, runs: runs.length }, null, 2) + "\n");
  else process.stdout.write(p.status === "known" ? `already in the corpus: ${p.path}\n` : `added ${p.path} (${runs.length} recorded run${runs.length === 1 ? "" : "s"}; ${signature})\n`);
}
