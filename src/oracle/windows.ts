import type { Passage, RunResult } from "../types.js";

/** Switch windows [a_j, b_j] of one core (SPEC 6.1), in passages of that core. */
export interface Windows {
  readonly a: readonly number[];
  readonly b: readonly number[];
  /** Some passage widened the windows (verdicts then say `alignment: widened`, or `opened`). */
  readonly widened: boolean;
  /** A widened passage that left its slot by a jump opened them (see windowsFrom). */
  readonly opened: boolean;
}

const byBegin = (x: Passage, y: Passage) => x.begin - y.begin;

/** The core's counted passages in order of beginning. */
export function passagesOf(run: RunResult, core: number): Passage[] {
  return run.passages.filter((p) => p.core === core).sort(byBegin);
}

/**
 * Every program core's counted passages in order of beginning (index: core - 1), in one pass over
 * the run's passages: the same lists as passagesOf, which the oracle would otherwise build per core.
 */
export function passagesByCore(run: RunResult): Passage[][] {
  const lists: Passage[][] = run.observations.map(() => []);
  for (const p of run.passages) lists[p.core - 1]?.push(p);
  // The run records passages as they begin, so the lists are sorted already (sorting costs even then).
  for (const list of lists) if (!sortedByBegin(list)) list.sort(byBegin);
  return lists;
}

function sortedByBegin(list: readonly Passage[]): boolean {
  for (let i = 1; i < list.length; i++) if (list[i - 1]!.begin > list[i]!.begin) return false;
  return true;
}

export function windowsOf(run: RunResult, core: number, widening: Widening = "open"): Windows {
  return windowsFrom(run, passagesOf(run, core), widening);
}

/**
 * How a widened passage moves the windows after it (SPEC 6.1). SPEC 6.1 moves them one step,
 * cumulatively per widened passage that began after p completed ones: b_j >= p gains one, a_j > p
 * loses one. That assumes a torn passage stands for at most one of the reference's, which holds
 * when it falls through to its slot's end as every version does; a torn jump that leaves its slot
 * elsewhere can stand for more (`eb 04` over two `nop2`s behaves as new-old-old, three passages,
 * a stop_machine observation one step called `torn-fetch`), and no count bounds a wild jump. So
 * `open` (the reading that keeps verdicts true) opens every window after such a passage: b_j >= p
 * to infinity, a_j > p down to p; torn passages that fell through still move them one step.
 * `one-step` is SPEC 6.1 as written, for every widened passage. Before p the run and the
 * reference pass the same slots in step, so the windows there stay exact either way.
 */
export type Widening = "open" | "one-step";

/** The windows of the core whose counted passages are `mine` (in order of beginning). */
export function windowsFrom(run: RunResult, mine: readonly Passage[], widening: Widening = "open"): Windows {
  const a: number[] = [], b: number[] = [];
  for (const op of run.ops) {
    // An op that never began has no switch point (its window never opens).
    a.push(op.begin === Infinity ? Infinity : countCompletedBefore(mine, op.begin));
    b.push(op.returned === Infinity ? Infinity : countBegunBefore(mine, op.returned));
  }
  let widened = false, opened = false;
  for (const passage of mine) {
    if (!passage.widened) continue;
    widened = true;
    const opens = widening === "open" && passage.fellThrough !== true;
    // p: the passages completed when it began. Not its index: an instruction torn across two
    // slots begins two passages at once, the first completing only as the second begins.
    const p = countCompletedBefore(mine, passage.begin);
    for (let j = 0; j < a.length; j++) {
      if (a[j] === Infinity) continue; // never began: no switch point, widened or not
      if (b[j]! >= p) b[j] = opens ? Infinity : b[j]! + 1;
      if (a[j]! > p) a[j] = opens ? p : a[j]! - 1;
    }
    // Opened, the windows have nothing left for later passages to widen.
    if (opens) {
      opened = true;
      break;
    }
  }
  return { a, b, widened, opened };
}

/** Passages that had ended before `t` (one still in progress, end < 0, has not). */
function countCompletedBefore(mine: readonly Passage[], t: number): number {
  let count = 0;
  for (const p of mine) if (p.end >= 0 && p.end < t) count++;
  return count;
}

function countBegunBefore(mine: readonly Passage[], t: number): number {
  let count = 0;
  for (const p of mine) if (p.begin < t) count++;
  return count;
}
