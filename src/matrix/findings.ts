import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ShippedFinding } from "../fuzz/engine.js";
import type { FindingFile } from "../types.js";
import { offerFinding } from "../files/store.js";

// Where a matrix's findings go. They arrive in worker threads' message handlers, where a throw
// would end the process with a stack trace and the matrix half run. A crashes directory that fails
// mid-run (it was checked at the start) sends the rest to a fresh temporary directory, and the
// matrix ends with one line saying where they went.

export class MatrixFindings {
  private failure: { readonly error: string; readonly elsewhere?: string; stored: number; unstored: number } | undefined;

  constructor(private readonly crashes: string) {}

  /** Stores a finding; never throws. */
  readonly offer = ({ file }: ShippedFinding): void => this.offerFile(file);

  /** Stores a finding's files (a hub's copy, say); never throws. */
  readonly offerFile = (file: FindingFile): void => {
    if (!this.failure) {
      try {
        offerFinding(this.crashes, file);
        return;
      } catch (e) {
        this.failure = { error: errorText(e), ...fallbackDir(), stored: 0, unstored: 0 };
      }
    }
    this.keepElsewhere(file);
  };

  /** Undefined when every finding went to the crashes directory; else the one line to end on. */
  problem(): string | undefined {
    const f = this.failure;
    if (!f) return undefined;
    const where = [
      ...(f.stored > 0 ? [`${f.stored} findings went to ${f.elsewhere}`] : []),
      ...(f.unstored > 0 ? [`${f.unstored} findings could not be stored anywhere`] : []),
    ];
    return `${this.crashes}: cannot use this path for --crashes (${f.error})${where.map((w) => `; ${w}`).join("")}`;
  }

  private keepElsewhere(file: FindingFile): void {
    const f = this.failure!;
    try {
      if (f.elsewhere === undefined) throw new Error("no temporary directory");
      offerFinding(f.elsewhere, file);
      f.stored++;
    } catch {
      f.unstored++;
    }
  }
}

function fallbackDir(): { elsewhere?: string } {
  try {
    return { elsewhere: mkdtempSync(join(tmpdir(), "xmcfuzz-matrix-crashes-")) };
  } catch {
    return {};
  }
}

function errorText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err.code) return `${err.code}${err.syscall ? ` on ${err.syscall}` : ""}`;
  return (e instanceof Error ? e.message : String(e)).split("\n")[0]!;
}
