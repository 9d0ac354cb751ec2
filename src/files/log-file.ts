import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { writeWhole } from "./atomic.js";

// A campaign's pino destination: each line appended synchronously (nothing is lost at a kill),
// and a failed write (a full disk, /dev/full) handed to `onFailure` once instead of thrown from
// wherever the campaign happened to log (pino's own destination throws there).

export class LogFile {
  private readonly fd: number;
  private failed = false;
  /**
   * A line an earlier session could not finish (a full disk, a kill mid-write) is ended with this
   * session's first line, so that it is a line of its own; not at once: a failure then would
   * reach `onFailure` before its caller has a logger to report it with.
   */
  private unfinished: boolean;

  constructor(readonly path: string, private readonly onFailure: (e: unknown) => void) {
    this.fd = openSync(path, "a");
    this.unfinished = endsMidLine(path);
  }

  /** Whether every line so far was written whole (after a failure, later lines are dropped). */
  get working(): boolean {
    return !this.failed;
  }

  write(line: string): void {
    if (this.failed) return;
    try {
      writeWhole(this.fd, this.unfinished ? `\n${line}` : line);
      this.unfinished = false;
    } catch (e) {
      this.failed = true;
      this.onFailure(e);
    }
  }
}

/** Whether a regular file's last byte is there and is no newline (a device, a FIFO or an unreadable file: no). */
function endsMidLine(path: string): boolean {
  try {
    const fd = openSync(path, "r");
    try {
      const st = fstatSync(fd), last = Buffer.alloc(1);
      return st.isFile() && st.size > 0 && readSync(fd, last, 0, 1, st.size - 1) === 1 && last[0] !== 0x0a;
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}
