import type { EndState, Instr, ObsEvent } from "../types.js";
import { DATA_BASE, DATA_SIZE, STACK_SIZE, STACK_TOP } from "../types.js";

// Architectural state and semantics of one program core: shared by real runs and the oracle's
// solo runs, so both execute an instruction the same way.

export const ESP = 4;
const STACK_BASE = STACK_TOP - STACK_SIZE;

export interface Cpu {
  pc: number;
  readonly regs: Uint32Array;
  zf: boolean;
  iflag: boolean;
  /**
   * Private data, one number per byte from DATA_BASE up, and the stack, one per byte from
   * STACK_TOP - 1 down; each only as long as the farthest byte ever stored (the rest are zero).
   * Copy on write: a new core starts on a shared empty array and a clone shares its parent's,
   * until the first store. States are made per run, per oracle branch and per trap, most never
   * store, and the others store a few words near the start of their region.
   */
  data: readonly number[];
  stack: readonly number[];
  ownsData: boolean;
  ownsStack: boolean;
  events: ObsEvent[];
  end: EndState | undefined;
  instructions: number;
}

/** The memory of a core that never stored (shared: never written). */
const UNTOUCHED: readonly number[] = [];

export function newCpu(entry: number): Cpu {
  const regs = new Uint32Array(8);
  regs[ESP] = STACK_TOP;
  return {
    pc: entry, regs, zf: false, iflag: true, data: UNTOUCHED, stack: UNTOUCHED, ownsData: false, ownsStack: false,
    events: [], end: undefined, instructions: 0,
  };
}

/** A copy of the state; `withEvents: false` starts the copy with no events (cheaper snapshots). */
export function cloneCpu(c: Cpu, withEvents = true): Cpu {
  // Both now share the memory arrays: whichever stores first copies them.
  c.ownsData = c.ownsStack = false;
  return {
    pc: c.pc, regs: c.regs.slice(), zf: c.zf, iflag: c.iflag, data: c.data, stack: c.stack, ownsData: false, ownsStack: false,
    events: withEvents ? c.events.slice() : [], end: c.end, instructions: c.instructions,
  };
}

/** `bytes` as the state's own array, at least `length` long (copy on write, zero-filled). */
function ownedCopy(bytes: readonly number[], owned: boolean, length: number): number[] {
  const out = (owned ? bytes : bytes.slice()) as number[];
  while (out.length < length) out.push(0);
  return out;
}

/** Stores a byte of private data (offset from DATA_BASE) or of the stack (offset down from STACK_TOP - 1). */
export function storeByte(cpu: Cpu, region: "data" | "stack", offset: number, value: number): void {
  if (region === "data") {
    if (!cpu.ownsData || cpu.data.length <= offset) {
      cpu.data = ownedCopy(cpu.data, cpu.ownsData, offset + 1);
      cpu.ownsData = true;
    }
    (cpu.data as number[])[offset] = value;
  } else {
    if (!cpu.ownsStack || cpu.stack.length <= offset) {
      cpu.stack = ownedCopy(cpu.stack, cpu.ownsStack, offset + 1);
      cpu.ownsStack = true;
    }
    (cpu.stack as number[])[offset] = value;
  }
}

/** The stack byte at address `addr` (inside the stack). */
function stackByte(cpu: Cpu, addr: number): number {
  return cpu.stack[STACK_TOP - 1 - addr] ?? 0;
}

/** Whether two states hold the same private data and stack bytes. */
export function sameMemory(a: Cpu, b: Cpu): boolean {
  return sameZeroExtended(a.data, b.data) && sameZeroExtended(a.stack, b.stack);
}

