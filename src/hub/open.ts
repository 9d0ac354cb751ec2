import type { Hub } from "../types.js";
import { DirHub } from "./dir.js";
import { RedisHub, type RedisHubOptions } from "./redis.js";

/** `redis://`, `rediss://` or `unix://` names a Redis hub; anything else is a sync directory. */
export function isRedisUrl(where: string): boolean {
  return /^(redis|rediss|unix):/.test(where);
}

export function openHub(where: string, opts: RedisHubOptions = {}): Hub {
  return isRedisUrl(where) ? new RedisHub(where, opts) : new DirHub(where);
}
