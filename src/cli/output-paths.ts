import { accessSync, constants, existsSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { InputError } from "../errors.js";
import { ensureDir } from "../files/atomic.js";

// Output paths are checked before any work: a command that fuzzed for an hour must not end on a
// path it cannot write, nor hang in Node's recursive mkdir, which spins forever under /proc
// (ensureDir walks one level at a time instead).

/** Makes `dir` if need be; one that cannot be made or written is bad input, said in one line. */
export function checkOutputDir(option: string, dir: string): void {
  try {
    usableDir(dir);
  } catch (e) {
    throw new InputError(`${dir}: cannot use this path for ${option} (${errorCode(e)})`);
  }
}

/** A file to be written at the end: its directory usable, and not itself a directory. */
export function checkOutputFile(option: string, file: string): void {
  try {
    usableDir(dirname(file));
    if (existsSync(file) && statSync(file).isDirectory()) throw Object.assign(new Error("a directory"), { code: "EISDIR" });
  } catch (e) {
    throw new InputError(`${file}: cannot use this path for ${option} (${errorCode(e)})`);
  }
}

function usableDir(dir: string): void {
  ensureDir(dir);
  accessSync(dir, constants.W_OK);
}

function errorCode(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e instanceof Error ? e.message : String(e)).split("\n")[0]!;
}
