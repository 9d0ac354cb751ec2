import type { Case } from "../types.js";
import type { PreparedCase } from "../differential.js";
import { planCase } from "../machine/plan.js";
import { checkMutantShape } from "../case/mutant.js";
import { planSoloBudget } from "../case/terminate.js";

// Preparing the engine's cases for their runs: one plan serves the termination check (SPEC 6.4)
// and every run of the case.

/**
 * A case that passed the loader's checks but termination (or a generated one, valid by
 * construction: generate.test.ts), with its plan and solo budget; throws a CaseError if a core
 * does not terminate.
 */
export function prepareCase(kase: Case): PreparedCase {
  const plan = planCase(kase);
  return { kase, plan, soloBudget: planSoloBudget(plan) };
}

/**
 * A mutant of `parent` prepared as parseCase(caseToJson(mutant)) would load it, or undefined
 * where the loader rejects it (e.g. it no longer terminates).
 */
export function prepareMutant(parent: Case, mutant: Case): PreparedCase | undefined {
  try {
    return prepareCase(checkMutantShape(parent, mutant));
  } catch {
    return undefined;
  }
}
