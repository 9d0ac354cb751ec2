import type { PhaseKind, Step } from "../types.js";

// Driving a strategy's generators (patch, onInt3, IPI functions) from the machine: every call into
// strategy code is guarded, so that a strategy that throws, overruns a step or yields something
// other than a ctx step is reported as a harness error of that strategy, never as a divergence.

/** A strategy that throws or misbehaves: reported as a harness error, never a divergence. */
export class HarnessError extends Error {}

// Every kind of Step, checked by the compiler both ways (a new kind must be listed here).
const STEP_KIND_TABLE: Record<Step["k"], true> = {
  add: true, await: true, awaitParked: true, barrier: true, cas: true, clean: true, dstore: true, inval: true, ipi: true,
  load: true, nop: true, release: true, serialize: true, stop: true, store: true, waitAcks: true, waitOutside: true,
};
const STEP_KINDS: ReadonlySet<string> = new Set(Object.keys(STEP_KIND_TABLE));

/** Steps enabled only while their condition holds (SPEC 5.1); every other step is always enabled. */
export function mayBlock(step: Step): boolean {
  switch (step.k) {
    case "await": case "waitAcks": case "awaitParked": case "waitOutside": case "barrier": return true;
    default: return false;
  }
}

/** The patcher phase a completed step puts the op in (SPEC 7.2). */
export function phaseOf(k: Step["k"]): PhaseKind {
  switch (k) {
    case "store": return "write";
    case "clean": case "inval": case "barrier": return "maintenance";
    case "load": case "dstore": case "add": case "cas": case "await": case "nop": return "data";
    default: return "sync";
  }
}

/** A started generator: at its first step, or returned before taking one. */
export type Started<R> =
  | { readonly gen: Generator<Step, R, unknown>; readonly step: Step; readonly returned?: undefined }
  | { readonly gen: Generator<Step, R, unknown>; readonly step?: undefined; readonly returned: R };

export class StrategyDriver {
  /** `stepWallMs`: wall-time limit of one strategy step (a harness error past it). */
  constructor(private readonly name: string, private readonly stepWallMs: number | undefined) {}

  /** A misuse of the strategy API, named after the strategy. */
  misuse(what: string): HarnessError {
    return new HarnessError(`strategy ${this.name}: ${what}`);
  }

  /** Calls strategy code `f` (`what` names it in the error). */
  guard<T>(what: string, f: () => T): T {
    const t0 = this.stepWallMs ? performance.now() : 0;
    let r: T;
    try {
      r = f();
    } catch (e) {
      throw this.thrown(what, e);
    }
    if (this.stepWallMs && performance.now() - t0 > this.stepWallMs) {
      throw this.misuse(`one step of ${what} ran past ${this.stepWallMs} ms without yielding`);
    }
    return r;
  }

  /**
   * Starts strategy code's generator (`make` calls it) and runs it to its first step: the step,
   * checked, or with no step the value it returned.
   */
  start<R>(what: string, make: () => Generator<Step, R, unknown>): Started<R> {
    const gen = this.guard(what, make);
    const first = this.next(what, gen, undefined);
    return first.done ? { gen, returned: first.value } : { gen, step: this.checked(first.value, what) };
  }

  /** `guard(what, () => gen.next(value))` without a closure per scheduler event. */
  next<T, R>(what: string, gen: Generator<T, R, unknown>, value: unknown): IteratorResult<T, R> {
    if (this.stepWallMs) return this.guard(what, () => gen.next(value));
    try {
      return gen.next(value);
    } catch (e) {
      throw this.thrown(what, e);
    }
  }

  /** A yielded value that is no ctx step (`yield x` for `yield* ctx.x()`) misuses the API. */
  checked(value: unknown, what: string): Step {
    const k = (value as { k?: unknown } | null)?.k;
    if (typeof value !== "object" || value === null || typeof k !== "string" || !STEP_KINDS.has(k)) {
      let shown: string;
      try {
        shown = String(value).slice(0, 40);
      } catch {
        shown = typeof value;
      }
      throw this.misuse(`${what} yielded ${shown}, not a ctx step (use yield* ctx.<call>())`);
    }
    return value as Step;
  }

  private thrown(what: string, e: unknown): HarnessError {
    if (e instanceof HarnessError) return e;
    return new HarnessError(`strategy ${this.name} threw in ${what}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
