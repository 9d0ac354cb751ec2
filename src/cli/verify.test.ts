import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CLI as cli, runCli } from "../testing/cli.js";

// `verify` as users run it (the built entry point): rule findings are shown apart from
// divergences (SPEC 7.3), recorded with --record, and named under --rules-fail.

let dir = "";
let kase = "";

const xmcfuzz = (...args: string[]) => runCli(args);

/** One program core, three passages through `mov al, 1 -> mov al, 2`: direct_single_byte breaks unsynchronized-xmc in each of its 3 schedules. */
const imm = {
  xmcfuzz: "case", version: 2, name: "imm", cores: 2,
  code: { base: "0x1000", asm: ["core1: mov ecx, 3", "loop:", ".slot s", "mov al, 1", ".endslot", "out 0x10", "dec ecx", "jne loop", "hlt"] },
  entries: ["core1"],
  slots: [{ name: "s", new: "mov al, 2" }],
  ops: [{ slots: ["s"] }],
};
const cell = ["-s", "direct_single_byte", "-m", "coherent-atomic-byte", "--bound", "2"];

interface Recorded { runs: { expect: { verdict: string; rules: string[] } }[] }
const recorded = (path: string) => JSON.parse(readFileSync(path, "utf8")) as Recorded;

beforeAll(() => {
  if (!existsSync(cli)) throw new Error("dist/ is missing: run `npm run build` before the tests");
  dir = mkdtempSync(join(tmpdir(), "xmcfuzz-verify-"));
  kase = join(dir, "imm.json");
  writeFileSync(kase, JSON.stringify(imm));
});

describe("verify: rule findings across the schedules", () => {
  it("no divergence, but the rule broken in every schedule is said, and --record keeps a schedule that breaks it", () => {
    const out = join(dir, "rules.json");
    const r = xmcfuzz("verify", kase, ...cell, "--record", out);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/no divergence in all 3 schedules within delay bound 2; rule findings: unsynchronized-xmc in 3 of 3 schedules \(first: schedule 1\)/);
    expect(recorded(out).runs.map((run) => run.expect)).toEqual([{ verdict: "clean", rules: ["unsynchronized-xmc"] }]);
    expect(xmcfuzz("check-replay", out).status).toBe(0);
  });

  it("--json has them per cell", () => {
    const [c] = JSON.parse(xmcfuzz("verify", kase, ...cell, "--json").stdout) as Record<string, unknown>[];
    expect(c).toMatchObject({ verdict: "clean", divergent: null, explored: 3, rules: [{ rule: "unsynchronized-xmc", schedules: 3, firstSchedule: 1 }] });
  });

  it("--rules-fail: the schedule found is named by its rule, and its recording replays", () => {
    const out = join(dir, "rules-fail.json");
    const r = xmcfuzz("verify", kase, ...cell, "--rules-fail", "--record", out, "--json");
    expect(r.status).toBe(1);
    const [c] = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(c).toMatchObject({ verdict: "diverges", divergent: null, rules: [{ rule: "unsynchronized-xmc", schedules: 1, firstSchedule: 1 }] });
    expect(c!["summary"]).toMatch(/^divergent schedule found after 1 schedules: rule finding unsynchronized-xmc \(counted as a divergence: --rules-fail\)/);
    expect(recorded(out).runs.map((run) => run.expect)).toEqual([{ verdict: "clean", rules: ["unsynchronized-xmc"] }]);
    expect(xmcfuzz("check-replay", out).status).toBe(0);
  });
});
