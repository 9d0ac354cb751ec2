import seedrandom from "seedrandom";
import { describe, expect, it } from "vitest";
import { parseCase } from "../case/load.js";
import { caseToJson } from "../case/save.js";
import { decode } from "../isa/decode.js";
import type { Case } from "../types.js";

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);
import { generateCase } from "./generate.js";
import { mutateCase } from "./mutate.js";

/** The loop counts (`mov ecx, imm32` outside slots) of a case's code, by offset. */
function loopCounts(k: Case): Map<number, number> {
  const out = new Map<number, number>();
  for (let off = 0; off < k.program.code.length;) {
    const slot = k.program.slots.find((s) => s.start - k.program.base === off);
    if (slot) {
      off += slot.len;
      continue;
    }
    const d = decode(k.program.code, off, k.program.code.length);
    if ("incomplete" in d) break;
    if (d.op === "movr32" && d.reg === 1) out.set(off, k.program.code[off + 1]! | (k.program.code[off + 2]! << 8));
    off += d.len;
  }
  return out;
}

describe("mutateCase", () => {
  it("makes a new case from a parent without touching it: runs dropped, slots in place, loop counts small", () => {
    const rng = seedrandom.alea("mutate");
    let mutants = 0, accepted = 0;
    const changed = { ops: 0, cores: 0, code: 0, length: 0, versions: 0, swapped: 0 };
    for (let i = 0; i < 1000; i++) {
      const parent = generateCase(rng, { maxCores: 8 });
      const before = JSON.stringify(caseToJson(parent));
      const m = mutateCase(rng, parent);
      expect(JSON.stringify(caseToJson(parent))).toBe(before);
      if (!m) continue;
      mutants++;
      expect(m.runs).toEqual([]);
      expect(m.cores).toBe(m.program.entries.length + 1);
      expect(m.cores).toBeGreaterThanOrEqual(2);
      expect(m.cores).toBeLessThanOrEqual(8);
      // The same patch sites, each still holding its old version in the code.
      expect(m.program.slots.length).toBe(parent.program.slots.length);
      m.program.slots.forEach((s, k) => {
        const p = parent.program.slots[k]!;
        expect(s.len).toBe(p.len);
        const at = s.start - m.program.base;
        expect([...m.program.code.slice(at, at + s.len)]).toEqual([...s.old]);
        if (!sameBytes(s.old, p.old) || !sameBytes(s.new, p.new)) changed.versions++;
        if (sameBytes(s.old, p.new) && sameBytes(s.new, p.old) && !sameBytes(p.old, p.new)) changed.swapped++;
      });
      for (const count of loopCounts(m).values()) expect(count).toBeLessThanOrEqual(Math.max(8, ...loopCounts(parent).values()));
      for (const op of m.ops) for (const t of op.targets) expect(t.slot).toBeLessThan(m.program.slots.length);
      if (JSON.stringify(m.ops) !== JSON.stringify(parent.ops)) changed.ops++;
      if (m.cores !== parent.cores) changed.cores++;
      if (m.program.code.length !== parent.program.code.length) changed.length++;
      else if (m.program.code.some((b, j) => b !== parent.program.code[j])) changed.code++;
      try {
        parseCase(caseToJson(m));
        accepted++;
      } catch {
        // The engine drops a mutant the loader rejects (one that no longer terminates, say).
      }
    }
    // Most parents give a mutant, each kind of change occurs, and most mutants pass the loader.
    expect(mutants).toBeGreaterThan(900);
    expect(Math.min(...Object.values(changed))).toBeGreaterThan(50);
    expect(accepted / mutants).toBeGreaterThan(0.85);
  });

  it("is reproducible from the generator's state", () => {
    const parent = generateCase(seedrandom.alea("parent"));
    const run = () => {
      const rng = seedrandom.alea("mutants");
      return Array.from({ length: 20 }, () => JSON.stringify(caseToJson(mutateCase(rng, parent) ?? parent)));
    };
    expect(run()).toEqual(run());
  });
});
