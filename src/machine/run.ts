import { MAX_CORES, PHASE_KINDS } from "../types.js";
import type {
  Chooser, CoreObservation, FetchedInstr, HandlerCtx, IpiFn, Model, PatcherCtx,
  Passage, PatcherPhase, Range, Resolution, RuleFinding, RunResult, SlotPatch, Step,
  Strategy, TraceEvent,
} from "../types.js";
import { decode } from "../isa/decode.js";
import { formatInstr } from "../isa/disasm.js";
import { type Cpu, cloneCpu, endWithFault, execute, finalRegs, Flow, memoryDigest, newCpu } from "./cpu.js";
import { programInt3 } from "./int3.js";
import { CodeMemory, LINE } from "./memory.js";
import type { CasePlan } from "./plan.js";
import { type FetchRecord, type OpProgress, PassageLog } from "./passages.js";
import { handlerCtx, isOneStore, patcherCtx, type CtxEnv } from "../strategies/ctx.js";
import { checkRule, type RuleLedger } from "./rules.js";
import { HarnessError, mayBlock, phaseOf, StrategyDriver } from "./strategy-driver.js";
import type { Fetch } from "./decoded-cache.js";
import { Detail, type FetchHost, FetchUnit } from "./fetch-unit.js";

// The multi-core machine of SPEC 3-4 driven by a scheduler (SPEC 8). Core 0 runs the strategy;
// cores 1..N-1 execute the program, each through its fetch unit (fetch-unit.ts). Every scheduler
// event is one call of `apply()`; the run records everything the oracle needs (observations,
// passages with provenance (passages.ts), op timings, phases, rule findings).

export interface RunOptions {
  readonly chooser: Chooser;
  /** L of SPEC 6.4: the longest solo run of the case (from the loader). */
  readonly soloBudget: number;
  readonly trace?: boolean;
  /** Wall-time limit of one strategy step (harness error past it). */
  readonly stepWallMs?: number;
}

interface HandlerRt {
  readonly kind: "int3" | "ipi";
  readonly gen: Generator<Step, Resolution | void, unknown>;
  step: Step;
  readonly savedIF: boolean;
  readonly addr: number;
  readonly t: number;
  readonly serialize: boolean;
  readonly fetched?: FetchedInstr;
  readonly snapshot?: Cpu;
  /** Events the core had at the trap (the snapshot carries none). */
  readonly eventsBefore: number;
  /** The op whose patching the trap met (the latest begun op listing the slot), -1 outside a passage. */
  readonly trapOp?: number;
}

interface CoreRt {
  readonly id: number;
  readonly cpu: Cpu;
  ended: boolean;
  parked: boolean;
  readonly fetch: FetchUnit;
  /**
   * Which of the core's own events (OWN_IPI, OWN_EXEC, OWN_REFILL) are enabled, recomputed only
   * when `ownStale`: they change only with the core's own events and the patcher's (see apply).
   */
  own: number;
  ownStale: boolean;
  snoops: { lo: number; hi: number; retiredAt: number }[];
  invals: { lines: number[]; issuer: number }[];
  retired: number;
  handler: HandlerRt | undefined;
  ipis: { fn?: IpiFn; serialize: boolean }[];
  passage: Passage | undefined;
  readonly times: number[];
  /** Event time at which the core ended (halt or fault). */
  endTime: number;
}

interface PendingClean {
  readonly lines: number[];
  readonly targets: number[];
  readonly issuer: number;
  readonly issued: number;
  readonly range: Range;
}

const enum Ev {
  Patcher = 0,
  Exec = 1,
  Refill = 2,
  Ipi = 3,
  Handler = 4,
  Snoop = 5,
  Inval = 6,
  Clean = 7,
}

const encode = (kind: Ev, core: number, idx: number) => (kind << 20) | (core << 16) | idx;

const OWN_IPI = 1, OWN_EXEC = 2, OWN_REFILL = 4;

/**
 * The events that end an actor's fair turn: a program core's instruction, a patcher step, a
 * write-back. The others (deliveries, each removing what it delivers or filling a bounded buffer,
 * and up to TURN_HANDLER_STEPS handler steps) are taken on the way to it.
 */
const endsTurn = (kind: Ev): boolean => kind === Ev.Exec || kind === Ev.Patcher || kind === Ev.Clean;

/**
 * Handler steps in one fair turn, at most: a handler that spin-waits (with steps, not ctx.await)
 * for the patcher must let it have its turns, and a longer IPI function takes a few turns per
 * instruction of its core (the fair phase's HANDLER_BUDGETS leave every core more than L).
 */
const TURN_HANDLER_STEPS = 16;

/**
 * Handler steps the fair phase may take, in budgets of SPEC 6.4 (see run()): with at most
 * TURN_HANDLER_STEPS of them per turn, every core still gets 2(L+64) instructions.
 */
const HANDLER_BUDGETS = 2;

/** An unfinished run's cores that never ended, and those of them blocked at its end (RunResult.hung). */
type Stuck = Pick<NonNullable<RunResult["hung"]>, "stuckCores" | "blockedCores" | "waitingOnPatcher">;

/** Machine.ruleState of a (code offset, core) with a rule finding recorded. */
const RULE_FOUND = -1;
/** Instruction lengths are below this (MAX_INSTR_LEN is 15). */
const RULE_LENGTHS = 16;

