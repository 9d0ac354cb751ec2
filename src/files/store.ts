import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { createHash } from "node:crypto";
import { hostname } from "node:os";
import { join } from "node:path";
import { CAUSES, EFFECTS, PHASE_KINDS, RULE_NAMES, type Case, type FindingFile } from "../types.js";
import { caseToJson } from "../case/save.js";
import { parseCaseShape } from "../case/load.js";
import { signatureSlug } from "../oracle/classify.js";
import { isCoverageBits } from "../fuzz/coverage.js";
import { ensureDir, writeFileAtomic, writeNewFile } from "./atomic.js";
import { InputError } from "../errors.js";

// Where a campaign keeps what it found: corpus entries and findings, behind one small interface.
// The first implementation is an AFL-style sync directory: each node writes only its own
// subdirectory (write, then rename) and reads the others'; a signature's reproducer is swapped
// under a lock file, so several processes (or machines sharing a filesystem) cooperate serverless.

export type Offer = "new" | "smaller" | "known";

/** How a finding names itself in its files (a reproducer's description, a hub directory's name line). */
export function findingName(f: Pick<FindingFile, "kind" | "signature">): string {
  return `${f.kind} ${f.signature}`;
}

/** A finding's name read back; undefined for any other text. */
export function parseFindingName(text: string): Pick<FindingFile, "kind" | "signature"> | undefined {
  const m = /^(divergence|rule) (.*)$/.exec(text);
  return m ? { kind: m[1] as FindingFile["kind"], signature: m[2]! } : undefined;
}

/**
 * Whether a finding's signature has a signature's shape: strategy model cause effect slot-kind
 * phase, or `rule` strategy model rule slot-kind phase (a slot kind may hold spaces).
 */
function signatureShaped(f: Pick<FindingFile, "kind" | "signature">): boolean {
  const words = f.signature.split(" ");
  const phase = /^([a-z]+)\/\d+$/.exec(words.at(-1) ?? "")?.[1];
  if (words.length < 6 || !(PHASE_KINDS as readonly string[]).includes(phase ?? "")) return false;
  return f.kind === "rule"
    ? words[0] === "rule" && (RULE_NAMES as readonly string[]).includes(words[3]!)
    : (CAUSES as readonly string[]).includes(words[2]!) && (EFFECTS as readonly string[]).includes(words[3]!);
}

/**
 * The signature a crash file's case is described by (findingFile writes it), if any: not a
 * hand-written description that happens to begin with "rule " or "divergence ".
 */
export function describedFinding(kase: Pick<Case, "description">): string | undefined {
  const f = parseFindingName(kase.description ?? "");
  return f && signatureShaped(f) ? f.signature : undefined;
}

/** The finding a reproducer's text names in its description (findingFile writes it), if any; throws on bad JSON. */
export function findingNameOfJson(json: string): Pick<FindingFile, "kind" | "signature"> | undefined {
  const description = (JSON.parse(json) as { description?: unknown }).description;
  return typeof description === "string" ? parseFindingName(description) : undefined;
}

/** A finding's files: its case as canonical JSON (described by its name), its size, its report. */
export function findingFile(signature: string, kind: FindingFile["kind"], kase: Case, report: string): FindingFile {
  const json = JSON.stringify(caseToJson({ ...kase, description: findingName({ kind, signature }) }), null, 2) + "\n";
  return { signature, kind, json, size: reproducerSize(kase), report };
}

/** A corpus entry as stored and shipped: the file text (`{case, bits}`) and its coverage bits. */
export interface CorpusText {
  readonly json: string;
  readonly bits: number[];
}

export function corpusText(kase: Case, bits: number[]): CorpusText {
  return { json: JSON.stringify({ case: caseToJson(kase), bits }), bits };
}

