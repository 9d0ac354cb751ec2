// Turns a schema-valid raw case into the domain `Case`: assembles code and slot versions,
// resolves labels and slot names, and checks every field-local rule (SPEC 3.2).
import type { Case, Decision, OpTarget, PatchOp, Program, RecordedRun, Slot } from "../types.js";
import { DATA_BASE, MAX_CODE_SIZE } from "../types.js";
import { AsmError, assemble, assembleAt } from "../isa/asm.js";
import { decodeVersion } from "../isa/decode.js";
import { hex } from "../isa/disasm.js";
import { sameBytes } from "../isa/bytes.js";
import { parseDecisions } from "../schedule/choosers.js";
import { CaseError } from "./error.js";
import { defaultKind, isProbeSlot } from "./kind.js";
import type { AddrRef, RawCase, RawSlot } from "./schema.js";

export function h(n: number): string {
  return "0x" + n.toString(16);
}

/** A built case plus the JSON field that holds each slot's new version, for later messages. */
export interface Built {
  readonly kase: Case;
  /** `slots[k].new` or `slots[k].newHex`. */
  readonly newField: readonly string[];
}

interface Code {
  readonly base: number;
  readonly bytes: Uint8Array;
  readonly labels: ReadonlyMap<string, number>;
  /** Slots delimited in the asm, by name (asm form only). */
  readonly asmSlots?: ReadonlyMap<string, { start: number; len: number }>;
}

function asmError(field: string, e: unknown): CaseError {
  if (e instanceof AsmError) return new CaseError(field, e.message);
  throw e;
}

function buildCode(raw: RawCase["code"]): Code {
  const { base } = raw;
  if ((raw.asm === undefined) === (raw.hex === undefined)) {
    throw new CaseError("code", 'expected exactly one of "asm" and "hex"');
  }
  if (base % 64 !== 0) throw new CaseError("code.base", `expected a multiple of 64, got ${h(base)}`);
  let code: Code;
  if (raw.asm !== undefined) {
    let a;
    try {
      a = assemble(raw.asm, base);
    } catch (e) {
      throw asmError("code.asm", e);
    }
    code = { base, bytes: a.bytes, labels: a.labels, asmSlots: new Map(a.slots.map((s) => [s.name, s])) };
  } else {
    code = { base, bytes: raw.hex!, labels: new Map() };
  }
  const size = code.bytes.length;
  const field = raw.asm !== undefined ? "code.asm" : "code.hex";
  if (size < 1 || size > MAX_CODE_SIZE) {
    throw new CaseError(field, `code size ${size} is outside 1..${MAX_CODE_SIZE}`);
  }
  if (base + size > DATA_BASE) {
    throw new CaseError("code", `region [${h(base)}, ${h(base + size)}) extends past the data region at ${h(DATA_BASE)}`);
  }
  return code;
}

function resolveAddr(ref: AddrRef, code: Code, field: string): number {
  if (typeof ref === "number") return ref;
  if (!code.asmSlots) throw new CaseError(field, `label "${ref.label}" needs "asm" code`);
  const a = code.labels.get(ref.label);
  if (a === undefined) throw new CaseError(field, `undefined label "${ref.label}"`);
  return a;
}

function buildSlot(raw: RawSlot, k: number, code: Code): { slot: Slot; newField: string } {
  const f = `slots[${k}]`;
  const { base, bytes } = code;
  const end = base + bytes.length;
  let start: number, len: number;
  if (code.asmSlots) {
    for (const key of ["start", "len", "old"] as const) {
      if (raw[key] !== undefined) throw new CaseError(`${f}.${key}`, 'only allowed with "hex" code (the asm delimits slots)');
    }
    const a = code.asmSlots.get(raw.name);
    if (!a) throw new CaseError(`${f}.name`, `no ".slot ${raw.name}" in code.asm`);
    ({ start, len } = a);
    if (len < 1) throw new CaseError(f, `slot "${raw.name}" is empty in code.asm`);
  } else {
    if (raw.start === undefined) throw new CaseError(`${f}.start`, 'missing (required with "hex" code)');
    start = raw.start;
    len = raw.len ?? raw.old?.length ?? raw.newHex?.length ?? 0;
    if (len < 1) throw new CaseError(`${f}.len`, 'missing (required when neither "old" nor "newHex" gives it)');
  }
  if (start < base || start + len > end) {
    throw new CaseError(f, `[${h(start)}, ${h(start + len)}) is outside the code region [${h(base)}, ${h(end)})`);
  }
  const old = bytes.slice(start - base, start - base + len);
  if (raw.old !== undefined) checkOldMatches(k, raw.old, old);

  if ((raw.new === undefined) === (raw.newHex === undefined)) {
    throw new CaseError(f, 'expected exactly one of "new" and "newHex"');
  }
  const newField = raw.new !== undefined ? `${f}.new` : `${f}.newHex`;
  let neu: Uint8Array;
  if (raw.new !== undefined) {
    try {
      neu = assembleAt(raw.new, start, code.labels);
    } catch (e) {
      throw asmError(newField, e);
    }
  } else {
    neu = raw.newHex!;
  }
  if (neu.length !== len) throw new CaseError(newField, `expected ${len} bytes (the slot length), got ${neu.length}`);

  const probe = isProbeSlot(old, neu);
  checkVersion(old, `${f}.old`, probe);
  checkVersion(neu, newField, probe);
  if (probe) {
    const probed = old[0] === 0xcc ? neu : old;
    // Padding after a ret or jmp is allowed here as in any version (SPEC 3.2): never executed.
    if (decodeVersion(probed, false)?.length !== 1) throw new CaseError(f, "the probed version must be one instruction");
  }

  const bpResume = raw.bpResume === undefined ? start + len : resolveAddr(raw.bpResume, code, `${f}.bpResume`);
  const kind = raw.kind ?? defaultKind(old, neu);
  return { slot: { name: raw.name, start, len, old, new: neu, kind, bpResume }, newField };
}

