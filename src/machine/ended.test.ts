import { describe, expect, it } from "vitest";
import type { Strategy } from "../types.js";
import { NAMED_MODELS, namedModel } from "../models/named.js";
import { builtinStrategy } from "../strategies/registry.js";
import { prepareSketch, type CaseSketch } from "../testing/build.js";
import { everyRun } from "../testing/search.js";
import { runOnce } from "../differential.js";
import { sync } from "../strategies/sync.js";

// SPEC 3.3: an ended core counts as parked, acknowledged, outside every range and invalidated.

/** Core 1 loops through a jump label; core 2 halts at once; core 3 halts after two passages. */
const mixedLifetimes: CaseSketch = {
  asm: [
    "long: mov ecx, 30",
    "loop:", ".slot jl", "nop5", ".endslot",
    "mov al, 1", "out 0x10", "jmp next",
    "yes: mov al, 2", "out 0x10",
    "next: dec ecx", "jne loop", "hlt",
    "quit: hlt",
    "short: mov ecx, 2", "jmp loop",
  ],
  entries: ["long", "quit", "short"],
  slots: { jl: { new: "jmp yes" } },
  ops: [["jl"]],
};

const waitOutsideThenWrite: Strategy = {
  name: "wait_outside",
  description: "test: RCU-tasks style, wait until every core was seen outside the slot, then write and sync",
  *patch(ctx, slots) {
    for (const s of slots) {
      yield* ctx.write(s.start, Uint8Array.of(0xcc));
      yield* ctx.waitOutside({ lo: s.start, hi: s.start + s.len });
      yield* ctx.write(s.start, s.to);
      yield* sync(ctx);
    }
  },
};

const ipiInsideStopMachine: Strategy = {
  name: "ipi_in_stop_machine",
  description: "test: an IPI sent while every core is parked can never be acknowledged",
  *patch(ctx, slots) {
    yield* ctx.stopMachine(function* (c) {
      for (const s of slots) yield* c.write(s.start, s.to);
      yield* sync(c);
    });
  },
};

describe("ended cores never block the patcher", () => {
  const p = prepareSketch(mixedLifetimes);
  for (const name of ["stop_machine", "sdm_xmc", "text_poke_bp", "noncoherent_flush", "int3_flush"]) {
    it(`${name} finishes on every model when cores halt before or during the patch`, () => {
      for (const m of NAMED_MODELS) {
        for (const o of everyRun(p, builtinStrategy(name)!, m, 60)) {
          expect(o.run.hung).toBeUndefined();
          expect(o.run.ops[0]!.returned).toBeLessThan(Infinity);
        }
      }
    });
  }

  it("waitOutside returns although a core has ended", () => {
    for (const o of everyRun(p, waitOutsideThenWrite, namedModel("x86-realistic")!, 100)) {
      expect(o.run.hung).toBeUndefined();
    }
  });

  it("an IPI sent inside a stopMachine body is a hang (deadlock), reported, not a test time-out", () => {
    const o = runOnce(p, { strategy: ipiInsideStopMachine, model: namedModel("coherent-atomic-byte")!, seed: 1 });
    expect(o.run.hung?.deadlock).toBe(true);
    expect(o.run.hung?.patcherStuck).toBe(true);
    expect(o.verdict.kind).toBe("diverges");
    expect(o.verdict.divergences.map((d) => d.effect)).toContain("hang");
    expect(o.verdict.divergences.every((d) => d.effect === "hang")).toBe(true);
  });
});
