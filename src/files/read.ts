import { readFileSync, statSync } from "node:fs";

// Input files the user names (cases, models, byte buffers, stats): a device such as /dev/zero
// would be read for ever, growing memory, so only a regular file (or a link to one) is read.

/** The error of a path that is no regular file: its `code` reads as the reason in callers' "cannot read (<code>)". */
function notRegular(path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${path}: not a regular file`), { code: "not a regular file", path });
}

export function readInputFile(path: string): Buffer;
export function readInputFile(path: string, encoding: "utf8"): string;
export function readInputFile(path: string, encoding?: "utf8"): Buffer | string {
  if (!statSync(path).isFile()) throw notRegular(path);
  return encoding ? readFileSync(path, encoding) : readFileSync(path);
}
