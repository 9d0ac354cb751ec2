import { describe, expect, it } from "vitest";
import type { Model, Strategy } from "../types.js";
import { NAMED_MODELS, namedModel } from "../models/named.js";
import { builtinStrategy } from "../strategies/registry.js";
import { prepareSketch } from "../testing/build.js";
import { jumpLabel, kprobeNop } from "../testing/programs.js";
import { causesOf, everyRun } from "../testing/search.js";
import { runOnce } from "../differential.js";
import { parseDecisions } from "../schedule/choosers.js";

// Provenance (SPEC 6.5) names causes: which op a passage's bytes are judged against decides
// whether a stale byte reads as old or as intermediate.

describe("provenance", () => {
  it("is judged against the op that changed the slot, not one that re-patched it to the version it holds", () => {
    // Op 0 patches the jump label in; op 1 asks for the same version again, a no-op for the slot.
    const p = prepareSketch({ ...jumpLabel(3, 12), ops: [["jl"], ["jl"]] });
    expect(p.plan.opsOfSlot[0]).toEqual([0, 1]);
    expect(p.plan.changingOpsOfSlot[0]).toEqual([0]);
    let stale = 0, runs = 0;
    for (const o of everyRun(p, builtinStrategy("direct_write")!, namedModel("sdm-strict")!, 300)) {
      runs++;
      for (const q of o.run.passages) {
        expect(q.op).toBe(0);
        // A plain write stores target bytes only: nothing a core fetches can be intermediate.
        expect(q.fetched.flatMap((f) => f.origin)).not.toContain("intermediate");
      }
      if (o.verdict.divergences.some((d) => d.cause === "stale-after-completion")) stale++;
    }
    expect(runs).toBe(300);
    // Prefetched nops executed after op 0 returned: stale, as named (judged against op 1 they were torn).
    expect(stale).toBeGreaterThan(0);
  });

  it("judges a handler against the op whose patching it met: skipping a re-patched jump is bad emulation, not stale code", () => {
    // The 2013 text_poke_bp handler resumes at the slot end: right for a nop, wrong for the jmp that
    // op 1 re-patches over. Judged against op 0 (nop5 -> jmp) skipping would read as its old nop.
    const p = prepareSketch({ ...jumpLabel(3, 12), ops: [["jl"], ["jl"]] });
    let trappedInOp1 = 0;
    for (const o of everyRun(p, builtinStrategy("text_poke_bp")!, namedModel("coherent-atomic-byte")!, 300)) {
      for (const q of o.run.passages) {
        if (q.resolution !== "resume" || q.begin < o.run.ops[1]!.begin) continue;
        trappedInOp1++;
        expect(q.op).toBe(0);
        expect(q.badEmulation).toBe(true);
      }
      for (const d of o.verdict.divergences) expect(d.cause).toBe("bad-emulation");
    }
    expect(trappedInOp1).toBeGreaterThan(0);
  });

  it("reads skipping a multi-instruction old version as that version's effect, not bad emulation", () => {
    // The 2013 handler resumes at the slot end: for the old `nop2; nop3` that is exactly what the
    // old version does (SPEC 6.1 counts it as one passage), though its first instruction alone is not.
    const p = prepareSketch({ ...jumpLabel(3, 12), asm: jumpLabel(3, 12).asm.flatMap((l) => (l === "nop5" ? ["nop2", "nop3"] : [l])) });
    expect(p.kase.program.slots[0]!.old).toEqual(Uint8Array.of(0x66, 0x90, 0x0f, 0x1f, 0x00));
    let resumed = 0;
    for (const o of everyRun(p, builtinStrategy("text_poke_bp")!, namedModel("coherent-atomic-byte")!, 300)) {
      for (const q of o.run.passages) {
        if (q.resolution !== "resume") continue;
        resumed++;
        expect(q.badEmulation).toBe(false);
        expect(q.resolvedAs).toBe("old");
      }
      expect(causesOf(o)).not.toContain("bad-emulation");
    }
    expect(resumed).toBeGreaterThan(0);
  });

  it("judges notMine on the strategy's own CC like any resolution: a bogus probe is bad emulation, not unexplained", () => {
    // Re-patching a kprobe slot to its nop (a no-op), int3_nosync still writes its CC; a core that
    // traps on it after the descriptor was retired is handed to the program, which sees a probe.
    const p = prepareSketch({ ...kprobeNop(3, 10), ops: [["!kp"]] });
    let diverged = 0;
    for (const o of everyRun(p, builtinStrategy("int3_nosync")!, namedModel("coherent-atomic-byte")!, 300)) {
      if (o.verdict.kind !== "diverges") continue;
      diverged++;
      for (const d of o.verdict.divergences) expect(d.cause).toBe("bad-emulation");
    }
    expect(diverged).toBeGreaterThan(0);
  });

  it("judges a passage against the latest begun op listing the slot while none that changes it has begun", () => {
    // Op 0 re-patches the probe slot to its nop; op 1 puts the probe in. During op 0 a CC there is
    // the strategy's, not op 1's new version (op 1 has not begun).
    const p = prepareSketch({ ...kprobeNop(3, 10), ops: [["!kp"], ["kp"]] });
    let during = 0;
    for (const o of everyRun(p, builtinStrategy("text_poke_bp_batch")!, namedModel("coherent-atomic-byte")!, 200)) {
      const [op0, op1] = o.run.ops;
      for (const q of o.run.passages) {
        if (q.begin < op0!.begin) expect(q.op).toBe(1);
        else if (q.begin < op1!.begin) {
          during++;
          expect(q.op).toBe(0);
          for (const f of q.fetched) if (f.bytes[0] === 0xcc) expect(f.origin[0]).toBe("int3");
        } else expect(q.op).toBe(1);
      }
    }
    expect(during).toBeGreaterThan(0);
  });

  it("records a passage's fetch that runs into the code end: the #PF names its torn bytes, not unexplained", () => {
    // The slot ends one byte before the code: after the new first nop (run or emulated), the old
    // `b9` starts a five-byte instruction that the code end cuts off. The faulting fetch is
    // executed (its #PF, SPEC 2), none of the versions' instructions: it widens its passage (SPEC
    // 6.1). Every fetch path: direct, buffered, line versions, and direct from line versions (a
    // user's model).
    const p = prepareSketch({
      asm: ["core1: call tail", "hlt", "tail:", ".slot s", "mov al, 0xb9", ".endslot", "ret"],
      entries: ["core1"],
      slots: { s: { new: ["nop", "nop"] } },
      ops: [["s"]],
    });
    const end = 0x1000 + p.plan.kase.program.code.length;
    const directFromLines: Model = { ...namedModel("noncoherent-icache")!, name: "direct-lines", fetchBlock: 0, prefetchDepth: 0 };
    for (const model of [...NAMED_MODELS, directFromLines]) {
      let faulted = 0;
      for (const o of everyRun(p, builtinStrategy("int3_flush")!, model, 200)) {
        for (const d of o.verdict.divergences) {
          if (d.effect !== "wild-jump") continue;
          faulted++;
          expect(d.cause).toBe("torn-fetch");
          const last = d.passage!.fetched.at(-1)!;
          expect(last).toMatchObject({ addr: end - 2, bytes: [0xb9, 0xc3], origin: ["old", "invariant"] });
          expect(d.passage!.widened).toBe(true);
        }
      }
      expect(faulted, model.name).toBeGreaterThan(0);
    }
  });
});