export interface CampaignStore {
  /** Publishes a corpus entry (a case that set new coverage bits). */
  publishCorpus(entry: CorpusText): void;
  /** Corpus entries published by other nodes since the last pull (validated when used). */
  pullCorpus(): CorpusText[];
  /** Keeps the smallest reproducer per signature; says whether this one was new or smaller. */
  offerFinding(f: FindingFile): Offer;
  /** Signatures already stored (a restarted campaign resumes from them). */
  signatures(): Set<string>;
  /** This node's own corpus entries (a restarted campaign resumes from them). */
  ownCorpus(): CorpusText[];
}

/** A 64-bit content name (the head of a SHA-1: native, several times faster than FNV in JS on 20 KB cases). */
export function hashText(text: string): string {
  return createHash("sha1").update(text).digest("hex").slice(0, 16);
}

/** A signature's reproducer file, `s<size>-<hash>.json`: its name carries its size (group 1). */
export const REPRODUCER_FILE = /^s(\d+)-[0-9a-f]+\.json$/;

/**
 * A signature directory's reproducer `file` (a REPRODUCER_FILE name) as a finding's files: its
 * case text, size and report (empty if it has none), named by `name` or else by the description
 * the case carries; undefined when neither names it. Throws on a file it cannot read.
 */
export function readReproducer(dir: string, file: string, name?: Pick<FindingFile, "kind" | "signature">): FindingFile | undefined {
  const json = readFileSync(join(dir, file), "utf8");
  const named = name ?? findingNameOfJson(json);
  if (!named) return undefined;
  const report = join(dir, file.replace(/\.json$/, ".txt"));
  return { ...named, json, size: Number(REPRODUCER_FILE.exec(file)![1]), report: existsSync(report) ? readFileSync(report, "utf8") : "" };
}

