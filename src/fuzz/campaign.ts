import { readFileSync } from "node:fs";
import { constants } from "node:os";
import { dirname, join, resolve } from "node:path";
import { Worker } from "node:worker_threads";
import { pino, type Logger } from "pino";
import { ensureDir, writeFileAtomic } from "../files/atomic.js";
import { LogFile } from "../files/log-file.js";
import { NodeClaim } from "../files/node-claim.js";
import { type CampaignStore, type CorpusText, offerFinding, type Offer, SyncDirStore } from "../files/store.js";
import { InputError, SelfCheckError } from "../errors.js";
import { REFERENCE_STRATEGY, selfCheckLine } from "../oracle/self-check.js";
import { promote } from "../corpus/promote.js";
import { CoverageMap } from "./coverage.js";
import type { ShippedFinding } from "./engine.js";
import { unship } from "./finding-report.js";
import { FindingTally } from "./tally.js";
import { entryInScope } from "./scope.js";
import { scopeText } from "../report/scope.js";
import { findingsByCellLines } from "../report/campaign.js";
import type { ToMain, ToWorker, WorkerConfig } from "./worker.js";
import type { CaseScope, CellFindings, FindingFile, Hub, Model, Strategy } from "../types.js";
import { HubNode } from "../hub/node.js";
import { ShardPool } from "../hub/shards.js";

// The campaign shell: worker threads do the fuzzing; this thread owns the files (corpus, findings,
// stats, log), the status line, the budget and the signals. Nothing here computes a verdict.

export interface CampaignOptions {
  readonly strategies: readonly Strategy[];
  /** What each worker passes to resolveStrategy: a built-in name or a plugin path. */
  readonly strategyArgs: readonly string[];
  readonly models: readonly Model[];
  readonly durationMs: number;
  readonly maxExecs: number;
  readonly workers: number;
  readonly seed: string;
  readonly scheduler: "random" | "pct";
  readonly feedback: boolean;
  readonly minimize: boolean;
  readonly scope: CaseScope;
  /** Campaign directory: stats.json, fuzz.log, and the sync directory's default. */
  readonly out: string;
  readonly crashes: string;
  readonly syncDir: string;
  readonly node: string;
  readonly log: string;
  /** Status output: a live line on a terminal, plain periodic lines otherwise. */
  readonly tty: boolean;
  readonly statusEveryMs?: number;
  /** A worker whose heartbeat stands still this long is stuck in one step: it is replaced. */
  readonly stallMs?: number;
  readonly quiet?: boolean;
  /** A hub shared with other nodes: corpus and findings mirrored to it, its shards served here. */
  readonly hub?: Hub;
  /** Shard threads this node serves from the hub's queue at once. */
  readonly shardWorkers?: number;
  /** Stop once the hub holds no pending or running shard (a node that only serves a matrix). */
  readonly untilIdle?: boolean;
  /** Also write each minimized divergence (raw ones with minimize off) into this corpus directory. */
  readonly promote?: string;
}

export interface CampaignStats {
  readonly elapsedMs: number;
  readonly execs: number;
  readonly execsPerSec: number;
  /** Scheduler events emulated by the fuzzing workers' runs (the work of an exec varies with its case). */
  readonly events: number;
  readonly corpus: number;
  readonly coverageBits: number;
  readonly signatures: number;
  readonly divergences: number;
  readonly ruleFindings: number;
  readonly harnessErrors: number;
  readonly workerRestarts: number;
  readonly sinceLastFindMs: number | null;
  /** The workers' JS heaps in use (bytes), as last reported: what a soak watches. */
  readonly workerHeapBytes: number;
  /** CPU time of the whole process (every thread) since the start: with elapsedMs, the cores it got. */
  readonly cpuMs: number;
  /** Workers' time in fuzzing batches and in minimizing findings, summed over workers. */
  readonly fuzzMs: number;
  readonly minimizeMs: number;
}

interface HistoryPoint {
  readonly t: number;
  readonly execs: number;
  readonly events: number;
  readonly execsPerSec: number;
  readonly coverageBits: number;
  readonly corpus: number;
  readonly signatures: number;
  readonly cpuMs: number;
  readonly fuzzMs: number;
  readonly minimizeMs: number;
}

/** Where findings go, inside --out, once the crashes directory cannot take them. */
export const UNSTORED_DIR = "unstored-crashes";

/** A failed file operation in a few words: `ENOTDIR on mkdir`, or the error's first line. */
function fileErrorText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err.code) return `${err.code}${err.syscall ? ` on ${err.syscall}` : ""}`;
  return (e instanceof Error ? e.message : String(e)).split("\n")[0]!;
}

/** Whether the system refused a file operation (a path that cannot be used), rather than our code failing. */
function isSystemError(e: unknown): boolean {
  return typeof (e as NodeJS.ErrnoException).code === "string" && typeof (e as NodeJS.ErrnoException).syscall === "string";
}