describe("an instruction cut off by the region end", () => {
  it("begins a passage when it overlaps a slot: torn at the slot's start, it is a torn fetch of that slot", () => {
    // new nop4 = 0f 1f 40 00; its first two bytes before the old 80 90 read as a 7-byte nop that
    // runs past the region end (only hlt follows the slot): a #PF at the end, which is the tear.
    const p = prepareSketch({
      asm: ["core1: mov al, 0x11", "out 0x10", ".slot s", "nop", "mov al, 0x80", "nop", ".endslot", "hlt"],
      entries: ["core1", "core1"], slots: { s: { new: "nop4" } }, ops: [["s"]],
    });
    const end = p.kase.program.base + p.kase.program.code.length;
    let cutOff = 0;
    for (const o of everyRun(p, builtinStrategy("direct_write")!, namedModel("sdm-strict")!, 300)) {
      for (const obs of o.run.observations) {
        if (obs.end.kind !== "fault" || obs.end.fault !== "#PF" || obs.end.addr !== end) continue;
        cutOff++;
        const mine = o.run.passages.filter((q) => q.core === obs.core);
        // 0f 1f (new) then the old 80: 0f 1f 80 needs a disp32 past the hlt.
        const origin = mine.at(-1)!.fetched.at(-1)!.origin;
        expect(origin.slice(0, 3)).toEqual(["new", "new", "old"]);
        expect(origin.at(-1)).toBe("invariant");
        const d = o.verdict.divergences.find((x) => x.core === obs.core)!;
        expect([d.cause, d.effect, d.slotKind]).toEqual(["torn-fetch", "wild-jump", "nop;movr8;nop->nop4"]);
      }
    }
    expect(cutOff).toBeGreaterThan(0);
  });
});

