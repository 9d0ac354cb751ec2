import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";

// Issue 10, items 1 and 5, in a campaign: a user strategy that throws is a harness error (its own
// log line and counter), never a divergence, and the campaign goes on.

const root = join(import.meta.dirname, "..", "..");
const cli = join(root, "dist", "src", "cli", "main.js");

beforeAll(() => {
  if (!existsSync(cli)) throw new Error("dist/ is missing: run `npm run build` before the tests");
});

/** A directory with the plugin `name` written in it, and `fuzz` run on it there with `args` (its --json stats on stdout). */
function campaignWith(name: string, text: string[] | string, args: string[]) {
  const dir = mkdtempSync(join(tmpdir(), "xmcfuzz-harness-"));
  const plugin = join(dir, name);
  writeFileSync(plugin, typeof text === "string" ? text : text.join("\n"));
  const r = spawnSync(process.execPath, [cli, "fuzz", "-s", plugin, ...args, "--out", dir, "--crashes", join(dir, "crashes"), "--json"], { cwd: root, encoding: "utf8", timeout: 60_000 });
  return { dir, r };
}

describe("misbehaving strategies in a campaign", () => {
  it("a strategy that throws in every run: counted and logged as a harness error, never a finding; the others go on", () => {
    const { dir, r } = campaignWith("thrower.mjs", "export const strategy = { name: 'thrower', *patch(ctx) { yield* ctx.store('x', 1); throw new Error('kaboom'); } };",
      ["-s", "direct_write", "--duration", "10s", "--seed", "5"]);
    expect(r.status, r.stderr).toBe(0);
    const stats = JSON.parse(r.stdout) as { harnessErrors: number; divergences: number; execs: number };
    expect(stats.harnessErrors).toBeGreaterThan(10);
    expect(stats.divergences).toBeGreaterThan(0);
    // One human line for the distinct error, not one per run.
    expect(r.stderr.match(/harness error: thrower under .*kaboom/g)?.length ?? 0).toBeGreaterThanOrEqual(1);
    expect(r.stderr.match(/harness error: thrower/g)!.length).toBeLessThanOrEqual(5);
    const log = readFileSync(join(dir, "fuzz.log"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { msg: string; strategy?: string; error?: string; count?: number });
    const errors = log.filter((l) => l.msg === "harness error" && l.strategy === "thrower");
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((e) => /kaboom/.test(e.error!))).toBe(true);
    // Logged the 1st, 10th, 100th... time: far fewer lines than errors; the summary has the counts.
    expect(errors.length).toBeLessThan(stats.harnessErrors);
    const summary = log.filter((l) => l.msg === "harness error summary");
    expect(summary.reduce((a, l) => a + l.count!, 0)).toBe(stats.harnessErrors);
    expect(readdirSync(join(dir, "crashes")).filter((d) => d.startsWith("thrower"))).toEqual([]);
    expect(readdirSync(join(dir, "crashes")).some((d) => d.startsWith("direct_write"))).toBe(true);
    // The closing summary: every cell asked for, the thrower's with nothing but harness errors,
    // direct_write's divergences by cause.
    const cells = r.stderr.slice(r.stderr.indexOf("new signatures by cell")).trim().split("\n").slice(1);
    expect(cells).toHaveLength(10);
    const thrower = cells.map((l) => /^ {2}thrower +\S+ +none {2}\[([\d,]+) harness errors?: /.exec(l)?.[1]).filter((n) => n !== undefined);
    expect(thrower).toHaveLength(5);
    expect(thrower.reduce((a, n) => a + Number(n.replace(/,/g, "")), 0)).toBe(stats.harnessErrors);
    const counted = cells.map((l) => /^ {2}direct_write +\S+ +([\d,]+) divergences? \(/.exec(l)?.[1]).filter((n) => n !== undefined);
    expect(counted.reduce((a, n) => a + Number(n.replace(/,/g, "")), 0)).toBe(stats.divergences);
  }, 60_000);
});

describe("a strategy that is not deterministic", () => {
  it("its findings that do not replay are harness errors; the worker is never lost", () => {
    // Module state: every third patch writes whole slots, the others byte by byte.
    const { r } = campaignWith("flaky.mjs", [
      "let n = 0;",
      "export const strategy = { name: 'flaky', *patch(ctx, slots) { n++;",
      "  for (const s of slots) { if (n % 3 === 0) yield* ctx.write(s.start, s.to);",
      "    else for (let i = 0; i < s.len; i++) yield* ctx.write(s.start + i, s.to.subarray(i, i + 1)); } } };",
    ], ["--duration", "10s", "--seed", "2"]);
    expect(r.status, r.stderr).toBe(0);
    const stats = JSON.parse(r.stdout) as { harnessErrors: number; workerRestarts: number; execs: number };
    expect(stats.workerRestarts).toBe(0);
    expect(stats.harnessErrors).toBeGreaterThan(0);
    expect(r.stderr).toMatch(/harness error: flaky under .*(did not replay|not replayable|minimization)/);
  }, 60_000);
});

describe("a strategy that takes its worker thread down", () => {
  it("is blamed: each death a harness error of the cell that was running, the worker replaced, a line the 1st, 10th... time", () => {
    // A careless async call: its rejection, unhandled, ends the thread (as process.exit would).
    const { r } = campaignWith("exits.mjs", "export const strategy = { name: 'exits', *patch(ctx, slots) { Promise.reject(new Error('unawaited')); for (const s of slots) yield* ctx.write(s.start, s.to); } };",
      ["-m", "sdm-strict", "--duration", "5s", "--workers", "1"]);
    expect(r.status, r.stderr).toBe(0);
    const stats = JSON.parse(r.stdout) as { harnessErrors: number; workerRestarts: number };
    expect(stats.workerRestarts).toBeGreaterThan(2);
    expect(stats.harnessErrors).toBe(stats.workerRestarts);
    expect(r.stderr).toMatch(/harness error: exits under sdm-strict: the worker thread died \(exit 1: unawaited\); its last run was of exits/);
    expect(r.stderr.match(/worker 0 died/g)!.length).toBeLessThanOrEqual(3);
    expect(r.stderr).toMatch(/^ {2}exits +sdm-strict .*\[[\d,]+ harness errors?: /m);
  }, 60_000);
});
