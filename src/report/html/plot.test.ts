import { describe, expect, it } from "vitest";
import { plotModel, type PlotModel } from "./plot-model.js";
import { formatElapsed, plotHtml, plotSvg } from "./plot.js";

const point = (t: number, execs: number, extra: Partial<Record<string, number>> = {}) =>
  ({ t, execs, execsPerSec: execs / Math.max(1, t / 1000), coverageBits: execs / 10, corpus: execs / 100, signatures: Math.floor(execs / 500), ...extra });

describe("plot model", () => {
  it("one series per quantity, in time order, with last and max", () => {
    const m = plotModel({ node: "n1", history: [point(10_000, 2000), point(5000, 900), point(15_000, 2600, { coverageBits: 150 })] }, "c") as PlotModel;
    expect(typeof m).toBe("object");
    expect(m.series.map((s) => s.key)).toEqual(["execsPerSec", "coverageBits", "corpus", "signatures"]);
    const cov = m.series.find((s) => s.key === "coverageBits")!;
    expect(cov.points).toEqual([[5000, 90], [10_000, 200], [15_000, 150]]);
    expect(cov.last).toBe(150);
    expect(cov.max).toBe(200);
    expect(m.spanMs).toBe(15_000);
    expect(m.execs).toBe(2600);
    expect(m.node).toBe("n1");
  });

  it("names the bad field in one line", () => {
    expect(plotModel({}, "c")).toMatch(/^history: /);
    expect(plotModel({ history: [{ ...point(1, 1), corpus: "x" }] }, "c")).toMatch(/^history\.0\.corpus: /);
    expect(plotModel({ history: [] }, "c")).toMatch(/empty/);
    expect(plotModel([], "c")).toMatch(/^\(top level\)/);
  });
});

describe("plot rendering", () => {
  const m = plotModel({ history: [point(0, 0), point(5000, 1000), point(10_000, 2500)] }, "camp <x>") as PlotModel;

  it("draws every series with every point, in a standalone SVG", () => {
    const svg = plotSvg(m);
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
    for (const key of ["execsPerSec", "coverageBits", "corpus", "signatures"]) {
      expect(svg).toMatch(new RegExp(`<path class="series" data-series="${key}" data-points="3" d="M[^"]*L[^"]*L[^"]*"`));
    }
    expect(svg).toContain("camp &#60;x&#62;");
  });

  it("the HTML page embeds the same SVG and loads nothing", () => {
    const html = plotHtml(m);
    expect(html).toContain(plotSvg(m).trim());
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/i);
  });

  it("labels elapsed time as afl-plot does", () => {
    expect([45_000, 12 * 60_000, 90 * 60_000, 8 * 3600_000].map(formatElapsed)).toEqual(["45s", "12m", "90m", "8h"]);
    expect(formatElapsed(150 * 60_000)).toBe("2h30m");
  });
});
