import type { CasePlan } from "../machine/plan.js";
import { CodeView } from "./code-view.js";
import { type DecodeCache, decodeCache } from "./solo.js";

/** What the membership search needs of a case, derived once per case plan. */
export interface CaseFacts {
  readonly decodes: DecodeCache;
  /** Per code offset: the slot that starts there, or -1 (one load per step finds slot entries). */
  readonly slotStartAt: Int16Array;
  /** Per slot, per op listing it (in opsOfSlot order): the bytes that op leaves in the slot. */
  readonly targets: readonly (readonly Uint8Array[])[];
  /** The code every search runs: one per case serves every search (one at a time), instead of a copy of the image per core. */
  readonly code: CodeView;
  /** The code view as a search's best branch saw it when it failed (its slot in progress keeps its version). */
  readonly bestCode: Uint8Array;
}

/** Per case plan (pure per case: shared by every core, run and replay of the case). */
const FACTS = new WeakMap<CasePlan, CaseFacts>();

export function factsOf(plan: CasePlan): CaseFacts {
  let facts = FACTS.get(plan);
  if (!facts) {
    facts = {
      decodes: decodeCache(plan.slotAt),
      slotStartAt: slotStarts(plan),
      targets: plan.opsOfSlot.map((ops, k) => ops.map((j) => plan.opSlots[j]!.find((p) => p.slot === k)!.to)),
      code: new CodeView(plan),
      bestCode: plan.images[0]!.slice(),
    };
    FACTS.set(plan, facts);
  }
  return facts;
}

function slotStarts(plan: CasePlan): Int16Array {
  const slots = plan.kase.program.slots;
  return plan.slotAt.map((k, off) => (k >= 0 && slots[k]!.start === plan.base + off ? k : -1));
}
