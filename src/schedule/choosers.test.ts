import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseCase } from "../case/load.js";
import { caseToJson } from "../case/save.js";
import type { Decision } from "../types.js";
import { DriftError, formatDecisions, parseDecisions, RandomChooser, RecordingChooser, ReplayChooser } from "./choosers.js";
import { PctChooser } from "./pct.js";

describe("RecordingChooser", () => {
  it("records every choice as (chosen, options), and replaying the record makes the same choices", () => {
    const rec = new RecordingChooser(new RandomChooser(3));
    const made = [5, 2, 7, 3, 2].map((n, i) => rec.choose(n, `choice ${i}`));
    expect(rec.decisions).toEqual(made.map((c, i) => [c, [5, 2, 7, 3, 2][i]]));
    const replay = new ReplayChooser(rec.decisions);
    expect([5, 2, 7, 3, 2].map((n) => replay.choose(n, "again"))).toEqual(made);
    replay.assertConsumed();
  });

  it("records a policy's event choices too, and offers chooseEvent only when the policy has it", () => {
    expect(new RecordingChooser(new RandomChooser(1)).chooseEvent).toBeUndefined();
    const rec = new RecordingChooser(new PctChooser(4, { depth: 2, length: 10 }));
    const chosen = rec.chooseEvent!([0, 1, 2], 3);
    const fetched = rec.choose(4, "fetch");
    expect(rec.decisions).toEqual([[chosen, 3], [fetched, 4]]);
  });

  it("keeps each recorder's decisions whatever order recorders are made, sealed or read in (they share one array)", () => {
    const options = [3, 5, 2, 9, 4, 6];
    const record = (rec: RecordingChooser, from: number, to: number) => options.slice(from, to).map((n) => [rec.choose(n, "x"), n]);
    // Never sealed, then another recorder: the first keeps its decisions.
    const unsealed = new RecordingChooser(new RandomChooser(1));
    const a = record(unsealed, 0, 4);
    const next = new RecordingChooser(new RandomChooser(2));
    const b = record(next, 0, 6);
    next.seal();
    expect(unsealed.decisions).toEqual(a);
    expect(next.decisions).toEqual(b);
    // Nested: a run inside a run (the outer goes on after the inner is sealed).
    const outer = new RecordingChooser(new RandomChooser(3));
    const o1 = record(outer, 0, 3);
    const inner = new RecordingChooser(new RandomChooser(4));
    const i1 = record(inner, 0, 6);
    inner.seal();
    const o2 = record(outer, 3, 6);
    outer.seal();
    expect(inner.decisions).toEqual(i1);
    expect(outer.decisions).toEqual([...o1, ...o2]);
    // A sealed recorder read after others have used the array.
    const later = new RecordingChooser(new RandomChooser(5));
    record(later, 0, 6);
    expect(outer.decisions).toEqual([...o1, ...o2]);
  });
});

describe("ReplayChooser, strict", () => {
  const list: Decision[] = [[1, 3], [0, 2]];

  it("fails on a different option count, a missing decision, an index out of range, and a list not used up", () => {
    expect(() => new ReplayChooser(list).choose(4, "event")).toThrow(/recorded 3 options, run has 4/);
    const short = new ReplayChooser(list);
    short.choose(3, "a");
    short.choose(2, "b");
    expect(() => short.choose(2, "c")).toThrow(/decision 2 \(c\) is missing/);
    expect(() => new ReplayChooser([[5, 3]]).choose(3, "x")).toThrow(/index 5 out of range/);
    const unused = new ReplayChooser(list);
    unused.choose(3, "a");
    expect(() => unused.assertConsumed()).toThrow(DriftError);
  });
});

describe("ReplayChooser, lenient (the minimizer's)", () => {
  it("wraps indices into range and draws what the list lacks from a generator seeded as asked", () => {
    const lenient = new ReplayChooser([[5, 3]], 9);
    expect(lenient.choose(2, "wrapped")).toBe(1); // 5 mod 2
    // Past the list, the choices are those of a fresh RandomChooser(9): the listed one drew nothing.
    const drawn = Array.from({ length: 5 }, () => lenient.choose(6, "drawn"));
    const reference = new RandomChooser(9);
    expect(drawn).toEqual(Array.from({ length: 5 }, () => reference.choose(6)));
    expect(() => lenient.assertConsumed()).not.toThrow();
  });
});

describe("decision lists in case files", () => {
  it("round-trip through their text form", () => {
    const list: Decision[] = [[0, 2], [4, 7], [1, 3]];
    expect(formatDecisions(list)).toBe("0/2 4/7 1/3");
    expect(parseDecisions(` ${formatDecisions(list)}\n`)).toEqual(list);
    expect(parseDecisions("")).toEqual([]);
  });

  it("reject tokens that are not chosen/options with chosen < options and options >= 2", () => {
    expect(() => parseDecisions("1/2 x")).toThrow(/bad decision token "x"/);
    expect(() => parseDecisions("2/2")).toThrow(/index must be below/);
    expect(() => parseDecisions("0/1")).toThrow(/at least 2/);
  });

  it("reject numbers too large to be exact, naming the token as written", () => {
    expect(() => parseDecisions("0/99999999999999999999999")).toThrow(/bad decision "0\/99999999999999999999999": option count too large/);
    expect(() => parseDecisions("9007199254740993/9007199254740994")).toThrow(/option count too large/);
    expect(() => parseDecisions("99999999999999999999999/2")).toThrow(/index must be below/);
    expect(parseDecisions("9007199254740990/9007199254740991")).toEqual([[9007199254740990, 9007199254740991]]);
    expect(() => parseDecisions(`0/${"9".repeat(10_000)}`)).toThrow(/^bad decision "0\/9{35}\.\.\.": /);
  });

  it("a case whose run holds one is rejected on load, never saved as a token it does not hold", () => {
    const doc = JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "corpus", "static-call.json"), "utf8")) as { runs: { decisions: string }[] };
    const recorded = doc.runs[0]!.decisions;
    doc.runs[0]!.decisions = `${recorded} 0/99999999999999999999999`;
    expect(() => parseCase(doc)).toThrow(/^runs\[0\]\.decisions: bad decision "0\/99999999999999999999999"/);
    doc.runs[0]!.decisions = `${recorded} 9007199254740990/9007199254740991`;
    const saved = caseToJson(parseCase(doc).kase) as { runs: { decisions: string }[] };
    expect(saved.runs[0]!.decisions).toBe(doc.runs[0]!.decisions);
    expect(() => parseCase(JSON.parse(JSON.stringify(saved)))).not.toThrow();
  });
});
