import { loadCaseFile } from "../case/load.js";
import { writeCaseFile } from "../case/save.js";
import { InputError } from "../errors.js";
import { expectationOf, prepare, runOnce } from "../differential.js";
import { minimize, type Size } from "../fuzz/minimize.js";
import { selectRecordedRuns } from "./resolve.js";
import { withFile } from "./run.js";

interface MinimizeOptions {
  out: string;
  strategy?: string[];
  model?: string[];
  maxRuns: number;
  json: boolean;
}

const sizeText = (s: Size) => `${s.cores} cores, ${s.ops} ops, ${s.slots} slots, ${s.instructions} instructions, ${s.decisions} decisions`;

/** `minimize`: shrinks the first divergent recorded run, keeping its signature. */
export async function minimizeCommand(file: string, opts: MinimizeOptions): Promise<void> {
  const loaded = withFile(file, () => loadCaseFile(file));
  const prepared = prepare(loaded.kase, loaded.soloBudget);
  for (const { run: r, strategy, model } of await selectRecordedRuns(loaded.kase.runs, opts, file)) {
    const replay = runOnce(prepared, { strategy, model, seed: r.seed, decisions: r.decisions ?? [] });
    const signature = replay.verdict.signature;
    if (!signature) continue;
    const m = minimize(loaded.kase, strategy, model, replay.decisions, signature, { seed: r.seed, maxRuns: opts.maxRuns });
    const final = runOnce(prepare(m.kase, m.soloBudget), { strategy, model, decisions: m.decisions });
    writeCaseFile(opts.out, { ...m.kase, name: `${loaded.kase.name}-min`, runs: [{ strategy: strategy.name, model: model.name, seed: r.seed, decisions: m.decisions, expect: expectationOf(final.verdict) }] });
    if (opts.json) process.stdout.write(JSON.stringify({ signature, runs: m.runs, before: m.before, after: m.after, out: opts.out }, null, 2) + "\n");
    else process.stdout.write(`${signature}\n  before: ${sizeText(m.before)}\n  after:  ${sizeText(m.after)}  (${m.runs} replays)\n  wrote ${opts.out}\n`);
    return;
  }
  throw new InputError(`${file}: no recorded run diverges; nothing to minimize`);
}
