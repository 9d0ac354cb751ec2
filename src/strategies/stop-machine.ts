import type { PatcherCtx, Range, SlotPatch, Steps, Strategy } from "../types.js";
import { cover } from "./ctx.js";

/**
 * The reference. Linux's text_poke_smp() (Masami Hiramatsu, 2010, "x86: Add text_poke_smp for SMP
 * cross modifying code") patched under stop_machine(); the cache maintenance is what arm64's
 * patch_text() adds for non-coherent instruction caches. Every core is parked outside the op's
 * slots, the slots are written, and release serializes every core.
 */
export const stopMachine: Strategy = {
  name: "stop_machine",
  description: "park every running core outside the slots, write, clean + invalidate, release (serializes): the reference",
  *patch(ctx, slots) {
    const range = cover(slots);
    yield* ctx.stopMachine((c) => writeAndFlush(c, slots, range));
  },
};

/** The stop_machine body: a module-level generator, not a closure per op (see ctx.ts). */
function* writeAndFlush(c: PatcherCtx, slots: readonly SlotPatch[], range: Range): Steps {
  for (const s of slots) yield* c.write(s.start, s.to);
  yield* c.cleanData(range);
  yield* c.barrier();
  yield* c.invalidateIcache(range);
  yield* c.barrier();
}
