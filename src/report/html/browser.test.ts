import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MatrixCell, ShardResult } from "../../types.js";
import { loadCaseFile } from "../../case/load.js";
import { prepare, runOnce } from "../../differential.js";
import { ruleSignatures } from "../../oracle/classify.js";
import { foldCell } from "../../matrix/fold.js";
import { namedModel } from "../../models/named.js";
import { builtinStrategy } from "../../strategies/registry.js";
import { decodePng, pixelStats } from "../../testing/png.js";
import { matrixHtml } from "./matrix.js";
import { CLI as cli, ROOT as root, runCli } from "../../testing/cli.js";

// End to end in a real browser: Debian's headless Chromium opens the crash report, the matrix page
// and the campaign plot, all generated here from real runs, and the test reads the DOM and a
// screenshot. Skipped without /usr/bin/chromium, except on CI (CI set), where that is a failure.

const CHROMIUM = "/usr/bin/chromium";
const haveChromium = existsSync(CHROMIUM);
const corpusCase = join(root, "corpus", "jump-label-nop5-jmp32.json");

const STRATEGIES = ["stop_machine", "direct_write", "text_poke_bp"];
const MODELS = ["coherent-atomic-byte", "x86-realistic", "noncoherent-icache"];

let dir = "";
let context: BrowserContext;
let crashSignature = "";
/** Every URL any page requested: only the report files themselves may appear. */
const requested: string[] = [];

const xmcfuzz = (...args: string[]) => runCli(args, 90_000);

/** One shard of a matrix cell, served the way a fuzzing shard reports: seeds run until maxExecs. */
function shardOf(strategy: string, model: string, seed: number, execs: number): ShardResult {
  const loaded = loadCaseFile(corpusCase);
  const prepared = prepare(loaded.kase, loaded.soloBudget);
  const signatures = new Set<string>(), rules = new Set<string>();
  let first: ShardResult["firstDivergence"];
  const start = performance.now();
  for (let i = 0; i < execs; i++) {
    const { verdict } = runOnce(prepared, { strategy: builtinStrategy(strategy)!, model: namedModel(model)!, seed: seed + i });
    if (verdict.signature) {
      signatures.add(verdict.signature);
      first ??= { execs: i + 1, ms: performance.now() - start };
    }
    for (const r of ruleSignatures(verdict)) rules.add(r);
  }
  return {
    shard: { strategy, model, seed, maxExecs: execs, maxMs: 60_000 }, execs, ms: performance.now() - start,
    ...(first ? { firstDivergence: first } : {}), signatures: [...signatures].sort(), rules: [...rules].sort(), harnessErrors: 0,
  };
}

async function open(file: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(pathToFileURL(join(dir, file)).href);
  return page;
}

/** A screenshot that is not blank: its pixels vary and show more than a handful of colours. */
async function expectDrawn(page: Page): Promise<void> {
  const stats = pixelStats(decodePng(await page.screenshot({ type: "png" })));
  expect(stats.variance).toBeGreaterThan(50);
  expect(stats.colours).toBeGreaterThan(8);
}

