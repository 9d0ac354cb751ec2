import type { Strategy } from "../types.js";
import { flushRange, sync } from "./sync.js";

/**
 * Linux arm64's aarch64_insn_patch_text_nosync() (arch/arm64/kernel/patching.c: write the
 * instruction, then caches_clean_inval_pou() over it) followed by a sync, as patch_text() callers
 * do with an IPI to every CPU. Per slot: write, clean, barrier, invalidate, barrier, sync.
 */
export const noncoherentFlush: Strategy = {
  name: "noncoherent_flush",
  description: "per slot: write, clean to PoU, barrier, invalidate I-cache, barrier, IPI sync (arm64's patch_text_nosync + sync)",
  *patch(ctx, slots) {
    for (const s of slots) {
      yield* ctx.write(s.start, s.to);
      yield* flushRange(ctx, s.start, s.start + s.len);
      yield* sync(ctx);
    }
  },
};
