// SPEC 6.4: every program core must terminate alone with any prefix of the ops applied up
// front; the longest such run (L) sizes every real run's budget.
import type { Case } from "../types.js";
import { SOLO_LIMIT } from "../types.js";
import { planCase } from "../machine/plan.js";
import { hex } from "../isa/disasm.js";
import { soloRun } from "../oracle/solo.js";
import { CaseError } from "./error.js";

/** Returns L, the largest solo instruction count; throws a CaseError for a core that runs on. */
export function soloBudget(kase: Case): number {
  const { base, entries, slots } = kase.program;
  const images = planCase(kase).images;
  const done = new Set<string>();
  let budget = 0;
  images.forEach((image, i) => {
    // Ops that revert slots often recreate an earlier image; its runs are already known.
    // Images differ only inside slots, so the slot bytes identify one.
    const key = slots.map((s) => hex(image.subarray(s.start - base, s.start - base + s.len))).join("|");
    if (done.has(key)) return;
    done.add(key);
    entries.forEach((entry, c) => {
      const cpu = soloRun(entry, image, base, slots, SOLO_LIMIT + 1);
      if (cpu.instructions > SOLO_LIMIT) {
        const ops = i === 0 ? "no ops" : `ops 1..${i}`;
        throw new CaseError("cores", `core ${c + 1} does not terminate within ${SOLO_LIMIT} instructions with ${ops} applied`);
      }
      budget = Math.max(budget, cpu.instructions);
    });
  });
  return budget;
}
