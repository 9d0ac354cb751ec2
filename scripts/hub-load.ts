// What the hub costs: 1..200 simulated light nodes (no emulator) against a real redis-server.
//   1. corpus exchange and offers: each node publishes corpus entries and offers findings at a
//      fixed rate and pulls every 500 ms; server CPU (INFO used_cpu_*), delivery latency p50/p99
//      (publish to receipt by another node), and whether every entry reached every other node;
//   2. shard throughput: N BullMQ workers serving shards of 20 ms simulated work; the Universal
//      Scalability Law X(N) = l*N / (1 + s*(N-1) + k*N*(N-1)) fitted by least squares, and its peak.
// Usage: node dist/scripts/hub-load.js [--nodes 1,10,50,100,200] [--seconds 5] [--shards 400]
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { RedisHub, redisOptions } from "../src/hub/redis.js";
import { startRedis } from "../src/testing/redis.js";

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : dflt;
};
const nodeCounts = arg("--nodes", "1,10,50,100,200").split(",").map(Number);
const seconds = Number(arg("--seconds", "5"));
const shardCount = Number(arg("--shards", "400"));
const shardCounts = arg("--shard-nodes", "1,2,4,8,16,32,64,128,200").split(",").map(Number);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]! : NaN);

async function serverCpu(r: Redis): Promise<number> {
  const info = await r.info("cpu");
  const get = (k: string) => Number(new RegExp(`${k}:([0-9.]+)`).exec(info)![1]);
  return get("used_cpu_user") + get("used_cpu_sys");
}

/** Part 1: N nodes publishing and pulling for `seconds`. */
async function exchange(url: string, n: number, prefix: string) {
  const hubs = Array.from({ length: n }, () => new RedisHub(url, { prefix }));
  const admin = new Redis(redisOptions(url));
  const padding = "x".repeat(900); // A corpus entry is about 1 KB of JSON.
  const published = new Map<string, { at: number; from: number }>();
  const received = new Map<string, number>();
  const latencies: number[] = [];
  const cpu0 = await serverCpu(admin), t0 = Date.now(), client0 = process.cpuUsage();
  let stop = false, seq = 0, offers = 0;
  const loops = hubs.map(async (h, i) => {
    let nextPublish = Date.now() + Math.random() * 1000, nextPull = Date.now() + Math.random() * 500;
    while (!stop) {
      const now = Date.now();
      if (now >= nextPublish) {
        // Fresh bits (a new entry), 0.5 entries/s and 0.5 offers/s per node.
        const id = `${i}-${seq++}`;
        const bits = [(seq * 7919 + i) % 65536, (seq * 104729 + i * 31) % 65536];
        const json = JSON.stringify({ id, at: now, bits, padding });
        if (await h.publishCorpus(`n${i}`, { json, bits })) published.set(id, { at: now, from: i });
        await h.offerFinding({ signature: `sig ${(seq * 13) % 300}`, kind: "divergence", json, size: 1000 - (seq % 500), report: "r" });
        offers++;
        nextPublish = now + 2000;
      }
      if (now >= nextPull) {
        for (const e of await h.pullCorpus(`n${i}`)) {
          const { id, at } = JSON.parse(e.json) as { id: string; at: number };
          latencies.push(Date.now() - at);
          received.set(id, (received.get(id) ?? 0) + 1);
        }
        nextPull = now + 500;
      }
      await sleep(20);
    }
  });
  await sleep(seconds * 1000);
  stop = true;
  await Promise.all(loops);
  // Drain: one last pull each, so nothing still in flight counts as lost.
  await Promise.all(hubs.map(async (h, i) => {
    for (const e of await h.pullCorpus(`n${i}`)) {
      const { id } = JSON.parse(e.json) as { id: string };
      received.set(id, (received.get(id) ?? 0) + 1);
    }
  }));
  const cpu = (await serverCpu(admin)) - cpu0, wall = (Date.now() - t0) / 1000, client = process.cpuUsage(client0);
  const lost = [...published.keys()].reduce((l, id) => l + (n - 1 - (received.get(id) ?? 0)), 0);
  await Promise.all(hubs.map((h) => h.close()));
  admin.disconnect();
  return { n, entries: published.size, offers, deliveries: latencies.length, p50: pct(latencies, 0.5), p99: pct(latencies, 0.99), serverCpu: cpu / wall, clientCpu: (client.user + client.system) / 1e6 / wall, lost };
}

