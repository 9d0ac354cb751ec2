import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../cli/main.js";
import { InputError } from "../errors.js";
import { planShards } from "../matrix/plan.js";
import { redisOptions } from "./redis.js";
import { formatHubStatus } from "./status.js";
import { shardId } from "./common.js";

// The hub's pure pieces and its command-line errors (no server needed).

describe("hub URLs", () => {
  it("password, ACL user, database, TLS and Unix sockets", () => {
    expect(redisOptions("redis://:pw@10.0.0.1:6380/2")).toMatchObject({ host: "10.0.0.1", port: 6380, db: 2, password: "pw" });
    expect(redisOptions("redis://fuzzer:s%40cret@h")).toMatchObject({ host: "h", port: 6379, username: "fuzzer", password: "s@cret" });
    expect(redisOptions("rediss://h:6390")).toMatchObject({ tls: { servername: "h" } });
    expect(redisOptions("redis://h").tls).toBeUndefined();
    expect(redisOptions("unix:///tmp/r.sock?password=x")).toMatchObject({ path: "/tmp/r.sock", password: "x" });
    expect(() => redisOptions("ftp://h")).toThrow(InputError);
    expect(() => redisOptions("redis://h/x")).toThrow(InputError);
  });
});

describe("shard plans", () => {
  it("one shard per (strategy, model, seed), ids stable and distinct", () => {
    const shards = planShards({ strategies: ["a", "b"], models: ["m"], seed: 3, shardsPerCell: 2, maxExecs: 20, maxMs: 200 });
    expect(shards.map((s) => `${s.strategy}/${s.model}/${s.seed}`)).toEqual(["a/m/3", "a/m/4", "b/m/3", "b/m/4"]);
    const ids = shards.map(shardId);
    expect(new Set(ids).size).toBe(4);
    expect(shardId({ ...shards[0]! })).toBe(ids[0]);
    expect(ids.every((id) => !id.includes(":"))).toBe(true);
  });
});

describe("hub status text", () => {
  it("a line per node, then totals and shards", () => {
    const text = formatHubStatus({
      nodes: [
        { node: "m1", execs: 1000, execsPerSec: 250, at: 0, alive: true }, { node: "m2", execs: 5, execsPerSec: 1, at: 0, alive: false },
        { node: "m3", execs: 9, execsPerSec: 0, at: 0, left: true, alive: false },
      ],
      execsPerSec: 250, corpus: 12, signatures: 3, shards: { pending: 4, running: 2, done: 9 },
    }, 2000);
    expect(text).toMatch(/^m1 +alive +250 execs\/s +1,000 execs +seen 2 s ago$/m);
    expect(text).toMatch(/^m2 +gone/m);
    expect(text).toMatch(/^m3 +left/m);
    expect(text).toMatch(/nodes 1 alive of 3 +total 250 execs\/s +corpus 12 +signatures 3/);
    expect(text).toMatch(/shards pending 4 +running 2 +done 9/);
  });
});

describe("hub command-line errors: one line, exit 2", () => {
  const run = async (...args: string[]) => {
    const err = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      const code = await main(["node", "xmcfuzz", ...args]);
      return { code, stderr: err.mock.calls.map((c) => String(c[0])).join("") };
    } finally {
      err.mockRestore();
    }
  };
  const dir = mkdtempSync(join(tmpdir(), "xmcfuzz-hubcli-"));
  it.each([
    [["hub", "enqueue", dir], /exactly one of --matrix or --campaign/],
    [["hub", "enqueue", dir, "--matrix"], /--max-execs is required/],
    [["hub", "enqueue", dir, "--campaign"], /--duration \(per shard\) is required/],
    [["hub", "enqueue", dir, "--campaign", "--duration", "0"], /--duration: expected a duration above 0, got "0"/],
    [["hub", "enqueue", dir, "--matrix", "--max-execs", "5", "-s", "nope"], /nope/],
    [["hub", "status", "ftp://x"], /unknown scheme/],
    [["hub", "status", join(dir, "missing")], /no such hub directory/],
    [["fuzz", "--hub", "http://x", "--out", dir], /unknown scheme/],
    [["fuzz", "--until-idle", "--out", dir], /need --hub/],
  ])("%j", async (args, message) => {
    const r = await run(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });
});

