// What exchanging the corpus costs and buys, in one process without a hub: two engines step in
// turn, apart or adopting each other's new corpus entries (as nodes do through a hub), on the
// same seeds. Prints CPU per exec, emulated events per run, and what the pair found: coverage
// bits and signatures (union over both), per CPU second.
//   node dist/scripts/adoption-cost.js [steps per engine=3000] [rounds=2]
import { corpusText } from "../src/files/store.js";
import { FuzzEngine } from "../src/fuzz/engine.js";
import { NAMED_MODELS } from "../src/models/named.js";
import { BUILTIN_STRATEGIES } from "../src/strategies/registry.js";

const steps = Number(process.argv[2] ?? 3000), rounds = Number(process.argv[3] ?? 2);
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

function pair(exchange: boolean) {
  const engines = [1, 2].map((seed) => new FuzzEngine({ seed, strategies: BUILTIN_STRATEGIES, models: NAMED_MODELS, scheduler: "pct", feedback: true, scope: { maxCores: 5 } }));
  let ms = 0, events = 0;
  for (let i = 0; i < steps; i++) {
    for (const [k, engine] of engines.entries()) {
      const c0 = cpuMs();
      const r = engine.step();
      if (exchange && r.corpusEntry) {
        const t = corpusText(r.corpusEntry.kase, r.corpusEntry.bits);
        engines[1 - k]!.adopt(t.json, t.bits);
      }
      ms += cpuMs() - c0;
      events += r.outcome.run.events;
    }
  }
  const bits = new Set<number>(), signatures = new Set<string>();
  for (const e of engines) {
    for (let b = 0; b < e.coverage.bytes.length * 8; b++) if (e.coverage.bytes[b >>> 3]! & (1 << (b & 7))) bits.add(b);
    for (const s of e.known) signatures.add(s);
  }
  return { msPerExec: ms / (2 * steps), eventsPerRun: events / (2 * steps), bits: bits.size, signatures: signatures.size, cpuS: ms / 1000 };
}

for (let r = 1; r <= rounds; r++) {
  for (const exchange of [false, true]) {
    const p = pair(exchange);
    console.log(`round ${r} ${exchange ? "exchanging" : "apart     "}: ${p.msPerExec.toFixed(3)} CPU ms/exec, ${p.eventsPerRun.toFixed(0)} events/run; the pair found ${p.bits} coverage bits (${(p.bits / p.cpuS).toFixed(0)} per CPU s), ${p.signatures} signatures (${(p.signatures / p.cpuS).toFixed(0)} per CPU s)`);
  }
}
