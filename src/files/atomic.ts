import { closeSync, existsSync, fsyncSync, linkSync, lstatSync, mkdirSync, openSync, realpathSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { dirname, resolve } from "node:path";

/**
 * Writes a file so that readers see the old content or the whole new one, never a torn write.
 * Text is written as UTF-8, bytes as they are. `durable: false` skips the fsync, for files a
 * crash may lose without harm (corpus entries).
 */
export function writeFileAtomic(path: string, text: string | Uint8Array, durable = true): void {
  const tmp = tempBeside(path);
  try {
    writeNewFile(tmp, text, durable);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Writes a file the user named (`-o`, `--html`, `--record`): atomically, as writeFileAtomic, over
 * a regular file or none; through a symlink to the file it leads to (the link stays); and into a
 * device or FIFO (`-o /dev/stdout`) as it is, which a rename would replace by a plain file. Files
 * the tool names itself use writeFileAtomic: a link planted among them is replaced, not followed.
 */
export function writeOutputFile(path: string, text: string | Uint8Array): void {
  const target = renameTarget(path);
  if (target !== undefined) {
    writeFileAtomic(target, text);
    return;
  }
  const fd = openSync(path, "w");
  try {
    naming(path, () => writeWhole(fd, text));
  } finally {
    closeSync(fd);
  }
}

/**
 * Where a new version of `path` is renamed to: the path, or the file a symlink leads to; undefined
 * for anything but a regular file (or none yet) there.
 */
function renameTarget(path: string): string | undefined {
  let at = path;
  try {
    if (lstatSync(path).isSymbolicLink()) at = realpathSync(path);
    return statSync(at).isFile() ? at : undefined;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return at; // nothing there yet (or a dangling link: replaced)
    throw e;
  }
}

/**
 * Writes `text` whole beside `path`, then links it there unless `path` exists: readers never see
 * a partial file, and of several writers the first wins. Whether this call created `path`.
 */
export function writeFileOnce(path: string, text: string, durable: boolean): boolean {
  const tmp = tempBeside(path);
  writeNewFile(tmp, text, durable);
  try {
    linkSync(tmp, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    return false;
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** A temporary name beside `path`, unique to this process and call (readers skip `.tmp-` names). */
function tempBeside(path: string): string {
  return `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
}

/**
 * Creates a file that must not exist yet and writes it whole (fsynced if `durable`). Readers must
 * not look at it before it is complete: it is a temporary name, or in a directory published later.
 */
export function writeNewFile(path: string, text: string | Uint8Array, durable: boolean): void {
  const fd = openSync(path, "wx");
  try {
    naming(path, () => {
      writeWhole(fd, text);
      if (durable) fsyncSync(fd);
    });
  } finally {
    closeSync(fd);
  }
}

/** Names `path` in an error of `io` that has none (writeSync's and fsyncSync's: a full disk), for the one-line message. */
function naming(path: string, io: () => void): void {
  try {
    io();
  } catch (e) {
    const errno = e as NodeJS.ErrnoException;
    if (typeof errno.code === "string" && errno.path === undefined) errno.path = path;
    throw e;
  }
}

/** writeSync may write fewer bytes than asked (a full disk, a signal): the rest follows. */
export function writeWhole(fd: number, text: string | Uint8Array): void {
  const bytes = typeof text === "string" ? Buffer.from(text, "utf8") : text;
  for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done, bytes.length - done);
}

/**
 * `mkdir -p`, one level at a time: Node 20's recursive mkdirSync never returns on some paths
 * (`/proc/x`: the kernel answers ENOENT for a parent that exists, and it retries forever). The
 * leaf is tried first, so a directory that exists or whose parent does costs one call (findings
 * create one per signature); parents are made only on ENOENT, and a parent that exists but still
 * answers ENOENT ends the walk with that error.
 */
export function ensureDir(path: string): void {
  const abs = resolve(path);
  try {
    mkdirSync(abs);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST" && statSync(abs).isDirectory()) return;
    const parent = dirname(abs);
    if (code !== "ENOENT" || parent === abs || existsSync(parent)) throw e;
    ensureDir(parent);
    try {
      mkdirSync(abs);
    } catch (again) {
      if ((again as NodeJS.ErrnoException).code !== "EEXIST" || !statSync(abs).isDirectory()) throw again;
    }
  }
}
