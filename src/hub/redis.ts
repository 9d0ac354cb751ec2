import { Redis, type RedisOptions } from "ioredis";
import { type Job, Queue, WaitingError, Worker } from "bullmq";
import type { FindingFile, Hub, HubCorpusEntry, HubNodeStats, HubOffer, HubServeOptions, HubShardServer, HubStatus, Shard, ShardResult } from "../types.js";
import { InputError } from "../errors.js";
import { shardKey } from "../matrix/fold.js";
import { isAlive, isHandBack, shardId } from "./common.js";
import { isCoverageBits } from "../fuzz/coverage.js";

// The hub on a Redis-protocol server (redis-server, Valkey) through ioredis, with BullMQ for the
// shard queue. Everything that must be atomic across nodes is one Lua script run by the server:
// the coverage bitmap test-and-set with the stream append, and the registry's keep-the-smallest.
// Leases, retries of shards whose node died and persistence come from BullMQ and Redis.

/** `redis://[user:password@]host:port[/db]`, `rediss://...` (TLS) or `unix:///path/to/socket[?password=...]`. */
export function redisOptions(url: string): RedisOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new InputError(`--hub: expected redis://host:port, rediss://host:port or unix:///path, got "${url}"`);
  }
  const auth = { username: decodeURIComponent(u.username) || undefined, password: decodeURIComponent(u.password) || u.searchParams.get("password") || undefined };
  // BullMQ needs commands to wait across reconnects instead of failing.
  const common: RedisOptions = { ...auth, maxRetriesPerRequest: null, retryStrategy: (n) => Math.min(100 * n, 2000) };
  // The database: redis://host:port/N, or ?db=N (the only way with a socket path).
  const dbText = u.searchParams.get("db") ?? (u.protocol !== "unix:" && u.pathname.length > 1 ? u.pathname.slice(1) : "0");
  const db = Number(dbText);
  if (!Number.isInteger(db) || db < 0) throw new InputError(`--hub: bad database number in "${shownUrl(url)}"`);
  if (u.protocol === "unix:") return { ...common, path: u.pathname, db };
  if (u.protocol !== "redis:" && u.protocol !== "rediss:") throw new InputError(`--hub: unknown scheme "${u.protocol}" (redis:, rediss: or unix:)`);
  return {
    ...common, host: u.hostname || "127.0.0.1", port: u.port ? Number(u.port) : 6379, db,
    ...(u.protocol === "rediss:" ? { tls: { servername: u.hostname } } : {}),
  };
}

/** The URL as messages show it: any password replaced (it may end up in logs and terminals). */
export function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    if (u.searchParams.has("password")) u.searchParams.set("password", "***");
    return u.toString();
  } catch {
    return url;
  }
}

/** How long a one-shot command (hub status, hub enqueue, matrix --hub) waits for the server. */
export const CONNECT_MS = 5_000;

/** Sets the entry's bits; appends it to the stream only if one of them was new. */
const PUBLISH = `
local fresh = false
for i = 3, #ARGV do
  if redis.call('SETBIT', KEYS[1], ARGV[i], 1) == 0 then fresh = true end
end
if not fresh then return false end
return redis.call('XADD', KEYS[2], '*', 'node', ARGV[1], 'json', ARGV[2])`;

