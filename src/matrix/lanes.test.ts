import { describe, expect, it } from "vitest";
import { type Lane, runOnLanes } from "./lanes.js";

/** Lanes that double their job after a delay that varies by job, recording what they saw. */
function lanes(log: { opened: number; closed: number; busy: number; maxBusy: number }) {
  return (): Lane<number, number> => {
    log.opened++;
    return {
      run: async (job) => {
        log.busy++;
        log.maxBusy = Math.max(log.maxBusy, log.busy);
        await new Promise((r) => setTimeout(r, (job * 7) % 5));
        log.busy--;
        return job * 2;
      },
      close: async () => {
        log.closed++;
      },
    };
  };
}

describe("runOnLanes", () => {
  it("returns results in job order, uses at most the lanes asked for, and closes each lane", async () => {
    const log = { opened: 0, closed: 0, busy: 0, maxBusy: 0 };
    const jobs = Array.from({ length: 20 }, (_, i) => i);
    const done: number[] = [];
    const out = await runOnLanes(jobs, 3, lanes(log), { onResult: (_, n) => done.push(n) });
    expect(out).toEqual(jobs.map((j) => j * 2));
    expect(log).toMatchObject({ opened: 3, closed: 3, maxBusy: 3 });
    expect(done).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it("stops handing out jobs when asked; the ones started finish and are returned", async () => {
    const log = { opened: 0, closed: 0, busy: 0, maxBusy: 0 };
    let results = 0;
    const out = await runOnLanes(Array.from({ length: 50 }, (_, i) => i), 2, lanes(log), { shouldStop: () => results >= 5, onResult: () => results++ });
    expect(out.length).toBeGreaterThanOrEqual(5);
    expect(out.length).toBeLessThan(50);
    expect(out).toEqual(out.map((_, i) => i * 2));
    expect(log.closed).toBe(2);
  });

  it("opens no lane for no jobs, and one when asked for none but given jobs", async () => {
    const log = { opened: 0, closed: 0, busy: 0, maxBusy: 0 };
    expect(await runOnLanes([], 4, lanes(log))).toEqual([]);
    expect(log).toMatchObject({ opened: 0, closed: 0 });
    expect(await runOnLanes([1, 2], 0, lanes(log))).toEqual([2, 4]);
    expect(log).toMatchObject({ opened: 1, closed: 1 });
  });
});
