import seedrandom from "seedrandom";
import { describe, expect, it } from "vitest";
import { ESP, memoryDigest, memoryHash, newCpu, storeByte } from "../machine/cpu.js";
import { DATA_SIZE, STACK_SIZE, STACK_TOP } from "../types.js";
import { digestValue } from "./digest.js";

// memoryHash skips runs of zero bytes and untouched memory; observations and oracle states compare
// by it, so it must be exactly FNV-1a over data and the live stack, for any memory and stack pointer.

/** FNV-1a byte by byte over data, then the stack from the stack pointer up: the definition. */
function plainFnv(data: Uint8Array, stack: Uint8Array, sp: number): number {
  let h = 0x811c9dc5;
  for (const b of data) h = Math.imul(h ^ b, 0x01000193);
  const from = Math.max(0, Math.min(STACK_SIZE, sp - (STACK_TOP - STACK_SIZE)));
  for (let i = from; i < STACK_SIZE; i++) h = Math.imul(h ^ stack[i]!, 0x01000193);
  return h >>> 0;
}

describe("memoryHash", () => {
  it("is plain FNV-1a over data and the live stack, over untouched, sparse and dense memory and every kind of stack pointer", () => {
    const rng = seedrandom.alea("memoryHash");
    const byte = () => Math.floor(rng() * 256);
    const stackPointers = [STACK_TOP, STACK_TOP - 1, STACK_TOP - 7, STACK_TOP - STACK_SIZE, STACK_TOP - STACK_SIZE - 4, 0, 0xffffffff];
    for (let t = 0; t < 2000; t++) {
      const cpu = newCpu(0);
      // The same memory by address offset (stack offset 0 = its lowest address), written alongside.
      const data = new Uint8Array(DATA_SIZE), stack = new Uint8Array(STACK_SIZE);
      const density = t % 5 === 0 ? 0 : rng();
      // Some states keep the untouched memory a new core starts with.
      if (t % 7 !== 0) {
        for (let i = 0; i < DATA_SIZE; i++) if (rng() < density / 4) storeByte(cpu, "data", i, (data[i] = byte()));
      }
      if (t % 3 !== 0) {
        for (let i = 0; i < STACK_SIZE; i++) if (rng() < density) storeByte(cpu, "stack", STACK_SIZE - 1 - i, (stack[i] = byte()));
      }
      cpu.regs[ESP] = t % 2 === 0 ? stackPointers[t % stackPointers.length]! : STACK_TOP - Math.floor(rng() * (STACK_SIZE + 8));
      expect(memoryHash(cpu)).toBe(plainFnv(data, stack, cpu.regs[ESP]!));
      expect(digestValue(memoryDigest(cpu))).toBe(memoryHash(cpu));
    }
  });
});

describe("digestValue", () => {
  it("reads eight lowercase hex digits, and nothing memoryDigest does not write", () => {
    expect(digestValue("00000000")).toBe(0);
    expect(digestValue("ffffffff")).toBe(0xffffffff);
    expect(digestValue("811c9dc5")).toBe(0x811c9dc5);
    for (const text of ["811C9DC5", "811c9dc", "811c9dc50", "811c9dcg", "", " 11c9dc5"]) expect(digestValue(text)).toBe(-1);
  });
});
