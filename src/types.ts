// The domain types of xmcfuzz, in one place (SPEC v2, sections 1-8).
// Data flows one way: Case -> run (RunResult) -> Observation -> Verdict -> report.

// ---------------------------------------------------------------- ISA (SPEC 2)

/** Opcode of a decoded instruction. `ud` is anything outside the subset (#UD). */
export type Op =
  | "nop" | "nop2" | "nopN"
  | "jmp8" | "jmp32" | "call" | "ret"
  | "je8" | "jne8" | "je32" | "jne32"
  | "movr8" | "movr32" | "inc" | "dec" | "add" | "cmp"
  | "load" | "storeMem" | "out"
  | "int3" | "cpuid" | "serialize" | "mfence" | "pause"
  | "cli" | "sti" | "ud2" | "hlt" | "ud";

/** A decoded instruction. `rel` is the signed branch displacement, `imm` an immediate or address. */
export interface Instr {
  readonly op: Op;
  /** Architectural length in bytes (for `ud`: the bytes inspected before deciding). */
  readonly len: number;
  readonly reg: number;
  readonly imm: number;
  readonly rel: number;
}

/** Result of decoding a possibly short byte window. */
export type DecodeResult = Instr | { readonly incomplete: true; readonly need: number };

// ---------------------------------------------------------------- memory layout

/** Private data region of every program core (`mov eax,[abs]` / `mov [abs],eax`). */
export const DATA_BASE = 0x100000;
export const DATA_SIZE = 0x100;
/** Private stack of every program core; esp starts at STACK_TOP. */
export const STACK_TOP = 0x200000;
export const STACK_SIZE = 0x100;
export const MAX_CODE_SIZE = 0x10000;
export const MIN_CORES = 2;
export const MAX_CORES = 8;
/** The largest core count the fuzzer generates unless asked otherwise (the patcher's core included). */
export const DEFAULT_MAX_CORES = 5;

/**
 * What the fuzzer's generated cases may hold: a campaign drawn within it tests a strategy on the
 * patches it claims to handle (an int3 protocol on single-instruction sites, say). Unset: all.
 */
export interface CaseScope {
  readonly minCores?: number;
  readonly maxCores?: number;
  readonly maxOps?: number;
  /** The patch kinds slots are drawn from (GENERATED_KINDS; `rewrite` is every random same-length rewrite). */
  readonly slotKinds?: readonly string[];
  /** False: no atomic batches, every op patches its slots per site. */
  readonly atomicBatches?: boolean;
}

/** SPEC 6.4: a solo run longer than this is a non-terminating case (loader rejects it). */
export const SOLO_LIMIT = 1_000_000;

// ---------------------------------------------------------------- cases (SPEC 3.2, 10)

export type Version = "old" | "new";

export interface Slot {
  readonly name: string;
  readonly start: number;
  readonly len: number;
  readonly old: Uint8Array;
  readonly new: Uint8Array;
  /** e.g. `nop5->jmp32`; used in signatures. */
  readonly kind: string;
  /** Where the 2013 text_poke_bp handler resumes (default start+len). */
  readonly bpResume: number;
}

export interface Program {
  readonly base: number;
  readonly code: Uint8Array;
  /** Entry point of program cores 1..N-1 (index 0 is core 1). */
  readonly entries: readonly number[];
  readonly slots: readonly Slot[];
}

export interface OpTarget { readonly slot: number; readonly to: Version }

export interface PatchOp {
  readonly targets: readonly OpTarget[];
  readonly batch: "per-site" | "atomic";
  readonly monotonic: boolean;
}

/** What a recorded run expects (filled from what the harness produced, never by hand). */
export interface Expectation {
  readonly verdict: VerdictKind;
  readonly signature?: string;
  readonly rules: readonly string[];
}

/** One recorded (strategy, model, schedule) of a case. */
export interface RecordedRun {
  readonly strategy: string;
  readonly model: string;
  readonly seed: number;
  readonly decisions?: readonly Decision[];
  readonly expect?: Expectation;
}

