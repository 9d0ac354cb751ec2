// `npm run bench:fuzz`: the fuzzer's figures, as ratios measured in one run.
//   1. execs/s of the built-in engine (`xmcfuzz fuzz`, 1 worker) vs jsfuzz driving the same harness,
//      each run as users run it, for the same wall time;
//   2. time to the first divergence in each known-unsafe (strategy, model) cell, median of 5 seeds:
//      guided vs the same engine with feedback off, and PCT vs random;
//   3. execs/s with 2 workers vs 1.
// Usage: node dist/scripts/bench-fuzz.js [--seconds 20] [--seeds 5] [--cap 3] [--skip-jsfuzz]
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadCaseFile } from "../src/case/load.js";
import { FuzzEngine } from "../src/fuzz/engine.js";
import { namedModel } from "../src/models/named.js";
import { builtinStrategy } from "../src/strategies/registry.js";

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const seconds = arg("--seconds", 20), seeds = arg("--seeds", 5), capSeconds = arg("--cap", 3);
const root = join(import.meta.dirname, "..", "..");
const cli = join(root, "dist", "src", "cli", "main.js");
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * Execs per second of a whole `xmcfuzz fuzz` process over the second half of its run (from its
 * stats history), past the start-up burst of new signatures, each saved with its report.
 */
function campaignRate(workers: number, extra: string[] = []): number {
  const dir = mkdtempSync(join(tmpdir(), "xmcfuzz-bench-"));
  spawnSync(process.execPath, [cli, "fuzz", "--workers", String(workers), "--duration", `${seconds}s`, "--seed", "11", "--out", dir, "--crashes", join(dir, "crashes"), ...extra], { encoding: "utf8" });
  const h = (JSON.parse(readFileSync(join(dir, "stats.json"), "utf8")) as { history: { t: number; execs: number }[] }).history;
  const last = h[h.length - 1]!, mid = h.find((p) => p.t >= last.t / 2) ?? h[0]!;
  return (last.execs - mid.execs) / ((last.t - mid.t) / 1000);
}

function jsfuzzRate(): number | undefined {
  const r = spawnSync("sh", [join(root, "scripts", "bench-jsfuzz.sh"), String(seconds)], { cwd: root, encoding: "utf8" });
  const m = /steady execs\/s[^0-9]*([\d.]+)/.exec(r.stdout);
  return m ? Number(m[1]) : undefined;
}

if (!process.argv.includes("--skip-jsfuzz")) {
  const ours = campaignRate(1);
  const theirs = jsfuzzRate();
  console.log(`1. built-in engine ${ours.toFixed(0)} execs/s vs jsfuzz ${theirs?.toFixed(0) ?? "?"} execs/s (same harness, ${seconds} s each): ${theirs ? (ours / theirs).toFixed(1) : "?"}x`);
}

// ---- 2. known-unsafe cells: those where a regression-corpus case diverges
const unsafe = new Map<string, { strategy: string; model: string }>();
for (const f of readdirSync(join(root, "corpus")).filter((x) => x.endsWith(".json"))) {
  for (const r of loadCaseFile(join(root, "corpus", f)).kase.runs) {
    if (r.expect?.verdict === "diverges") unsafe.set(`${r.strategy} ${r.model}`, { strategy: r.strategy, model: r.model });
  }
}

/** Seconds until the first divergence in one cell, or undefined past the cap. */
function timeToFirst(cell: { strategy: string; model: string }, seed: number, scheduler: "pct" | "random", feedback: boolean): number | undefined {
  const engine = new FuzzEngine({ seed, strategies: [builtinStrategy(cell.strategy)!], models: [namedModel(cell.model)!], scheduler, feedback, maxCores: 4 });
  const t0 = performance.now();
  while (performance.now() - t0 < capSeconds * 1000) {
    if (engine.step().findings.some((x) => x.kind === "divergence")) return (performance.now() - t0) / 1000;
  }
  return undefined;
}

const configs = [
  { name: "guided pct", scheduler: "pct" as const, feedback: true },
  { name: "unguided pct", scheduler: "pct" as const, feedback: false },
  { name: "guided random", scheduler: "random" as const, feedback: true },
];
console.log(`2. time to first divergence, median of ${seeds} seeds (cap ${capSeconds} s; '>' = not found within the cap):`);
console.log(`   ${"cell".padEnd(42)} ${configs.map((c) => c.name.padStart(14)).join(" ")}`);
const medians = configs.map(() => [] as number[]);
let under1s = 0;
for (const cell of unsafe.values()) {
  const row = configs.map((c, i) => {
    const times = Array.from({ length: seeds }, (_, s) => timeToFirst(cell, s + 1, c.scheduler, c.feedback) ?? Infinity);
    const m = median(times);
    medians[i]!.push(m);
    return m;
  });
  if (row[0]! < 1) under1s++;
  console.log(`   ${`${cell.strategy} ${cell.model}`.padEnd(42)} ${row.map((m) => (m === Infinity ? `>${capSeconds}` : m.toFixed(3)).padStart(14)).join(" ")}`);
}
const geo = (xs: number[]) => Math.exp(xs.reduce((a, x) => a + Math.log(Math.min(x, capSeconds)), 0) / xs.length);
console.log(`   cells found in < 1 s median (guided pct): ${under1s} of ${unsafe.size}`);
console.log(`   geometric mean time, unguided/guided: ${(geo(medians[1]!) / geo(medians[0]!)).toFixed(2)}x; random/pct: ${(geo(medians[2]!) / geo(medians[0]!)).toFixed(2)}x`);

// ---- 3. scaling
const one = campaignRate(1), two = campaignRate(2);
console.log(`3. xmcfuzz fuzz execs/s: 1 worker ${one.toFixed(0)}, 2 workers ${two.toFixed(0)}: ${(two / one).toFixed(2)}x`);
// Minimization time is not an exec: without it, the same comparison measures the engines alone.
const oneRaw = campaignRate(1, ["--no-minimize"]), twoRaw = campaignRate(2, ["--no-minimize"]);
console.log(`   with --no-minimize: 1 worker ${oneRaw.toFixed(0)}, 2 workers ${twoRaw.toFixed(0)}: ${(twoRaw / oneRaw).toFixed(2)}x`);
