import type { Instr, Slot } from "../types.js";
import { decode } from "../isa/decode.js";
import { type Cpu, endWithFault, execute, Flow, newCpu } from "../machine/cpu.js";
import { programInt3 } from "../machine/int3.js";

// Architectural fetch (SPEC 6.2): each instruction is decoded from the current code bytes at the
// step that executes it. No buffer, no cache, no snoops; IF is ignored.

/**
 * Decoded instructions that lie wholly outside every slot, by code offset: their bytes are the same
 * in every code view of one case (views differ only in slot contents), so one decode serves them all.
 */
export interface InvariantDecodes {
  readonly slotAt: Int16Array;
  readonly byOffset: (Instr | undefined)[];
}

export function invariantDecodes(slotAt: Int16Array): InvariantDecodes {
  return { slotAt, byOffset: [] };
}

function outsideSlots(slotAt: Int16Array, off: number, len: number): boolean {
  for (let i = off; i < off + len; i++) if (slotAt[i]! >= 0) return false;
  return true;
}

/** Executes one instruction of a solo run from `code` (region starting at `base`). */
export function soloStep(cpu: Cpu, code: Uint8Array, base: number, slots: readonly Slot[], cache?: InvariantDecodes): Flow {
  const pc = cpu.pc;
  const off = pc - base;
  if (off < 0 || off >= code.length) {
    endWithFault(cpu, "#PF", pc);
    return Flow.Ended;
  }
  let d = cache?.byOffset[off];
  if (!d) {
    const r = decode(code, off, code.length);
    if ("incomplete" in r) {
      endWithFault(cpu, "#PF", base + code.length);
      return Flow.Ended;
    }
    d = r;
    if (cache && off + r.len <= code.length && outsideSlots(cache.slotAt, off, r.len)) cache.byOffset[off] = r;
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
