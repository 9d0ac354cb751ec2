import seedrandom from "seedrandom";
import { describe, expect, it } from "vitest";
import type { CoreObservation, ObsEvent, Passage, RunResult, Strategy } from "../types.js";
import { prepare, type PreparedCase, runOnce } from "../differential.js";
import { generateCase } from "../fuzz/generate.js";
import { prepareCase } from "../fuzz/prepare.js";
import { finalRegs, memoryDigest, newCpu } from "../machine/cpu.js";
import { NAMED_MODELS } from "../models/named.js";
import { BUILTIN_STRATEGIES, builtinStrategy } from "../strategies/registry.js";
import { prepareSketch, sketchCase } from "../testing/build.js";
import { jumpLabel } from "../testing/programs.js";
import { judgeAgainstFamily, type FamilyJudgement, MAX_BRANCHES } from "../testing/family-check.js";
import { admitsHung, observationKey, referenceFamily } from "../testing/reference-family.js";
import { branchLimit, MembershipSearch } from "./membership.js";
import { passagesOf, windowsFrom } from "./windows.js";

// The membership search (SPEC 6.3) against the reference family it stands for (SPEC 6.2): first
// on hung observations made by hand, where the family is known from the program; then on real
// runs, against the family enumerated by brute force (testing/reference-family.ts).

const NONCOHERENT = NAMED_MODELS.find((m) => m.name === "noncoherent-icache")!;

// A loop of K passages through a slot whose op is non-monotonic and never returns, so each passage
// may run either version. The old version is two instructions (nop2; nop3), the new one one
// (nop5), with the same effect: a branch's length is 1 + 3K plus one for each passage that ran the
// old version, and every length up to 1 + 4K is in the family.
const K = 6;
const SHORTEST = 1 + 3 * K, LONGEST = 1 + 4 * K;

const loop = prepareSketch({
  asm: ["start: mov ecx, " + K, "loop:", ".slot s", "nop2", "nop3", ".endslot", "dec ecx", "jne loop", "hlt"],
  entries: ["start"],
  slots: { s: { new: "nop5" } },
  ops: [{ slots: ["s"], monotonic: false }],
});

/** Core 1 seen still running after `instructions`, with these events (as a hung run reports it). */
function hungAfter(instructions: number, events: ObsEvent[] = []): CoreObservation {
  const cpu = newCpu(0);
  return {
    core: 1, events, times: events.map(() => 0), end: { kind: "unfinished" }, endTime: 0,
    regs: finalRegs(cpu), digest: memoryDigest(cpu), instructions,
  };
}

/** K real passages that each fetched the new nop5: the search then tries the new version first. */
function passagesFetchingNew(): Passage[] {
  const s = loop.kase.program.slots[0]!;
  return Array.from({ length: K }, (_, n) => ({
    core: 1, slot: 0, op: 0, begin: 10 * n, end: 10 * n + 1, widened: false, badEmulation: false,
    fetched: [{ addr: s.start, bytes: [...s.new], origin: [], fetchedAt: [], patcherStepAt: [] }],
  }));
}

/** Whether the hung observation is admitted (SPEC 6.4): some branch runs as long without ending. */
function admitted(instructions: number, real: readonly Passage[], events: ObsEvent[] = [], prepared = loop): boolean {
  // The op began before the first passage and never returned: every passage may see either version.
  const windows = { a: [0], b: [Infinity], widened: false, opened: false };
  return new MembershipSearch(prepared.plan, 1, hungAfter(instructions, events), windows, real, prepared.soloBudget).run().member;
}

