// Writing cases in the canonical hex form: explicit about everything the loader would default,
// so a saved case (a crash reproducer, a corpus entry) means the same thing to every version.
import type { Case, RecordedRun } from "../types.js";
import { hex } from "../isa/disasm.js";
import { formatDecisions } from "../schedule/choosers.js";
import { CASE_VERSION } from "./schema.js";
import { writeOutputFile } from "../files/atomic.js";

export function caseToJson(kase: Case): object {
  const { program } = kase;
  return {
    xmcfuzz: "case",
    version: CASE_VERSION,
    name: kase.name,
    ...(kase.description !== undefined ? { description: kase.description } : {}),
    cores: kase.cores,
    code: { base: program.base, hex: hex(program.code) },
    entries: [...program.entries],
    slots: program.slots.map((s) => ({
      name: s.name, start: s.start, len: s.len, old: hex(s.old), newHex: hex(s.new),
      kind: s.kind, bpResume: s.bpResume,
    })),
    ops: kase.ops.map((op) => ({
      slots: op.targets.map((t) => ({ slot: program.slots[t.slot]!.name, to: t.to })),
      batch: op.batch,
      monotonic: op.monotonic,
    })),
    runs: kase.runs.map(recordedRunJson),
  };
}

/** A recorded run as stored in case files (decisions as "chosen/options" tokens). */
export function recordedRunJson(r: RecordedRun): object {
  return {
    strategy: r.strategy, model: r.model, seed: r.seed,
    ...(r.decisions !== undefined ? { decisions: formatDecisions(r.decisions) } : {}),
    ...(r.expect !== undefined
      ? {
        expect: {
          verdict: r.expect.verdict,
          ...(r.expect.signature !== undefined ? { signature: r.expect.signature } : {}),
          rules: [...r.expect.rules],
        },
      }
      : {}),
  };
}

/** Writes the case as pretty JSON; a crash mid-write never leaves a truncated case behind. */
export function writeCaseFile(path: string, kase: Case): void {
  writeOutputFile(path, JSON.stringify(caseToJson(kase), null, 2) + "\n");
}
