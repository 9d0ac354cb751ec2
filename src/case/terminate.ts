// SPEC 6.4: every program core must terminate alone with any prefix of the ops applied up
// front; the longest such run (L) sizes every real run's budget.
import type { Case, Slot } from "../types.js";
import { SOLO_LIMIT } from "../types.js";
import { newCpu } from "../machine/cpu.js";
import { type CasePlan, planCase } from "../machine/plan.js";
import { type DecodeCache, decodeCache, soloStep } from "../oracle/solo.js";
import { CaseError } from "./error.js";

/** Returns L, the largest solo instruction count; throws a CaseError for a core that runs on. */
export function soloBudget(kase: Case): number {
  return planSoloBudget(planCase(kase));
}

/** Solo instruction counts by image (its slot versions, "o"/"n" per slot) and entry. */
export type SoloCounts = Map<string, Map<number, number>>;

/**
 * soloBudget of a planned case (its images are the op prefixes' code). `known`: the counts made
 * for cases with the same code, base and slots (a mutant's parent and siblings); the counts made
 * here are added to it. `limit`: the most instructions a solo run may execute (SPEC 6.4's 10^6;
 * the fuzzer holds its mutants to less).
 */
export function planSoloBudget(plan: CasePlan, known: SoloCounts = new Map(), limit = SOLO_LIMIT): number {
  const { kase } = plan;
  const { base, entries, slots } = kase.program;
  // Images differ only inside slots, so every run of the case shares the decodes outside them.
  const decodes = decodeCache(plan.slotAt);
  const versions = slots.map(() => "o");
  let budget = 0;
  for (let i = 0; i < plan.images.length; i++) {
    if (i > 0) for (const t of kase.ops[i - 1]!.targets) versions[t.slot] = t.to === "new" ? "n" : "o";
    // Ops that revert slots recreate earlier images and cores share entries: each run is made once.
    const image = versions.join("");
    let counts = known.get(image);
    if (!counts) known.set(image, (counts = new Map()));
    for (let c = 0; c < entries.length; c++) {
      let instructions = counts.get(entries[c]!);
      if (instructions === undefined) {
        instructions = soloInstructions(entries[c]!, plan.images[i]!, base, slots, decodes, limit);
        if (instructions > limit) {
          const ops = i === 0 ? "no ops" : `ops 1..${i}`;
          throw new CaseError("cores", `core ${c + 1} does not terminate within ${limit} instructions with ${ops} applied`);
        }
        counts.set(entries[c]!, instructions);
      }
      budget = Math.max(budget, instructions);
    }
  }
  return budget;
}

/** soloRun(...).instructions with limit + 1 as the limit, sharing the case's decodes. */
function soloInstructions(entry: number, image: Uint8Array, base: number, slots: readonly Slot[], decodes: DecodeCache, limit: number): number {
  const cpu = newCpu(entry);
  while (!cpu.end && cpu.instructions <= limit) soloStep(cpu, image, base, slots, decodes);
  return cpu.instructions;
}
