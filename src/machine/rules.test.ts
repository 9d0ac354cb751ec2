import { describe, expect, it } from "vitest";
import type { Model } from "../types.js";
import { CodeMemory } from "./memory.js";
import { checkRule, type RuleLedger } from "./rules.js";

// SPEC 7.3's written rules, on hand-made histories: a code region, stores at known times, and the
// serializations, cleans and invalidations a protocol would have made.

const BASE = 0x1000;
const NOP5 = [0x0f, 0x1f, 0x44, 0x00, 0x00], JMP32 = [0xe9, 0x10, 0x00, 0x00, 0x00];
const MOV_AL = [0xb0, 0x05], MOV_AL_NEW = [0xb0, 0x07];
/** nop5 at BASE, mov al, 5 at BASE+5, hlt, padding. */
const code = () => Uint8Array.from([...NOP5, ...MOV_AL, 0xf4, ...new Array<number>(56).fill(0x90)]);

const coherent = { icache: "coherent" } as Model, noncoherent = { icache: "noncoherent" } as Model;

/** Core 1's history: serialized at the given times (the run's start, 0, always counts). */
function ledger(serialize: number[] = [], cleans: RuleLedger["cleansDone"] = [], invals: { t: number; lines: number[] }[] = []): RuleLedger {
  return { serializeTimes: [[0], [0, ...serialize]], invalDeliveries: [[], invals], cleansDone: cleans };
}

function memory(stores: [addr: number, bytes: number[], t: number][]): CodeMemory {
  const mem = new CodeMemory(BASE, code(), false);
  for (const [addr, bytes, t] of stores) mem.store(addr, Uint8Array.from(bytes), t);
  return mem;
}

describe("unsynchronized-xmc (coherent models: Intel's rule)", () => {
  const check = (mem: CodeMemory, l: RuleLedger, addr = BASE, len = 5, now = 100) => checkRule(coherent, mem, l, 1, addr, len, now);

  it("executing bytes modified since the core last serialized breaks it; serializing after the store does not", () => {
    const mem = memory([[BASE, JMP32, 10]]);
    expect(check(mem, ledger())).toBe("unsynchronized-xmc");
    expect(check(mem, ledger([5]))).toBe("unsynchronized-xmc");
    expect(check(mem, ledger([11]))).toBeUndefined();
  });

  it("allows an int3 written into the first byte, and the first byte written over that int3", () => {
    // text_poke_bp: CC first, sync, tail, sync, then the first byte replaces the CC.
    expect(check(memory([[BASE, [0xcc], 10]]), ledger())).toBeUndefined();
    expect(check(memory([[BASE, [0xcc], 10], [BASE + 1, JMP32.slice(1), 20], [BASE, [0xe9], 30]]), ledger([11, 21]))).toBeUndefined();
    // A tail byte modified since the last serialization is never allowed, int3 or not.
    expect(check(memory([[BASE, [0xcc], 10], [BASE + 1, JMP32.slice(1), 20]]), ledger([11]))).toBe("unsynchronized-xmc");
    // Nor is a first byte that is neither an int3 nor written over one.
    expect(check(memory([[BASE, [0xe9], 10]]), ledger())).toBe("unsynchronized-xmc");
  });

  it("says nothing of bytes never modified, nor of instructions beside the modified ones", () => {
    const mem = memory([[BASE, JMP32, 10]]);
    expect(check(mem, ledger(), BASE + 5, 2)).toBeUndefined();
    expect(check(memory([]), ledger())).toBeUndefined();
  });
});

describe("cmodx-violation (non-coherent I-caches: ARM's rule)", () => {
  const check = (mem: CodeMemory, l: RuleLedger, addr: number, len: number, now = 100) => checkRule(noncoherent, mem, l, 1, addr, len, now);
  const line0 = [0];

  it("allows one store that turns a live-patchable instruction into another (nop5 -> jmp32), without maintenance", () => {
    expect(check(memory([[BASE, JMP32, 10]]), ledger(), BASE, 5)).toBeUndefined();
    // Both sides must be live-patchable: mov al -> nop2 is not such a patch, nor nop5 -> mov.
    expect(check(memory([[BASE + 5, [0x66, 0x90], 10]]), ledger(), BASE + 5, 2)).toBe("cmodx-violation");
    expect(check(memory([[BASE, [0xb8, 1, 0, 0, 0], 10]]), ledger(), BASE, 5)).toBe("cmodx-violation");
  });

  it("breaks on any other modification unless clean, invalidate and serialize followed it in that order", () => {
    const mem = memory([[BASE + 5, MOV_AL_NEW, 10]]);
    expect(check(mem, ledger(), BASE + 5, 2)).toBe("cmodx-violation");
    const clean = [{ issued: 11, completed: 12, lines: line0 }];
    expect(check(mem, ledger([14], clean, [{ t: 13, lines: line0 }]), BASE + 5, 2)).toBeUndefined();
    // Each link missing or out of order leaves the store uncovered.
    expect(check(mem, ledger([14], [], [{ t: 13, lines: line0 }]), BASE + 5, 2)).toBe("cmodx-violation");
    expect(check(mem, ledger([14], clean, []), BASE + 5, 2)).toBe("cmodx-violation");
    expect(check(mem, ledger([12.5], clean, [{ t: 13, lines: line0 }]), BASE + 5, 2)).toBe("cmodx-violation");
    expect(check(mem, ledger([14], [{ issued: 11, completed: 13.5, lines: line0 }], [{ t: 13, lines: line0 }]), BASE + 5, 2)).toBe("cmodx-violation");
    // A chain for another line covers nothing here.
    expect(check(mem, ledger([14], [{ issued: 11, completed: 12, lines: [1] }], [{ t: 13, lines: [1] }]), BASE + 5, 2)).toBe("cmodx-violation");
  });

  it("judges each store on its own: a covered one does not excuse a later uncovered one", () => {
    const clean = [{ issued: 11, completed: 12, lines: line0 }];
    const mem = memory([[BASE + 5, MOV_AL_NEW, 10], [BASE + 5, MOV_AL, 20]]);
    expect(check(mem, ledger([14], clean, [{ t: 13, lines: line0 }]), BASE + 5, 2)).toBe("cmodx-violation");
  });
});
