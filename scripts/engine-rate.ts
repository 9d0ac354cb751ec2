// One in-process fuzzing engine, no threads, no files: its execs/s for a few seconds. Run two at
// once to see what a second core gives this workload on the machine at hand.
//   node dist/scripts/engine-rate.js [seconds=10] [random|pct]
import { FuzzEngine } from "../src/fuzz/engine.js";
import { NAMED_MODELS } from "../src/models/named.js";
import { BUILTIN_STRATEGIES } from "../src/strategies/registry.js";

const seconds = Number(process.argv[2] ?? 10);
const scheduler = process.argv[3] === "pct" ? "pct" : "random";
const engine = new FuzzEngine({ seed: 1, strategies: BUILTIN_STRATEGIES, models: NAMED_MODELS, scheduler, feedback: true });
const t0 = performance.now();
while (performance.now() - t0 < seconds * 1000) engine.step();
console.log(`engine (${scheduler}): ${(engine.execs / seconds).toFixed(0)} execs/s, corpus ${engine.corpus.length}, coverage bits ${engine.coverage.count}`);