/** Keeps the smallest reproducer per signature: new / smaller / known, decided by the server. */
const OFFER = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur and tonumber(cur) <= tonumber(ARGV[2]) then return 'known' end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], 'signature', ARGV[1], 'size', ARGV[2], 'kind', ARGV[3], 'json', ARGV[4], 'report', ARGV[5])
if cur then return 'smaller' end
return 'new'`;

export interface RedisHubOptions {
  /** Key prefix (several campaigns can share one server). */
  readonly prefix?: string;
  /** BullMQ lock of a running shard; a node silent this long loses its shard to another node. */
  readonly lockMs?: number;
  /** How often BullMQ looks for shards whose lock expired. */
  readonly stalledMs?: number;
}

type Scripted = Redis & {
  hubPublish(k1: string, k2: string, ...argv: (string | number)[]): Promise<string | null>;
  hubOffer(k1: string, k2: string, ...argv: (string | number)[]): Promise<HubOffer>;
};

const PULL_BATCH = 1000;

/**
 * Replies no retry can help: credentials refused, or a command this user may not run (ACLs). A
 * refused INFO is one only where it is needed: BullMQ reads the server's version with it, while
 * ioredis's ready check on the hub's own connections goes on without it.
 */
export function isRefusal(message: string, infoNeeded = false): boolean {
  return /^(ReplyError: )?(WRONGPASS|NOAUTH|NOPERM)\b/.test(message) && (infoNeeded || !/'info' command/.test(message));
}

export class RedisHub implements Hub {
  readonly redis: Scripted;
  /** BullMQ's queue, made at its first use, once the database is known good (see queue()). */
  private shardQueue: Queue | undefined;
  private readonly prefix: string;
  private readonly servers = new Set<HubShardServer>();
  private readonly connections: Redis[] = [];
  /** See database(). */
  private accepted: Promise<void> | undefined;
  /** Times the main connection became ready; listeners of reconnections (see onReconnect). */
  private readies = 0;
  private readonly reconnected: (() => void)[] = [];
  /** The server refused this node's credentials or a command: no retry can help (see database()). */
  private refused: InputError | undefined;
  private readonly refusalListeners: ((e: InputError) => void)[] = [];

  constructor(private readonly url: string, private readonly opts: RedisHubOptions = {}) {
    this.prefix = opts.prefix ?? "xmcfuzz";
    this.redis = this.connect() as Scripted;
    // Counted from the start: a node that registers later (after waiting for the database) must
    // still tell its first connection from a reconnection.
    this.redis.on("ready", () => {
      if (this.readies++ > 0) for (const f of this.reconnected) f();
    });
    this.redis.on("error", (e: Error) => this.refuseOn(e));
    this.redis.defineCommand("hubPublish", { numberOfKeys: 2, lua: PUBLISH });
    this.redis.defineCommand("hubOffer", { numberOfKeys: 2, lua: OFFER });
  }

  private connect(): Redis {
    const r = new Redis(redisOptions(this.url));
    r.on("error", () => undefined);
    this.connections.push(r);
    return r;
  }

  private key(name: string): string {
    return `${this.prefix}:${name}`;
  }

  /**
   * Whether `e` is the server refusing this node for good (a wrong password, a user without the
   * commands the hub needs): then every operation fails with that InputError from now on, and
   * the listeners are told once.
   */
  refuseOn(e: unknown, infoNeeded = false): boolean {
    const message = e instanceof Error ? e.message : String(e);
    if (!isRefusal(message, infoNeeded)) return false;
    if (this.refused) return true;
    this.refused = new InputError(`hub ${shownUrl(this.url)}: ${message.split("\n")[0]!.replace(/\.$/, "")}`);
    for (const f of this.refusalListeners) f(this.refused);
    return true;
  }

  /** The hub as logs show it: its URL, any password masked. */
  toString(): string {
    return shownUrl(this.url);
  }

  /** Calls f once when the server refuses this node for good (see refuseOn). */
  onRefusal(f: (e: InputError) => void): void {
    this.refusalListeners.push(f);
    if (this.refused) f(this.refused);
  }

  /** Calls f each time the main connection is ready again after its first connection. */
  onReconnect(f: () => void): void {
    this.reconnected.push(f);
  }

  /**
   * Resolves once the server answers; after `ms` without an answer, an InputError naming the last
   * connection error. Commands run once call it first: ioredis retries forever, as nodes need.
   */
  async reachable(ms = CONNECT_MS): Promise<void> {
    if (this.redis.status === "ready") return;
    if (this.refused) throw this.refused;
    let last = "";
    let noted!: (e: Error) => void;
    let ready!: () => void;
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new InputError(`hub ${shownUrl(this.url)}: no answer within ${ms / 1000} s${last ? ` (${last})` : ""}`)), ms);
        ready = () => {
          clearTimeout(timer);
          resolve();
        };
        // A refusal is an answer: said at once, not as silence after the wait.
        noted = (e: Error) => {
          last = e.message;
          if (!this.refuseOn(e)) return;
          clearTimeout(timer);
          reject(this.refused);
        };
        this.redis.on("error", noted);
        this.redis.once("ready", ready);
      });
    } finally {
      this.redis.off("error", noted);
      this.redis.off("ready", ready);
    }
    await this.checkDatabase(ms);
  }

  /**
   * Resolves once the server has accepted the database number; rejects for good if it refuses it
   * (`/99` on a server with 16: ioredis would go on in database 0, mixing this campaign into
   * another's). Every operation waits for it first, so nothing is ever written elsewhere, even by
   * a node started before its server.
   */
  private database(): Promise<void> {
    // Refused credentials are bad input, like a refused database, not an outage to retry for ever.
    if (this.refused) return Promise.reject(this.refused);
    if (!this.accepted) {
      const db = redisOptions(this.url).db ?? 0;
      this.accepted = db === 0 ? Promise.resolve() : this.redis.select(db).then(() => undefined, (e: unknown) => {
        throw new InputError(`hub ${shownUrl(this.url)}: database ${db} refused (${(e as Error).message})`);
      });
      this.accepted.catch(() => undefined); // Its callers see the refusal; it is no unhandled rejection.
    }
    return this.accepted;
  }

  /** The shard queue (BullMQ writes its meta key as it starts: not before the database is known good). */
  private async queue(): Promise<Queue> {
    await this.database();
    if (!this.shardQueue) {
      this.shardQueue = new Queue("shards", { connection: this.connect(), prefix: `${this.prefix}:bull` });
      // Reconnects are ioredis's job; errors here are transient, but for a refusal.
      this.shardQueue.on("error", (e) => this.refuseOn(e, true));
    }
    return this.shardQueue;
  }

  /** database(), waited for at most `ms`: a refusal is bad input; a server that does not answer says nothing yet. */
  async checkDatabase(ms = CONNECT_MS): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
    try {
      await Promise.race([this.database(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Tells `down` once when the server cannot be reached (at start or later), `up` once it answers again. */
  onOutage(down: (error: string) => void, up: () => void): void {
    let out = false;
    this.redis.on("error", (e: Error) => {
      if (out || isRefusal(e.message)) return; // a refusal is no outage: see onRefusal
      out = true;
      down(e.message);
    });
    this.redis.on("ready", () => {
      if (!out) return;
      out = false;
      up();
    });
  }

  async publishCorpus(node: string, entry: HubCorpusEntry): Promise<boolean> {
    await this.database();
    return (await this.redis.hubPublish(this.key("coverage"), this.key("corpus"), node, entry.json, ...entry.bits)) !== null;
  }

  async pullCorpus(node: string, fromStart = false): Promise<HubCorpusEntry[]> {
    await this.database();
    const out: HubCorpusEntry[] = [];
    let cursor = fromStart ? "0-0" : (await this.redis.hget(this.key("cursors"), node)) ?? "0-0";
    for (;;) {
      const batch = await this.redis.xrange(this.key("corpus"), `(${cursor}`, "+", "COUNT", PULL_BATCH);
      for (const [id, fields] of batch) {
        cursor = id;
        const f = fieldsOf(fields);
        if (f["node"] === node || !f["json"]) continue;
        try {
          const bits = (JSON.parse(f["json"]) as { bits?: unknown }).bits;
          if (isCoverageBits(bits)) out.push({ json: f["json"], bits });
        } catch {
          // A foreign entry that does not parse is skipped, never fatal.
        }
      }
      if (batch.length < PULL_BATCH) break;
    }
    await this.redis.hset(this.key("cursors"), node, cursor);
    return out;
  }

  async offerFinding(f: FindingFile): Promise<HubOffer> {
    await this.database();
    return this.redis.hubOffer(this.key("registry"), this.key(`finding:${f.signature}`), f.signature, f.size, f.kind, f.json, f.report);
  }

  async finding(signature: string): Promise<FindingFile | undefined> {
    await this.database();
    const h = await this.redis.hgetall(this.key(`finding:${signature}`));
    if (!h["json"]) return undefined;
    return { signature, kind: h["kind"] as FindingFile["kind"], json: h["json"], report: h["report"] ?? "", size: Number(h["size"]) };
  }

  async signatures(): Promise<Set<string>> {
    await this.database();
    return new Set(await this.redis.hkeys(this.key("registry")));
  }

  async enqueueShards(shards: readonly Shard[]): Promise<number> {
    if (shards.length === 0) return 0;
    // BullMQ ignores a job id it already holds; the set says which shards are new to the hub.
    await (await this.queue()).addBulk(shards.map((s) => ({
      name: "shard", data: s,
      opts: { jobId: shardId(s), attempts: 5, backoff: { type: "fixed", delay: 1000 }, removeOnComplete: false, removeOnFail: false },
    })));
    const added = await Promise.all(shards.map((s) => this.redis.sadd(this.key("shards"), shardId(s))));
    return added.reduce((n, a) => n + a, 0);
  }

  serveShards(node: string, run: (shard: Shard) => Promise<ShardResult>, opts: HubServeOptions): HubShardServer {
    const results = this.key("results");
    // The worker starts once the database is known good (its connection selects the same one).
    let worker: Worker<Shard, ShardResult> | undefined, closed = false;
    const started = this.database().then(() => {
      if (!closed) worker = this.shardWorker(node, run, opts, results);
    }, () => undefined);
    const server: HubShardServer = {
      close: async () => {
        closed = true;
        this.servers.delete(server);
        await started;
        await worker?.close();
      },
    };
    this.servers.add(server);
    return server;
  }

  private shardWorker(node: string, run: (shard: Shard) => Promise<ShardResult>, opts: HubServeOptions, results: string): Worker<Shard, ShardResult> {
    const worker = new Worker<Shard, ShardResult>("shards", async (job, token) => {
      const result = await run(job.data).catch((e: unknown) => isHandBack(e) ? handBack(job, token) : Promise.reject(e));
      if (shardKey(result.shard) !== shardKey(job.data)) throw new Error("shard result for another shard");
      // The first result of a shard counts; a retry after a lost lock writes nothing.
      await this.redis.hsetnx(results, shardId(job.data), JSON.stringify(result));
      return result;
    }, {
      connection: this.connect(), prefix: `${this.prefix}:bull`, concurrency: opts.concurrency, name: node,
      lockDuration: this.opts.lockMs ?? 30_000, stalledInterval: this.opts.stalledMs ?? 15_000, maxStalledCount: 10,
    });
    // A refused worker must be closed at once: its fetch loop retries a refusal without pause,
    // and one whose connection was refused INFO retries without even a round trip, starving
    // every timer of the process (the campaign's own loop could never stop it).
    worker.on("error", (e) => {
      if (this.refuseOn(e, true)) void worker.close().catch(() => undefined);
    });
    return worker;
  }

  async postNodeStats(stats: HubNodeStats): Promise<void> {
    await this.database();
    await this.redis.hset(this.key("nodes"), stats.node, JSON.stringify(stats));
  }

  async results(): Promise<ShardResult[]> {
    await this.database();
    return Object.values(await this.redis.hgetall(this.key("results"))).map((j) => JSON.parse(j) as ShardResult);
  }

  async status(now = Date.now()): Promise<HubStatus> {
    const queue = await this.queue(); // After the database check, as every operation.
    const [nodesRaw, corpus, signatures, done, counts] = await Promise.all([
      this.redis.hgetall(this.key("nodes")), this.redis.xlen(this.key("corpus")), this.redis.hlen(this.key("registry")),
      this.redis.hlen(this.key("results")), queue.getJobCounts("waiting", "delayed", "prioritized", "active"),
    ]);
    const nodes = Object.values(nodesRaw).map((j) => JSON.parse(j) as HubNodeStats).map((s) => ({ ...s, alive: isAlive(s, now) }))
      .sort((a, b) => a.node.localeCompare(b.node));
    return {
      nodes, execsPerSec: nodes.filter((n) => n.alive).reduce((t, n) => t + n.execsPerSec, 0), corpus, signatures,
      shards: { pending: (counts["waiting"] ?? 0) + (counts["delayed"] ?? 0) + (counts["prioritized"] ?? 0), running: counts["active"] ?? 0, done },
    };
  }

  /** Closes; a server that does not answer within `ms` is not waited for (nothing local depends on it). */
  async close(ms = 5_000): Promise<void> {
    const graceful = (async () => {
      await Promise.all([...this.servers].map((s) => s.close()));
      await this.shardQueue?.close();
    })().catch(() => undefined);
    await Promise.race([graceful, new Promise<void>((r) => void setTimeout(r, ms).unref())]);
    for (const c of this.connections) c.disconnect();
  }
}

/**
 * A shard its stopping node gave up: back to the head of the waiting list, its attempts untouched
 * (thrown as a failure, 5 hand-backs by nodes that stop would fail the shard for good). WaitingError
 * tells BullMQ the job has been moved already. If the move fails (the lock expired meanwhile), the
 * stalled-job check hands the shard on as it would a dead node's.
 */
async function handBack(job: Job<Shard, ShardResult>, token: string | undefined): Promise<never> {
  await job.moveToWait(token).catch(() => undefined);
  throw new WaitingError();
}

function fieldsOf(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}
