import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { RecordedRun } from "../types.js";
import { recordedRunJson } from "../case/save.js";
import { InputError } from "../errors.js";
import { writeOutputFile } from "../files/atomic.js";

// The corpus on disk: which files a directory holds, and rewriting a case's recorded runs in place
// (the rest of the document, e.g. its hand-written asm form, is kept as it was).

/**
 * The case files of a corpus directory (sorted), or the one file given. A FIFO, socket or device
 * named `.json` in the directory is refused: reading it would block or never end.
 */
export function corpusFiles(path: string): string[] {
  if (!existsSync(path)) throw new InputError(`${path}: no such file or directory`);
  if (!statSync(path).isDirectory()) return [path];
  const files = readdirSync(path).filter((f) => f.endsWith(".json")).sort().map((f) => join(path, f));
  for (const f of files) {
    const st = statSync(f, { throwIfNoEntry: false });
    if (st && !st.isFile() && !st.isDirectory()) throw new InputError(`${f}: not a regular file`);
  }
  return files;
}

/** Replaces `runs[i]` for each entry of `updates` (and the description, if given), atomically. */
export function rewriteRecordedRuns(file: string, updates: ReadonlyMap<number, RecordedRun>, description?: string): void {
  const raw = JSON.parse(readFileSync(file, "utf8")) as { runs?: unknown[]; description?: string };
  if (description !== undefined) raw.description = description;
  const runs = raw.runs ?? [];
  for (const [i, run] of updates) {
    if (i < 0 || i >= runs.length) throw new Error(`${file}: runs[${i}] does not exist`);
    runs[i] = recordedRunJson(run);
  }
  raw.runs = runs;
  // The user named it: a corpus file that is a link is updated where it leads.
  writeOutputFile(file, JSON.stringify(raw, null, 2) + "\n");
}