describe("an instruction torn across two adjacent slots", () => {
  // Slot a (nop; mov al, 0x80 -> nop3) is followed at once by slot b (5 nops -> mov al, 2; out
  // 0x20; nop). A core that fetches a's first new bytes and stale b bytes runs a 7-byte nop that
  // starts in a and ends at b+4: a passage of b begins with it (SPEC 6.1: pc not strictly inside
  // b, the instruction overlaps b), widened, not at b+4.
  const p = prepareSketch({
    asm: ["core1: mov ecx, 3", "loop:", ".slot a", "nop", "mov al, 0x80", ".endslot", ".slot b", "nop", "nop", "nop", "nop", "nop", ".endslot",
      "mov al, 1", "out 0x10", "dec ecx", "jne loop", "hlt"],
    entries: ["core1"], slots: { a: { new: "nop3" }, b: { new: ["mov al, 2", "out 0x20", "nop"] } }, ops: [["a", "b"]],
  });
  const [a, b] = p.kase.program.slots;

  it("begins a widened passage of the second slot with it, and none strictly inside a slot", () => {
    let spanning = 0;
    for (const o of everyRun(p, builtinStrategy("direct_write")!, namedModel("sdm-strict")!, 300)) {
      for (const q of o.run.passages) {
        const s = p.kase.program.slots[q.slot]!, first = q.fetched[0]!.addr;
        expect(first > s.start && first < s.start + s.len, `passage of ${s.name} begins at 0x${first.toString(16)}`).toBe(false);
      }
      const torn = o.run.passages.filter((q) => q.slot === 1 && q.fetched[0]!.addr === a!.start);
      for (const q of torn) {
        spanning++;
        expect(q.widened).toBe(true);
        // Its twin in slot a began with the same instruction.
        expect(o.run.passages.some((x) => x.slot === 0 && x.begin === q.begin && x.core === q.core)).toBe(true);
      }
    }
    expect(b!.start).toBe(a!.start + a!.len);
    expect(spanning).toBeGreaterThan(0);
  });

  it("a run the stale tail explains under widened windows is clean (it diverged: the passage of b began at b+4, unwidened)", () => {
    const decisions = parseDecisions("0/2 0/2 1/2 11/25 0/3 1/3 0/3 2/3 12/13 1/2 1/2 0/2 1/2 1/2 1/2 1/2 0/2 0/2 0/2");
    const o = runOnce(p, { strategy: builtinStrategy("direct_write")!, model: namedModel("sdm-strict")!, decisions });
    expect(o.run.observations[0]!.events.length).toBeGreaterThan(0);
    expect(o.run.passages.some((q) => q.slot === 1 && q.fetched[0]!.addr === a!.start && q.fetched[0]!.bytes.length === 7)).toBe(true);
    expect(o.verdict.kind).toBe("clean");
  });
});

describe("a torn instruction cut off by the region end", () => {
  it("widens its passage: the stale version's own #PF at the end is then in the family (it was a torn-fetch divergence)", () => {
    // nop3 at the region end, new `mov al, 1; inc eax`: a fetch of old, old, new bytes (0f 1f 40)
    // decodes to a 4-byte nop that the end cuts off, after the op returned.
    const p = prepareSketch({
      asm: ["core1: mov al, 0x11", "out 0x10", ".slot s", "nop3", ".endslot"],
      entries: ["core1"], slots: { s: { new: ["mov al, 1", "inc eax"] } }, ops: [["s"]],
    });
    const o = runOnce(p, { strategy: builtinStrategy("direct_write")!, model: namedModel("sdm-strict")!, decisions: parseDecisions("1/2 3/7 1/3 1/3 1/2 1/3 0/2 0/2 0/2") });
    const last = o.run.passages.at(-1)!;
    expect(last.fetched.at(-1)!.origin).toEqual(["old", "old", "new"]);
    expect(last.widened).toBe(true);
    expect(o.verdict.kind).toBe("clean");
  });
});