/** Points stats.json keeps; older ones are thinned, so a night's file stays small. */
const HISTORY_POINTS = 2000;

/** 1, 10, 100...: what happens in every run is said the 1st, 10th, 100th... time, not each time. */
const isPowerOfTen = (n: number): boolean => /^10*$/.test(String(n));

/**
 * Distinct harness errors by their words: numbers (decisions, hex addresses, exit codes) vary run
 * to run, so `boom at 0x1050` and `boom at 0x106e` are one error.
 */
export function harnessErrorKind(message: string): string {
  return message.replace(/0x[0-9a-f]+|\d+/gi, "#");
}

/**
 * Halves the resolution of the older part of a history once it holds more than `max` points: the
 * newest quarter stays at full resolution (scripts read recent windows from it), and the plot of
 * a long campaign keeps its whole shape (its first point and every other one after it).
 */
export function thinHistory<T>(history: T[], max = HISTORY_POINTS): T[] {
  if (history.length <= max) return history;
  const recent = history.length - Math.floor(max / 4);
  return history.filter((_, i) => i >= recent || i % 2 === 0);
}

/**
 * The history of an earlier session in the same campaign directory, so that a resumed campaign's
 * stats.json (and its plot) goes on from where the last one stopped. Unreadable: a fresh start.
 */
function earlierHistory(statsFile: string): HistoryPoint[] {
  try {
    const h = (JSON.parse(readFileSync(statsFile, "utf8")) as { history?: unknown }).history;
    if (!Array.isArray(h)) return [];
    return h.filter((p): p is HistoryPoint => typeof p === "object" && p !== null && Number.isFinite((p as HistoryPoint).t) && Number.isFinite((p as HistoryPoint).execs));
  } catch {
    return [];
  }
}

