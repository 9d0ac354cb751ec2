import { existsSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { FindingFile, Hub, HubCorpusEntry, HubNodeStats, HubOffer, HubServeOptions, HubShardServer, HubStatus, Shard, ShardResult } from "../types.js";
import { ensureDir, writeFileAtomic, writeFileOnce } from "../files/atomic.js";
import { checkNodeName, findingName, hashText, ownerIsDead, ownerTag, parseFindingName, readCorpusFile, readReproducer, removeSuperseded, REPRODUCER_FILE, signatureDirs, smallestReadable, withLock } from "../files/store.js";
import { signatureSlug } from "../oracle/classify.js";
import { COVERAGE_BITS } from "../fuzz/coverage.js";
import { shardKey } from "../matrix/fold.js";
import { isAlive, shardId } from "./common.js";

// The hub as a directory on a shared filesystem (the embedded default: no server). The layout is
// the campaign's sync directory: each node writes only `<root>/<node>/corpus/`, findings live in
// `<root>/crashes/<slug>/s<size>-<hash>.json|.txt` swapped under a lock file. The coverage bitmap
// and the shard queue are files too; a claim is a rename, a result an exclusive create (once).

export class DirHub implements Hub {
  /** Per pulling node: the entry files already delivered (the directory's cursors). */
  private readonly seen = new Map<string, Set<string>>();
  private readonly servers = new Set<DirShardServer>();

  /** `leaseMs`: how old this node's owner file may get before others put its claims back (CLAIM_LEASE_MS). */
  constructor(private readonly root: string, private readonly opts: { readonly leaseMs?: number } = {}) {
    for (const d of ["crashes", "board", "shards/queue", "shards/claimed", "shards/results", UNREADABLE_DIR]) ensureDir(join(root, d));
  }

  /** The hub as logs show it: its directory. */
  toString(): string {
    return this.root;
  }

  private corpusDir(node: string): string {
    return join(this.root, node, "corpus");
  }

  async publishCorpus(node: string, entry: HubCorpusEntry): Promise<boolean> {
    checkNodeName(node); // Its directory is where it writes.
    const dir = this.corpusDir(node);
    ensureDir(dir);
    const bitmap = join(this.root, "coverage.bin");
    return withLock(join(this.root, ".coverage.lock"), () => {
      const bytes = readBitmap(bitmap);
      let fresh = false;
      for (const b of entry.bits) {
        if (!Number.isInteger(b) || b < 0 || b >= COVERAGE_BITS) continue; // Not a bit of this bitmap (a damaged entry).
        const mask = 1 << (b & 7);
        if ((bytes[b >> 3]! & mask) === 0) {
          bytes[b >> 3]! |= mask;
          fresh = true;
        }
      }
      if (!fresh) return false;
      // The entry before the bitmap: a crash in between re-publishes, never loses.
      const path = join(dir, `${hashText(entry.json)}.json`);
      writeFileAtomic(path, entry.json, false);
      writeFileAtomic(bitmap, bytes, false);
      return true;
    });
  }

  async pullCorpus(node: string, fromStart = false): Promise<HubCorpusEntry[]> {
    if (fromStart || !this.seen.has(node)) this.seen.set(node, new Set());
    const seen = this.seen.get(node)!;
    const out: HubCorpusEntry[] = [];
    for (const other of readdirSync(this.root)) {
      if (other === node) continue;
      const dir = this.corpusDir(other);
      if (!existsSync(dir)) continue;
      for (const f of readdirSync(dir)) {
        if (!f.endsWith(".json")) continue;
        const path = join(dir, f);
        if (seen.has(path)) continue;
        seen.add(path);
        const e = readCorpusFile(path);
        if (e) out.push(e);
      }
    }
    return out;
  }

  async offerFinding(f: FindingFile): Promise<HubOffer> {
    const dir = join(this.root, "crashes", signatureSlug(f.signature));
    ensureDir(dir);
    return withLock(join(dir, ".lock"), () => {
      const existing = readdirSync(dir).filter((n) => REPRODUCER_FILE.test(n));
      // The hub keeps findings' files as they came (its name line says whose): a cut-off one goes.
      const best = smallestReadable(dir, existing, (text) => (JSON.parse(text), true));
      if (f.size >= best) return "known";
      const base = `s${f.size}-${hashText(f.json)}`;
      // Report first, then the case: a case file that exists always has its report.
      writeFileAtomic(join(dir, `${base}.txt`), f.report);
      writeFileAtomic(join(dir, `${base}.json`), f.json);
      writeFileAtomic(join(dir, "signature"), `${findingName(f)}\n`);
      removeSuperseded(dir, existing, base);
      return best === Infinity ? "new" : "smaller";
    });
  }

  /**
   * Reads a signature directory: its one reproducer, and its name line, or without one (a sync
   * directory's crashes, the same layout) the name the reproducer's description carries.
   */
  private readFinding(dir: string): FindingFile | undefined {
    try {
      const file = readdirSync(dir).find((n) => REPRODUCER_FILE.test(n));
      if (!file) return undefined;
      const line = join(dir, "signature");
      if (!existsSync(line)) return readReproducer(dir, file);
      const name = parseFindingName(readFileSync(line, "utf8").trim());
      return name && readReproducer(dir, file, name);
    } catch {
      return undefined; // Half-written by a node that died: the next offer repairs it.
    }
  }

  async finding(signature: string): Promise<FindingFile | undefined> {
    return this.readFinding(join(this.root, "crashes", signatureSlug(signature)));
  }

  async signatures(): Promise<Set<string>> {
    const out = new Set<string>();
    // Not the half-built `.tmp-*` directories a sync directory's writers rename into place.
    for (const d of signatureDirs(join(this.root, "crashes"))) {
      const f = this.readFinding(d);
      if (f) out.add(f.signature);
    }
    return out;
  }

  async enqueueShards(shards: readonly Shard[]): Promise<number> {
    releaseDeadClaims(this.root);
    let added = 0;
    for (const s of shards) {
      const id = shardId(s);
      if (existsSync(join(this.root, "shards/results", `${id}.json`)) || this.claimed(id)) continue;
      // Written whole, then linked into the queue: a node never claims a half-written shard.
      if (writeFileOnce(join(this.root, "shards/queue", `${id}.json`), JSON.stringify(s), false)) added++;
    }
    return added;
  }

  private claimed(id: string): boolean {
    const dir = join(this.root, "shards/claimed");
    return readdirSync(dir).some((node) => existsSync(join(dir, node, `${id}.json`)));
  }

  serveShards(node: string, run: (shard: Shard) => Promise<ShardResult>, opts: HubServeOptions): HubShardServer {
    const server = new DirShardServer(this.root, node, run, opts.concurrency, this.opts.leaseMs ?? CLAIM_LEASE_MS, () => this.servers.delete(server));
    this.servers.add(server);
    return server;
  }

  async postNodeStats(stats: HubNodeStats): Promise<void> {
    writeFileAtomic(join(this.root, "board", `${encodeURIComponent(stats.node)}.json`), JSON.stringify(stats), false);
  }

  async results(): Promise<ShardResult[]> {
    const dir = join(this.root, "shards/results");
    return readdirSync(dir).filter((f) => f.endsWith(".json")).flatMap((f) => {
      try {
        return [JSON.parse(readFileSync(join(dir, f), "utf8")) as ShardResult];
      } catch {
        return [];
      }
    });
  }

  async status(now = Date.now()): Promise<HubStatus> {
    const board = join(this.root, "board");
    const nodes = readdirSync(board).filter((f) => f.endsWith(".json")).flatMap((f) => {
      try {
        const s = JSON.parse(readFileSync(join(board, f), "utf8")) as HubNodeStats;
        return [{ ...s, alive: isAlive(s, now) }];
      } catch {
        return [];
      }
    }).sort((a, b) => a.node.localeCompare(b.node));
    const claimedDir = join(this.root, "shards/claimed");
    const running = readdirSync(claimedDir).reduce((n, d) => n + readdirSync(join(claimedDir, d)).filter((f) => f.endsWith(".json")).length, 0);
    let corpus = 0;
    for (const d of readdirSync(this.root)) {
      const dir = this.corpusDir(d);
      if (existsSync(dir) && statSync(dir).isDirectory()) corpus += readdirSync(dir).filter((f) => f.endsWith(".json")).length;
    }
    return {
      nodes, execsPerSec: nodes.filter((n) => n.alive).reduce((t, n) => t + n.execsPerSec, 0), corpus,
      signatures: (await this.signatures()).size,
      shards: {
        pending: readdirSync(join(this.root, "shards/queue")).filter((f) => f.endsWith(".json")).length,
        running, done: (await this.results()).length,
      },
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.servers].map((s) => s.close()));
  }
}

