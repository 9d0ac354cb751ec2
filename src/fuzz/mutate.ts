import type { Case, Instr, PatchOp, Slot } from "../types.js";
import { assembleStmts } from "../isa/asm.js";
import { decode, isBranch } from "../isa/decode.js";
import { defaultKind } from "../case/kind.js";
import { fill, filler, type Rng } from "./generate.js";
import { insertItem, layout, lift, type Lifted } from "./relocate.js";

// Mutators on the typed case (SPEC 9): ops, core count, slots (their versions), instructions
// (immediates, deletion, insertion). Each returns a new case or undefined when it does not apply;
// the caller validates the result with the loader's checks. The model and the schedule are the
// engine's to vary per run (it splices a parent's recorded decisions: engine.ts).

type Mutator = (rng: Rng, k: Case) => Case | undefined;

const int = (rng: Rng, lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));

function withOps(k: Case, ops: PatchOp[]): Case {
  return { ...k, ops, runs: [] };
}

const flipTarget: Mutator = (rng, k) => {
  const j = int(rng, 0, k.ops.length - 1);
  const op = k.ops[j]!;
  const t = int(rng, 0, op.targets.length - 1);
  const targets = op.targets.map((x, i) => (i === t ? { ...x, to: x.to === "new" ? "old" as const : "new" as const } : x));
  return withOps(k, k.ops.map((o, i) => (i === j ? { ...o, targets } : o)));
};

const toggleBatch: Mutator = (rng, k) => {
  const j = int(rng, 0, k.ops.length - 1);
  return withOps(k, k.ops.map((o, i) => (i !== j ? o : rng() < 0.5
    ? { ...o, batch: o.batch === "atomic" ? "per-site" as const : "atomic" as const }
    : { ...o, monotonic: !o.monotonic })));
};

const dropOp: Mutator = (rng, k) => {
  if (k.ops.length < 2) return undefined;
  const j = int(rng, 0, k.ops.length - 1);
  return withOps(k, k.ops.filter((_, i) => i !== j));
};

/** Appends an op that reverts some slots (ftrace-style on/off). */
const addRevert: Mutator = (rng, k) => {
  if (k.ops.length >= 4) return undefined;
  const last = k.ops[int(rng, 0, k.ops.length - 1)]!;
  const targets = last.targets.map((t) => ({ slot: t.slot, to: t.to === "new" ? "old" as const : "new" as const }));
  return withOps(k, [...k.ops, { targets, batch: last.batch, monotonic: last.monotonic }]);
};

const changeCores: Mutator = (rng, k) => {
  const entries = [...k.program.entries];
  if (rng() < 0.5 && entries.length > 1) entries.splice(int(rng, 0, entries.length - 1), 1);
  else if (entries.length < 7) entries.push(entries[int(rng, 0, entries.length - 1)]!);
  else return undefined;
  return { ...k, cores: entries.length + 1, program: { ...k.program, entries }, runs: [] };
};

/** Rewrites an immediate operand outside the slots (loop counts stay small so programs terminate). */
const changeImmediate: Mutator = (rng, k) => {
  const { base, code, slots } = k.program;
  const sites: number[] = [];
  for (let off = 0; off < code.length;) {
    const slot = slots.find((s) => s.start - base === off);
    if (slot) {
      off += slot.len;
      continue;
    }
    const d = decode(code, off, code.length);
    if ("incomplete" in d) break;
    if (d.op === "movr8" || d.op === "movr32" || d.op === "add" || d.op === "cmp") sites.push(off);
    off += d.len;
  }
  if (sites.length === 0) return undefined;
  const off = sites[int(rng, 0, sites.length - 1)]!;
  const d = decode(code, off, code.length) as { op: string; reg: number; len: number };
  const bytes = code.slice();
  if (d.op === "movr32" && d.reg === 1) bytes[off + 1] = int(rng, 1, 8); // mov ecx: a loop count
  else if (d.op === "movr32") bytes[off + 1 + int(rng, 0, 3)] = int(rng, 0, 255);
  else bytes[off + d.len - 1] = int(rng, 0, 255);
  return { ...k, program: { ...k.program, code: bytes }, runs: [] };
};

