// Real CPU through the hub: 1 vs 2 `xmcfuzz fuzz --hub` processes (1 worker each, the emulator in
// a worker thread) against one redis-server on this machine, side by side in one run. Figure:
// total execs/s over the second half of each run (past the start-up burst of new signatures),
// and the ratio 2 processes / 1. Same seeds per node name in both runs.
// Usage: node dist/scripts/hub-cpu.js [--seconds 30]
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RedisHub } from "../src/hub/redis.js";
import { startRedis } from "../src/testing/redis.js";

const i = process.argv.indexOf("--seconds");
const seconds = i >= 0 ? Number(process.argv[i + 1]) : 30;
const root = join(import.meta.dirname, "..", "..");
const cli = join(root, "dist", "src", "cli", "main.js");

function rateOf(dir: string): number {
  const h = (JSON.parse(readFileSync(join(dir, "stats.json"), "utf8")) as { history: { t: number; execs: number }[] }).history;
  const last = h[h.length - 1]!, mid = h.find((p) => p.t >= last.t / 2) ?? h[0]!;
  return (last.execs - mid.execs) / ((last.t - mid.t) / 1000);
}

async function run(processes: number): Promise<{ rate: number; signatures: number; corpus: number }> {
  const server = await startRedis();
  const dir = mkdtempSync(join(tmpdir(), "xmcfuzz-hubcpu-"));
  try {
    const nodes = Array.from({ length: processes }, (_, k) => {
      const out = join(dir, `n${k}`);
      const child = spawn(process.execPath, [cli, "fuzz", "--hub", server.url, "--node", `n${k}`, "--workers", "1", "--shard-workers", "0", "--no-minimize",
        "--duration", `${seconds}s`, "--seed", String(11 + k), "--out", out, "--crashes", join(out, "crashes")], { stdio: "ignore" });
      return { out, done: new Promise((r) => child.once("exit", r)) };
    });
    await Promise.all(nodes.map((n) => n.done));
    const hub = new RedisHub(server.url);
    const s = await hub.status();
    await hub.close();
    return { rate: nodes.reduce((t, n) => t + rateOf(n.out), 0), signatures: s.signatures, corpus: s.corpus };
  } finally {
    await server.stop();
  }
}

const one = await run(1), two = await run(2);
console.log(`1 process : ${one.rate.toFixed(0)} execs/s  (hub: ${one.signatures} signatures, corpus ${one.corpus})`);
console.log(`2 processes: ${two.rate.toFixed(0)} execs/s  (hub: ${two.signatures} signatures, corpus ${two.corpus})`);
console.log(`ratio 2/1: ${(two.rate / one.rate).toFixed(2)}x`);
process.exit(0);
