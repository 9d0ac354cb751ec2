import type { Model } from "../types.js";

// SPEC 4, table "Named models": every parameter is fixed so that verdicts do not depend on the
// implementation. Defaults for parameters the table leaves out: trapSerializes true,
// mfenceSerializesFetch false; snoopBound only matters for `eventual`.
const base = { trapSerializes: true, mfenceSerializesFetch: false, snoopBound: 64 } as const;

export const NAMED_MODELS: readonly Model[] = [
  {
    ...base, name: "coherent-atomic-byte", fetchBlock: 0, prefetchDepth: 0,
    crossModifySnoop: "immediate", snoopOrder: "store", branchRefetch: true, decodedCache: false,
    icache: "coherent", storeAtomicity: "byte",
    reading: "hpa's claim: every fetch sees every store at once; only the split of multi-byte stores can tear",
  },
  {
    ...base, name: "x86-realistic", fetchBlock: 16, prefetchDepth: 32,
    crossModifySnoop: "eventual", snoopOrder: "store", branchRefetch: true, decodedCache: false,
    icache: "coherent", storeAtomicity: "aligned8",
    reading: "a modern core: prefetch, self-modifying-code snoop that flushes the buffer a little later",
  },
  {
    ...base, name: "sdm-strict", fetchBlock: 1, prefetchDepth: 64,
    crossModifySnoop: "none", snoopOrder: "store", branchRefetch: false, decodedCache: false,
    icache: "coherent", storeAtomicity: "byte",
    reading: "the manual read literally for cross-modifying code: stale until serialization",
  },
  {
    ...base, name: "superscalar-stale", fetchBlock: 16, prefetchDepth: 64,
    crossModifySnoop: "none", snoopOrder: "store", branchRefetch: false, decodedCache: true,
    icache: "coherent", storeAtomicity: "aligned8",
    reading: "Mathieu's hypothetical: decoded instructions stay stale until serialization, even across branches; a trap still serializes",
  },
  {
    ...base, name: "noncoherent-icache", fetchBlock: 64, prefetchDepth: 32,
    crossModifySnoop: "none", snoopOrder: "store", branchRefetch: true, decodedCache: false,
    icache: "noncoherent", storeAtomicity: "aligned8",
    reading: "Itanium/ARM: non-coherent instruction cache, explicit clean + invalidate (SPEC 4.3)",
  },
];

export function namedModel(name: string): Model | undefined {
  return NAMED_MODELS.find((m) => m.name === name);
}
