// A/B of the fuzzing engine's per-exec CPU cost between two builds, side by side in one run:
// a fixed seed and a fixed number of steps (deterministic work), each build in its own child
// process, alternated; also checks both builds found the same corpus and findings.
//   node dist/scripts/engine-ab.js <old dist dir> <new dist dir> [steps=1500] [rounds=3] [random|pct] [warm=0]
// `warm` steps run first, unmeasured: a young engine confirms a finding every few steps, a warm one
// seldom, and a night is made of the latter.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { median } from "./median.js";

const [oldDir, newDir] = [process.argv[2], process.argv[3]];
const steps = Number(process.argv[4] ?? 1500), rounds = Number(process.argv[5] ?? 3);
const child = process.argv[2] === "--child";
const scheduler = process.argv[child ? 5 : 6] === "pct" ? "pct" : "random";
const warm = Number(process.argv[child ? 6 : 7] ?? 0);

interface Sample { cpuMs: number; execs: number; digest: string; corpus: number; bits: number; findings: number }

if (child) {
  const dir = process.argv[3]!, n = Number(process.argv[4]);
  const url = (p: string) => pathToFileURL(resolve(dir, p)).href;
  const { FuzzEngine } = await import(url("src/fuzz/engine.js"));
  const { NAMED_MODELS } = await import(url("src/models/named.js"));
  const { BUILTIN_STRATEGIES } = await import(url("src/strategies/registry.js"));
  const engine = new FuzzEngine({ seed: 5, strategies: BUILTIN_STRATEGIES, models: NAMED_MODELS, scheduler, feedback: true });
  const h = createHash("sha256");
  let findings = 0;
  for (let i = 0; i < warm; i++) engine.step();
  const execs0 = engine.execs;
  const u0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const r = engine.step();
    h.update(`${r.outcome.verdict.kind} ${r.outcome.verdict.signature ?? ""} ${r.outcome.run.events}\n`);
    for (const f of r.findings) { findings++; h.update(`${f.kind} ${f.signature} ${JSON.stringify(f.kase)}\n`); }
    if (r.corpusEntry) h.update(`corpus ${r.corpusEntry.bits.join(",")}\n`);
  }
  const u = process.cpuUsage(u0);
  for (const t of engine.corpus) h.update(t);
  const s: Sample = { cpuMs: (u.user + u.system) / 1000, execs: engine.execs - execs0, digest: h.digest("hex").slice(0, 16), corpus: engine.corpus.length, bits: engine.coverage.count, findings };
  console.log(JSON.stringify(s));
} else {
  if (!oldDir || !newDir) throw new Error("usage: engine-ab <old dist> <new dist> [steps] [rounds]");
  const one = (dir: string): Sample => JSON.parse(execFileSync(process.execPath, [process.argv[1]!, "--child", dir, String(steps), scheduler, String(warm)], { encoding: "utf8" }));
  const olds: Sample[] = [], news: Sample[] = [];
  for (let r = 0; r < rounds; r++) {
    olds.push(one(oldDir));
    news.push(one(newDir));
    const o = olds[r]!, n = news[r]!;
    console.log(`round ${r + 1}: old ${(o.cpuMs / o.execs).toFixed(3)} CPU ms/exec, new ${(n.cpuMs / n.execs).toFixed(3)}: ${(o.cpuMs / n.cpuMs).toFixed(2)}x  (same work: ${o.digest === n.digest ? "yes" : "NO"}; corpus ${o.corpus}/${n.corpus}, bits ${o.bits}/${n.bits}, findings ${o.findings}/${n.findings})`);
  }
  const ratio = median(olds.map((o) => o.cpuMs)) / median(news.map((n) => n.cpuMs));
  console.log(`median: new build ${ratio.toFixed(2)}x cheaper per exec (${steps} steps from seed 5${warm ? ` after ${warm} unmeasured` : ""}, ${scheduler} schedules, ${rounds} rounds, alternated)`);
  if (olds.some((o, i) => o.digest !== news[i]!.digest)) { console.log("DIFFERENT WORK: the builds do not compute the same thing"); process.exitCode = 1; }
}
