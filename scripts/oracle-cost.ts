// The membership search's cost per core (SPEC 6.3: "close to one solo run per core"): instructions
// the search executed, in solo runs (the longer of the core's own instruction count and the case's
// L, the loader's longest solo run), for every program core of generated runs under random
// strategies, models and schedules, as percentiles, and the costliest searches.
//   node dist/scripts/oracle-cost.js [seconds=60]
import seedrandom from "seedrandom";
import { runOnce } from "../src/differential.js";
import { generateCase } from "../src/fuzz/generate.js";
import { prepareCase } from "../src/fuzz/prepare.js";
import { NAMED_MODELS } from "../src/models/named.js";
import { MembershipSearch } from "../src/oracle/membership.js";
import { passagesOf, windowsFrom } from "../src/oracle/windows.js";
import { BUILTIN_STRATEGIES } from "../src/strategies/registry.js";

const seconds = Number(process.argv[2] ?? 60);
const rng = seedrandom.alea("oracle-cost");
const ratios: number[] = [];
const costliest: { ratio: number; work: number; instructions: number; solo: number; passages: number; member: boolean; cell: string }[] = [];
let exhausted = 0;
const t0 = performance.now();
while (performance.now() - t0 < seconds * 1000) {
  const prepared = prepareCase(generateCase(rng, {}));
  const strategy = BUILTIN_STRATEGIES[Math.floor(rng() * BUILTIN_STRATEGIES.length)]!;
  const model = NAMED_MODELS[Math.floor(rng() * NAMED_MODELS.length)]!;
  const { run } = runOnce(prepared, { strategy, model, seed: Math.floor(rng() * 2 ** 31) });
  for (const obs of run.observations) {
    const mine = passagesOf(run, obs.core);
    const search = new MembershipSearch(prepared.plan, obs.core, obs, windowsFrom(run, mine), mine, prepared.soloBudget).run();
    if (search.exhausted) exhausted++;
    const ratio = search.work / Math.max(1, obs.instructions, prepared.soloBudget);
    ratios.push(ratio);
    costliest.push({ ratio, work: search.work, instructions: obs.instructions, solo: prepared.soloBudget, passages: mine.length, member: search.member, cell: `${strategy.name} ${model.name}` });
    costliest.sort((a, b) => b.ratio - a.ratio);
    costliest.length = Math.min(costliest.length, 5);
  }
}
ratios.sort((a, b) => a - b);
const at = (q: number) => ratios[Math.floor(q * (ratios.length - 1))]!.toFixed(1);
console.log(`${ratios.length} searches in ${seconds} s, instructions per search in solo runs: median ${at(0.5)}x, p99 ${at(0.99)}x, p99.9 ${at(0.999)}x, max ${at(1)}x; ${exhausted} past the work cap`);
for (const c of costliest) {
  console.log(`  ${c.ratio.toFixed(1)}x: ${c.work} instructions for a core of ${c.instructions} (L ${c.solo}) with ${c.passages} passages (${c.member ? "member" : "not a member"}, ${c.cell})`);
}