/** Part 2: N workers (connected first), then max(shards, 10 N) shards of 20 ms simulated work; shards per second. */
async function shardThroughput(url: string, n: number, prefix: string): Promise<{ x: number; count: number; serverCpu: number; clientCpu: number }> {
  const conn = () => new Redis(redisOptions(url));
  const admin = conn();
  const queue = new Queue("shards", { connection: conn(), prefix });
  const count = Math.max(shardCount, 10 * n);
  let done = 0, resolveAll = () => undefined as void;
  const all = new Promise<void>((r) => (resolveAll = r));
  const workers = Array.from({ length: n }, () => new Worker("shards", async () => {
    await sleep(20);
    if (++done === count) resolveAll();
  }, { connection: conn(), prefix, concurrency: 1 }));
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  await sleep(500);
  const t0 = Date.now(), cpu0 = await serverCpu(admin), client0 = process.cpuUsage();
  await queue.addBulk(Array.from({ length: count }, (_, i) => ({ name: "s", data: { i }, opts: { jobId: `j${i}` } })));
  await all;
  const wall = (Date.now() - t0) / 1000;
  const cpu = (await serverCpu(admin)) - cpu0, client = process.cpuUsage(client0);
  await Promise.all(workers.map((w) => w.close()));
  admin.disconnect();
  await queue.close();
  return { x: count / wall, count, serverCpu: cpu / wall, clientCpu: (client.user + client.system) / 1e6 / wall };
}

/** Least squares over a grid of s in [0, 1] and k in {0} u [1e-8, 1e-1] (log); l from X(1). */
function fitUsl(points: { n: number; x: number }[]): { l: number; s: number; k: number; peak: number } {
  const l = points.find((p) => p.n === 1)?.x ?? points[0]!.x / points[0]!.n;
  const err = (s: number, k: number) => points.reduce((e, p) => e + (p.x - (l * p.n) / (1 + s * (p.n - 1) + k * p.n * (p.n - 1))) ** 2, 0);
  let best = { s: 0, k: 0, e: err(0, 0) };
  for (let i = 0; i <= 1000; i++) {
    for (let j = -1; j <= 350; j++) {
      const s = i / 1000, k = j < 0 ? 0 : 10 ** (-8 + j / 50);
      const e = err(s, k);
      if (e < best.e) best = { s, k, e };
    }
  }
  return { l, s: best.s, k: best.k, peak: best.k > 0 ? Math.sqrt((1 - best.s) / best.k) : Infinity };
}

const server = await startRedis();
try {
  console.log(`1. corpus exchange and offers, ${seconds} s per row (0.5 entries/s + 0.5 offers/s per node, pulls every 500 ms):`);
  console.log("   nodes  entries  offers  deliveries  latency p50/p99 ms  server CPU  client CPU  lost");
  for (const n of nodeCounts.filter((x) => x > 0)) {
    const r = await exchange(server.url, n, `load${n}`);
    console.log(`   ${String(n).padStart(5)}  ${String(r.entries).padStart(7)}  ${String(r.offers).padStart(6)}  ${String(r.deliveries).padStart(10)}  ${`${r.p50}/${r.p99}`.padStart(18)}  ${(r.serverCpu * 100).toFixed(1).padStart(9)}%  ${(r.clientCpu * 100).toFixed(0).padStart(9)}%  ${r.lost}`);
  }
  console.log(`2. shard throughput (max(${shardCount}, 10 N) shards of 20 ms simulated work, one BullMQ worker per node, all connected before the shards arrive; every node is in this one client process):`);
  const points: { n: number; x: number }[] = [];
  for (const n of shardCounts) {
    const { x, count, serverCpu: sc, clientCpu: cc } = await shardThroughput(server.url, n, `usl${n}`);
    points.push({ n, x });
    console.log(`   ${String(n).padStart(5)} nodes  ${String(count).padStart(5)} shards  ${x.toFixed(1).padStart(8)} shards/s  (ideal ${((n * 1000) / 20).toFixed(0)})  server CPU ${(sc * 100).toFixed(0)}%  client process CPU ${(cc * 100).toFixed(0)}%`);
  }
  const f = fitUsl(points);
  console.log(`   USL fit: lambda ${f.l.toFixed(1)} shards/s per node, sigma ${f.s.toExponential(2)}, kappa ${f.k.toExponential(2)}; ${Number.isFinite(f.peak) ? `peak at N* = ${f.peak.toFixed(0)} nodes` : `no peak (kappa = 0: no retrograde region measured); contention ceiling lambda/sigma = ${(f.l / Math.max(f.s, 1e-9)).toFixed(0)} shards/s`}`);
} finally {
  await server.stop();
}
process.exit(0);