export interface Case {
  readonly name: string;
  readonly description?: string;
  /** Total cores including the patcher (core 0). */
  readonly cores: number;
  readonly program: Program;
  readonly ops: readonly PatchOp[];
  readonly runs: readonly RecordedRun[];
}

// ---------------------------------------------------------------- models (SPEC 4)

export interface Model {
  readonly name: string;
  readonly fetchBlock: 0 | 1 | 16 | 64;
  readonly prefetchDepth: number;
  readonly crossModifySnoop: "immediate" | "eventual" | "none";
  readonly snoopBound: number;
  readonly snoopOrder: "store" | "any";
  readonly branchRefetch: boolean;
  readonly decodedCache: boolean;
  readonly icache: "coherent" | "noncoherent";
  readonly storeAtomicity: "byte" | "aligned8";
  readonly trapSerializes: boolean;
  readonly mfenceSerializesFetch: boolean;
  readonly reading?: string;
}

// ---------------------------------------------------------------- schedules (SPEC 8)

/** One recorded choice: index chosen among `options` (only choices with options > 1 are recorded). */
export type Decision = readonly [chosen: number, options: number];

export interface Chooser {
  /** Picks an index in [0, options). Called only with options > 1. */
  choose(options: number, what: string): number;
  /**
   * Picks which of the `n` enabled events runs next, knowing each one's actor in `actors[0..n)` (0 the
   * patcher, 1.. program cores, N the memory system), for priority-based policies. Defaults to `choose`.
   */
  chooseEvent?(actors: readonly number[], n: number): number;
}

// ---------------------------------------------------------------- strategies (SPEC 5)

export interface Range { readonly lo: number; readonly hi: number }

/** A slot as handed to a strategy: where it is, what it holds now and what it must hold. */
export interface SlotPatch {
  readonly index: number;
  readonly start: number;
  readonly len: number;
  readonly from: Uint8Array;
  readonly to: Uint8Array;
  readonly bpResume: number;
  readonly kind: string;
}

/** One scheduler event of strategy code. Yielded by the ctx helpers; strategies never build them. */
export type Step =
  | { readonly k: "store"; readonly addr: number; readonly bytes: Uint8Array }
  | { readonly k: "load"; readonly key: string }
  | { readonly k: "dstore"; readonly key: string; readonly value: unknown }
  | { readonly k: "add"; readonly key: string; readonly delta: number }
  | { readonly k: "cas"; readonly key: string; readonly expect: unknown; readonly value: unknown }
  | { readonly k: "serialize" }
  | { readonly k: "ipi"; readonly fn?: IpiFn; readonly serialize: boolean }
  | { readonly k: "waitAcks" }
  | { readonly k: "stop"; readonly outsideSlots: boolean }
  | { readonly k: "awaitParked" }
  | { readonly k: "release" }
  | { readonly k: "waitOutside"; readonly range: Range }
  | { readonly k: "clean"; readonly range: Range }
  | { readonly k: "inval"; readonly range: Range }
  | { readonly k: "barrier" }
  | { readonly k: "await"; readonly pred: () => boolean }
  | { readonly k: "nop" };

/** A generator of steps; `R` is what it returns to a `yield*`. */
export type Steps<R = void> = Generator<Step, R, unknown>;

/** How a trap handler ends (SPEC 5.3). */
export type Resolution =
  | { readonly kind: "resume"; readonly pc: number; readonly serialize: boolean }
  | { readonly kind: "emulate"; readonly bytes: Uint8Array }
  | { readonly kind: "notMine" };

/** Steps available to patcher, IPI functions and trap handlers alike. */
export interface CommonCtx {
  /** Total cores including the patcher; program cores are 1..cores-1. */
  readonly cores: number;
  ended(core: number): boolean;
  /** Reads strategy data without a step (for `await` predicates). */
  peek(key: string): unknown;
  load(key: string): Steps<unknown>;
  store(key: string, value: unknown): Steps;
  atomicAdd(key: string, delta: number): Steps<number>;
  cmpxchg(key: string, expect: unknown, value: unknown): Steps<unknown>;
  serializeSelf(): Steps;
  await(pred: () => boolean): Steps;
  cleanData(range: Range): Steps;
  invalidateIcache(range: Range): Steps;
  barrier(): Steps;
}