/** The passage log reads its op progress; each fetch unit reads its clock and makes its choices through it. */
class Machine implements OpProgress, FetchHost {
  readonly mem: CodeMemory;
  readonly cores: CoreRt[] = [];
  readonly data = new Map<string, unknown>();
  readonly log: PassageLog;
  readonly rules: RuleFinding[] = [];
  readonly trace: TraceEvent[] = [];
  readonly phases: { t: number; phase: PatcherPhase }[] = [];
  /** PHASE_KINDS index of the current phase, and per phase kind the event kinds run in it (RunResult.eventKinds). */
  private phaseIndex = 0;
  private readonly eventKinds: number[] = PHASE_KINDS.map(() => 0);
  readonly opBegin: number[] = [];
  readonly opReturn: number[] = [];
  readonly ledger: RuleLedger;
  t = 0;
  /** Instructions plus patcher steps (and, before the fair phase, handler steps): what SPEC 6.4's budget counts. */
  work = 0;
  /** The fair phase's handler steps (trap handlers, IPI functions): apart from its budget, bounded by HANDLER_BUDGETS of it. */
  handlerWork = 0;
  /** Scheduler decisions made (the list itself is the chooser's). */
  decisionCount = 0;
  patcherSteps = 0;
  op = 0;
  gen: Generator<Step, void, unknown> | undefined;
  pstep: Step | undefined;
  /** Whether pstep can be disabled (see mayBlock): polled on every event, so decided once per step. */
  pstepMayBlock = false;
  opStarted = false;
  syncs = 0;
  /** Per core, IPIs sent and not yet acked (waitAcks waits for every one, SPEC 5.1). */
  pendingAcks: number[];
  stop: { outsideSlots: boolean; slots: number[] } | undefined;
  outside: { range: Range; seen: Set<number> } | undefined;
  cleans: PendingClean[] = [];
  fair = false;
  wrongFinalCode: RunResult["wrongFinalCode"];
  private readonly env: CtxEnv;
  private readonly driver: StrategyDriver;
  private readonly nCores: number;
  private readonly tracing: boolean;

  constructor(readonly plan: CasePlan, readonly strategy: Strategy, readonly model: Model, readonly opts: RunOptions) {
    const { program } = plan.kase;
    this.nCores = plan.kase.cores;
    this.pendingAcks = new Array<number>(this.nCores).fill(0);
    this.tracing = opts.trace === true;
    this.driver = new StrategyDriver(strategy.name, opts.stepWallMs);
    this.mem = new CodeMemory(program.base, program.code, model.icache === "noncoherent");
    this.log = new PassageLog(plan, this);
    this.cores.push(undefined as unknown as CoreRt); // core 0 is the patcher
    for (let c = 1; c < this.nCores; c++) {
      const cpu = newCpu(program.entries[c - 1]!);
      this.cores.push({
        id: c, cpu, ended: false, parked: false, fetch: new FetchUnit(c, cpu, model, this.mem, plan.initial, this),
        own: 0, ownStale: true, snoops: [], invals: [],
        retired: 0, handler: undefined, ipis: [], passage: undefined, times: [], endTime: -1,
      });
    }
    this.ledger = { serializeTimes: this.cores.map(() => [0]), invalDeliveries: this.cores.map(() => []), cleansDone: [] };
    this.env = {
      cores: this.nCores,
      ended: (c) => c >= 1 && c < this.nCores && this.cores[c]!.ended,
      peek: (key) => this.data.get(key),
    };
    this.pushPhase({ kind: "before", syncs: 0 });
  }

  // ------------------------------------------------------------ strategy plumbing

  private pctx: PatcherCtx | undefined;
  private readonly hctxs: HandlerCtx[] = [];

  /** One handler ctx per core and run (it closes over the env and the core id only). */
  private handlerCtxOf(core: number): HandlerCtx {
    return (this.hctxs[core] ??= handlerCtx(this.env, core));
  }

  private slotPatches(j: number): SlotPatch[] {
    const { slots } = this.plan.kase.program;
    return this.plan.opSlots[j]!.map((p) => {
      const s = slots[p.slot]!;
      const off = s.start - this.mem.base;
      return {
        index: p.slot, start: s.start, len: s.len, from: this.mem.bytes.slice(off, off + s.len),
        to: p.to.slice(), bpResume: s.bpResume, kind: s.kind,
      };
    });
  }

  /** Starts the next op's generator; its first step makes the op begin. */
  private startOp(): void {
    if (this.op >= this.plan.kase.ops.length) {
      this.gen = undefined;
      this.pstep = undefined;
      return;
    }
    // One ctx per run: it only closes over the machine's read-only env.
    const ctx = (this.pctx ??= patcherCtx(this.env, this.model.storeAtomicity));
    const patches = this.slotPatches(this.op);
    const started = this.driver.start("patch", "patcher", () => this.strategy.patch(ctx, patches));
    this.gen = started.gen;
    this.opStarted = false;
    this.syncs = 0;
    this.setPatcherStep(started.step ?? { k: "nop" });
  }

  private setPatcherStep(step: Step): void {
    this.pstep = step;
    this.pstepMayBlock = mayBlock(step);
    if (step.k === "waitOutside") {
      this.outside = { range: step.range, seen: new Set() };
      this.updateSeen();
    }
  }

  private runPatcherStep(): void {
    const step = this.pstep!;
    if (!this.opStarted) {
      this.opStarted = true;
      this.opBegin[this.op] = this.t;
    }
    const result = this.execStep(0, step);
    this.patcherSteps++;
    this.work++;
    if (step.k === "waitAcks" || step.k === "release" || step.k === "waitOutside") this.syncs++;
    if (this.tracing && step.k !== "store") this.traceEv(0, "step", () => (step.k === "ipi" ? "IPI to every running core" : "key" in step ? `${step.k} ${step.key}` : step.k));
    this.pushPhase({ kind: phaseOf(step.k), syncs: this.syncs });
    const next = this.driver.next("patch", this.gen!, result);
    if (!next.done) {
      this.setPatcherStep(this.driver.checked(next.value, "patch", "patcher"));
      return;
    }
    this.opReturn[this.op] = this.t;
    this.checkCode(this.op + 1);
    this.op++;
    this.startOp();
    if (!this.gen) this.pushPhase({ kind: "after", syncs: 0 });
  }

  private stepEnabled(actor: number, step: Step): boolean {
    switch (step.k) {
      case "await": return this.driver.guard("await predicate", step.pred);
      case "waitAcks":
        for (let c = 1; c < this.nCores; c++) if (this.pendingAcks[c]! > 0) return false;
        return true;
      case "awaitParked":
        for (let c = 1; c < this.nCores; c++) if (!this.cores[c]!.ended && !this.cores[c]!.parked) return false;
        return true;
      case "waitOutside":
        for (let c = 1; c < this.nCores; c++) if (!this.cores[c]!.ended && !this.outside!.seen.has(c)) return false;
        return true;
      case "barrier":
        // Loops rather than closures: barriers are polled on every scheduler event.
        for (const p of this.cleans) if (p.issuer === actor) return false;
        for (let c = 1; c < this.nCores; c++) for (const v of this.cores[c]!.invals) if (v.issuer === actor) return false;
        return true;
      default: return true;
    }
  }

