import type { CoreObservation, ObsEvent, Passage, Slot } from "../types.js";
import { type Cpu, finalRegs, Flow, memoryDigest, memoryHash } from "../machine/cpu.js";
import type { CasePlan } from "../machine/plan.js";
import { type CaseFacts, factsOf } from "./case-facts.js";
import type { CodeView } from "./code-view.js";
import { CpuPool } from "./cpu-pool.js";
import { digestValue } from "./digest.js";
import { soloStep } from "./solo.js";
import { type Choice, SlotVersions, type SwitchState } from "./versions.js";
import { EntryMemory, VisitedStates } from "./visited.js";
import type { Windows } from "./windows.js";

// Membership of one core's observation in the stop_machine reference family (SPEC 6.2-6.3): walk
// the core's solo run alongside the observation, branch only at passages of slots whose op window
// is open, prune a branch as soon as it departs from the observation, and memoize visited states.

export interface Membership {
  readonly member: boolean;
  /** Index of the first observed event no branch matched (events.length: the end state). */
  readonly point: number;
  /** The closest reference observation found (best branch, completed with default choices); only when not a member. */
  readonly expected?: CoreObservation;
  /** Instructions executed by the search (its cost). */
  readonly work: number;
  /** The search hit its work cap: the verdict is not trustworthy. */
  readonly exhausted: boolean;
}

interface Branch {
  readonly cpu: Cpu;
  /** Observed events matched so far. */
  pos: number;
  /** Passages completed. */
  n: number;
  /** Which ops have switched which slots for this core (the branch's own array). */
  sw: SwitchState;
  /** Slot of the passage in progress, -1 if none. */
  inSlot: number;
}

/** A branch waiting on the search stack, to enter `slot` running `content`. */
interface Alternative {
  readonly branch: Branch;
  readonly slot: number;
  readonly content: Uint8Array;
  /** Recorded states whose memory this branch's state keeps (digested before it runs). */
  readonly keeps?: EntryMemory;
}

/** The branch that matched the most events, kept where it failed, for the expected column. */
interface BestBranch {
  readonly branch: Branch;
  /** Its own events from the first unmatched one on. */
  readonly pending: readonly ObsEvent[];
}

/**
 * Instructions a branch may run before the search cuts it: past twice the core's count and the
 * case's L, a branch is taken to run away.
 */
export function branchLimit(instructions: number, soloBudget: number): number {
  return Math.max(instructions, soloBudget) * 2 + 1000;
}

/**
 * A search's work cap, in per-branch limits. A non-monotonic op whose window spans a few dozen
 * passages through slots that move registers can make the family's distinct states grow with the
 * cube of the passages (an audit's 32-passage core: 155,000 states, about 6,700 solo runs, 0.9 s):
 * the search must be let finish those (PCT campaigns met one in ~40,000 execs, up to 32,000 solo
 * runs), while a runaway still ends, in seconds, as a harness error of the cell.
 */
export const WORK_CAP_LIMITS = 4096;

/** Branch states are recycled across searches: see cpu-pool.ts. */
const POOL = new CpuPool();

/**
 * Empties a state's event list, keeping its backing store: a new array or `length = 0` would make
 * the next event's push allocate one again (a step's events are dropped once matched).
 */
function dropAll(events: ObsEvent[]): void {
  while (events.length > 0) events.pop();
}

function sameEvent(a: ObsEvent, b: ObsEvent): boolean {
  return a.kind === b.kind && (a.kind === "out"
    ? a.port === (b as typeof a).port && a.value === (b as typeof a).value
    : a.addr === (b as Extract<ObsEvent, { kind: "probe" }>).addr);
}

/** Whether the ended cpu shows the observed end state, registers and memory. */
function sameEnd(cpu: Cpu, obs: CoreObservation): boolean {
  const e = cpu.end!, o = obs.end;
  if (e.kind !== o.kind) return false;
  if (e.kind === "fault" && o.kind === "fault" && (e.fault !== o.fault || e.addr !== o.addr)) return false;
  const regs = cpu.regs;
  for (let i = 0; i < regs.length; i++) if (regs[i] !== obs.regs[i]) return false;
  // obs.regs is finalRegs: the registers, then ZF.
  return (cpu.zf ? 1 : 0) === obs.regs[regs.length] && memoryHash(cpu) === digestValue(obs.digest);
}

export class MembershipSearch {
  private readonly slots: readonly Slot[];
  private readonly base: number;
  private readonly facts: CaseFacts;
  private readonly code: CodeView;
  private readonly versions: SlotVersions;
  private readonly hang: boolean;
  private readonly limit: number;
  private readonly cap: number;
  /** Made at the first slot entry with a choice (most searches have none). */
  private visited: VisitedStates | undefined;
  private readonly stack: Alternative[] = [];
  private work = 0;
  private bestPos = -1;
  private best: BestBranch | undefined;