export interface PatcherCtx extends CommonCtx {
  write(addr: number, bytes: Uint8Array): Steps;
  ipiAll(fn?: IpiFn, opts?: { serialize?: boolean }): Steps;
  waitAcks(): Steps;
  stopMachine(body: (ctx: PatcherCtx) => Steps, opts?: { outsideSlots?: boolean }): Steps;
  waitOutside(range: Range): Steps;
}

export interface HandlerCtx extends CommonCtx {
  /** The program core this handler runs on. */
  readonly core: number;
  resume(pc: number, opts?: { serialize?: boolean }): Resolution;
  emulate(bytes: Uint8Array): Resolution;
  notMine(): Resolution;
}

export type IpiFn = (ctx: HandlerCtx) => Steps;

export interface Strategy {
  readonly name: string;
  /** One paragraph: what it does and where it comes from (commit, manual section, thread). */
  readonly description: string;
  patch(ctx: PatcherCtx, slots: readonly SlotPatch[]): Steps;
  /** SPEC 5.3: runs on the trapping core (`core`, also ctx.core) with IF=0 for a trap at `addr`. */
  onInt3?(ctx: HandlerCtx, core: number, addr: number): Generator<Step, Resolution, unknown>;
}

// ---------------------------------------------------------------- observations (SPEC 1, 6)

export type ObsEvent =
  | { readonly kind: "out"; readonly port: number; readonly value: number }
  | { readonly kind: "probe"; readonly addr: number };

export type EndState =
  | { readonly kind: "halt" }
  | { readonly kind: "fault"; readonly fault: "#UD" | "#PF" | "int3"; readonly addr: number }
  | { readonly kind: "unfinished" };

/** What one program core showed: the thing the oracle judges. */
export interface CoreObservation {
  readonly core: number;
  readonly events: readonly ObsEvent[];
  /** Global event time of each entry of `events` (real runs only). */
  readonly times: readonly number[];
  readonly end: EndState;
  readonly endTime: number;
  /** eax..edi then ZF. */
  readonly regs: readonly number[];
  /** Digest of private data and live stack. */
  readonly digest: string;
  readonly instructions: number;
}

/** Provenance class of a fetched code byte (SPEC 6.5). */
export type ByteOrigin = "invariant" | "old" | "new" | "int3" | "intermediate";

export interface FetchedInstr {
  readonly addr: number;
  readonly bytes: readonly number[];
  readonly origin: readonly ByteOrigin[];
  /** Global event time at which each byte was fetched. */
  readonly fetchedAt: readonly number[];
  /** Patcher steps taken when each byte was fetched. */
  readonly patcherStepAt: readonly number[];
}

/** One pass of a core through a slot (SPEC 6.1), with its provenance. */
export interface Passage {
  readonly core: number;
  readonly slot: number;
  /** Op the bytes are judged against (latest begun op listing the slot), -1 if none lists it. */
  readonly op: number;
  readonly begin: number;
  end: number;
  readonly fetched: FetchedInstr[];
  /** An instruction that is neither version's at its offset (SPEC 6.1 "widens"). */
  widened: boolean;
  /**
   * It ended with the core at its slot's end, as every version's fall-through does (a torn
   * passage that did so stands for one passage of the reference's); not when it jumped elsewhere
   * or its core ended in it. Set when it ends.
   */
  fellThrough?: boolean;
  /** How a trap in this passage was resolved, if it trapped. */
  resolution?: "resume" | "emulate" | "notMine";
  /** The handler's resolution matched neither the from nor the to instruction. */
  badEmulation: boolean;
  /** Whose effect the handler's resolution had: the op's from (old) or to (new) instruction. */
  resolvedAs?: "old" | "new";
  /** Index in `fetched` of the trap that resolution resolved (its `CC` says nothing of the version). */
  resolvedAt?: number;
}

export type PhaseKind = "before" | "write" | "sync" | "maintenance" | "data" | "after";
export const PHASE_KINDS: readonly PhaseKind[] = ["before", "write", "sync", "maintenance", "data", "after"];

