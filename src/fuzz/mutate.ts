import type { Case, PatchOp } from "../types.js";
import { decode } from "../isa/decode.js";
import type { Rng } from "./generate.js";

// Mutators on the typed case (SPEC 9): ops, core count and immediates. Each returns a new case or
// undefined when it does not apply; the caller validates the result with the loader's checks.

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

const MUTATORS: readonly Mutator[] = [flipTarget, toggleBatch, dropOp, addRevert, changeCores, changeImmediate];

/** Applies 1..3 random mutators; undefined if none applied. */
export function mutateCase(rng: Rng, k: Case): Case | undefined {
  let out: Case | undefined;
  for (let i = 0, n = int(rng, 1, 3); i < n; i++) out = MUTATORS[int(rng, 0, MUTATORS.length - 1)]!(rng, out ?? k) ?? out;
  return out;
}