describe("a core landing strictly inside a slot", () => {
  it("after a torn jump, begins a passage of that slot there, widened", () => {
    // Slot a: `mov al, 5` -> `jmp short after` (eb 00). Byte stores split it: a core fetching eb 05
    // jumps 5 bytes on, to b+2: the old `nop3` of b (nop2; nop3) or its new `out 0x20`.
    const p = prepareSketch({
      asm: ["core1: mov ecx, 3", "loop:", ".slot a", "mov al, 5", ".endslot", "after:", "nop", "nop", "nop", ".slot b", "nop2", "nop3", ".endslot",
        "out 0x10", "dec ecx", "jne loop", "hlt"],
      entries: ["core1"], slots: { a: { new: "jmp short after" }, b: { new: ["mov al, 2", "out 0x20", "nop"] } }, ops: [["a", "b"]],
    });
    const [a, b] = p.kase.program.slots;
    expect(a!.start + a!.len + 5).toBe(b!.start + 2);
    let landed = 0;
    for (const o of everyRun(p, builtinStrategy("direct_write")!, namedModel("coherent-atomic-byte")!, 400)) {
      for (const q of o.run.passages) {
        const first = q.fetched[0]!;
        if (q.slot !== 1 || first.addr !== b!.start + 2) continue;
        landed++;
        expect(q.widened).toBe(true);
        // The jump that landed there was torn (eb 05): its own passage of a is widened too.
        expect(o.run.passages.some((x) => x.slot === 0 && x.core === q.core && x.end <= q.begin && x.widened)).toBe(true);
      }
    }
    expect(landed).toBeGreaterThan(0);
  });

  it("after a handler's resume there, is judged with that passage: old code throughout is a stop_machine observation", () => {
    // A strategy's int3 handler on slot s resumes at k+2, the old nop3 of slot k (nop2; nop3): the
    // core runs k's old version's effect, and k and s get their targets only once it has left
    // k. Old code throughout is what a stop_machine after both iterations gives. Counting no
    // passage of k at the landing (as SPEC 6.1 reads) left the windows a passage short of the
    // reference's s, k, s, k: it diverged (bad-emulation).
    const p = prepareSketch({
      asm: ["core1: mov ecx, 2", "loop:", ".slot s", "nop5", ".endslot", ".slot k", "nop2", "nop3", ".endslot", "out 0x10", "dec ecx", "jne loop", "hlt"],
      entries: ["core1"], slots: { s: { new: ["nop", "nop", "nop", "nop", "nop"] }, k: { new: ["mov al, 2", "out 0x20", "nop"] } }, ops: [["s", "k"]],
    });
    const [S, K] = p.kase.program.slots;
    const resumeIntoK: Strategy = {
      name: "resume_into_k", description: "test: int3 on s, whose handler resumes at k+2; then k's and s's targets",
      *patch(ctx) {
        yield* ctx.write(S!.start, Uint8Array.of(0xcc));
        yield* ctx.await(() => ctx.peek("trapped") === true);
        yield* ctx.waitOutside({ lo: K!.start, hi: K!.start + K!.len });
        yield* ctx.write(K!.start, K!.new);
        yield* ctx.write(S!.start, S!.new);
      },
      *onInt3(ctx, _core, addr) {
        if (addr !== S!.start) return ctx.notMine();
        yield* ctx.store("trapped", true);
        return ctx.resume(K!.start + 2);
      },
    };
    let oldThroughout = 0;
    for (const o of everyRun(p, resumeIntoK, namedModel("coherent-atomic-byte")!, 200)) {
      const outs = o.run.observations[0]!.events;
      if (outs.length !== 2 || outs.some((e) => e.kind !== "out" || e.port !== 0x10 || e.value !== 0)) continue;
      if (!o.run.passages.some((q) => q.slot === 0 && q.resolution === "resume")) continue;
      oldThroughout++;
      expect(o.run.passages.some((q) => q.slot === 1 && q.fetched[0]!.addr === K!.start + 2 && q.widened)).toBe(true);
      expect(o.verdict.divergences.filter((d) => d.core === 1)).toEqual([]);
    }
    expect(oldThroughout).toBeGreaterThan(0);
  });
});

