import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { youngGenSurvival } from "../testing/gc.js";

// A run's objects must die young. Before the rules in strategies/ctx.ts, dead old-generation
// objects (a spread literal, a generator closure's map) reached whole runs and ~15-30% of what
// runs allocated was promoted, so the collector's work, not the emulator's, set the exec rate.

const workload = join(import.meta.dirname, "..", "..", "dist", "scripts", "gc-workload.js");

describe("garbage of differential runs", () => {
  it("stays in the young generation: under 5% of what runs allocate is promoted", () => {
    if (!existsSync(workload)) throw new Error("dist/ is missing: run `npm run build` before the tests");
    const s = youngGenSurvival(workload, ["runs", "1.5"]);
    expect(s.scavenges).toBeGreaterThan(10);
    expect(s.share).toBeLessThan(0.05);
  });
});
