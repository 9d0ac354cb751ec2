import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Shard, ShardResult } from "../types.js";
import { COVERAGE_BITS } from "../fuzz/coverage.js";
import { InputError } from "../errors.js";
import { loadCaseFile } from "../case/load.js";
import { findingFile, offerFinding } from "../files/store.js";
import { CLAIM_LEASE_MS, DirHub } from "./dir.js";
import { shardId } from "./common.js";

// The directory hub's own files: the coverage bitmap as bytes, and the claims of dead processes.

const root = join(import.meta.dirname, "..", "..");
const built = join(root, "dist", "src", "hub", "dir.js");
const fresh = () => mkdtempSync(join(tmpdir(), "xmcfuzz-dirhub-"));
const entry = (bits: number[]) => ({ json: JSON.stringify({ case: {}, bits }), bits });
const shard = (seed: number): Shard => ({ strategy: "direct_write", model: "sdm-strict", seed, maxExecs: 10, maxMs: 60_000 });
const fakeRun = async (s: Shard): Promise<ShardResult> => ({ shard: s, execs: s.maxExecs, ms: 1, signatures: [], rules: [], harnessErrors: 0 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const until = async (cond: () => boolean | Promise<boolean>, ms = 10_000) => {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) if (await cond()) return;
  throw new Error("condition not met in time");
};

/**
 * A node serving `node` that has claimed `held` and keeps it running until `release()` (any other
 * shard it runs at once); `lease()` reads its owner file's time.
 */
async function holding(hub: DirHub, dir: string, node: string, held: Shard) {
  let release!: () => void;
  const busy = new Promise<void>((r) => (release = r));
  const server = hub.serveShards(node, async (s) => {
    if (s.seed === held.seed) await busy;
    return fakeRun(s);
  }, { concurrency: 1 });
  await hub.enqueueShards([held]);
  await until(async () => (await hub.status()).shards.running === 1);
  const lease = () => statSync(join(dir, "shards/claimed", node, ".owner")).mtimeMs;
  return { server, release, lease };
}

const hubs: DirHub[] = [];
const open = (dir: string) => {
  const h = new DirHub(dir);
  hubs.push(h);
  return h;
};
afterEach(async () => {
  await Promise.all(hubs.splice(0).map((h) => h.close()));
});

describe("directory hub: the coverage bitmap", () => {
  const bitmapOf = (dir: string) => readFileSync(join(dir, "coverage.bin"));

  it("stays exactly its size with bytes >= 0x80, and tells new bits from known ones", async () => {
    const dir = fresh();
    const hub = open(dir);
    expect(await hub.publishCorpus("n1", entry([7, 15, 8, COVERAGE_BITS - 1]))).toBe(true);
    expect(statSync(join(dir, "coverage.bin")).size).toBe(COVERAGE_BITS / 8);
    expect([...bitmapOf(dir).subarray(0, 2)]).toEqual([0x80, 0x81]);
    expect(bitmapOf(dir).at(-1)).toBe(0x80);
    for (let i = 0; i < 50; i++) expect(await hub.publishCorpus("n2", entry([7, 15, 8 + (i % 2) * 7]))).toBe(false);
    expect(await hub.publishCorpus("n2", entry([7, 6]))).toBe(true);
    expect(statSync(join(dir, "coverage.bin")).size).toBe(COVERAGE_BITS / 8);
    expect(bitmapOf(dir)[0]).toBe(0xc0);
  });

  it("a bitmap of another size (an older xmcfuzz wrote it as UTF-8) starts over; bits outside it are no coverage", async () => {
    const dir = fresh();
    const hub = open(dir);
    writeFileSync(join(dir, "coverage.bin"), Buffer.alloc(COVERAGE_BITS / 4, 0xff));
    expect(await hub.publishCorpus("n1", entry([3]))).toBe(true);
    expect(statSync(join(dir, "coverage.bin")).size).toBe(COVERAGE_BITS / 8);
    expect(await hub.publishCorpus("n1", entry([COVERAGE_BITS, -1, 1.5]))).toBe(false);
  });

  it("a node name that is not one safe path segment is bad input, and nothing is written", async () => {
    const dir = fresh();
    const hub = open(join(dir, "hub"));
    for (const bad of ["..", ".", "a/b", "", ".hidden", "-x", "x\ny", "board", "crashes", "shards", "coverage.bin"]) await expect(hub.publishCorpus(bad, entry([1]))).rejects.toThrow(InputError);
    expect(readdirSync(dir)).toEqual(["hub"]);
  });
});

/** A node process on this host serving the hub under `node` with a shard that never ends; says when it holds one. */
function stuckNode(dir: string, node: string) {
  const script = `
    import { DirHub } from ${JSON.stringify(built)};
    new DirHub(process.argv[1]).serveShards(process.argv[2].replace("PID", process.pid), () => { console.log("claimed"); return new Promise(() => {}); }, { concurrency: 1 });`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script, dir, node], { stdio: ["ignore", "pipe", "inherit"] });
  const claimed = new Promise<void>((r) => child.stdout.on("data", () => r()));
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  return { child, claimed, exited };
}

