import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCaseFile } from "../../case/load.js";
import { prepare } from "../../differential.js";
import { namedModel } from "../../models/named.js";
import { builtinStrategy } from "../../strategies/registry.js";
import { findRun } from "../../testing/search.js";
import { formatEvent } from "../text.js";
import { COMPARISON_CONTEXT, crashReportModel, MAX_LANE_MARKS } from "./crash-model.js";
import { crashReportHtml } from "./crash.js";

// The crash report's model, from real traced replays of a corpus case.

const corpus = join(import.meta.dirname, "..", "..", "..", "corpus");
const loaded = loadCaseFile(join(corpus, "jump-label-nop5-jmp32.json"));
const prepared = prepare(loaded.kase, loaded.soloBudget);
const traced = (strategy: string, model: string, want: "diverges" | "clean") => {
  const o = findRun(prepared, builtinStrategy(strategy)!, namedModel(model)!, (x) => x.verdict.kind === want, 300, true);
  if (!o) throw new Error(`no ${want} run of ${strategy} on ${model} in 300 seeds`);
  return o;
};

describe("crash report model of a divergent run", () => {
  const o = traced("direct_write", "x86-realistic", "diverges");
  const m = crashReportModel(loaded.kase, o.run, o.verdict, "t");
  const d = o.verdict.divergences[0]!;

  it("has one lane per core, the patcher first, on one time axis", () => {
    expect(m.lanes.filter((l) => l.core >= 0).map((l) => l.core)).toEqual([0, 1, 2]);
    for (const lane of m.lanes) for (const mk of lane.marks) expect(mk.t).toBeLessThanOrEqual(m.tEnd);
    expect(m.lanes[0]!.marks.some((mk) => mk.kind === "store")).toBe(true);
    // x86-realistic fetches through a prefetch buffer that stores snoop: refills and snoops appear
    // on the program cores' lanes.
    for (const kind of ["refill", "snoop", "exec", "end"]) expect(m.lanes.slice(1).some((l) => l.marks.some((mk) => mk.kind === kind))).toBe(true);
  });

  it("highlights exactly the passage the verdict names", () => {
    const divergent = m.lanes.flatMap((l) => l.passages).filter((p) => p.divergent);
    expect(d.passage).toBeDefined();
    expect(divergent).toHaveLength(1);
    expect(divergent[0]!.core).toBe(d.passage!.core);
    expect(divergent[0]!.begin).toBe(d.passage!.begin);
    expect(m.passage!.rows.map((r) => r.addr)).toEqual(d.passage!.fetched.map((f) => f.addr));
    expect(m.passage!.rows.flatMap((r) => r.bytes.map((b) => b.origin))).toEqual(d.passage!.fetched.flatMap((f) => f.origin));
  });

  it("puts the expected observation beside the observed one, marking the divergence point once", () => {
    const obs = o.run.observations[d.core - 1]!;
    const n = Math.max(obs.events.length, d.expected?.events.length ?? 0);
    const shown = m.comparison.filter((r) => typeof r.index === "number");
    expect(shown.map((r) => r.index)).toEqual(Array.from({ length: n }, (_, i) => i).filter((i) => Math.abs(i - d.point) <= COMPARISON_CONTEXT));
    expect(m.comparison.at(-1)!.index).toBe("end");
    expect(m.comparison.filter((r) => r.divergent)).toHaveLength(1);
    const marked = m.comparison.find((r) => r.divergent)!;
    expect(marked.index).toBe(d.point < obs.events.length ? d.point : "end");
    if (marked.index !== "end") expect(marked.observed).toBe(formatEvent(obs.events[d.point]!));
    // Left-out rows are counted, never silently dropped.
    const gaps = m.comparison.filter((r) => r.index === "gap").map((r) => Number(/^(\d+)/.exec(r.observed)![1]));
    expect(shown.length + gaps.reduce((a, b) => a + b, 0)).toBe(n);
    expect(m.divergence).toMatchObject({ core: d.core, cause: d.cause, effect: d.effect });
    expect(m.signature).toBe(o.verdict.signature);
  });

  it("covers the axis with the patcher's phases, in order and without overlap", () => {
    expect(m.phases.length).toBeGreaterThan(1);
    for (let i = 1; i < m.phases.length; i++) expect(m.phases[i]!.from).toBe(m.phases[i - 1]!.to);
    expect(m.phases.map((p) => p.kind)).toContain("write");
    expect(m.phases[m.phases.length - 1]!.kind).toBe("after");
  });

  it("renders a self-contained page (no network) with the lanes and the highlighted passage", () => {
    const html = crashReportHtml([m]);
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/i);
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect(html.match(/<g class="lane"/g)).toHaveLength(m.lanes.length);
    expect(html.match(/class="passage [^"]*divergent"/g)).toHaveLength(1);
    expect(html).toContain('class="divergent-row"');
  });
});

