import { describe, expect, it } from "vitest";
import type { CoreObservation, Passage } from "../types.js";
import { finalRegs, memoryDigest, newCpu } from "../machine/cpu.js";
import { prepareSketch } from "../testing/build.js";
import { MembershipSearch } from "./membership.js";

// The membership search against observations made by hand, where the reference family is known
// from the program: a loop of K passages through a slot whose op is non-monotonic and never
// returns, so each passage may run either version. The old version is two instructions (nop2;
// nop3), the new one one (nop5), with the same effect: a branch's length is 1 + 3K plus one for
// each passage that ran the old version, and every length up to 1 + 4K is in the family.

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