describe("directory hub: a sync directory's findings", () => {
  it("counts and serves the findings a --sync-dir campaign stored there (no name line: the reproducer's description names it)", async () => {
    const dir = fresh();
    const kase = loadCaseFile(join(root, "corpus", "static-call.json")).kase;
    const sig = "direct_write x86-realistic torn-fetch wild-jump call->call write/0";
    offerFinding(join(dir, "crashes"), findingFile(sig, "divergence", kase, "report"));
    const hub = open(dir);
    expect(await hub.signatures()).toEqual(new Set([sig]));
    expect((await hub.status()).signatures).toBe(1);
    expect((await hub.finding(sig))?.report).toBe("report");
    // A directory a writer is still building (a killed one's, left behind) is no finding.
    mkdirSync(join(dir, "crashes", ".tmp-99999-abc"));
    writeFileSync(join(dir, "crashes", ".tmp-99999-abc", "s1-0000000000000000.json"), findingFile("other sig", "divergence", kase, "").json);
    expect((await hub.status()).signatures).toBe(1);
  });

  it("a reproducer cut off on disk does not make a new find 'known': the find replaces it", async () => {
    const dir = fresh(), hub = open(dir);
    const kase = loadCaseFile(join(root, "corpus", "static-call.json")).kase;
    const f = findingFile("direct_write x86-realistic torn-fetch wild-jump call->call write/0", "divergence", kase, "report");
    expect(await hub.offerFinding(f)).toBe("new");
    const sigDir = join(dir, "crashes", readdirSync(join(dir, "crashes"))[0]!);
    const file = readdirSync(sigDir).find((n) => n.endsWith(".json"))!;
    writeFileSync(join(sigDir, file), f.json.slice(0, 40));
    expect(await hub.offerFinding(f)).toBe("new");
    expect(readFileSync(join(sigDir, file), "utf8")).toBe(f.json);
    expect(await hub.offerFinding(f)).toBe("known");
  });
});

describe("directory hub: shard files", () => {
  it("a queued file that holds no shard (empty, torn, hand-edited) is set aside; the node serves on", async () => {
    const dir = fresh();
    const hub = open(dir);
    writeFileSync(join(dir, "shards/queue/shard-0000000000000000.json"), "");
    writeFileSync(join(dir, "shards/queue/shard-0000000000000001.json"), "{\"strategy\": \"direct_w");
    writeFileSync(join(dir, "shards/queue/shard-0000000000000002.json"), JSON.stringify({ strategy: "direct_write", model: "sdm-strict" }));
    expect(await hub.enqueueShards([shard(8)])).toBe(1);
    const server = hub.serveShards("n1", fakeRun, { concurrency: 1 });
    await until(async () => (await hub.results()).length === 1 && readdirSync(join(dir, "shards/unreadable")).length === 3);
    await server.close();
    expect((await hub.status()).shards).toEqual({ pending: 0, running: 0, done: 1 });
    // Enqueueing leaves no temporary file behind, and a shard already queued is not added twice.
    expect(await hub.enqueueShards([shard(8), shard(9)])).toBe(1);
    expect(readdirSync(join(dir, "shards/queue"))).toEqual([`${shardId(shard(9))}.json`]);
  });
});