const BITMAP_BYTES = COVERAGE_BITS / 8;

/**
 * The hub's coverage bitmap. One of another size was written by an older xmcfuzz as UTF-8 text
 * (its bytes >= 0x80 doubled, every later bit shifted): it means nothing, so it starts over empty.
 */
function readBitmap(path: string): Buffer {
  const bytes = existsSync(path) ? readFileSync(path) : undefined;
  return bytes?.length === BITMAP_BYTES ? bytes : Buffer.alloc(BITMAP_BYTES);
}

/** Where shard files that are no shard are set aside. */
const UNREADABLE_DIR = "shards/unreadable";

/** A queued shard file's shard, or undefined when it holds none. */
function readShard(path: string): Shard | undefined {
  try {
    const s = JSON.parse(readFileSync(path, "utf8")) as Partial<Shard> | null;
    const numbers = [s?.seed, s?.maxExecs, s?.maxMs];
    return typeof s?.strategy === "string" && typeof s.model === "string" && numbers.every((n) => typeof n === "number" && Number.isFinite(n)) ? (s as Shard) : undefined;
  } catch {
    return undefined;
  }
}

/** In a node's claim directory: `host pid` of the process serving under that name. */
const OWNER_FILE = ".owner";

/** In a node's claim directory: the lease it is judged by, in ms (its --shard-lease). */
const LEASE_FILE = ".lease";

