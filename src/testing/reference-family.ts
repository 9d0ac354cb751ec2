import type { CoreObservation, Slot } from "../types.js";
import { cloneCpu, type Cpu, finalRegs, memoryDigest, newCpu } from "../machine/cpu.js";
import { type CasePlan, slotPlanOf } from "../machine/plan.js";
import { soloStep } from "../oracle/solo.js";
import type { Windows } from "../oracle/windows.js";

// The stop_machine reference family of one core (SPEC 6.2) by brute force, for checking the
// membership search (SPEC 6.3) against the definition: every admissible choice of switch points is
// run to its end, with no memo, no pruning and no ordering, and the observations are collected.
// Only small cases can be enumerated; past `maxBranches` the family is unknown.
//
// Admissible choices, at a passage through slot k that begins after n completed passages, taking
// slot k's ops in order: an op already switched for k is passed; one whose window has closed
// (n >= b_j) switches now; one whose window has not opened (n < a_j) stops the walk, as do the
// choices not to switch an op whose window is open: the passage sees the version switched last, or
// for a non-monotonic op also that op's own target, for this passage only; switching it goes on to
// the next op. Switching an atomic op switches all its slots, each after its earlier ops (so that
// no op's point follows a later op's for the same slot).

/** What an observation is compared on: events, end state, registers and memory digest. */
export function observationKey(o: Pick<CoreObservation, "events" | "end" | "regs" | "digest">): string {
  return JSON.stringify([o.events, o.end, o.regs, o.digest]);
}

interface Branch {
  readonly cpu: Cpu;
  readonly code: Uint8Array;
  /** Switched (op, slot) pairs, as op * slots + slot. */
  switched: Set<number>;
  /** Passages completed. */
  n: number;
  /** The slot of the passage in progress, or -1. */
  inSlot: number;
}

interface Choice {
  readonly switched: Set<number>;
  readonly content: Uint8Array;
}

export interface Family {
  /** Keys (observationKey) of the ended observations. */
  readonly ended: ReadonlySet<string>;
  /** Some branch did not end within the instruction limit. */
  readonly unfinished: boolean;
}

/**
 * Walks every path of the family, calling `afterStep` after each instruction with the count of the
 * core's events before it; a path ends when the core ends, when it has run `maxInstructions`, or
 * when `afterStep` returns true (then `atEnd` is not called for it). Returns false past
 * `maxBranches` paths.
 */
