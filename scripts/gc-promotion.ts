// How much of what a run allocates is promoted to V8's old generation (it should die young), and
// the two V8 patterns that made ~30% of it survive before (see src/strategies/ctx.ts), each next
// to its fix, from V8's own scavenge accounting (--trace-gc-nvp).
//   node dist/scripts/gc-promotion.js [seconds=2]
import { join } from "node:path";
import { youngGenSurvival } from "../src/testing/gc.js";
import { DEMOS } from "./gc-workload.js";

const seconds = process.argv[2] ?? "2";
const workload = join(import.meta.dirname, "gc-workload.js");
const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
const line = (mode: string) => {
  const s = youngGenSurvival(workload, [mode, seconds]);
  console.log(`  ${mode.padEnd(18)} ${pct(s.share).padStart(7)} of ${(s.allocated / 2 ** 20).toFixed(0)} MB promoted over ${s.scavenges} scavenges`);
  return s.share;
};
console.log("differential runs (machine + oracle), every built-in strategy and model:");
line("runs");
console.log("the patterns, each next to its fix (a small object that reaches a 64 KB payload):");
const names = Object.keys(DEMOS);
for (let i = 0; i < names.length; i += 2) {
  const bad = line(names[i]!), good = line(names[i + 1]!);
  console.log(`    ${names[i]} promotes ${good > 0 ? `${(bad / good).toFixed(0)}x` : "infinitely"} more than ${names[i + 1]}`);
}