/** How often a serving node rewrites its owner file (its lease) and looks for claims of dead nodes. */
const RELEASE_EVERY_MS = 5_000;

/**
 * A node whose owner file has not been rewritten for this long, by the filesystem's clock, is
 * gone, wherever it ran: its claims go back to the queue. A node that was only paused and comes
 * back finds its shard run twice at worst (the first result counts).
 */
export const CLAIM_LEASE_MS = 60_000;

/**
 * The filesystem's clock: the mtime of a file just written. Owner files are dated by the machine
 * that stores them too, so comparing the two needs no agreement between the nodes' clocks.
 */
function filesystemNow(root: string): number {
  const probe = join(root, "shards", ".clock");
  writeFileSync(probe, String(process.pid));
  return statSync(probe).mtimeMs;
}

/** Returns a claimed shard to the queue (or drops the claim if the shard already has a result). */
function putBack(root: string, claim: string, file: string): void {
  try {
    if (existsSync(join(root, "shards/results", file))) rmSync(claim, { force: true });
    else renameSync(claim, join(root, "shards/queue", file));
  } catch {
    // Another node put it back first.
  }
}

/**
 * Puts back the claims of dead nodes: a process of this host that is gone (killed mid-shard, and
 * named after its pid, like `matrix --hub`'s, so it never restarts under that name), or a node
 * anywhere whose lease ran out: its owner file older than the lease it declared (LEASE_FILE;
 * CLAIM_LEASE_MS without one). Each node is judged by its own lease, never the checker's.
 */
function releaseDeadClaims(root: string): void {
  const claimed = join(root, "shards/claimed");
  const now = filesystemNow(root);
  for (const node of readdirSync(claimed)) {
    const dir = join(claimed, node);
    let owner: string, age: number;
    try {
      owner = readFileSync(join(dir, OWNER_FILE), "utf8");
      age = now - statSync(join(dir, OWNER_FILE)).mtimeMs;
    } catch {
      continue; // No owner recorded (written by an older xmcfuzz): kept, as before.
    }
    if (age < declaredLease(dir) && !ownerIsDead(owner)) continue;
    try {
      for (const f of readdirSync(dir)) if (f.endsWith(".json")) putBack(root, join(dir, f), f);
    } catch {
      // Its node removed the directory meanwhile: nothing left to put back.
    }
  }
}

/** The lease (ms) a node declared in its claim directory, or the default. */
function declaredLease(dir: string): number {
  try {
    const ms = Number(readFileSync(join(dir, LEASE_FILE), "utf8"));
    return Number.isFinite(ms) && ms > 0 ? ms : CLAIM_LEASE_MS;
  } catch {
    return CLAIM_LEASE_MS;
  }
}

/** Writes the node's owner file afresh: its lease starts again. */
function renewLease(mine: string): void {
  writeFileAtomic(join(mine, OWNER_FILE), ownerTag(), false);
}