export interface PatcherPhase { readonly kind: PhaseKind; readonly syncs: number }

/** Timeline entry kept for reports (only when tracing is on). */
export interface TraceEvent {
  readonly t: number;
  /** 0 = patcher, 1.. = program cores, -1 = memory system. */
  readonly core: number;
  readonly kind: string;
  readonly text: string;
}

/** A code byte modification, for rules and provenance. */
export interface Modification {
  readonly t: number;
  readonly addr: number;
  readonly value: number;
  readonly before: number;
  /** Index of the store event (one store may modify several bytes). */
  readonly store: number;
}

export const RULE_NAMES = ["unsynchronized-xmc", "cmodx-violation"] as const;
export type RuleName = (typeof RULE_NAMES)[number];

export interface RuleFinding {
  readonly rule: RuleName;
  readonly core: number;
  readonly addr: number;
  readonly t: number;
  readonly bytes: readonly number[];
  readonly phase: PatcherPhase;
  readonly slotKind: string;
}

export interface OpTiming {
  readonly begin: number;
  /** Infinity if the op never returned. */
  readonly returned: number;
}

/** Everything a real run produced; the oracle reads only this and the case. */
export interface RunResult {
  readonly strategy: string;
  readonly model: string;
  readonly observations: readonly CoreObservation[];
  readonly passages: readonly Passage[];
  readonly ops: readonly OpTiming[];
  /** Time-ordered patcher phases: phase in force from `t` on. */
  readonly phases: readonly { readonly t: number; readonly phase: PatcherPhase }[];
  /**
   * The scheduler event kinds that ran in each kind of patcher phase (for coverage, SPEC 9): per
   * PHASE_KINDS index, a bitmask by event kind (the machine's numbering, below 8).
   */
  readonly eventKinds: readonly number[];
  readonly rules: readonly RuleFinding[];
  readonly wrongFinalCode?: { readonly t: number; readonly addr: number; readonly expected: number; readonly actual: number };
  /** Set when the run did not finish (SPEC 6.4). */
  readonly hung?: {
    readonly deadlock: boolean;
    /** Program cores that had not ended. */
    readonly stuckCores: readonly number[];
    /** Of those, the ones parked, in a handler, or with no enabled event at the end. */
    readonly blockedCores: readonly number[];
    /** Of those, the ones only the patcher can free: parked by stopMachine, or in an IPI function. */
    readonly waitingOnPatcher: readonly number[];
    readonly patcherStuck: boolean;
  };
  readonly harnessError?: string;
  /** How many scheduler decisions the run made (the list is recorded by its chooser). */
  readonly decisionCount: number;
  readonly events: number;
  readonly trace: readonly TraceEvent[];
  readonly finalCode: Uint8Array;
  readonly soloBudget: number;
}

// ---------------------------------------------------------------- verdicts (SPEC 6-7)

export const CAUSES = ["spurious-int3", "torn-fetch", "bad-emulation", "non-monotonic", "stale-after-completion", "unexplained"] as const;
export type Cause = (typeof CAUSES)[number];

export const EFFECTS = ["invalid-opcode", "wild-jump", "hang", "wrong-final-code", "wrong-output"] as const;
export type Effect = (typeof EFFECTS)[number];

export type VerdictKind = "clean" | "diverges" | "harness-error";

export interface Divergence {
  /** Program core, or 0 for the patcher (hang, wrong final code). */
  readonly core: number;
  readonly cause: Cause;
  readonly effect: Effect;
  readonly slotKind: string;
  readonly phase: PatcherPhase;
  readonly t: number;
  /** Index in the core's events of the first unmatched event (events.length: the end state). */
  readonly point: number;
  /**
   * How the core's switch windows were aligned (SPEC 6.1): exact, widened by one step per torn
   * passage, or opened after a torn passage that left its slot by a jump (see oracle/windows.ts).
   */
  readonly alignment: "exact" | "widened" | "opened";
  /** The passage that explains the cause, if any. */
  readonly passage?: Passage;
  /** The closest reference observation (for the report). */
  readonly expected?: CoreObservation;
  readonly detail: string;
}

