import type { Instr, Slot } from "../types.js";
import { decode } from "../isa/decode.js";
import { type Cpu, endWithFault, execute, Flow, newCpu } from "../machine/cpu.js";
import { programInt3 } from "../machine/int3.js";

// Architectural fetch (SPEC 6.2): each instruction is decoded from the current code bytes at the
// step that executes it. No buffer, no cache, no snoops; IF is ignored.

/**
 * Decoded instructions of one case, by code offset. One wholly outside every slot has the same bytes
 * in every code view of the case (views differ only in slot contents), so one decode serves them
 * all. One that overlaps a slot is kept with its bytes, and serves while the view holds those bytes
 * (a slot holds one of a few versions). A decode depends only on the instruction's own bytes.
 */
export interface DecodeCache {
  readonly slotAt: Int16Array;
  readonly invariant: (Instr | undefined)[];
  readonly overSlots: (SlotDecode[] | undefined)[];
}

interface SlotDecode {
  readonly bytes: Uint8Array;
  readonly ins: Instr;
}

/** Versions remembered per offset inside slots (more are decoded each time). */
const SLOT_DECODES_PER_OFFSET = 8;

export function decodeCache(slotAt: Int16Array): DecodeCache {
  return { slotAt, invariant: [], overSlots: [] };
}

function outsideSlots(slotAt: Int16Array, off: number, len: number): boolean {
  for (let i = off; i < off + len; i++) if (slotAt[i]! >= 0) return false;
  return true;
}

function holds(code: Uint8Array, off: number, bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (code[off + i] !== bytes[i]) return false;
  return true;
}

function cached(cache: DecodeCache, code: Uint8Array, off: number): Instr | undefined {
  const invariant = cache.invariant[off];
  if (invariant) return invariant;
  const versions = cache.overSlots[off];
  if (versions) for (const v of versions) if (holds(code, off, v.bytes)) return v.ins;
  return undefined;
}

function remember(cache: DecodeCache, code: Uint8Array, off: number, ins: Instr): void {
  if (off + ins.len > code.length) return;
  if (outsideSlots(cache.slotAt, off, ins.len)) {
    cache.invariant[off] = ins;
    return;
  }
  const versions = (cache.overSlots[off] ??= []);
  if (versions.length < SLOT_DECODES_PER_OFFSET) versions.push({ bytes: code.slice(off, off + ins.len), ins });
}

/** Executes one instruction of a solo run from `code` (region starting at `base`). */
export function soloStep(cpu: Cpu, code: Uint8Array, base: number, slots: readonly Slot[], cache?: DecodeCache): Flow {
  const pc = cpu.pc;
  const off = pc - base;
  if (off < 0 || off >= code.length) {
    endWithFault(cpu, "#PF", pc);
    return Flow.Ended;
  }
  let d = cache && cached(cache, code, off);
  if (!d) {
    const r = decode(code, off, code.length);
    if ("incomplete" in r) {
      endWithFault(cpu, "#PF", base + code.length);
      return Flow.Ended;
    }
    d = r;
    if (cache) remember(cache, code, off, r);
  }
  const flow = execute(cpu, d, pc);
  return flow === Flow.Trap ? programInt3(cpu, slots, pc) : flow;
}

/** Runs one program core alone over a fixed code image, for at most `limit` instructions. */
export function soloRun(entry: number, code: Uint8Array, base: number, slots: readonly Slot[], limit: number): Cpu {
  const cpu = newCpu(entry);
  while (!cpu.end && cpu.instructions < limit) soloStep(cpu, code, base, slots);
  return cpu;
}