/** Whether two byte arrays are equal once the shorter is extended with zeros (unwritten memory reads 0). */
function sameZeroExtended(x: readonly number[], y: readonly number[]): boolean {
  if (x === y) return true;
  const n = Math.max(x.length, y.length);
  for (let i = 0; i < n; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return false;
  return true;
}

/** What executing an instruction did to control flow. */
export const enum Flow {
  Next = 0,
  Branch = 1,
  Trap = 2,
  Ended = 3,
  Serialize = 4,
  /** mfence: serializes instruction fetch only where the model says so (mfenceSerializesFetch). */
  Fence = 5,
}

function fault(cpu: Cpu, kind: "#UD" | "#PF" | "int3", addr: number): Flow {
  cpu.end = { kind: "fault", fault: kind, addr };
  return Flow.Ended;
}

function push(cpu: Cpu, value: number): boolean {
  const sp = (cpu.regs[ESP]! - 4) >>> 0;
  if (sp < STACK_BASE || sp + 4 > STACK_TOP) {
    fault(cpu, "#PF", sp);
    return false;
  }
  // Stack offsets count down from STACK_TOP - 1: the word's lowest byte is the farthest, stored first.
  const o = STACK_TOP - 1 - sp;
  storeByte(cpu, "stack", o, value & 0xff);
  storeByte(cpu, "stack", o - 1, (value >>> 8) & 0xff);
  storeByte(cpu, "stack", o - 2, (value >>> 16) & 0xff);
  storeByte(cpu, "stack", o - 3, (value >>> 24) & 0xff);
  cpu.regs[ESP] = sp;
  return true;
}

function pop(cpu: Cpu): number | undefined {
  const sp = cpu.regs[ESP]!;
  if (sp < STACK_BASE || sp + 4 > STACK_TOP) {
    fault(cpu, "#PF", sp);
    return undefined;
  }
  cpu.regs[ESP] = sp + 4;
  return (stackByte(cpu, sp) | (stackByte(cpu, sp + 1) << 8) | (stackByte(cpu, sp + 2) << 16) | (stackByte(cpu, sp + 3) << 24)) >>> 0;
}

function dataOffset(cpu: Cpu, addr: number): number {
  if (addr < DATA_BASE || addr + 4 > DATA_BASE + DATA_SIZE) {
    fault(cpu, "#PF", addr);
    return -1;
  }
  return addr - DATA_BASE;
}

/**
 * Executes `ins` as if it sat at `addr` (also used for emulation and out-of-line probes).
 * Updates pc, registers, memory, events and `end`; `int3` is left to the caller (Flow.Trap).
 */
export function execute(cpu: Cpu, ins: Instr, addr: number): Flow {
  const next = (addr + ins.len) >>> 0;
  const r = cpu.regs;
  cpu.instructions++;
  switch (ins.op) {
    case "nop": case "nop2": case "nopN": case "pause":
      cpu.pc = next;
      return Flow.Next;
    case "mfence":
      cpu.pc = next;
      return Flow.Fence;
    case "cpuid": case "serialize":
      cpu.pc = next;
      return Flow.Serialize;
    case "jmp8": case "jmp32":
      cpu.pc = (next + ins.rel) >>> 0;
      return Flow.Branch;
    case "call":
      if (!push(cpu, next)) return Flow.Ended;
      cpu.pc = (next + ins.rel) >>> 0;
      return Flow.Branch;
    case "ret": {
      const to = pop(cpu);
      if (to === undefined) return Flow.Ended;
      cpu.pc = to;
      return Flow.Branch;
    }
    case "je8": case "je32": case "jne8": case "jne32": {
      const taken = (ins.op === "je8" || ins.op === "je32") === cpu.zf;
      cpu.pc = taken ? (next + ins.rel) >>> 0 : next;
      return taken ? Flow.Branch : Flow.Next;
    }
    case "movr8":
      r[ins.reg] = ((r[ins.reg]! & ~0xff) | (ins.imm & 0xff)) >>> 0;
      break;
    case "movr32":
      r[ins.reg] = ins.imm;
      break;
    case "inc":
      r[ins.reg] = r[ins.reg]! + 1;
      cpu.zf = r[ins.reg] === 0;
      break;
    case "dec":
      r[ins.reg] = r[ins.reg]! - 1;
      cpu.zf = r[ins.reg] === 0;
      break;
    case "add":
      r[ins.reg] = r[ins.reg]! + ins.imm;
      cpu.zf = r[ins.reg] === 0;
      break;
    case "cmp":
      cpu.zf = ((r[ins.reg]! - ins.imm) >>> 0) === 0;
      break;
    case "load": {
      const o = dataOffset(cpu, ins.imm);
      if (o < 0) return Flow.Ended;
      const d = cpu.data;
      r[0] = ((d[o] ?? 0) | ((d[o + 1] ?? 0) << 8) | ((d[o + 2] ?? 0) << 16) | ((d[o + 3] ?? 0) << 24)) >>> 0;
      break;
    }
    case "storeMem": {
      const o = dataOffset(cpu, ins.imm);
      if (o < 0) return Flow.Ended;
      const v = r[0]!;
      // The farthest byte first: the array grows once.
      storeByte(cpu, "data", o + 3, (v >>> 24) & 0xff);
      storeByte(cpu, "data", o + 2, (v >>> 16) & 0xff);
      storeByte(cpu, "data", o + 1, (v >>> 8) & 0xff);
      storeByte(cpu, "data", o, v & 0xff);
      break;
    }
    case "out":
      cpu.events.push({ kind: "out", port: ins.imm, value: r[0]! & 0xff });
      break;
    case "int3":
      cpu.instructions--; // counted when the trap resolves
      return Flow.Trap;
    case "cli":
      cpu.iflag = false;
      break;
    case "sti":
      cpu.iflag = true;
      break;
    case "hlt":
      cpu.pc = next;
      cpu.end = { kind: "halt" };
      return Flow.Ended;
    case "ud2": case "ud":
      return fault(cpu, "#UD", addr);
  }
  cpu.pc = next;
  return Flow.Next;
}

/** Ends the core at `addr` with a fault (used for #PF on fetch and unhandled int3). */
export function endWithFault(cpu: Cpu, kind: "#UD" | "#PF" | "int3", addr: number): void {
  fault(cpu, kind, addr);
}

const FNV_OFFSET = 0x811c9dc5, FNV_PRIME = 0x01000193;

/** FNV_PRIME^z (mod 2^32): FNV-1a turns a zero byte into one multiplication by the prime. */
const PRIME_POWERS = new Int32Array(Math.max(DATA_SIZE, STACK_SIZE) + 1);
PRIME_POWERS[0] = 1;
for (let z = 1; z < PRIME_POWERS.length; z++) PRIME_POWERS[z] = Math.imul(PRIME_POWERS[z - 1]!, FNV_PRIME);

/**
 * FNV-1a continued from h over `count` bytes, read from bytes[first] stepping by `step` (±1);
 * bytes past the array are zero. Runs of zero bytes (most of a core's memory) cost one multiplication.
 */
function fnv(h: number, bytes: readonly number[], first: number, step: 1 | -1, count: number): number {
  let zeros = 0;
  for (let k = 0, i = first; k < count; k++, i += step) {
    const v = bytes[i] ?? 0;
    if (v === 0) {
      zeros++;
    } else {
      h = Math.imul(Math.imul(h, PRIME_POWERS[zeros]!) ^ v, FNV_PRIME);
      zeros = 0;
    }
  }
  return Math.imul(h, PRIME_POWERS[zeros]!);
}

/** FNV-1a over private data and the live stack (ascending addresses), as a number: what the oracle compares. */
export function memoryHash(cpu: Cpu): number {
  const live = STACK_SIZE - Math.max(0, Math.min(STACK_SIZE, cpu.regs[ESP]! - STACK_BASE));
  const data = cpu.data, stack = cpu.stack;
  // Untouched memory: only the count of its zero bytes matters.
  const h = data.length === 0 ? Math.imul(FNV_OFFSET, PRIME_POWERS[DATA_SIZE]!) : fnv(FNV_OFFSET, data, 0, 1, DATA_SIZE);
  return (stack.length === 0 ? Math.imul(h, PRIME_POWERS[live]!) : fnv(h, stack, live - 1, -1, live)) >>> 0;
}

/** The observation's memory digest: memoryHash in eight hex digits. */
export function memoryDigest(cpu: Cpu): string {
  return memoryHash(cpu).toString(16).padStart(8, "0");
}

export function finalRegs(cpu: Cpu): number[] {
  return [...cpu.regs, cpu.zf ? 1 : 0];
}