  private execStep(actor: number, step: Step): unknown {
    switch (step.k) {
      case "store":
        // A store step made by hand (not by ctx.write) must still be one store of the model's.
        if (!isOneStore(step.addr, step.bytes.length, this.model.storeAtomicity)) {
          throw this.driver.misuse(`a store step of ${step.bytes.length} byte(s) at 0x${step.addr.toString(16)} is not one store under ${this.model.storeAtomicity} store atomicity (use yield* ctx.write(addr, bytes))`);
        }
        this.store(step.addr, step.bytes);
        return undefined;
      case "load": return this.data.get(step.key);
      case "dstore": this.data.set(step.key, step.value); return undefined;
      case "add": {
        const v = ((this.data.get(step.key) as number | undefined) ?? 0) + step.delta;
        this.data.set(step.key, v);
        return v;
      }
      case "cas": {
        const old = this.data.get(step.key);
        if (old === step.expect) this.data.set(step.key, step.value);
        return old;
      }
      case "serialize": if (actor > 0) this.serializeCore(this.cores[actor]!); return undefined;
      case "ipi":
        for (let c = 1; c < this.nCores; c++) {
          const core = this.cores[c]!;
          if (core.ended) continue;
          core.ipis.push({ fn: step.fn, serialize: step.serialize });
          this.pendingAcks[c]!++;
        }
        return undefined;
      case "waitAcks": return undefined;
      case "stop":
        this.stop = { outsideSlots: step.outsideSlots, slots: this.plan.opSlots[this.op]!.map((p) => p.slot) };
        this.parkCores();
        return undefined;
      case "awaitParked": return undefined;
      case "release":
        this.stop = undefined;
        for (let c = 1; c < this.nCores; c++) {
          const core = this.cores[c]!;
          if (!core.parked) continue;
          core.parked = false;
          this.serializeCore(core);
        }
        return undefined;
      case "waitOutside": this.outside = undefined; return undefined;
      case "clean": this.issueClean(step.range, actor); return undefined;
      case "inval": this.issueInval(step.range, actor); return undefined;
      case "barrier": case "await": case "nop": return undefined;
    }
  }

  // ------------------------------------------------------------ memory system

  private store(addr: number, piece: Uint8Array): void {
    if (addr < this.mem.base || addr + piece.length > this.mem.end) {
      throw new HarnessError(`strategy ${this.strategy.name} wrote outside the code region at 0x${addr.toString(16)}`);
    }
    const made = this.mem.store(addr, piece, this.t);
    if (made.length > 0) this.ruleEpoch++;
    if (this.tracing) this.traceEv(0, "store", () => `store ${[...piece].map((b) => b.toString(16).padStart(2, "0")).join(" ")} @0x${addr.toString(16)}${made.length ? "" : " (no change)"}`);
    if (made.length === 0 || this.model.crossModifySnoop === "none") return;
    const lo = addr, hi = addr + piece.length;
    for (let c = 1; c < this.nCores; c++) {
      const core = this.cores[c]!;
      if (core.ended) continue;
      if (this.model.crossModifySnoop === "immediate") core.fetch.snoop(lo, hi);
      else core.snoops.push({ lo, hi, retiredAt: core.retired });
    }
  }

  private linesOf(range: Range): number[] {
    const out: number[] = [];
    const first = Math.max(0, Math.floor((range.lo - this.mem.base) / LINE));
    const last = Math.min(Math.ceil(this.mem.bytes.length / LINE) - 1, Math.floor((range.hi - 1 - this.mem.base) / LINE));
    for (let l = first; l <= last; l++) out.push(l);
    return out;
  }

  private issueClean(range: Range, issuer: number): void {
    if (this.model.icache !== "noncoherent") return;
    const lines = this.linesOf(range);
    this.cleans.push({ lines, targets: lines.map((l) => this.mem.newest(l)), issuer, issued: this.t, range });
  }

  private issueInval(range: Range, issuer: number): void {
    if (this.model.icache !== "noncoherent") return;
    const lines = this.linesOf(range);
    for (let c = 1; c < this.nCores; c++) {
      const core = this.cores[c]!;
      if (!core.ended) core.invals.push({ lines, issuer });
    }
  }

  private serializeCore(core: CoreRt): void {
    core.fetch.clear(true);
    core.snoops = [];
    this.ledger.serializeTimes[core.id]!.push(this.t);
    this.ruleEpoch++;
  }

  /** A choice inside an event (SPEC 8), made by a fetch unit (FetchHost); `what` names it in drift messages. */
  choose(options: number, what: string): number {
    if (this.fair) return options - 1;
    this.decisionCount++;
    return this.opts.chooser.choose(options, what);
  }

  /** Reused by chooseEvent (choosers read its first n entries during the call only). */
  private readonly actors: number[] = [];

  /** Picks one of events[0..n). Only policies that weigh actors (PCT) get them. */
  private chooseEvent(events: readonly number[], n: number): number {
    if (n <= 1) return 0;
    this.decisionCount++;
    const chooser = this.opts.chooser;
    if (!chooser.chooseEvent) return chooser.choose(n, "event");
    const actors = this.actors;
    for (let i = 0; i < n; i++) actors[i] = this.actorOf(events[i]!);
    return chooser.chooseEvent(actors, n);
  }

  /** 0 the patcher, c a program core, nCores the memory system (pending write-backs). */
  private actorOf(ev: number): number {
    return (ev >>> 20) === Ev.Clean ? this.nCores : (ev >>> 16) & 0xf;
  }

  /**
   * A pending snoop must be delivered before the core retires its snoopBound-th instruction since
   * the store. Snoops queue in store order, when `retired` only grows, and delivery removes without
   * reordering: the first pending snoop is the oldest.
   */
  private execBlockedBySnoop(core: CoreRt): boolean {
    return core.snoops.length > 0 && core.retired - core.snoops[0]!.retiredAt >= this.model.snoopBound - 1;
  }