describe("MembershipSearch on a hung core", () => {
  it("admits a core slower than the reference: a branch may have gone past the core's events by its count", () => {
    // The loop with an `out` on each turn (5 or 6 instructions a turn). A core seen after 30
    // instructions with only two outs ran slower than any branch, which has made four or five
    // outs by then; its two match them so far, and it has not ended.
    const withOut = prepareSketch({
      asm: ["start: mov ecx, " + K, "loop:", ".slot s", "nop2", "nop3", ".endslot", "mov al, 1", "out 0x10", "dec ecx", "jne loop", "hlt"],
      entries: ["start"],
      slots: { s: { new: "nop5" } },
      ops: [{ slots: ["s"], monotonic: false }],
    });
    const out = (value: number): ObsEvent => ({ kind: "out", port: 0x10, value });
    expect(admitted(30, [], [out(1), out(1)], withOut)).toBe(true);
    expect(admitted(30, [], [out(1), out(2)], withOut)).toBe(false);
  });

  it("admits exactly the counts some branch reaches without ending", () => {
    // Branches end at their hlt, so counts up to the longest branch's last step are admitted.
    for (const real of [[], passagesFetchingNew()]) {
      expect(admitted(SHORTEST, real)).toBe(true);
      expect(admitted(LONGEST, real)).toBe(true);
      expect(admitted(LONGEST + 1, real)).toBe(false);
    }
  });

  it("does not let a shorter twin stand for a longer one, whichever version it tries first", () => {
    // Trying the new version first, the search's first branch is the shortest, and the states it
    // records at each slot entry recur on later branches with more instructions behind them. Were
    // those twins pruned as visited, no branch with two old passages would ever be tried. The
    // real passages only order the search: they must not change its answer.
    for (const real of [[], passagesFetchingNew()]) {
      for (let count = SHORTEST; count <= LONGEST; count++) expect(admitted(count, real), `${count} instructions, ${real.length} real passages`).toBe(true);
    }
  });
});

describe("MembershipSearch against the reference family enumerated by brute force", () => {
  /** The search's answer for each ended core of the run whose family is small enough to enumerate, checked against it. */
  function judgeEachCore(prepared: PreparedCase, run: RunResult, what: string): FamilyJudgement[] {
    const judged = judgeAgainstFamily(prepared, run);
    for (const j of judged) {
      expect(j.member, `${what}, core ${j.obs.core}`).toBe(j.inFamily);
      // The report's "expected" column: a reference observation itself (its event at the divergence
      // point was once listed twice), whenever its branch ends within the limit.
      if (j.expectedInFamily !== undefined) expect(j.expectedInFamily, `${what}, core ${j.obs.core}: expected`).toBe(true);
    }
    return judged;
  }

  it("admits an ended observation exactly when some admissible choice of switch points produces it", () => {
    // Real runs of generated cases under every strategy and model, many of them divergent; each
    // ended core's observation is judged by the search (memo, pruning, likeliest version first)
    // and looked up in the family enumerated without any of those.
    const rng = seedrandom.alea("family");
    let member = 0, outside = 0, withChoices = 0;
    for (let i = 0; i < 600; i++) {
      const prepared = prepareCase(generateCase(rng, { maxCores: 3 }));
      const strategy = BUILTIN_STRATEGIES[Math.floor(rng() * BUILTIN_STRATEGIES.length)]!;
      // Every other run on noncoherent-icache, whose stale lines make for the most divergences.
      const model = i % 2 === 0 ? NONCOHERENT : NAMED_MODELS[Math.floor(rng() * NAMED_MODELS.length)]!;
      const { run } = runOnce(prepared, { strategy, model, seed: Math.floor(rng() * 2 ** 31) });
      if (run.hung || run.harnessError) continue;
      for (const j of judgeEachCore(prepared, run, `case ${i}, ${strategy.name} on ${model.name}`)) {
        if (j.member) member++;
        else outside++;
        if (j.family.ended.size > 1) withChoices++;
      }
    }
    // Both answers, on families where the switch points make a difference.
    expect(member).toBeGreaterThan(300);
    expect(outside).toBeGreaterThan(100);
    expect(withChoices).toBeGreaterThan(300);
  });

  it("admits new code, then old, in the window of a non-monotonic op", () => {
    // int3_flush on a non-coherent I-cache lets a core run a jump label's new code, then stale old
    // code: a divergence for a monotonic op, in the family of a non-monotonic one.
    const sketch = jumpLabel(3, 12);
    const monotonic = prepareSketch(sketch);
    const prepared = prepareSketch({ ...sketch, ops: [{ slots: ["jl"], monotonic: false }] });
    let newThenOld = 0;
    for (let seed = 0; seed < 300; seed++) {
      const { run } = runOnce(prepared, { strategy: builtinStrategy("int3_flush")!, model: NONCOHERENT, seed });
      for (const j of judgeEachCore(prepared, run, `seed ${seed}`)) {
        const inMonotonic = referenceFamily(monotonic.plan, j.obs.core, j.win, MAX_BRANCHES, Infinity)!.ended.has(observationKey(j.obs));
        if (j.member && !inMonotonic) newThenOld++;
      }
    }
    expect(newThenOld).toBeGreaterThan(0);
  });
});