describe("a torn jump over two slots", () => {
  // Slot a: `mov al, 4` (b0 04) -> `jmp short after` (eb 00), where `after` is slot b. A core that
  // fetches the torn eb 04 jumps over b and c (two nop2s, each -> inc eax; nop): it behaves as the
  // new a followed by the old b and c, a stop_machine observation, while the run counts one
  // passage where the reference has three. SPEC 6.1's one-passage widening called it torn-fetch.
  const p = prepareSketch({
    asm: ["core1: mov ecx, 2", "loop:", ".slot a", "mov al, 4", ".endslot", "after:", ".slot b", "nop2", ".endslot", ".slot c", "nop2", ".endslot",
      "out 0x10", "dec ecx", "jne loop", "hlt"],
    entries: ["core1"], slots: { a: { new: "jmp short after" }, b: { new: ["inc eax", "nop"] }, c: { new: ["inc eax", "nop"] } }, ops: [["a", "b", "c"]],
  });
  const tornJump = (q: { fetched: readonly { bytes: readonly number[] }[] }) => q.fetched.some((f) => f.bytes.length === 2 && f.bytes[0] === 0xeb && f.bytes[1] === 0x04);

  it("is clean when it behaves as the new jump and the old code it skips (outputs 0, then 2)", () => {
    const o = runOnce(p, { strategy: builtinStrategy("direct_write")!, model: namedModel("coherent-atomic-byte")!, decisions: parseDecisions("0/2 1/2 1/2 0/2 0/2 0/2 1/2 0/2 0/2") });
    expect(o.run.observations[0]!.events.map((e) => (e.kind === "out" ? e.value : -1))).toEqual([0, 2]);
    expect(o.run.passages.filter(tornJump).map((q) => q.widened)).toEqual([true]);
    expect(o.verdict.kind).toBe("clean");
  });

  it("is clean in every run, since direct_write writes a before b and c", () => {
    let torn = 0;
    for (const o of everyRun(p, builtinStrategy("direct_write")!, namedModel("coherent-atomic-byte")!, 600)) {
      if (!o.run.passages.some(tornJump)) continue;
      torn++;
      expect(o.verdict.kind, o.verdict.signature).toBe("clean");
    }
    expect(torn).toBeGreaterThan(20);
  });
});

describe("a torn jump in a hot loop through three slots", () => {
  // Three static keys (nop2 -> jmp short past a counter's increment), 60 passages each, no out:
  // a torn jmp (eb 90) is a wild jump. Opened windows admit every combination of the three
  // switch points over 180 passages, far too many to refute (an audit: 8M work, the search's cap,
  // the run lost as an internal error); SPEC 6.1's one-step windows then decide.
  const p = prepareSketch({
    asm: ["c1: mov ecx, 60", "loop:", ".slot a", "nop2", ".endslot", "inc ebx", "sa:", ".slot b", "nop2", ".endslot", "inc edx", "sb:",
      ".slot c", "nop2", ".endslot", "inc esi", "sc:", "dec ecx", "jne loop", "hlt"],
    entries: ["c1"], slots: { a: { new: "jmp short sa" }, b: { new: "jmp short sb" }, c: { new: "jmp short sc" } }, ops: [["a", "b", "c"]],
  });

  it("is a divergence of the torn jump, found in time, never a search past its cap", () => {
    let wild = 0;
    for (const o of everyRun(p, builtinStrategy("direct_write")!, namedModel("coherent-atomic-byte")!, 30)) {
      if (o.verdict.kind !== "diverges") continue;
      wild++;
      expect(o.verdict.divergences.map((d) => [d.cause, d.effect, d.alignment])).toContainEqual(["torn-fetch", "wild-jump", "widened"]);
    }
    expect(wild).toBeGreaterThan(5);
  });
});
