// `npm run bench:fuzz`: the fuzzer's figures, as ratios measured in one run.
//   1. execs/s of the built-in engine (`xmcfuzz fuzz`, 1 worker) vs jsfuzz driving the same harness,
//      each run as users run it, for the same wall time, in --rounds rounds (ratios read per round);
//      jsfuzz from a cold start and from seeds that decode to cases as large as the engine's (its
//      cold cases are the smallest the generator makes; each side's scheduler events per exec are
//      printed), and jsfuzz on an empty target (its cost per exec outside the harness);
//   2. time to the first divergence in each known-unsafe (strategy, model) cell, median of 5 seeds:
//      guided vs the same engine with feedback off, and PCT vs random;
//   3. execs/s with 2 workers vs 1, with the CPU the process actually got (a loaded machine shows
//      up there, not as a scaling defect): from a cold start (median of --scaling-rounds pairs run
//      in turn), and resumed from a directory that one campaign warmed for --warm seconds (0
//      skips it), past the first burst of findings;
//   4. where an exec's time goes: the engine's fuzzing step alone vs the jsfuzz target's fuzz()
//      called directly (same ESM build, no instrumentation), both in this process;
//   5. the steady state: execs/s over the last third of one longer campaign (--steady seconds,
//      0 skips it), past the first burst of new signatures that each get confirmed, reported and
//      minimized, against jsfuzz (cold and seeded) over the last third of as long a run.
// Every campaign figure is a whole `xmcfuzz fuzz` process as users run it, minimization included
// unless the line says --no-minimize. The load average is printed: on a shared machine other
// processes take cores, and wall-time rates fall with them.
// Usage: node dist/scripts/bench-fuzz.js [--seconds 20] [--rounds 2] [--seeds 5] [--cap 3] [--steady 120]
//                                        [--warm 120] [--scaling-rounds 3] [--skip-jsfuzz] [--skip-cells]
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { loadCaseFile } from "../src/case/load.js";
import { FuzzEngine } from "../src/fuzz/engine.js";
import seedrandom from "seedrandom";
import { prepare, runOnce } from "../src/differential.js";
import { caseFromBytes } from "../src/fuzz/bytes.js";
import { NAMED_MODELS, namedModel } from "../src/models/named.js";
import { BUILTIN_STRATEGIES, builtinStrategy } from "../src/strategies/registry.js";
import { shebangNodeFlags } from "../src/testing/bin.js";
import { median } from "./median.js";

const KNOWN = new Set(["--seconds", "--rounds", "--seeds", "--cap", "--steady", "--warm", "--scaling-rounds", "--skip-jsfuzz", "--skip-cells"]);
const help = process.argv.includes("--help") || process.argv.includes("-h");
const unknown = process.argv.slice(2).filter((a) => a.startsWith("--") && a !== "--help" && !KNOWN.has(a));
if (help || unknown.length > 0) {
  // Neither --help nor a typo may start the whole benchmark (many minutes on both cores).
  if (unknown.length > 0) console.log(`unknown option ${unknown.join(" ")}`);
  console.log("usage: node dist/scripts/bench-fuzz.js [--seconds 20] [--rounds 2] [--seeds 5] [--cap 3] [--steady 120] [--warm 120] [--scaling-rounds 3] [--skip-jsfuzz] [--skip-cells]");
  process.exit(unknown.length > 0 ? 2 : 0);
}
const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const seconds = arg("--seconds", 20), seeds = arg("--seeds", 5), capSeconds = arg("--cap", 3), steadySeconds = arg("--steady", 120);
const warmSeconds = arg("--warm", 120), rounds = arg("--rounds", 2), scalingRounds = arg("--scaling-rounds", 3);
const root = join(import.meta.dirname, "..", "..");
const cli = join(root, "dist", "src", "cli", "main.js");

interface Point { t: number; execs: number; events?: number; cpuMs: number; fuzzMs: number; minimizeMs: number; signatures: number }
interface Rate {
  /** execs/s over the measured window. */
  readonly rate: number;
  /** Scheduler events emulated per exec over the window. */
  readonly eventsPerExec: number;
  /** Cores the process got over the window (CPU time / wall time). */
  readonly cores: number;
  /** Share of the workers' time spent minimizing findings over the window. */
  readonly minimizeShare: number;
  readonly signatures: number;
  readonly load: string;
}

