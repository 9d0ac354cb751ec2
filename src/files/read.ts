import { readFileSync, statSync } from "node:fs";

// Input files the user names (cases, models, byte buffers, stats): a device such as /dev/zero
// would be read for ever, growing memory, so devices are refused; files, links to them and pipes
// (`/dev/stdin` from a pipe, `<(...)`) are read.

/** The error of a device: its message and its `code` both read as the reason in callers' "cannot read (...)". */
function aDevice(path: string): NodeJS.ErrnoException {
  return Object.assign(new Error("a device, not a file"), { code: "a device, not a file", path });
}

export function readInputFile(path: string): Buffer;
export function readInputFile(path: string, encoding: "utf8"): string;
export function readInputFile(path: string, encoding?: "utf8"): Buffer | string {
  const s = statSync(path);
  if (s.isCharacterDevice() || s.isBlockDevice()) throw aDevice(path);
  return encoding ? readFileSync(path, encoding) : readFileSync(path);
}