function withSlot(k: Case, i: number, slot: Slot, code = k.program.code): Case {
  return { ...k, program: { ...k.program, code, slots: k.program.slots.map((s, j) => (j === i ? slot : s)) }, runs: [] };
}

/** A changed slot's kind: generated rewrites keep their shared per-length kind (signatures dedupe on it). */
function kindAfter(s: Slot, old: Uint8Array, neu: Uint8Array): string {
  return s.kind?.startsWith("rewrite") ? s.kind : defaultKind(old, neu);
}

/** Swaps a slot's versions: the code starts with its new bytes and the ops patch the old ones in. */
const swapVersions: Mutator = (rng, k) => {
  const { slots, base } = k.program;
  if (slots.length === 0) return undefined;
  const i = int(rng, 0, slots.length - 1), s = slots[i]!;
  const code = k.program.code.slice();
  code.set(s.new, s.start - base);
  return withSlot(k, i, { ...s, old: s.new, new: s.old, kind: kindAfter(s, s.new, s.old) }, code);
};

/** Rewrites a slot's new version: random straight-line code of its length, or one byte changed. */
const rewriteSlot: Mutator = (rng, k) => {
  const { slots } = k.program;
  if (slots.length === 0) return undefined;
  const i = int(rng, 0, slots.length - 1), s = slots[i]!;
  if (rng() < 0.5) return withSlot(k, i, { ...s, new: assembleStmts(fill(rng, s.len), s.start).bytes, kind: `rewrite${s.len}` });
  const neu = s.new.slice();
  neu[int(rng, 0, s.len - 1)] = int(rng, 0, 255);
  return withSlot(k, i, { ...s, new: neu, kind: kindAfter(s, s.old, neu) });
};

/**
 * Items of straight-line instructions outside the slots that leave the loop counter alone:
 * deleting a branch, a ret or a `dec ecx` mostly makes a program that no longer terminates, which
 * the loader then rejects only after a million solo steps.
 */
function straightLineItems(l: Lifted): number[] {
  const out: number[] = [];
  l.items.forEach((it, i) => {
    if (it.kind !== "ins") return;
    const { op, reg } = it.ins as Instr & { reg?: number };
    if (isBranch(op) || op === "ret" || op === "hlt" || op === "ud" || op === "ud2" || op === "int3") return;
    if ((op === "dec" || op === "inc" || op === "movr32") && reg === 1) return;
    out.push(i);
  });
  return out;
}

/** Deletes a straight-line instruction outside the slots (laid out again, branches re-encoded). */
const deleteInstruction: Mutator = (rng, k) => {
  const l = lift(k.program);
  const at = l ? straightLineItems(l) : [];
  if (!l || at.length === 0) return undefined;
  const dead = at[int(rng, 0, at.length - 1)]!;
  const program = layout(l, l.items.map((_, i) => i !== dead));
  return program && { ...k, program, runs: [] };
};

const CONDITIONAL: ReadonlySet<string> = new Set(["je8", "jne8", "je32", "jne32"]);

/**
 * Inserts a straight-line instruction before an instruction outside the slots, never right before
 * a conditional branch: fillers set flags, and a loop's `dec ecx; jne` would then run on.
 */
const insertInstruction: Mutator = (rng, k) => {
  const l = lift(k.program);
  const at = l ? l.items.flatMap((it, i) => (it.kind === "ins" && !CONDITIONAL.has(it.ins.op) ? [i] : [])) : [];
  if (!l || at.length === 0) return undefined;
  const bytes = assembleStmts([filler(rng)], 0).bytes;
  const program = layout(insertItem(l, at[int(rng, 0, at.length - 1)]!, { kind: "ins", bytes, ins: decode(bytes, 0, bytes.length) as Instr }));
  return program && { ...k, program, runs: [] };
};

const MUTATORS: readonly Mutator[] = [
  flipTarget, toggleBatch, dropOp, addRevert, changeCores, changeImmediate,
  swapVersions, rewriteSlot, deleteInstruction, insertInstruction,
];

/** Applies 1..3 random mutators; undefined if none applied. */
export function mutateCase(rng: Rng, k: Case): Case | undefined {
  let out: Case | undefined;
  for (let i = 0, n = int(rng, 1, 3); i < n; i++) out = MUTATORS[int(rng, 0, MUTATORS.length - 1)]!(rng, out ?? k) ?? out;
  return out;
}