describe("directory hub: claims of dead processes", () => {
  beforeAll(() => {
    if (!existsSync(built)) throw new Error("dist/ is missing: run `npm run build` before the tests");
  });

  it("a node on this host killed mid-shard (named after its pid, as matrix --hub's): another node runs its shard", async () => {
    const dir = fresh();
    await open(dir).enqueueShards([shard(1)]);
    const node = stuckNode(dir, "matrix-PID");
    await node.claimed;
    node.child.kill("SIGKILL");
    await node.exited;
    const hub = open(dir);
    expect((await hub.status()).shards).toMatchObject({ pending: 0, running: 1 });
    const server = hub.serveShards(`matrix-${process.pid}`, fakeRun, { concurrency: 1 });
    await until(async () => (await hub.results()).length === 1);
    await server.close();
    expect((await hub.status()).shards).toEqual({ pending: 0, running: 0, done: 1 });
    // The node that stopped cleanly leaves no directory (the dead one's stays, emptied).
    expect(readdirSync(join(dir, "shards/claimed"))).toEqual([`matrix-${node.child.pid}`]);
  }, 20_000);

  it("a node already serving takes them back within seconds, and renews its own lease", async () => {
    const dir = fresh();
    const hub = open(dir);
    // The serving node is busy with shard 2 while another node claims shard 3 and is killed.
    const { server, release, lease } = await holding(hub, dir, "steady", shard(2));
    const leased = lease();
    const node = stuckNode(dir, "node-PID");
    await hub.enqueueShards([shard(3)]);
    await node.claimed;
    node.child.kill("SIGKILL");
    await node.exited;
    release();
    await until(async () => (await hub.results()).length === 2, 12_000);
    expect(lease()).toBeGreaterThan(leased);
    await server.close();
    expect((await hub.status()).shards).toEqual({ pending: 0, running: 0, done: 2 });
  }, 20_000);

  it("a node that stops keeps renewing its lease while its running shards drain", async () => {
    const dir = fresh();
    const hub = open(dir);
    const { server, release, lease } = await holding(hub, dir, "draining", shard(10));
    const closed = server.close();
    const leased = lease();
    await until(() => lease() > leased, 12_000);
    release();
    await closed;
    expect((await hub.status()).shards).toEqual({ pending: 0, running: 0, done: 1 });
  }, 20_000);

  it("enqueueing puts back the claims of a dead process and of a lapsed lease; those of live nodes stay", async () => {
    const dir = fresh();
    const hub = open(dir);
    const claims = (node: string, owner: string, s: Shard) => {
      mkdirSync(join(dir, "shards/claimed", node), { recursive: true });
      writeFileSync(join(dir, "shards/claimed", node, ".owner"), owner);
      writeFileSync(join(dir, "shards/claimed", node, `${shardId(s)}.json`), JSON.stringify(s));
    };
    const gone = spawn(process.execPath, ["-e", ""]);
    await new Promise((r) => gone.once("exit", r));
    claims("gone", `${hostname()} ${gone.pid}`, shard(4));
    claims("far", "another-host 1", shard(5));
    claims("alive", `${hostname()} ${process.ppid}`, shard(6));
    // Another machine's node that stopped renewing its owner file a lease and a minute ago.
    claims("lapsed", "another-host 2", shard(7));
    const then = (Date.now() - CLAIM_LEASE_MS - 60_000) / 1000;
    utimesSync(join(dir, "shards/claimed/lapsed/.owner"), then, then);
    expect(await hub.enqueueShards([shard(4), shard(5), shard(6), shard(7)])).toBe(0);
    expect((await hub.status()).shards).toEqual({ pending: 2, running: 2, done: 0 });
    expect(readdirSync(join(dir, "shards/queue")).sort()).toEqual([shardId(shard(4)), shardId(shard(7))].map((id) => `${id}.json`).sort());
    // --shard-lease: each node is judged by the lease it declared, never by the checker's. Owner
    // files 5 s old: a node that declared 2 s is gone, one that declared nothing (60 s) is not,
    // even to a checker that runs with a 2 s lease itself.
    claims("paused", "another-host 3", shard(11));
    writeFileSync(join(dir, "shards/claimed/paused/.lease"), "2000");
    claims("slow", "another-host 4", shard(12));
    const fiveAgo = (Date.now() - 5_000) / 1000;
    for (const n of ["paused", "slow"]) utimesSync(join(dir, `shards/claimed/${n}/.owner`), fiveAgo, fiveAgo);
    await new DirHub(dir, { leaseMs: 2_000 }).enqueueShards([]);
    expect(readdirSync(join(dir, "shards/queue"))).toContain(`${shardId(shard(11))}.json`);
    expect(readdirSync(join(dir, "shards/queue"))).not.toContain(`${shardId(shard(12))}.json`);
  });
});