/** A node that stopped holding no claim leaves no directory (one per `matrix --hub` run would pile up). */
function removeIfUnclaimed(mine: string): void {
  try {
    if (readdirSync(mine).some((f) => f.endsWith(".json"))) return;
    rmSync(join(mine, OWNER_FILE), { force: true });
    rmSync(join(mine, LEASE_FILE), { force: true });
    rmdirSync(mine);
  } catch {
    // A claim or a new owner arrived meanwhile: the directory stays.
  }
}

/**
 * Serves the directory's queue: a shard is claimed by renaming it into `claimed/<node>/`, its
 * result written once with an exclusive create. A node rewrites its owner file every few seconds
 * (its lease). It puts its own claims back when it restarts; the claims of a dead process on the
 * same host, or of a node anywhere whose lease ran out, are put back by any node serving or
 * enqueueing.
 */
class DirShardServer implements HubShardServer {
  private stopped = false;
  private readonly running = new Set<Promise<void>>();
  private readonly loop: Promise<void>;

  /** How often the node renews its lease and looks for dead nodes' claims: a few times per lease. */
  private readonly everyMs: number;

  constructor(
    private readonly root: string, node: string, private readonly run: (s: Shard) => Promise<ShardResult>,
    private readonly concurrency: number, leaseMs: number, private readonly onClose: () => void,
  ) {
    this.everyMs = Math.min(RELEASE_EVERY_MS, leaseMs / 3);
    const mine = join(root, "shards/claimed", encodeURIComponent(node));
    ensureDir(mine);
    // Before any claim: other nodes put our claims back once we are gone.
    renewLease(mine);
    for (const f of readdirSync(mine)) if (f.endsWith(".json")) putBack(root, join(mine, f), f);
    // The lease others judge this node by (they may run with another --shard-lease).
    writeFileAtomic(join(mine, LEASE_FILE), String(leaseMs), false);
    releaseDeadClaims(root);
    this.loop = this.serve(mine).finally(() => removeIfUnclaimed(mine));
  }

  private async serve(mine: string): Promise<void> {
    // The lease is renewed as long as this node may hold claims: serving, then draining.
    const renewing = setInterval(() => {
      try {
        renewLease(mine);
      } catch {
        // The directory failed: the shards may run twice, never get lost.
      }
    }, this.everyMs);
    try {
      await this.claimAndRun(mine);
    } finally {
      clearInterval(renewing);
    }
  }

  private async claimAndRun(mine: string): Promise<void> {
    const queue = join(this.root, "shards/queue");
    let released = Date.now();
    while (!this.stopped) {
      if (Date.now() - released >= this.everyMs) {
        releaseDeadClaims(this.root);
        released = Date.now();
      }
      let took = false;
      if (this.running.size < this.concurrency) {
        for (const f of readdirSync(queue).filter((n) => n.endsWith(".json")).sort()) {
          try {
            renameSync(join(queue, f), join(mine, f));
          } catch {
            continue; // Another node claimed it first.
          }
          took = true;
          const p = this.runOne(join(mine, f), f).finally(() => this.running.delete(p));
          this.running.add(p);
          break;
        }
      }
      if (!took) await new Promise((r) => setTimeout(r, 100));
    }
    // Draining after close(): the running shards are still this node's, and so is its lease.
    await Promise.all(this.running);
  }

  private async runOne(claim: string, file: string): Promise<void> {
    const shard = readShard(claim);
    if (!shard) {
      // Not a shard (a torn write by an older xmcfuzz, a hand edit): set aside, never retried.
      try {
        renameSync(claim, join(this.root, UNREADABLE_DIR, file));
      } catch {
        // Another node moved it first.
      }
      return;
    }
    let result: ShardResult;
    try {
      result = await this.run(shard);
    } catch {
      // A failed run goes back to the queue for another try (unless another node put it back).
      putBack(this.root, claim, file);
      return;
    }
    if (shardKey(result.shard) !== shardKey(shard)) throw new Error("shard result for another shard");
    // The first result of a shard counts.
    const path = join(this.root, "shards/results", file);
    writeFileOnce(path, JSON.stringify(result), true);
    rmSync(claim, { force: true });
  }

  async close(): Promise<void> {
    this.stopped = true;
    await this.loop;
    this.onClose();
  }
}
