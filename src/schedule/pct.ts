import seedrandom from "seedrandom";
import { type Chooser, MAX_CORES } from "../types.js";

// PCT (Burckhardt, Kothari, Musuvathi, Nagarakatte, ASPLOS 2010): actors get random priorities,
// the highest-priority enabled actor runs, and d-1 change points lower the running actor's
// priority. A bug of depth d is found with probability >= 1/(n k^(d-1)) per run.

/** Actors: the patcher (0), the program cores and the memory system (nCores <= MAX_CORES). */
const MAX_ACTORS = MAX_CORES + 1;

export interface PctOptions {
  /** Bug depth d: d-1 priority change points. */
  readonly depth: number;
  /** Expected number of event choices (k); change points are drawn in [0, k). */
  readonly length: number;
  /** Count only choices made while the patcher is active, so change points land in the patch window. */
  readonly inPatchWindow?: boolean;
  /**
   * Where the run's counted choices are added: a caller sizes later runs' `length` from them (a
   * run's events are more than its counted choices, and change points drawn past those never fire).
   */
  readonly counted?: { steps: number };
}

export class PctChooser implements Chooser {
  private readonly rng: () => number;
  /**
   * Priority by actor, NaN until first seen: an array, not a Map (a lookup per enabled event per
   * decision), and not a typed array (one of 72 bytes has its store outside the heap, allocated
   * per run).
   */
  private readonly priority: number[] = Array.from({ length: MAX_ACTORS }, () => NaN);
  private readonly changePoints: number[];
  private steps = 0;
  private changed = 0;

  constructor(seed: number | string, private readonly opts: PctOptions) {
    this.rng = seedrandom.alea(`pct:${seed}`);
    this.changePoints = Array.from({ length: Math.max(0, opts.depth - 1) }, () => Math.floor(this.rng() * opts.length)).sort((a, b) => a - b);
  }

  choose(options: number): number {
    return Math.floor(this.rng() * options);
  }

  private priorityOf(actor: number): number {
    let p = this.priority[actor]!;
    if (Number.isNaN(p)) {
      // Initial priorities lie above every change-point priority (1..d-1); random among actors.
      p = this.opts.depth + this.rng();
      this.priority[actor] = p;
    }
    return p;
  }

  chooseEvent(actors: readonly number[], n: number): number {
    // Called once per scheduler event: plain loops, no per-call arrays or closures.
    let counts = !this.opts.inPatchWindow;
    for (let i = 0; i < n && !counts; i++) counts = actors[i] === 0;
    let top = this.highest(actors, n);
    if (counts) {
      while (this.changed < this.changePoints.length && this.changePoints[this.changed] === this.steps) {
        // Change point i: the actor about to run drops below everyone (priority d - 1 - i).
        this.priority[top] = this.opts.depth - 1 - this.changed - this.rng() * 0.5;
        this.changed++;
        top = this.highest(actors, n);
      }
      this.steps++;
      if (this.opts.counted) this.opts.counted.steps++;
    }
    // Among the chosen actor's own events (execute, refill, snoop, ...), pick uniformly.
    let mine = 0;
    for (let i = 0; i < n; i++) if (actors[i] === top) mine++;
    let k = Math.floor(this.rng() * mine);
    for (let i = 0; i < n; i++) if (actors[i] === top && k-- === 0) return i;
    throw new Error("unreachable: the top actor has an event");
  }

  /** The enabled actor with the highest priority (priorities are drawn on first sight, in order). */
  private highest(actors: readonly number[], n: number): number {
    let best = -Infinity, top = -1;
    for (let i = 0; i < n; i++) {
      const a = actors[i]!;
      const p = this.priorityOf(a);
      if (p > best) {
        best = p;
        top = a;
      }
    }
    return top;
  }
}
