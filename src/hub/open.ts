import type { Hub } from "../types.js";
import { InputError } from "../errors.js";
import { DirHub } from "./dir.js";
import { CONNECT_MS, RedisHub, type RedisHubOptions } from "./redis.js";

/** `redis://`, `rediss://` or `unix://` names a Redis hub; anything else is a sync directory. */
export function isRedisUrl(where: string): boolean {
  return /^(redis|rediss|unix):/.test(where);
}

export function openHub(where: string, opts: RedisHubOptions = {}): Hub {
  if (!isRedisUrl(where) && /^[a-z][a-z0-9+.-]*:\/\//i.test(where)) throw new InputError(`--hub: unknown scheme in "${where}" (redis://, rediss://, unix:// or a directory)`);
  // --shard-lease: BullMQ's lock with Redis, the owner files' age in a directory.
  return isRedisUrl(where) ? new RedisHub(where, opts) : new DirHub(where, { leaseMs: opts.lockMs });
}

/**
 * A hub for a command that runs once and must answer or fail: a Redis server that does not
 * answer within `ms` is a one-line error (exit 2), not a silent wait forever.
 */
export async function openHubNow(where: string, ms = CONNECT_MS): Promise<Hub> {
  const hub = openHub(where);
  if (hub instanceof RedisHub) {
    try {
      await hub.reachable(ms);
    } catch (e) {
      await hub.close(0);
      throw e;
    }
  }
  return hub;
}
