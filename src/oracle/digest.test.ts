import seedrandom from "seedrandom";
import { describe, expect, it } from "vitest";
import { ESP, memoryDigest, newCpu } from "../machine/cpu.js";
import { STACK_SIZE, STACK_TOP } from "../types.js";
import { digestValue, memoryHash } from "./digest.js";

// The oracle compares memory by memoryHash; the verdicts stay the same only if it is exactly the
// number memoryDigest spells, for any memory and any stack pointer.

describe("memoryHash", () => {
  it("is the number memoryDigest spells, over sparse and dense memory and every kind of stack pointer", () => {
    const rng = seedrandom.alea("memoryHash");
    const byte = () => Math.floor(rng() * 256);
    const stackPointers = [STACK_TOP, STACK_TOP - 1, STACK_TOP - 7, STACK_TOP - STACK_SIZE, STACK_TOP - STACK_SIZE - 4, 0, 0xffffffff];
    for (let t = 0; t < 2000; t++) {
      const cpu = newCpu(0);
      const density = rng();
      for (let i = 0; i < cpu.data.length; i++) if (rng() < density / 4) cpu.data[i] = byte();
      for (let i = 0; i < cpu.stack.length; i++) if (rng() < density) cpu.stack[i] = byte();
      cpu.regs[ESP] = t % 2 === 0 ? stackPointers[t % stackPointers.length]! : STACK_TOP - Math.floor(rng() * (STACK_SIZE + 8));
      expect(memoryHash(cpu)).toBe(digestValue(memoryDigest(cpu)));
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
