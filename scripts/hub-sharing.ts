// What sharing the corpus buys: K nodes time-sliced on a virtual clock (one engine step each in
// turn, so the figures do not depend on the machine), exchanging corpus entries never, every tenth
// of the run, or continuously (each entry adopted by the others before their next step). Figure:
// total execs (all nodes) to the first divergence in each known-unsafe (strategy, model) cell,
// median over seeds. Each node fuzzes one cell, as a shard does.
// Usage: node dist/scripts/hub-sharing.js [--nodes 4] [--seeds 10] [--budget 200] [--cells 8]
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { loadCaseFile } from "../src/case/load.js";
import { corpusText } from "../src/files/store.js";
import { FuzzEngine } from "../src/fuzz/engine.js";
import { namedModel } from "../src/models/named.js";
import { builtinStrategy } from "../src/strategies/registry.js";
import { median } from "./median.js";

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const K = arg("--nodes", 4), seeds = arg("--seeds", 10), budget = arg("--budget", 200), maxCells = arg("--cells", 8);
const root = join(import.meta.dirname, "..", "..");

const unsafe = new Map<string, { strategy: string; model: string }>();
for (const f of readdirSync(join(root, "corpus")).filter((x) => x.endsWith(".json"))) {
  for (const r of loadCaseFile(join(root, "corpus", f)).kase.runs) {
    if (r.expect?.verdict === "diverges" && builtinStrategy(r.strategy) && namedModel(r.model)) unsafe.set(`${r.strategy} ${r.model}`, { strategy: r.strategy, model: r.model });
  }
}

type Mode = "never" | "tenth" | "continuous";

/** Total execs until any node finds a divergence, or Infinity within `budget` execs per node. */
function execsToFirst(cell: { strategy: string; model: string }, seed: number, mode: Mode): number {
  const engines = Array.from({ length: K }, (_, i) => new FuzzEngine({
    seed: `share:${seed}:${i}`, strategies: [builtinStrategy(cell.strategy)!], models: [namedModel(cell.model)!], scheduler: "pct", feedback: true, scope: { maxCores: 4 },
  }));
  const outbox: { from: number; json: string; bits: number[] }[] = [];
  for (let t = 0; t < budget; t++) {
    if (mode === "tenth" && t > 0 && t % Math.max(1, Math.floor(budget / 10)) === 0) {
      for (const e of outbox.splice(0)) engines.forEach((g, i) => i !== e.from && g.adopt(e.json, e.bits));
    }
    for (let i = 0; i < K; i++) {
      const r = engines[i]!.step();
      if (r.findings.some((f) => f.kind === "divergence")) return t * K + i + 1;
      if (r.corpusEntry && mode !== "never") {
        const entry = { from: i, ...corpusText(r.corpusEntry.kase, r.corpusEntry.bits) };
        if (mode === "continuous") engines.forEach((g, j) => j !== i && g.adopt(entry.json, entry.bits));
        else outbox.push(entry);
      }
    }
  }
  return Infinity;
}

// The hardest cells first (by the no-sharing median over 3 seeds): shallow cells say nothing.
const probe = [...unsafe.values()].map((c) => ({ c, m: median([1, 2, 3].map((s) => execsToFirst(c, 1000 + s, "never"))) }));
const cells = probe.sort((a, b) => b.m - a.m).slice(0, maxCells).map((p) => p.c);
console.log(`${K} nodes, pct, budget ${budget} execs per node; total execs to the first divergence, median of ${seeds} seeds ('>' = not found):`);
console.log(`   ${"cell".padEnd(44)} ${"never".padStart(8)} ${"tenth".padStart(8)} ${"cont.".padStart(8)}`);
const modes: Mode[] = ["never", "tenth", "continuous"];
for (const cell of cells) {
  const row = modes.map((m) => median(Array.from({ length: seeds }, (_, s) => execsToFirst(cell, s + 1, m))));
  console.log(`   ${`${cell.strategy} ${cell.model}`.padEnd(44)} ${row.map((x) => (Number.isFinite(x) ? String(x) : `>${budget * K}`).padStart(8)).join(" ")}`);
}
console.log(`   (${unsafe.size} known-unsafe cells; the ${cells.length} hardest by a no-sharing probe shown; probe medians of all: ${probe.map((p) => p.m).sort((a, b) => a - b).join(" ")})`);
