import type { HubNodeStats, Shard } from "../types.js";
import { hashText } from "../files/store.js";
import { shardKey } from "../matrix/fold.js";

// What both hub implementations agree on.

/** A node that has not posted its stats for this long is not alive. */
export const ALIVE_MS = 15_000;

/** Whether a node is alive as of `now`: it posted lately and did not say it left. */
export function isAlive(s: HubNodeStats, now: number): boolean {
  return !s.left && now - s.at < ALIVE_MS;
}

/** A shard's queue id: a hash of its key (BullMQ job ids must not contain ':'), same on every node. */
export function shardId(s: Shard): string {
  return `shard-${hashText(shardKey(s))}`;
}

/**
 * What a shard run throws when its node stops mid-shard: the shard goes back to the queue as if
 * never taken. Not a failure: a hub must not count it against the shard's attempts.
 */
export class ShardHandedBack extends Error {
  override readonly name = "ShardHandedBack";
  constructor() {
    super("node stopping: shard handed back");
  }
}

/** By name, not class: a test may load this module twice (sources and the built copy). */
export function isHandBack(e: unknown): boolean {
  return e instanceof Error && e.name === "ShardHandedBack";
}