  private endPassageIfOutside(core: CoreRt): void {
    const p = core.passage;
    if (p && this.log.isOver(p, core.cpu.pc, core.ended)) {
      this.log.end(p, this.t, core.cpu.pc, core.ended);
      core.passage = undefined;
    }
  }

  // ------------------------------------------------------------ core events

  /** The code offset of the first slot byte in [pc, pc+len), or -1: only then do passages and provenance need the bytes. */
  private slotByteIn(pc: number, len: number): number {
    const from = pc - this.mem.base;
    if (from + len <= 0 || from >= this.plan.slotAhead.length) return -1;
    const at = this.plan.slotAhead[Math.max(0, from)]!;
    return at < from + len && at < this.plan.slotAhead.length ? at : -1;
  }

  /**
   * Begins the core's passage through the slot holding code offset `at`. A core with no passage
   * at a boundary strictly inside a slot (a wild jump, a handler's resume there) begins one there,
   * widened: SPEC 6.1 begins none, which loses a passage of the slot when the reference passes
   * through it (a false positive, never allowed); counted, it may be one the reference never has,
   * which the widening covers.
   */
  private beginPassage(core: CoreRt, at: number): Passage {
    const p = this.log.begin(core.id, at, this.t);
    if (at !== this.plan.kase.program.slots[this.plan.slotAt[at]!]!.start - this.mem.base) p.widened = true;
    return p;
  }

  private execCore(core: CoreRt): void {
    const cpu = core.cpu, pc = cpu.pc;
    let f = core.fetch.fetch(Detail.None);
    this.work++;
    if (typeof f === "number") {
      // An instruction cut off by the region end is executed (SPEC 2: its #PF): one that overlaps
      // a slot begins a passage, like any other, and its bytes are that passage's provenance.
      if (f === this.mem.end && pc >= this.mem.base) {
        const len = this.mem.end - pc;
        const slotByte = core.passage ? -1 : this.slotByteIn(pc, len);
        if (slotByte >= 0) core.passage = this.beginPassage(core, slotByte);
        const p = core.passage, rule = this.ruleFor(core, pc, len);
        const record = p || rule ? core.fetch.cutOff(pc) : undefined;
        if (p) {
          this.log.cutOff(p, pc, record!);
          if (!this.log.isVersionInstr(p, pc, record!.bytes)) p.widened = true;
          // The core ends with this instruction: so do the passages it began in further slots.
          for (const x of this.passagesReached(core, p, pc, this.mem.end, record!, true) ?? []) this.log.end(x, this.t, pc, true);
        }
        if (rule) this.addRule(rule, core.id, pc, record!.bytes);
      }
      endWithFault(cpu, "#PF", f);
      this.finishCore(core);
      return;
    }
    const rule = this.ruleFor(core, pc, f.ins.len);
    const slotByte = core.passage ? -1 : this.slotByteIn(pc, f.ins.len);
    // Provenance (fetch times) only for instructions of passages; bytes for rule findings and for
    // the decoded cache. An instruction that overlaps no slot is never part of a passage, so its
    // decoded-cache entry needs no provenance either.
    const provenance = core.passage !== undefined || slotByte >= 0;
    if (f.lazy && (rule || this.model.decodedCache || provenance)) {
      const detail = provenance ? Detail.Provenance : Detail.Bytes;
      f = core.fetch.fetch(detail) as Fetch;
    }
    if (slotByte >= 0) core.passage = this.beginPassage(core, slotByte);
    const p = core.passage;
    const fetched = p && this.log.fetched(p, pc, f);
    if (p && f.ins.op !== "int3" && !this.log.isVersionInstr(p, pc, f.bytes)) p.widened = true;
    const reached = p && this.passagesReached(core, p, pc, pc + f.ins.len, f, false);
    if (rule) this.addRule(rule, core.id, pc, f.bytes);
    const nEvents = cpu.events.length;
    const flow = execute(cpu, f.ins, pc);
    // A trap retires nothing: its resolution retires the instruction (resolve), as it counts it.
    if (flow !== Flow.Trap) core.retired++;
    // With a decoded cache, f is this fetch's own object (the lazy one was replaced above).
    if (flow !== Flow.Trap) core.fetch.keep(pc, f);
    if (this.tracing) this.traceEv(core.id, "exec", () => `${pc.toString(16)}: ${formatInstr(f.ins, pc)}`);
    this.afterFlow(core, flow, nEvents);
    if (reached) this.settleReached(core, reached);
    if (flow === Flow.Trap) this.trapEntry(core, pc, fetched);
  }

  /**
   * Passages of the slots past passage p's that an instruction at pc reaches into, below address
   * `hi`: pc is not strictly inside them and the instruction overlaps them, so a passage of each
   * begins with it (SPEC 6.1), its first fetch that instruction (`cutOff`: one cut off by the
   * region end). It is none of their versions' instructions: they widen. Rare: a torn instruction
   * running on past its slot into the next.
   */
  private passagesReached(core: CoreRt, p: Passage, pc: number, hi: number, f: FetchRecord, cutOff: boolean): Passage[] | undefined {
    const { slots } = this.plan.kase.program;
    const ahead = this.plan.slotAhead, base = this.mem.base, end = hi - base;
    let reached: Passage[] | undefined;
    for (let off = slots[p.slot]!.start + slots[p.slot]!.len - base; off < end && off < ahead.length;) {
      const at = ahead[off]!;
      if (at >= end || at >= ahead.length) break;
      const x = this.log.begin(core.id, at, this.t);
      if (cutOff) this.log.cutOff(x, pc, f);
      else this.log.fetched(x, pc, f);
      if (!this.log.isVersionInstr(x, pc, f.bytes)) x.widened = true;
      (reached ??= []).push(x);
      const s = slots[this.plan.slotAt[at]!]!;
      off = s.start + s.len - base;
    }
    return reached;
  }

