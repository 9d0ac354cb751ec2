// A user strategy (load it with `--strategy ./examples/int3-flush-old-first.mjs`): an answer to the
// 2010 Itanium question that the built-in `int3_flush` (Mathieu's proposal) misses.
//
// On a non-coherent I-cache a core may fetch new bytes before maintenance and then old ones again
// (SPEC 4.3). `int3_flush`'s handler emulates the *new* instruction from the first trap on, so a core
// can run the new instruction, then the stale old bytes: non-monotonic. Here the handler emulates
// the *old* instruction until the tails are written and flushed everywhere, and the new one only
// from the moment the first bytes are about to be written. By then every core's I-cache was
// invalidated after the int3 went in, so no core can fetch the old bytes again: each core runs old,
// then new, whatever its I-cache returns. Like every int3 protocol it patches one instruction per
// slot, and each slot on its own (no atomic batches).

function* sync(ctx) {
  yield* ctx.ipiAll();
  yield* ctx.waitAcks();
}

/** Clean to the point of unification and invalidate every I-cache, each completed (no-ops when coherent). */
function* flush(ctx, lo, hi) {
  yield* ctx.cleanData({ lo, hi });
  yield* ctx.barrier();
  yield* ctx.invalidateIcache({ lo, hi });
  yield* ctx.barrier();
}

function* write(ctx, addr, bytes) {
  if (bytes.length === 0) return;
  yield* ctx.write(addr, bytes);
  yield* flush(ctx, addr, addr + bytes.length);
}

export const strategy = {
  name: "int3_flush_old_first",
  description: "int3_flush whose handler emulates the old instruction until the first bytes go in, then the new one",
  *patch(ctx, slots) {
    yield* ctx.store("vec", slots.map((s) => ({ addr: s.start, from: s.from, to: s.to })));
    yield* ctx.store("emulateNew", false);
    yield* ctx.store("refs", 1);
    for (const s of slots) yield* write(ctx, s.start, Uint8Array.of(0xcc));
    yield* sync(ctx);
    for (const s of slots) yield* write(ctx, s.start + 1, s.to.subarray(1));
    yield* sync(ctx);
    // From here a trapping core runs the new instruction: no core can fetch the old bytes any more.
    yield* ctx.store("emulateNew", true);
    for (const s of slots) if (s.to[0] !== 0xcc) yield* write(ctx, s.start, s.to.subarray(0, 1));
    yield* sync(ctx);
    yield* ctx.atomicAdd("refs", -1);
    yield* ctx.await(() => ctx.peek("refs") === 0);
    yield* ctx.store("vec", undefined);
  },
  *onInt3(ctx, core, addr) {
    for (;;) {
      const refs = yield* ctx.load("refs");
      if (!refs) return ctx.notMine();
      if ((yield* ctx.cmpxchg("refs", refs, refs + 1)) === refs) break;
    }
    const hit = (yield* ctx.load("vec"))?.find((e) => e.addr === addr);
    const version = hit && ((yield* ctx.load("emulateNew")) ? hit.to : hit.from);
    yield* ctx.atomicAdd("refs", -1);
    // A version that itself begins with int3 (a kprobe) is not consumed: the int3 means what it says.
    // emulate() runs the first instruction of the bytes given.
    return !version || version[0] === 0xcc ? ctx.notMine() : ctx.emulate(version);
  },
};
