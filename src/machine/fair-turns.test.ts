import { describe, expect, it } from "vitest";
import { encode, Ev } from "./events.js";
import { FairTurns, TURN_HANDLER_STEPS } from "./fair-turns.js";

// The fair phase's turns on event lists made by hand (fair.test.ts runs them in the machine).

const patcher = encode(Ev.Patcher, 0, 0);
const exec = (c: number) => encode(Ev.Exec, c, 0);
const ipi = (c: number) => encode(Ev.Ipi, c, 0);
const snoop = (c: number, i = 0) => encode(Ev.Snoop, c, i);
const handler = (c: number) => encode(Ev.Handler, c, 0);
const clean = (i = 0) => encode(Ev.Clean, 0, i);

/** `steps` picks from the same enabled list (3 cores: the patcher, cores 1-2, the memory system). */
function picks(events: number[], steps: number, turns = new FairTurns(3)): number[] {
  return Array.from({ length: steps }, () => turns.pick(events, events.length));
}

describe("FairTurns", () => {
  it("gives each actor one turn in order: the patcher, each core, the memory system", () => {
    expect(picks([exec(2), patcher, clean(), exec(1)], 8)).toEqual([patcher, exec(1), exec(2), clean(), patcher, exec(1), exec(2), clean()]);
  });

  it("skips actors with nothing enabled", () => {
    expect(picks([exec(2)], 3)).toEqual([exec(2), exec(2), exec(2)]);
  });

  it("delivers what is pending at a core before its instruction, in the same turn", () => {
    const turns = new FairTurns(3);
    expect(turns.pick([patcher, snoop(1), exec(1)], 3)).toBe(patcher);
    expect(turns.pick([patcher, snoop(1), exec(1)], 3)).toBe(snoop(1));
    // The snoop delivered, the turn is still core 1's: its instruction, then the patcher again.
    expect(turns.pick([patcher, exec(1)], 2)).toBe(exec(1));
    expect(turns.pick([patcher, exec(1)], 2)).toBe(patcher);
  });

  it("alternates a core's IPI delivery and its instruction when both are enabled", () => {
    expect(picks([ipi(1), exec(1)], 4)).toEqual([ipi(1), exec(1), ipi(1), exec(1)]);
  });

  it(`ends a core's turn after ${TURN_HANDLER_STEPS} handler steps, so the patcher it waits for gets its own`, () => {
    const turns = new FairTurns(3);
    expect(turns.pick([patcher, handler(1)], 2)).toBe(patcher);
    const run = picks([patcher, handler(1)], TURN_HANDLER_STEPS + 1, turns);
    expect(run.slice(0, TURN_HANDLER_STEPS)).toEqual(Array(TURN_HANDLER_STEPS).fill(handler(1)));
    expect(run[TURN_HANDLER_STEPS]).toBe(patcher);
  });
});