  constructor(
    private readonly plan: CasePlan,
    private readonly core: number,
    private readonly obs: CoreObservation,
    win: Windows,
    /** Real passages of this core, used only to try the likelier version first. */
    real: readonly Passage[],
    soloBudget: number,
    /** The work cap, in per-branch limits (WORK_CAP_LIMITS unless the caller has a fallback). */
    capLimits = WORK_CAP_LIMITS,
  ) {
    this.slots = plan.kase.program.slots;
    this.base = plan.base;
    this.facts = factsOf(plan);
    this.code = this.facts.code;
    this.versions = new SlotVersions(plan, this.facts, win, real);
    this.hang = obs.end.kind === "unfinished";
    this.limit = branchLimit(obs.instructions, soloBudget);
    this.cap = capLimits * this.limit + 100_000;
  }

  run(): Membership {
    this.code.reset();
    let member = this.explore(this.root());
    while (!member && this.stack.length > 0 && this.work < this.cap) {
      const alt = this.stack.pop()!;
      alt.keeps?.digest();
      this.enter(alt.branch, alt.slot, alt.content);
      member = this.explore(alt.branch);
    }
    const exhausted = !member && this.work >= this.cap;
    const point = member ? this.obs.events.length : Math.max(0, Math.min(this.bestPos, this.obs.events.length));
    const expected = member ? undefined : this.expected(); // completing the best branch recycles its state
    if (member && this.best) POOL.release(this.best.branch.cpu);
    for (const alt of this.stack) POOL.release(alt.branch.cpu);
    return { member, point, expected, work: this.work, exhausted };
  }

  private root(): Branch {
    const cpu = POOL.atEntry(this.plan.kase.program.entries[this.core - 1]!);
    return { cpu, pos: 0, n: 0, sw: this.versions.initial(), inSlot: -1 };
  }

  /** Advances a branch to its end; its state is recycled unless it is kept as the best branch. */
  private explore(branch: Branch): boolean {
    const member = this.advance(branch);
    if (this.best?.branch !== branch) POOL.release(branch.cpu);
    return member;
  }

  /** The slot that starts at pc, or -1. */
  private slotStartingAt(pc: number): number {
    const off = pc - this.base;
    const starts = this.facts.slotStartAt;
    return off >= 0 && off < starts.length ? starts[off]! : -1;
  }

  private enter(branch: Branch, k: number, content: Uint8Array): void {
    this.code.write(k, content);
    branch.inSlot = k;
  }

  /**
   * Runs one branch until it succeeds, fails, or every version of a slot it reaches was explored
   * already (pushing the alternatives it does not take). Returns true on success.
   */
  private advance(branch: Branch): boolean {
    // The solo run's hot loop: what it reads on every step is held in locals.
    const { obs, base, slots, limit, cap, hang } = this;
    const { decodes, slotStartAt } = this.facts;
    const code = this.code.bytes;
    const cpu = branch.cpu, observed = obs.events.length;
    for (;;) {
      if (branch.inSlot < 0) {
        const off = cpu.pc - base;
        const k = off >= 0 && off < slotStartAt.length ? slotStartAt[off]! : -1;
        if (k >= 0 && !this.chooseVersion(branch, k)) return false;
      }
      // A branch cut here fails, hung core or not: one that matched every event by the core's count
      // was admitted at that step already (the limit lies past it), and the search past its work
      // cap proves nothing (run() reports it exhausted).
      if (cpu.instructions >= limit || this.work >= cap) return this.fail(branch, []);
      this.work++;
      const flow = soloStep(cpu, code, base, slots, decodes);
      if (cpu.events.length > 0 && !this.matchEvents(branch)) return false;
      if (hang && branch.pos === observed && cpu.instructions >= obs.instructions && !cpu.end) return true;
      if (flow === Flow.Ended) {
        return (!hang && branch.pos === observed && sameEnd(cpu, obs)) || this.fail(branch, []);
      }
      if (branch.inSlot >= 0) this.leaveSlotIfOutside(branch);
    }
  }

  /** Matches the step's events against the observation, then drops them: the branch keeps only a position. */
  private matchEvents(branch: Branch): boolean {
    const events = branch.cpu.events, observed = this.obs.events;
    for (let i = 0; i < events.length; i++) {
      if (branch.pos < observed.length) {
        if (!sameEvent(events[i]!, observed[branch.pos]!)) return this.fail(branch, events.slice(i));
        branch.pos++;
      } else if (!this.hang) {
        return this.fail(branch, events.slice(i));
      }
    }
    dropAll(events);
    return true;
  }

  private leaveSlotIfOutside(branch: Branch): void {
    const s = this.slots[branch.inSlot]!;
    const pc = branch.cpu.pc;
    if (!(pc > s.start && pc < s.start + s.len)) {
      branch.inSlot = -1;
      branch.n++;
    }
  }