describe("MembershipSearch on hung cores against the family enumerated by brute force", () => {
  // A core that loops until patched: it outputs 1 on every turn, and after the patch jumps through
  // `other`, which outputs 2 on its way back. The patchers below never return, so the window stays
  // open and the cores run until the run's budget ends: hung, and still running.
  const never = () => false;
  const stallers: Strategy[] = [
    { name: "stall", description: "never writes", *patch(ctx) { yield* ctx.await(never); } },
    { name: "patch_then_stall", description: "writes the new version", *patch(ctx, slots) {
      for (const s of slots) yield* ctx.write(s.start, s.to);
      yield* ctx.await(never);
    } },
    { name: "patch_revert_stall", description: "writes the new version, then the old one again", *patch(ctx, slots) {
      for (const s of slots) yield* ctx.write(s.start, s.to);
      for (const s of slots) yield* ctx.write(s.start, s.from);
      yield* ctx.await(never);
    } },
  ];
  const spin = (monotonic: boolean) => sketchCase({
    asm: ["spin: mov al, 1", "out 0x10", ".slot s", "jmp short spin", ".endslot", "hlt", "other: mov al, 2", "out 0x10", "jmp spin"],
    entries: ["spin", "spin"],
    slots: { s: { new: "jmp short other" } },
    ops: [{ slots: ["s"], monotonic }],
  });

  it("admits a hung core's observation exactly when some path matches it and runs as long without ending", () => {
    let admitted = 0, refused = 0;
    for (const monotonic of [true, false]) {
      // The loader refuses a case that never ends; its budget is set by hand (a short one keeps the
      // enumeration small).
      const prepared = prepare(spin(monotonic), 24);
      for (const strategy of stallers) {
        for (const model of NAMED_MODELS) {
          for (let seed = 0; seed < 4; seed++) {
            const { run } = runOnce(prepared, { strategy, model, seed });
            expect(run.hung, `${strategy.name} on ${model.name}`).toBeDefined();
            for (const c of run.hung!.stuckCores) {
              if (run.hung!.blockedCores.includes(c)) continue;
              const obs = run.observations[c - 1]!;
              const mine = passagesOf(run, c);
              const win = windowsFrom(run, mine);
              const expected = admitsHung(prepared.plan, c, win, obs, 100_000, branchLimit(obs.instructions, prepared.soloBudget))!;
              const found = new MembershipSearch(prepared.plan, c, obs, win, mine, prepared.soloBudget).run().member;
              expect(found, `${strategy.name} on ${model.name}, seed ${seed}, core ${c}, monotonic ${monotonic}`).toBe(expected);
              if (expected) admitted++;
              else refused++;
            }
          }
        }
      }
    }
    expect(admitted).toBeGreaterThan(20);
    expect(refused).toBeGreaterThan(5);
  });
});

describe("membership search: large families", () => {
  it("refutes an observation among a cubic number of states without giving up (its work cap is for runaways)", () => {
    // Two slots per iteration, both in a non-monotonic op that never returns: every passage may
    // run either version, and each version moves its own register, so after n passages the
    // family's states are as many as the ways to split them: tens of thousands over 48 passages.
    const iterations = 24;
    const counters = prepareSketch({
      asm: [`start: mov ecx, ${iterations}`, "loop:", ".slot a", "inc eax", ".endslot", ".slot b", "inc edx", ".endslot", "dec ecx", "jne loop", "hlt"],
      entries: ["start"],
      slots: { a: { new: "inc ebx" }, b: { new: "inc esi" } },
      ops: [{ slots: ["a", "b"], monotonic: false }],
    });
    const end = newCpu(0);
    end.regs[0] = 2 * iterations; // eax: more increments than the slot's passages, in no branch
    const impossible: CoreObservation = {
      core: 1, events: [], times: [], end: { kind: "halt" }, endTime: 0, regs: finalRegs(end), digest: memoryDigest(end), instructions: 1 + 4 * iterations,
    };
    const windows = { a: [0], b: [Infinity], widened: false, opened: false };
    const r = new MembershipSearch(counters.plan, 1, impossible, windows, [], counters.soloBudget).run();
    expect(r.member).toBe(false);
    expect(r.exhausted).toBe(false);
    // Far more than the 64 per-branch limits the cap once was.
    expect(r.work).toBeGreaterThan(64 * branchLimit(impossible.instructions, counters.soloBudget) + 100_000);
  });
});
