// Soak: a campaign with 2 workers (every strategy x every model) for 10 minutes in this process,
// printing the process RSS (main thread and workers share it) and execs/s once a minute, so a
// leak or a slowdown shows as a trend. Files go to a fresh temporary directory.
//   node dist/scripts/soak.js [minutes=10] [workers=2]
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Campaign } from "../src/fuzz/campaign.js";
import { NAMED_MODELS } from "../src/models/named.js";
import { BUILTIN_STRATEGIES } from "../src/strategies/registry.js";

const minutes = Number(process.argv[2] ?? 10);
const workers = Number(process.argv[3] ?? 2);
const dir = mkdtempSync(join(tmpdir(), "xmcfuzz-soak-"));
const mb = (n: number) => `${(n / 2 ** 20).toFixed(0)} MB`;

const campaign = new Campaign({
  strategies: BUILTIN_STRATEGIES, strategyArgs: BUILTIN_STRATEGIES.map((s) => s.name), models: NAMED_MODELS,
  durationMs: minutes * 60_000, maxExecs: Number.MAX_SAFE_INTEGER, workers, seed: "soak",
  scheduler: "pct", feedback: true, minimize: true, scope: { maxCores: 5 },
  out: dir, crashes: join(dir, "crashes"), syncDir: join(dir, "sync"), node: "soak", log: join(dir, "fuzz.log"),
  tty: false, quiet: true,
});

console.log(`soak: ${minutes} min, ${workers} workers, files in ${dir}`);
console.log("minute  rss      heap(main)  heap(workers)  execs/s  execs      corpus  signatures  harness-errors  restarts");
const t0 = Date.now();
let minute = 0, lastExecs = 0, lastT = t0;
const rss: number[] = [];
const rates: number[] = [];
const timer = setInterval(() => {
  minute++;
  const now = Date.now();
  const s = campaign.stats();
  const rate = ((s.execs - lastExecs) * 1000) / (now - lastT);
  lastExecs = s.execs;
  lastT = now;
  const m = process.memoryUsage();
  rss.push(m.rss);
  rates.push(rate);
  console.log(`${String(minute).padStart(6)}  ${mb(m.rss).padEnd(7)}  ${mb(m.heapUsed).padEnd(10)}  ${mb(s.workerHeapBytes).padEnd(13)}  ${rate.toFixed(0).padStart(7)}  ${String(s.execs).padEnd(9)}  ${String(s.corpus).padStart(6)}  ${String(s.signatures).padStart(10)}  ${String(s.harnessErrors).padStart(14)}  ${String(s.workerRestarts).padStart(8)}`);
}, 60_000);

const final = await campaign.run();
clearInterval(timer);
const at = (m: number) => (rss[m - 1] !== undefined ? mb(rss[m - 1]!) : "-");
console.log(`RSS at 1 / 5 / 10 min: ${at(1)} / ${at(5)} / ${at(10)}`);
if (rates.length > 1) {
  const first = rates[0]!, last = rates[rates.length - 1]!;
  console.log(`execs/s per minute: ${rates.map((r) => r.toFixed(0)).join(" ")} (last/first ${(last / first).toFixed(2)})`);
}
console.log(`total: ${final.execs} execs in ${(final.elapsedMs / 1000).toFixed(0)} s, corpus ${final.corpus}, signatures ${final.signatures}, harness errors ${final.harnessErrors}, worker restarts ${final.workerRestarts}`);
