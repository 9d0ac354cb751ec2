import { closeSync, openSync, readFileSync, rmSync, statSync, utimesSync, writeSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../errors.js";
import { ensureDir } from "./atomic.js";
import { checkNodeName, ownerIsDead, ownerTag } from "./store.js";

// One live process per node name of a sync directory: a node's directory is written by it alone
// (its corpus, its stats.json, its log), so a second process under the same --node would mix
// both runs' files and draw the same fresh cases. AFL++ refuses an output directory in use alike.

/** A claim not refreshed for this long belonged to a process that died on another host. */
export const NODE_CLAIM_STALE_MS = 60_000;

export class NodeClaim {
  private constructor(private readonly path: string) {}

  /**
   * Claims `<root>/<node>` for this process (`host pid` in its `owner` file). A claim of a dead
   * process of this host, or one stale for NODE_CLAIM_STALE_MS, is taken over; a live one is bad input.
   */
  static take(root: string, node: string): NodeClaim {
    checkNodeName(node);
    const dir = join(root, node), path = join(dir, "owner");
    ensureDir(dir);
    for (let attempt = 0; ; attempt++) {
      try {
        const fd = openSync(path, "wx");
        writeSync(fd, ownerTag());
        closeSync(fd);
        return new NodeClaim(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) throw e;
      }
      let owner = "";
      try {
        owner = readFileSync(path, "utf8");
        // This process's own claim is an earlier campaign of it that ended without releasing it.
        if (owner !== ownerTag() && !ownerIsDead(owner) && Date.now() - statSync(path).mtimeMs < NODE_CLAIM_STALE_MS) {
          throw new InputError(`--node ${node}: ${dir} is in use by process ${owner} (a campaign still running there); give each process its own --node`);
        }
      } catch (e) {
        if (e instanceof InputError) throw e; // other errors: it vanished meanwhile; try again
      }
      rmSync(path, { force: true });
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
