import seedrandom from "seedrandom";
import type { Chooser, Decision, Expectation } from "../types.js";

/** Raised when a replayed decision list no longer fits the run (SPEC 8: fail loudly on drift). */
export class DriftError extends Error {
  /**
   * `harnessError`: the strategy's error that ended the replay early (a plugin that now throws),
   * and `actual` what that run's verdict records (its rule findings up to the error).
   */
  constructor(message: string, readonly harnessError?: string, readonly actual?: Expectation) {
    super(message);
    this.name = "DriftError";
  }
}

/**
 * Decisions of the run being recorded, flat (chosen, options, ...): one array that each recorder
 * writes in turn, sealed into an exact copy when its run ends. A run records ~300 decisions, and an
 * array grown push by push allocated about three times its final size on the way (6% of what an
 * exec allocated).
 */
const scratch: number[] = [];
/**
 * The recorder writing into `scratch`, if any. A new recorder seals it first, so a recorder never
 * sealed (one driving runCase directly), or still running (a nested run), keeps its decisions.
 */
let holder: RecordingChooser | undefined;

/**
 * Wraps a policy and records every decision it makes (index chosen, option count). The record is
 * kept flat (chosen, options, chosen, ...) and turned into Decision pairs only when read: most runs
 * are never recorded, and a pair per scheduler event was a large share of a run's garbage.
 */
export class RecordingChooser implements Chooser {
  /** `scratch` while this recorder holds it, then its own exact copy (which later decisions extend). */
  private flat: number[];
  private n = 0;
  private pairs: Decision[] | undefined;
  /**
   * Present only when the policy weighs actors, so the machine lists them only for such policies.
   * One shared function, not a closure per chooser: a closure made per run has been seen to keep
   * the run's decisions alive into the old generation.
   */
  readonly chooseEvent?: (actors: readonly number[], n: number) => number;
  constructor(private readonly policy: Chooser) {
    if (policy.chooseEvent) this.chooseEvent = recordEvent;
    holder?.seal();
    holder = this;
    this.flat = scratch;
  }
  /** chooseEvent, recorded (see recordEvent). */
  recordEvent(actors: readonly number[], n: number): number {
    const chosen = this.policy.chooseEvent!(actors, n);
    this.flat[this.n++] = chosen;
    this.flat[this.n++] = n;
    return chosen;
  }
  /** Copies this recorder's decisions out of the shared scratch (its run is over, or another recorder needs it). */
  seal(): void {
    if (holder !== this) return;
    this.flat = this.flat.slice(0, this.n);
    holder = undefined;
  }
  /** Every decision so far (the same array on every read; later decisions are appended to it). */
  get decisions(): Decision[] {
    const pairs = (this.pairs ??= []);
    for (let i = pairs.length * 2; i < this.n; i += 2) pairs.push([this.flat[i]!, this.flat[i + 1]!]);
    return pairs;
  }
  choose(options: number, what: string): number {
    const chosen = this.policy.choose(options, what);
    this.flat[this.n++] = chosen;
    this.flat[this.n++] = options;
    return chosen;
  }
}

function recordEvent(this: RecordingChooser, actors: readonly number[], n: number): number {
  return this.recordEvent(actors, n);
}

/** `random`: uniform choices from a seeded alea generator (fast, and its state is restorable). */
export class RandomChooser implements Chooser {
  private readonly rng: () => number;
  constructor(seed: number | string) {
    this.rng = seedrandom.alea(String(seed));
  }
  choose(options: number): number {
    return Math.floor(this.rng() * options);
  }
}

/**
 * `replay`: follows a recorded list. Strict mode throws DriftError when the option count differs
 * or the list runs out; lenient mode (the minimizer's) wraps out-of-range indices and draws missing
 * decisions from a seeded generator.
 */
export class ReplayChooser implements Chooser {
  private next = 0;
  private readonly fallback: Chooser | undefined;
  /** `lenient`: a seed (random fallback) or a policy drawing the decisions the list lacks. */
  constructor(private readonly list: readonly Decision[], lenient?: number | Chooser) {
    this.fallback = lenient === undefined ? undefined : typeof lenient === "number" ? new RandomChooser(lenient) : lenient;
  }
  choose(options: number, what: string): number {
    const d = this.list[this.next++];
    if (this.fallback) return d ? d[0] % options : this.fallback.choose(options, what);
    if (!d) throw new DriftError(`replay drift: decision ${this.next - 1} (${what}) is missing from the recorded list`);
    if (d[1] !== options) {
      throw new DriftError(`replay drift at decision ${this.next - 1} (${what}): recorded ${d[1]} options, run has ${options}`);
    }
    // A list built in code (not parsed from a file) may hold any index: never follow one out of range.
    if (!Number.isInteger(d[0]) || d[0] < 0 || d[0] >= options) {
      throw new DriftError(`replay drift at decision ${this.next - 1} (${what}): index ${d[0]} out of range for ${options} options`);
    }
    return d[0];
  }
  /** Strict replays must consume the whole list. */
  assertConsumed(): void {
    if (!this.fallback && this.next !== this.list.length) {
      throw new DriftError(`replay drift: run ended after ${this.next} of ${this.list.length} recorded decisions`);
    }
  }
}

/** Decision lists are stored in case files as "chosen/options" tokens separated by spaces. */
export function formatDecisions(list: readonly Decision[]): string {
  let out = "";
  for (let i = 0; i < list.length; i++) out += (i > 0 ? " " : "") + list[i]![0] + "/" + list[i]![1];
  return out;
}

export function parseDecisions(text: string): Decision[] {
  const out: Decision[] = [];
  for (const tok of text.split(/\s+/)) {
    if (!tok) continue;
    const m = /^(\d+)\/(\d+)$/.exec(tok);
    if (!m) throw new Error(`bad decision token "${clip(tok)}" (expected chosen/options)`);
    const c = Number(m[1]), n = Number(m[2]);
    // Past 2^53 a number is no longer exact: it would be saved as another token ("0/1e+23").
    if (!Number.isSafeInteger(n)) throw new Error(`bad decision "${clip(tok)}": option count too large (at most ${Number.MAX_SAFE_INTEGER})`);
    if (n < 2 || c >= n) throw new Error(`bad decision "${clip(tok)}": index must be below an option count of at least 2`);
    out.push([c, n]);
  }
  return out;
}

/** A token as quoted in an error: a line, not a megabyte. */
function clip(tok: string): string {
  return tok.length > 40 ? `${tok.slice(0, 37)}...` : tok;
}
