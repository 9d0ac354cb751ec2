// Records the regression corpus: for every corpus case and every (built-in strategy, named model),
// searches random schedules for a divergence and stores that schedule's decisions and verdict, or
// the last clean schedule's. Verdicts are what the harness produced, never written by hand.
//   node dist/scripts/record-corpus.js [--schedules N] [files...]
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { RecordedRun } from "../src/types.js";
import { parseCase } from "../src/case/load.js";
import { recordedRunJson } from "../src/case/save.js";
import { expectationOf, prepare, searchSchedules } from "../src/differential.js";
import { writeFileAtomic } from "../src/files/atomic.js";
import { NAMED_MODELS } from "../src/models/named.js";
import { BUILTIN_STRATEGIES } from "../src/strategies/registry.js";

const args = process.argv.slice(2);
const at = args.indexOf("--schedules");
const schedules = at >= 0 ? Number(args.splice(at, 2)[1]) : 300;
const files = args.length > 0 ? args : readdirSync("corpus").filter((f) => f.endsWith(".json")).map((f) => join("corpus", f));

for (const file of files) {
  const raw = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  const loaded = parseCase({ ...raw, runs: [] });
  const prepared = prepare(loaded.kase, loaded.soloBudget);
  const runs: RecordedRun[] = [];
  const cells: string[] = [];
  for (const strategy of BUILTIN_STRATEGIES) {
    for (const model of NAMED_MODELS) {
      const o = searchSchedules(prepared, { strategy, model, seed: 0 }, schedules);
      runs.push({ strategy: strategy.name, model: model.name, seed: o.seed, decisions: o.decisions, expect: expectationOf(o.verdict) });
      cells.push(o.verdict.kind === "clean" ? "." : o.verdict.kind === "diverges" ? "D" : "E");
    }
  }
  raw.runs = runs.map(recordedRunJson);
  writeFileAtomic(file, JSON.stringify(raw, null, 2) + "\n");
  console.log(`${file.padEnd(40)} ${cells.join("")}`);
}
