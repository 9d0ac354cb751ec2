import { describe, expect, it } from "vitest";
import { MAX_CORES } from "../types.js";
import { PctChooser } from "./pct.js";

/** The actor of each of `steps` choices among `actors` (one event each), all enabled throughout. */
function tops(chooser: PctChooser, actors: readonly number[], steps: number): number[] {
  return Array.from({ length: steps }, () => actors[chooser.chooseEvent(actors, actors.length)]!);
}

/** How often the chosen actor changes along a sequence of choices. */
const switches = (xs: readonly number[]) => xs.filter((x, i) => i > 0 && x !== xs[i - 1]).length;

describe("PCT", () => {
  it("runs the highest-priority actor until a change point: depth d switches d-1 times", () => {
    const counts = Array.from({ length: 20 }, (_, seed) => switches(tops(new PctChooser(seed, { depth: 3, length: 100 }), [0, 1, 2], 100)));
    // Each change point drops the running actor below everyone; two at the same step show as one.
    expect(Math.max(...counts)).toBe(2);
    expect(counts.filter((c) => c === 2).length).toBeGreaterThanOrEqual(15);
    for (let seed = 0; seed < 20; seed++) expect(switches(tops(new PctChooser(seed, { depth: 1, length: 100 }), [0, 1, 2], 100))).toBe(0);
  });

  it("picks uniformly among the top actor's own events", () => {
    const actors = [1, 2, 1, 1]; // actor 1 has three enabled events, actor 2 one
    for (let seed = 0; seed < 10; seed++) {
      const chooser = new PctChooser(seed, { depth: 1, length: 1000 });
      const picks = Array.from({ length: 900 }, () => chooser.chooseEvent(actors, actors.length));
      expect(new Set(picks.map((i) => actors[i])).size).toBe(1); // only the top actor runs
      if (actors[picks[0]!] !== 1) continue;
      for (const event of [0, 2, 3]) expect(picks.filter((i) => i === event).length).toBeGreaterThan(240); // ~300 each
    }
  });

  it("gives every actor a priority, up to the memory system of a machine with MAX_CORES cores", () => {
    // Actors: the patcher 0, program cores 1..MAX_CORES-1, the memory system MAX_CORES.
    const actors = Array.from({ length: MAX_CORES + 1 }, (_, a) => a);
    const firstTops = new Set(Array.from({ length: 200 }, (_, seed) => tops(new PctChooser(seed, { depth: 1, length: 10 }), actors, 1)[0]!));
    expect([...firstTops].sort((a, b) => a - b)).toEqual(actors);
  });

  it("counts only choices the patcher takes part in when change points are kept to the patch window", () => {
    for (let seed = 0; seed < 20; seed++) {
      const chooser = new PctChooser(seed, { depth: 4, length: 10, inPatchWindow: true });
      // The patcher (actor 0) is not enabled: no step counts, no change point fires.
      expect(switches(tops(chooser, [1, 2, 3], 200))).toBe(0);
    }
    const counted = Array.from({ length: 20 }, (_, seed) => switches(tops(new PctChooser(seed, { depth: 4, length: 10, inPatchWindow: true }), [0, 1, 2, 3], 50)));
    expect(Math.max(...counted)).toBe(3);
  });

  it("reports the choices it counted, so a caller can size later runs' length by them", () => {
    const counted = { steps: 0 };
    const chooser = new PctChooser(1, { depth: 2, length: 10, inPatchWindow: true, counted });
    tops(chooser, [1, 2], 30); // the patcher absent: none counts
    tops(chooser, [0, 1, 2], 12);
    expect(counted.steps).toBe(12);
  });

  it("is reproducible from its seed", () => {
    const run = (seed: number) => tops(new PctChooser(seed, { depth: 3, length: 50 }), [0, 1, 2, 3, MAX_CORES], 80);
    expect(run(5)).toEqual(run(5));
    expect(new Set(Array.from({ length: 10 }, (_, s) => run(s).join())).size).toBeGreaterThan(1);
  });
});