const load = () => loadavg().map((x) => x.toFixed(1)).join(" ");

// Campaign directories are removed only when the script ends. ext4 skips inodes deleted in the
// last minute (five while their table block is dirty) when it allocates one, reading each on the
// way: a campaign's thousands of files deleted just before the next campaign made that one's main
// thread spend most of its first seconds in the kernel creating files (6.9 s of system time in
// 12 s, against 1.0 s in a directory without such deletions), out of the workers' cores.
const scratch = mkdtempSync(join(tmpdir(), "xmcfuzz-bench-"));
process.on("exit", () => rmSync(scratch, { recursive: true, force: true }));

/** One `xmcfuzz fuzz` process into `dir`, run with the bin's node flags, as users run it. */
function fuzzCampaign(dir: string, workers: number, secs: number, extra: readonly string[] = []): void {
  spawnSync(process.execPath, [...shebangNodeFlags(cli), cli, "fuzz", "--workers", String(workers), "--duration", `${secs}s`, "--seed", "11", "--out", dir, "--crashes", join(dir, "crashes"), ...extra], { encoding: "utf8" });
}

/**
 * Execs per second of a whole `xmcfuzz fuzz` process over the part of its run from `from` (a
 * fraction of it) to the end, from its stats history; by default the second half, past start-up.
 * `warm`: a campaign directory to resume (copied first), as a campaign is past its first minutes.
 */
function campaignRate(workers: number, extra: string[] = [], secs = seconds, from = 0.5, warm?: string): Rate {
  const dir = mkdtempSync(join(scratch, "campaign-"));
  if (warm) cpSync(warm, dir, { recursive: true });
  const before = load();
  fuzzCampaign(dir, workers, secs, extra);
  const h = (JSON.parse(readFileSync(join(dir, "stats.json"), "utf8")) as { history: Point[] }).history;
  // A resumed campaign's history goes on from the earlier run's: the window is this run's own.
  // Points come every 5 s: the window starts at the last one at least `secs * (1 - from)` before
  // the end, so that it is never shorter than asked.
  const intended = secs * 1000 * (1 - from), last = h[h.length - 1]!;
  const mid = [...h].reverse().find((p) => p.t <= last.t - intended) ?? h[0]!;
  const wall = last.t - mid.t, busy = last.fuzzMs - mid.fuzzMs + last.minimizeMs - mid.minimizeMs;
  // A main thread that fell behind its messages writes its points late, and the execs it counts
  // in a window were run before it: no rate can be read from such a window.
  const points = h.filter((p) => p.t >= mid.t);
  const gap = Math.max(...points.slice(1).map((p, i) => p.t - points[i]!.t));
  const late = gap > 7500;
  if (late) console.log(`   (a ${workers}-worker campaign wrote no stats for ${(gap / 1000).toFixed(1)} s: main thread backlog; no rate)`);
  return {
    rate: late ? NaN : (last.execs - mid.execs) / (wall / 1000), eventsPerExec: ((last.events ?? NaN) - (mid.events ?? NaN)) / (last.execs - mid.execs), cores: (last.cpuMs - mid.cpuMs) / wall,
    minimizeShare: busy > 0 ? (last.minimizeMs - mid.minimizeMs) / busy : 0, signatures: last.signatures, load: `${before} -> ${load()}`,
  };
}

const describe = (r: Rate) => `${r.rate.toFixed(0)} execs/s of ${r.eventsPerExec.toFixed(0)} events (process got ${r.cores.toFixed(2)} cores, ${(100 * r.minimizeShare).toFixed(0)}% of worker time minimizing, ${r.signatures} signatures; load ${r.load})`;

interface JsfuzzRun {
  /** execs/s: steady (past its start-up), over the second half of the budget, or over the last third, as asked. */
  readonly rate: number | undefined;
  /** Scheduler events emulated per exec (the counting target's tally; NaN on other targets). */
  readonly eventsPerExec: number;
}

/**
 * One jsfuzz run of `secs` on `target` (a file under harness/; default the counting target: the
 * jsfuzz target plus a tally of its runs' work, a few additions per exec). `seeds`: a corpus
 * directory to start from (copied first: jsfuzz adds to it); default an empty one, a cold start.
 */
