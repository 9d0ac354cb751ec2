// A/B of the emulator alone (runCase, no oracle, no engine) between two builds, side by side:
// the same 1,200 generated (case, strategy, model, seed) runs in alternated child processes,
// CPU ms per run and a check that both builds made the same runs.
//   node dist/scripts/machine-ab.js <old dist dir> <new dist dir> [reps=2] [rounds=3]
import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import seedrandom from "seedrandom";

interface Sample { msPerRun: number; check: number }

if (process.argv[2] === "--child") {
  const dir = process.argv[3]!, reps = Number(process.argv[4]);
  const url = (p: string) => pathToFileURL(resolve(dir, p)).href;
  const { generateCase } = await import(url("src/fuzz/generate.js"));
  const { prepare } = await import(url("src/differential.js"));
  const { soloBudget } = await import(url("src/case/terminate.js"));
  const { runCase } = await import(url("src/machine/run.js"));
  const { RandomChooser, RecordingChooser } = await import(url("src/schedule/choosers.js"));
  const { NAMED_MODELS } = await import(url("src/models/named.js"));
  const { BUILTIN_STRATEGIES } = await import(url("src/strategies/registry.js"));
  const rng = seedrandom.alea("machine-ab");
  const specs: { p: any; s: any; m: any; seed: number }[] = [];
  for (let i = 0; i < 300; i++) {
    const kase = generateCase(rng, { maxCores: 5 });
    const p = prepare(kase, soloBudget(kase));
    for (let j = 0; j < 4; j++) {
      specs.push({ p, s: BUILTIN_STRATEGIES[Math.floor(rng() * BUILTIN_STRATEGIES.length)], m: NAMED_MODELS[Math.floor(rng() * NAMED_MODELS.length)], seed: Math.floor(rng() * 1e9) });
    }
  }
  let check = 0;
  const u0 = process.cpuUsage();
  for (let rep = 0; rep < reps; rep++) {
    for (const x of specs) {
      const chooser = new RecordingChooser(new RandomChooser(x.seed));
      const r = runCase(x.p.plan, x.s, x.m, { chooser, soloBudget: x.p.soloBudget });
      check = (check * 31 + r.events + chooser.decisions.length + r.passages.length) | 0;
    }
  }
  const u = process.cpuUsage(u0);
  const s: Sample = { msPerRun: (u.user + u.system) / 1000 / (reps * specs.length), check };
  console.log(JSON.stringify(s));
} else {
  const [oldDir, newDir] = [process.argv[2], process.argv[3]];
  const reps = Number(process.argv[4] ?? 2), rounds = Number(process.argv[5] ?? 3);
  if (!oldDir || !newDir) throw new Error("usage: machine-ab <old dist> <new dist> [reps] [rounds]");
  const one = (dir: string): Sample => JSON.parse(execFileSync(process.execPath, [process.argv[1]!, "--child", dir, String(reps)], { encoding: "utf8" }));
  const ratios: number[] = [];
  let same = true;
  for (let r = 0; r < rounds; r++) {
    const o = one(oldDir), n = one(newDir);
    ratios.push(o.msPerRun / n.msPerRun);
    same &&= o.check === n.check;
    console.log(`round ${r + 1}: old ${o.msPerRun.toFixed(3)} CPU ms/run, new ${n.msPerRun.toFixed(3)}: ${(o.msPerRun / n.msPerRun).toFixed(2)}x (same runs: ${o.check === n.check ? "yes" : "NO"})`);
  }
  console.log(`median: new build ${[...ratios].sort((a, b) => a - b)[Math.floor(ratios.length / 2)]!.toFixed(2)}x cheaper per run`);
  if (!same) process.exitCode = 1;
}