  /**
   * After an instruction that reached into further slots: the passage whose slot holds the core's
   * pc in its interior goes on (the instruction's first passage ended there); the others end.
   */
  private settleReached(core: CoreRt, reached: readonly Passage[]): void {
    for (const x of reached) {
      if (!core.passage && !this.log.isOver(x, core.cpu.pc, core.ended)) core.passage = x;
      else this.log.end(x, this.t, core.cpu.pc, core.ended);
    }
  }

  private afterFlow(core: CoreRt, flow: Flow, nEvents: number): void {
    const cpu = core.cpu;
    for (let i = nEvents; i < cpu.events.length; i++) core.times.push(this.t);
    switch (flow) {
      case Flow.Ended: this.finishCore(core); return;
      case Flow.Branch: core.fetch.controlTransfer(); break;
      case Flow.Serialize: this.serializeCore(core); break;
      case Flow.Fence: if (this.model.mfenceSerializesFetch) this.serializeCore(core); break;
      case Flow.Trap: return;
      case Flow.Next: break;
    }
    this.endPassageIfOutside(core);
  }

  private trapEntry(core: CoreRt, addr: number, fetched: FetchedInstr | undefined): void {
    const cpu = core.cpu;
    const snapshot = core.passage ? cloneCpu(cpu, false) : undefined;
    const trapOp = core.passage ? this.log.trapOpForSlot(core.passage.slot) : -1;
    const eventsBefore = cpu.events.length;
    const savedIF = cpu.iflag;
    cpu.iflag = false;
    if (this.model.trapSerializes) this.serializeCore(core);
    if (this.tracing) this.traceEv(core.id, "trap", () => `int3 trap at 0x${addr.toString(16)}`);
    const onInt3 = this.strategy.onInt3;
    if (!onInt3) {
      this.resolve(core, { kind: "notMine" }, { savedIF, addr, fetched, snapshot, t: this.t, eventsBefore, trapOp });
      return;
    }
    const hctx = this.handlerCtxOf(core.id);
    const { gen, step, returned } = this.driver.start("onInt3", "handler", () => onInt3.call(this.strategy, hctx, core.id, addr));
    if (!step) {
      this.resolve(core, returned, { savedIF, addr, fetched, snapshot, t: this.t, eventsBefore, trapOp });
      return;
    }
    core.handler = { kind: "int3", gen, step, savedIF, addr, t: this.t, serialize: true, fetched, snapshot, eventsBefore, trapOp };
  }

  private resolve(
    core: CoreRt, returned: unknown,
    h: { savedIF: boolean; addr: number; fetched?: FetchedInstr; snapshot?: Cpu; t: number; eventsBefore: number; trapOp?: number },
  ): void {
    const res = this.driver.resolution(returned);
    const cpu = core.cpu, addr = h.addr, p = core.passage;
    core.handler = undefined;
    cpu.iflag = h.savedIF;
    const nEvents = cpu.events.length;
    let flow: Flow = Flow.Branch;
    if (p) p.resolution = res.kind;
    switch (res.kind) {
      case "resume":
        cpu.pc = res.pc >>> 0;
        if (res.pc === addr) {
          // A retry: the passage did nothing and is not counted (SPEC 6.1), but the core did
          // execute the CC (SPEC 8): a core retrying forever runs instructions, as SPEC 6.4's
          // hang admission counts them, rather than standing still.
          cpu.instructions++;
          if (p && p.begin === h.t) {
            this.log.drop(p);
            core.passage = undefined;
          }
          core.fetch.controlTransfer();
          if (res.serialize) this.serializeCore(core);
          if (this.tracing) this.traceEv(core.id, "resume", () => `handler retries 0x${addr.toString(16)}`);
          return;
        }
        cpu.instructions++;
        core.fetch.controlTransfer();
        if (res.serialize) this.serializeCore(core);
        break;
      case "emulate": {
        const d = decode(res.bytes, 0, res.bytes.length);
        flow = "incomplete" in d ? (endWithFault(cpu, "#UD", addr), Flow.Ended) : execute(cpu, d, addr);
        if (flow === Flow.Trap) {
          endWithFault(cpu, "int3", addr);
          flow = Flow.Ended;
        }
        if (flow !== Flow.Ended) {
          core.fetch.controlTransfer();
          this.serializeCore(core);
        }
        break;
      }
      case "notMine":
        flow = programInt3(cpu, this.plan.kase.program.slots, addr);
        if (flow !== Flow.Ended) {
          core.fetch.controlTransfer();
          this.serializeCore(core);
        }
        break;
    }
    if (this.tracing) this.traceEv(core.id, "resolve", () => `handler ${res.kind} at 0x${addr.toString(16)} -> pc 0x${cpu.pc.toString(16)}`);
    core.retired++;
    if (p && h.fetched) {
      const strategyInt3 = h.fetched.origin[0] === "int3";
      if (!(strategyInt3 && res.kind !== "notMine") && !this.log.isVersionInstr(p, addr, h.fetched.bytes)) p.widened = true;
      // notMine is a resolution too: on the strategy's own CC, handing the trap to the program is
      // judged like resume and emulate (on a version's CC, a probe, it is that version running).
      if ((res.kind !== "notMine" || strategyInt3) && h.snapshot && p.op >= 0 && h.trapOp !== undefined && h.trapOp >= 0) {
        p.resolvedAs = this.log.versionEffect(p, h.trapOp, h.snapshot, cpu, h.eventsBefore);
        p.resolvedAt = p.fetched.lastIndexOf(h.fetched);
        p.badEmulation = p.resolvedAs === undefined;
      }
    }
    for (let i = nEvents; i < cpu.events.length; i++) core.times.push(this.t);
    if (flow === Flow.Ended) this.finishCore(core);
    else this.endPassageIfOutside(core);
  }

