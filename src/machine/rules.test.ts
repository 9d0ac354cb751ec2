import { describe, expect, it } from "vitest";
import type { Chooser, Model, Strategy } from "../types.js";
import { namedModel } from "../models/named.js";
import { builtinStrategy } from "../strategies/registry.js";
import { prepareSketch } from "../testing/build.js";
import { CodeMemory } from "./memory.js";
import { checkRule, type RuleLedger } from "./rules.js";
import { runCase } from "./run.js";

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

describe("the machine checks the rule on every instruction it executes", () => {
  it("an instruction of another length at the same pc is checked again, although nothing else changed", () => {
    // jmp8 +3 (padded to 5 bytes) becomes nop5 through three single stores, the second leaving
    // 0F 1F 08 (#UD): not a live-patchable pair, so executing the final nop5 breaks CMODX. The
    // first pass may read the line's oldest version (the 2-byte jmp8) with no store, clean or
    // serialization in between: its clean check said nothing about the nop5's 5 bytes.
    const p = prepareSketch({
      asm: ["start: mov ecx, 2", "loop:", ".slot s", ".byte 0xeb, 0x03, 0x00, 0x00, 0x00", ".endslot", "dec ecx", "jne loop", "hlt"],
      entries: ["start"], slots: { s: { new: ".byte 0x0f, 0x1f, 0x44, 0x00, 0x00" } }, ops: [["s"]],
    });
    const threeStores: Strategy = {
      name: "three_stores", description: "test: jmp8 -> nop3 -> #UD -> nop5, one store each",
      *patch(ctx, slots) {
        const s = slots[0]!;
        yield* ctx.write(s.start, Uint8Array.of(0x0f, 0x1f));
        yield* ctx.write(s.start + 2, Uint8Array.of(0x08));
        yield* ctx.write(s.start + 2, Uint8Array.of(0x44));
      },
    };
    for (const firstFetchOldest of [true, false]) {
      let patcherFirst = 3, fetches = 0;
      const chooser: Chooser = {
        // Fills take the oldest version; the first fetch the oldest or the newest; the rest the newest.
        choose: (options, what) => (what.startsWith("fill") || (what.startsWith("fetch") && fetches++ === 0 && firstFetchOldest) ? 0 : options - 1),
        // The patcher's three stores first, then core 1 whenever it can.
        chooseEvent: (actors, n) => {
          const pick = (actor: number) => actors.slice(0, n).indexOf(actor);
          if (patcherFirst > 0 && pick(0) >= 0) return patcherFirst--, pick(0);
          return Math.max(0, pick(1));
        },
      };
      const run = runCase(p.plan, threeStores, namedModel("noncoherent-icache")!, { chooser, soloBudget: p.soloBudget });
      const executed = run.passages.map((q) => q.fetched[0]!.bytes.length);
      expect(executed, `first fetch ${firstFetchOldest ? "oldest" : "newest"}`).toContain(5);
      expect(run.rules.map((r) => r.rule), `first fetch ${firstFetchOldest ? "oldest" : "newest"}`).toEqual(["cmodx-violation"]);
    }
  });

  it("an instruction cut off by the region end is executed (its #PF): it is checked too", () => {
    // The old `nop; nop` ends the region; core 1 runs the first nop, then the patcher writes
    // `mov al, 0xb8`, then core 1 fetches b8 at the last byte: `mov eax, imm32`, cut off.
    const p = prepareSketch({
      asm: ["core1: mov al, 1", "out 0x10", ".slot s", "nop", "nop", ".endslot"],
      entries: ["core1"], slots: { s: { new: "mov al, 0xb8" } }, ops: [["s"]],
    });
    let coreFirst = 3;
    const chooser: Chooser = {
      choose: (options) => options - 1,
      chooseEvent: (actors, n) => {
        const pick = (actor: number) => actors.slice(0, n).indexOf(actor);
        if (coreFirst > 0 && pick(1) >= 0) return coreFirst--, pick(1);
        return pick(0) >= 0 ? pick(0) : Math.max(0, pick(1));
      },
    };
    const end = p.kase.program.base + p.kase.program.code.length;
    const run = runCase(p.plan, builtinStrategy("direct_write")!, namedModel("coherent-atomic-byte")!, { chooser, soloBudget: p.soloBudget });
    expect(run.observations[0]!.end).toEqual({ kind: "fault", fault: "#PF", addr: end });
    expect(run.rules.map((r) => [r.rule, r.core, r.addr, r.bytes])).toEqual([["unsynchronized-xmc", 1, end - 1, [0xb8]]]);
  });
});
