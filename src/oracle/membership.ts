import type { CoreObservation, ObsEvent, Passage } from "../types.js";
import { type Cpu, cloneCpu, finalRegs, Flow, memoryDigest, newCpu } from "../machine/cpu.js";
import type { CasePlan } from "../machine/plan.js";
import { type InvariantDecodes, invariantDecodes, soloStep } from "./solo.js";
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

interface Node {
  readonly cpu: Cpu;
  /** Observed events matched so far. */
  pos: number;
  /** Passages completed. */
  n: number;
  /** Per op, per slot index: switched for this core. */
  readonly sw: Uint8Array;
  /** Slot of the passage in progress, -1 if none. */
  inSlot: number;
  /** Events produced beyond the observation (hang mode only). */
  extra: ObsEvent[];
}

interface Alternative {
  readonly node: Node;
  readonly slot: number;
  readonly content: Uint8Array;
}

/** `a.join(sep)` for a typed array, without its generic (slow) path: state keys are built per branch. */
function join(a: ArrayLike<number>, sep: string): string {
  let s = "";
  for (let i = 0; i < a.length; i++) s += i > 0 ? sep + a[i]! : "" + a[i]!;
  return s;
}

function sameEvent(a: ObsEvent, b: ObsEvent): boolean {
  return a.kind === b.kind && (a.kind === "out"
    ? a.port === (b as typeof a).port && a.value === (b as typeof a).value
    : a.addr === (b as Extract<ObsEvent, { kind: "probe" }>).addr);
}

function sameEnd(cpu: Cpu, obs: CoreObservation): boolean {
  const e = cpu.end!, o = obs.end;
  if (e.kind !== o.kind) return false;
  if (e.kind === "fault" && o.kind === "fault" && (e.fault !== o.fault || e.addr !== o.addr)) return false;
  const regs = finalRegs(cpu);
  return regs.every((r, i) => r === obs.regs[i]) && memoryDigest(cpu) === obs.digest;
}

/** Per case plan (pure per case: shared by every core, run and replay of the case). */
const DECODES = new WeakMap<CasePlan, InvariantDecodes>();

function decodesOf(plan: CasePlan): InvariantDecodes {
  let d = DECODES.get(plan);
  if (!d) DECODES.set(plan, (d = invariantDecodes(plan.slotAt)));
  return d;
}

