import { parentPort, workerData } from "node:worker_threads";
import type { Shard, ShardResult } from "../types.js";
import { parseCase } from "../case/load.js";
import { caseToJson } from "../case/save.js";
import { prepare, runOnce } from "../differential.js";
import { resolveModel } from "../models/load.js";
import { formatReport } from "../report/text.js";
import { resolveStrategy } from "../strategies/load.js";
import { FuzzEngine, type Finding } from "../fuzz/engine.js";

// One shard in its own thread (the event loop stays free, so BullMQ keeps its lock): an engine on
// one (strategy, model) cell from the shard's seed until either budget runs out. Findings are
// shipped as they come (with their report), so a node that dies mid-shard has already sent them.

export type FromShard =
  | { readonly type: "execs"; readonly execs: number }
  | { readonly type: "finding"; readonly finding: Finding; readonly report: string }
  | { readonly type: "result"; readonly result: ShardResult };

async function main(): Promise<void> {
  const shard = workerData as Shard;
  const port = parentPort!;
  const strategy = await resolveStrategy(shard.strategy), model = resolveModel(shard.model);
  const engine = new FuzzEngine({ seed: `shard:${shard.seed}`, strategies: [strategy], models: [model], scheduler: "random", feedback: true });
  const t0 = performance.now();
  const signatures = new Set<string>(), rules = new Set<string>();
  let firstDivergence: ShardResult["firstDivergence"], harnessErrors = 0, reported = 0, lastBeat = t0;
  while (engine.execs < shard.maxExecs && performance.now() - t0 < shard.maxMs) {
    const r = engine.step();
    if (r.harnessError) harnessErrors++;
    for (const f of r.findings) {
      if (f.kind === "divergence") {
        signatures.add(f.signature);
        firstDivergence ??= { execs: engine.execs, ms: Math.round(performance.now() - t0) };
      } else rules.add(f.signature);
      const run = f.kase.runs[0]!;
      const loaded = parseCase(caseToJson(f.kase));
      const replay = runOnce(prepare(loaded.kase, loaded.soloBudget), { strategy, model, decisions: run.decisions, trace: true });
      port.postMessage({ type: "finding", finding: f, report: formatReport(loaded.kase, replay.run, replay.verdict, `xmcfuzz finding: ${f.signature}`) } satisfies FromShard);
    }
    if (performance.now() - lastBeat > 250) {
      port.postMessage({ type: "execs", execs: engine.execs - reported } satisfies FromShard);
      reported = engine.execs;
      lastBeat = performance.now();
    }
  }
  port.postMessage({ type: "execs", execs: engine.execs - reported } satisfies FromShard);
  const result: ShardResult = {
    shard, execs: engine.execs, ms: Math.round(performance.now() - t0), ...(firstDivergence ? { firstDivergence } : {}),
    signatures: [...signatures].sort(), rules: [...rules].sort(), harnessErrors,
  };
  port.postMessage({ type: "result", result } satisfies FromShard);
}

void main();
