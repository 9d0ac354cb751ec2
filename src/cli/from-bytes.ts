import { readInputFile } from "../files/read.js";
import type { Case } from "../types.js";
import { writeCaseFile } from "../case/save.js";
import { expectationOf, prepare, runOnce } from "../differential.js";
import { InputError } from "../errors.js";
import { caseFromBytes } from "../fuzz/bytes.js";
import { verdictJson } from "../report/json.js";
import { verdictLine } from "../report/text.js";
import { settleExit } from "./exit.js";

// `from-bytes`: a byte buffer (a jsfuzz crash file, or any entry of its corpus) as a case file
// holding the one run the buffer decodes to (its strategy, model and schedule seed), recorded
// with its decisions and verdict: repro, minimize, export and corpus add then take it like any
// crash file, and it keeps reproducing after the byte decoding changes (a strategy added to the
// built-ins moves every buffer's choice).

interface FromBytesOptions {
  readonly out: string;
  readonly json: boolean;
}

export function fromBytesCommand(file: string, opts: FromBytesOptions): void {
  let bytes: Uint8Array;
  try {
    bytes = readInputFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(`${file}: ${code === "ENOENT" ? "no such file" : `cannot read (${code ?? String(e)})`}`);
  }
  const { kase, soloBudget, strategy, model, seed } = caseFromBytes(bytes);
  const outcome = runOnce(prepare(kase, soloBudget), { strategy, model, seed });
  const recorded: Case = {
    ...kase, description: `decoded from the ${bytes.length}-byte buffer ${file} (xmcfuzz from-bytes)`,
    runs: [{ strategy: strategy.name, model: model.name, seed, decisions: outcome.decisions, expect: expectationOf(outcome.verdict) }],
  };
  writeCaseFile(opts.out, recorded);
  if (opts.json) process.stdout.write(`${JSON.stringify({ ...verdictJson(outcome.verdict), seed, decisions: outcome.decisions.length, out: opts.out }, null, 2)}\n`);
  else process.stdout.write(`${verdictLine(outcome.verdict)}  (seed ${seed}; written to ${opts.out})\n`);
  settleExit([outcome.verdict]);
}
