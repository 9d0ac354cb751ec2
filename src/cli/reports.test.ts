import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CLI as cli, ROOT as root, runCli } from "../testing/cli.js";

// The report commands as users run them: `repro --html`, `plot`, `export --litmus`.

const corpusCase = join(root, "corpus", "jump-label-nop5-jmp32.json");
let dir = "";
let crash = "";

const xmcfuzz = (...args: string[]) => runCli(args);

const history = [
  { t: 100, execs: 10, execsPerSec: 100, coverageBits: 50, corpus: 3, signatures: 1 },
  { t: 5100, execs: 900, execsPerSec: 178, coverageBits: 120, corpus: 20, signatures: 4 },
];

beforeAll(() => {
  if (!existsSync(cli)) throw new Error("dist/ is missing: run `npm run build` before the tests");
  dir = mkdtempSync(join(tmpdir(), "xmcfuzz-reports-"));
  crash = join(dir, "crash.json");
  expect(xmcfuzz("run", corpusCase, "-s", "direct_write", "-m", "coherent-atomic-byte", "--record", crash).status).toBe(1);
  mkdirSync(join(dir, "camp"));
  writeFileSync(join(dir, "camp", "stats.json"), JSON.stringify({ node: "n", seed: 1, history }));
});

describe("repro --html", () => {
  it("writes the report beside the text report, with the same exit status", () => {
    const out = join(dir, "crash.html");
    const r = xmcfuzz("repro", crash, "--html", out);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("DIVERGES: torn-fetch -> wild-jump");
    const html = readFileSync(out, "utf8");
    expect(html).toMatch(/^<!doctype html>/);
    expect(html.match(/<g class="lane"/g)).toHaveLength(3);
    expect(html).toContain("direct_write coherent-atomic-byte torn-fetch wild-jump nop5-&#62;jmp32 write/0");
  });

  it("works with --json too (the replay is traced for the page)", () => {
    const out = join(dir, "crash-json.html");
    const r = xmcfuzz("repro", crash, "--json", "--html", out);
    expect(r.status).toBe(1);
    const runs = JSON.parse(r.stdout) as { divergences: { passage: Record<string, unknown> }[] }[];
    expect(runs).toHaveLength(1);
    // The divergent passage says whose it is and how it was judged, as the text report does.
    expect(runs[0]!.divergences[0]!.passage).toMatchObject({ core: expect.any(Number), slot: 0, op: 0, widened: true, badEmulation: false, resolution: null });
    expect(readFileSync(out, "utf8")).toContain('class="passage v-mixed divergent"');
  });

  it("an unwritable path is bad input", () => {
    const r = xmcfuzz("repro", crash, "--html", join(dir, "no", "such", "dir", "x.html"));
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/cannot write the HTML report \(ENOENT\)/);
  });
});

describe("plot", () => {
  it("writes an HTML page or an SVG by extension", () => {
    expect(xmcfuzz("plot", join(dir, "camp"), "-o", join(dir, "p.html")).status).toBe(0);
    expect(readFileSync(join(dir, "p.html"), "utf8")).toMatch(/^<!doctype html>[\s\S]*<svg class="plot"/);
    expect(xmcfuzz("plot", join(dir, "camp", "stats.json"), "-o", join(dir, "p.svg")).status).toBe(0);
    const svg = readFileSync(join(dir, "p.svg"), "utf8");
    expect(svg).toMatch(/^<svg class="plot" xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg.match(/<path class="series"/g)).toHaveLength(4);
  });

  const bad: [string, () => string[], RegExp][] = [
    ["no campaign", () => ["plot", join(dir, "none"), "-o", join(dir, "x.html")], /none: no such campaign directory or stats file/],
    ["no stats.json", () => ["plot", dir, "-o", join(dir, "x.html")], /stats\.json: missing \(is this a campaign directory\?\)/],
    ["wrong extension", () => ["plot", join(dir, "camp"), "-o", join(dir, "x.png")], /x\.png: the output must end in \.html or \.svg/],
    ["bad field", () => { writeFileSync(join(dir, "bad.json"), JSON.stringify({ history: [{ ...history[0], corpus: -1 }] })); return ["plot", join(dir, "bad.json"), "-o", join(dir, "x.svg")]; }, /bad\.json: history\.0\.corpus: /],
    ["not JSON", () => { writeFileSync(join(dir, "nj.json"), "{"); return ["plot", join(dir, "nj.json"), "-o", join(dir, "x.svg")]; }, /nj\.json: not valid JSON/],
  ];
  for (const [name, args, message] of bad) {
    it(`bad input, one line, exit 2: ${name}`, () => {
      const r = xmcfuzz(...args());
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    });
  }
});

describe("export --litmus", () => {
  it("prints the litmus text of each recorded run, exit 0", () => {
    const r = xmcfuzz("export", crash, "--litmus");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^X86-XMC "jump-label-nop5-jmp32"/);
    expect(r.stdout).toContain("FORBIDDEN: torn-fetch -> wild-jump");
    expect(r.stdout).toContain("the recorded schedule, ");
  });

  it("-o writes it to a file", () => {
    const out = join(dir, "crash.litmus");
    expect(xmcfuzz("export", crash, "--litmus", "-o", out).status).toBe(0);
    expect(readFileSync(out, "utf8")).toBe(xmcfuzz("export", crash, "--litmus").stdout);
  });

  it("without a format, or with no matching run, is bad input", () => {
    const none = xmcfuzz("export", crash);
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/choose a format \(--litmus\)/);
    const filtered = xmcfuzz("export", crash, "--litmus", "-s", "stop_machine");
    expect(filtered.status).toBe(2);
    expect(filtered.stderr).toMatch(/no recorded run to export for the given strategy\/model/);
  });
});