export class MembershipSearch {
  private readonly slots;
  private readonly nSlots: number;
  private readonly code: Uint8Array;
  private readonly hang: boolean;
  private readonly decodes: InvariantDecodes;
  private readonly limit: number;
  private readonly cap: number;
  private work = 0;
  private bestPos = -1;
  /** The branch that matched the most events, saved where it failed, for the expected column. */
  private best: { node: Node; pending: ObsEvent[]; code: Uint8Array } | undefined;

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
    this.code = plan.images[0]!.slice();
    this.decodes = decodesOf(plan);
    this.hang = obs.end.kind === "unfinished";
    this.limit = Math.max(obs.instructions, soloBudget) * 2 + 1000;
    this.cap = 64 * this.limit + 100_000;
  }

  private switched(sw: Uint8Array, j: number, k: number): boolean {
    return sw[j * this.nSlots + k] === 1;
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

  private contentOf(sw: Uint8Array, k: number, transient: number): Uint8Array {
    let content = this.slots[k]!.old;
    for (const j of this.plan.opsOfSlot[k]!) {
      if (this.switched(sw, j, k) || j === transient) content = this.plan.opSlots[j]!.find((p) => p.slot === k)!.to;
    }
    return content;
  }

  /** Every admissible (switch state, slot content) for a passage of slot k at passage index n. */
  private options(node: Node, k: number): { sw: Uint8Array; content: Uint8Array }[] {
    const { a, b } = this.win;
    const n = node.n;
    const out: { sw: Uint8Array; content: Uint8Array }[] = [];
    const sw = node.sw.slice();
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
    // Outside every window there is one choice (the common case): no dedup, no ordering.
    if (out.length === 1) return out;
    // Distinct contents with distinct states only; try the version the real passage fetched first.
    const seen = new Set<string>();
    const unique = out.filter((o) => {
      const key = `${join(o.sw, "")}:${join(o.content, ",")}`;
      return seen.has(key) ? false : (seen.add(key), true);
    });
    const realPassage = this.real[n];
    if (realPassage && realPassage.slot === k && unique.length > 1) {
      const s = this.slots[k]!;
      const score = (c: Uint8Array) => {
        let m = 0;
        for (const f of realPassage.fetched) {
          f.bytes.forEach((v, i) => {
            const o = f.addr + i - s.start;
            if (o >= 0 && o < s.len && c[o] === v) m++;
          });
        }
        return m;
      };
      unique.sort((x, y) => score(y.content) - score(x.content));
    }
    return unique;
  }

  private stateKey(node: Node, k: number, content: Uint8Array): string {
    const c = node.cpu;
    return `${c.pc}|${join(c.regs, ",")}|${c.zf ? 1 : 0}|${memoryDigest(c)}|${c.regs[4]}|${node.pos}|${node.n}|${join(node.sw, "")}|${k}|${join(content, ",")}`;
  }

  private clone(node: Node): Node {
    return { cpu: cloneCpu(node.cpu), pos: node.pos, n: node.n, sw: node.sw.slice(), inSlot: node.inSlot, extra: node.extra.slice() };
  }

  /** A branch failed after matching `node.pos` events; `pending` are its own events from there. */
  private fail(node: Node, pending: ObsEvent[]): false {
    if (node.pos > this.bestPos) {
      this.bestPos = node.pos;
      this.best = { node: this.clone(node), pending, code: this.code.slice() };
    }
    return false;
  }

  /**
   * Runs one branch until it succeeds, fails, or reaches an open window (pushing alternatives).
   * Returns true on success.
   */
  private advance(node: Node, stack: Alternative[], visited: Set<string>, pending?: Alternative): boolean {
    const { obs } = this;
    const base = this.plan.base;
    let enter = pending;
    for (;;) {
      const cpu = node.cpu;
      if (enter) {
        this.code.set(enter.content, this.slots[enter.slot]!.start - base);
        node.inSlot = enter.slot;
        enter = undefined;
      } else if (node.inSlot < 0) {
        const off = cpu.pc - base;
        const k = off >= 0 && off < this.code.length ? this.plan.slotAt[off]! : -1;
        if (k >= 0 && this.slots[k]!.start === cpu.pc) {
          const opts = this.options(node, k);
          const live: Alternative[] = [];
          for (const o of opts) {
            const probe: Node = { cpu: node.cpu, pos: node.pos, n: node.n, sw: o.sw, inSlot: node.inSlot, extra: node.extra };
            const key = opts.length > 1 ? this.stateKey(probe, k, o.content) : "";
            if (key && visited.has(key)) continue;
            if (key) visited.add(key);
            live.push({ node: probe, slot: k, content: o.content });
          }
          if (live.length === 0) return false;
          for (let i = live.length - 1; i >= 1; i--) stack.push({ node: this.clone(live[i]!.node), slot: live[i]!.slot, content: live[i]!.content });
          node.sw.set(live[0]!.node.sw);
          enter = live[0];
          continue;
        }
      }
      if (cpu.instructions >= this.limit || this.work >= this.cap) {
        return (this.hang && node.pos === obs.events.length) || this.fail(node, []);
      }
      this.work++;
      const flow = soloStep(cpu, this.code, base, this.slots, this.decodes);
      // Compare new events with the observation, then drop them: the branch keeps only a position.
      const events = cpu.events;
      for (let i = 0; i < events.length; i++) {
        const ev = events[i]!;
        if (node.pos < obs.events.length) {
          if (!sameEvent(ev, obs.events[node.pos]!)) return this.fail(node, events.slice(i));
          node.pos++;
        } else if (this.hang) {
          node.extra.push(ev);
        } else {
          return this.fail(node, events.slice(i));
        }
      }
      if (events.length > 0) cpu.events = [];
      if (this.hang && node.pos === obs.events.length && cpu.instructions >= obs.instructions && !cpu.end) return true;
      if (flow === Flow.Ended) {
        return (!this.hang && node.pos === obs.events.length && sameEnd(cpu, obs)) || this.fail(node, []);
      }
      if (node.inSlot >= 0) {
        const s = this.slots[node.inSlot]!;
        if (!(cpu.pc > s.start && cpu.pc < s.start + s.len)) {
          node.inSlot = -1;
          node.n++;
        }
      }
    }
  }

  run(): Membership {
    const entry = this.plan.kase.program.entries[this.core - 1]!;
    const root: Node = {
      cpu: newCpu(entry), pos: 0, n: 0, sw: new Uint8Array(this.plan.kase.ops.length * this.nSlots),
      inSlot: -1, extra: [],
    };
    const stack: Alternative[] = [];
    const visited = new Set<string>();
    let member = this.advance(root, stack, visited);
    while (!member && stack.length > 0 && this.work < this.cap) {
      const alt = stack.pop()!;
      member = this.advance(alt.node, stack, visited, alt);
    }
    const exhausted = !member && this.work >= this.cap;
    const point = member ? this.obs.events.length : Math.max(0, Math.min(this.bestPos, this.obs.events.length));
    return { member, point, expected: member ? undefined : this.expected(), work: this.work, exhausted };
  }

  /** Completes the best branch with default choices, for the report's "expected" column. */
  private expected(): CoreObservation {
    const node = this.best?.node ?? { cpu: newCpu(this.plan.kase.program.entries[this.core - 1]!), pos: 0, n: 0, sw: new Uint8Array(this.plan.kase.ops.length * this.nSlots), inSlot: -1, extra: [] };
    const cpu = cloneCpu(node.cpu);
    const events: ObsEvent[] = [...this.obs.events.slice(0, node.pos), ...(this.best?.pending ?? [])];
    // The code view as the failing branch saw it (its slot in progress keeps its version).
    const code = this.best?.code ?? this.plan.images[0]!.slice();
    const sw = node.sw.slice();
    let n = node.n, inSlot = node.inSlot;
    const base = this.plan.base;
    let steps = 0;
    const leaveSlot = () => {
      const s = inSlot >= 0 ? this.slots[inSlot]! : undefined;
      if (s && !(cpu.pc > s.start && cpu.pc < s.start + s.len)) {
        inSlot = -1;
        n++;
      }
    };
    leaveSlot(); // the failing instruction ran, but its passage bookkeeping did not
    while (!cpu.end && steps++ < this.limit) {
      const off = cpu.pc - base;
      if (inSlot < 0 && off >= 0 && off < code.length) {
        const k = this.plan.slotAt[off]!;
        if (k >= 0 && this.slots[k]!.start === cpu.pc) {
          const opts = this.options({ cpu, pos: 0, n, sw, inSlot, extra: [] }, k);
          const pick = opts[opts.length - 1]!;
          sw.set(pick.sw);
          code.set(pick.content, this.slots[k]!.start - base);
          inSlot = k;
        }
      }
      soloStep(cpu, code, base, this.slots);
      events.push(...cpu.events);
      cpu.events = [];
      leaveSlot();
    }
    return {
      core: this.core, events, times: [], end: cpu.end ?? { kind: "unfinished" }, endTime: 0,
      regs: finalRegs(cpu), digest: memoryDigest(cpu), instructions: cpu.instructions,
    };
  }
}
