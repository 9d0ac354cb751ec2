import { actorOf, Ev, kindOf } from "./events.js";

// The fair phase's scheduler (SPEC 6.4): round-robin turns over the actors (the patcher, each
// program core, the memory system), fair in instructions as the budget is.

/**
 * The events that end an actor's turn: a program core's instruction, a patcher step, a
 * write-back. The others (deliveries, each removing what it delivers or filling a bounded buffer,
 * and up to TURN_HANDLER_STEPS handler steps) are taken on the way to it.
 */
const endsTurn = (kind: Ev): boolean => kind === Ev.Exec || kind === Ev.Patcher || kind === Ev.Clean;

/**
 * Handler steps in one turn, at most: a handler that spin-waits (with steps, not ctx.await) for
 * the patcher must let it have its turns, and a longer IPI function takes a few turns per
 * instruction of its core.
 */
export const TURN_HANDLER_STEPS = 16;

/**
 * The first actor at or after the turn pointer with an enabled event runs. A program core's turn
 * delivers what is pending at it (snoops, invalidations, an IPI, refills), runs its handler's
 * steps, and ends with one instruction (or when it has no event left). A turn spent on a delivery
 * or a handler step alone let a patcher that stores, invalidates or interrupts at every step
 * starve every core, and a strategy that never returns passed for admitted.
 */
export class FairTurns {
  /** The actor whose turn it is (mod nCores + 1). */
  private turn = 0;
  /** Handler steps taken in the current turn. */
  private handlerSteps = 0;
  /** Per program core: whether its last choice between an IPI and an instruction took the IPI. */
  private readonly tookIpi: boolean[] = [];

  constructor(private readonly nCores: number) {}

  /** The event to run of the enabled events[0..n). */
  pick(events: readonly number[], n: number): number {
    for (let i = 0; i <= this.nCores; i++) {
      const actor = (this.turn + i) % (this.nCores + 1);
      const pick = this.eventOf(actor, events, n);
      if (pick < 0) {
        this.handlerSteps = 0;
        continue;
      }
      const kind = kindOf(pick);
      const ends = endsTurn(kind) || (kind === Ev.Handler && ++this.handlerSteps >= TURN_HANDLER_STEPS);
      if (ends) this.handlerSteps = 0;
      this.turn = ends ? actor + 1 : actor;
      return pick;
    }
    return events[0]!;
  }

  /**
   * The actor's next event in its turn, or -1: its enabled event of the highest kind (pending
   * state changes first, what a stable descending sort puts first), but an IPI delivery and an
   * instruction, when both are enabled, by turns: a patcher sending IPIs at every step would
   * otherwise keep a core in its handlers, never running one instruction.
   */
  private eventOf(actor: number, events: readonly number[], n: number): number {
    let pick = -1, ipi = -1, exec = -1;
    for (let j = 0; j < n; j++) {
      const ev = events[j]!;
      if (actorOf(ev, this.nCores) !== actor) continue;
      const kind = kindOf(ev);
      if (kind === Ev.Ipi) ipi = ev;
      else if (kind === Ev.Exec) exec = ev;
      else if (pick < 0 || kind > kindOf(pick)) pick = ev;
    }
    if (pick >= 0) return pick;
    if (ipi < 0 || exec < 0) return ipi >= 0 ? ipi : exec;
    this.tookIpi[actor] = !this.tookIpi[actor];
    return this.tookIpi[actor] ? ipi : exec;
  }
}
