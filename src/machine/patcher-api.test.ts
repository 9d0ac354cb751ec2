import { describe, expect, it } from "vitest";
import type { HandlerCtx, Steps, Strategy } from "../types.js";
import { NAMED_MODELS } from "../models/named.js";
import { prepareSketch, type CaseSketch } from "../testing/build.js";
import { everyRun } from "../testing/search.js";

// SPEC 5.1 and 5.3 as a strategy written against the SPEC sees them: a strategy checks what the
// API promises and throws (a harness error) when the machine breaks the promise.

/** Two cores loop through a jump label long enough to take IPIs and traps mid-run. */
const loopingCores: CaseSketch = {
  asm: [
    "start: mov ecx, 20",
    "loop:", ".slot jl", "nop5", ".endslot",
    "mov al, 1", "out 0x10", "jmp next",
    "yes: mov al, 2", "out 0x10",
    "next: dec ecx", "jne loop", "hlt",
  ],
  entries: ["start", "start"],
  slots: { jl: { new: "jmp yes" } },
  ops: [["jl"]],
};

/** An IPI function of several steps, so its ack comes well after the IPI's delivery. */
function* slowMark(ctx: HandlerCtx): Steps {
  yield* ctx.atomicAdd(`busy:${ctx.core}`, 1);
  yield* ctx.atomicAdd(`busy:${ctx.core}`, 1);
  yield* ctx.store(`done:${ctx.core}`, true);
}

const twoIpisOneWait: Strategy = {
  name: "two_ipis_one_wait",
  description: "test: a plain IPI, then one whose function takes steps, then one waitAcks",
  *patch(ctx, slots) {
    yield* ctx.ipiAll();
    yield* ctx.ipiAll(slowMark);
    yield* ctx.waitAcks();
    // Every core running now was running at the second IPI: its function must have finished.
    for (let c = 1; c < ctx.cores; c++) {
      if (!ctx.ended(c) && ctx.peek(`done:${c}`) !== true) throw new Error(`waitAcks returned before core ${c}'s IPI function finished`);
    }
    for (const s of slots) yield* ctx.write(s.start, s.to);
  },
};

const trapsSeen: { core: number; addr: number; ctxCore: number }[] = [];

const int3ThenResume: Strategy = {
  name: "int3_then_resume",
  description: "test: int3 on the slot, sync, the target, sync; the handler records its arguments",
  *patch(ctx, slots) {
    for (const s of slots) {
      yield* ctx.write(s.start, Uint8Array.of(0xcc));
      yield* ctx.ipiAll();
      yield* ctx.waitAcks();
      yield* ctx.write(s.start + 1, s.to.subarray(1));
      yield* ctx.write(s.start, s.to.subarray(0, 1));
    }
  },
  *onInt3(ctx, core, addr) {
    trapsSeen.push({ core, addr, ctxCore: ctx.core });
    return ctx.resume(addr);
  },
};

describe("the patcher API keeps its promises to strategies (SPEC 5.1, 5.3)", () => {
  const p = prepareSketch(loopingCores);

  it("waitAcks waits for every IPI sent before it, not for one ack per core", () => {
    for (const m of NAMED_MODELS) {
      for (const o of everyRun(p, twoIpisOneWait, m, 80)) {
        expect(o.run.harnessError).toBeUndefined();
        expect(o.run.hung).toBeUndefined();
      }
    }
  });

  it("onInt3 is called as onInt3(ctx, core, addr), on the trapping core", () => {
    const slotStart = p.kase.program.slots[0]!.start;
    trapsSeen.length = 0;
    for (const m of NAMED_MODELS) for (const o of everyRun(p, int3ThenResume, m, 40)) expect(o.run.harnessError).toBeUndefined();
    expect(trapsSeen.length).toBeGreaterThan(0);
    for (const t of trapsSeen) {
      expect(t.addr).toBe(slotStart);
      expect(t.core).toBe(t.ctxCore);
      expect([1, 2]).toContain(t.core);
    }
  });

  it("a store step made by hand is held to the model's stores (SPEC 4.1): one store, or a harness error, never a torn write made whole", () => {
    const store = (pieces: (s: { start: number; to: Uint8Array }) => [number, Uint8Array][]): Strategy => ({
      name: "hand_store", description: "test: store steps yielded without ctx.write",
      *patch(_ctx, slots) {
        for (const s of slots) for (const [addr, bytes] of pieces(s)) yield { k: "store", addr, bytes };
      },
    });
    const whole = store((s) => [[s.start, s.to]]);
    const byByte = store((s) => [...s.to].map((b, i) => [s.start + i, Uint8Array.of(b)] as [number, Uint8Array]));
    for (const m of NAMED_MODELS) {
      // The 5-byte slot at 0x1005 crosses an aligned 8-byte word: two stores under aligned8, five under byte.
      for (const o of everyRun(p, whole, m, 5)) expect(o.run.harnessError).toMatch(/^strategy hand_store: a store step of 5 byte\(s\) at 0x1005 is not one store/);
      for (const o of everyRun(p, byByte, m, 5)) expect(o.run.harnessError).toBeUndefined();
    }
  });
});
