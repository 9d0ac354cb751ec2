import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";

// The jsfuzz targets as jsfuzz runs them: CommonJS modules over the CommonJS build, each loaded in
// a child process of its own (they read their environment when loaded).

const root = join(import.meta.dirname, "..");

beforeAll(() => {
  const r = spawnSync("npm", ["run", "--silent", "build:cjs"], { cwd: root, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`npm run build:cjs failed: ${r.stderr}`);
}, 120_000);

/**
 * Loads harness/<target> in a fresh node and calls `body` (JS source with `target`, and `bufs`:
 * `count` seeded random buffers of 0-299 bytes in scope); returns what the body prints.
 */
function withTarget(target: string, count: number, body: string, env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const script = `
    const target = require(${JSON.stringify(join(root, "harness", target))});
    const rng = require("seedrandom").alea("jsfuzz-target");
    const bufs = Array.from({ length: ${count} }, () => Buffer.from(Array.from({ length: Math.floor(rng() * 300) }, () => Math.floor(rng() * 256))));
    ${body}`;
  return spawnSync(process.execPath, ["-e", script], { cwd: root, encoding: "utf8", env: { ...process.env, ...env }, timeout: 60_000 });
}

describe("harness/jsfuzz-target.cjs", () => {
  it("decodes every buffer to one differential run and throws on none of them by default", () => {
    const r = withTarget("jsfuzz-target.cjs", 300, `
      const kinds = {};
      for (const b of bufs) {
        target.fuzz(b);
        const { outcome } = target.runBytes(b);
        if (outcome.run.events < 1) throw new Error("a run without events");
        kinds[outcome.verdict.kind] = (kinds[outcome.verdict.kind] ?? 0) + 1;
      }
      console.log(JSON.stringify(kinds));`);
    expect(r.status, r.stderr).toBe(0);
    const kinds = JSON.parse(r.stdout) as Record<string, number>;
    // Random buffers pick broken strategies too: divergences happen and are not thrown.
    expect(kinds["diverges"]).toBeGreaterThan(0);
    expect(kinds["clean"]).toBeGreaterThan(0);
  }, 60_000);

  it("throws on any stop_machine rule finding, which is a harness bug like its divergence, and on no other strategy's", () => {
    const r = withTarget("jsfuzz-target.cjs", 0, `
      const verdict = (strategy) => ({ strategy, model: "x86-realistic", kind: "clean", divergences: [], rules: [{ rule: "unsynchronized-xmc", core: 2 }] });
      target.throwIfBug({ seed: 3, outcome: { verdict: verdict("direct_write") } });
      try { target.throwIfBug({ seed: 3, outcome: { verdict: verdict("stop_machine") } }); } catch (e) { console.log(e.message); process.exit(0); }
      process.exit(1);`);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("stop_machine/x86-realistic/seed 3: stop_machine broke unsynchronized-xmc (core 2)");
  }, 60_000);

  it("with XMCFUZZ_THROW=1, stops at the first divergence, naming its run and signature", () => {
    const r = withTarget("jsfuzz-target.cjs", 300, `
      for (const b of bufs) {
        try { target.fuzz(b); } catch (e) { console.log(e.message); process.exit(0); }
      }
      process.exit(1);`, { XMCFUZZ_THROW: "1" });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toMatch(/^[\w-]+\/[\w-]+\/seed \d+: \S/);
  }, 60_000);
});

describe("harness/jsfuzz-counting-target.cjs", () => {
  it("tallies its runs' work every 250 execs", () => {
    const file = join(mkdtempSync(join(tmpdir(), "xmcfuzz-tally-")), "tally.json");
    const r = withTarget("jsfuzz-counting-target.cjs", 520, "for (const b of bufs) target.fuzz(b);", { XMCFUZZ_TALLY_FILE: file });
    expect(r.status, r.stderr).toBe(0);
    const tally = JSON.parse(readFileSync(file, "utf8")) as { execs: number; events: number; instructions: number };
    expect(tally.execs).toBe(500);
    expect(tally.events).toBeGreaterThanOrEqual(tally.execs);
    expect(tally.instructions).toBeGreaterThan(0);
  }, 60_000);
});
