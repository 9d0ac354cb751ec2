import seedrandom from "seedrandom";
import { describe, expect, it } from "vitest";
import type { Case, Model } from "../types.js";
import { parseCase } from "../case/load.js";
import { caseToJson } from "../case/save.js";
import { prepare, runOnce, type PreparedCase } from "../differential.js";
import { generateCase } from "../fuzz/generate.js";
import { NAMED_MODELS } from "../models/named.js";
import { builtinStrategy } from "../strategies/registry.js";

// SPEC 6.6: a stop_machine run never diverges and raises no rule finding, under any model. A
// failure here is a bug in the emulator or the oracle, never a finding.

const RUNS_PER_MODEL = 10_000;
const SCHEDULES_PER_CASE = 5;
const stopMachine = builtinStrategy("stop_machine")!;

/** Generated cases, each through the file loader's checks (so they are valid cases). */
function corpus(n: number): PreparedCase[] {
  const rng = seedrandom.alea("stop_machine self-check");
  return Array.from({ length: n }, (_, i) => {
    const loaded = parseCase(caseToJson(generateCase(rng, { maxCores: i % 10 === 0 ? 8 : 4 })));
    return prepare(loaded.kase, loaded.soloBudget);
  });
}

const cases = corpus(RUNS_PER_MODEL / SCHEDULES_PER_CASE);

function features(k: Case): string[] {
  const f: string[] = [];
  if (k.ops.some((op) => op.targets.length > 1)) f.push("batch");
  if (k.ops.some((op) => op.batch === "atomic")) f.push("atomic");
  if (k.ops.some((op) => !op.monotonic)) f.push("non-monotonic");
  if (k.ops.some((op) => op.targets.some((t) => t.to === "old"))) f.push("revert");
  for (const s of k.program.slots) {
    if ((s.old[0] === 0xcc) !== (s.new[0] === 0xcc)) f.push("probe");
    if (s.kind.includes(";")) f.push("multi-instruction");
  }
  if (k.cores > 4) f.push("many-cores");
  return f;
}

describe("stop_machine self-check", () => {
  it("the generated cases include batches, reverts, probes and multi-instruction slots", () => {
    const seen = new Set(cases.flatMap((p) => features(p.kase)));
    for (const f of ["batch", "atomic", "non-monotonic", "revert", "probe", "multi-instruction", "many-cores"]) expect(seen).toContain(f);
  });

  for (const model of NAMED_MODELS) {
    it(`never diverges and raises no rule finding under ${model.name} (${RUNS_PER_MODEL} runs)`, () => {
      let runs = 0;
      for (const [i, p] of cases.entries()) {
        for (let s = 0; s < SCHEDULES_PER_CASE; s++) {
          const o = runOnce(p, { strategy: stopMachine, model: model as Model, seed: i * SCHEDULES_PER_CASE + s });
          runs++;
          if (o.verdict.kind !== "clean" || o.verdict.rules.length > 0) {
            expect.fail(`case ${i} seed ${i * SCHEDULES_PER_CASE + s}: ${o.verdict.kind} ${o.verdict.signature ?? ""} ${o.verdict.rules.map((r) => r.rule).join(",")}\n${JSON.stringify(caseToJson(p.kase))}`);
          }
        }
      }
      expect(runs).toBe(RUNS_PER_MODEL);
    });
  }
});
