import seedrandom from "seedrandom";
import { describe, expect, it } from "vitest";
import type { CoreObservation, Passage, RunResult } from "../types.js";
import { type PreparedCase, runOnce } from "../differential.js";
import { generateCase } from "../fuzz/generate.js";
import { prepareCase } from "../fuzz/prepare.js";
import { finalRegs, memoryDigest, newCpu } from "../machine/cpu.js";
import { NAMED_MODELS } from "../models/named.js";
import { BUILTIN_STRATEGIES, builtinStrategy } from "../strategies/registry.js";
import { prepareSketch } from "../testing/build.js";
import { jumpLabel } from "../testing/programs.js";
import { type Family, observationKey, referenceFamily } from "../testing/reference-family.js";
import { MembershipSearch } from "./membership.js";
import { passagesOf, type Windows, windowsFrom } from "./windows.js";

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

/** Core 1 seen still running, no event, after `instructions` (as a hung run reports it). */
function hungAfter(instructions: number): CoreObservation {
  const cpu = newCpu(0);
  return {
    core: 1, events: [], times: [], end: { kind: "unfinished" }, endTime: 0,
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
function admitted(instructions: number, real: readonly Passage[]): boolean {
  // The op began before the first passage and never returned: every passage may see either version.
  const windows = { a: [0], b: [Infinity], widened: false };
  return new MembershipSearch(loop.plan, 1, hungAfter(instructions), windows, real, loop.soloBudget).run().member;
}

describe("MembershipSearch on a hung core", () => {
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
  interface Judged {
    readonly obs: CoreObservation;
    readonly win: Windows;
    readonly member: boolean;
    readonly family: Family;
  }

  /** The search's answer for each ended core of the run whose family is small enough to enumerate, checked against it. */
  function judgeEachCore(prepared: PreparedCase, run: RunResult, what: string): Judged[] {
    const out: Judged[] = [];
    for (const obs of run.observations) {
      if (obs.end.kind === "unfinished") continue;
      const mine = passagesOf(run, obs.core);
      const win = windowsFrom(run, mine);
      // The search's own per-branch limit, so that both cut a runaway branch at the same point.
      const limit = 2 * Math.max(obs.instructions, prepared.soloBudget) + 1000;
      const family = referenceFamily(prepared.plan, obs.core, win, 3000, limit);
      if (!family) continue;
      const member = new MembershipSearch(prepared.plan, obs.core, obs, win, mine, prepared.soloBudget).run().member;
      expect(member, `${what}, core ${obs.core}`).toBe(family.ended.has(observationKey(obs)));
      out.push({ obs, win, member, family });
    }
    return out;
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
        const inMonotonic = referenceFamily(monotonic.plan, j.obs.core, j.win, 3000, Infinity)!.ended.has(observationKey(j.obs));
        if (j.member && !inMonotonic) newThenOld++;
      }
    }
    expect(newThenOld).toBeGreaterThan(0);
  });
});
