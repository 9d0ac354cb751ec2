// The loader's checks on a mutant (SPEC 9) without the JSON round trip and the schema: a mutant
// that keeps its checked parent's slots can break only what mutation changes.
import type { Case, PatchOp, Program } from "../types.js";
import { MAX_CORES, MIN_CORES } from "../types.js";
import { caseOf, checkOldMatches, opTarget, patchOp } from "./build.js";
import { checkFlow } from "./flow.js";
import { parseCaseShape } from "./load.js";
import { caseToJson } from "./save.js";

/**
 * parseCaseShape(caseToJson(mutant)), for a mutant of `parent` (a case that passed those checks):
 * the same CaseError, or a case equal to the mutant. A mutant that keeps the parent's slots and
 * frame is checked where it differs (new code bytes); any other is loaded.
 */
export function checkMutantShape(parent: Case, mutant: Case): Case {
  if (!keepsFrame(parent, mutant)) return parseCaseShape(caseToJson(mutant));
  if (mutant.program.code !== parent.program.code) checkNewCode(mutant.program);
  return loaderShaped(mutant);
}

/** The mutant as the loader's constructors would build it (mutators build ops and cases by spreading). */
function loaderShaped(mutant: Case): Case {
  const ops = mutant.ops.map((op) => patchOp(op.targets.map((t) => opTarget(t.slot, t.to)), op.batch, op.monotonic));
  return caseOf(mutant, mutant.program, ops, []);
}

/**
 * What the loader checks apart from code bytes, on a mutant that keeps its parent's slots: the
 * parent's name, region and no runs; program cores started at the parent's entries (inside its
 * region, outside its slots); and ops the loader can read back.
 */
function keepsFrame(parent: Case, mutant: Case): boolean {
  const p = parent.program, m = mutant.program;
  return m.slots === p.slots && m.base === p.base && m.code.length === p.code.length &&
    mutant.name === parent.name && mutant.description === parent.description && mutant.runs.length === 0 &&
    mutant.cores === m.entries.length + 1 && mutant.cores >= MIN_CORES && mutant.cores <= MAX_CORES &&
    m.entries.every((e) => p.entries.includes(e)) &&
    mutant.ops.every((op) => readableOp(op, m.slots.length));
}

/** At least one target, each a distinct slot of the case. */
function readableOp(op: PatchOp, slots: number): boolean {
  return op.targets.length > 0 && op.targets.every((t, i) =>
    Number.isInteger(t.slot) && t.slot >= 0 && t.slot < slots && op.targets.findIndex((u) => u.slot === t.slot) === i);
}

/** Changed code must still hold each slot's old version, and its control flow respect the slots. */
function checkNewCode(program: Program): void {
  const { base, code, slots } = program;
  slots.forEach((s, k) => checkOldMatches(k, s.old, code.subarray(s.start - base, s.start - base + s.len)));
  // caseToJson writes the hex form, so the loader names a slot's new version `newHex`.
  checkFlow(program, (k, v) => `slots[${k}].${v === "new" ? "newHex" : "old"}`);
}
