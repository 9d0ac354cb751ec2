import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CLI as cli, runCli } from "../testing/cli.js";

// `run` as users run it (the built entry point): rule findings across its schedules, and a
// recorded file that the tool's own checks replay as recorded.

let dir = "";

const xmcfuzz = (...args: string[]) => runCli(args);

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** One program core, two passages through the immediate-value patch `mov al, 1 -> mov al, 2`. */
const imm = JSON.stringify({
  xmcfuzz: "case", version: 2, name: "imm", cores: 2,
  code: { base: "0x1000", asm: ["core1: mov ecx, 2", "loop:", ".slot s", "mov al, 1", ".endslot", "out 0x10", "dec ecx", "jne loop", "hlt"] },
  entries: ["core1"],
  slots: [{ name: "s", new: "mov al, 2" }],
  ops: [{ slots: ["s"] }],
});

interface Recorded { runs: { strategy: string; seed: number; decisions: string; expect: { verdict: string; rules: string[] } }[] }
const recorded = (path: string) => JSON.parse(readFileSync(path, "utf8")) as Recorded;

beforeAll(() => {
  if (!existsSync(cli)) throw new Error("dist/ is missing: run `npm run build` before the tests");
  dir = mkdtempSync(join(tmpdir(), "xmcfuzz-run-"));
});

describe("run: rule findings across its schedules (SPEC 7.3)", () => {
  // Under noncoherent_flush x x86-realistic seeds 0-3 break unsynchronized-xmc, seed 4 does not.
  const cell = ["-s", "noncoherent_flush", "-m", "x86-realistic", "--schedules", "5"];

  it("a clean cell says which rules broke, in how many schedules, and the first seed; --record keeps that schedule", () => {
    const out = join(dir, "rules.json");
    const r = xmcfuzz("run", file("imm.json", imm), ...cell, "--record", out);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/clean.*\(5 schedules from seed 0\)  rule findings: unsynchronized-xmc in 4 of 5 schedules \(first: seed 0\)/);
    const run = recorded(out).runs[0]!;
    expect(run.seed).toBe(0);
    expect(run.expect).toEqual({ verdict: "clean", rules: ["unsynchronized-xmc"] });
    expect(xmcfuzz("check-replay", out).status).toBe(0);
  });

  it("--json lists them too", () => {
    const r = xmcfuzz("run", file("imm.json", imm), ...cell, "--json");
    const [cellJson] = JSON.parse(r.stdout) as { verdict: string; schedules: number; ruleSchedules: unknown[] }[];
    expect(cellJson!.verdict).toBe("clean");
    expect(cellJson!.schedules).toBe(5);
    expect(cellJson!.ruleSchedules).toEqual([{ rule: "unsynchronized-xmc", schedules: 4, firstSeed: 0 }]);
  });
});

describe("run --record: a recorded file replays as recorded", () => {
  it("with --rules-fail the expectation is the verdict itself (rules apart), so check-replay, regress and repro agree", () => {
    const out = join(dir, "rules-fail.json");
    const r = xmcfuzz("run", file("imm.json", imm), "-s", "direct_single_byte", "-m", "coherent-atomic-byte", "--rules-fail", "--record", out);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/DIVERGES \(rule findings counted as divergences\)  \[rules: unsynchronized-xmc\]/);
    expect(recorded(out).runs[0]!.expect).toEqual({ verdict: "clean", rules: ["unsynchronized-xmc"] });
    expect(xmcfuzz("check-replay", out).status).toBe(0);
    expect(xmcfuzz("regress", out).status).toBe(0);
    for (const extra of [[], ["--rules-fail"]]) expect(xmcfuzz("repro", out, ...extra).stdout).toMatch(/recorded expectation: clean: reproduced/);
  });

  it("a cell cut off by --timeout is left out (it has no decisions to replay) and said so; the rest replays", () => {
    const spinner = file("spin.mjs", "export const strategy = { name: 'spinner', *patch(ctx, slots) { for (const s of slots) yield* ctx.write(s.start, s.to); for (;;) {} } };");
    const out = join(dir, "cut-off.json");
    const r = xmcfuzz("run", file("imm.json", imm), "-s", spinner, "-s", "stop_machine", "-m", "coherent-atomic-byte", "--schedules", "2", "--timeout", "2s", "--record", out);
    expect(r.status).toBe(3);
    expect(r.stdout).toMatch(/spinner\s+coherent-atomic-byte\s+HARNESS ERROR/);
    expect(r.stderr.trim()).toBe("xmcfuzz: --record: spinner x coherent-atomic-byte not recorded: it was cut off by --timeout, so it has no decision list to replay");
    expect(recorded(out).runs.map((run) => run.strategy)).toEqual(["stop_machine"]);
    const repro = xmcfuzz("repro", out);
    expect(repro.status).toBe(0);
    expect(repro.stdout).toMatch(/recorded expectation: clean: reproduced/);
  });
});
