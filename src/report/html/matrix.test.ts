import { describe, expect, it } from "vitest";
import type { ShardResult } from "../../types.js";
import { foldCell } from "../../matrix/fold.js";
import { cellView, matrixHtml, matrixView } from "./matrix.js";

const shard = (strategy: string, model: string, seed: number, r: Partial<ShardResult> = {}): ShardResult => ({
  shard: { strategy, model, seed, maxExecs: 100, maxMs: 1000 },
  execs: 100, ms: 400, signatures: [], rules: [], harnessErrors: 0, ...r,
});

const sig = "direct_write x86-realistic torn-fetch wild-jump nop5->jmp32 write/0";
const sig2 = "direct_write x86-realistic stale-after-completion wrong-output nop5->jmp32 after/0";
const cells = [
  foldCell("direct_write", "x86-realistic", [
    shard("direct_write", "x86-realistic", 0, { signatures: [sig], rules: ["rule direct_write x86-realistic unsynchronized-xmc nop5->jmp32 write/0"], firstDivergence: { execs: 7, ms: 30 } }),
    shard("direct_write", "x86-realistic", 1, { signatures: [sig2], firstDivergence: { execs: 3, ms: 50 } }),
  ]),
  { ...foldCell("stop_machine", "x86-realistic", [shard("stop_machine", "x86-realistic", 0)]), verified: { bound: 2, cases: 11, schedules: 12_345, complete: true } },
  foldCell("stop_machine", "noncoherent-icache", [shard("stop_machine", "noncoherent-icache", 0, { harnessErrors: 1 })]),
  foldCell("sdm_xmc", "noncoherent-icache", [shard("sdm_xmc", "noncoherent-icache", 0, { rules: ["rule sdm_xmc noncoherent-icache cmodx-violation nop5->jmp32 write/0"] })]),
];

describe("matrix view", () => {
  const v = matrixView(cells, (s) => (s === sig ? `crashes/${encodeURIComponent(s)}.html` : undefined));

  it("is a strategies x models grid with a view for every pair", () => {
    expect(v.strategies).toEqual(["direct_write", "stop_machine", "sdm_xmc"]);
    expect(v.models).toEqual(["x86-realistic", "noncoherent-icache"]);
    expect(v.rows.map((r) => r.map((c) => c.state))).toEqual([
      ["diverges", "missing"], ["no-divergence", "harness-error"], ["missing", "rules-only"],
    ]);
  });

  it("says causes, effects, first divergence, execs and rules of a divergent cell", () => {
    const c = v.rows[0]![0]!;
    const fact = (label: string) => c.facts.find((f) => f.label === label)?.text;
    expect(fact("causes")).toBe("stale-after-completion, torn-fetch");
    expect(fact("effects")).toBe("wild-jump, wrong-output");
    expect(fact("first")).toBe("after 3 execs, 50 ms");
    expect(fact("execs")).toBe("200 in 800 ms (2 shards)");
    expect(fact("rules")).toBe("unsynchronized-xmc (1 signature)");
    expect(c.signatures.map((s) => s.short)).toEqual(["stale-after-completion wrong-output nop5->jmp32 after/0", "torn-fetch wild-jump nop5->jmp32 write/0"]);
    expect(c.signatures.map((s) => s.href)).toEqual([undefined, `crashes/${encodeURIComponent(sig)}.html`]);
  });

  it("gives a clean cell its verify bound", () => {
    expect(v.rows[1]![0]!.facts.find((f) => f.label === "verified")?.text).toBe("bound 2 on 11 corpus cases, 12,345 schedules");
    expect(cellView("a", "b", { ...cells[1]!, verified: { bound: 1, cases: 1, schedules: 9, complete: false } }).facts.at(-1)?.text).toBe("bound 1 on 1 corpus case, 9 schedules (incomplete)");
  });
});

describe("matrix page", () => {
  const html = matrixHtml(cells, { title: "m <1>", reportHref: (s) => `r/${s.split(" ")[2]}.html` });

  it("renders every cell, coloured by state, with links to reproducers", () => {
    expect(html.match(/<td class="cell /g)).toHaveLength(6);
    expect(html).toMatch(/<td class="cell s-diverges" data-strategy="direct_write" data-model="x86-realistic"/);
    expect(html).toMatch(/<td class="cell s-missing" data-strategy="sdm_xmc" data-model="x86-realistic"/);
    expect(html).toContain('<a href="r/torn-fetch.html">torn-fetch wild-jump nop5-&#62;jmp32 write/0</a>');
    expect(html).toContain("<title>m &#60;1&#62;</title>");
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/i);
  });

  it("keeps the agreed signature: options are optional", () => {
    expect(matrixHtml(cells)).toContain("xmcfuzz safety matrix");
  });
});
