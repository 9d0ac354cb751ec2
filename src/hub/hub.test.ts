import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { MatrixCell, Shard, ShardResult } from "../types.js";
import { foldCell } from "../matrix/fold.js";
import { redisServerAvailable, startRedis, type RedisProcess } from "../testing/redis.js";
import { runShard } from "../matrix/shard.js";
import { resolveModel } from "../models/load.js";
import { resolveStrategy } from "../strategies/load.js";
import { planShards } from "../matrix/plan.js";
import { RedisHub } from "./redis.js";

// The hub with the real server and real processes: nodes that die, a server that stalls or
// restarts, and a matrix served by two processes that must equal the single-process one.

const haveRedis = redisServerAvailable();
if (!haveRedis && process.env["CI"]) throw new Error("redis-server is missing on CI: the hub tests cannot be skipped there");

const root = join(import.meta.dirname, "..", "..");
const cli = join(root, "dist", "src", "cli", "main.js");
const fresh = () => mkdtempSync(join(tmpdir(), "xmcfuzz-hubtest-"));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const children: ChildProcess[] = [];
const servers: RedisProcess[] = [];
const hubs: RedisHub[] = [];

function node(url: string, name: string, dir: string, extra: string[]): ChildProcess & { done: Promise<number | null>; out: () => string } {
  const child = spawn(process.execPath, [cli, "fuzz", "--hub", url, "--node", name, "--out", join(dir, name), "--crashes", join(dir, name, "crashes"), "--seed", "5", ...extra], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  children.push(child);
  return Object.assign(child, { done: new Promise<number | null>((r) => child.once("exit", (code) => r(code))), out: () => out });
}

async function until(cond: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) if (await cond()) return;
  throw new Error(`timed out waiting for ${what}`);
}

function hubOf(url: string): RedisHub {
  const h = new RedisHub(url);
  hubs.push(h);
  return h;
}

/** A cell without wall times (they differ run to run; execs are what exec-bounded shards fix). */
const timeless = (c: MatrixCell) => ({ ...c, ms: 0, firstDivergence: c.firstDivergence ? { execs: c.firstDivergence.execs, ms: 0 } : undefined });
function fold(results: readonly ShardResult[]) {
  const cells = [...new Set(results.map((r) => `${r.shard.strategy}\t${r.shard.model}`))].sort();
  return cells.map((k) => {
    const [s, m] = k.split("\t") as [string, string];
    return timeless(foldCell(s, m, results.filter((r) => r.shard.strategy === s && r.shard.model === m)));
  });
}

beforeAll(() => {
  if (!existsSync(cli)) throw new Error("dist/ is missing: run `npm run build` before the tests");
});

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await Promise.all(hubs.splice(0).map((h) => h.close()));
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

const suite = haveRedis ? describe : describe.skip;