export interface Verdict {
  readonly kind: VerdictKind;
  readonly strategy: string;
  readonly model: string;
  /** All divergences, earliest first; the first one names the run's signature. */
  readonly divergences: readonly Divergence[];
  readonly signature?: string;
  readonly rules: readonly RuleFinding[];
  readonly harnessError?: string;
}

// ---------------------------------------------------------------- the safety matrix (shards, cells)

/**
 * A slice of one matrix cell's work: one engine fuzzing one (strategy, model) from one seed until
 * either budget runs out. Shards are the unit that worker threads (and the hub's queue) serve; the
 * same shard always yields the same result when it is bounded by `maxExecs` alone.
 */
export interface Shard {
  /** Built-in name, or a plugin file path. */
  readonly strategy: string;
  /** Named model, or a model file path. */
  readonly model: string;
  readonly seed: number;
  readonly maxExecs: number;
  readonly maxMs: number;
  /**
   * What its generated cases may hold: the scope of the matrix or `hub enqueue` that planned it.
   * Absent (shards planned before shards carried one), the serving node's own scope applies.
   */
  readonly scope?: CaseScope;
  /** The schedule policy of the matrix that planned it; absent (older shards), the serving node's. */
  readonly scheduler?: "random" | "pct";
}

/** What one shard found. Cells are folded from these, in any order (see matrix/fold.ts). */
export interface ShardResult {
  readonly shard: Shard;
  readonly execs: number;
  readonly ms: number;
  /** Execs and ms into the shard when its first divergence was found. */
  readonly firstDivergence?: { readonly execs: number; readonly ms: number };
  /** Divergence signatures found (SPEC 7.3), sorted. */
  readonly signatures: readonly string[];
  /** Rule-finding signatures found, sorted. */
  readonly rules: readonly string[];
  readonly harnessErrors: number;
  /** The first harness error's words (a run's, or why the shard ended early). */
  readonly firstHarnessError?: string;
}

/** One (strategy, model) cell of the safety matrix: its shards folded together. */
export interface MatrixCell {
  readonly strategy: string;
  readonly model: string;
  readonly shards: number;
  readonly execs: number;
  readonly ms: number;
  /** The earliest first divergence of any shard (by execs, then ms). */
  readonly firstDivergence?: { readonly execs: number; readonly ms: number };
  readonly signatures: readonly string[];
  readonly causes: readonly Cause[];
  readonly effects: readonly Effect[];
  readonly rules: readonly string[];
  readonly harnessErrors: number;
  /** The first harness error's words, of the first shard with one. */
  readonly firstHarnessError?: string;
  /** For cells with no divergence: the exhaustive-verify bound reached on the corpus cases. */
  readonly verified?: {
    readonly bound: number; readonly cases: number; readonly schedules: number; readonly complete: boolean;
    /** A divergent schedule the exhaustive search found (in a corpus case) where fuzzing found none. */
    readonly divergent?: { readonly case: string; readonly bound: number; readonly signature: string };
    /** Rules broken in the schedules it ran (SPEC 7.3: shown apart from divergences), sorted. */
    readonly rules?: readonly RuleName[];
  };
}

/** A campaign's new signatures in one (strategy, model) cell (the end of `fuzz`, stats.json `cells`). */
export interface CellFindings {
  readonly strategy: string;
  readonly model: string;
  readonly divergences: number;
  /** Divergence signatures per cause, most first. */
  readonly causes: readonly (readonly [string, number])[];
  readonly ruleFindings: number;
  /** Rule-finding signatures per rule, most first. */
  readonly rules: readonly (readonly [string, number])[];
  /** Runs that ended in a harness error: the cell's verdicts are not to be trusted. */
  readonly harnessErrors: number;
}

// ---------------------------------------------------------------- regression corpus (issue 9)

/** How a replayed recorded run differs from the expectation stored in its case. */
export type RegressChangeKind =
  | "new-divergence" | "vanished-divergence" | "changed-signature" | "changed-verdict"
  | "changed-rules" | "drift" | "no-expectation" | "vanished-finding";

