import { describe, expect, it } from "vitest";
import { median } from "./median.js";

describe("median", () => {
  it("is the middle value of an odd count, in any order", () => {
    expect(median([5, 1, 3])).toBe(3);
  });
  it("is the mean of the middle two of an even count: two rounds are not read as the better one", () => {
    expect(median([1.57, 1.89])).toBeCloseTo(1.73);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});
