import type { Strategy } from "../types.js";

/**
 * H. Peter Anvin's position in the 2010 jump-label thread: a single-byte store is atomic, so a
 * slot that differs in one byte can be patched with a plain store. Every differing byte gets its
 * own one-byte store, in ascending order; nothing synchronizes the other cores.
 */
export const directSingleByte: Strategy = {
  name: "direct_single_byte",
  description: "each differing byte stored by its own single-byte store, ascending, no synchronisation",
  *patch(ctx, slots) {
    for (const s of slots) {
      for (let i = 0; i < s.len; i++) {
        if (s.from[i] !== s.to[i]) yield* ctx.write(s.start + i, s.to.subarray(i, i + 1));
      }
    }
  },
};

/** The naive baseline: memcpy over live code (one write per slot, split by the model's store atomicity). */
export const directWrite: Strategy = {
  name: "direct_write",
  description: "one write of the target per slot, split per storeAtomicity, no synchronisation",
  *patch(ctx, slots) {
    for (const s of slots) yield* ctx.write(s.start, s.to);
  },
};
