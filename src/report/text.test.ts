import { describe, expect, it } from "vitest";
import type { Outcome } from "../differential.js";
import { namedModel } from "../models/named.js";
import { builtinStrategy } from "../strategies/registry.js";
import { prepareSketch } from "../testing/build.js";
import { jumpLabel, setsEbx } from "../testing/programs.js";
import { divergenceFindingsOf } from "../oracle/classify.js";
import { findRun } from "../testing/search.js";
import { crashReportModel } from "./html/crash-model.js";
import { litmusText } from "./litmus.js";
import { describeOrigins, formatReport } from "./text.js";

// Reports of a divergence in the end state alone: both columns end in `hlt`, so a report must say
// what differs. A torn `mov ebx, 7` leaves ebx holding neither 0 nor 7, and outputs nothing.

const p = prepareSketch(setsEbx());
const torn = (x: Outcome) => x.verdict.divergences[0]?.cause === "torn-fetch" && x.verdict.divergences[0].effect === "wrong-output";
const o = findRun(p, builtinStrategy("direct_write")!, namedModel("sdm-strict")!, torn, 500, true)!;
/** ebx as the report shows it, observed then expected. */
const EBX_ROW = /^ebx = 0x([0-9a-f]{8})$/;

describe("reports of an end-state divergence", () => {
  it("repro's text names the registers that differ, under the end row", () => {
    expect(o).toBeDefined();
    const lines = formatReport(p.kase, o.run, o.verdict, "t").split("\n");
    const end = lines.findIndex((l) => l.startsWith(" end  hlt") && l.includes("<-- first divergence"));
    expect(end, lines.join("\n")).toBeGreaterThan(0);
    const [observed, expected] = lines[end + 1]!.trim().split(/ {2,}/);
    expect(EBX_ROW.exec(observed!)?.[1]).not.toMatch(/^0000000[07]$/);
    expect(expected).toMatch(/^ebx = 0x0000000[07]$/);
  });

  it("the HTML report's comparison has the same rows after its end row", () => {
    const rows = crashReportModel(p.kase, o.run, o.verdict, "t").comparison;
    const end = rows.findIndex((r) => r.index === "end");
    expect(rows[end]!.divergent).toBe(true);
    expect(rows.slice(end + 1).map((r) => r.index)).toEqual(["state"]);
    expect(rows[end + 1]!.observed).toMatch(EBX_ROW);
    expect(rows[end + 1]!.expected).toMatch(/^ebx = 0x0000000[07]$/);
  });

  it("the litmus export says where the observed outcome differs from the closest allowed one", () => {
    const text = litmusText(p.kase, o.run, o.verdict, "seed");
    expect(text).toMatch(/closest allowed for P\d: hlt\n {6}observed ebx = 0x[0-9a-f]{8}, allowed ebx = 0x0000000[07]\n/);
  });
});

describe("repro's provenance lines", () => {
  it("give each group of bytes the time all of them were fetched", () => {
    // One-byte blocks (sdm-strict): an old jmp8 whose two bytes were fetched at t=33 and t=34.
    const f = { addr: 0x1005, bytes: [0xeb, 0x03, 0x00], origin: ["old", "old", "invariant"], fetchedAt: [33, 34, 34], patcherStepAt: [2, 2, 2] } as const;
    const run = { phases: [] };
    expect(describeOrigins({ ...f, bytes: [...f.bytes], origin: [...f.origin], fetchedAt: [...f.fetchedAt], patcherStepAt: [...f.patcherStepAt] }, run))
      .toBe("byte 0 old (fetched t=33, after patcher step 2), byte 1 old (fetched t=34, after patcher step 2), byte 2 invariant (fetched t=34, after patcher step 2)");
  });
});

describe("a report focused on a finding", () => {
  it("shows in full the divergence it is named after, text and HTML, the run's first among the others", () => {
    // Two cores diverging in different classes: found among direct_single_byte runs of a 3-core jump label.
    const q = prepareSketch(jumpLabel(3));
    const two = (x: Outcome) => divergenceFindingsOf(x.verdict).size > 1;
    const r = findRun(q, builtinStrategy("direct_single_byte")!, namedModel("sdm-strict")!, two, 200, true)!;
    expect(r, "no run with two divergence classes").toBeDefined();
    const [first, second] = [...divergenceFindingsOf(r.verdict).keys()];
    expect(first).toBe(r.verdict.signature);
    const text = formatReport(q.kase, r.run, r.verdict, "t", second);
    expect(text).toContain(`signature: ${second}`);
    expect(text).toMatch(/other divergences:/);
    expect(formatReport(q.kase, r.run, r.verdict, "t")).toContain(`signature: ${first}`);
    expect(crashReportModel(q.kase, r.run, r.verdict, "t", second).signature).toBe(second);
    expect(crashReportModel(q.kase, r.run, r.verdict, "t").signature).toBe(first);
  });
});
