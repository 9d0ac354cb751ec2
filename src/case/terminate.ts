// SPEC 6.4: every program core must terminate alone with any prefix of the ops applied up
// front; the longest such run (L) sizes every real run's budget.
import type { Case, Slot } from "../types.js";
import { SOLO_LIMIT } from "../types.js";
import { newCpu } from "../machine/cpu.js";
import { type CasePlan, planCase } from "../machine/plan.js";
import { type InvariantDecodes, invariantDecodes, soloStep } from "../oracle/solo.js";
import { CaseError } from "./error.js";

/** Returns L, the largest solo instruction count; throws a CaseError for a core that runs on. */
export function soloBudget(kase: Case): number {
  return planSoloBudget(planCase(kase));
}

/** soloBudget of a planned case (its images are the op prefixes' code). */
export function planSoloBudget(plan: CasePlan): number {
  const { base, entries, slots } = plan.kase.program;
  // Images differ only inside slots, so every run of the case shares the decodes outside them.
  const decodes = invariantDecodes(plan.slotAt);
  const distinct: Uint8Array[] = [];
  let budget = 0;
  plan.images.forEach((image, i) => {
    // Ops that revert slots often recreate an earlier image; its runs are already known.
    if (distinct.some((seen) => sameSlotBytes(seen, image, slots, base))) return;
    distinct.push(image);
    entries.forEach((entry, c) => {
      // Cores with the same entry run the same program.
      if (entries.indexOf(entry) < c) return;
      const instructions = soloInstructions(entry, image, base, slots, decodes);
      if (instructions > SOLO_LIMIT) {
        const ops = i === 0 ? "no ops" : `ops 1..${i}`;
        throw new CaseError("cores", `core ${c + 1} does not terminate within ${SOLO_LIMIT} instructions with ${ops} applied`);
      }
      budget = Math.max(budget, instructions);
    });
  });
  return budget;
}

function sameSlotBytes(a: Uint8Array, b: Uint8Array, slots: readonly Slot[], base: number): boolean {
  for (const s of slots) {
    for (let o = s.start - base; o < s.start - base + s.len; o++) if (a[o] !== b[o]) return false;
  }
  return true;
}

/** soloRun(...).instructions with SOLO_LIMIT + 1 as the limit, sharing the case's decodes. */
function soloInstructions(entry: number, image: Uint8Array, base: number, slots: readonly Slot[], decodes: InvariantDecodes): number {
  const cpu = newCpu(entry);
  while (!cpu.end && cpu.instructions <= SOLO_LIMIT) soloStep(cpu, image, base, slots, decodes);
  return cpu.instructions;
}