const clock = (ms: number) => {
  const s = Math.floor(ms / 1000);
  return `${String(Math.floor(s / 3600)).padStart(2, "0")}:${String(Math.floor(s / 60) % 60).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
};

const cpuMs = (u: NodeJS.CpuUsage) => Math.round((u.user + u.system) / 1000);

export function statusLine(s: CampaignStats): string {
  const last = s.sinceLastFindMs === null ? "none yet" : `${clock(s.sinceLastFindMs)} ago`;
  return `[${clock(s.elapsedMs)}] execs ${s.execs.toLocaleString("en-US")} (${Math.round(s.execsPerSec)}/s)  corpus ${s.corpus}  cov ${s.coverageBits}  signatures ${s.signatures} (${s.divergences} div, ${s.ruleFindings} rule)  last find ${last}${s.harnessErrors ? `  harness errors ${s.harnessErrors}` : ""}`;
}

export class Campaign {
  private readonly store: CampaignStore;
  private readonly nodeClaim: NodeClaim;
  private readonly outClaim: NodeClaim | undefined;
  private readonly coverage = new CoverageMap();
  private readonly log: Logger;
  private readonly logFile: LogFile;
  private readonly workers = new Map<number, Worker>();
  private readonly beats = new Map<number, { buf: SharedArrayBuffer; last: number; since: number }>();
  /** Workers the watchdog terminated (their run is blamed already when their exit comes). */
  private readonly stalled = new Set<number>();
  private readonly stopFlag = new SharedArrayBuffer(4);
  /**
   * BigInt64 [execs not yet started] of a campaign with --max-execs, shared by its workers: each
   * takes one before each exec, so the campaign runs at most that many (checked here every 100 ms
   * against the workers' batch stats, it overshot by a batch per worker: 38 execs for 1).
   */
  private readonly execBudget: BigInt64Array | undefined;
  private readonly workerHeap = new Map<number, number>();
  private readonly harnessCounts = new Map<string, number>();
  private readonly signatures = new Set<string>();
  /** How many of `signatures` are rule findings' (theirs begin with `rule`): stored and new alike. */
  private ruleSignatures = 0;
  /** This run's new signatures and harness errors, per cell and in all: the status line, stats.json, the summary at the end. */
  private readonly tally = new FindingTally();
  /** Raw findings by signature, queued for minimization: the worker that shipped each first minimizes it (until it does). */
  private readonly claims = new Map<string, { worker: number; raw: ShippedFinding }>();
  /** Per worker, the signature it last started minimizing (see the worker's exit). */
  private readonly minimizing = new Map<number, string>();
  private readonly claimed = new Set<string>();
  private history: HistoryPoint[];
  /** Where the earlier sessions' history ended (its cumulative fields): this session's points go on from there. */
  private readonly historyBase: Pick<HistoryPoint, "t" | "execs" | "events" | "cpuMs" | "fuzzMs" | "minimizeMs">;
  /** The seed this session's workers derive theirs from (stats.json's `seed`). */
  private readonly seed: string;
  private readonly start = Date.now();
  private execs = 0;
  private events = 0;
  private fuzzMs = 0;
  private minimizeMs = 0;
  private readonly cpuStart = process.cpuUsage();
  private corpus = 0;
  private restarts = 0;
  private lastFind: number | null = null;
  private stopping = false;
  private lastRate = { t: Date.now(), execs: 0, rate: 0 };
  private readonly hubNode: HubNode | undefined;
  private readonly shardPool: ShardPool;
  /** Size of the reproducer promoted per signature (a smaller one replaces it). */
  private readonly promoted = new Map<string, number>();
  /**
   * The divergences named on stderr: the first of each (strategy, model, cause) this run. Early in
   * a campaign new signatures come by the hundred per second; the rest are counted on the status
   * line and in the summary, and logged.
   */
  private readonly named = new Set<string>();
  private readonly namedClasses = new Set<string>();
  /** The first file operation that failed mid-run: the campaign stopped on it, and run() ends with it. */
  private fileFailure: { path: string; error: string; system: boolean } | undefined;
  /** Why the hub refused this node for good (see HubNodeOptions.onRefused). */
  private hubRefusal: string | undefined;
  /** Signatures of stop_machine findings: bugs of the tool's (SPEC 6.6), saved, said, and the exit status 3. */
  private readonly selfCheckBreaches = new Set<string>();
  /** Findings the crashes directory did not take: how many went to UNSTORED_DIR, how many only to the log. */
  private readonly unstored = { saved: 0, logged: 0, printed: 0 };

  constructor(private readonly opts: CampaignOptions) {
    ensureDir(opts.out);
    // First: the store clears its node's leftovers, which only a process owning the node may.
    this.nodeClaim = NodeClaim.take(opts.syncDir, opts.node);
    try {
      // An --out that is not the node's own directory is claimed too: two campaigns on different
      // sync directories would otherwise share its stats.json and log.
      this.outClaim = resolve(opts.out) === resolve(opts.syncDir, opts.node) ? undefined : NodeClaim.takeOut(opts.out);
      this.store = new SyncDirStore(opts.syncDir, opts.node, opts.crashes);
      // Open the log here: pino's own mkdir spins forever on some unusable paths (/proc/x/y).
      ensureDir(dirname(opts.log));
      this.logFile = new LogFile(opts.log, (e) => this.logFailed(e));
      this.log = pino({ base: { node: opts.node } }, this.logFile);
    } catch (e) {
      this.releaseClaims(); // an --out in use, or a path that cannot be used: the node was never run
      throw e;
    }
    for (const s of this.store.signatures()) this.addSignature(s);
    this.history = earlierHistory(join(opts.out, "stats.json"));
    const last = this.history.at(-1);
    // Histories written before events or CPU times were counted have none: those start from 0.
    const earlier = (x: number | undefined) => (Number.isFinite(x) ? x! : 0);
    this.historyBase = {
      t: earlier(last?.t), execs: earlier(last?.execs), events: earlier(last?.events),
      cpuMs: earlier(last?.cpuMs), fuzzMs: earlier(last?.fuzzMs), minimizeMs: earlier(last?.minimizeMs),
    };
    // A resumed campaign draws from its seed and how far the earlier sessions went: on the bare
    // seed its workers would start with the fresh cases the first session began with.
    this.seed = this.historyBase.execs > 0 ? `${opts.seed}@${this.historyBase.execs}` : opts.seed;
    this.execBudget = opts.maxExecs < Number.MAX_SAFE_INTEGER ? new BigInt64Array(new SharedArrayBuffer(8)).fill(BigInt(opts.maxExecs)) : undefined;
    this.shardPool = new ShardPool({ scheduler: opts.scheduler, scope: opts.scope, minimize: opts.minimize, stallMs: opts.stallMs });
    if (opts.hub) {
      this.hubNode = new HubNode({
        hub: opts.hub, node: opts.node, ownCorpus: () => this.store.ownCorpus(), crashes: opts.crashes, shardWorkers: opts.shardWorkers ?? 0, fuzzesAlone: opts.workers > 0,
        runShard: async (shard) => {
          const r = await this.shardPool.run(shard, { onExecs: (n) => (this.execs += n), onFinding: (f) => this.onFinding(f) });
          // A shard's harness errors are its cell's; this node says why, once per shard.
          if (r.firstHarnessError !== undefined) this.onHarnessError(shard.strategy, shard.model, `shard seed ${shard.seed} (${r.harnessErrors} harness errors): ${r.firstHarnessError}`, r.harnessErrors);
          return r;
        },
        log: (msg, fields) => this.log.info(fields, msg),
        // A hub that refuses this node for good (its database): the campaign stops, exit 2.
        onRefused: (message) => {
          this.hubRefusal ??= message;
          this.requestStop("hub refused this node");
        },
      });
    }
  }

  stats(): CampaignStats {
    const now = Date.now();
    if (now - this.lastRate.t >= 1000) {
      this.lastRate = { t: now, execs: this.execs, rate: ((this.execs - this.lastRate.execs) * 1000) / (now - this.lastRate.t) };
    }
    return {
      elapsedMs: now - this.start, execs: this.execs, execsPerSec: this.lastRate.rate || (this.execs * 1000) / Math.max(1, now - this.start), events: this.events,
      corpus: this.corpus, coverageBits: this.coverage.count, signatures: this.signatures.size,
      // The split of `signatures` (stored ones of a resumed campaign too; the tally has this session's).
      divergences: this.signatures.size - this.ruleSignatures, ruleFindings: this.ruleSignatures, harnessErrors: this.tally.harnessErrors,
      workerRestarts: this.restarts, sinceLastFindMs: this.lastFind === null ? null : now - this.lastFind,
      workerHeapBytes: [...this.workerHeap.values()].reduce((a, b) => a + b, 0),
      cpuMs: cpuMs(process.cpuUsage(this.cpuStart)), fuzzMs: Math.round(this.fuzzMs), minimizeMs: Math.round(this.minimizeMs),
    };
  }

  private human(line: string): void {
    if (!this.opts.quiet) this.stderrLine(line);
  }

  /** A line on stderr, over the live status line on a terminal. */
  private stderrLine(line: string): void {
    process.stderr.write(`${this.opts.tty ? "\r\x1b[2K" : ""}${line}\n`);
  }

  /** stats.json, rewritten whole (a failure stops the campaign, as any file's does). */
  private saveStats(): void {
    this.attempt(join(this.opts.out, "stats.json"), () => this.writeStats());
  }

  private writeStats(): void {
    const s = this.stats();
    const b = this.historyBase;
    this.history.push({
      t: b.t + s.elapsedMs, execs: b.execs + s.execs, events: b.events + s.events, execsPerSec: s.execsPerSec, coverageBits: s.coverageBits,
      corpus: s.corpus, signatures: s.signatures, cpuMs: b.cpuMs + s.cpuMs, fuzzMs: b.fuzzMs + s.fuzzMs, minimizeMs: b.minimizeMs + s.minimizeMs,
    });
    this.history = thinHistory(this.history);
    // One history point per line: the file is rewritten every few seconds all night long.
    const head = JSON.stringify({ node: this.opts.node, seed: this.seed, ...s }, null, 2);
    const lines = (rows: readonly object[]) => rows.map((r) => `    ${JSON.stringify(r)}`).join(",\n");
    writeFileAtomic(join(this.opts.out, "stats.json"), `${head.slice(0, -2)},\n  "cells": [\n${lines(this.cells())}\n  ],\n  "history": [\n${lines(this.history)}\n  ]\n}\n`);
  }

  /**
   * This run's new signatures and harness errors per cell. A node that only serves a hub's shards
   * fuzzed no cell of its own: it lists the cells it found in.
   */
  private cells(): CellFindings[] {
    const own = this.opts.workers > 0 ? this.opts.strategies.map((s) => s.name) : [];
    return this.tally.byCell(own, this.opts.models.map((m) => m.name));
  }

  /**
   * Starts worker `index`. `own`: this node's corpus, when the caller has just read it (else it is
   * read here: a replacement gets this session's entries too). Each worker is told the signatures
   * already stored or claimed, so that it does not confirm, report, ship and minimize them again
   * (a resumed campaign did so for every known signature it met, at a fifteenth of its exec rate).
   */
  private spawn(index: number, own?: readonly CorpusText[]): void {
    const heartbeat = new SharedArrayBuffer(12);
    this.beats.set(index, { buf: heartbeat, last: -1, since: Date.now() });
    const config: WorkerConfig = {
      index, seed: `${this.seed}:${index}:${this.restarts}`, strategies: this.opts.strategyArgs, models: this.opts.models,
      scheduler: this.opts.scheduler, feedback: this.opts.feedback, minimize: this.opts.minimize, scope: this.opts.scope,
      stop: this.stopFlag, heartbeat, ...(this.execBudget ? { execBudget: this.execBudget.buffer as SharedArrayBuffer } : {}),
      known: [...new Set([...this.signatures, ...this.claimed])],
      corpus: own ?? this.attempt(this.corpusDir(), () => this.store.ownCorpus()) ?? [],
    };
    const w = new Worker(new URL("./worker.js", import.meta.url), { workerData: config });
    this.workers.set(index, w);
    w.on("message", (m: ToMain) => this.onMessage(m, index));
    let error: string | undefined;
    w.on("error", (e) => {
      error = e.message.split("\n")[0];
      this.log.error({ worker: index, err: e.message }, "worker error");
    });
    w.on("exit", (code) => {
      this.workers.delete(index);
      if (this.stopping) return;
      // A worker that died is replaced; what it had shipped is already on disk.
      this.restarts++;
      this.log.warn({ worker: index, code }, "worker died; restarting");
      // Said the 1st, 10th, 100th... time: a strategy that kills its thread does so in every run.
      if (isPowerOfTen(this.restarts)) this.human(`worker ${index} died (exit ${code}); restarting it (${this.restarts} restart${this.restarts === 1 ? "" : "s"} so far)`);
      // Not replaced by the watchdog (which blamed the run already), and after a run: most likely
      // the strategy of its last run took the thread down (process.exit, an error its own timer
      // or promise threw). Blamed on that cell, and said to be its last run's, not proven.
      const beat = new Int32Array(heartbeat);
      if (!this.stalled.delete(index) && Atomics.load(beat, 2) > 0) {
        const strategy = this.opts.strategies[Atomics.load(beat, 0)]?.name ?? "?", model = this.opts.models[Atomics.load(beat, 1)]?.name ?? "?";
        this.onHarnessError(strategy, model, `the worker thread died (exit ${code}${error ? `: ${error}` : ""}); its last run was of ${strategy}`);
      }
      this.spawn(index);
      // Its unminimized claims go to its replacement, but for the one it died minimizing: handed
      // on, a minimization that never returns would stall every replacement in turn.
      const fatal = this.minimizing.get(index);
      if (fatal !== undefined && this.claims.get(fatal)?.worker === index) {
        this.claims.delete(fatal);
        this.log.warn({ worker: index, signature: fatal }, "worker died minimizing this finding; its raw reproducer is kept");
      }
      this.minimizing.delete(index);
      const orphans = [...this.claims.values()].filter((c) => c.worker === index).map((c) => c.raw);
      if (orphans.length > 0 && this.opts.minimize) this.workers.get(index)?.postMessage({ type: "minimize", findings: orphans } satisfies ToWorker);
    });
  }

  /**
   * The corpus an earlier session of this node left: every entry in scope counted, and its bits
   * merged, as the workers' engines keep each as a parent (each added bits when it was found;
   * merged again in file order, a third add none, and were dropped until session 14).
   */
  private resumeCorpus(): CorpusText[] {
    const own = this.attempt(this.corpusDir(), () => this.store.ownCorpus()) ?? [];
    for (const e of own) {
      if (!this.admits(e.json)) continue;
      this.coverage.merge(e.bits);
      this.corpus++;
    }
    return own;
  }

  private onMessage(m: ToMain, from: number): void {
    switch (m.type) {
      case "stats":
        this.execs += m.execs;
        this.events += m.events;
        this.fuzzMs += m.fuzzMs;
        this.minimizeMs += m.minimizeMs;
        if (m.heapUsed !== undefined) this.workerHeap.set(from, m.heapUsed);
        break;
      case "coverage":
        this.coverage.merge(m.bits);
        break;
      case "corpus":
        if (this.coverage.merge(m.entry.bits) > 0) {
          this.corpus++;
          this.attempt(this.corpusDir(), () => this.store.publishCorpus(m.entry));
          this.hubNode?.publish(m.entry);
          // The worker that found it has it already.
          for (const [i, w] of this.workers) if (i !== from) w.postMessage({ type: "adopt", entries: [m.entry] } satisfies ToWorker);
        }
        break;
      case "finding":
        this.claim(m.finding, from, m.queued ?? false);
        this.onFinding(m.finding);
        break;
      case "harness-error":
        this.onHarnessError(m.strategy, m.model, m.message);
        break;
      case "minimizing":
        this.minimizing.set(from, m.signature);
        break;
      case "done":
        break;
    }
  }

  /**
   * A strategy that threw or misused the API: counted, never a divergence. A strategy that throws
   * in every run would write a line per run, so each distinct error gets a line the 1st, 10th,
   * 100th... time it happens (with its count), and one summary line at the end.
   */
  private onHarnessError(strategy: string, model: string, message: string, runs = 1): void {
    this.tally.harnessError(strategy, model, runs);
    const key = `${strategy}\u0000${model}\u0000${harnessErrorKind(message)}`;
    const count = (this.harnessCounts.get(key) ?? 0) + 1;
    if (this.harnessCounts.size < 10_000 || this.harnessCounts.has(key)) this.harnessCounts.set(key, count);
    if (count === 1) this.human(`harness error: ${strategy} under ${model}: ${message}`);
    if (isPowerOfTen(count)) this.log.error({ strategy, model, error: message, count }, "harness error");
  }

  /**
   * The first worker to ship a signature owns it: the others are told, so that each signature is
   * confirmed, reported and minimized once per campaign rather than once per worker.
   */
  private claim(f: ShippedFinding, from: number, queued: boolean): void {
    if (f.minimized) {
      this.claims.delete(f.signature);
      if (this.minimizing.get(from) === f.signature) this.minimizing.delete(from);
      return;
    }
    if (this.claimed.has(f.signature)) return;
    this.claimed.add(f.signature);
    // Only findings waiting in a worker's minimization queue are held here (for its replacement):
    // the others are saved raw and kept nowhere in memory.
    if (queued) this.claims.set(f.signature, { worker: from, raw: f });
    for (const [i, w] of this.workers) if (i !== from) w.postMessage({ type: "known", signatures: [f.signature] } satisfies ToWorker);
  }

  private onFinding(f: ShippedFinding): void {
    const offer = this.attempt(this.opts.crashes, () => this.store.offerFinding(f.file)) ?? this.keepUnstored(f.file);
    if (offer !== "known") this.hubNode?.offer(f.file);
    this.log.info({ signature: f.signature, kind: f.kind, offer, minimized: f.minimized, before: f.before, after: f.after }, "finding");
    if (f.strategy === REFERENCE_STRATEGY && !this.selfCheckBreaches.has(f.signature)) {
      this.selfCheckBreaches.add(f.signature);
      this.log.error({ signature: f.signature, model: f.model }, "self-check failed");
      // The first few said at once; all of them logged and counted at the end.
      if (this.selfCheckBreaches.size <= 10) this.human(`${selfCheckLine(f.model, `found ${f.signature}`)} (saved in ${this.opts.crashes})`);
    }
    this.promoteFinding(f);
    if (offer === "new" && !this.signatures.has(f.signature)) {
      this.addSignature(f.signature);
      this.tally.add(f);
      this.lastFind = Date.now();
      // Rule findings are many and apart from divergences: counted on the status line, listed in the log.
      if (f.kind === "divergence" && f.strategy !== REFERENCE_STRATEGY && this.firstOfClass(f)) this.human(`new divergence: ${f.signature}`);
    } else if (offer === "smaller" && f.minimized && f.before && f.after && this.named.has(f.signature)) {
      this.human(`  minimized: ${f.signature}: ${f.before.decisions} -> ${f.after.decisions} decisions, ${f.before.instructions} -> ${f.after.instructions} instructions, ${f.before.cores} -> ${f.after.cores} cores`);
    }
  }

  private addSignature(signature: string): void {
    if (this.signatures.has(signature)) return;
    this.signatures.add(signature);
    if (signature.startsWith("rule ")) this.ruleSignatures++;
  }

  /** Whether the divergence is the first of its (strategy, model, cause) this run (then it is named). */
  private firstOfClass(f: ShippedFinding): boolean {
    const cls = `${f.strategy}\u0000${f.model}\u0000${f.cause ?? ""}`;
    if (this.namedClasses.has(cls)) return false;
    this.namedClasses.add(cls);
    this.named.add(f.signature);
    return true;
  }

  /** `--promote`: the finding joins the regression corpus, its recorded run as the expectation. */
  private promoteFinding(f: ShippedFinding): void {
    const dir = this.opts.promote;
    // A stop_machine finding is a bug of the tool's (SPEC 6.6), never a regression expectation.
    if (!dir || f.kind !== "divergence" || f.strategy === REFERENCE_STRATEGY || (this.opts.minimize && !f.minimized)) return;
    if (f.file.size >= (this.promoted.get(f.signature) ?? Infinity)) return;
    this.promoted.set(f.signature, f.file.size);
    const p = this.attempt(dir, () => promote(unship(f).kase, f, dir, { replace: true }));
    if (p) this.log.info({ signature: f.signature, path: p.path, status: p.status }, "promoted");
  }

  /** The sync directory's corpus directory of this node (the store's). */
  private corpusDir(): string {
    return join(this.opts.syncDir, this.opts.node, "corpus");
  }

  /** Gives back the node's directory and --out, unless taken over meanwhile. */
  private releaseClaims(): void {
    this.nodeClaim.release();
    this.outClaim?.release();
  }

  /** A log write failed: the campaign stops as on any file failure (not logged: the log is what failed). */
  private logFailed(e: unknown): void {
    this.fileFailure ??= { path: this.opts.log, error: fileErrorText(e), system: isSystemError(e) };
    this.requestStop("log write failed");
  }

  /**
   * Runs a file operation of the campaign's. Most run in a worker's message handler, where a throw
   * would kill the process with the findings in flight: a failure instead stops the campaign, and
   * run() ends with it once the workers are stopped and stats.json is written. Undefined on failure.
   */
  private attempt<T>(path: string, op: () => T): T | undefined {
    try {
      return op();
    } catch (e) {
      const error = fileErrorText(e);
      this.fileFailure ??= { path, error, system: isSystemError(e) };
      this.log.error({ path, error }, "file operation failed; stopping");
      this.requestStop("file operation failed");
      return undefined;
    }
  }

  /**
   * A finding the crashes directory did not take is never dropped: it goes to UNSTORED_DIR inside
   * --out (same layout, so `repro` and `corpus add` read it), failing that into the log whole, and
   * failing that (a full disk takes no log line either) onto stderr, its case on one line.
   */
  private keepUnstored(f: FindingFile): Offer {
    try {
      const offer = offerFinding(join(this.opts.out, UNSTORED_DIR), f);
      this.unstored.saved++;
      return offer;
    } catch (e) {
      this.log.error({ signature: f.signature, kind: f.kind, error: fileErrorText(e), case: JSON.parse(f.json) as unknown }, "finding not stored; its case is here");
      if (this.logFile.working) {
        this.unstored.logged++;
      } else {
        this.unstored.printed++;
        this.stderrLine(`xmcfuzz: finding ${f.signature} stored nowhere else; its case: ${JSON.stringify(JSON.parse(f.json))}`);
      }
      return "new";
    }
  }

  /**
   * What a campaign stopped by a failed file operation ends with: a path the system refused is
   * bad input (exit 2), anything else an internal error (exit 3). One line, saying where findings went.
   */
  private fileFailureError(failure: { path: string; error: string; system: boolean }): Error {
    const kept = [
      ...(this.unstored.saved > 0 ? [`${this.unstored.saved} findings it could not take went to ${join(this.opts.out, UNSTORED_DIR)}`] : []),
      ...(this.unstored.logged > 0 ? [`${this.unstored.logged} findings are only in ${this.opts.log} (their cases whole)`] : []),
      ...(this.unstored.printed > 0 ? [`${this.unstored.printed} findings are only on stderr above (their cases whole)`] : []),
    ];
    const text = `${failure.path}: ${failure.system ? "cannot use this path" : "failed"} (${failure.error}); the campaign stopped${kept.map((k) => `; ${k}`).join("")}`;
    return failure.system ? new InputError(text) : new Error(text);
  }

  /**
   * The watchdog: a strategy step that never yields cannot be pre-empted inside its thread, so a
   * worker whose heartbeat stands still is terminated (and restarted), and the run is reported as
   * a harness error of the strategy it was running, never as a divergence.
   */
  private watch(now: number): void {
    const stallMs = this.opts.stallMs ?? 60_000;
    for (const [index, b] of this.beats) {
      const beat = new Int32Array(b.buf);
      const runs = Atomics.load(beat, 2);
      if (runs !== b.last) {
        b.last = runs;
        b.since = now;
        continue;
      }
      const w = this.workers.get(index);
      if (!w || now - b.since < stallMs) continue;
      const strategy = this.opts.strategies[Atomics.load(beat, 0)]?.name ?? "?", model = this.opts.models[Atomics.load(beat, 1)]?.name ?? "?";
      this.tally.harnessError(strategy, model);
      this.log.error({ strategy, model, worker: index, error: `no progress for ${stallMs} ms: a step that never yields` }, "harness error");
      this.human(`harness error: ${strategy} under ${model} made no progress for ${stallMs} ms; worker ${index} replaced`);
      b.since = now;
      this.stalled.add(index);
      void w.terminate();
    }
  }

  /** Runs until the budget is spent or a stop is requested; resolves with the final stats and the run's new signatures per cell. */
  async run(): Promise<CampaignStats & { readonly cells: CellFindings[] }> {
    // What a restart resumes from is logged before the start line, so that a log with a start line
    // (the process may be killed at any moment) also says what it resumed.
    const own = this.resumeCorpus();
    if (own.length > 0 || this.signatures.size > 0) this.log.info({ corpus: own.length, coverageBits: this.coverage.count, signatures: this.signatures.size }, "resumed");
    // The hub by its name only: the object holds its connections, and a Redis URL's password.
    this.log.info({ opts: { ...this.opts, strategies: this.opts.strategies.map((s) => s.name), models: this.opts.models.map((m) => m.name), hub: this.opts.hub?.toString() } }, "campaign start");
    const scope = scopeText(this.opts.scope);
    if (scope) this.human(scope);
    for (let i = 0; i < this.opts.workers; i++) this.spawn(i, own);
    this.hubNode?.start();
    const every = this.opts.statusEveryMs ?? (this.opts.tty ? 500 : 10_000);
    let lastStatus = 0, lastStats = 0, lastPull = Date.now();
    // The first signal stops cleanly (workers drain, ~0.1 s); a second one during that stop quits
    // at once, as users who press Ctrl-C twice mean, but with stats.json and the log written and
    // the claims given back (findings are whole on disk at every moment).
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      if (signals++ === 0) return this.requestStop("signal");
      this.saveStats();
      this.log.warn(this.stats(), "second signal: quit without waiting for the workers");
      this.releaseClaims();
      process.exit(128 + constants.signals[signal]); // as the shell reports a death by that signal
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    while (!this.stopping) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const now = Date.now();
      if (now - this.start >= this.opts.durationMs || this.execs >= this.opts.maxExecs || this.execBudgetSpent()) this.requestStop("budget");
      this.watch(now);
      if (now - lastPull >= 2000) {
        lastPull = now;
        const entries = (this.attempt(this.opts.syncDir, () => this.store.pullCorpus()) ?? []).filter((e) => this.admits(e.json) && this.coverage.merge(e.bits) > 0);
        if (entries.length > 0) for (const w of this.workers.values()) w.postMessage({ type: "adopt", entries } satisfies ToWorker);
        if (this.hubNode) void this.tickHub(now);
      }
      if (now - lastStatus >= every && !this.opts.quiet) {
        lastStatus = now;
        if (this.opts.tty) process.stderr.write(`\r\x1b[2K${statusLine(this.stats())}`);
        else process.stderr.write(`${statusLine(this.stats())}\n`);
      }
      if (now - lastStats >= 5000) {
        lastStats = now;
        this.nodeClaim.refresh();
        this.outClaim?.refresh();
        this.saveStats();
      }
    }
    if (this.hubNode) {
      await this.hubNode.stop(() => this.shardPool.abort());
    }
    const exits = [...this.workers.values()].map((w) => new Promise((resolve) => w.once("exit", resolve)));
    // A worker stuck in a step that never yields cannot see the stop flag: terminate it after a grace period.
    const grace = setTimeout(() => {
      for (const [index, w] of this.workers) {
        this.log.warn({ worker: index }, "worker did not stop; terminated");
        void w.terminate();
      }
    }, Math.min(this.opts.stallMs ?? 60_000, 10_000));
    await Promise.all(exits);
    clearTimeout(grace);
    this.saveStats();
    // Once the workers' last stats are in: the board then shows the node's final exec count.
    // A hub that does not answer holds this for seconds: a second signal meanwhile still quits cleanly.
    await this.hubNode?.leave(this.stats().execs);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    for (const [key, count] of this.harnessCounts) {
      const [strategy, model, error] = key.split("\u0000");
      this.log.error({ strategy, model, error, count }, "harness error summary");
    }
    const final = this.stats(), cells = this.cells();
    this.log.info({ cells }, "new signatures by cell");
    this.log.info(final, "campaign end");
    if (!this.opts.quiet) {
      this.stderrLine(statusLine(final));
      for (const line of findingsByCellLines(cells)) process.stderr.write(`${line}\n`);
    }
    this.releaseClaims();
    if (this.fileFailure) throw this.fileFailureError(this.fileFailure);
    if (this.hubRefusal) throw new InputError(`${this.hubRefusal}; the campaign stopped`);
    if (this.selfCheckBreaches.size > 0) {
      throw new SelfCheckError(`self-check failed: stop_machine had ${this.selfCheckBreaches.size} finding signature(s) (SPEC 6.6: a bug in xmcfuzz, not in a strategy); they are in ${this.opts.crashes}`);
    }
    return { ...final, cells };
  }

  /** Every exec of the --max-execs budget started (the workers' stats of the last ones follow). */
  private execBudgetSpent(): boolean {
    return this.execBudget !== undefined && Atomics.load(this.execBudget, 0) <= 0n;
  }

  /**
   * Whether another node's corpus entry counts here: within this campaign's scope. Its bits, merged,
   * would otherwise mark in-scope entries of the same bits as known, and they would not be shared.
   */
  private admits(json: string): boolean {
    return entryInScope(json, this.opts.scope);
  }

  /** Hub exchange, off the loop's critical path: foreign corpus in, node stats out, idleness. */
  private async tickHub(now: number): Promise<void> {
    const node = this.hubNode!;
    const s = this.stats();
    node.post(s.execs, s.execsPerSec);
    const entries = (await node.pull()).filter((e) => this.admits(e.json) && this.coverage.merge(e.bits) > 0);
    if (entries.length > 0) for (const w of this.workers.values()) w.postMessage({ type: "adopt", entries: entries.map((e) => ({ json: e.json, bits: [...e.bits] })) } satisfies ToWorker);
    if (this.opts.untilIdle && now - this.start > 3000 && (await node.idle().catch(() => false))) this.requestStop("hub idle");
  }

  requestStop(why: string): void {
    if (this.stopping) return;
    this.stopping = true;
    Atomics.store(new Int32Array(this.stopFlag), 0, 1);
    this.log.info({ why }, "stopping");
  }
}
