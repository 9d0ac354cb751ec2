import type { CoreObservation, ObsEvent, Passage, Slot } from "../types.js";
import { type Cpu, finalRegs, Flow, memoryDigest, newCpu } from "../machine/cpu.js";
import type { CasePlan } from "../machine/plan.js";
import { CpuPool } from "./cpu-pool.js";
import { type InvariantDecodes, invariantDecodes, soloStep } from "./solo.js";
import { sameBytes, VisitedStates } from "./visited.js";
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
  /** Per op, per slot index: switched for this core. */
  readonly sw: Uint8Array;
  /** Slot of the passage in progress, -1 if none. */
  inSlot: number;
}

/** One admissible way through a slot passage: the switch state it implies and the bytes it runs. */
interface Choice {
  readonly sw: Uint8Array;
  readonly content: Uint8Array;
}

/** A branch waiting on the search stack, to enter `slot` running `content`. */
interface Alternative {
  readonly branch: Branch;
  readonly slot: number;
  readonly content: Uint8Array;
}

/** The branch that matched the most events, kept where it failed, for the expected column. */
interface BestBranch {
  readonly branch: Branch;
  /** Its own events from the first unmatched one on. */
  readonly pending: readonly ObsEvent[];
}

/** What the search needs of a case, derived once per case plan. */
interface CaseFacts {
  readonly decodes: InvariantDecodes;
  /** Per slot, per op listing it (in opsOfSlot order): the bytes that op leaves in the slot. */
  readonly targets: readonly (readonly Uint8Array[])[];
  /**
   * The code view every search starts from the initial image and rewrites slot by slot. One buffer
   * per case serves every search (one at a time), instead of a copy of the image per core.
   */
  readonly code: Uint8Array;
  /** The code view as the best branch saw it when it failed (its slot in progress keeps its version). */
  readonly bestCode: Uint8Array;
  /** Per program core: its state at its entry point (copied, never run). */
  readonly initial: readonly Cpu[];
}

/** Per case plan (pure per case: shared by every core, run and replay of the case). */
const FACTS = new WeakMap<CasePlan, CaseFacts>();

function factsOf(plan: CasePlan): CaseFacts {
  let facts = FACTS.get(plan);
  if (!facts) {
    const targets = plan.opsOfSlot.map((ops, k) => ops.map((j) => plan.opSlots[j]!.find((p) => p.slot === k)!.to));
    const initial = plan.kase.program.entries.map((entry) => newCpu(entry));
    facts = { decodes: invariantDecodes(plan.slotAt), targets, code: plan.images[0]!.slice(), bestCode: plan.images[0]!.slice(), initial };
    FACTS.set(plan, facts);
  }
  return facts;
}

/** Branch states are recycled across searches: see cpu-pool.ts. */
const POOL = new CpuPool();

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
  return (cpu.zf ? 1 : 0) === obs.regs[regs.length] && memoryDigest(cpu) === obs.digest;
}

function sameChoice(x: Choice, y: Choice): boolean {
  return sameBytes(x.sw, y.sw) && sameBytes(x.content, y.content);
}

export class MembershipSearch {
  private readonly slots: readonly Slot[];
  private readonly nSlots: number;
  private readonly base: number;
  private readonly code: Uint8Array;
  private readonly facts: CaseFacts;
  private readonly hang: boolean;
  private readonly limit: number;
  private readonly cap: number;
  private readonly visited = new VisitedStates();
  private readonly stack: Alternative[] = [];
  private work = 0;
  private bestPos = -1;
  private best: BestBranch | undefined;

  constructor(
    private readonly plan: CasePlan,
    private readonly core: number,
    private readonly obs: CoreObservation,
    private readonly win: Windows,
    /** Real passages of this core, used only to try the likelier version first. */
    private readonly real: readonly Passage[],
    soloBudget: number,
  ) {
    this.slots = plan.kase.program.slots;
    this.nSlots = this.slots.length;
    this.base = plan.base;
    this.facts = factsOf(plan);
    this.code = this.facts.code;
    this.hang = obs.end.kind === "unfinished";
    this.limit = Math.max(obs.instructions, soloBudget) * 2 + 1000;
    this.cap = 64 * this.limit + 100_000;
  }

  run(): Membership {
    this.code.set(this.plan.images[0]!);
    let member = this.explore(this.root());
    while (!member && this.stack.length > 0 && this.work < this.cap) {
      const alt = this.stack.pop()!;
      this.enter(alt.branch, alt.slot, alt.content);
      member = this.explore(alt.branch);
    }
    const exhausted = !member && this.work >= this.cap;
    const point = member ? this.obs.events.length : Math.max(0, Math.min(this.bestPos, this.obs.events.length));
    const expected = member ? undefined : this.expected();
    for (const alt of this.stack) POOL.release(alt.branch.cpu);
    return { member, point, expected, work: this.work, exhausted };
  }

