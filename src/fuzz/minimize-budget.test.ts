import { describe, expect, it } from "vitest";
import { FLOOD_RATE, MAX_SHARE, MIN_SHARE, MinimizeBudget } from "./minimize-budget.js";

/** Fuzzing batches of 100 ms finding `perSecond` new signatures, then as much minimizing as allowed. */
function simulate(budget: MinimizeBudget, perSecond: number, seconds: number): { fuzzMs: number; minimizeMs: number } {
  let fuzzMs = 0, minimizeMs = 0;
  for (let t = 0; t < seconds * 10; t++) {
    budget.fuzzed(100, perSecond / 10);
    fuzzMs += 100;
    // Minimizations of 30 ms each, as a worker runs them while the budget allows.
    while (budget.available) {
      budget.minimized(30);
      minimizeMs += 30;
    }
  }
  return { fuzzMs, minimizeMs };
}

const shareOf = (r: { fuzzMs: number; minimizeMs: number }) => r.minimizeMs / (r.fuzzMs + r.minimizeMs);

describe("MinimizeBudget", () => {
  it("gives minimization half of the time while fuzzing finds nothing new", () => {
    const budget = new MinimizeBudget();
    expect(budget.share()).toBe(MAX_SHARE);
    expect(shareOf(simulate(budget, 0, 60))).toBeCloseTo(MAX_SHARE, 1);
  });

  it("keeps fuzzing first while new signatures flood in, and hands time back as discovery slows", () => {
    const budget = new MinimizeBudget();
    simulate(budget, 200, 30); // the first seconds of a campaign
    expect(budget.share()).toBe(MIN_SHARE);
    expect(shareOf(simulate(budget, 200, 30))).toBeCloseTo(MIN_SHARE, 1);
    simulate(budget, FLOOD_RATE / 2, 60);
    expect(budget.share()).toBeGreaterThan(MIN_SHARE);
    expect(budget.share()).toBeLessThan(MAX_SHARE);
    simulate(budget, 0, 120);
    expect(budget.share()).toBeCloseTo(MAX_SHARE, 2);
  });

  it("banks at most a few seconds of minimization over a quiet spell", () => {
    const budget = new MinimizeBudget();
    for (let i = 0; i < 6000; i++) budget.fuzzed(100, 0); // ten minutes with nothing to minimize
    let ms = 0;
    while (budget.available) {
      budget.minimized(100);
      ms += 100;
    }
    expect(ms).toBeLessThanOrEqual(5_000);
  });
});
