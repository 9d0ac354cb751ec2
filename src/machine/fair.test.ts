import { describe, expect, it } from "vitest";
import type { Strategy } from "../types.js";
import { namedModel } from "../models/named.js";
import { prepareSketch } from "../testing/build.js";
import { runOnce } from "../differential.js";

// SPEC 6.4: past its budget a run goes on "as many again under a round-robin fair schedule", so
// that a program core hung only by an unfair schedule is told from one hung by the strategy.

/** The jump-label loop; `pad` a dead byte after the hlt (nothing executes it). */
const p = prepareSketch({
  asm: ["core1: mov ecx, 10", "loop:", ".slot jl", "nop5", ".endslot", "mov al, 1", "out 0x10", "jmp next",
    "yes: mov al, 2", "out 0x10", "next: dec ecx", "jne loop", "hlt", "pad: nop"],
  entries: ["core1", "core1"],
  slots: { jl: { new: "jmp yes" } },
  ops: [["jl"]],
});
const pad = p.kase.program.base + p.kase.program.code.length - 1;

/** Never returns: writes the target, then stores to the dead byte at every step (each store a snoop at every core). */
const storesForever: Strategy = {
  name: "stores_forever",
  description: "test: never returns, storing at every step",
  *patch(ctx, slots) {
    for (const s of slots) yield* ctx.write(s.start, s.to);
    for (let v = 0x90; ; v ^= 1) yield* ctx.write(pad, Uint8Array.of(v));
  },
};

/** Never returns: invalidates the I-cache at every step (each an invalidation at every core). */
const invalidatesForever: Strategy = {
  name: "invalidates_forever",
  description: "test: never returns, invalidating at every step",
  *patch(ctx, slots) {
    for (const s of slots) yield* ctx.write(s.start, s.to);
    for (;;) yield* ctx.invalidateIcache({ lo: p.kase.program.base, hi: pad + 1 });
  },
};

/** Never returns: at every step an IPI whose function takes `steps` steps, never waiting for the acks. */
function interruptingForever(steps: number): Strategy {
  return {
    name: `interrupts_${steps}_forever`,
    description: `test: never returns, sending an IPI with a ${steps}-step function at every step`,
    *patch(ctx, slots) {
      for (const s of slots) yield* ctx.write(s.start, s.to);
      for (;;) {
        yield* ctx.ipiAll(function* (c) {
          for (let i = 0; i < steps; i++) yield* c.serializeSelf();
        });
      }
    },
  };
}

describe("the fair phase", () => {
  // PCT with the patcher on top runs it at every step until the budget: only the fair phase lets
  // the cores run. A turn spent delivering the latest snoop (or invalidation) alone starved them,
  // as did IPIs taken before every instruction (the core never left its handlers), and cores that
  // executed nothing were admitted as hung, excusing the patcher: clean.
  for (const [strategy, model] of [[storesForever, "x86-realistic"], [invalidatesForever, "noncoherent-icache"], [interruptingForever(1), "sdm-strict"]] as const) {
    it(`runs every core between patcher steps: ${strategy.name} under ${model} is a hang under every schedule`, () => {
      for (const depth of [1, 2, 3]) {
        // Few seeds: each run goes to twice its budget, the invalidations pile up in the first.
        for (let seed = 0; seed < 8; seed++) {
          const o = runOnce(p, { strategy, model: namedModel(model)!, seed, scheduler: { kind: "pct", depth, length: 50 } });
          expect(o.run.hung, `depth ${depth} seed ${seed}`).toBeDefined();
          expect(o.verdict.kind, `depth ${depth} seed ${seed}`).toBe("diverges");
          expect(o.verdict.divergences.map((d) => d.effect)).toContain("hang");
        }
      }
    });
  }

  // With long IPI functions, a turn of one handler step, or a budget counting handler steps, left
  // each core fewer instructions than its program needs (200 passages): those outside a handler
  // at the end were admitted, and the patcher excused (random schedules of seeds 6 and 13).
  it("gives each core its instructions whatever the handlers take: long IPI functions sent for ever are a hang", () => {
    const long = prepareSketch({
      asm: ["core1: mov ecx, 200", "loop:", ".slot jl", "nop5", ".endslot", "mov al, 1", "out 0x10", "jmp next",
        "yes: mov al, 2", "out 0x10", "next: dec ecx", "jne loop", "hlt"],
      entries: ["core1", "core1"],
      slots: { jl: { new: "jmp yes" } },
      ops: [["jl"]],
    });
    for (const seed of [6, 13]) {
      const o = runOnce(long, { strategy: interruptingForever(100), model: namedModel("x86-realistic")!, seed });
      expect(o.run.hung?.patcherStuck, `seed ${seed}`).toBe(true);
      expect(o.verdict.divergences.map((d) => d.effect), `seed ${seed}`).toContain("hang");
    }
  });

  // A turn runs its handler's steps only up to a bound: a handler spin-waiting with steps (not
  // ctx.await) for a flag the patcher sets must let the patcher have its turns (6 of 90 false
  // hangs when a turn ran handler steps without a bound).
  it("gives the patcher its turns while a handler spin-waits for it: a correct strategy is no hang", () => {
    const spinsInHandler: Strategy = {
      name: "spins_in_handler",
      description: "test: int3 patching whose handler spins on a data flag the patcher sets",
      *patch(ctx, slots) {
        for (const s of slots) {
          yield* ctx.store("target", s);
          yield* ctx.write(s.start, Uint8Array.of(0xcc));
          for (let i = 0; i < 5; i++) yield* ctx.store("pad", i);
          yield* ctx.store("go", true);
          for (const [at, bytes] of [[s.start + 1, s.to.subarray(1)], [s.start, s.to.subarray(0, 1)]] as const) {
            yield* ctx.ipiAll();
            yield* ctx.waitAcks();
            yield* ctx.write(at, bytes);
          }
          yield* ctx.ipiAll();
          yield* ctx.waitAcks();
        }
      },
      *onInt3(ctx, _core, addr) {
        const t = (yield* ctx.load("target")) as { start: number; to: Uint8Array } | undefined;
        if (!t || t.start !== addr) return ctx.notMine();
        while (!(yield* ctx.load("go"))) {
          // Spinning with steps: each burns budget, as SPEC 5.1 warns.
        }
        return ctx.emulate(t.to);
      },
    };
    for (const depth of [1, 2, 3]) {
      for (let seed = 0; seed < 30; seed++) {
        const o = runOnce(p, { strategy: spinsInHandler, model: namedModel("x86-realistic")!, seed, scheduler: { kind: "pct", depth, length: 50 } });
        expect(o.run.hung, `depth ${depth} seed ${seed}`).toBeUndefined();
        expect(o.verdict.kind, `depth ${depth} seed ${seed}`).toBe("clean");
      }
    }
  });
});