  private root(): Branch {
    const cpu = POOL.copyOf(this.facts.initial[this.core - 1]!);
    return { cpu, pos: 0, n: 0, sw: new Uint8Array(this.plan.kase.ops.length * this.nSlots), inSlot: -1 };
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
    const k = off >= 0 && off < this.code.length ? this.plan.slotAt[off]! : -1;
    return k >= 0 && this.slots[k]!.start === pc ? k : -1;
  }

  private enter(branch: Branch, k: number, content: Uint8Array): void {
    this.code.set(content, this.slots[k]!.start - this.base);
    branch.inSlot = k;
  }

  /**
   * Runs one branch until it succeeds, fails, or every version of a slot it reaches was explored
   * already (pushing the alternatives it does not take). Returns true on success.
   */
  private advance(branch: Branch): boolean {
    const obs = this.obs, cpu = branch.cpu;
    for (;;) {
      if (branch.inSlot < 0) {
        const k = this.slotStartingAt(cpu.pc);
        if (k >= 0 && !this.chooseVersion(branch, k)) return false;
      }
      if (cpu.instructions >= this.limit || this.work >= this.cap) {
        return (this.hang && branch.pos === obs.events.length) || this.fail(branch, []);
      }
      this.work++;
      const flow = soloStep(cpu, this.code, this.base, this.slots, this.facts.decodes);
      if (cpu.events.length > 0 && !this.matchEvents(branch)) return false;
      if (this.hang && branch.pos === obs.events.length && cpu.instructions >= obs.instructions && !cpu.end) return true;
      if (flow === Flow.Ended) {
        return (!this.hang && branch.pos === obs.events.length && sameEnd(cpu, obs)) || this.fail(branch, []);
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
    branch.cpu.events = [];
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
    // Outside every window there is one choice (the common case): no copies, no memo.
    if (!this.windowOpen(branch.sw, k, branch.n)) {
      this.switchDue(branch.sw, k, branch.n);
      this.enter(branch, k, this.contentOf(branch.sw, k, -1));
      return true;
    }
    const choices = this.options(branch, k);
    const live = choices.length === 1 ? choices : this.unexplored(branch, k, choices);
    if (live.length === 0) return false;
    for (let i = live.length - 1; i >= 1; i--) {
      const { cpu, pos, n } = branch;
      this.stack.push({ branch: { cpu: POOL.copyOf(cpu), pos, n, sw: live[i]!.sw, inSlot: branch.inSlot }, slot: k, content: live[i]!.content });
    }
    branch.sw.set(live[0]!.sw);
    this.enter(branch, k, live[0]!.content);
    return true;
  }

  /** The choices whose state the search has not visited, recording them as visited. */
  private unexplored(branch: Branch, k: number, choices: readonly Choice[]): Choice[] {
    const digest = memoryDigest(branch.cpu);
    return choices.filter((c) => this.visited.add({ cpu: branch.cpu, digest, pos: branch.pos, n: branch.n, sw: c.sw, slot: k, content: c.content }));
  }

  private switched(sw: Uint8Array, j: number, k: number): boolean {
    return sw[j * this.nSlots + k] === 1;
  }

  /** Whether some op of slot k not switched yet may still switch or not at passage n (its window is open). */
  private windowOpen(sw: Uint8Array, k: number, n: number): boolean {
    const { a, b } = this.win;
    for (const j of this.plan.opsOfSlot[k]!) {
      if (this.switched(sw, j, k) || n >= b[j]!) continue;
      return n >= a[j]!;
    }
    return false;
  }

  /** Switches, in order, the ops of slot k whose window closed before passage n. */
  private switchDue(sw: Uint8Array, k: number, n: number): void {
    const b = this.win.b;
    for (const j of this.plan.opsOfSlot[k]!) {
      if (this.switched(sw, j, k)) continue;
      if (n < b[j]!) return;
      this.switchOp(sw, j, k);
    }
  }

  /** Switches op j for slot k (all its slots if atomic), switching earlier ops of those slots first. */
  private switchOp(sw: Uint8Array, j: number, k: number): void {
    const op = this.plan.kase.ops[j]!;
    const targets = op.batch === "atomic" ? op.targets.map((t) => t.slot) : [k];
    for (const kk of targets) {
      for (const jj of this.plan.opsOfSlot[kk]!) {
        if (jj >= j) break;
        if (!this.switched(sw, jj, kk)) this.switchOp(sw, jj, kk);
      }
      sw[j * this.nSlots + kk] = 1;
    }
  }

  /** The bytes of slot k under switch state sw, with op `transient` (-1: none) seen as switched. */
  private contentOf(sw: Uint8Array, k: number, transient: number): Uint8Array {
    let content = this.slots[k]!.old;
    const ops = this.plan.opsOfSlot[k]!, targets = this.facts.targets[k]!;
    for (let i = 0; i < ops.length; i++) {
      if (this.switched(sw, ops[i]!, k) || ops[i] === transient) content = targets[i]!;
    }
    return content;
  }

  /** Every admissible (switch state, slot content) for a passage of slot k whose window is open. */
  private options(branch: Branch, k: number): Choice[] {
    const { a, b } = this.win;
    const n = branch.n;
    const out: Choice[] = [];
    const sw = branch.sw.slice();
    for (const j of this.plan.opsOfSlot[k]!) {
      if (this.switched(sw, j, k)) continue;
      if (n >= b[j]!) {
        this.switchOp(sw, j, k);
        continue;
      }
      if (n < a[j]!) break;
      out.push({ sw: sw.slice(), content: this.contentOf(sw, k, -1) });
      if (!this.plan.kase.ops[j]!.monotonic) out.push({ sw: sw.slice(), content: this.contentOf(sw, k, j) });
      this.switchOp(sw, j, k);
    }
    out.push({ sw, content: this.contentOf(sw, k, -1) });
    // Distinct contents with distinct states only; try the version the real passage fetched first.
    const unique = out.filter((o, i) => out.findIndex((p) => sameChoice(p, o)) === i);
    const realPassage = this.real[n];
    if (realPassage && realPassage.slot === k && unique.length > 1) return this.likeliestFirst(unique, realPassage);
    return unique;
  }

  /**
   * The choices ordered by how many of the real passage's fetched slot bytes they hold, most first,
   * ties in offered order. An insertion sort: there are two or three choices, and Array.sort's
   * comparator calls cost more than the sort.
   */
  private likeliestFirst(choices: Choice[], realPassage: Passage): Choice[] {
    const scores = choices.map((c) => this.fetchedBytesHeld(realPassage, c.content));
    for (let i = 1; i < choices.length; i++) {
      const c = choices[i]!, score = scores[i]!;
      let at = i;
      for (; at > 0 && scores[at - 1]! < score; at--) {
        choices[at] = choices[at - 1]!;
        scores[at] = scores[at - 1]!;
      }
      choices[at] = c;
      scores[at] = score;
    }
    return choices;
  }

  /** How many bytes the real passage fetched from its slot equal `content`'s at the same offset. */
  private fetchedBytesHeld(realPassage: Passage, content: Uint8Array): number {
    const s = this.slots[realPassage.slot]!;
    let held = 0;
    for (const f of realPassage.fetched) {
      for (let i = 0; i < f.bytes.length; i++) {
        const o = f.addr + i - s.start;
        if (o >= 0 && o < s.len && content[o] === f.bytes[i]) held++;
      }
    }
    return held;
  }

  /** A branch failed after matching `branch.pos` events; `pending` are its own events from there. */
  private fail(branch: Branch, pending: ObsEvent[]): false {
    if (branch.pos > this.bestPos) {
      this.bestPos = branch.pos;
      if (this.best) POOL.release(this.best.branch.cpu);
      // A failed branch is never advanced again: keep it as it is, not a copy.
      this.best = { branch, pending };
      this.facts.bestCode.set(this.code);
    }
    return false;
  }

  /** Completes the best branch with default choices (the last version offered), for the report's "expected" column. */
  private expected(): CoreObservation {
    const branch = this.best?.branch ?? this.root();
    const cpu = branch.cpu;
    // A branch that failed on an event still holds that step's events; they are reported again
    // after the next step's (as they always were: the expected column must not change).
    const events: ObsEvent[] = [...this.obs.events.slice(0, branch.pos), ...(this.best?.pending ?? [])];
    const code = this.facts.bestCode;
    if (!this.best) code.set(this.plan.images[0]!);
    const base = this.base;
    let steps = 0;
    if (branch.inSlot >= 0) this.leaveSlotIfOutside(branch); // the failing instruction ran, but its passage bookkeeping did not
    while (!cpu.end && steps++ < this.limit) {
      const off = cpu.pc - base;
      if (branch.inSlot < 0 && off >= 0 && off < code.length) {
        const k = this.plan.slotAt[off]!;
        if (k >= 0 && this.slots[k]!.start === cpu.pc) {
          code.set(this.takeLastChoice(branch, k), this.slots[k]!.start - base);
          branch.inSlot = k;
        }
      }
      soloStep(cpu, code, base, this.slots, this.facts.decodes);
      events.push(...cpu.events);
      cpu.events = [];
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
    if (!this.windowOpen(branch.sw, k, branch.n)) {
      this.switchDue(branch.sw, k, branch.n);
      return this.contentOf(branch.sw, k, -1);
    }
    const choices = this.options(branch, k);
    const last = choices[choices.length - 1]!;
    branch.sw.set(last.sw);
    return last.content;
  }
}
