import type { PatcherCtx, Steps } from "../types.js";

/** "sync" in the strategy table: an IPI to every core (serializing on return), then wait for acks. */
export function* sync(ctx: PatcherCtx): Steps {
  yield* ctx.ipiAll();
  yield* ctx.waitAcks();
}

/** Clean to the point of unification, invalidate the I-cache, each completed before going on. */
export function* flushRange(ctx: PatcherCtx, lo: number, hi: number): Steps {
  yield* ctx.cleanData({ lo, hi });
  yield* ctx.barrier();
  yield* ctx.invalidateIcache({ lo, hi });
  yield* ctx.barrier();
}
