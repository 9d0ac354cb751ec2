import { spawnSync } from "node:child_process";

// How much of what a workload allocates survives young-generation collections, read from V8's
// own per-scavenge accounting (`--trace-gc-nvp`): the engine's runs are short-lived, so a high
// share means some dead old object keeps runs alive (see strategies/ctx.ts).

export interface YoungGenSurvival {
  readonly scavenges: number;
  /** Bytes allocated in the young generation, summed over the scavenges. */
  readonly allocated: number;
  /** Bytes promoted to the old generation by those scavenges. */
  readonly promoted: number;
  /** promoted / allocated. */
  readonly share: number;
}

/** Runs `node --trace-gc-nvp <script> ...args` and sums its scavenges. */
export function youngGenSurvival(script: string, args: readonly string[]): YoungGenSurvival {
  const r = spawnSync(process.execPath, ["--trace-gc-nvp", script, ...args], { encoding: "utf8", maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`${script} ${args.join(" ")} exited ${r.status}: ${r.stderr.split("\n")[0]}`);
  let scavenges = 0, allocated = 0, promoted = 0;
  for (const line of r.stdout.split("\n")) {
    if (!line.includes(" gc=s ")) continue;
    scavenges++;
    allocated += Number(/ allocated=(\d+)/.exec(line)?.[1] ?? 0);
    promoted += Number(/ promoted=(\d+)/.exec(line)?.[1] ?? 0);
  }
  return { scavenges, allocated, promoted, share: allocated > 0 ? promoted / allocated : 0 };
}
