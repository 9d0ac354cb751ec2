// Real CPU through the hub: 1 vs 2 `xmcfuzz fuzz --hub` processes (1 worker each, the emulator in
// a worker thread) against one redis-server on this machine, side by side in one run. Figure:
// total execs/s over the second half of each run (past the start-up burst of new signatures),
// and the ratio 2 processes / 1. Same seeds per node name in both runs. On a shared machine the
// wall-clock ratio depends on what else runs, so the CPU seconds each process used (all its
// threads, from /proc) are reported too: execs per CPU second shows what the hub costs a node,
// and 2 processes apart (no hub) separate the hub's cost from two processes' contention.
// Usage: node dist/scripts/hub-cpu.js [--seconds 30]
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RedisHub } from "../src/hub/redis.js";
import { startRedis } from "../src/testing/redis.js";
import { shebangNodeFlags } from "../src/testing/bin.js";

const i = process.argv.indexOf("--seconds");
const seconds = i >= 0 ? Number(process.argv[i + 1]) : 30;
const root = join(import.meta.dirname, "..", "..");
const cli = join(root, "dist", "src", "cli", "main.js");

function rateOf(dir: string): number {
  const h = (JSON.parse(readFileSync(join(dir, "stats.json"), "utf8")) as { history: { t: number; execs: number }[] }).history;
  const last = h[h.length - 1]!, mid = h.find((p) => p.t >= last.t / 2) ?? h[0]!;
  return (last.execs - mid.execs) / ((last.t - mid.t) / 1000);
}

/** utime + stime of a process, all threads, in seconds (Linux). */
function cpuSeconds(pid: number): number | undefined {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return undefined;
  }
}

async function run(processes: number, viaHub = true): Promise<{ rate: number; execs: number; cpu: number; signatures: number; corpus: number; load: number }> {
  const server = await startRedis();
  const dir = mkdtempSync(join(tmpdir(), "xmcfuzz-hubcpu-"));
  try {
    const nodes = Array.from({ length: processes }, (_, k) => {
      const out = join(dir, `n${k}`);
      const hubArgs = viaHub ? ["--hub", server.url, "--shard-workers", "0"] : [];
      const child = spawn(process.execPath, [...shebangNodeFlags(cli), cli, "fuzz", ...hubArgs, "--node", `n${k}`, "--workers", "1", "--no-minimize",
        "--duration", `${seconds}s`, "--seed", String(11 + k), "--out", out, "--crashes", join(out, "crashes")], { stdio: "ignore" });
      let cpu = 0;
      const poll = setInterval(() => (cpu = cpuSeconds(child.pid!) ?? cpu), 250);
      return { out, cpu: () => cpu, done: new Promise((r) => child.once("exit", () => r(clearInterval(poll)))) };
    });
    const load = loadavg()[0]!;
    await Promise.all(nodes.map((n) => n.done));
    const execs = nodes.reduce((t, n) => t + (JSON.parse(readFileSync(join(n.out, "stats.json"), "utf8")) as { execs: number }).execs, 0);
    const hub = new RedisHub(server.url);
    const s = await hub.status();
    await hub.close();
    return { rate: nodes.reduce((t, n) => t + rateOf(n.out), 0), execs, cpu: nodes.reduce((t, n) => t + n.cpu(), 0), signatures: s.signatures, corpus: s.corpus, load };
  } finally {
    await server.stop();
  }
}

const one = await run(1), two = await run(2), apart = await run(2, false);
const line = (name: string, r: typeof one) => console.log(`${name}: ${r.rate.toFixed(0).padStart(5)} execs/s (second half)  ${r.execs} execs in ${r.cpu.toFixed(1)} CPU s = ${(r.execs / r.cpu).toFixed(0)} execs per CPU s  (hub: ${r.signatures} signatures, corpus ${r.corpus}; load average ${r.load.toFixed(1)} on ${availableParallelism()} CPUs)`);
line("1 process  ", one);
line("2 processes", two);
line("2 apart    ", apart);
console.log(`ratio 2/1: ${(two.rate / one.rate).toFixed(2)}x execs/s; ${((two.execs / two.cpu) / (one.execs / one.cpu)).toFixed(2)}x execs per CPU second`);
console.log(`2 through the hub vs 2 apart (no hub, no exchange): ${(two.rate / apart.rate).toFixed(2)}x execs/s; ${((two.execs / two.cpu) / (apart.execs / apart.cpu)).toFixed(2)}x execs per CPU second`);
process.exit(0);