function walkFamily(
  plan: CasePlan, core: number, win: Windows, maxBranches: number, maxInstructions: number,
  afterStep: (cpu: Cpu, eventsBefore: number) => boolean, atEnd: (cpu: Cpu) => void,
): boolean {
  const { kase } = plan;
  const slots = kase.program.slots, base = kase.program.base, nSlots = slots.length;
  const opsOf = plan.opsOfSlot;
  const target = (j: number, k: number): Uint8Array => slotPlanOf(plan.opSlots[j]!, k).to;
  const isSwitched = (sw: Set<number>, j: number, k: number) => sw.has(j * nSlots + k);
  const shown = (sw: Set<number>, k: number): Uint8Array => {
    let content = slots[k]!.old;
    for (const j of opsOf[k]!) if (isSwitched(sw, j, k)) content = target(j, k);
    return content;
  };
  const switchOp = (sw: Set<number>, j: number, k: number): void => {
    const op = kase.ops[j]!;
    for (const k2 of op.batch === "atomic" ? op.targets.map((t) => t.slot) : [k]) {
      for (const jj of opsOf[k2]!) if (jj < j && !isSwitched(sw, jj, k2)) switchOp(sw, jj, k2);
      sw.add(j * nSlots + k2);
    }
  };
  const choices = (sw: Set<number>, k: number, n: number, from = 0): Choice[] => {
    const ops = opsOf[k]!;
    for (let i = from; i < ops.length; i++) {
      const j = ops[i]!;
      if (isSwitched(sw, j, k)) continue;
      if (n >= win.b[j]!) {
        const next = new Set(sw);
        switchOp(next, j, k);
        return choices(next, k, n, i + 1);
      }
      if (n < win.a[j]!) break;
      const out: Choice[] = [{ switched: sw, content: shown(sw, k) }];
      if (!kase.ops[j]!.monotonic) out.push({ switched: sw, content: target(j, k) });
      const next = new Set(sw);
      switchOp(next, j, k);
      return [...out, ...choices(next, k, n, i + 1)];
    }
    return [{ switched: sw, content: shown(sw, k) }];
  };
  const slotStartingAt = (pc: number) => slots.findIndex((s) => s.start === pc);
  const strictlyInside = (s: Slot, pc: number) => pc > s.start && pc < s.start + s.len;

  let branches = 1;
  const pending: Branch[] = [{ cpu: newCpu(kase.program.entries[core - 1]!), code: plan.images[0]!.slice(), switched: new Set(), n: 0, inSlot: -1 }];
  paths: while (pending.length > 0) {
    const b = pending.pop()!;
    const cpu = b.cpu;
    while (!cpu.end && cpu.instructions < maxInstructions) {
      if (b.inSlot < 0) {
        const k = slotStartingAt(cpu.pc);
        if (k >= 0) {
          const [first, ...others] = choices(b.switched, k, b.n);
          branches += others.length;
          if (branches > maxBranches) return false;
          for (const c of others) {
            const code = b.code.slice();
            code.set(c.content, slots[k]!.start - base);
            pending.push({ cpu: cloneCpu(cpu), code, switched: c.switched, n: b.n, inSlot: k });
          }
          b.switched = first!.switched;
          b.code.set(first!.content, slots[k]!.start - base);
          b.inSlot = k;
        }
      }
      const eventsBefore = cpu.events.length;
      soloStep(cpu, b.code, base, slots);
      if (b.inSlot >= 0 && (cpu.end || !strictlyInside(slots[b.inSlot]!, cpu.pc))) {
        b.inSlot = -1;
        b.n++;
      }
      if (afterStep(cpu, eventsBefore)) continue paths;
    }
    atEnd(cpu);
  }
  return true;
}

/** The observations the family's paths end with; undefined past `maxBranches` paths. */
export function referenceFamily(plan: CasePlan, core: number, win: Windows, maxBranches: number, maxInstructions: number): Family | undefined {
  const ended = new Set<string>();
  let unfinished = false;
  const walked = walkFamily(plan, core, win, maxBranches, maxInstructions, () => false, (cpu) => {
    if (!cpu.end) unfinished = true;
    else ended.add(observationKey({ events: cpu.events, end: cpu.end, regs: finalRegs(cpu), digest: memoryDigest(cpu) }));
  });
  return walked ? { ended, unfinished } : undefined;
}

/**
 * Whether the family admits a hung core's observation (SPEC 6.4): some path whose events match the
 * observation's as far as both go has produced them all and run as many instructions as the core
 * did, without ending. A path cut at `limit` instructions admits it if it has produced them all (the
 * membership search's own cut). Undefined past `maxBranches` paths.
 */
export function admitsHung(plan: CasePlan, core: number, win: Windows, obs: CoreObservation, maxBranches: number, limit: number): boolean | undefined {
  const observed = obs.events;
  let admitted = false;
  const matched = (cpu: Cpu) => cpu.events.length >= observed.length;
  const walked = walkFamily(plan, core, win, maxBranches, limit, (cpu, eventsBefore) => {
    if (admitted) return true;
    for (let i = eventsBefore; i < Math.min(cpu.events.length, observed.length); i++) {
      if (JSON.stringify(cpu.events[i]) !== JSON.stringify(observed[i])) return true;
    }
    if (matched(cpu) && cpu.instructions >= obs.instructions && !cpu.end) admitted = true;
    return admitted || cpu.end !== undefined;
  }, (cpu) => {
    if (!cpu.end && matched(cpu)) admitted = true;
  });
  return walked ? admitted : undefined;
}
