import { loadCaseFile } from "../case/load.js";
import { InputError } from "../errors.js";
import { writeOutputFile } from "../files/atomic.js";
import { prepare, runOnce } from "../differential.js";
import { describedFinding } from "../files/store.js";
import { litmusText } from "../report/litmus.js";
import { replayNamingDrift, selectRecordedRuns } from "./resolve.js";
import { withFile } from "./run.js";

interface ExportOptions {
  strategy?: string[];
  model?: string[];
  litmus: boolean;
  out?: string;
  rulesFail: boolean;
}

/** `export <crash> --litmus`: a short litmus-style text per recorded run, from a strict replay. */
export async function exportCommand(file: string, opts: ExportOptions): Promise<void> {
  if (!opts.litmus) throw new InputError("export: choose a format (--litmus)");
  const loaded = withFile(file, () => loadCaseFile(file));
  const runs = await selectRecordedRuns(loaded.kase.runs, opts, file);
  if (runs.length === 0) throw new InputError(`${file}: no recorded run to export${opts.strategy || opts.model ? " for the given strategy/model" : ""}`);
  const prepared = prepare(loaded.kase, loaded.soloBudget);
  const texts: string[] = [];
  const focus = describedFinding(loaded.kase);
  for (const { run: r, index, strategy, model } of runs) {
    const o = await replayNamingDrift(`${file}: runs[${index}]`, r, () =>
      runOnce(prepared, { strategy, model, seed: r.seed, decisions: r.decisions, trace: true, judge: { rulesFail: opts.rulesFail } }));
    const schedule = r.decisions ? `the recorded schedule, ${r.decisions.length} scheduler decisions` : `random schedule, seed ${r.seed}`;
    texts.push(litmusText(loaded.kase, o.run, o.verdict, schedule, focus));
  }
  const text = texts.join("\n");
  if (opts.out === undefined) {
    process.stdout.write(text);
    return;
  }
  try {
    writeOutputFile(opts.out, text);
  } catch (e) {
    throw new InputError(`${opts.out}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}
