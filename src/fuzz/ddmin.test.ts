import { describe, expect, it } from "vitest";
import { ddmin } from "./ddmin.js";

/** Runs ddmin over `list`, keeping a removal when `holds` still holds for the rest. */
function minimize(list: number[], holds: (xs: readonly number[]) => boolean, keep = 0, budget = Infinity) {
  let cur = [...list], tries = 0;
  const removed = ddmin(
    () => cur.length,
    (start, count) => {
      tries++;
      const next = [...cur.slice(0, start), ...cur.slice(start + count)];
      if (!holds(next)) return false;
      cur = next;
      return true;
    },
    () => tries < budget,
    keep,
  );
  return { result: cur, removed, tries };
}

describe("ddmin", () => {
  const range = (n: number) => Array.from({ length: n }, (_, i) => i);

  it("ends 1-minimal: exactly the elements the property needs", () => {
    const needs = [17, 42, 93];
    const { result, removed } = minimize(range(100), (xs) => needs.every((x) => xs.includes(x)));
    expect(result).toEqual(needs);
    expect(removed).toBe(true);
  });

  it("keeps an order-dependent property: what remains still satisfies it", () => {
    // Holds while some 3 precedes some 7 (both repeated, in both orders).
    const list = [7, 3, 1, 7, 9, 3, 2, 7, 3, 7, 5];
    const holds = (xs: readonly number[]) => xs.indexOf(3) >= 0 && xs.lastIndexOf(7) > xs.indexOf(3);
    const { result } = minimize(list, holds);
    expect(result).toEqual([3, 7]);
  });

  it("sweeps again after a removal: one may free an element an earlier sweep had to keep", () => {
    // 1 may go only once 2 is gone: the first sweep removes 2 (after failing on 1), the next 1.
    const holds = (xs: readonly number[]) => xs.includes(5) && (!xs.includes(2) || xs.includes(1));
    expect(minimize([1, 2, 5], holds).result).toEqual([5]);
  });

  it("never goes below `keep`, stops when told to, and says when nothing could go", () => {
    expect(minimize(range(10), () => true, 3).result).toHaveLength(3);
    // Both halves fail, then the first quarter: the budget of 3 tries ends the run there.
    const stopped = minimize(range(64), (xs) => xs.includes(0) && xs.includes(63), 0, 3);
    expect(stopped.tries).toBe(3);
    expect(stopped.result).toHaveLength(64);
    expect(minimize(range(5), (xs) => xs.length === 5).removed).toBe(false);
    expect(minimize([], () => true).removed).toBe(false);
  });

  it("costs far fewer tries than one per subset: about n log n for one needed element", () => {
    const { tries, result } = minimize(range(1024), (xs) => xs.includes(500));
    expect(result).toEqual([500]);
    expect(tries).toBeLessThan(1024 * 2);
  });
});
