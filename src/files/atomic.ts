import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { join, resolve, sep } from "node:path";

/**
 * Writes a file so that readers see the old content or the whole new one, never a torn write.
 * `durable: false` skips the fsync, for files a crash may lose without harm (corpus entries).
 */
export function writeFileAtomic(path: string, text: string, durable = true): void {
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  const fd = openSync(tmp, "w");
  try {
    writeSync(fd, text);
    if (durable) fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * `mkdir -p`, one level at a time: Node 20's recursive mkdirSync never returns on some paths
 * (`/proc/x`: the kernel answers ENOENT for a parent that exists, and it retries forever).
 */
export function ensureDir(path: string): void {
  const abs = resolve(path);
  const parts = abs.split(sep).filter((p) => p !== "");
  let at = abs.startsWith(sep) ? sep : "";
  for (const part of parts) {
    at = join(at, part);
    try {
      mkdirSync(at);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST" || !statSync(at).isDirectory()) throw e;
    }
  }
}