describe.skipIf(!haveChromium && !process.env.CI)("HTML reports in headless Chromium", () => {
  beforeAll(async () => {
    if (!haveChromium) throw new Error(`${CHROMIUM} is missing on CI (.ci/run installs Debian's chromium)`);
    if (!existsSync(cli)) throw new Error("dist/ is missing: run `npm run build` before the tests");
    dir = mkdtempSync(join(tmpdir(), "xmcfuzz-browser-"));

    // A real divergent finding, replayed into the HTML crash report.
    const run = xmcfuzz("run", corpusCase, "-s", "direct_write", "-m", "x86-realistic", "--record", join(dir, "crash.json"));
    expect(run.status, run.stderr).toBe(1);
    const repro = xmcfuzz("repro", join(dir, "crash.json"), "--html", join(dir, "crash.html"));
    expect(repro.status, repro.stderr).toBe(1);
    crashSignature = /^signature: (.*)$/m.exec(repro.stdout)![1]!;

    // A real tiny campaign, plotted.
    const fuzz = xmcfuzz("fuzz", "--duration", "6s", "--workers", "1", "--no-minimize", "-s", "direct_write", "-m", "x86-realistic",
      "--out", join(dir, "campaign"), "--crashes", join(dir, "crashes"));
    expect(fuzz.status, fuzz.stderr).toBe(0);
    const plot = xmcfuzz("plot", join(dir, "campaign"), "-o", join(dir, "plot.html"));
    expect(plot.status, plot.stderr).toBe(0);

    // Matrix cells folded from real shards (two per cell), linking the crash's signature to its report.
    const cells: MatrixCell[] = STRATEGIES.flatMap((s) => MODELS.map((m) => foldCell(s, m, [shardOf(s, m, 0, 12), shardOf(s, m, 12, 12)])));
    writeFileSync(join(dir, "matrix.html"), matrixHtml(cells, { reportHref: (sig) => (sig === crashSignature ? "crash.html" : undefined) }));

    context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "xmcfuzz-chromium-")), {
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      viewport: { width: 1280, height: 900 },
    });
    // Self-contained pages: nothing but the file itself is requested (and nothing else could load).
    context.on("request", (r) => requested.push(r.url()));
    await context.route(/^(?!file:)/, (route) => route.abort());
  }, 180_000);

  afterAll(async () => {
    await context?.close();
  });

  afterAll(() => {
    expect(requested.length).toBeGreaterThan(0);
    expect(requested.filter((u) => !u.startsWith("file:"))).toEqual([]);
  });

  it("crash report: a lane per core, the divergent passage highlighted, provenance and the comparison", async () => {
    const page = await open("crash.html");
    const dom = await page.evaluate(() => {
      const box = (e: Element | null) => (e ? e.getBoundingClientRect() : null);
      const lanes = [...document.querySelectorAll("svg.timeline g.lane")].map((g) => ({
        core: Number(g.getAttribute("data-core")), marks: g.querySelectorAll(".mark").length, width: box(g)!.width,
      }));
      const divergent = [...document.querySelectorAll(".passage.divergent")];
      const d = divergent[0] ?? null;
      return {
        lanes,
        divergent: divergent.length,
        divergentBox: box(d) && { w: box(d)!.width, h: box(d)!.height },
        divergentStroke: d ? getComputedStyle(d).stroke : "",
        divergentCore: d?.closest("g.lane")?.getAttribute("data-core"),
        point: document.querySelectorAll(".divergence-point").length,
        markKinds: [...new Set([...document.querySelectorAll("svg.timeline .mark")].map((e) => e.getAttribute("data-kind")))],
        opWindows: document.querySelectorAll("svg.timeline .op-window").length,
        phases: document.querySelectorAll("g.phase").length,
        origins: [...document.querySelectorAll("#divergent-passage-detail .byte[data-origin]")].map((e) => e.getAttribute("data-origin")),
        divergentRow: document.querySelector("tr.divergent-row")?.textContent ?? "",
        verdict: document.querySelector("#verdict")?.textContent ?? "",
      };
    });
    expect(dom.lanes.map((l) => l.core).filter((c) => c >= 0)).toEqual([0, 1, 2]);
    for (const lane of dom.lanes) {
      expect(lane.width).toBeGreaterThan(100);
      expect(lane.marks).toBeGreaterThan(0);
    }
    expect(dom.divergent).toBe(1);
    expect(dom.divergentBox!.w).toBeGreaterThan(0);
    expect(dom.divergentBox!.h).toBeGreaterThan(0);
    expect(dom.divergentStroke).toBe("rgb(207, 34, 46)");
    expect(Number(dom.divergentCore)).toBeGreaterThan(0);
    expect(dom.point).toBe(1);
    // x86-realistic: code stores by the patcher, instructions and prefetch refills on the cores.
    expect(dom.markKinds).toEqual(expect.arrayContaining(["store", "exec", "refill", "end"]));
    expect(dom.opWindows).toBe(1);
    expect(dom.phases).toBeGreaterThan(1);
    expect(dom.origins.length).toBeGreaterThan(0);
    expect(dom.origins.every((o) => ["invariant", "old", "new", "int3", "intermediate"].includes(o!))).toBe(true);
    expect(dom.divergentRow).toContain("first divergence");
    expect(dom.verdict).toContain(crashSignature);
    await expectDrawn(page);
  });

  it("matrix page: every cell rendered and coloured, linking a signature to its reproducer's report", async () => {
    const page = await open("matrix.html");
    const dom = await page.evaluate(() => [...document.querySelectorAll("td.cell")].map((td) => ({
      strategy: td.getAttribute("data-strategy"), model: td.getAttribute("data-model"), state: td.getAttribute("data-state"),
      background: getComputedStyle(td).backgroundColor, height: td.getBoundingClientRect().height,
      links: [...td.querySelectorAll("a")].map((a) => a.getAttribute("href")),
    })));
    expect(dom).toHaveLength(STRATEGIES.length * MODELS.length);
    expect(new Set(dom.map((c) => `${c.strategy}/${c.model}`)).size).toBe(dom.length);
    for (const c of dom) expect(c.height).toBeGreaterThan(20);
    const bg = (state: string) => new Set(dom.filter((c) => c.state === state).map((c) => c.background));
    // stop_machine never diverges; direct_write does on every model here.
    expect(dom.filter((c) => c.strategy === "stop_machine").map((c) => c.state)).toEqual(["no-divergence", "no-divergence", "no-divergence"]);
    expect(dom.filter((c) => c.strategy === "direct_write").map((c) => c.state)).toEqual(["diverges", "diverges", "diverges"]);
    expect(bg("diverges").size).toBe(1);
    expect(bg("no-divergence").size).toBe(1);
    expect([...bg("diverges")][0]).not.toBe([...bg("no-divergence")][0]);
    const linked = dom.find((c) => c.links.includes("crash.html"));
    expect(linked).toMatchObject({ strategy: "direct_write", model: "x86-realistic" });
    await expectDrawn(page);
    await page.click('a[href="crash.html"]');
    await page.waitForSelector("svg.timeline");
    expect(await page.title()).toContain("xmcfuzz repro");
  });

  it("campaign plot: the four series drawn", async () => {
    const page = await open("plot.html");
    const series = await page.evaluate(() => [...document.querySelectorAll("path.series")].map((p) => ({
      key: p.getAttribute("data-series"), points: Number(p.getAttribute("data-points")), length: (p as SVGPathElement).getTotalLength(),
      width: p.getBoundingClientRect().width,
    })));
    expect(series.map((s) => s.key)).toEqual(["execsPerSec", "coverageBits", "corpus", "signatures"]);
    for (const s of series) {
      expect(s.points).toBeGreaterThanOrEqual(2);
      expect(s.length).toBeGreaterThan(0);
      expect(s.width).toBeGreaterThan(100);
    }
    await expectDrawn(page);
  });
});
