import { describe, expect, it } from "vitest";
import type { Passage, RunResult } from "../types.js";
import { passagesByCore, passagesOf, windowsOf } from "./windows.js";

// SPEC 6.1 on hand-made timelines: a_j counts the core's passages completed when op j began, b_j
// those begun when it returned (infinite if it never did). A widened passage begun after p
// completed ones that fell through to its slot's end moves b_j >= p up and a_j > p down by one,
// cumulatively; the first that left its slot by a jump opens them: b_j >= p to infinity, a_j > p
// down to p. (Passages made here without `fellThrough` left by a jump.)

function passage(core: number, begin: number, end: number, widened = false): Passage {
  return { core, slot: 0, op: 0, begin, end, fetched: [], widened, badEmulation: false };
}

function run(passages: Passage[], ops: [begin: number, returned: number][], cores = 2): RunResult {
  return {
    passages, ops: ops.map(([begin, returned]) => ({ begin, returned })),
    observations: Array.from({ length: cores - 1 }, (_, i) => ({ core: i + 1 })),
  } as unknown as RunResult;
}

describe("windowsOf", () => {
  // Core 1's passages: [2,4], [10,12], [20,22], and one in progress since 30.
  const mine = [passage(1, 2, 4), passage(1, 10, 12), passage(1, 20, 22), passage(1, 30, -1)];

  it("counts passages completed when each op began and begun when it returned", () => {
    const w = windowsOf(run(mine, [[5, 11], [11, 25], [12, 40]]), 1);
    // Op 0 began at 5 (one passage done) and returned at 11 (two begun: the second is in progress).
    // Op 1 began at 11, while the second passage was still on: it has not completed.
    expect(w).toEqual({ a: [1, 1, 1], b: [2, 3, 4], widened: false, opened: false });
  });

  it("leaves b infinite for an op that never returned, and ignores other cores' passages", () => {
    const w = windowsOf(run([...mine, passage(2, 1, 3), passage(2, 6, 8)], [[13, Infinity]]), 1);
    expect(w).toEqual({ a: [2], b: [Infinity], widened: false, opened: false });
  });

  it("never opens the window of an op that never began (no switch point), widened or not", () => {
    const w = windowsOf(run(mine, [[5, 11], [Infinity, Infinity]]), 1);
    expect(w).toEqual({ a: [1, Infinity], b: [2, Infinity], widened: false, opened: false });
    const widened = windowsOf(run([passage(1, 2, 4, true), ...mine.slice(1)], [[Infinity, Infinity]]), 1);
    expect(widened.a).toEqual([Infinity]);
  });

  it("opens every window from the first widened passage on; later ones add nothing", () => {
    // The widened passage begun at 10 began after 1 completed passage: b_j >= 1 becomes infinite
    // and a_j > 1 becomes 1. The second one (begun at 20, after 2) is inside windows already open.
    const widened = [passage(1, 2, 4), passage(1, 10, 12, true), passage(1, 20, 22, true), passage(1, 30, 32)];
    const w = windowsOf(run(widened, [[5, 9], [13, 15], [23, 35], [1, 3], [0, 1]]), 1);
    // Unwidened: a = [1, 2, 3, 0, 0], b = [1, 2, 4, 1, 0]. Op 4 returned before any passage began:
    // its window stays exact.
    expect(w).toEqual({ a: [1, 1, 1, 0, 0], b: [Infinity, Infinity, Infinity, Infinity, 0], widened: true, opened: true });
  });

  it("torn passages that fell through move b_j >= p up and a_j > p down by one, as does one-step (SPEC 6.1 as written) for any", () => {
    const widened = [passage(1, 2, 4), passage(1, 10, 12, true), passage(1, 20, 22, true), passage(1, 30, 32)];
    const fellThrough = widened.map((x) => ({ ...x, fellThrough: true }));
    expect(windowsOf(run(fellThrough, [[5, 9], [13, 15], [23, 35], [1, 3]]), 1)).toEqual(windowsOf(run(widened, [[5, 9], [13, 15], [23, 35], [1, 3]]), 1, "one-step"));
    const w = windowsOf(run(widened, [[5, 9], [13, 15], [23, 35], [1, 3]]), 1, "one-step");
    // Unwidened: a = [1, 2, 3, 0], b = [1, 2, 4, 1].
    // After the passage at index 1: b >= 1 -> +1: [2, 3, 5, 2]; a > 1 -> -1: [1, 1, 2, 0].
    // After the passage at index 2: b >= 2 -> +1: [3, 4, 6, 3]; a > 2 -> -1: none.
    expect(w).toEqual({ a: [1, 1, 2, 0], b: [3, 4, 6, 3], widened: true, opened: false });
  });

  it("opens from the passages completed when the widened one began, not from its index", () => {
    // One torn instruction at t=14 spans slots a and b: it begins both passages, widened; a's
    // completes with it (end 14), so when b's began (14) one passage was complete, not two.
    const torn = [passage(1, 2, 4), passage(1, 14, 14, true), passage(1, 14, 15, true), passage(1, 30, 32)];
    const w = windowsOf(run(torn, [[1, 3], [17, 20], [31, 40]]), 1);
    // Unwidened: a = [0, 3, 3], b = [1, 3, 4]. From p = 1: a > 1 -> 1, b >= 1 -> infinite.
    expect(w).toEqual({ a: [0, 1, 1], b: [Infinity, Infinity, Infinity], widened: true, opened: true });
  });
});

describe("passagesByCore", () => {
  it("lists each program core's passages in order of beginning, the same as per core", () => {
    const r = run([passage(2, 5, 6), passage(1, 9, 10), passage(1, 3, 4), passage(3, 1, 2)], [], 4);
    const lists = passagesByCore(r);
    expect(lists.map((l) => l.map((p) => p.begin))).toEqual([[3, 9], [5], [1]]);
    for (const core of [1, 2, 3]) expect(lists[core - 1]).toEqual(passagesOf(r, core));
  });
});