/** A slot's declared old version must be the code bytes it covers. */
export function checkOldMatches(k: number, old: Uint8Array, held: Uint8Array): void {
  if (!sameBytes(old, held)) throw new CaseError(`slots[${k}].old`, `"${hex(old)}" does not match the code bytes "${hex(held)}"`);
}

function checkVersion(bytes: Uint8Array, field: string, probe: boolean): void {
  if (!decodeVersion(bytes, probe)) throw new CaseError(field, "does not decode to whole instructions ending at the slot end");
}

function checkSlotSet(raw: readonly RawSlot[], slots: readonly Slot[], code: Code): void {
  const seen = new Map<string, number>();
  raw.forEach((s, k) => {
    if (seen.has(s.name)) throw new CaseError(`slots[${k}].name`, `duplicate slot "${s.name}"`);
    seen.set(s.name, k);
  });
  for (const name of code.asmSlots?.keys() ?? []) {
    if (!seen.has(name)) throw new CaseError("slots", `no entry for ".slot ${name}" of code.asm`);
  }
  // Sorted sweep: each slot only needs comparing with the furthest-reaching earlier one.
  const order = slots.map((_, k) => k).sort((a, b) => slots[a]!.start - slots[b]!.start || a - b);
  let reach = -1;
  for (const k of order) {
    const s = slots[k]!;
    if (reach >= 0 && s.start < slots[reach]!.start + slots[reach]!.len) {
      const [first, second] = reach < k ? [reach, k] : [k, reach];
      throw new CaseError(`slots[${second}]`, `overlaps slot "${slots[first]!.name}"`);
    }
    if (reach < 0 || s.start + s.len > slots[reach]!.start + slots[reach]!.len) reach = k;
  }
}

function buildEntries(raw: RawCase, code: Code): number[] {
  const want = raw.cores - 1;
  if (raw.entries.length !== want) {
    throw new CaseError("entries", `expected ${want} entr${want === 1 ? "y" : "ies"} (one per program core), got ${raw.entries.length}`);
  }
  const end = code.base + code.bytes.length;
  return raw.entries.map((ref, i) => {
    const a = resolveAddr(ref, code, `entries[${i}]`);
    if (a < code.base || a >= end) {
      throw new CaseError(`entries[${i}]`, `${h(a)} is outside the code region [${h(code.base)}, ${h(end)})`);
    }
    return a;
  });
}

function buildOps(raw: RawCase, slots: readonly Slot[]): PatchOp[] {
  const index = new Map(slots.map((s, k) => [s.name, k]));
  return raw.ops.map((op, j) => {
    const used = new Set<number>();
    const targets = op.slots.map((t, i): OpTarget => {
      const f = `ops[${j}].slots[${i}]`;
      const name = t.slot;
      const slot = index.get(name);
      if (slot === undefined) throw new CaseError(f, `unknown slot "${name}"`);
      if (used.has(slot)) throw new CaseError(f, `slot "${name}" listed twice in one op`);
      used.add(slot);
      return opTarget(slot, t.to);
    });
    return patchOp(targets, op.batch, op.monotonic);
  });
}

function buildRuns(raw: RawCase): RecordedRun[] {
  return raw.runs.map((r, i) => {
    let decisions: Decision[] | undefined;
    if (r.decisions !== undefined) {
      try {
        decisions = parseDecisions(r.decisions);
      } catch (e) {
        throw new CaseError(`runs[${i}].decisions`, e instanceof Error ? e.message : String(e));
      }
    }
    const e = r.expect;
    return {
      strategy: r.strategy, model: r.model, seed: r.seed,
      ...(decisions !== undefined ? { decisions } : {}),
      ...(e !== undefined
        ? { expect: { verdict: e.verdict, ...(e.signature !== undefined ? { signature: e.signature } : {}), rules: e.rules } }
        : {}),
    };
  });
}

export function buildCase(raw: RawCase): Built {
  const code = buildCode(raw.code);
  const entries = buildEntries(raw, code);
  const built = raw.slots.map((s, k) => buildSlot(s, k, code));
  const slots = built.map((b) => b.slot);
  checkSlotSet(raw.slots, slots, code);
  const program = { base: code.base, code: code.bytes, entries, slots };
  return { kase: caseOf(raw, program, buildOps(raw, slots), buildRuns(raw)), newField: built.map((b) => b.newField) };
}

// The loader's constructors of cases, ops and op targets: every case it builds has the same object
// shapes, so property reads on cases stay monomorphic wherever cases run.

export function caseOf(head: Pick<Case, "name" | "description" | "cores">, program: Program, ops: PatchOp[], runs: RecordedRun[]): Case {
  return {
    name: head.name,
    ...(head.description !== undefined ? { description: head.description } : {}),
    cores: head.cores,
    program: { base: program.base, code: program.code, entries: program.entries, slots: program.slots },
    ops,
    runs,
  };
}

export function patchOp(targets: OpTarget[], batch: PatchOp["batch"], monotonic: boolean): PatchOp {
  return { targets, batch, monotonic };
}

export function opTarget(slot: number, to: OpTarget["to"]): OpTarget {
  return { slot, to };
}