/** Size order of reproducers: fewer decisions, then fewer code bytes, cores and ops. */
export function reproducerSize(k: Case): number {
  const decisions = k.runs[0]?.decisions?.length ?? 0;
  return decisions * 64 + k.program.code.length * 4 + k.cores * 16 + k.ops.length * 8 + k.program.slots.length;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

const HOST = hostname();

/** This process as a lock or claim owner: `host pid`. */
export function ownerTag(): string {
  return `${HOST} ${process.pid}`;
}

/** Whether a lock's owner (`host pid`) is a process of this host (alive or not). */
export function ownerIsLocal(owner: string): boolean {
  return /^(.*) (\d+)$/.exec(owner)?.[1] === HOST;
}

/** Whether a lock's owner (`host pid`) is a process of this host that no longer exists. */
export function ownerIsDead(owner: string): boolean {
  if (!ownerIsLocal(owner)) return false;
  try {
    process.kill(Number(owner.slice(owner.lastIndexOf(" ") + 1)), 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/** Creates `path` (O_EXCL) holding this process's owner tag; false if it exists already. */
export function createOwnerFile(path: string): boolean {
  try {
    const fd = openSync(path, "wx");
    writeSync(fd, ownerTag());
    closeSync(fd);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    return false;
  }
}

/**
 * A lock file created with O_EXCL, holding `host pid`. A lock whose owner on this host is dead
 * (a campaign killed under it) is taken over at once; one older than `staleMs` belonged to a dead
 * process elsewhere.
 */
export function withLock<T>(path: string, f: () => T, staleMs = 30_000): T {
  for (let attempt = 0; !createOwnerFile(path); attempt++) {
    try {
      if (Date.now() - statSync(path).mtimeMs > staleMs || ownerIsDead(readFileSync(path, "utf8"))) rmSync(path, { force: true });
    } catch {
      // It vanished between the two calls: try again.
    }
    if (attempt > 20_000) throw new Error(`cannot take lock ${path}`);
    Atomics.wait(sleeper, 0, 0, 2);
  }
  try {
    return f();
  } finally {
    rmSync(path, { force: true });
  }
}

export function readCorpusFile(path: string): CorpusText | undefined {
  try {
    const json = readFileSync(path, "utf8");
    const bits = (JSON.parse(json) as { bits: unknown }).bits;
    return isCoverageBits(bits) ? { json, bits } : undefined;
  } catch {
    return undefined; // A half-synced or foreign file: skip it, never die on it.
  }
}

/** Where a new signature's directory is built before it is renamed into place. */
const BUILDING = ".tmp-";

/**
 * A signature seen for the first time (the common case early in a campaign): its directory is
 * built aside, report first, then the case (fsynced), and renamed into place whole, so it needs
 * no lock and half the file operations of a swap. Says false when another process made the
 * directory first (rename fails on a directory that is not empty): the caller then swaps under the lock.
 */
function publishNewSignature(crashes: string, dir: string, base: string, json: string, report: string): boolean {
  const tmp = join(crashes, `${BUILDING}${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
  try {
    mkdirSync(tmp);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    ensureDir(crashes);
    mkdirSync(tmp);
  }
  try {
    writeNewFile(join(tmp, `${base}.txt`), report, false);
    writeNewFile(join(tmp, `${base}.json`), json, true);
    renameSync(tmp, dir);
    return true;
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOTEMPTY" || code === "EEXIST") return false;
    throw e;
  }
}

/** Keeps the smallest reproducer per signature under `crashes/<slug>/`; says whether this one was new or smaller. */
export function offerFinding(crashes: string, f: FindingFile): Offer {
  const dir = join(crashes, signatureSlug(f.signature));
  const { size, json } = f;
  if (!existsSync(dir)) {
    if (publishNewSignature(crashes, dir, `s${size}-${hashText(json)}`, json, f.report)) return "new";
  }
  ensureDir(dir);
  return withLock(join(dir, ".lock"), () => {
    // File names carry the reproducer's size (`s<size>-<hash>.json`): no parsing under the lock.
    const names = readdirSync(dir);
    // Writes here happen under the lock: a temporary file is an orphan of a process killed mid-write.
    for (const n of names) if (n.includes(".tmp-")) rmSync(join(dir, n), { force: true });
    const existing = names.filter((n) => REPRODUCER_FILE.test(n));
    const best = smallestReadable(dir, existing, readsAsFinding);
    if (size >= best) return "known";
    const base = `s${size}-${hashText(json)}`;
    // Report first, then the case: a case file that exists always has its report (after a power
    // cut it may not: only the case is synced to disk, and `repro` writes its report again).
    writeFileAtomic(join(dir, `${base}.txt`), f.report, false);
    writeFileAtomic(join(dir, `${base}.json`), json);
    removeSuperseded(dir, existing, base);
    return best === Infinity ? "new" : "smaller";
  });
}

/** Removes a signature's reproducers (and their reports) other than the one just written as `base`. */
export function removeSuperseded(dir: string, reproducers: readonly string[], base: string): void {
  for (const n of reproducers) {
    if (n === `${base}.json`) continue; // a damaged copy of this very find, just rewritten
    rmSync(join(dir, n), { force: true });
    rmSync(join(dir, n.replace(/\.json$/, ".txt")), { force: true });
  }
}

/**
 * The size of the smallest of a signature's reproducers (REPRODUCER_FILE names, which carry it)
 * whose text `reads` (it may throw); Infinity if none does. Sizes come from the names, and only
 * the files that would make a new find "known" are read: a damaged one is replaced by the find.
 */
export function smallestReadable(dir: string, files: readonly string[], reads: (text: string) => boolean): number {
  const bySize = files.map((n) => ({ n, size: Number(REPRODUCER_FILE.exec(n)![1]) })).sort((x, y) => x.size - y.size);
  for (const { n, size } of bySize) {
    try {
      if (reads(readFileSync(join(dir, n), "utf8"))) return size;
    } catch {
      // Unreadable: as if absent.
    }
  }
  return Infinity;
}

/** A crash file that names its finding and holds a case (not one cut off, or edited into none). */
function readsAsFinding(text: string): boolean {
  if (!findingNameOfJson(text)) return false;
  parseCaseShape(JSON.parse(text));
  return true;
}

/** Signature directories under `crashes` (not those still being built, nor stray files). */
export function signatureDirs(crashes: string): string[] {
  if (!existsSync(crashes)) return [];
  return readdirSync(crashes, { withFileTypes: true }).filter((d) => d.isDirectory() && !d.name.startsWith(".")).map((d) => join(crashes, d.name));
}

/**
 * Removes directories a killed process left half-built. Another live process may be building
 * one this instant, for a few milliseconds: only those untouched for a minute are orphans.
 */
function removeOrphanBuilds(crashes: string): void {
  for (const d of readdirSync(crashes)) {
    if (!d.startsWith(BUILDING)) continue;
    try {
      if (Date.now() - statSync(join(crashes, d)).mtimeMs > 60_000) rmSync(join(crashes, d), { recursive: true, force: true });
    } catch {
      // Renamed or removed meanwhile.
    }
  }
}

/**
 * A node's name is a directory name in the sync directory and the hub (`<root>/<node>/corpus/`):
 * one path segment of safe characters, so `..` or `a/b` cannot write outside its own directory.
 */
export function checkNodeName(node: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(node)) {
    throw new InputError(`--node: expected a name of letters, digits, '.', '_' and '-' (not starting with '.' or '-', at most 128), got ${JSON.stringify(node)}`);
  }
  if (RESERVED_NODE_NAMES.has(node)) throw new InputError(`--node: "${node}" names a directory hub's own entry (${[...RESERVED_NODE_NAMES].join(", ")}); choose another`);
}

/** What a directory hub or sync directory keeps beside the nodes' directories. */
const RESERVED_NODE_NAMES: ReadonlySet<string> = new Set(["board", "crashes", "shards", "coverage.bin"]);

export class SyncDirStore implements CampaignStore {
  private readonly seen = new Set<string>();
  private readonly ownDir: string;

  /**
   * `root`: the sync directory (`<root>/<node>/corpus/` per node); `crashes`: where findings go
   * (`<crashes>/<signature slug>/<hash>.json` and `.txt`).
   */
  constructor(private readonly root: string, private readonly node: string, private readonly crashes: string) {
    checkNodeName(node);
    this.ownDir = join(root, node, "corpus");
    ensureDir(this.ownDir);
    ensureDir(crashes);
    removeOrphanBuilds(crashes);
    // Temporary files of a campaign killed mid-write: only this node writes its corpus directory.
    for (const n of readdirSync(this.ownDir)) if (n.includes(".tmp-")) rmSync(join(this.ownDir, n), { force: true });
  }

  publishCorpus(entry: CorpusText): void {
    const name = `${hashText(entry.json)}.json`;
    this.seen.add(join(this.ownDir, name));
    // Corpus entries are cheap to lose and frequent early on: no fsync (findings always get one).
    writeFileAtomic(join(this.ownDir, name), entry.json, false);
  }

  pullCorpus(): CorpusText[] {
    const out: CorpusText[] = [];
    if (!existsSync(this.root)) return out;
    for (const node of readdirSync(this.root)) {
      if (node === this.node) continue;
      const dir = join(this.root, node, "corpus");
      if (!existsSync(dir)) continue;
      for (const f of readdirSync(dir)) {
        if (!f.endsWith(".json")) continue;
        const path = join(dir, f);
        if (this.seen.has(path)) continue;
        this.seen.add(path);
        const entry = readCorpusFile(path);
        if (entry) out.push(entry);
      }
    }
    return out;
  }

  ownCorpus(): CorpusText[] {
    return readdirSync(this.ownDir).filter((f) => f.endsWith(".json")).flatMap((f) => {
      this.seen.add(join(this.ownDir, f));
      const e = readCorpusFile(join(this.ownDir, f));
      return e ? [e] : [];
    });
  }

  offerFinding(f: FindingFile): Offer {
    return offerFinding(this.crashes, f);
  }

  signatures(): Set<string> {
    const out = new Set<string>();
    for (const dir of signatureDirs(this.crashes)) {
      for (const n of readdirSync(dir).filter((x) => REPRODUCER_FILE.test(x))) {
        try {
          const name = findingNameOfJson(readFileSync(join(dir, n), "utf8"));
          if (name) out.add(name.signature);
        } catch {
          // Skip unreadable files.
        }
      }
    }
    return out;
  }
}
