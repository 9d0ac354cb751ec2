import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Shard, ShardResult } from "../types.js";
import { redisServerAvailable, startRedis, type RedisProcess } from "../testing/redis.js";
import { ShardHandedBack, shardId } from "./common.js";
import { InputError } from "../errors.js";
import { RedisHub } from "./redis.js";

// The Redis hub's shard queue as nodes use it: nodes that stop hand their shard back, which is
// no failure; a run that throws is one, and uses up one of the shard's attempts.

const haveRedis = redisServerAvailable();
if (!haveRedis && process.env["CI"]) throw new Error("redis-server is missing on CI: the hub tests cannot be skipped there");

const shard = (seed: number): Shard => ({ strategy: "direct_write", model: "sdm-strict", seed, maxExecs: 10, maxMs: 60_000 });
const result = (s: Shard): ShardResult => ({ shard: s, execs: s.maxExecs, ms: 1, signatures: [], rules: [], harnessErrors: 0 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const until = async (cond: () => Promise<boolean>, ms = 10_000) => {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) if (await cond()) return;
  throw new Error("condition not met in time");
};

describe.skipIf(!haveRedis)("redis hub: handing shards back", () => {
  let server: RedisProcess;
  const hubs: RedisHub[] = [];
  let prefixes = 0;
  const fresh = () => {
    const prefix = `hb${prefixes++}`;
    const h = new RedisHub(server.url, { prefix });
    hubs.push(h);
    /** BullMQ's count of the shard's attempts (a completed one included). */
    const attempts = async (s: Shard) => Number(await h.redis.hget(`${prefix}:bull:shards:${shardId(s)}`, "atm"));
    return Object.assign(h, { attempts });
  };
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await Promise.all(hubs.map((h) => h.close()));
    await server.stop();
  });

  it("a shard handed back by 7 stopping nodes stays pending, and the next node runs it", async () => {
    const hub = fresh();
    await hub.enqueueShards([shard(1)]);
    for (let i = 0; i < 7; i++) {
      // A node takes the shard, then stops mid-run: its run throws as ShardPool's does.
      let started!: () => void, stop!: () => void;
      const running = new Promise<void>((r) => (started = r));
      const stopping = new Promise<void>((r) => (stop = r));
      const srv = hub.serveShards(`n${i}`, async () => {
        started();
        await stopping;
        throw new ShardHandedBack();
      }, { concurrency: 1 });
      await running;
      const closed = srv.close();
      stop();
      await closed;
      expect((await hub.status()).shards, `after hand-back ${i + 1}`).toEqual({ pending: 1, running: 0, done: 0 });
    }
    const srv = hub.serveShards("last", async (s) => result(s), { concurrency: 1 });
    await until(async () => (await hub.results()).length === 1);
    await srv.close();
    expect((await hub.results())[0]!.shard).toEqual(shard(1));
    expect(await hub.attempts(shard(1))).toBe(1);
  }, 30_000);

  it("a database the server refuses is bad input, never database 0", async () => {
    const h = new RedisHub(`${server.url}?db=99`);
    hubs.push(h);
    await expect(h.reachable()).rejects.toThrow(/database 99 refused/);
    const ok = new RedisHub(`${server.url}?db=3`);
    hubs.push(ok);
    await ok.reachable();
  });

  it("a node started before its server writes nothing until the server accepts its database, and nothing at all if it refuses it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "xmcfuzz-redis-late-"));
    const late = new RedisHub(`unix://${join(dir, "redis.sock")}?db=9`);
    hubs.push(late);
    const published = late.publishCorpus("n1", { json: JSON.stringify({ case: {}, bits: [1] }), bits: [1] });
    const offered = late.offerFinding({ signature: "s", kind: "divergence", json: "{}", report: "", size: 1 });
    await sleep(300);
    const four = await startRedis({ dir, databases: 4 });
    try {
      await expect(published).rejects.toThrow(/database 9 refused/);
      await expect(offered).rejects.toThrow(/database 9 refused/);
      const db0 = new RedisHub(four.url);
      hubs.push(db0);
      expect(await db0.redis.keys("*")).toEqual([]);
    } finally {
      await late.close(500);
      await four.stop();
    }
  });

  it("refused credentials are bad input for every operation, not an outage retried for ever", async () => {
    const locked = await startRedis({ password: "right" });
    try {
      for (const url of [`${locked.url}?password=wrong`, locked.url]) {
        const hub = new RedisHub(url);
        hubs.push(hub);
        await until(async () => {
          const r = await hub.publishCorpus("n1", { json: JSON.stringify({ case: {}, bits: [1] }), bits: [1] }).then(() => "", (e: Error) => e.message);
          return /WRONGPASS|NOAUTH/.test(r);
        });
        await expect(hub.offerFinding({ signature: "s", kind: "divergence", json: "{}", report: "", size: 1 })).rejects.toThrow(InputError);
        await hub.close(500);
      }
      const ok = new RedisHub(`${locked.url}?password=right`);
      hubs.push(ok);
      expect(await ok.publishCorpus("n1", { json: JSON.stringify({ case: {}, bits: [1] }), bits: [1] })).toBe(true);
    } finally {
      await locked.stop();
    }
  });

  it("a run that fails uses up an attempt (and is retried)", async () => {
    const hub = fresh();
    await hub.enqueueShards([shard(2)]);
    let calls = 0;
    const srv = hub.serveShards("n", async (s) => {
      if (++calls === 1) throw new Error("boom");
      return result(s);
    }, { concurrency: 1 });
    await until(async () => (await hub.results()).length === 1);
    await srv.close();
    expect(calls).toBe(2);
    expect(await hub.attempts(shard(2))).toBe(2);
  }, 30_000);
});
