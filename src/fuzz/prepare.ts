import type { Case } from "../types.js";
import type { PreparedCase } from "../differential.js";
import { planCase } from "../machine/plan.js";
import { checkMutantShape } from "../case/mutant.js";
import { planSoloBudget, type SoloCounts } from "../case/terminate.js";

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
    const kase = checkMutantShape(parent, mutant);
    const plan = planCase(kase);
    return { kase, plan, soloBudget: planSoloBudget(plan, soloCountsShared(parent, kase)) };
  } catch {
    return undefined;
  }
}

/**
 * Solo counts made for the mutants of a parent (see planSoloBudget): most mutants keep its code
 * and slots, and run mostly the same images (ops mutated) or the same ones (cores mutated).
 */
const soloCountsOfParent = new WeakMap<Case, SoloCounts>();

function soloCountsShared(parent: Case, mutant: Case): SoloCounts | undefined {
  const p = parent.program, m = mutant.program;
  if (m.code !== p.code || m.slots !== p.slots || m.base !== p.base) return undefined;
  let counts = soloCountsOfParent.get(parent);
  if (!counts) soloCountsOfParent.set(parent, (counts = new Map()));
  return counts;
}
