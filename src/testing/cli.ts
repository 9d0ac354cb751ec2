import { spawnSync } from "node:child_process";
import { join } from "node:path";

// The CLI as users run it, for tests: the built entry point in a child process, from the
// repository root (where `npm ci` leaves it).

export const ROOT = join(import.meta.dirname, "..", "..");
export const CLI = join(ROOT, "dist", "src", "cli", "main.js");

export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `xmcfuzz ...args`, killed past `timeoutMs`. */
export function runCli(args: readonly string[], timeoutMs = 60_000): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: "utf8", timeout: timeoutMs });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
