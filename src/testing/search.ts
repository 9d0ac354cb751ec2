import type { Model, Strategy } from "../types.js";
import { type Outcome, type PreparedCase, runOnce } from "../differential.js";

/** Runs seeds 0..maxSeeds-1 and returns the first outcome that satisfies `want`. */
export function findRun(
  prepared: PreparedCase, strategy: Strategy, model: Model, want: (o: Outcome) => boolean, maxSeeds = 500, trace = false,
): Outcome | undefined {
  for (let seed = 0; seed < maxSeeds; seed++) {
    const o = runOnce(prepared, { strategy, model, seed, trace });
    if (want(o)) return o;
  }
  return undefined;
}

/** Every outcome over seeds 0..seeds-1. */
export function* everyRun(prepared: PreparedCase, strategy: Strategy, model: Model, seeds: number): Generator<Outcome> {
  for (let seed = 0; seed < seeds; seed++) yield runOnce(prepared, { strategy, model, seed });
}

export const causesOf = (o: Outcome) => o.verdict.divergences.map((d) => d.cause);
