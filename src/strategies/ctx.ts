import type {
  CommonCtx, HandlerCtx, IpiFn, Model, PatcherCtx, Range, Resolution, Step, Steps,
} from "../types.js";

// The patcher API (SPEC 5.1) as generator helpers: each `yield` is one scheduler event. Strategies
// call them with `yield*`; the machine executes the yielded Step and passes its result back.

/** What the machine lends to the helpers: read-only views, never a step. */
export interface CtxEnv {
  readonly cores: number;
  ended(core: number): boolean;
  peek(key: string): unknown;
}

function* one<R>(step: Step): Steps<R> {
  return (yield step) as R;
}

/** Splits a write into the separately visible stores of SPEC 4.1, in ascending address order. */
export function splitStores(addr: number, bytes: Uint8Array, atomicity: Model["storeAtomicity"]): [number, Uint8Array][] {
  const out: [number, Uint8Array][] = [];
  if (atomicity === "byte") {
    for (let i = 0; i < bytes.length; i++) out.push([addr + i, bytes.subarray(i, i + 1)]);
    return out;
  }
  let i = 0;
  while (i < bytes.length) {
    const a = addr + i;
    const wordEnd = (a & ~7) + 8;
    const n = Math.min(bytes.length - i, wordEnd - a);
    out.push([a, bytes.subarray(i, i + n)]);
    i += n;
  }
  return out;
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

export function patcherCtx(env: CtxEnv, atomicity: Model["storeAtomicity"]): PatcherCtx {
  const ctx: PatcherCtx = {
    ...commonCtx(env),
    *write(addr, bytes) {
      for (const [a, piece] of splitStores(addr, bytes, atomicity)) yield { k: "store", addr: a, bytes: piece };
    },
    ipiAll: (fn?: IpiFn, opts?) => one<void>({ k: "ipi", fn, serialize: opts?.serialize ?? true }),
    waitAcks: () => one<void>({ k: "waitAcks" }),
    *stopMachine(body, opts) {
      yield { k: "stop", outsideSlots: opts?.outsideSlots ?? true };
      yield { k: "awaitParked" };
      yield* body(ctx);
      yield { k: "release" };
    },
    waitOutside: (range) => one<void>({ k: "waitOutside", range }),
  };
  return ctx;
}

export function handlerCtx(env: CtxEnv, core: number): HandlerCtx {
  return {
    ...commonCtx(env),
    core,
    resume: (pc, opts): Resolution => ({ kind: "resume", pc, serialize: opts?.serialize ?? true }),
    emulate: (bytes): Resolution => ({ kind: "emulate", bytes }),
    notMine: (): Resolution => ({ kind: "notMine" }),
  };
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
