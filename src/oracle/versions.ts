import type { PatchOp, Passage, Slot } from "../types.js";
import type { CasePlan } from "../machine/plan.js";
import type { CaseFacts } from "./case-facts.js";
import { sameElements } from "./same-elements.js";
import type { Windows } from "./windows.js";

// The reference family's rules at a slot passage (SPEC 6.2), for one core: which ops have switched
// for it (a switch state: per op, per slot), which may switch at its n-th passage given its
// windows, and which bytes the slot then holds.

/**
 * Per op, per slot (index j * slots + k): 1 if op j has switched slot k for the core. A plain array:
 * states are copied per choice and per recorded state, and a typed array costs ten times as much
 * to allocate as a small array.
 */
export type SwitchState = number[];

/** One admissible way through a slot passage: the switch state it implies and the bytes it runs. */
export interface Choice {
  readonly sw: SwitchState;
  readonly content: Uint8Array;
}

function sameChoice(x: Choice, y: Choice): boolean {
  return sameElements(x.sw, y.sw) && sameElements(x.content, y.content);
}

/** The choices without repeats (same state and bytes), first occurrences in order. */
function distinct(choices: Choice[]): Choice[] {
  const unique: Choice[] = [];
  for (const c of choices) {
    let seen = false;
    for (const u of unique) seen ||= sameChoice(u, c);
    if (!seen) unique.push(c);
  }
  return unique;
}

export class SlotVersions {
  private readonly slots: readonly Slot[];
  private readonly ops: readonly PatchOp[];
  private readonly nSlots: number;

  constructor(
    private readonly plan: CasePlan,
    private readonly facts: CaseFacts,
    private readonly win: Windows,
    /** Real passages of this core, used only to try the likelier version first. */
    private readonly real: readonly Passage[],
  ) {
    this.slots = plan.kase.program.slots;
    this.ops = plan.kase.ops;
    this.nSlots = this.slots.length;
  }

  /** A switch state with nothing switched. */
  initial(): SwitchState {
    return new Array<number>(this.ops.length * this.nSlots).fill(0);
  }

  /** Whether some op of slot k not switched yet may switch or not at passage n (its window is open). */
  windowOpen(sw: SwitchState, k: number, n: number): boolean {
    const { a, b } = this.win;
    for (const j of this.plan.opsOfSlot[k]!) {
      if (this.switched(sw, j, k) || n >= b[j]!) continue;
      return n >= a[j]!;
    }
    return false;
  }

  /** Switches, in order, the ops of slot k whose window closed before passage n. */
  switchDue(sw: SwitchState, k: number, n: number): void {
    const b = this.win.b;
    for (const j of this.plan.opsOfSlot[k]!) {
      if (this.switched(sw, j, k)) continue;
      if (n < b[j]!) return;
      this.switchOp(sw, j, k);
    }
  }

  /** The bytes of slot k under switch state sw, with op `transient` (-1: none) seen as switched. */
  contentOf(sw: SwitchState, k: number, transient: number): Uint8Array {
    let content = this.slots[k]!.old;
    const ops = this.plan.opsOfSlot[k]!, targets = this.facts.targets[k]!;
    for (let i = 0; i < ops.length; i++) {
      if (this.switched(sw, ops[i]!, k) || ops[i] === transient) content = targets[i]!;
    }
    return content;
  }

  /**
   * Every admissible (switch state, slot content) for passage n through slot k when a window is
   * open, distinct, the version the real passage fetched first.
   */
  options(current: SwitchState, k: number, n: number): Choice[] {
    const { a, b } = this.win;
    const out: Choice[] = [];
    const sw = current.slice();
    let repeats = false;
    for (const j of this.plan.opsOfSlot[k]!) {
      if (this.switched(sw, j, k)) continue;
      if (n >= b[j]!) {
        this.switchOp(sw, j, k);
        continue;
      }
      if (n < a[j]!) break;
      out.push({ sw: sw.slice(), content: this.contentOf(sw, k, -1) });
      if (!this.ops[j]!.monotonic) {
        out.push({ sw: sw.slice(), content: this.contentOf(sw, k, j) });
        repeats = true;
      }
      this.switchOp(sw, j, k);
    }
    out.push({ sw, content: this.contentOf(sw, k, -1) });
    // Each switch sets a new bit, so only a non-monotonic op's two versions can repeat a choice.
    const unique = repeats ? distinct(out) : out;
    const realPassage = this.real[n];
    if (realPassage && realPassage.slot === k && unique.length > 1) return this.likeliestFirst(unique, realPassage);
    return unique;
  }

  private switched(sw: SwitchState, j: number, k: number): boolean {
    return sw[j * this.nSlots + k] === 1;
  }

  /** Switches op j for slot k (all its slots if atomic). */
  private switchOp(sw: SwitchState, j: number, k: number): void {
    const op = this.ops[j]!;
    if (op.batch !== "atomic") return this.switchSlot(sw, j, k);
    for (const t of op.targets) this.switchSlot(sw, j, t.slot);
  }

  /** Switches op j for slot k, switching the earlier ops of slot k first. */
  private switchSlot(sw: SwitchState, j: number, k: number): void {
    for (const jj of this.plan.opsOfSlot[k]!) {
      if (jj >= j) break;
      if (!this.switched(sw, jj, k)) this.switchOp(sw, jj, k);
    }
    sw[j * this.nSlots + k] = 1;
  }

  /**
   * The choices ordered by how many of the real passage's fetched slot bytes they hold, most first,
   * ties in offered order. An insertion sort: there are two or three choices, and Array.sort's
   * comparator calls cost more than the sort.
   */
  private likeliestFirst(choices: Choice[], realPassage: Passage): Choice[] {
    const scores: number[] = [];
    for (const c of choices) scores.push(this.fetchedBytesHeld(realPassage, c.content));
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
}
