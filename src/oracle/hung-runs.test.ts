import { describe, expect, it } from "vitest";
import type { Strategy } from "../types.js";
import { parseCase } from "../case/load.js";
import { prepare, type Outcome, type PreparedCase } from "../differential.js";
import { NAMED_MODELS, namedModel } from "../models/named.js";
import { builtinStrategy } from "../strategies/registry.js";
import { everyRun, findRun } from "../testing/search.js";

// Hung runs (SPEC 6.4) beside the rest of the verdict. Each case lets core 1 take an admissible
// path that loops ~2^32 times (slot a old, slot b new: ecx counts up from 3), so some runs hang
// with core 1 admitted: a reference run could run as long.

const LONG_LOOP = ["c:", ".slot a", "mov ecx, 3", ".endslot", "loop:", ".slot b", "add ecx, -1", ".endslot", "cmp ecx, 0", "jne loop"];
const LONG_LOOP_SLOTS = [{ name: "a", new: "mov ecx, -3" }, { name: "b", new: "add ecx, 1" }];

/** Core 2 passes a jump label three times, each time printing which version it ran. */
const JUMP_LABEL_CORE = ["d: mov ecx, 3", "dloop:", ".slot e", "nop5", ".endslot", "mov al, 1", "out 0x11", "jmp dn", "dy: mov al, 2", "out 0x11", "dn: dec ecx", "jne dloop", "hlt"];

function load(name: string, asm: string[], cores: number, ops: string[][], extraSlots: object[] = []): PreparedCase {
  const { kase, soloBudget } = parseCase({
    xmcfuzz: "case", version: 2, name, cores, code: { base: "0x1000", asm },
    entries: cores === 3 ? ["c", "d"] : ["c"], slots: [...LONG_LOOP_SLOTS, ...extraSlots], ops: ops.map((slots) => ({ slots })),
  });
  return prepare(kase, soloBudget);
}

const hungWithCore1Running = (o: Outcome) => o.run.hung !== undefined && o.run.hung.stuckCores.includes(1) && !o.run.hung.blockedCores.includes(1);

describe("hung runs", () => {
  it("stop_machine never diverges when a released core's admissible long loop with IF=0 keeps the next op from parking it", () => {
    // Op 1 may release core 1 between slots a and b; core 1 then loops with IF=0, so op 2's
    // stop_machine waits for it and core 2 stays parked: the run hangs as a real one would wait.
    const p = load("sm-hang", [...LONG_LOOP.slice(0, 4), "cli", ...LONG_LOOP.slice(4), "sti", "mov al, 7", "out 0x10", "hlt", ...JUMP_LABEL_CORE], 3,
      [["a", "b"], ["e"]], [{ name: "e", new: "jmp dy" }]);
    let hung = 0;
    for (const m of NAMED_MODELS) {
      for (const o of everyRun(p, builtinStrategy("stop_machine")!, m, 60)) {
        if (o.run.hung?.blockedCores.length) hung++;
        expect(o.verdict.kind, m.name).toBe("clean");
      }
    }
    expect(hung).toBeGreaterThan(0);
  });

  it("a core that ended with a torn jump is a divergence even when another core hangs admissibly", () => {
    const stall: Strategy = {
      name: "stall_after_two", description: "writes the op's first two slots, then waits forever",
      *patch(ctx, slots) {
        yield* ctx.write(slots[0]!.start, slots[0]!.to);
        yield* ctx.write(slots[1]!.start, slots[1]!.to);
        yield* ctx.await(() => false);
      },
    };
    const p = load("hung-hides-pf", [...LONG_LOOP, "mov al, 7", "out 0x10", "hlt", ...JUMP_LABEL_CORE], 3, [["e", "a", "b"]], [{ name: "e", new: "jmp dy" }]);
    const m = namedModel("coherent-atomic-byte")!;
    const o = findRun(p, stall, m, (r) => hungWithCore1Running(r) && r.run.observations[1]!.end.kind === "fault", 400);
    expect(o).toBeDefined();
    expect(o!.verdict.kind).toBe("diverges");
    expect(o!.verdict.divergences.find((d) => d.core === 2)).toMatchObject({ cause: "torn-fetch", effect: "wild-jump" });
  });

  it("a wrong code left when an op returned is a divergence even when the run then hangs admissibly", () => {
    const wrongLast: Strategy = {
      name: "wrong_last", description: "writes the targets but leaves int3 at the last slot's start",
      *patch(ctx, slots) {
        for (const s of slots.slice(0, -1)) yield* ctx.write(s.start, s.to);
        yield* ctx.write(slots[slots.length - 1]!.start, Uint8Array.of(0xcc));
      },
    };
    const p = load("hung-hides-wrong-code", [...LONG_LOOP, "mov al, 7", "out 0x10", "hlt", "never:", ".slot e", "nop5", ".endslot", "hlt"], 2,
      [["a", "b", "e"]], [{ name: "e", new: "jmp never" }]);
    const o = findRun(p, wrongLast, namedModel("coherent-atomic-byte")!, hungWithCore1Running, 400);
    expect(o).toBeDefined();
    expect(o!.verdict.divergences.map((d) => d.effect)).toContain("wrong-final-code");
  });

  it("a core deadlocked in its int3 handler stays a hang even when another core hangs admissibly", () => {
    // The handler awaits the patch's end; the patcher first waits for that core's IPI ack, which it
    // cannot take with IF=0: the strategy's own deadlock, whatever core 1 does meanwhile.
    const handlerWaits: Strategy = {
      name: "handler_waits", description: "int3 on e, then an IPI sync the trapped core cannot answer",
      *patch(ctx, slots) {
        const e = slots[slots.length - 1]!;
        yield* ctx.write(e.start, Uint8Array.of(0xcc));
        for (const s of slots.slice(0, -1)) yield* ctx.write(s.start, s.to);
        yield* ctx.ipiAll();
        yield* ctx.waitAcks();
        yield* ctx.write(e.start, e.to);
        yield* ctx.store("go", 1);
      },
      *onInt3(ctx, _core, addr) {
        yield* ctx.await(() => ctx.peek("go") === 1);
        return ctx.resume(addr + 5);
      },
    };
    const p = load("handler-deadlock", [...LONG_LOOP, "mov al, 7", "out 0x10", "hlt", "d:", ".slot e", "nop5", ".endslot", "mov al, 1", "out 0x11", "hlt", "dy: mov al, 2", "out 0x11", "hlt"], 3,
      [["a", "b", "e"]], [{ name: "e", new: "jmp dy" }]);
    const o = findRun(p, handlerWaits, namedModel("coherent-atomic-byte")!, (r) => hungWithCore1Running(r) && r.run.hung!.blockedCores.includes(2), 400);
    expect(o).toBeDefined();
    expect(o!.verdict.divergences.map((d) => [d.core, d.effect])).toContainEqual([2, "hang"]);
  });
});

