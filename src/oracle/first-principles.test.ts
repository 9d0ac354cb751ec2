import { describe, expect, it } from "vitest";
import type { Model, Strategy } from "../types.js";
import { NAMED_MODELS, namedModel } from "../models/named.js";
import { builtinStrategy } from "../strategies/registry.js";
import { prepareSketch } from "../testing/build.js";
import { imm8, jumpLabel, kprobeNop, staticCall, twoJumpLabels } from "../testing/programs.js";
import { causesOf, everyRun, findRun } from "../testing/search.js";

// Verdicts known from first principles, each settled by a bounded search over seeds. Nothing here
// tunes a model or a strategy: if one of these fails, the emulator or the oracle is wrong.

const model = (name: string): Model => namedModel(name)!;
const strategy = (name: string): Strategy => builtinStrategy(name)!;
const X86 = NAMED_MODELS.filter((m) => m.icache === "coherent");
const NONCOHERENT = model("noncoherent-icache");

describe("first principles", () => {
  it("direct_write on nop5 -> jmp32 diverges under every model", () => {
    const p = prepareSketch(jumpLabel());
    for (const m of NAMED_MODELS) {
      expect(findRun(p, strategy("direct_write"), m, (o) => o.verdict.kind === "diverges"), m.name).toBeDefined();
    }
  });

  it("direct_single_byte on a one-byte imm8 patch: clean under coherent-atomic-byte, stale under sdm-strict", () => {
    const p = prepareSketch(imm8());
    for (const o of everyRun(p, strategy("direct_single_byte"), model("coherent-atomic-byte"), 300)) {
      expect(o.verdict.kind).toBe("clean");
    }
    const stale = findRun(p, strategy("direct_single_byte"), model("sdm-strict"), (o) => causesOf(o).includes("stale-after-completion"));
    expect(stale).toBeDefined();
  });

  it("text_poke_bp and text_poke_bp_batch are clean on jump labels under the x86 models, stale on noncoherent-icache", () => {
    const p = prepareSketch(jumpLabel(3, 8));
    for (const name of ["text_poke_bp", "text_poke_bp_batch"]) {
      for (const m of X86) {
        for (const o of everyRun(p, strategy(name), m, 120)) expect(o.verdict.kind, `${name} ${m.name}`).toBe("clean");
      }
      const stale = findRun(p, strategy(name), NONCOHERENT, (o) => causesOf(o).includes("stale-after-completion"));
      expect(stale, name).toBeDefined();
    }
  });

  it("the 2013 text_poke_bp reaches bad-emulation on call A -> call B; the batch form does not", () => {
    const p = prepareSketch(staticCall());
    const m = model("x86-realistic");
    expect(findRun(p, strategy("text_poke_bp"), m, (o) => causesOf(o).includes("bad-emulation"))).toBeDefined();
    for (const mm of X86) {
      for (const o of everyRun(p, strategy("text_poke_bp_batch"), mm, 150)) {
        expect(causesOf(o)).not.toContain("bad-emulation");
        expect(o.verdict.kind).toBe("clean");
      }
    }
  });

  it("noncoherent_flush is never stale on noncoherent-icache, but tears a nop5 -> jmp32 straddling an 8-byte boundary", () => {
    // The slot sits at 0x1007..0x100c: one store of E9, one of the displacement across 0x1008.
    const p = prepareSketch(jumpLabel(2, 12, ["nop2"]));
    expect(p.kase.program.slots[0]!.start).toBe(0x1007);
    for (const o of everyRun(p, strategy("noncoherent_flush"), NONCOHERENT, 300)) {
      expect(causesOf(o)).not.toContain("stale-after-completion");
    }
    expect(findRun(p, strategy("noncoherent_flush"), NONCOHERENT, (o) => causesOf(o).includes("torn-fetch"))).toBeDefined();
  });

  it("a two-slot jump-label batch under text_poke_bp_batch: clean as per-site, diverges as atomic", () => {
    const perSite = prepareSketch(twoJumpLabels("per-site"));
    // Three cores: on superscalar-stale the mixed view needs a core to start between the two int3 stores.
    const atomic = prepareSketch(twoJumpLabels("atomic", 3));
    for (const m of X86) {
      for (const o of everyRun(perSite, strategy("text_poke_bp_batch"), m, 100)) expect(o.verdict.kind, m.name).toBe("clean");
      expect(findRun(atomic, strategy("text_poke_bp_batch"), m, (o) => o.verdict.kind === "diverges", 3000), m.name).toBeDefined();
    }
  });

  it("direct_single_byte raises unsynchronized-xmc on imm8 under sdm-strict, but not on kprobe nop -> int3", () => {
    const m = model("sdm-strict");
    const rule = (o: { verdict: { rules: readonly { rule: string }[] } }) => o.verdict.rules.some((r) => r.rule === "unsynchronized-xmc");
    expect(findRun(prepareSketch(imm8()), strategy("direct_single_byte"), m, rule)).toBeDefined();
    const kp = prepareSketch(kprobeNop());
    let probes = 0;
    for (const o of everyRun(kp, strategy("direct_single_byte"), m, 300)) {
      expect(rule(o)).toBe(false);
      probes += o.run.observations.reduce((n, ob) => n + ob.events.filter((e) => e.kind === "probe").length, 0);
    }
    expect(probes).toBeGreaterThan(0); // the probe was really hit, so the rule was really checked
  });

  it("a core a handler makes retry forever is hung by the strategy: a hang divergence, whatever the budget", () => {
    // The patcher waits for every core to be seen outside the slot, while its handler makes a
    // core that trapped there retry until the patch is done: a livelock on both sides.
    const retryUntilDone: Strategy = {
      name: "retry_until_done",
      description: "test: int3, then waitOutside the slot, while the handler retries the trap",
      *patch(ctx, slots) {
        for (const s of slots) {
          yield* ctx.store("busy", s.start);
          yield* ctx.write(s.start, Uint8Array.of(0xcc));
          yield* ctx.waitOutside({ lo: s.start, hi: s.start + s.len });
          yield* ctx.write(s.start, s.to);
          yield* ctx.store("busy", undefined);
        }
      },
      *onInt3(ctx, _core, addr) {
        return (yield* ctx.load("busy")) === addr ? ctx.resume(addr) : ctx.notMine();
      },
    };
    let hung = 0;
    for (const extra of [0, 1, 2, 3]) { // the budget's parity once decided whether the core was caught in its handler
      const p = prepareSketch({
        asm: ["start: mov ecx, 2", ...Array<string>(extra).fill("nop"), "loop:", ".slot a", "nop5", ".endslot",
          "mov al, 1", "out 0x10", "dec ecx", "jne loop", "hlt", "far: mov al, 2", "out 0x10", "hlt"],
        entries: ["start"], slots: { a: { new: "jmp far" } }, ops: [["a"]],
      });
      for (const o of everyRun(p, retryUntilDone, model("coherent-atomic-byte"), 40)) {
        if (!o.run.hung) continue;
        hung++;
        expect(o.verdict.kind).toBe("diverges");
        expect(o.verdict.divergences.map((d) => d.effect)).toContain("hang");
      }
    }
    expect(hung).toBeGreaterThan(20);
  });
});
