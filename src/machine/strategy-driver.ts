import type { PhaseKind, Range, Resolution, Step } from "../types.js";
import { decode } from "../isa/decode.js";
import { ApiMisuse } from "../strategies/ctx.js";

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

/**
 * Steps only the patcher may take (SPEC 5.1: IPI functions and onInt3 may use the data,
 * maintenance, serializeSelf and await steps). A handler's waitAcks would wait for its own ack.
 */
const PATCHER_ONLY: ReadonlySet<string> = new Set<Step["k"]>(["store", "ipi", "waitAcks", "stop", "awaitParked", "release", "waitOutside"]);

/** Who takes a strategy's steps: the patcher (core 0) or a handler on a program core. */
export type Role = "patcher" | "handler";

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
  start<R>(what: string, role: Role, make: () => Generator<Step, R, unknown>): Started<R> {
    const gen = this.guard(what, make);
    if (typeof (gen as Partial<Generator> | null)?.next !== "function") throw this.misuse(`${what} must be a generator function (function*), returning steps to yield`);
    const first = this.next(what, gen, undefined);
    return first.done ? { gen, returned: first.value } : { gen, step: this.checked(first.value, what, role) };
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

  /**
   * A yielded value that is no ctx step (`yield x` for `yield* ctx.x()`), a step whose arguments
   * the machine cannot act on, or a patcher step yielded by a handler misuses the API.
   */
  checked(value: unknown, what: string, role: Role): Step {
    const k = (value as { k?: unknown } | null)?.k;
    if (typeof value !== "object" || value === null || typeof k !== "string" || !STEP_KINDS.has(k)) {
      throw this.misuse(`${what} yielded ${shown(value)}, not a ctx step (use yield* ctx.<call>())`);
    }
    const step = value as Step;
    if (role === "handler" && PATCHER_ONLY.has(k)) throw this.misuse(`${what} took the patcher's step "${k}"`);
    const bad = badArgument(step);
    if (bad) throw this.misuse(`${what}: step "${k}" with ${bad}`);
    return step;
  }

  /** How a trap handler ended, checked: one of resume(pc), emulate(bytes), notMine() (SPEC 5.3). */
  resolution(value: unknown): Resolution {
    const r = value as Partial<Record<string, unknown>> | null | undefined;
    if (r?.kind === "emulate" && r.bytes instanceof Uint8Array && !isWholeInstruction(r.bytes)) {
      throw this.misuse(`onInt3: emulate(bytes) needs bytes that begin with a whole instruction, not [${[...r.bytes].map((b) => b.toString(16).padStart(2, "0")).join(" ")}]`);
    }
    const ok = typeof r === "object" && r !== null && (
      (r.kind === "resume" && isAddress(r.pc) && typeof r.serialize === "boolean") ||
      (r.kind === "emulate" && r.bytes instanceof Uint8Array) ||
      r.kind === "notMine");
    if (!ok) throw this.misuse(`onInt3 must end with resume(pc), emulate(bytes) or notMine(), not ${asJson(value)}`);
    return r as Resolution;
  }

  private thrown(what: string, e: unknown): HarnessError {
    if (e instanceof HarnessError) return e;
    if (e instanceof ApiMisuse) return this.misuse(`${what}: ${e.message}`);
    return new HarnessError(`strategy ${this.name} threw in ${what}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Bytes that begin with one whole instruction (an undecodable one is #UD, emulated as such; empty or cut-off bytes are none). */
function isWholeInstruction(bytes: Uint8Array): boolean {
  return bytes.length > 0 && !("incomplete" in decode(bytes, 0, bytes.length));
}

/** A code address: an integer (32-bit values, as the cores' registers hold). */
function isAddress(x: unknown): x is number {
  return Number.isInteger(x) && (x as number) >= 0 && (x as number) <= 0xffffffff;
}

/** An address range [lo, hi): its end may be 2^32, the end of the address space (a flush-all). */
function isRange(r: unknown): r is Range {
  const { lo, hi } = (r ?? {}) as Partial<Range>;
  return typeof r === "object" && isAddress(lo) && Number.isInteger(hi) && (hi as number) >= lo && (hi as number) <= 2 ** 32;
}

/** What is wrong with a step's arguments, or undefined (the kinds with none are always fine). */
function badArgument(step: Step): string | undefined {
  switch (step.k) {
    case "store": return isAddress(step.addr) && step.bytes instanceof Uint8Array ? undefined : "an address that is not an integer, or bytes that are not a Uint8Array";
    case "add": return typeof step.delta === "number" ? undefined : "a delta that is not a number";
    case "ipi": return (step.fn == null || typeof step.fn === "function") && typeof step.serialize === "boolean" ? undefined : "an IPI function that is not a function, or serialize not a boolean";
    case "stop": return typeof step.outsideSlots === "boolean" ? undefined : "outsideSlots not a boolean";
    case "waitOutside": case "clean": case "inval": return isRange(step.range) ? undefined : "no address range {lo, hi} (integers, 0 <= lo <= hi <= 2^32)";
    case "await": return typeof step.pred === "function" ? undefined : "a predicate that is not a function";
    default: return undefined;
  }
}

/** A returned value as JSON (BigInts and functions named), for a misuse message. */
function asJson(value: unknown): string {
  try {
    const json = JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? `${v}n` : typeof v === "function" ? "<function>" : v));
    return (json ?? String(value)).slice(0, 80);
  } catch {
    return shown(value);
  }
}

function shown(value: unknown): string {
  try {
    return String(value).slice(0, 40);
  } catch {
    return typeof value;
  }
}
