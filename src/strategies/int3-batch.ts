import type { PatcherCtx, SlotPatch, Steps, Strategy } from "../types.js";
import { decode } from "../isa/decode.js";
import { flushRange, sync } from "./sync.js";

interface Entry { readonly addr: number; readonly first: Uint8Array }

interface Variant {
  readonly name: string;
  readonly description: string;
  /** Sync after each of the three write phases and wait for handlers before retiring. */
  readonly synchronized: boolean;
  /** Clean + invalidate after every write (for non-coherent instruction caches). */
  readonly flush: boolean;
}

/** The first instruction of `to`: what the handler emulates (Linux patches one instruction). */
function firstInstruction(to: Uint8Array): Uint8Array {
  const d = decode(to, 0, to.length);
  return "incomplete" in d ? to : to.subarray(0, d.len);
}

function int3Batch(v: Variant): Strategy {
  function* write(ctx: PatcherCtx, addr: number, bytes: Uint8Array): Steps {
    if (bytes.length === 0) return;
    yield* ctx.write(addr, bytes);
    if (v.flush) yield* flushRange(ctx, addr, addr + bytes.length);
  }
  function* phaseEnd(ctx: PatcherCtx): Steps {
    if (v.synchronized) yield* sync(ctx);
  }
  return {
    name: v.name,
    description: v.description,
    *patch(ctx, slots: readonly SlotPatch[]) {
      const vec: Entry[] = slots.map((s) => ({ addr: s.start, first: firstInstruction(s.to) }));
      yield* ctx.store("vec", vec);
      yield* ctx.store("refs", 1);
      for (const s of slots) yield* write(ctx, s.start, Uint8Array.of(0xcc));
      yield* phaseEnd(ctx);
      for (const s of slots) yield* write(ctx, s.start + 1, s.to.subarray(1));
      yield* phaseEnd(ctx);
      for (const s of slots) if (s.to[0] !== 0xcc) yield* write(ctx, s.start, s.to.subarray(0, 1));
      yield* phaseEnd(ctx);
      if (v.synchronized) {
        // atomic_dec_and_test() then atomic_cond_read_acquire(refs, !VAL): wait for handlers.
        yield* ctx.atomicAdd("refs", -1);
        yield* ctx.await(() => ctx.peek("refs") === 0);
      } else {
        yield* ctx.store("refs", 0);
      }
      yield* ctx.store("vec", undefined);
    },
    *onInt3(ctx, _core, addr) {
      // try_get_desc(): atomic_inc_not_zero(&refs).
      for (;;) {
        const refs = (yield* ctx.load("refs")) as number | undefined;
        if (!refs) return ctx.notMine();
        if ((yield* ctx.cmpxchg("refs", refs, refs + 1)) === refs) break;
      }
      const vec = (yield* ctx.load("vec")) as Entry[] | undefined;
      const hit = vec?.find((e) => e.addr === addr);
      yield* ctx.atomicAdd("refs", -1);
      // A target that is itself an int3 (kprobe) is not consumed: the int3 means what it says.
      if (!hit || hit.first[0] === 0xcc) return ctx.notMine();
      return ctx.emulate(hit.first);
    },
  };
}

/**
 * The modern batched form: "x86/alternative: Batch of patch operations" (Daniel Bristot de
 * Oliveira, Linux 5.3) with the refcount completion of "x86/alternatives: Implement a better
 * poke_int3_handler() completion scheme" (Peter Zijlstra, Linux 5.6) and the handler emulation of
 * "x86/alternatives: Teach text_poke_bp() to emulate instructions" (Peter Zijlstra, Linux 5.3).
 */
export const textPokeBpBatch = int3Batch({
  name: "text_poke_bp_batch",
  description: "modern Linux: int3 on every slot, sync, tails, sync, first bytes, sync, wait for handler refs; handler emulates the target's first instruction",
  synchronized: true,
  flush: false,
});

/** text_poke_bp_batch without the three syncs, retiring the descriptor at once: int3 is not enough alone. */
export const int3Nosync = int3Batch({
  name: "int3_nosync",
  description: "text_poke_bp_batch with the syncs removed and the descriptor retired right after the last write",
  synchronized: false,
  flush: false,
});

/**
 * Mathieu Desnoyers' 2010 proposal for Itanium-like machines (the jump-label thread with H. Peter
 * Anvin): the int3 scheme with a flush (clean to PoU, invalidate the I-cache) after every write.
 */
export const int3Flush = int3Batch({
  name: "int3_flush",
  description: "text_poke_bp_batch with clean + barrier + invalidate + barrier after every write",
  synchronized: true,
  flush: true,
});
