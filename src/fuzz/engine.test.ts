import { describe, expect, it } from "vitest";
import type { Case } from "../types.js";
import { runOnce, type Outcome, type PreparedCase } from "../differential.js";
import { NAMED_MODELS } from "../models/named.js";
import { BUILTIN_STRATEGIES } from "../strategies/registry.js";
import { FuzzEngine, ruleSignatures } from "./engine.js";

describe("engine: confirming findings", () => {
  it("confirms every new signature of a run with one strict replay of that run, and reports a signature once", () => {
    const replays: Case[] = [];
    const engine = new FuzzEngine({
      seed: 4, strategies: BUILTIN_STRATEGIES, models: NAMED_MODELS, scheduler: "random", feedback: true,
      replay: (reproducer: Case, prepared: PreparedCase, strategy, model): Outcome => {
        replays.push(reproducer);
        return runOnce(prepared, { strategy, model, decisions: reproducer.runs[0]!.decisions ?? [] });
      },
    });
    let stepsWithFindings = 0, findings = 0, multi = 0;
    const seen = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const before = replays.length;
      const r = engine.step();
      if (r.findings.length === 0) {
        expect(replays.length).toBe(before);
        continue;
      }
      stepsWithFindings++;
      findings += r.findings.length;
      if (r.findings.length > 1) multi++;
      // One replay, of the very reproducer every finding of this step carries.
      expect(replays.length).toBe(before + 1);
      for (const f of r.findings) {
        expect(f.kase).toBe(replays[replays.length - 1]);
        expect(seen.has(f.signature)).toBe(false);
        seen.add(f.signature);
        const v = r.outcome.verdict;
        expect(f.kind === "divergence" ? v.signature : ruleSignatures(v).find((s) => s === f.signature)).toBe(f.signature);
        // Its class: the cause named in a divergence's signature, the rule named in a rule finding's.
        if (f.kind === "divergence") expect(f.signature.split(" ")[2]).toBe(f.cause);
        else expect(f.signature.split(" ")[3]).toBe(f.rule);
      }
    }
    expect(stepsWithFindings).toBeGreaterThan(10);
    // Runs with a divergence and rule findings at once exist, so the single replay saves work.
    expect(multi).toBeGreaterThan(0);
    expect(findings).toBeGreaterThan(stepsWithFindings);
  });

  it("a signature made known from outside (another worker's) is not reported again", () => {
    const a = new FuzzEngine({ seed: 9, strategies: BUILTIN_STRATEGIES, models: NAMED_MODELS, scheduler: "random", feedback: true });
    const first: string[] = [];
    for (let i = 0; i < 200; i++) first.push(...a.step().findings.map((f) => f.signature));
    expect(first.length).toBeGreaterThan(0);
    const b = new FuzzEngine({ seed: 9, strategies: BUILTIN_STRATEGIES, models: NAMED_MODELS, scheduler: "random", feedback: true });
    for (const s of first) b.known.add(s);
    for (let i = 0; i < 200; i++) expect(b.step().findings).toEqual([]);
  });
});
