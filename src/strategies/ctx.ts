import type {
  CommonCtx, HandlerCtx, IpiFn, Model, PatcherCtx, Range, Resolution, Step, Steps,
} from "../types.js";

// The patcher API (SPEC 5.1) as generator helpers: each `yield` is one scheduler event. Strategies
// call them with `yield*`; the machine executes the yielded Step and passes its result back.

/** A ctx call a strategy may not make where it made it: the driver names the strategy and its code. */
export class ApiMisuse extends Error {}

/** What the machine lends to the helpers: read-only views, never a step. */
export interface CtxEnv {
  readonly cores: number;
  ended(core: number): boolean;
  peek(key: string): unknown;
}

function* one<R>(step: Step): Steps<R> {
  return (yield step) as R;
}

/** How many of `len` bytes at `addr` one store of SPEC 4.1 takes: one byte, or up to the end of the aligned 8-byte word. */
function storePiece(addr: number, len: number, atomicity: Model["storeAtomicity"]): number {
  return atomicity === "byte" ? Math.min(1, len) : Math.min(len, (addr & ~7) + 8 - addr);
}

/** Splits a write into the separately visible stores of SPEC 4.1, in ascending address order. */
export function splitStores(addr: number, bytes: Uint8Array, atomicity: Model["storeAtomicity"]): [number, Uint8Array][] {
  const out: [number, Uint8Array][] = [];
  for (let i = 0; i < bytes.length;) {
    const n = storePiece(addr + i, bytes.length - i, atomicity);
    out.push([addr + i, bytes.subarray(i, i + n)]);
    i += n;
  }
  return out;
}

/** Whether `len` bytes at `addr` are one store of SPEC 4.1 (what splitStores makes of them is one piece). */
export function isOneStore(addr: number, len: number, atomicity: Model["storeAtomicity"]): boolean {
  return len >= 1 && storePiece(addr, len, atomicity) === len;
}

function commonCtx(env: CtxEnv): CommonCtx {
  return {
    cores: env.cores,
    ended: (c) => env.ended(c),
    peek: (key) => env.peek(key),
    load: (key) => one<unknown>({ k: "load", key }),
    store: (key, value) => one<void>({ k: "dstore", key, value }),
    atomicAdd: (key, delta) => one<number>({ k: "add", key, delta }),
    cmpxchg: (key, expect, value) => one<unknown>({ k: "cas", key, expect, value }),
    serializeSelf: () => one<void>({ k: "serialize" }),
    await: (pred) => one<void>({ k: "await", pred }),
    cleanData: (range: Range) => one<void>({ k: "clean", range }),
    invalidateIcache: (range: Range) => one<void>({ k: "inval", range }),
    barrier: () => one<void>({ k: "barrier" }),
  };
}

// Hot-path rules for V8 (scripts/gc-promotion.ts measures both). A ctx is built per run, and
// whatever it reaches (through the env closures: the whole machine) must die young:
// - the ctx objects extend the common one with Object.assign, never `{ ...common, more }`: V8 makes
//   a literal that spreads and then adds properties (or has a getter) on a slow path that puts it
//   in the old generation;
// - no generator function is created per ctx or per op: the first call of each new generator
//   closure gives it a map in the old generation, which reaches the closure and its context.
// A dead old object that reaches the run keeps it alive across young-generation collections:
// before these rules ~30% of everything a run allocated was promoted.

function* storeSteps(addr: number, bytes: Uint8Array, atomicity: Model["storeAtomicity"]): Steps {
  for (const [a, piece] of splitStores(addr, bytes, atomicity)) yield { k: "store", addr: a, bytes: piece };
}

function* stopMachineSteps(ctx: PatcherCtx, body: (ctx: PatcherCtx) => Steps, outsideSlots: boolean): Steps {
  yield { k: "stop", outsideSlots };
  yield { k: "awaitParked" };
  const steps: unknown = body(ctx);
  if (typeof (steps as Partial<Steps> | null)?.next !== "function") throw new ApiMisuse("stopMachine's body must be a generator function (function*)");
  yield* steps as Steps;
  yield { k: "release" };
}

export function patcherCtx(env: CtxEnv, atomicity: Model["storeAtomicity"]): PatcherCtx {
  const own: Omit<PatcherCtx, keyof CommonCtx> = {
    write: (addr, bytes) => storeSteps(addr, bytes, atomicity),
    ipiAll: (fn?: IpiFn, opts?) => one<void>({ k: "ipi", fn, serialize: opts?.serialize ?? true }),
    waitAcks: () => one<void>({ k: "waitAcks" }),
    stopMachine: (body, opts) => stopMachineSteps(ctx, body, opts?.outsideSlots ?? true),
    waitOutside: (range) => one<void>({ k: "waitOutside", range }),
  };
  const ctx: PatcherCtx = Object.assign(commonCtx(env), own);
  return ctx;
}

function patcherOnly(name: keyof Omit<PatcherCtx, keyof CommonCtx>): () => never {
  return () => {
    throw new ApiMisuse(`ctx.${name}() is the patcher's (IPI functions and onInt3 may use only the data, maintenance, serializeSelf and await steps)`);
  };
}

/** On a handler's ctx, the patcher's calls say so when called (missing, they were a bare TypeError). */
const PATCHER_CALLS = {
  write: patcherOnly("write"), ipiAll: patcherOnly("ipiAll"), waitAcks: patcherOnly("waitAcks"),
  stopMachine: patcherOnly("stopMachine"), waitOutside: patcherOnly("waitOutside"),
};

export function handlerCtx(env: CtxEnv, core: number): HandlerCtx {
  const own: Omit<HandlerCtx, keyof CommonCtx> = {
    core,
    resume: (pc, opts): Resolution => ({ kind: "resume", pc, serialize: opts?.serialize ?? true }),
    emulate: (bytes): Resolution => ({ kind: "emulate", bytes }),
    notMine: (): Resolution => ({ kind: "notMine" }),
  };
  return Object.assign(commonCtx(env), own, PATCHER_CALLS);
}

/** The smallest range covering every slot given. */
export function cover(slots: readonly { start: number; len: number }[]): Range {
  let lo = Infinity, hi = -Infinity;
  for (const s of slots) {
    lo = Math.min(lo, s.start);
    hi = Math.max(hi, s.start + s.len);
  }
  return { lo, hi };
}
