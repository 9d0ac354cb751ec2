import type { Decision, Verdict } from "../types.js";
import { loadCaseFile } from "../case/load.js";
import { writeCaseFile } from "../case/save.js";
import { InputError } from "../errors.js";
import { expectationOf } from "../differential.js";
import type { Size } from "../fuzz/minimize.js";
import { parseFindingName } from "../files/store.js";
import { ruleSignatures } from "../oracle/classify.js";
import { IsolatedCells } from "./cells.js";
import { EXIT } from "./exit.js";
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
 * `minimize`: shrinks the first divergent recorded run, keeping its signature; with none, a run
 * breaking a rule, keeping that rule finding's signature (the one a crash file is named after,
 * if a run shows it), as campaigns minimize rule findings after divergences.
 */
export async function minimizeCommand(file: string, opts: MinimizeOptions): Promise<void> {
  const loaded = withFile(file, () => loadCaseFile(file));
  const selected = await selectRecordedRuns(loaded.kase.runs, opts, file);
  const models = modelsOfRuns(selected);
  const named = parseFindingName(loaded.kase.description ?? "")?.signature;
  // The replays run in a worker thread: a strategy step that never yields is cut off (exit 3).
  const cells = new IsolatedCells(loaded.kase, opts.strategy ?? [], models, opts.stallTimeout);
  type Cell = { strategy: string; model: string; seed: number };
  const shrink = async (cell: Cell, decisions: readonly Decision[], signature: string): Promise<void> => {
    const c = await cells.run({ ...cell, mode: "minimize", decisions, signature, maxRuns: opts.maxRuns });
    if (c.kind === "timeout") return cutOff(c.verdict);
    const m = c.result;
    writeCaseFile(opts.out, { ...m.kase, name: `${loaded.kase.name}-min`, runs: [{ ...cell, decisions: m.decisions, expect: expectationOf(c.final.verdict) }] });
    if (opts.json) process.stdout.write(JSON.stringify({ signature, runs: m.runs, before: m.before, after: m.after, out: opts.out }, null, 2) + "\n");
    else process.stdout.write(`${signature}\n  before: ${sizeText(m.before)}\n  after:  ${sizeText(m.after)}  (${m.runs} replays)\n  wrote ${opts.out}\n`);
  };
  try {
    const rules: { cell: Cell; decisions: readonly Decision[]; signatures: string[] }[] = [];
    for (const { run: r, index, strategy, model } of selected) {
      const cell = { strategy: strategy.name, model: model.name, seed: r.seed };
      const replay = await replayNamingDrift(`${file}: runs[${index}]`, r, () => cells.run({ ...cell, mode: "once", decisions: r.decisions ?? [] }));
      if (replay.kind === "timeout") return cutOff(replay.verdict);
      const { verdict, decisions } = replay.outcome;
      if (verdict.signature) return await shrink(cell, decisions, verdict.signature);
      const signatures = ruleSignatures(verdict);
      if (signatures.length > 0) rules.push({ cell, decisions, signatures });
    }
    const rule = rules.find((x) => named !== undefined && x.signatures.includes(named)) ?? rules[0];
    if (rule) return await shrink(rule.cell, rule.decisions, named !== undefined && rule.signatures.includes(named) ? named : rule.signatures[0]!);
  } finally {
    cells.close();
  }
  throw new InputError(`${file}: no recorded run diverges or breaks a rule; nothing to minimize`);
}

function cutOff(verdict: Verdict): void {
  process.stderr.write(`xmcfuzz: ${verdict.harnessError}\n`);
  process.exitCode = EXIT.harnessError;
}
