import seedrandom from "seedrandom";
import { describe, expect, it } from "vitest";
import { generateCase } from "../fuzz/generate.js";
import { newCpu } from "../machine/cpu.js";
import { planCase } from "../machine/plan.js";
import { assemble } from "../isa/asm.js";
import { decodeCache, soloRun, soloStep } from "./solo.js";

describe("soloStep's decode cache", () => {
  it("never changes a solo run, while the code under it switches between the case's images", () => {
    // The oracle's code view changes slot contents mid-run (a branch enters a slot in another
    // version): a cached decode must serve only while its bytes are there.
    const rng = seedrandom.alea("solo-cache");
    let steps = 0, switches = 0;
    for (let i = 0; i < 300; i++) {
      const kase = generateCase(rng, { maxCores: 4 });
      const plan = planCase(kase);
      const cache = decodeCache(plan.slotAt);
      const { base, slots } = kase.program;
      for (const entry of kase.program.entries) {
        const view = plan.images[0]!.slice();
        const cached = newCpu(entry), plain = newCpu(entry);
        let image = 0;
        for (let n = 0; n < 2000 && !plain.end; n++) {
          if (rng() < 0.15) {
            image = (image + 1) % plan.images.length;
            view.set(plan.images[image]!);
            switches++;
          }
          const a = soloStep(cached, view, base, slots, cache), b = soloStep(plain, view, base, slots);
          steps++;
          expect(a).toBe(b);
          expect(cached.pc).toBe(plain.pc);
          expect([...cached.regs]).toEqual([...plain.regs]);
          expect(cached.events.length).toBe(plain.events.length);
        }
        expect(cached.end).toEqual(plain.end);
        expect(cached.events).toEqual(plain.events);
      }
    }
    expect(steps).toBeGreaterThan(10_000);
    expect(switches).toBeGreaterThan(1000);
  });
});

describe("soloRun", () => {
  it("stops at the instruction limit, and ends with #PF on running off the code region", () => {
    const loop = assemble("top: out 0x10, al\njmp top", 0x1000).bytes;
    const capped = soloRun(0x1000, loop, 0x1000, [], 10);
    expect(capped.instructions).toBe(10);
    expect(capped.end).toBeUndefined();
    const off = assemble("nop\nnop", 0x1000).bytes;
    expect(soloRun(0x1000, off, 0x1000, [], 10).end).toEqual({ kind: "fault", fault: "#PF", addr: 0x1002 });
    // An instruction cut off by the region's end faults at the end, as a fetch past it would.
    const cut = Uint8Array.from([0x90, 0xe9, 0x00]);
    expect(soloRun(0x1000, cut, 0x1000, [], 10).end).toEqual({ kind: "fault", fault: "#PF", addr: 0x1003 });
  });
});
