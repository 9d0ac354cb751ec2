import type { Verdict } from "../types.js";
import { loadCaseFile } from "../case/load.js";
import { writeCaseFile } from "../case/save.js";
import { InputError } from "../errors.js";
import { expectationOf, type Outcome } from "../differential.js";
import type { Size } from "../fuzz/minimize.js";
import { describedFinding, findingName } from "../files/store.js";
import { pickFinding, showsSignature } from "../oracle/classify.js";
import { DriftError } from "../schedule/choosers.js";
import { IsolatedCells } from "./cells.js";
import { EXIT, reportSelfCheck } from "./exit.js";
import { modelsOfRuns, replayNamingDrift, selectRecordedRuns } from "./resolve.js";
import { withFile } from "./run.js";

interface MinimizeOptions {
  out: string;
  strategy?: string[];
  model?: string[];
  maxRuns: number;
  /** A replay or minimization with no progress this long (a step that never yields) is a harness error. */
  stallTimeout: number;
  json: boolean;
}

const sizeText = (s: Size) => `${s.cores} cores, ${s.ops} ops (${s.targets} slot patches), ${s.slots} slots, ${s.instructions} instructions, ${s.decisions} decisions, ${s.codeBytes} code bytes`;

/**
 * `minimize`: shrinks a recorded run, keeping one of its findings' signature: the one a crash
 * file is named after, else the first divergence, else the first rule finding (pickFinding).
 */
export async function minimizeCommand(file: string, opts: MinimizeOptions): Promise<void> {
  const loaded = withFile(file, () => loadCaseFile(file));
  const selected = await selectRecordedRuns(loaded.kase.runs, opts, file);
  const models = modelsOfRuns(selected);
  // The replays run in a worker thread: a strategy step that never yields is cut off (exit 3).
  const cells = new IsolatedCells(loaded.kase, opts.strategy ?? [], models, opts.stallTimeout);
  const named = describedFinding(loaded.kase);
  try {
    const replayed: { cell: { strategy: string; model: string; seed: number }; outcome: Outcome }[] = [];
    for (const { run: r, index, strategy, model } of selected) {
      const cell = { strategy: strategy.name, model: model.name, seed: r.seed };
      let replay;
      try {
        replay = await replayNamingDrift(`${file}: runs[${index}]`, r, () => cells.run({ ...cell, mode: "once", decisions: r.decisions }));
      } catch (e) {
        // Looking past a divergent run for the named finding: a run that drifts ends the search.
        if (e instanceof DriftError && pickFinding(replayed.map((x) => x.outcome.verdict), undefined)) break;
        throw e;
      }
      if (replay.kind === "timeout") return cutOff(replay.verdict);
      replayed.push({ cell, outcome: replay.outcome });
      // Replays stop at the run to minimize: a later run that drifts must not stop this one.
      const v = replay.outcome.verdict;
      if (named !== undefined ? showsSignature(v, named) : v.signature !== undefined) break;
    }
    const pick = pickFinding(replayed.map((x) => x.outcome.verdict), named);
    if (!pick) throw new InputError(`${file}: no recorded run diverges or breaks a rule; nothing to minimize`);
    const { cell, outcome } = replayed[pick.run]!, signature = pick.signature;
    const c = await cells.run({ ...cell, mode: "minimize", decisions: outcome.decisions, signature, maxRuns: opts.maxRuns });
    if (c.kind === "timeout") return cutOff(c.verdict);
    const m = c.result;
    // Described by the finding kept (as a crash file is): the run may show it as a secondary
    // divergence, or as a rule finding of a run that now diverges; repro, minimize again and
    // corpus add then work on that finding, not the run's first divergence.
    writeCaseFile(opts.out, {
      ...m.kase, name: `${loaded.kase.name}-min`, description: findingName(pick),
      runs: [{ ...cell, decisions: m.decisions, expect: expectationOf(c.final.verdict) }],
    });
    if (opts.json) process.stdout.write(JSON.stringify({ signature, runs: m.runs, before: m.before, after: m.after, out: opts.out }, null, 2) + "\n");
    else process.stdout.write(`${signature}\n  before: ${sizeText(m.before)}\n  after:  ${sizeText(m.after)}  (${m.runs} replays)\n  wrote ${opts.out}\n`);
    // A smaller reproducer of a stop_machine divergence helps fix the tool; it is no finding (SPEC 6.6).
    if (reportSelfCheck([...replayed.map((x) => x.outcome.verdict), c.final.verdict])) process.exitCode = EXIT.harnessError;
  } finally {
    cells.close();
  }
}

function cutOff(verdict: Verdict): void {
  process.stderr.write(`xmcfuzz: ${verdict.harnessError}\n`);
  process.exitCode = EXIT.harnessError;
}