  /**
   * Enters slot k with its first admissible version not explored yet, and pushes the others.
   * Returns false if every version was explored already.
   */
  private chooseVersion(branch: Branch, k: number): boolean {
    const versions = this.versions;
    // Outside every window there is one choice (the common case): no copies, no memo.
    if (!versions.windowOpen(branch.sw, k, branch.n)) {
      versions.switchDue(branch.sw, k, branch.n);
      this.enter(branch, k, versions.contentOf(branch.sw, k, -1));
      return true;
    }
    const choices = versions.options(branch.sw, k, branch.n);
    if (choices.length === 1) return this.take(branch, k, choices[0]!);
    // Recording is needed only if some branch waits on the stack: passages completed only grow
    // along a branch, so a state at passage n can recur only on a branch forked before passage n,
    // and with an empty stack every later branch forks here or later.
    const record = this.stack.length > 0;
    // With nothing recorded and nothing to record, every choice is unexplored.
    const memory = record || this.visited ? new EntryMemory(branch.cpu) : undefined;
    const live = memory ? this.unexplored(branch, k, choices, memory, record) : choices;
    if (live.length === 0) return false;
    this.pushAlternatives(branch, k, live, record ? memory : undefined);
    return this.take(branch, k, live[0]!);
  }

  /**
   * Pushes copies of the branch for the choices after the first, the last choice deepest (it runs
   * last). `recorded`, the memory of states just recorded, goes with the deepest copy, or is
   * digested now if there is no copy (the branch runs on and changes it).
   */
  private pushAlternatives(branch: Branch, k: number, live: readonly Choice[], recorded: EntryMemory | undefined): void {
    for (let i = live.length - 1; i >= 1; i--) {
      const copy = POOL.copyOf(branch.cpu);
      const keeps = i === live.length - 1 ? recorded : undefined;
      keeps?.handTo(copy);
      const alternative: Branch = { cpu: copy, pos: branch.pos, n: branch.n, sw: live[i]!.sw, inSlot: branch.inSlot };
      this.stack.push({ branch: alternative, slot: k, content: live[i]!.content, keeps });
    }
    if (live.length === 1) recorded?.digest();
  }

  /** Enters slot k with `choice`, whose switch state becomes the branch's own. */
  private take(branch: Branch, k: number, choice: Choice): true {
    branch.sw = choice.sw;
    this.enter(branch, k, choice.content);
    return true;
  }

  /** The choices whose state the search has not visited (recording them as visited if `record`). */
  private unexplored(branch: Branch, k: number, choices: readonly Choice[], memory: EntryMemory, record: boolean): Choice[] {
    const { cpu, pos, n } = branch;
    const live: Choice[] = [];
    const visited = (this.visited ??= new VisitedStates(this.hang));
    for (const c of choices) if (!visited.visit({ cpu, memory, pos, n, sw: c.sw, slot: k, content: c.content }, record)) live.push(c);
    return live;
  }

  /** A branch failed after matching `branch.pos` events; `pending` are its own events from there. */
  private fail(branch: Branch, pending: ObsEvent[]): false {
    if (branch.pos > this.bestPos) {
      this.bestPos = branch.pos;
      if (this.best) POOL.release(this.best.branch.cpu);
      // A failed branch is never advanced again: keep it as it is, not a copy.
      this.best = { branch, pending };
      this.facts.bestCode.set(this.code.bytes);
    }
    return false;
  }

  /** Completes the best branch with default choices (the last version offered), for the report's "expected" column. */
  private expected(): CoreObservation {
    const branch = this.best?.branch ?? this.root();
    const cpu = branch.cpu;
    // A branch that failed on an event still holds that step's events: the matched ones are in
    // the observation's prefix, the rest in `pending`, so they are dropped before it runs on.
    const events: ObsEvent[] = [...this.obs.events.slice(0, branch.pos), ...(this.best?.pending ?? [])];
    dropAll(cpu.events);
    const code = this.facts.bestCode;
    if (!this.best) code.set(this.plan.images[0]!);
    let steps = 0;
    if (branch.inSlot >= 0) this.leaveSlotIfOutside(branch); // the failing instruction ran, but its passage bookkeeping did not
    while (!cpu.end && steps++ < this.limit) {
      if (branch.inSlot < 0) {
        const k = this.slotStartingAt(cpu.pc);
        if (k >= 0) {
          code.set(this.takeLastChoice(branch, k), this.slots[k]!.start - this.base);
          branch.inSlot = k;
        }
      }
      soloStep(cpu, code, this.base, this.slots, this.facts.decodes);
      for (const e of cpu.events) events.push(e);
      dropAll(cpu.events);
      if (branch.inSlot >= 0) this.leaveSlotIfOutside(branch);
    }
    const expected: CoreObservation = {
      core: this.core, events, times: [], end: cpu.end ?? { kind: "unfinished" }, endTime: 0,
      regs: finalRegs(cpu), digest: memoryDigest(cpu), instructions: cpu.instructions,
    };
    POOL.release(cpu);
    return expected;
  }

  /** Takes the last version offered for slot k (the latest switches), returning its bytes. */
  private takeLastChoice(branch: Branch, k: number): Uint8Array {
    const versions = this.versions;
    if (!versions.windowOpen(branch.sw, k, branch.n)) {
      versions.switchDue(branch.sw, k, branch.n);
      return versions.contentOf(branch.sw, k, -1);
    }
    const choices = versions.options(branch.sw, k, branch.n);
    const last = choices[choices.length - 1]!;
    branch.sw = last.sw;
    return last.content;
  }
}
