// A/B of the emulator alone (runCase, no oracle, no engine) between two builds, side by side: after
// a warm-up pass, the same 1,200 generated (case, strategy, model, schedule) runs in alternated child
// processes, CPU ms per run, and a check that both builds made the same runs: a digest of every decision and
// every field of every RunResult (observations, passages with provenance, phases, rules, hangs,
// final code), under random and PCT schedules, plus the timeline text of every tenth run traced.
//   node dist/scripts/machine-ab.js <old dist dir> <new dist dir> [reps=2] [rounds=3]
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import seedrandom from "seedrandom";
import { median } from "./median.js";

interface Sample { msPerRun: number; digest: string }

/** JSON of a run with typed arrays as plain lists and Infinity spelled out. */
function runJson(result: unknown): string {
  return JSON.stringify(result, (_k, v: unknown) =>
    v instanceof Uint8Array ? [...v] : v === Infinity ? "Infinity" : v);
}

if (process.argv[2] === "--child") {
  const dir = process.argv[3]!, reps = Number(process.argv[4]);
  const url = (p: string) => pathToFileURL(resolve(dir, p)).href;
  const { generateCase } = await import(url("src/fuzz/generate.js"));
  const { prepare } = await import(url("src/differential.js"));
  const { soloBudget } = await import(url("src/case/terminate.js"));
  const { runCase } = await import(url("src/machine/run.js"));
  const { RandomChooser, RecordingChooser } = await import(url("src/schedule/choosers.js"));
  const { PctChooser } = await import(url("src/schedule/pct.js"));
  const { NAMED_MODELS } = await import(url("src/models/named.js"));
  const { BUILTIN_STRATEGIES } = await import(url("src/strategies/registry.js"));
  const rng = seedrandom.alea("machine-ab");
  const specs: { p: any; s: any; m: any; seed: number; pct?: { depth: number; length: number; inPatchWindow: boolean } }[] = [];
  for (let i = 0; i < 300; i++) {
    const kase = generateCase(rng, { maxCores: 5 });
    const p = prepare(kase, soloBudget(kase));
    for (let j = 0; j < 4; j++) {
      const pct = j % 2 === 1 ? { depth: 1 + Math.floor(rng() * 3), length: 100 + Math.floor(rng() * 300), inPatchWindow: rng() < 0.7 } : undefined;
      specs.push({ p, s: BUILTIN_STRATEGIES[Math.floor(rng() * BUILTIN_STRATEGIES.length)], m: NAMED_MODELS[Math.floor(rng() * NAMED_MODELS.length)], seed: Math.floor(rng() * 1e9), pct });
    }
  }
  const chooserOf = (x: (typeof specs)[number]) => new RecordingChooser(x.pct ? new PctChooser(x.seed, x.pct) : new RandomChooser(x.seed));
  const runAll = () => { for (const x of specs) runCase(x.p.plan, x.s, x.m, { chooser: chooserOf(x), soloBudget: x.p.soloBudget }); };
  runAll(); // warm-up: the JIT's first passes are several times slower than the steady state
  const u0 = process.cpuUsage();
  for (let rep = 0; rep < reps; rep++) runAll();
  const u = process.cpuUsage(u0);
  // The check, apart from the timing: every run again, hashed whole.
  const h = createHash("sha256");
  specs.forEach((x, i) => {
    const chooser = chooserOf(x);
    const r = runCase(x.p.plan, x.s, x.m, { chooser, soloBudget: x.p.soloBudget, trace: i % 10 === 0 });
    h.update(`${chooser.decisions.join(" ")}\n${runJson(r)}\n`);
  });
  const s: Sample = { msPerRun: (u.user + u.system) / 1000 / (reps * specs.length), digest: h.digest("hex").slice(0, 16) };
  console.log(JSON.stringify(s));
} else {
  const [oldDir, newDir] = [process.argv[2], process.argv[3]];
  const reps = Number(process.argv[4] ?? 2), rounds = Number(process.argv[5] ?? 3);
  if (!oldDir || !newDir) throw new Error("usage: machine-ab <old dist> <new dist> [reps] [rounds]");
  const one = (dir: string): Sample => JSON.parse(execFileSync(process.execPath, ["--single-threaded", process.argv[1]!, "--child", dir, String(reps)], { encoding: "utf8" }));
  const ratios: number[] = [];
  let same = true, oldMin = Infinity, newMin = Infinity;
  for (let r = 0; r < rounds; r++) {
    const o = one(oldDir), n = one(newDir);
    ratios.push(o.msPerRun / n.msPerRun);
    oldMin = Math.min(oldMin, o.msPerRun);
    newMin = Math.min(newMin, n.msPerRun);
    same &&= o.digest === n.digest;
    console.log(`round ${r + 1}: old ${o.msPerRun.toFixed(3)} CPU ms/run, new ${n.msPerRun.toFixed(3)}: ${(o.msPerRun / n.msPerRun).toFixed(2)}x (same runs: ${o.digest === n.digest ? "yes" : "NO"})`);
  }
  // A process's JIT makes its own choices: the same build varies by ±20% between processes, and
  // the fastest process of each build is the steadier comparison.
  console.log(`median of rounds: new build ${median(ratios).toFixed(2)}x cheaper per run; fastest of each: old ${oldMin.toFixed(3)}, new ${newMin.toFixed(3)} CPU ms/run: ${(oldMin / newMin).toFixed(2)}x`);
  if (!same) process.exitCode = 1;
}
