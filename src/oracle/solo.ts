import type { Slot } from "../types.js";
import { decode } from "../isa/decode.js";
import { type Cpu, endWithFault, execute, Flow, newCpu } from "../machine/cpu.js";
import { programInt3 } from "../machine/int3.js";

// Architectural fetch (SPEC 6.2): each instruction is decoded from the current code bytes at the
// step that executes it. No buffer, no cache, no snoops; IF is ignored.

/** Executes one instruction of a solo run from `code` (region starting at `base`). */
export function soloStep(cpu: Cpu, code: Uint8Array, base: number, slots: readonly Slot[]): Flow {
  const pc = cpu.pc;
  const off = pc - base;
  if (off < 0 || off >= code.length) {
    endWithFault(cpu, "#PF", pc);
    return Flow.Ended;
  }
  const d = decode(code, off, code.length);
  if ("incomplete" in d) {
    endWithFault(cpu, "#PF", base + code.length);
    return Flow.Ended;
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
