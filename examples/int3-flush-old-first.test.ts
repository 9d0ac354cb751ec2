import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Strategy } from "../src/types.js";
import { namedModel } from "../src/models/named.js";
import { builtinStrategy } from "../src/strategies/registry.js";
import { prepareSketch } from "../src/testing/build.js";
import { imm8, jumpLabel } from "../src/testing/programs.js";
import { causesOf, everyRun } from "../src/testing/search.js";

// The example user strategy against Mathieu's int3_flush on a non-coherent I-cache (SPEC 4.3: a
// core may fetch old bytes again after new ones until maintenance reaches it). Emulating the new
// instruction from the first trap lets a core run new, then stale old code; emulating the old one
// until no core can fetch the old bytes any more does not.

const noncoherent = namedModel("noncoherent-icache")!;

/** The plugin as `--strategy` loads it (its module's `strategy` export). */
async function example(): Promise<Strategy> {
  const url = pathToFileURL(join(import.meta.dirname, "int3-flush-old-first.mjs")).href;
  return ((await import(url)) as { strategy: Strategy }).strategy;
}

describe("examples/int3-flush-old-first.mjs", () => {
  for (const [name, sketch] of [["jump label", jumpLabel(3, 12)], ["imm8", imm8(3, 12)]] as const) {
    it(`${name}: no divergence where int3_flush runs new code, then stale old code`, async () => {
      const oldFirst = await example();
      const p = prepareSketch(sketch);
      let flushDiverged = 0;
      for (const o of everyRun(p, builtinStrategy("int3_flush")!, noncoherent, 300)) {
        if (o.verdict.kind !== "diverges") continue;
        flushDiverged++;
        expect(causesOf(o)).toContain("non-monotonic");
      }
      expect(flushDiverged).toBeGreaterThan(0);
      for (const o of everyRun(p, oldFirst, noncoherent, 300)) {
        expect(o.verdict.kind).not.toBe("diverges");
        expect(o.run.harnessError).toBeUndefined();
        expect(o.run.hung).toBeUndefined();
      }
    });
  }
});
