import type { Slot } from "../types.js";
import type { CasePlan } from "../machine/plan.js";

/**
 * The code bytes a membership search runs: the case's initial image, with a version written into
 * a slot whenever a branch enters it. Other slots keep whatever was written last (by any branch),
 * as they always have. Most entries run the version the slot holds already: those write nothing.
 */
export class CodeView {
  readonly bytes: Uint8Array;
  private readonly slots: readonly Slot[];
  /** Per slot: the version array whose bytes `bytes` holds there, if written since the reset (versions are never written in place). */
  private readonly held: (Uint8Array | undefined)[];

  constructor(private readonly plan: CasePlan) {
    this.bytes = plan.images[0]!.slice();
    this.slots = plan.kase.program.slots;
    this.held = this.slots.map(() => undefined);
  }

  /** Back to the initial image. */
  reset(): void {
    this.bytes.set(this.plan.images[0]!);
    this.held.fill(undefined);
  }

  write(k: number, content: Uint8Array): void {
    if (this.held[k] === content) return;
    this.bytes.set(content, this.slots[k]!.start - this.plan.base);
    this.held[k] = content;
  }
}