  private deliverIpi(core: CoreRt): void {
    const ipi = core.ipis.shift()!;
    const savedIF = core.cpu.iflag;
    core.cpu.iflag = false;
    if (this.tracing) this.traceEv(core.id, "ipi", () => "IPI delivered");
    const fn = ipi.fn;
    if (fn) {
      const hctx = this.handlerCtxOf(core.id);
      const { gen, step } = this.driver.start("IPI function", "handler", () => fn(hctx));
      if (step) {
        core.handler = { kind: "ipi", gen, step, savedIF, addr: core.cpu.pc, t: this.t, serialize: ipi.serialize, eventsBefore: core.cpu.events.length };
        return;
      }
    }
    this.ipiDone(core, savedIF, ipi.serialize);
  }

  private ipiDone(core: CoreRt, savedIF: boolean, serialize: boolean): void {
    core.handler = undefined;
    core.cpu.iflag = savedIF;
    this.pendingAcks[core.id]!--;
    core.fetch.controlTransfer();
    if (serialize) this.serializeCore(core);
    if (this.tracing) this.traceEv(core.id, "ack", () => `IPI acked${serialize ? " (serializing return)" : ""}`);
  }

  private runHandlerStep(core: CoreRt): void {
    const h = core.handler!;
    const result = this.execStep(core.id, h.step);
    if (this.fair) this.handlerWork++;
    else this.work++;
    if (this.tracing) this.traceEv(core.id, "handler", () => `handler step ${h.step.k}`);
    const next = this.driver.next(h.kind === "int3" ? "onInt3" : "IPI function", h.gen, result);
    if (!next.done) {
      h.step = this.driver.checked(next.value, h.kind === "int3" ? "onInt3" : "IPI function", "handler");
      return;
    }
    if (h.kind === "int3") this.resolve(core, next.value, h);
    else this.ipiDone(core, h.savedIF, h.serialize);
  }

  private finishCore(core: CoreRt): void {
    core.ended = true;
    core.endTime = this.t;
    core.ipis = [];
    this.pendingAcks[core.id] = 0; // an ended core's queued IPIs are dropped: nothing to wait for
    core.snoops = [];
    core.invals = [];
    core.handler = undefined;
    this.endPassageIfOutside(core);
    if (this.tracing) this.traceEv(core.id, "end", () => describeEnd(core.cpu));
  }

  private parkCores(): void {
    const stop = this.stop;
    if (!stop) return;
    for (let c = 1; c < this.nCores; c++) {
      const core = this.cores[c]!;
      if (core.ended || core.parked || core.handler || !core.cpu.iflag) continue;
      if (stop.outsideSlots && this.insideAnySlot(core.cpu.pc, stop.slots)) continue;
      core.parked = true;
      if (this.tracing) this.traceEv(c, "park", () => `parked at 0x${core.cpu.pc.toString(16)}`);
    }
  }

  /** Whether pc is strictly inside one of the slots (a loop: checked after every event while stopped). */
  private insideAnySlot(pc: number, slots: readonly number[]): boolean {
    for (const k of slots) {
      const s = this.plan.kase.program.slots[k]!;
      if (pc > s.start && pc < s.start + s.len) return true;
    }
    return false;
  }

  /**
   * Marks the cores at an instruction boundary outside waitOutside's range. A core in an IPI
   * function sits at the boundary it was interrupted at and returns there; one in an int3 handler
   * is not counted (the handler decides where it resumes, possibly inside the range).
   */
  private updateSeen(): void {
    const o = this.outside;
    if (!o) return;
    for (let c = 1; c < this.nCores; c++) {
      const core = this.cores[c]!;
      if (core.handler?.kind !== "int3" && (core.cpu.pc < o.range.lo || core.cpu.pc >= o.range.hi)) o.seen.add(c);
    }
  }

  // ------------------------------------------------------------ rules and final code

  /**
   * Rule checks by (code offset, core) key: RULE_FOUND once a finding is recorded (one per key),
   * else the rule epoch and instruction length with which the key was last found clean (epoch *
   * RULE_LENGTHS + length). What a check reads (the code's modifications, every core's
   * serializations, completed cleans, delivered invalidations) changes only when the epoch moves;
   * the length can change without it (a stale I-cache line version decodes differently). Made at the first check: nothing is modified before the
   * patcher's first store, and then only slot bytes, so it holds a few keys.
   */
  private ruleState: Map<number, number> | undefined;
  private ruleEpoch = 0;

  /**
   * The rule the core breaches executing [pc, pc+len) (SPEC 7.3), if not already found at this
   * (offset, core). Rules only concern modified bytes: the flat modified-byte test comes first,
   * as most executed instructions were never modified.
   */
  private ruleFor(core: CoreRt, pc: number, len: number): RuleFinding["rule"] | undefined {
    if (!this.mem.modifiedIn(pc, len)) return undefined;
    const key = (pc - this.mem.base) * MAX_CORES + core.id, clean = this.ruleEpoch * RULE_LENGTHS + len;
    const state = (this.ruleState ??= new Map()).get(key);
    if (state === RULE_FOUND || state === clean) return undefined;
    const rule = checkRule(this.model, this.mem, this.ledger, core.id, pc, len, this.t);
    this.ruleState.set(key, rule ? RULE_FOUND : clean);
    return rule;
  }

  private addRule(rule: RuleFinding["rule"], core: number, addr: number, bytes: readonly number[]): void {
    const k = this.plan.slotAt[addr - this.mem.base] ?? -1;
    this.rules.push({
      rule, core, addr, t: this.t, bytes, phase: this.currentPhase(),
      slotKind: k >= 0 ? this.plan.kase.program.slots[k]!.kind : "-",
    });
  }

  private pushPhase(phase: PatcherPhase): void {
    this.phases.push({ t: this.t, phase });
    this.phaseIndex = PHASE_KINDS.indexOf(phase.kind);
  }

  currentPhase(): PatcherPhase {
    return this.phases[this.phases.length - 1]!.phase;
  }