describe("crash report model of other runs", () => {
  it("a clean run highlights nothing", () => {
    const o = traced("stop_machine", "x86-realistic", "clean");
    const m = crashReportModel(loaded.kase, o.run, o.verdict, "t");
    expect(m.verdict).toBe("clean");
    expect(m.divergence).toBeUndefined();
    expect(m.lanes.flatMap((l) => l.passages).some((p) => p.divergent)).toBe(false);
    expect(m.comparison).toEqual([]);
    expect(m.lanes[0]!.marks.some((mk) => mk.kind === "step")).toBe(true);
  });

  it("a non-coherent I-cache protocol shows IPIs, invalidations and write-backs (on a memory lane)", () => {
    const o = traced("noncoherent_flush", "noncoherent-icache", "clean");
    const m = crashReportModel(loaded.kase, o.run, o.verdict, "t");
    const kinds = new Set(m.lanes.flatMap((l) => l.marks.map((mk) => mk.kind)));
    for (const k of ["ipi", "ack", "inval", "clean", "store", "step"] as const) expect(kinds).toContain(k);
    expect(m.lanes.some((l) => l.core === -1 && l.marks.every((mk) => mk.kind === "clean"))).toBe(true);
  });

  it("an int3 protocol shows traps and their resolutions", () => {
    const o = traced("text_poke_bp", "noncoherent-icache", "diverges");
    const m = crashReportModel(loaded.kase, o.run, o.verdict, "t");
    const kinds = new Set(m.lanes.flatMap((l) => l.marks.map((mk) => mk.kind)));
    expect(kinds).toContain("trap");
    expect(kinds).toContain("resolve");
    expect(m.passage?.rows.some((r) => r.bytes.some((b) => b.origin === "int3"))).toBe(true);
  });
});

describe("crash report model of a long run", () => {
  it("drops only instruction marks from a lane past the limit, and says how many", () => {
    const o = traced("direct_write", "x86-realistic", "diverges");
    const filler = Array.from({ length: MAX_LANE_MARKS + 10 }, (_, i) => ({ t: o.run.events + i, core: 1, kind: "exec", text: "90: nop" }));
    const run = { ...o.run, trace: [...o.run.trace, ...filler] };
    const m = crashReportModel(loaded.kase, run, o.verdict, "t");
    const lane = m.lanes.find((l) => l.core === 1)!;
    const before = o.run.trace.filter((e) => e.core === 1);
    expect(lane.marks.some((mk) => mk.kind === "exec")).toBe(false);
    expect(lane.marks).toHaveLength(before.filter((e) => e.kind !== "exec").length);
    expect(lane.hiddenExecs).toBe(before.filter((e) => e.kind === "exec").length + filler.length);
    expect(m.lanes.find((l) => l.core === 2)!.hiddenExecs).toBe(0);
  });
});

describe("crash report model of a long observation", () => {
  it("shows the events around the divergence point and counts the rest", () => {
    const o = traced("direct_write", "x86-realistic", "diverges");
    const d = o.verdict.divergences.find((x) => x.core > 0)!;
    const events = Array.from({ length: 50 }, (_, i) => ({ kind: "out" as const, port: 0x10, value: i }));
    const obs = { ...o.run.observations[d.core - 1]!, events, times: events.map((_, i) => i) };
    const run = { ...o.run, observations: o.run.observations.map((x) => (x.core === d.core ? obs : x)) };
    const verdict = { ...o.verdict, divergences: [{ ...d, point: 30, expected: { ...obs, events: events.slice(0, 40) } }] };
    const rows = crashReportModel(loaded.kase, run, verdict, "t").comparison;
    expect(rows.map((r) => r.index)).toEqual(["gap", ...Array.from({ length: 25 }, (_, i) => 18 + i), "gap", "end"]);
    expect(rows[0]!.observed).toBe("18 events not shown");
    expect(rows[26]!.observed).toBe("7 events not shown");
    expect(rows.find((r) => r.divergent)?.index).toBe(30);
    expect(rows[25]!.expected).toBe("-"); // event 42 exists only in the observation
  });
});
