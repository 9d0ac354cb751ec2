// Writing cases in the canonical hex form: explicit about everything the loader would default,
// so a saved case (a crash reproducer, a corpus entry) means the same thing to every version.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import type { Case } from "../types.js";
import { hex } from "../isa/disasm.js";
import { formatDecisions } from "../schedule/choosers.js";
import { CASE_VERSION } from "./schema.js";

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
    runs: kase.runs.map((r) => ({
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
    })),
  };
}

/** Writes the case as pretty JSON; a crash mid-write never leaves a truncated case behind. */
export function writeCaseFile(path: string, kase: Case): void {
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  const text = JSON.stringify(caseToJson(kase), null, 2) + "\n";
  const fd = openSync(tmp, "w");
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
