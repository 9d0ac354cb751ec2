import { readFileSync, rmSync, statSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../errors.js";
import { ensureDir } from "./atomic.js";
import { checkNodeName, createOwnerFile, ownerIsDead, ownerIsLocal, ownerTag, withLock } from "./store.js";

// One live process per node name of a sync directory: a node's directory is written by it alone
// (its corpus, its stats.json, its log), so a second process under the same --node would mix
// both runs' files and draw the same fresh cases. AFL++ refuses an output directory in use alike.

/** A claim of another host not refreshed for this long belonged to a process that died there. */
export const NODE_CLAIM_STALE_MS = 60_000;

export class NodeClaim {
  private constructor(private readonly path: string) {}

  /**
   * Claims `<root>/<node>` for this process (`host pid` in its `owner` file). A claim of a dead
   * process of this host, or one of another host stale for NODE_CLAIM_STALE_MS, is taken over; a
   * live one is bad input.
   */
  static take(root: string, node: string): NodeClaim {
    checkNodeName(node);
    const dir = join(root, node);
    return NodeClaim.takeDir(dir, `--node ${node}: ${dir} is in use`, "give each process its own --node");
  }

  /**
   * Claims a campaign directory (`--out`: its stats.json and log) the same way, for campaigns
   * whose directory is not their node's (`--corpus A` and `--corpus B` both default to ./fuzz-out).
   */
  static takeOut(dir: string): NodeClaim {
    return NodeClaim.takeDir(dir, `--out ${dir}: in use`, "give each campaign its own --out");
  }

  private static takeDir(dir: string, inUse: string, advice: string): NodeClaim {
    const path = join(dir, "owner");
    ensureDir(dir);
    for (let attempt = 0; ; attempt++) {
      if (createOwnerFile(path)) return new NodeClaim(path);
      // Taken: over a dead or stale owner only, and under a lock, so that of two processes
      // taking over the same dead one only one removes its file (the other then sees the winner).
      const tookOver = withLock(`${path}.lock`, () => {
        const owner = ownerOf(path);
        if (owner === undefined) return false; // gone meanwhile: create it again
        if (ownerIsLive(owner, path)) {
          throw new InputError(`${inUse} by process ${owner} (a campaign still running there); ${advice}`);
        }
        rmSync(path, { force: true });
        return createOwnerFile(path);
      });
      if (tookOver) return new NodeClaim(path);
      if (attempt > 20) throw new Error(`cannot claim ${dir}`);
    }
  }

  /** Says the claim's process is alive (its campaign calls it every few seconds). */
  refresh(): void {
    const now = new Date();
    try {
      utimesSync(this.path, now, now);
    } catch {
      // Taken over (this process was stopped past the stale time): nothing to refresh.
    }
  }

  /** Gives the node back, unless another process has taken it over meanwhile. */
  release(): void {
    try {
      if (readFileSync(this.path, "utf8") === ownerTag()) rmSync(this.path, { force: true });
    } catch {
      // Gone already.
    }
  }
}

/**
 * Whether the owner still holds the node: a live process of this host (a stopped one too), or one
 * of another host whose claim was refreshed lately. This process's own claim is an earlier
 * campaign of it that ended without giving it back.
 */
function ownerIsLive(owner: string, path: string): boolean {
  if (owner === ownerTag()) return false;
  return ownerIsLocal(owner) ? !ownerIsDead(owner) : Date.now() - mtimeOf(path) < NODE_CLAIM_STALE_MS;
}

function ownerOf(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

function mtimeOf(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}