const cli = join(import.meta.dirname, "..", "..", "dist", "src", "cli", "main.js");

/** The built CLI in its own process (whether it exits at all is the question); killed after `ms`. */
function runCli(args: string[], ms = 30_000): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const t0 = Date.now();
  const child = spawn(process.execPath, [cli, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "", stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const timer = setTimeout(() => child.kill("SIGKILL"), ms);
  return new Promise((resolve) => child.once("exit", (code) => {
    clearTimeout(timer);
    resolve({ code, stdout, stderr, ms: Date.now() - t0 });
  }));
}

describe("node names", () => {
  beforeAll(() => {
    if (!existsSync(cli)) throw new Error("dist/ is missing: run `npm run build` before the tests");
  });

  it("--node .. with --sync-dir: one line, exit 2, no corpus written beside the sync directory", async () => {
    const dir = mkdtempSync(join(tmpdir(), "xmcfuzz-node-"));
    const r = await runCli(["fuzz", "--node", "..", "--sync-dir", join(dir, "sync"), "--out", join(dir, "out"), "-s", "direct_write", "-m", "x86-realistic", "--duration", "1s"]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^xmcfuzz: --node: expected a name of letters.*got "\.\."\n$/);
    expect(readdirSync(dir)).not.toContain("corpus");
  }, 40_000);

  it("--node a/b with a Redis hub: the process exits (the hub's connection is closed)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "xmcfuzz-node-"));
    const r = await runCli(["fuzz", "--node", "a/b", "--hub", "redis://127.0.0.1:1", "--out", join(dir, "out"), "--crashes", join(dir, "crashes"), "-s", "direct_write", "--duration", "1s"]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  }, 40_000);
});

describe("an unreachable Redis hub", () => {
  beforeAll(() => {
    if (!existsSync(cli)) throw new Error("dist/ is missing: run `npm run build` before the tests");
  });

  it("one-shot commands give up after 5 s with one line (no password shown), exit 2; a node fuzzes on and says so", async () => {
    const dir = mkdtempSync(join(tmpdir(), "xmcfuzz-unreachable-"));
    const hub = "redis://:S3cret@127.0.0.1:1";
    const [status, enqueue, matrix, batch, node] = await Promise.all([
      runCli(["hub", "status", hub]),
      runCli(["hub", "enqueue", hub, "--matrix", "--max-execs", "5", "-s", "direct_write", "-m", "x86-realistic"]),
      runCli(["matrix", "--hub", hub, "-s", "direct_write", "-m", "x86-realistic", "--max-execs", "10", "--no-verify", "--crashes", join(dir, "crashes")]),
      // A batch node has nothing to do without its hub (it waited for ever).
      runCli(["fuzz", "--hub", hub, "--shards-only", "--until-idle", "--out", join(dir, "batch"), "--crashes", join(dir, "batch-crashes")]),
      runCli(["fuzz", "--hub", hub, "-s", "direct_write", "-m", "x86-realistic", "--duration", "1s", "--no-minimize", "--out", join(dir, "node"), "--crashes", join(dir, "node-crashes")]),
    ]);
    for (const r of [status, enqueue, matrix, batch]) {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(/^xmcfuzz: hub redis:\/\/:\*\*\*@127\.0\.0\.1:1: no answer within 5 s \(connect ECONNREFUSED 127\.0\.0\.1:1\)\n$/);
      expect(r.ms).toBeLessThan(15_000);
    }
    expect(node.code, node.stderr).toBe(0);
    expect(node.stderr).toMatch(/^hub unreachable \(connect ECONNREFUSED 127\.0\.0\.1:1\): fuzzing on alone, retrying in the background$/m);
    expect(node.stderr).not.toContain("S3cret");
  }, 60_000);
});