  private checkCode(image: number): void {
    if (this.wrongFinalCode) return;
    const expected = this.plan.images[image]!;
    const bytes = this.mem.bytes;
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i] !== expected[i]) {
        this.wrongFinalCode = { t: this.t, addr: this.mem.base + i, expected: expected[i]!, actual: bytes[i]! };
        return;
      }
    }
  }

  // ------------------------------------------------------------ the scheduler loop

  /**
   * Writes the enabled events to out[0..n) and returns n. The array is reused across steps and
   * never truncated (truncating an array drops its backing store: one allocation per step).
   */
  private enabledEvents(out: number[]): number {
    let n = 0;
    if (this.pstep && (!this.pstepMayBlock || this.stepEnabled(0, this.pstep))) out[n++] = encode(Ev.Patcher, 0, 0);
    const snoopAny = this.model.snoopOrder === "any";
    for (let c = 1; c < this.nCores; c++) {
      const core = this.cores[c]!;
      if (core.ended) continue;
      if (core.handler) {
        if (this.stepEnabled(c, core.handler.step)) out[n++] = encode(Ev.Handler, c, 0);
      } else if (!core.parked) {
        if (core.ownStale) {
          core.own = this.ownEvents(core);
          core.ownStale = false;
        }
        const own = core.own;
        if (own & OWN_IPI) out[n++] = encode(Ev.Ipi, c, 0);
        if (own & OWN_EXEC) out[n++] = encode(Ev.Exec, c, 0);
        if (own & OWN_REFILL) out[n++] = encode(Ev.Refill, c, 0);
      }
      const ns = snoopAny ? core.snoops.length : Math.min(1, core.snoops.length);
      for (let i = 0; i < ns; i++) out[n++] = encode(Ev.Snoop, c, i);
      for (let i = 0; i < core.invals.length; i++) out[n++] = encode(Ev.Inval, c, i);
    }
    for (let i = 0; i < this.cleans.length; i++) out[n++] = encode(Ev.Clean, 0, i);
    return n;
  }

  /** The core's own events that are enabled now, as OWN_* bits (the core is running: no handler, not parked). */
  private ownEvents(core: CoreRt): number {
    let own = 0;
    if (core.cpu.iflag && core.ipis.length > 0) own |= OWN_IPI;
    if (!this.execBlockedBySnoop(core) && core.fetch.ready()) own |= OWN_EXEC;
    if (core.fetch.refillBlocks() > 0) own |= OWN_REFILL;
    return own;
  }

  private apply(ev: number): void {
    const kind = (ev >>> 20) as Ev, c = (ev >>> 16) & 0xf, idx = ev & 0xffff;
    const core = this.cores[c]!;
    this.eventKinds[this.phaseIndex]! |= 1 << kind;
    switch (kind) {
      case Ev.Patcher: this.runPatcherStep(); break;
      case Ev.Exec: this.execCore(core); break;
      case Ev.Refill: {
        // The appended range from where the buffer ended: its last block may stop at the region end.
        const from = core.fetch.hi;
        core.fetch.refill();
        if (this.tracing) this.traceEv(c, "refill", () => `refill [0x${from.toString(16)}, 0x${core.fetch.hi.toString(16)})`);
        break;
      }
      case Ev.Ipi: this.deliverIpi(core); break;
      case Ev.Handler: this.runHandlerStep(core); break;
      case Ev.Snoop: {
        const s = removeAt(core.snoops, idx);
        core.fetch.snoop(s!.lo, s!.hi);
        if (this.tracing) this.traceEv(c, "snoop", () => `snoop [0x${s!.lo.toString(16)}, 0x${s!.hi.toString(16)}) delivered`);
        break;
      }
      case Ev.Inval: {
        const v = removeAt(core.invals, idx);
        core.fetch.invalidate(v!.lines);
        this.ledger.invalDeliveries[c]!.push({ t: this.t, lines: v!.lines });
        this.ruleEpoch++;
        if (this.tracing) this.traceEv(c, "inval", () => `I-cache invalidation of lines ${v!.lines.join(",")} delivered`);
        break;
      }
      case Ev.Clean: {
        const cl = removeAt(this.cleans, idx);
        const pou = this.mem.pou!;
        for (let i = 0; i < cl.lines.length; i++) pou[cl.lines[i]!] = Math.max(pou[cl.lines[i]!]!, cl.targets[i]!);
        this.ledger.cleansDone.push({ issued: cl!.issued, completed: this.t, lines: cl!.lines });
        this.ruleEpoch++;
        if (this.tracing) this.traceEv(-1, "clean", () => `write-back of lines ${cl!.lines.join(",")} completed`);
        break;
      }
    }
    // A core's own events change with its own events; the patcher's and handlers' steps (stores,
    // snoops, IPIs, release, serialization) may change any core's.
    if (kind === Ev.Patcher || kind === Ev.Handler) {
      for (let i = 1; i < this.nCores; i++) this.cores[i]!.ownStale = true;
    } else if (kind !== Ev.Clean) {
      core.ownStale = true;
    }
    if (kind !== Ev.Snoop && kind !== Ev.Clean && kind !== Ev.Inval) {
      this.parkCores();
      this.updateSeen();
    }
  }

  /** Timeline entry; callers check `tracing` first so the hot loop builds no text and no closure. */
  private traceEv(core: number, kind: string, text: () => string): void {
    this.trace.push({ t: this.t, core, kind, text: text() });
  }

  private finished(): boolean {
    if (this.gen) return false;
    for (let c = 1; c < this.nCores; c++) if (!this.cores[c]!.ended) return false;
    return true;
  }

  /**
   * Round-robin fair choice: the first actor at or after the pointer with an enabled event. A
   * program core's turn delivers what is pending at it (snoops, invalidations, an IPI, refills),
   * runs its handler's steps, and ends with one instruction (or when it has no event left): fair
   * in instructions, as the budget is. A turn spent on a delivery or a handler step alone let a
   * patcher that stores, invalidates or interrupts at every step starve every core, and a strategy
   * that never returns passed for admitted (SPEC 6.4).
   */
  private rr = 0;
  /** Handler steps taken in the current fair turn. */
  private turnHandlerSteps = 0;
  private fairPick(events: number[], n: number): number {
    for (let i = 0; i <= this.nCores; i++) {
      const actor = (this.rr + i) % (this.nCores + 1);
      const pick = this.fairEventOf(actor, events, n);
      if (pick < 0) {
        this.turnHandlerSteps = 0;
        continue;
      }
      const kind = (pick >>> 20) as Ev;
      const ends = endsTurn(kind) || (kind === Ev.Handler && ++this.turnHandlerSteps >= TURN_HANDLER_STEPS);
      if (ends) this.turnHandlerSteps = 0;
      this.rr = ends ? actor + 1 : actor;
      return pick;
    }
    return events[0]!;
  }

  /** Per program core: whether its last fair choice between an IPI and an instruction took the IPI. */
  private readonly fairTookIpi: boolean[] = [];

  /**
   * The actor's next event in its fair turn, or -1: its enabled event of the highest kind (pending
   * state changes first, what a stable descending sort puts first), but an IPI delivery and an
   * instruction, when both are enabled, by turns: a patcher sending IPIs at every step would
   * otherwise keep a core in its handlers, never running one instruction.
   */
  private fairEventOf(actor: number, events: readonly number[], n: number): number {
    let pick = -1, ipi = -1, exec = -1;
    for (let j = 0; j < n; j++) {
      const ev = events[j]!;
      if (this.actorOf(ev) !== actor) continue;
      const kind = ev >>> 20;
      if (kind === Ev.Ipi) ipi = ev;
      else if (kind === Ev.Exec) exec = ev;
      else if (pick < 0 || kind > pick >>> 20) pick = ev;
    }
    if (pick >= 0) return pick;
    if (ipi < 0 || exec < 0) return ipi >= 0 ? ipi : exec;
    this.fairTookIpi[actor] = !this.fairTookIpi[actor];
    return this.fairTookIpi[actor] ? ipi : exec;
  }

  run(): RunResult {
    const budget = 16 * this.nCores * (this.opts.soloBudget + 64);
    const events: number[] = [];
    let deadlock = false;
    let harnessError: string | undefined;
    let stuck: Stuck | undefined;
    try {
      this.startOp();
      while (!this.finished()) {
        // The first phase counts handler steps too (a handler that steps for ever must end it, and
        // its decisions are recorded). In the fair phase they are no instructions (SPEC 6.4):
        // counted, a patcher sending IPIs with long functions would leave the cores too few
        // instructions to end; bounded apart, a handler that steps for ever still ends the run
        // (in a handler: a hang).
        if (this.work >= budget && !this.fair) this.fair = true;
        if (this.work >= 2 * budget || this.handlerWork >= HANDLER_BUDGETS * budget) break;
        const n = this.enabledEvents(events);
        if (n === 0) {
          deadlock = true;
          break;
        }
        this.t++;
        const ev = this.fair ? this.fairPick(events, n) : events[this.chooseEvent(events, n)]!;
        this.apply(ev);
      }
      if (this.finished()) this.checkCode(this.plan.kase.ops.length);
      // Inside the try: listing the enabled events polls the strategy's await predicates again.
      else stuck = this.stuck();
    } catch (e) {
      if (!(e instanceof HarnessError)) throw e;
      harnessError = e.message;
    }
    return this.result(deadlock, harnessError, stuck);
  }

  /** The cores of an unfinished run that never ended, and those of them blocked at its end. */
  private stuck(): Stuck {
    const events: number[] = [];
    events.length = this.enabledEvents(events);
    const stuckCores: number[] = [], blockedCores: number[] = [], waitingOnPatcher: number[] = [];
    for (let c = 1; c < this.nCores; c++) {
      const core = this.cores[c]!;
      if (core.ended) continue;
      stuckCores.push(c);
      const own = events.some((ev) => ((ev >>> 16) & 0xf) === c && (ev >>> 20) <= Ev.Handler && (ev >>> 20) !== Ev.Patcher);
      if (core.parked || core.handler || !own) blockedCores.push(c);
      if (core.parked || core.handler?.kind === "ipi") waitingOnPatcher.push(c);
    }
    return { stuckCores, blockedCores, waitingOnPatcher };
  }

  private result(deadlock: boolean, harnessError: string | undefined, stuck: Stuck | undefined): RunResult {
    const finished = !harnessError && this.finished();
    const observations: CoreObservation[] = [];
    for (let c = 1; c < this.nCores; c++) {
      const { cpu } = this.cores[c]!;
      observations.push({
        core: c, events: cpu.events, times: this.cores[c]!.times,
        end: cpu.end ?? { kind: "unfinished" }, endTime: cpu.end ? this.cores[c]!.endTime : this.t, regs: finalRegs(cpu),
        digest: memoryDigest(cpu), instructions: cpu.instructions,
      });
    }
    const nOps = this.plan.kase.ops.length;
    return {
      strategy: this.strategy.name,
      model: this.model.name,
      observations,
      passages: this.log.passages,
      ops: Array.from({ length: nOps }, (_, j) => ({
        begin: this.opBegin[j] ?? Infinity,
        returned: this.opReturn[j] ?? Infinity,
      })),
      phases: this.phases,
      eventKinds: this.eventKinds,
      rules: this.rules,
      // A hung run had no end-of-run check, but a wrong code found when an op returned stands.
      wrongFinalCode: harnessError ? undefined : this.wrongFinalCode,
      hung: finished || harnessError || !stuck ? undefined : { deadlock, ...stuck, patcherStuck: this.gen !== undefined },
      harnessError,
      decisionCount: this.decisionCount,
      events: this.t,
      trace: this.trace,
      finalCode: this.mem.bytes, // the run is over: nothing writes it any more
      soloBudget: this.opts.soloBudget,
    };
  }
}


/** Removes and returns a[i] without allocating (splice returns a fresh array). */
function removeAt<T>(a: T[], i: number): T {
  const v = a[i]!;
  for (let j = i; j < a.length - 1; j++) a[j] = a[j + 1]!;
  a.pop();
  return v;
}

function describeEnd(cpu: Cpu): string {
  const e = cpu.end;
  if (!e || e.kind === "unfinished") return "unfinished";
  return e.kind === "halt" ? "hlt" : `${e.fault} at 0x${e.addr.toString(16)}`;
}

/** Runs one case under one strategy and model; decisions are those the chooser was asked for. */
export function runCase(plan: CasePlan, strategy: Strategy, model: Model, opts: RunOptions): RunResult {
  return new Machine(plan, strategy, model, opts).run();
}

