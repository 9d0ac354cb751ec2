import type { ObsEvent } from "../types.js";
import { type Cpu, cloneCpu, newCpu } from "../machine/cpu.js";

// Recycled Cpu states for the membership search: a search makes one per core and one per
// alternative it may backtrack to, most of which it never takes. Memory is copy on write, so a
// copy shares its source's data and stack until either stores.

/** The events of an idle state (copyInto gives a reused state a fresh list). */
const NO_EVENTS: ObsEvent[] = [];

/** At most this many idle states are kept (a long hang search may use thousands, once). */
const MAX_IDLE = 64;

/** Overwrites every field of `into` with `from`'s, with no events. */
function copyInto(into: Cpu, from: Cpu): Cpu {
  into.pc = from.pc;
  into.regs.set(from.regs);
  into.zf = from.zf;
  into.iflag = from.iflag;
  into.data = from.data;
  into.stack = from.stack;
  into.ownsData = into.ownsStack = from.ownsData = from.ownsStack = false;
  into.events = [];
  into.end = from.end;
  into.instructions = from.instructions;
  return into;
}

/** The fields copyInto copies (a test checks this is every field of a Cpu). */
export const COPIED_CPU_FIELDS = ["pc", "regs", "zf", "iflag", "data", "stack", "ownsData", "ownsStack", "events", "end", "instructions"];

export class CpuPool {
  private readonly idle: Cpu[] = [];
  /** The state newCpu makes, at pc 0; every search copies it (one copy in cache, not one per case). */
  private readonly pristine = newCpu(0);

  /** A state as newCpu(entry) makes it, recycled when possible. */
  atEntry(entry: number): Cpu {
    const cpu = this.copyOf(this.pristine);
    cpu.pc = entry;
    return cpu;
  }

  /** A copy of `c` with no events (cloneCpu(c, false)), recycled when possible. */
  copyOf(c: Cpu): Cpu {
    const into = this.idle.pop();
    return into ? copyInto(into, c) : cloneCpu(c, false);
  }

  /**
   * Gives back a state nothing refers to any more. It lets go of what it referred to: an idle
   * state soon lives in the old generation, and young objects it still reached (its memory, its
   * events) would survive every young-generation collection until it is reused.
   */
  release(c: Cpu): void {
    if (this.idle.length >= MAX_IDLE) return;
    c.data = this.pristine.data;
    c.stack = this.pristine.stack;
    c.events = NO_EVENTS;
    c.end = undefined;
    this.idle.push(c);
  }
}
