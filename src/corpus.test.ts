import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCaseFile } from "./case/load.js";
import { prepare, runOnce } from "./differential.js";
import { changeLines } from "./corpus/compare.js";
import { builtinPairOf, regressCase } from "./corpus/regress.js";
import { namedModel } from "./models/named.js";
import { runJson } from "./report/json.js";
import { DriftError } from "./schedule/choosers.js";
import { builtinStrategy } from "./strategies/registry.js";

// The regression corpus: every recorded run replays bit-identically, with the verdict, signature
// and rule findings recorded when the corpus was made (scripts/record-corpus.ts).

const dir = join(import.meta.dirname, "..", "corpus");
const files = readdirSync(dir).filter((f) => f.endsWith(".json")).sort();

describe("corpus", () => {
  it("covers every patch kind of SPEC 9", () => {
    const kinds = new Set(files.flatMap((f) => loadCaseFile(join(dir, f)).kase.program.slots.map((s) => s.kind)));
    for (const k of ["nop5->jmp32", "nop2->jmp8", "call->call", "nop5->call", "movr8->movr8", "nop->int3", "movr32->int3", "nop2;nop3->call"]) {
      expect(kinds).toContain(k);
    }
    expect([...kinds].some((k) => k.startsWith("jmp32->ret"))).toBe(true);
  });

  for (const file of files) {
    it(`${file}: every recorded run replays with its recorded verdict, signature and rules, twice identically`, () => {
      const loaded = loadCaseFile(join(dir, file));
      // The same check as `xmcfuzz regress`: one line per change, none expected.
      const { prepared, checks } = regressCase(file, loaded, builtinPairOf(file));
      expect(checks.length).toBeGreaterThan(0);
      expect(checks.flatMap(changeLines)).toEqual([]);
      for (const r of loaded.kase.runs) {
        const spec = { strategy: builtinStrategy(r.strategy)!, model: namedModel(r.model)!, seed: r.seed, decisions: r.decisions };
        const first = runOnce(prepared, spec);
        const second = runOnce(prepared, spec);
        expect(first.decisions).toEqual(r.decisions);
        expect(JSON.stringify(runJson(second.run, second.verdict))).toBe(JSON.stringify(runJson(first.run, first.verdict)));
      }
    });
  }

  it("an edited decision list is reported as drift", () => {
    const loaded = loadCaseFile(join(dir, "jump-label-nop5-jmp32.json"));
    const prepared = prepare(loaded.kase, loaded.soloBudget);
    const r = loaded.kase.runs.find((x) => (x.decisions?.length ?? 0) > 10)!;
    const spec = { strategy: builtinStrategy(r.strategy)!, model: namedModel(r.model)! };
    const edited = r.decisions!.map(([c, n], i) => (i === 5 ? ([c, n + 1] as const) : ([c, n] as const)));
    expect(() => runOnce(prepared, { ...spec, decisions: edited })).toThrow(DriftError);
    expect(() => runOnce(prepared, { ...spec, decisions: edited })).toThrow(/replay drift at decision 5/);
    expect(() => runOnce(prepared, { ...spec, decisions: r.decisions!.slice(0, -3) })).toThrow(/missing from the recorded list/);
    expect(() => runOnce(prepared, { ...spec, decisions: [...r.decisions!, [0, 2]] })).toThrow(/run ended after/);
  });
});
