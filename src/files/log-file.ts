import { openSync } from "node:fs";
import { writeWhole } from "./atomic.js";

// A campaign's pino destination: each line appended synchronously (nothing is lost at a kill),
// and a failed write (a full disk, /dev/full) handed to `onFailure` once instead of thrown from
// wherever the campaign happened to log (pino's own destination throws there).

export class LogFile {
  private readonly fd: number;
  private failed = false;

  constructor(readonly path: string, private readonly onFailure: (e: unknown) => void) {
    this.fd = openSync(path, "a");
  }

  /** Whether every line so far was written whole (after a failure, later lines are dropped). */
  get working(): boolean {
    return !this.failed;
  }

  write(line: string): void {
    if (this.failed) return;
    try {
      writeWhole(this.fd, line);
    } catch (e) {
      this.failed = true;
      this.onFailure(e);
    }
  }
}
