import type { CoreObservation, RunResult } from "../types.js";
import type { PreparedCase } from "../differential.js";
import { branchLimit, MembershipSearch } from "../oracle/membership.js";
import { passagesOf, type Windows, windowsFrom } from "../oracle/windows.js";
import { type Family, observationKey, referenceFamily } from "./reference-family.js";

// The membership search (SPEC 6.3) against the definition it stands for (SPEC 6.2): each ended
// core of a run judged by both, for the oracle's test and its soak script.

/** Paths past which a core's family is not enumerated (its core is left out). */
export const MAX_BRANCHES = 3000;

export interface FamilyJudgement {
  readonly obs: CoreObservation;
  readonly win: Windows;
  readonly family: Family;
  /** The search's answer. */
  readonly member: boolean;
  /** The family's: the observation is one of the observations its paths end with. */
  readonly inFamily: boolean;
  /**
   * Whether the search's "expected" observation (a report's column, on a refuted core) is itself
   * one of the family's; undefined when there is none or it did not end within the limit.
   */
  readonly expectedInFamily?: boolean;
}

/** Each ended core of the run whose family is small enough to enumerate, judged both ways. */
export function judgeAgainstFamily(prepared: PreparedCase, run: RunResult): FamilyJudgement[] {
  const out: FamilyJudgement[] = [];
  for (const obs of run.observations) {
    if (obs.end.kind === "unfinished") continue;
    const mine = passagesOf(run, obs.core);
    const win = windowsFrom(run, mine);
    // The search's own per-branch limit, so that both cut a runaway branch at the same point.
    const family = referenceFamily(prepared.plan, obs.core, win, MAX_BRANCHES, branchLimit(obs.instructions, prepared.soloBudget));
    if (!family) continue;
    const search = new MembershipSearch(prepared.plan, obs.core, obs, win, mine, prepared.soloBudget).run();
    const expected = search.expected;
    out.push({
      obs, win, family, member: search.member, inFamily: family.ended.has(observationKey(obs)),
      ...(expected && expected.end.kind !== "unfinished" ? { expectedInFamily: family.ended.has(observationKey(expected)) } : {}),
    });
  }
  return out;
}