describe("a hung core's divergence point", () => {
  it("is its first unmatched event, with that event's time and phase, not the run's end (SPEC 7.1)", () => {
    // Slot a: `mov al, 5` (b0 05) -> `jmp short after` (eb 00). A torn eb 05 jumps over the
    // `out; hlt; nop; nop` to dead code that prints 0x77, a value no version prints, and spins.
    const { kase, soloBudget } = parseCase({
      xmcfuzz: "case", version: 2, name: "torn-then-spin", cores: 2, code: { base: "0x1000", asm: [
        "c:", ".slot a", "mov al, 5", ".endslot", "after: out 0x10", "hlt", "nop", "nop", "mov al, 0x77", "out 0x10", "spin: jmp spin"] },
      entries: ["c"], slots: [{ name: "a", new: "jmp short after" }], ops: [{ slots: ["a"] }],
    });
    const prepared = prepare(kase, soloBudget);
    const tornThenSpin = (o: Outcome) => o.run.hung !== undefined && o.run.observations[0]!.events.some((e) => e.kind === "out" && e.value === 0x77);
    const o = findRun(prepared, builtinStrategy("direct_write")!, namedModel("coherent-atomic-byte")!, tornThenSpin, 400)!;
    expect(o).toBeDefined();
    const d = o.verdict.divergences.find((x) => x.core === 1)!;
    const obs = o.run.observations[0]!;
    expect([d.effect, d.point]).toEqual(["hang", 0]);
    expect(d.t).toBe(obs.times[0]);
    expect(d.t).toBeLessThan(o.run.events);
    // Printed while the patcher was still writing the jump: not after the op returned.
    expect(d.t).toBeLessThan(o.run.ops[0]!.returned);
    expect(d.phase.kind).toBe("write");
    expect(d.detail).toMatch(/hung after \d+ instructions; its event #0 is not allowed/);
  });
});

describe("a wrong code left when an op returned", () => {
  it("is signed with that op's last step, whether the op is the last or not (the last one's was `after/0`)", () => {
    // Every op leaves a stray byte past the code's `hlt`: the check at its return finds it.
    const { kase, soloBudget } = parseCase({
      xmcfuzz: "case", version: 2, name: "stray", cores: 2, code: { base: "0x1000", asm: ["c:", ".slot a", "nop2", ".endslot", ".slot b", "nop2", ".endslot", "hlt", "pad: nop"] },
      entries: ["c"], slots: [{ name: "a", new: ["nop", "nop"] }, { name: "b", new: ["nop", "nop"] }], ops: [{ slots: ["a"] }, { slots: ["b"] }],
    });
    const pad = kase.program.base + kase.program.code.length - 1;
    const stray: Strategy = {
      name: "stray_byte", description: "writes each slot's target, then a stray byte outside every slot",
      *patch(ctx, slots) {
        for (const s of slots) yield* ctx.write(s.start, s.to);
        yield* ctx.write(pad, Uint8Array.of(0xcc));
      },
    };
    const phases = (ops: { slots: string[] }[]) => {
      const o = findRun(prepare({ ...kase, ops: ops.map((op, i) => ({ ...kase.ops[i]!, ...op })) } as typeof kase, soloBudget), stray, namedModel("coherent-atomic-byte")!, () => true, 1)!;
      return o.verdict.divergences.filter((d) => d.effect === "wrong-final-code").map((d) => `${d.phase.kind}/${d.phase.syncs}`);
    };
    expect(phases([{ slots: ["a"] }, { slots: ["b"] }])).toEqual(["write/0"]);
    expect(phases([{ slots: ["a"] }])).toEqual(["write/0"]);
  });
});
