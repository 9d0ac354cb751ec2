import type { Strategy } from "../types.js";
import { sync } from "./sync.js";

interface Descriptor { readonly addr: number; readonly resume: number }

/**
 * The 2013 Linux form: "x86: Introduce int3 (breakpoint)-based instruction patching" (Jiri Kosina,
 * Linux 3.12), after Mathieu Desnoyers' and H. Peter Anvin's 2010 design. Per slot: publish a
 * descriptor, int3 at the first byte, sync, write the tail, sync, write the first byte, sync,
 * clear the descriptor. The handler does not emulate: a trap at the described address resumes at
 * the slot's bpResume (jump labels passed the end of the nop), so it is only right when skipping the
 * slot is the old or the new instruction's effect.
 */
export const textPokeBp: Strategy = {
  name: "text_poke_bp",
  description: "2013 int3 + IPI sync per slot; the handler resumes at bpResume without emulating",
  *patch(ctx, slots) {
    for (const s of slots) {
      yield* ctx.store("desc", { addr: s.start, resume: s.bpResume } satisfies Descriptor);
      yield* ctx.write(s.start, Uint8Array.of(0xcc));
      yield* sync(ctx);
      // SPEC 5.2 syncs after the tail even when it is empty (Linux 3.12 skipped that sync for
      // one-byte patches): the patcher phase of a finding counts it.
      if (s.len > 1) yield* ctx.write(s.start + 1, s.to.subarray(1));
      yield* sync(ctx);
      yield* ctx.write(s.start, s.to.subarray(0, 1));
      yield* sync(ctx);
      yield* ctx.store("desc", undefined);
    }
  },
  *onInt3(ctx, _core, addr) {
    const desc = (yield* ctx.load("desc")) as Descriptor | undefined;
    return desc && desc.addr === addr ? ctx.resume(desc.resume) : ctx.notMine();
  },
};
