import type { Shard } from "../types.js";
import { hashText } from "../files/store.js";
import { shardKey } from "../matrix/fold.js";

// What both hub implementations agree on.

/** A node that has not posted its stats for this long is not alive. */
export const ALIVE_MS = 15_000;

/** A shard's queue id: a hash of its key (BullMQ job ids must not contain ':'), same on every node. */
export function shardId(s: Shard): string {
  return `shard-${hashText(shardKey(s))}`;
}
