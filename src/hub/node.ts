import { readdirSync } from "node:fs";
import { InputError } from "../errors.js";
import type { FindingFile, Hub, HubCorpusEntry, HubShardServer, Shard, ShardResult } from "../types.js";
import { readReproducer, REPRODUCER_FILE, signatureDirs, type CorpusText } from "../files/store.js";
import { RedisHub } from "./redis.js";

// A campaign's side of the hub. The node's own corpus/ and crashes/ stay the truth: everything is
// written there first, then mirrored to the hub without waiting (a stopped or lost hub never stops
// the fuzzing), and everything local is offered again whenever the hub comes back.

/** The node's crashes directory as hub findings (what a reconnecting node offers again). */
export function localFindings(crashes: string): FindingFile[] {
  const out: FindingFile[] = [];
  for (const dir of signatureDirs(crashes)) {
    try {
      for (const n of readdirSync(dir).filter((x) => REPRODUCER_FILE.test(x))) {
        const f = readReproducer(dir, n);
        if (f) out.push(f);
      }
    } catch {
      // A directory another process is rewriting: its next offer reaches the hub anyway.
    }
  }
  return out;
}

export interface HubNodeOptions {
  readonly hub: Hub;
  readonly node: string;
  /** The node's own corpus and crashes (the truth it offers again after a reconnect). */
  readonly ownCorpus: () => CorpusText[];
  readonly crashes: string;
  /** Shard threads served at once (0: none). */
  readonly shardWorkers: number;
  /** Whether the node fuzzes on its own too (not only the hub's shards): what it does while the hub is away. */
  readonly fuzzesAlone: boolean;
  readonly runShard: (shard: Shard) => Promise<ShardResult>;
  readonly log: (msg: string, fields: Record<string, unknown>) => void;
  /** Where a lost hub is said (default: a line on stderr). */
  readonly warn?: (line: string) => void;
  /** Told once when the hub refuses this node for good (bad input: a database the server refuses). */
  readonly onRefused?: (message: string) => void;
}

/** A line on stderr that does not run into a campaign's live status line on a terminal. */
function stderrLine(line: string): void {
  process.stderr.write(`${process.stderr.isTTY ? "\r\x1b[2K" : ""}${line}\n`);
}

export class HubNode {
  private readonly inflight = new Set<Promise<unknown>>();
  private server: HubShardServer | undefined;
  private pulling = false;
  private posting = false;
  private pulledOnce = false;
  /** Mirror operations that failed (the hub was unreachable); a resync repairs them. */
  failures = 0;
  /** The hub refused this node for good (onRefused was told). */
  private refused = false;
  shardsRun = 0;

  constructor(private readonly opts: HubNodeOptions) {
    if (opts.hub instanceof RedisHub) {
      // The node never waits for the hub, but the user must know it is fuzzing alone.
      const warn = opts.warn ?? stderrLine;
      opts.hub.onOutage((error) => {
        opts.log("hub unreachable", { error });
        warn(`hub unreachable (${error}): ${opts.fuzzesAlone ? "fuzzing on alone" : "no shard to serve until it answers"}, retrying in the background`);
      }, () => warn("hub reachable again"));
      // A refusal seen anywhere (the connection, a command, the shard queue) stops the node.
      opts.hub.onRefusal((e) => this.refuse(e.message, "hub"));
      // Every reconnection: the server may have restarted empty; offer the local truth again.
      opts.hub.onReconnect(() => {
        opts.log("hub reconnected; offering local corpus and findings again", {});
        this.resync();
      });
    }
  }

  start(): void {
    this.resync();
    if (this.opts.shardWorkers > 0) {
      this.server = this.opts.hub.serveShards(this.opts.node, async (s) => {
        const r = await this.opts.runShard(s);
        this.shardsRun++;
        return r;
      }, { concurrency: this.opts.shardWorkers });
    }
  }

  private track<T>(p: Promise<T>, what: string): void {
    const q = p.catch((e: unknown) => {
      this.failures++;
      if (e instanceof InputError) this.refuse(e.message, what);
      // A refusal (told through onRefusal), or an outage: logged, and a resync repairs it.
      else if (!(this.opts.hub instanceof RedisHub && this.opts.hub.refuseOn(e))) {
        this.opts.log("hub operation failed", { what, error: e instanceof Error ? e.message : String(e) });
      }
    }).finally(() => this.inflight.delete(q));
    this.inflight.add(q);
  }

  /** No retry can help: said once, and the campaign decides. */
  private refuse(message: string, what: string): void {
    if (this.refused) return;
    this.refused = true;
    this.opts.log("hub refused this node", { what, error: message });
    this.opts.onRefused?.(message);
  }

  publish(entry: HubCorpusEntry): void {
    this.track(this.opts.hub.publishCorpus(this.opts.node, entry), "publish");
  }

  offer(f: FindingFile): void {
    this.track(this.opts.hub.offerFinding(f).then((offer) => this.opts.log("hub offer", { signature: f.signature, offer })), "offer");
  }

  /** Offers everything local again: idempotent on the hub's side (known coverage, known findings). */
  resync(): void {
    for (const e of this.opts.ownCorpus()) this.publish(e);
    for (const f of localFindings(this.opts.crashes)) this.offer(f);
  }

  /** Foreign corpus entries since the last pull (none while a pull is still waiting on the hub). */
  async pull(): Promise<HubCorpusEntry[]> {
    if (this.pulling) return [];
    this.pulling = true;
    try {
      const entries = await this.opts.hub.pullCorpus(this.opts.node, !this.pulledOnce);
      this.pulledOnce = true;
      return entries;
    } catch (e) {
      this.failures++;
      if (this.opts.hub instanceof RedisHub) this.opts.hub.refuseOn(e);
      return [];
    } finally {
      this.pulling = false;
    }
  }

  post(execs: number, execsPerSec: number): void {
    if (this.posting) return;
    this.posting = true;
    this.track(this.opts.hub.postNodeStats({ node: this.opts.node, execs, execsPerSec, at: Date.now() }).finally(() => (this.posting = false)), "post");
  }

  /** True when the hub holds no pending or running shard. */
  async idle(): Promise<boolean> {
    const s = (await this.opts.hub.status()).shards;
    return s.pending === 0 && s.running === 0;
  }

  /**
   * Stops taking shards, ends the running ones with `abort` (the queue hands them to another node)
   * and waits for mirror writes, up to `ms`.
   */
  async stop(abort: () => Promise<void>, ms = 10_000): Promise<void> {
    const closed = this.server?.close().catch(() => undefined);
    await abort();
    await this.drain(closed, ms);
  }

  /** The node's last post, once it has stopped: `execs` in all, and that it left (not merely silent). */
  async leave(execs: number, ms = 5_000): Promise<void> {
    if (!this.refused) this.track(this.opts.hub.postNodeStats({ node: this.opts.node, execs, execsPerSec: 0, at: Date.now(), left: true }), "post");
    await this.drain(undefined, ms);
  }

  /** Waits for the operations in flight, up to `ms`: a hub that does not answer (stopped, gone) is not waited for longer, the truth is local. */
  private async drain(also: Promise<unknown> | undefined, ms: number): Promise<void> {
    const deadline = new Promise<void>((r) => void setTimeout(() => r(), ms).unref());
    await Promise.race([Promise.all([also, ...this.inflight]), deadline]);
  }
}
