import { describe, expect, it } from "vitest";
import { show } from "./schema.js";

describe("show", () => {
  it("renders a value as JSON, cut to 40 characters", () => {
    expect(show(undefined)).toBe("nothing");
    expect(show(null)).toBe("null");
    expect(show("a\"b")).toBe('"a\\"b"');
    expect(show({ a: 1, b: [null, { c: "d" }], skipped: undefined })).toBe('{"a":1,"b":[null,{"c":"d"}]}');
    expect(show([1, undefined, "x"])).toBe('[1,null,"x"]');
    expect(show("y".repeat(100))).toBe(`"${"y".repeat(36)}...`);
    expect(show(Array.from({ length: 30 }, (_, i) => i))).toBe(`${JSON.stringify(Array.from({ length: 30 }, (_, i) => i)).slice(0, 37)}...`);
  });

  it("reads no deeper than it prints: 100,000 levels of nesting are no stack overflow", () => {
    const arrays = JSON.parse(`${"[".repeat(100_000)}${"]".repeat(100_000)}`) as unknown;
    const objects = JSON.parse(`${'{"a":'.repeat(100_000)}1${"}".repeat(100_000)}`) as unknown;
    expect(show(arrays)).toBe(`${"[".repeat(37)}...`);
    expect(show(objects)).toBe(`${'{"a":'.repeat(7)}{"...`);
  });
});