suite("redis hub with real processes", () => {
  it("a tiny matrix served by two processes through the hub equals the single-process fold", async () => {
    const server = await startRedis();
    servers.push(server);
    const shards = planShards({ strategies: ["direct_write", "text_poke_bp"], models: ["sdm-strict", "x86-realistic"], seed: 1, shardsPerCell: 2, maxExecs: 80, maxMs: 1_200_000 });
    const hub = hubOf(server.url);
    expect(await hub.enqueueShards(shards)).toBe(8);
    const dir = fresh();
    const a = node(server.url, "A", dir, ["--shards-only", "--until-idle", "--shard-workers", "1", "--no-minimize"]);
    const b = node(server.url, "B", dir, ["--shards-only", "--until-idle", "--shard-workers", "1", "--no-minimize"]);
    // The reference: the same shards, one after another, in this process.
    const single: ShardResult[] = [];
    for (const s of shards) single.push(runShard(s, (await resolveStrategy(s.strategy)), resolveModel(s.model)).result);
    expect([await a.done, await b.done], a.out() + b.out()).toEqual([0, 0]);
    const served = await hub.results();
    expect(served).toHaveLength(8);
    expect(fold(served)).toEqual(fold(single));
    expect(fold(single).some((c) => c.signatures.length > 0)).toBe(true);
    const boards = (await hub.status()).nodes.map((n) => n.node);
    expect(boards).toEqual(["A", "B"]);
  }, 90_000);

  it("serveMatrixThroughHub (the `matrix --hub` hook) returns each shard's result once, as a local run gives it", async () => {
    const server = await startRedis();
    servers.push(server);
    const shards = planShards({ strategies: ["direct_write"], models: ["x86-realistic"], seed: 7, shardsPerCell: 2, maxExecs: 50, maxMs: 1_200_000 });
    // The built module: its shard threads load compiled workers.
    const { serveMatrixThroughHub } = (await import(join(root, "dist", "src", "hub", "matrix.js"))) as typeof import("./matrix.js");
    const served = await serveMatrixThroughHub(server.url, [...shards, shards[0]!], { localWorkers: 1, pollMs: 100 });
    const local = await Promise.all(shards.map(async (s) => runShard(s, await resolveStrategy(s.strategy), resolveModel(s.model)).result));
    expect(served).toHaveLength(2);
    expect(fold(served)).toEqual(fold(local));
  }, 60_000);

  it("SIGKILL of a node holding a shard: the shard completes on another node and is counted once", async () => {
    const server = await startRedis();
    servers.push(server);
    const hub = hubOf(server.url);
    const shards = planShards({ strategies: ["direct_write"], models: ["x86-realistic"], seed: 1, shardsPerCell: 2, maxExecs: 300, maxMs: 1_200_000 });
    await hub.enqueueShards(shards);
    const dir = fresh();
    const a = node(server.url, "A", dir, ["--shards-only", "--shard-workers", "1", "--shard-lease", "2s", "--no-minimize"]);
    await until(async () => (await hub.status()).shards.running === 1, 20_000, "A to take a shard");
    await sleep(500);
    a.kill("SIGKILL");
    const b = node(server.url, "B", dir, ["--shards-only", "--until-idle", "--shard-workers", "1", "--shard-lease", "2s", "--no-minimize"]);
    expect(await b.done, b.out()).toBe(0);
    const results = await hub.results();
    expect(results.map((r) => r.shard.seed).sort()).toEqual([1, 2]);
    const cell = foldCell("direct_write", "x86-realistic", [...results, ...results]);
    expect(cell.shards).toBe(2);
    expect(cell.execs).toBe(300);
  }, 90_000);

  it("SIGSTOP of the server for 3 s: the node keeps fuzzing; a restarted empty server gets everything back", async () => {
    const server = await startRedis();
    servers.push(server);
    const dir = fresh();
    // Database 3: selecting it delays the node's start past the first connection, which a node
    // once took for a reconnection (so the real one went unnoticed and nothing was offered again).
    const a = node(`${server.url}?db=3`, "A", dir, ["-s", "direct_write", "-m", "x86-realistic", "-m", "sdm-strict", "--duration", "14s", "--no-minimize", "--shard-workers", "0"]);
    await sleep(3000);
    server.child.kill("SIGSTOP");
    const stoppedAt = Date.now();
    await sleep(3000);
    server.child.kill("SIGCONT");
    const contAt = Date.now();
    await sleep(2500);
    // Wipe the hub: kill the server, start an empty one on the same socket; the node must re-offer.
    const dirOfServer = server.dir;
    server.child.kill("SIGKILL");
    await sleep(200);
    const again = await startRedis({ dir: dirOfServer });
    servers.push(again);
    expect(await a.done, a.out()).toBe(0);
    // The loop never waited on the stopped server: stats every 5 s, execs growing in each interval.
    const stats = JSON.parse(readFileSync(join(dir, "A", "stats.json"), "utf8")) as { execs: number; history: { t: number; execs: number }[] };
    // The server stayed stopped the whole 3 s (a timer may fire a millisecond early by Date.now()).
    expect(contAt - stoppedAt).toBeGreaterThanOrEqual(2_990);
    expect(stats.history.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < stats.history.length; i++) {
      expect(stats.history[i]!.t - stats.history[i - 1]!.t).toBeLessThan(7000);
      expect(stats.history[i]!.execs).toBeGreaterThan(stats.history[i - 1]!.execs);
    }
    // Nothing lost: every local finding and corpus entry is on the new server.
    const hub = hubOf(`${again.url}?db=3`);
    await hub.checkDatabase();
    const local = readdirSync(join(dir, "A", "crashes"));
    expect(local.length).toBeGreaterThan(0);
    expect((await hub.signatures()).size).toBe(local.length);
    const ownCorpus = readdirSync(join(dir, "A", "sync", "A", "corpus")).filter((f) => f.endsWith(".json"));
    expect(ownCorpus.length).toBeGreaterThan(0);
    const bits = ownCorpus.flatMap((f) => (JSON.parse(readFileSync(join(dir, "A", "sync", "A", "corpus", f), "utf8")) as { bits: number[] }).bits);
    const set = await Promise.all([...new Set(bits)].map((b) => hub.redis.getbit("xmcfuzz:coverage", b)));
    expect(set.every((v) => v === 1)).toBe(true);
  }, 60_000);

  it("a node whose hub stops answering still ends on time, its findings on disk", async () => {
    const server = await startRedis();
    servers.push(server);
    server.child.kill("SIGSTOP");
    const dir = fresh();
    const t0 = Date.now();
    const a = node(server.url, "A", dir, ["-s", "direct_write", "--duration", "3s", "--no-minimize"]);
    expect(await a.done, a.out()).toBe(0);
    expect(Date.now() - t0).toBeLessThan(25_000);
    expect(readdirSync(join(dir, "A", "crashes")).length).toBeGreaterThan(0);
  }, 40_000);

  it("a hub that refuses the node (a wrong password; a user without the scripts the hub runs, or without INFO) stops it: exit 2, promptly", async () => {
    const server = await startRedis({ password: "right" });
    servers.push(server);
    const dir = fresh();
    const t0 = Date.now();
    const wrong = node(`${server.url}?password=wrong`, "A", dir, ["-s", "direct_write", "--duration", "20s", "--no-minimize"]);
    expect(await wrong.done, wrong.out()).toBe(2);
    expect(wrong.out()).toMatch(/^xmcfuzz: hub unix:\/\/.*password=\*\*\*: WRONGPASS .*; the campaign stopped$/m);
    // It exited (BullMQ's socket once kept a refused node alive for ever), well before its 20 s.
    expect(Date.now() - t0).toBeLessThan(15_000);
    const admin = hubOf(`${server.url}?password=right`);
    await admin.redis.call("ACL", "SETUSER", "default", "-@scripting");
    const noScripts = node(`${server.url}?password=right`, "B", dir, ["-s", "direct_write", "--duration", "20s", "--no-minimize"]);
    expect(await noScripts.done, noScripts.out()).toBe(2);
    expect(noScripts.out()).toMatch(/NOPERM/);
    const log = readFileSync(join(dir, "B", "fuzz.log"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { msg: string });
    const failed = log.filter((l) => l.msg === "hub operation failed");
    expect(failed.length).toBeLessThan(5);
    // A user refused even INFO (BullMQ's version check): its shard worker once retried without a
    // round trip, starving every timer, and the node neither stopped nor answered SIGTERM.
    await admin.redis.call("ACL", "SETUSER", "default", "-@all", "+@read");
    const t1 = Date.now();
    const readOnly = node(`${server.url}?password=right`, "C", dir, ["-s", "direct_write", "--duration", "20s", "--workers", "1", "--no-minimize"]);
    expect(await readOnly.done, readOnly.out()).toBe(2);
    expect(readOnly.out()).toMatch(/^xmcfuzz: hub .*: NOPERM .*; the campaign stopped$/m);
    expect(Date.now() - t1).toBeLessThan(15_000);
    const status = spawn(process.execPath, [cli, "hub", "status", `${server.url}?password=right`], { stdio: ["ignore", "ignore", "pipe"] });
    let statusErr = "";
    status.stderr!.on("data", (d) => (statusErr += d));
    expect(await new Promise((r) => status.once("exit", r)), statusErr).toBe(2);
    expect(statusErr).toMatch(/^xmcfuzz: hub refused: NOPERM/m);
  }, 60_000);

  it("restart with append-only persistence: queue, results, cursors and registry survive", async () => {
    const dir = fresh();
    const first = await startRedis({ appendonly: true, dir });
    servers.push(first);
    const hub = new RedisHub(first.url);
    const fake = async (s: Shard): Promise<ShardResult> => ({ shard: s, execs: s.maxExecs, ms: 1, signatures: [], rules: [], harnessErrors: 0 });
    const shards = planShards({ strategies: ["direct_write"], models: ["sdm-strict"], seed: 0, shardsPerCell: 5, maxExecs: 50, maxMs: 5000 });
    await hub.enqueueShards(shards.slice(0, 3));
    const srv = hub.serveShards("n", fake, { concurrency: 1 });
    await until(async () => (await hub.results()).length === 3, 10_000, "3 results");
    await srv.close();
    await hub.enqueueShards(shards.slice(3));
    await hub.offerFinding({ signature: "p sig", kind: "divergence", json: "{}", size: 7, report: "r" });
    await hub.publishCorpus("n1", { json: JSON.stringify({ bits: [5, 6] }), bits: [5, 6] });
    expect(await hub.pullCorpus("n2")).toHaveLength(1);
    await hub.close();
    await first.stop();
    const second = await startRedis({ appendonly: true, dir });
    servers.push(second);
    const after = hubOf(second.url);
    expect((await after.status()).shards).toEqual({ pending: 2, running: 0, done: 3 });
    expect(await after.pullCorpus("n2")).toEqual([]);
    expect(await after.pullCorpus("n3")).toHaveLength(1);
    expect((await after.finding("p sig"))?.size).toBe(7);
    expect(await after.enqueueShards(shards)).toBe(0);
  }, 30_000);
});
