import { createHash } from "node:crypto";
import seedrandom from "seedrandom";
import { describe, expect, it } from "vitest";
import { parseCase } from "../case/load.js";
import { caseToJson } from "../case/save.js";
import { planCase } from "../machine/plan.js";
import { soloRun } from "../oracle/solo.js";
import { SOLO_LIMIT } from "../types.js";
import { generateCase } from "./generate.js";

// Every generated case is one the loader accepts, so a `hang` verdict always means the strategy hung.

describe("generateCase", () => {
  it("10,000 generated cases are valid and terminate with no op and with every op applied at the start", () => {
    const rng = seedrandom.alea("generator");
    const cores = new Set<number>(), kinds = new Set<string>();
    let batches = 0, atomic = 0, reverts = 0;
    for (let i = 0; i < 10_000; i++) {
      const kase = generateCase(rng, { maxCores: 8 });
      const loaded = parseCase(caseToJson(kase)); // throws on any loader check, termination included
      expect(loaded.soloBudget).toBeLessThanOrEqual(SOLO_LIMIT);
      // The two extremes named by the issue, checked directly as well.
      const plan = planCase(kase);
      for (const image of [plan.images[0]!, plan.images[plan.images.length - 1]!]) {
        for (const e of kase.program.entries) expect(soloRun(e, image, kase.program.base, kase.program.slots, SOLO_LIMIT + 1).end).toBeDefined();
      }
      cores.add(kase.cores);
      for (const s of kase.program.slots) kinds.add(s.kind.startsWith("rewrite") ? "rewrite" : s.kind);
      if (kase.ops.some((o) => o.targets.length > 1)) batches++;
      if (kase.ops.some((o) => o.batch === "atomic")) atomic++;
      if (kase.ops.some((o) => o.targets.some((t) => t.to === "old"))) reverts++;
    }
    expect([...cores].sort()).toEqual([2, 3, 4, 5, 6, 7, 8]);
    for (const k of ["nop5->jmp32", "nop2->jmp8", "call->call", "nop5->call", "movr8->movr8", "nop->int3", "movr32->int3", "jmp32->ret", "nop2;nop3->call", "rewrite"]) {
      expect(kinds).toContain(k);
    }
    expect(batches).toBeGreaterThan(1000);
    expect(atomic).toBeGreaterThan(100);
    expect(reverts).toBeGreaterThan(1000);
  });

  it("generates, from a seed, the very cases it always did (corpora and engine A/Bs depend on it)", () => {
    const rng = seedrandom.alea("pinned");
    const h = createHash("sha256");
    for (let i = 0; i < 500; i++) h.update(JSON.stringify(caseToJson(generateCase(rng, { maxCores: 8 }))));
    // Computed with the generator that printed asm text for the assembler to parse.
    expect(h.digest("hex").slice(0, 16)).toBe("72bcc6fba5996682");
  });

  it("is reproducible from one seed", () => {
    const a = generateCase(seedrandom.alea("same"), {}), b = generateCase(seedrandom.alea("same"), {});
    expect(caseToJson(a)).toEqual(caseToJson(b));
  });
});
