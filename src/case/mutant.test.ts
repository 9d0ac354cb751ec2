import { readdirSync } from "node:fs";
import { join } from "node:path";
import seedrandom from "seedrandom";
import { describe, expect, it } from "vitest";
import type { Case } from "../types.js";
import { generateCase } from "../fuzz/generate.js";
import { mutateCase } from "../fuzz/mutate.js";
import { MUTANT_SOLO_LIMIT, type MutationParent, prepareMutant } from "../fuzz/prepare.js";
import { loadCaseFile, parseCase, parseCaseShape } from "./load.js";
import { checkMutantShape } from "./mutant.js";
import { caseToJson } from "./save.js";
import type { SoloCounts } from "./terminate.js";

// The engine checks mutants without the loader's JSON round trip: it must accept exactly the
// mutants the loader accepts, with the same errors, and run the very case the loader would build.

/**
 * Mutants of this one break the loader's checks: each `.byte 0xb0` skipped by a jump makes the
 * mutator's linear sweep read a `mov al, imm8` across the next byte, the first of slot b (its
 * old version no longer matches the code) or the opcode of `out` (whose bytes may then run into
 * slot c); and ebx counts a loop that the mutator may make far too long.
 */
const TRICKY = {
  xmcfuzz: "case", version: 2, name: "tricky", cores: 3,
  code: {
    base: "0x1000",
    asm: [
      "core1: mov ebx, 3",
      "loop1: .slot a", "nop5", ".endslot",
      "dec ebx", "jne loop1",
      "jmp short skip1", ".byte 0xb0",
      "skip1: .slot b", "nop2", ".endslot",
      "jmp short skip2", ".byte 0xb0",
      "skip2: out 0x11",
      ".slot c", "nop5", ".endslot",
      "call fn", "hlt",
      "core2: mov ecx, 2",
      "loop2: call fn", "dec ecx", "jne loop2", "hlt",
      "fn: mov al, 1", "out 0x10", "ret",
    ],
  },
  entries: ["core1", "core2"],
  slots: [{ name: "a", new: "call fn" }, { name: "b", new: ["inc edx", "inc esi"] }, { name: "c", new: "call fn" }],
  ops: [{ slots: ["a", "c"] }, { slots: ["b", { slot: "a", to: "old" }], batch: "atomic" }],
};

function parents(): Case[] {
  const rng = seedrandom.alea("mutant parents");
  const corpus = join(import.meta.dirname, "../../corpus");
  return [
    parseCaseShape(TRICKY),
    ...readdirSync(corpus).filter((f) => f.endsWith(".json")).map((f) => loadCaseFile(join(corpus, f)).kase),
    ...Array.from({ length: 30 }, () => generateCase(rng, { maxCores: 8 })),
  ];
}

/** The loader's verdict on a mutant: its error message, or the case and solo budget. */
function viaLoader(mutant: Case): string | { json: string; shape: string; soloBudget: number } {
  try {
    const loaded = parseCase(caseToJson(mutant));
    return { json: JSON.stringify(caseToJson(loaded.kase)), shape: JSON.stringify(loaded.kase), soloBudget: loaded.soloBudget };
  } catch (e) {
    return (e as Error).message;
  }
}

function shapeError(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

describe("checkMutantShape and prepareMutant", () => {
  it("accept exactly what parseCase(caseToJson(mutant)) accepts, over thousands of mutants, and prepare the same case", () => {
    const rng = seedrandom.alea("mutants");
    const all = parents();
    // Solo counts shared by the mutants of each parent, as the engine shares them.
    const soloCounts = new Map<Case, SoloCounts>();
    const counted = (kase: Case): MutationParent => ({ kase, soloCounts: soloCounts.get(kase) ?? soloCounts.set(kase, new Map()).get(kase)! });
    let accepted = 0, runsOn = 0;
    const badShape = new Set<string>();
    for (let i = 0; i < 4000; i++) {
      // One mutant in ten of the tricky case, whose mutants the loader most often rejects.
      const parent = i % 10 === 0 ? all[0]! : all[i % all.length]!;
      const first = mutateCase(rng, parent);
      if (!first) continue;
      // Mutants of (loader-checked) mutants too, as the engine's corpus holds them.
      const twice = i % 3 === 0 && shapeError(() => parseCaseShape(caseToJson(first))) === undefined;
      const from = twice ? first : parent;
      const mutant = twice ? mutateCase(rng, first) : first;
      if (!mutant) continue;
      const expected = viaLoader(mutant);
      expect(shapeError(() => checkMutantShape(from, mutant))).toBe(shapeError(() => parseCaseShape(caseToJson(mutant))));
      const prepared = prepareMutant(counted(from), mutant);
      if (typeof expected === "string") {
        expect(prepared, expected).toBeUndefined();
        if (expected.startsWith("cores:")) runsOn++;
        else badShape.add(expected.split(":")[0]!);
        continue;
      }
      if (expected.soloBudget > MUTANT_SOLO_LIMIT) {
        // The loader takes it (SPEC 6.4's 10^6); the engine holds mutants to shorter solo runs.
        expect(prepared).toBeUndefined();
        continue;
      }
      accepted++;
      expect(prepared).toBeDefined();
      expect(JSON.stringify(caseToJson(prepared!.kase))).toBe(expected.json);
      // Same fields in the same order as the loader's case (the engine's digests serialize cases).
      expect(JSON.stringify(prepared!.kase)).toBe(expected.shape);
      expect(prepared!.soloBudget).toBe(expected.soloBudget);
    }
    expect(accepted).toBeGreaterThan(3000);
    // Rejections by shape were exercised too, on slot versions (their flow) and on code.
    expect([...badShape].some((f) => f.endsWith(".newHex"))).toBe(true);
    expect([...badShape].some((f) => f.endsWith(".old"))).toBe(true);
    expect(runsOn).toBeGreaterThan(10);
  });

  it("loads a mutant that does not keep its parent's slots", () => {
    const parent = parseCaseShape(TRICKY);
    const slots = parent.program.slots.map((s) => ({ ...s, old: s.new }));
    const changed: Case = { ...parent, program: { ...parent.program, slots }, runs: [] };
    expect(shapeError(() => checkMutantShape(parent, changed))).toBe(shapeError(() => parseCaseShape(caseToJson(changed))));
    expect(shapeError(() => checkMutantShape(parent, changed))).toMatch(/^slots\[0\]\.old: /);
  });
});