function jsfuzzRun(opts: { secs?: number; window?: "steady" | "last-third" | "second-half"; target?: string; seeds?: string } = {}): JsfuzzRun {
  const { secs = seconds, window = "steady", target = "jsfuzz-counting-target.cjs" } = opts;
  const work = mkdtempSync(join(scratch, "jsfuzz-")), corpus = join(work, "corpus"), tally = join(work, "tally.json");
  if (opts.seeds) cpSync(opts.seeds, corpus, { recursive: true });
  const r = spawnSync("sh", [join(root, "scripts", "bench-jsfuzz.sh"), String(secs), corpus],
    { cwd: root, encoding: "utf8", env: { ...process.env, JSFUZZ_TARGET: target, XMCFUZZ_TALLY_FILE: tally } });
  // Anchored: a NaN figure must not read the next line's number.
  const m = new RegExp(`^${window} execs/s: ([\\d.]+)$`, "m").exec(r.stdout);
  const t = existsSync(tally) ? (JSON.parse(readFileSync(tally, "utf8")) as { execs: number; events: number }) : undefined;
  return { rate: m ? Number(m[1]) : undefined, eventsPerExec: t ? t.events / t.execs : NaN };
}

/**
 * A seed corpus for jsfuzz (made on first use): random buffers of 64-511 bytes. From an empty
 * corpus jsfuzz's buffers stay a few dozen bytes long, and the byte reader reads zeros past their
 * end, so its cases are the smallest the generator makes; these decode to cases as large as the
 * engine generates.
 */
let seedDir: string | undefined;
function jsfuzzSeeds(): string {
  if (seedDir) return seedDir;
  seedDir = mkdtempSync(join(scratch, "jsfuzz-seeds-"));
  const rng = seedrandom.alea("bench-bytes");
  for (let i = 0; i < 200; i++) writeFileSync(join(seedDir, `seed-${i}`), randomBuffer(rng));
  return seedDir;
}

const randomBuffer = (rng: () => number) => Uint8Array.from({ length: 64 + Math.floor(rng() * 448) }, () => Math.floor(rng() * 256));

if (!process.argv.includes("--skip-jsfuzz")) {
  // The host's speed drifts by 2x over minutes here: each round runs both engines back to back,
  // and the ratios are read per round. The same harness does not mean the same work per exec:
  // jsfuzz runs from a cold start (its cases the smallest) and from seeds that decode to cases as
  // large as the engine's. (Its time per exec follows its own overhead more than the case: a
  // ratio per emulated event would flatter the engine against small cases.)
  const seeds = jsfuzzSeeds();
  const ratios = { cold: [] as number[], seeded: [] as number[], rawCold: [] as number[], rawSeeded: [] as number[] };
  const x = (q: number | undefined) => (q === undefined || !Number.isFinite(q) ? "?" : `${q.toFixed(1)}x`);
  const perExec = (r: Rate, j: JsfuzzRun) => (j.rate && Number.isFinite(r.rate) ? r.rate / j.rate : undefined);
  const add = (list: number[], q: number | undefined) => q !== undefined && Number.isFinite(q) && list.push(q);
  for (let round = 1; round <= rounds; round++) {
    const ours = campaignRate(1);
    // Both sides over the same window: the second half of the budget, past their start-up.
    const cold = jsfuzzRun({ window: "second-half" });
    const raw = campaignRate(1, ["--no-minimize"]);
    const seeded = jsfuzzRun({ seeds, window: "second-half" });
    add(ratios.cold, perExec(ours, cold));
    add(ratios.rawCold, perExec(raw, cold));
    add(ratios.seeded, perExec(ours, seeded));
    add(ratios.rawSeeded, perExec(raw, seeded));
    const js = (j: JsfuzzRun) => `${j.rate?.toFixed(0) ?? "?"} execs/s of ${j.eventsPerExec.toFixed(0)} events`;
    console.log(`1. round ${round} (load ${load()}), each side over the second half of ${seconds} s: jsfuzz cold ${js(cold)}, seeded ${js(seeded)}; xmcfuzz fuzz, 1 worker:`);
    console.log(`   as users run it: ${describe(ours)}: ${x(perExec(ours, cold))} cold, ${x(perExec(ours, seeded))} seeded`);
    console.log(`   --no-minimize:   ${describe(raw)}: ${x(perExec(raw, cold))} cold, ${x(perExec(raw, seeded))} seeded`);
  }
  const range = (xs: number[]) => (xs.length ? `median ${median(xs).toFixed(1)}x (${Math.min(...xs).toFixed(1)}-${Math.max(...xs).toFixed(1)}x)` : "?");
  if (rounds > 0) console.log(`1. over ${rounds} rounds, execs/s of xmcfuzz as users run it against jsfuzz cold ${range(ratios.cold)}, seeded ${range(ratios.seeded)}; ` +
    `--no-minimize against cold ${range(ratios.rawCold)}, seeded ${range(ratios.rawSeeded)}`);
  // What jsfuzz spends per exec outside the harness, from a cold start.
  const ceiling = jsfuzzRun({ target: "jsfuzz-empty-target.cjs" }).rate, target = jsfuzzRun({ target: "jsfuzz-target.cjs" }).rate;
  if (ceiling && target) {
    console.log(`1. control: jsfuzz on the same modules with an empty fuzz(): ${ceiling.toFixed(0)} execs/s, next to ${target.toFixed(0)} on the target: ` +
      `${(100 * target / ceiling).toFixed(0)}% of its exec time (${(1000 / ceiling).toFixed(2)} of ${(1000 / target).toFixed(2)} ms) is its own`);
  }
}

