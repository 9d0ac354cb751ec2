import type { Case } from "../types.js";
import type { PreparedCase } from "../differential.js";
import { planCase } from "../machine/plan.js";
import { checkMutantShape } from "../case/mutant.js";
import { planSoloBudget, type SoloCounts } from "../case/terminate.js";

// Preparing the engine's cases for their runs: one plan serves the termination check (SPEC 6.4)
// and every run of the case; the solo runs made for it serve its mutants too.

/** A prepared case with the solo counts made for it (see planSoloBudget). */
export interface FuzzCase extends PreparedCase {
  readonly soloCounts: SoloCounts;
}

/** A case to mutate (checked by the loader but for termination) and the solo counts made for it. */
export interface MutationParent {
  readonly kase: Case;
  readonly soloCounts: SoloCounts;
}

/**
 * A case that passed the loader's checks but termination (or a generated one, valid by
 * construction: generate.test.ts), with its plan and solo budget; throws a CaseError if a core
 * does not terminate. `soloCounts`: those made for cases with its code, base and slots.
 */
export function prepareCase(kase: Case, soloCounts: SoloCounts = new Map(), soloLimit?: number): FuzzCase {
  const plan = planCase(kase);
  return { kase, plan, soloBudget: planSoloBudget(plan, soloCounts, soloLimit), soloCounts };
}

/**
 * The longest solo run a mutant may make (SPEC 6.4 allows 10^6): generated cases stay in the
 * hundreds, and a mutant that loops far longer (a changed branch, flags broken before a loop's
 * jne) would cost as much to reject at 10^6 as hundreds of runs, and make slow runs if kept.
 */
export const MUTANT_SOLO_LIMIT = 10_000;

/**
 * A mutant of `parent` prepared as parseCase(caseToJson(mutant)) would load it, or undefined
 * where the loader rejects it (e.g. it no longer terminates). Mutants of ops or cores keep their
 * parent's code and slots, and mostly run its images again: they share its solo counts.
 */
export function prepareMutant(parent: MutationParent, mutant: Case): FuzzCase | undefined {
  try {
    const kase = checkMutantShape(parent.kase, mutant);
    const p = parent.kase.program, m = kase.program;
    const sameImages = m.code === p.code && m.slots === p.slots && m.base === p.base;
    return prepareCase(kase, sameImages ? parent.soloCounts : new Map(), MUTANT_SOLO_LIMIT);
  } catch {
    return undefined;
  }
}
