import type { Passage, RunResult } from "../types.js";

/** Switch windows [a_j, b_j] of one core (SPEC 6.1), in passages of that core. */
export interface Windows {
  readonly a: readonly number[];
  readonly b: readonly number[];
  /** Some passage widened the windows (verdicts then say `alignment: widened`). */
  readonly widened: boolean;
}

/** The core's counted passages in order of beginning. */
export function passagesOf(run: RunResult, core: number): Passage[] {
  return run.passages.filter((p) => p.core === core).sort((x, y) => x.begin - y.begin);
}

export function windowsOf(run: RunResult, core: number): Windows {
  const mine = passagesOf(run, core);
  const endOf = (p: Passage) => (p.end < 0 ? Infinity : p.end);
  const a = run.ops.map((op) => mine.filter((p) => endOf(p) < op.begin).length);
  const b = run.ops.map((op) => (op.returned === Infinity ? Infinity : mine.filter((p) => p.begin < op.returned).length));
  let widened = false;
  mine.forEach((p, index) => {
    if (!p.widened) return;
    widened = true;
    // The passage began after `index` completed passages: widen every window that reaches it.
    for (let j = 0; j < a.length; j++) {
      if (b[j]! >= index) b[j] = b[j]! + 1;
      if (a[j]! > index) a[j] = a[j]! - 1;
    }
  });
  return { a, b, widened };
}