if (!process.argv.includes("--skip-cells")) cells();

function cells(): void {
// ---- 2. known-unsafe cells: those where a regression-corpus case diverges
const unsafe = new Map<string, { strategy: string; model: string }>();
for (const f of readdirSync(join(root, "corpus")).filter((x) => x.endsWith(".json"))) {
  for (const r of loadCaseFile(join(root, "corpus", f)).kase.runs) {
    if (r.expect?.verdict === "diverges") unsafe.set(`${r.strategy} ${r.model}`, { strategy: r.strategy, model: r.model });
  }
}

/** Seconds until the first divergence in one cell, or undefined past the cap. */
function timeToFirst(cell: { strategy: string; model: string }, seed: number, scheduler: "pct" | "random", feedback: boolean): number | undefined {
  const engine = new FuzzEngine({ seed, strategies: [builtinStrategy(cell.strategy)!], models: [namedModel(cell.model)!], scheduler, feedback, scope: { maxCores: 4 } });
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
}

// ---- 3. scaling, next to two controls: what a second process gets right now, for pure arithmetic
// and for this very workload (two engines in separate processes that share nothing: the ceiling
// of any 2-worker or 2-node figure on this machine)
const control = spinScaling();
console.log(`3. control: a CPU spin loop in 2 processes at once does ${control.toFixed(2)}x the work of 1 in the same time (2.00 on two idle cores)`);
const engines = engineScaling();
console.log(`3. control: 2 engines in separate processes (no threads, files or exchange) do ${engines.toFixed(2)}x the execs of 1 in the same time`);
const scaling = (two: Rate, one: Rate) => `${(two.rate / one.rate).toFixed(2)}x (per core the process got: ${(two.rate / two.cores / (one.rate / one.cores)).toFixed(2)}x)`;
// One pair of campaigns varies by +-20% here from one minute to the next: the pairs run in turn,
// --scaling-rounds times, and the median ratio is the figure. Minimization time is not an exec:
// without it (--no-minimize) the same comparison measures the engines alone.
for (const extra of [[], ["--no-minimize"]]) {
  const label = extra.length ? "--no-minimize" : "as users run it";
  const ratios: number[] = [];
  for (let round = 1; round <= scalingRounds; round++) {
    const one = campaignRate(1, extra), two = campaignRate(2, extra);
    if (Number.isFinite(one.rate) && Number.isFinite(two.rate)) ratios.push(two.rate / one.rate);
    console.log(`3. ${label}, round ${round}: 1 worker ${describe(one)}`);
    console.log(`   2 workers: ${describe(two)}: ${scaling(two, one)}`);
  }
  if (ratios.length) console.log(`3. 2 workers against 1, ${label}: median ${median(ratios).toFixed(2)}x over ${ratios.length} rounds (${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}x)`);
}
// Past the first minutes, as most of a night's campaign is: both resume one warmed directory.
if (warmSeconds > 0) {
  const warm = mkdtempSync(join(scratch, "warm-"));
  fuzzCampaign(warm, 1, warmSeconds);
  for (const extra of [[], ["--no-minimize"]]) {
    const one = campaignRate(1, extra, seconds, 0.5, warm), two = campaignRate(2, extra, seconds, 0.5, warm);
    console.log(`3. resumed after a ${warmSeconds} s campaign${extra.length ? ", --no-minimize" : ""}: 1 worker ${describe(one)}`);
    console.log(`   2 workers: ${describe(two)}: ${scaling(two, one)}`);
  }
}

// ---- 4. where an exec's time goes, in this process (CPU time, so other load matters less)
{
  const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
  const engine = new FuzzEngine({ seed: 5, strategies: BUILTIN_STRATEGIES, models: NAMED_MODELS, scheduler: "random", feedback: true });
  for (let i = 0; i < 200; i++) engine.step();
  let c0 = cpu();
  for (let i = 0; i < 2000; i++) engine.step();
  const engineMs = (cpu() - c0) / 2000;
  const rng = seedrandom.alea("bench-bytes");
  const bufs = Array.from({ length: 2200 }, () => randomBuffer(rng));
  for (let i = 0; i < 200; i++) jsfuzzTarget(bufs[i]!);
  c0 = cpu();
  for (let i = 200; i < 2200; i++) jsfuzzTarget(bufs[i]!);
  const targetMs = (cpu() - c0) / 2000;
  console.log(`4. CPU ms per exec: engine step ${engineMs.toFixed(2)} (generate/mutate once per ${8} runs, one run, coverage, confirmation of new signatures);`);
  console.log(`   jsfuzz target's fuzz() called directly ${targetMs.toFixed(2)} (bytes -> case, loader checks, plan, one run), uninstrumented: ${(targetMs / engineMs).toFixed(1)}x the engine's`);
}

// ---- 5. steady state
if (steadySeconds > 0) {
  const steady = campaignRate(1, [], steadySeconds, 2 / 3);
  console.log(`5. steady state, last third of a ${steadySeconds} s campaign, 1 worker: ${describe(steady)}`);
  if (!process.argv.includes("--skip-jsfuzz")) {
    for (const seeds of [undefined, jsfuzzSeeds()]) {
      const theirs = jsfuzzRun({ secs: steadySeconds, window: "last-third", seeds });
      console.log(`   jsfuzz ${seeds ? "seeded" : "cold"}, last third of ${steadySeconds} s: ${theirs.rate?.toFixed(0) ?? "?"} execs/s of ${theirs.eventsPerExec.toFixed(0)} events: ` +
        `${theirs.rate ? (steady.rate / theirs.rate).toFixed(1) : "?"}x`);
    }
  }
}

/** Execs of two `engine-rate` processes at once over one alone, each for `seconds` / 2. */
function engineScaling(): number {
  const script = join(root, "dist", "scripts", "engine-rate.js");
  const rate = (out: string) => [...out.matchAll(/(\d+) execs\/s/g)].reduce((t, m) => t + Number(m[1]), 0);
  const secs = String(Math.max(5, seconds / 2));
  const run = (n: number) => {
    const cmd = Array.from({ length: n }, () => `${JSON.stringify(process.execPath)} --single-threaded ${JSON.stringify(script)} ${secs} pct &`).join(" ") + " wait";
    return rate(spawnSync("sh", ["-c", cmd], { encoding: "utf8" }).stdout);
  };
  return run(2) / run(1);
}

/** Throughput of two spinning processes at once over one alone (same fixed work each). */
function spinScaling(): number {
  // Integer-only work (no double arithmetic, whose JIT timing varied between runs).
  const spin = "let x = 1; for (let i = 0; i < 2e8; i++) x = (Math.imul(x, 31) + i) | 0; if (x === 42) console.log(x);";
  const run = (n: number) => {
    const t0 = performance.now();
    const script = Array.from({ length: n }, () => `${JSON.stringify(process.execPath)} -e ${JSON.stringify(spin)} &`).join(" ") + " wait";
    spawnSync("sh", ["-c", script]);
    return performance.now() - t0;
  };
  run(1); // the first spawn also pays for a cold start
  const alone = Math.min(run(1), run(1)), pair = Math.min(run(2), run(2));
  return (2 * alone) / pair;
}

/** The jsfuzz target's fuzz(), on the ESM build: what jsfuzz runs per exec, minus its instrumentation. */
function jsfuzzTarget(buf: Uint8Array): void {
  const { kase, soloBudget, strategy, model, seed } = caseFromBytes(buf);
  runOnce(prepare(kase, soloBudget), { strategy, model, seed });
}