/** One recorded run of a corpus case, replayed strictly and compared with its expectation. */
export interface RegressCheck {
  readonly file: string;
  /** Index in the case's `runs`. */
  readonly index: number;
  readonly strategy: string;
  readonly model: string;
  readonly expected?: Expectation;
  /** What the replay produced (absent on drift). */
  readonly actual?: Expectation;
  readonly harnessError?: string;
  /** The drift message when the recorded decisions no longer fit the run. */
  readonly drift?: string;
  /** The finding the case is named after, when it is none of its runs' expected first divergence (see vanished-finding). */
  readonly finding?: string;
  readonly changes: readonly RegressChangeKind[];
}

// ---------------------------------------------------------------- the hub (campaigns on many machines)

/** A registry's answer to a finding: the first of its signature, a smaller reproducer, or neither. */
export type HubOffer = "new" | "smaller" | "known";

/** A corpus entry as it travels between nodes: the file text (`{case, bits}`) and its coverage bits. */
export interface HubCorpusEntry {
  readonly json: string;
  readonly bits: readonly number[];
}

/**
 * A finding as its files hold it (a sync directory's, a hub registry's: the smallest reproducer
 * per signature, with its report). Worker threads make it where they found the finding: one
 * string clones far faster to the main thread than a case.
 */
export interface FindingFile {
  readonly signature: string;
  readonly kind: "divergence" | "rule";
  /** The reproducer's case file text (canonical JSON). */
  readonly json: string;
  /** Its size in `reproducerSize` order (smaller is better). */
  readonly size: number;
  /** The readable `repro` report. */
  readonly report: string;
}

/** What a node posts on the board every few seconds. */
export interface HubNodeStats {
  readonly node: string;
  readonly execs: number;
  readonly execsPerSec: number;
  /** Wall-clock ms of the post (a node silent for 15 s is no longer alive). */
  readonly at: number;
  /** The node's last post: it stopped at `at` (gone at once, not 15 s later). */
  readonly left?: boolean;
}

export interface HubStatus {
  readonly nodes: readonly (HubNodeStats & { readonly alive: boolean })[];
  readonly execsPerSec: number;
  readonly corpus: number;
  readonly signatures: number;
  readonly shards: { readonly pending: number; readonly running: number; readonly done: number };
}

/** Serves shards until closed; `run` executes one shard (in a worker thread, off the event loop). */
export interface HubShardServer {
  close(): Promise<void>;
}

export interface HubServeOptions {
  /** Shards run at once on this node (one worker thread each). */
  readonly concurrency: number;
}

/**
 * The hub: what nodes of one campaign share. Two implementations pass one contract suite: the sync
 * directory (embedded, no server) and Redis. Every node keeps its own corpus and crashes as the
 * truth; the hub only exchanges them, so losing it loses nothing.
 */
export interface Hub {
  // Corpus exchange.
  /** Publishes an entry if it sets a globally new coverage bit; says whether it did. */
  publishCorpus(node: string, entry: HubCorpusEntry): Promise<boolean>;
  /**
   * Entries published by other nodes since this node's cursor (a late joiner gets them all);
   * `fromStart` rewinds the cursor (a restarted node has lost what it had pulled).
   */
  pullCorpus(node: string, fromStart?: boolean): Promise<HubCorpusEntry[]>;
  // Finding registry.
  /** Keeps the smallest reproducer per signature, atomically across nodes. */
  offerFinding(f: FindingFile): Promise<HubOffer>;
  /** The registry's reproducer for a signature. */
  finding(signature: string): Promise<FindingFile | undefined>;
  signatures(): Promise<Set<string>>;
  // Shard queue.
  /** Adds shards (idempotent: a shard already queued, running or done is not added again); returns how many were new. */
  enqueueShards(shards: readonly Shard[]): Promise<number>;
  serveShards(node: string, run: (shard: Shard) => Promise<ShardResult>, opts: HubServeOptions): HubShardServer;
  // Board.
  postNodeStats(stats: HubNodeStats): Promise<void>;
  /** Shard results, one per shard (a shard retried elsewhere is counted once). */
  results(): Promise<ShardResult[]>;
  status(now?: number): Promise<HubStatus>;
  close(): Promise<void>;
}
