import type { HandlerCtx, Steps, Strategy } from "../types.js";

/**
 * Intel SDM Vol. 3A, "Handling Self- and Cross-Modifying Code" (8.1.3 in older editions): the
 * executing processors wait for a flag set after the modification, then execute a serializing
 * instruction before running the new code. Here every program core is held in an IPI function
 * that marks its arrival, waits for the flag and serializes; the patcher writes once every core
 * has arrived or ended. No cache maintenance: the manual is about coherent x86 caches.
 */
export const sdmXmc: Strategy = {
  name: "sdm_xmc",
  description: "the manual's cross-modifying-code algorithm: hold every core in an IPI, write, set flag, cores serialize",
  *patch(ctx, slots) {
    yield* ctx.store("flag", 0);
    yield* ctx.store("arrived", 0);
    yield* ctx.ipiAll(arriveWaitSerialize);
    yield* ctx.await(() => {
      let ended = 0;
      for (let c = 1; c < ctx.cores; c++) if (ctx.ended(c)) ended++;
      return (ctx.peek("arrived") as number) + ended >= ctx.cores - 1;
    });
    for (const s of slots) yield* ctx.write(s.start, s.to);
    yield* ctx.store("flag", 1);
    yield* ctx.waitAcks();
  },
};

/** Each core's IPI function: a module-level generator, not a closure per op (see ctx.ts). */
function* arriveWaitSerialize(h: HandlerCtx): Steps {
  yield* h.atomicAdd("arrived", 1);
  yield* h.await(() => h.peek("flag") === 1);
  yield* h.serializeSelf();
}
