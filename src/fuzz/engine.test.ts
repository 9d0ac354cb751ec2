import { describe, expect, it } from "vitest";
import type { Case } from "../types.js";
import { runOnce, type Outcome, type PreparedCase } from "../differential.js";
import { NAMED_MODELS } from "../models/named.js";
import { BUILTIN_STRATEGIES } from "../strategies/registry.js";
import { parseCaseShape } from "../case/load.js";
import { caseToJson } from "../case/save.js";
import { formatDecisions } from "../schedule/choosers.js";
import { FuzzEngine } from "./engine.js";
import { divergenceFindingsOf, ruleSignatures } from "../oracle/classify.js";
import { generateCase } from "./generate.js";
import { inScope } from "./scope.js";
import seedrandom from "seedrandom";

describe("engine: confirming findings", () => {
  it("a run whose findings do not replay (a strategy that is not deterministic) is a harness error that keeps its corpus entry and reports nothing as known", () => {
    const engine = new FuzzEngine({
      seed: 4, strategies: BUILTIN_STRATEGIES, models: NAMED_MODELS, scheduler: "random", feedback: true,
      // Every replay comes back clean: nothing the run found replays.
      replay: (_reproducer: Case, prepared: PreparedCase, _strategy, model): Outcome => runOnce(prepared, { strategy: BUILTIN_STRATEGIES.find((s) => s.name === "stop_machine")!, model, seed: 0 }),
    });
    let failed = 0, entries = 0;
    for (let i = 0; i < 200; i++) {
      const r = engine.step();
      if (/^strategy \S+ is not deterministic: a finding did not replay/.test(r.harnessError ?? "")) {
        failed++;
        if (r.corpusEntry) entries++;
      }
      expect(r.findings).toEqual([]);
    }
    expect(failed).toBeGreaterThan(0);
    expect(entries).toBeGreaterThan(0);
    expect(engine.known.size).toBe(0);
  });

  it("confirms every new signature of a run with one strict replay of that run, and reports a signature once", () => {
    const replays: Case[] = [];
    const engine = new FuzzEngine({
      seed: 4, strategies: BUILTIN_STRATEGIES, models: NAMED_MODELS, scheduler: "random", feedback: true,
      replay: (reproducer: Case, prepared: PreparedCase, strategy, model): Outcome => {
        replays.push(reproducer);
        return runOnce(prepared, { strategy, model, decisions: reproducer.runs[0]!.decisions ?? [] });
      },
    });
    let stepsWithFindings = 0, findings = 0, multi = 0, secondary = 0;
    const seen = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const before = replays.length;
      const r = engine.step();
      // No class a run showed is left unreported: every divergence's signature and rule finding.
      if (!r.harnessError) for (const s of [...divergenceFindingsOf(r.outcome.verdict).keys(), ...ruleSignatures(r.outcome.verdict)]) expect(engine.known.has(s)).toBe(true);
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
        expect(f.kind === "divergence" ? divergenceFindingsOf(v).has(f.signature) : ruleSignatures(v).includes(f.signature)).toBe(true);
        if (f.kind === "divergence" && f.signature !== v.signature) secondary++;
        // Its class: the cause named in a divergence's signature, the rule named in a rule finding's.
        if (f.kind === "divergence") expect(f.signature.split(" ")[2]).toBe(f.cause);
        else expect(f.signature.split(" ")[3]).toBe(f.rule);
      }
    }
    expect(stepsWithFindings).toBeGreaterThan(10);
    // Runs with a divergence and rule findings at once exist, so the single replay saves work.
    expect(multi).toBeGreaterThan(0);
    expect(findings).toBeGreaterThan(stepsWithFindings);
    // Another core's divergence of another class than the run's first is a finding of its own.
    expect(secondary).toBeGreaterThan(0);
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

const caseOf = (json: string) => parseCaseShape((JSON.parse(json) as { case: unknown }).case);

describe("engine: a scope", () => {
  const scope = { maxCores: 4, slotKinds: ["nop5->jmp32", "nop2->jmp8", "call->call"], atomicBatches: false };

  it("keeps generated cases, mutants and findings within it", () => {
    const engine = new FuzzEngine({ seed: 3, strategies: BUILTIN_STRATEGIES, models: NAMED_MODELS, scheduler: "pct", feedback: true, scope });
    const findings: Case[] = [];
    for (let i = 0; i < 1500; i++) {
      const r = engine.step();
      expect(r.outcome.run.observations.length + 1).toBeLessThanOrEqual(scope.maxCores); // what ran, mutants included
      findings.push(...r.findings.map((f) => f.kase));
    }
    // Mutants are half the cases once the corpus grows; batch toggles among them would make atomic ones.
    expect(engine.corpus.length).toBeGreaterThan(20);
    for (const json of engine.corpus) expect(inScope(caseOf(json), scope)).toBe(true);
    expect(findings.length).toBeGreaterThan(0);
    for (const k of findings) expect(inScope(k, scope)).toBe(true);
  });

  it("adopts only entries within it (another process may fuzz everything)", () => {
    const engine = new FuzzEngine({ seed: 3, strategies: BUILTIN_STRATEGIES, models: NAMED_MODELS, scheduler: "pct", feedback: true, scope });
    const rng = seedrandom.alea("adopt");
    let inside = 0, outside = 0;
    for (let i = 0; i < 60; i++) {
      const kase = generateCase(rng, { maxCores: 4 });
      const before = engine.corpus.length, bits = engine.coverage.count;
      // Every other entry as a hand-written file may be: slot kinds left to the loader.
      const file = caseToJson(kase) as { slots: { kind?: string }[] };
      if (i % 2 === 1) for (const slot of file.slots) delete slot.kind;
      engine.adopt(JSON.stringify({ case: file }), [10_000 + i]);
      const adopted = engine.corpus.length > before;
      expect(adopted).toBe(inScope(kase, scope));
      expect(engine.coverage.count > bits).toBe(adopted);
      if (adopted) inside++;
      else outside++;
    }
    expect(inside).toBeGreaterThan(0);
    expect(outside).toBeGreaterThan(0);
    engine.adopt("not json", [20_000]);
    expect(engine.coverage.count).toBe(inside);
  });

  it("keeps every entry of its own stored corpus when resuming, bits known or not; another engine's only if it adds bits", () => {
    const engine = new FuzzEngine({ seed: 3, strategies: BUILTIN_STRATEGIES, models: NAMED_MODELS, scheduler: "random", feedback: true });
    const entry = (i: number) => JSON.stringify({ case: caseToJson(generateCase(seedrandom.alea(`resume ${i}`), { maxCores: 4 })) });
    // Found in this order, each added a bit; loaded in another, the last adds none.
    engine.resume(entry(0), [1, 2]);
    engine.resume(entry(1), [2, 3]);
    engine.resume(entry(2), [1, 3]);
    expect(engine.corpus.length).toBe(3);
    expect(engine.coverage.count).toBe(3);
    engine.adopt(entry(3), [1, 2]);
    expect(engine.corpus.length).toBe(3);
  });
});

describe("engine: schedule mutation", () => {
  it("splices a parent's recorded decisions into some runs of its mutants, on the parent's cell", () => {
    const engine = new FuzzEngine({ seed: 6, strategies: BUILTIN_STRATEGIES, models: NAMED_MODELS, scheduler: "random", feedback: true });
    const schedules = new Map<string, string>(); // a corpus entry's decisions -> its cell
    let spliced = 0, longPrefixes = 0;
    for (let i = 0; i < 1500; i++) {
      const r = engine.step();
      for (const json of engine.corpus.slice(schedules.size)) {
        const run = caseOf(json).runs[0]!;
        schedules.set(formatDecisions(run.decisions ?? []), `${run.strategy} ${run.model}`);
      }
      if (!r.spliced) continue;
      spliced++;
      if (r.spliced.length >= 10) longPrefixes++;
      // The prefix is the start of a corpus entry's schedule, run on that entry's cell ...
      const text = formatDecisions(r.spliced), cell = `${r.outcome.verdict.strategy} ${r.outcome.verdict.model}`;
      const startsWith = (d: string) => d.startsWith(text) && (d.length === text.length || text.length === 0 || d[text.length] === " ");
      expect([...schedules].some(([d, c]) => startsWith(d) && c === cell)).toBe(true);
      // ... and the run followed it, each index wrapped to the options the mutant had there.
      r.spliced.slice(0, r.outcome.decisions.length).forEach(([chosen], d) => {
        const [taken, options] = r.outcome.decisions[d]!;
        expect(taken).toBe(chosen % options);
      });
    }
    expect(spliced).toBeGreaterThan(50);
    expect(longPrefixes).toBeGreaterThan(20);
  });
});
