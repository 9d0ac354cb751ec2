import { describe, expect, it } from "vitest";
import type { MatrixCell } from "../types.js";
import { cellLine, cellShort, matrixJson, matrixMarkdown, matrixText, type MatrixMeta } from "./matrix.js";

const meta: MatrixMeta = {
  strategies: ["direct_write", "stop_machine"], models: ["x86-realistic"], budgetMs: 15_000, maxExecs: Number.MAX_SAFE_INTEGER,
  seed: 1, workers: 2, shardsPerCell: 1, verifyBound: 1, verifyMaxSchedules: 2000, corpusCases: 11, elapsedMs: 31_000, scope: { maxCores: 5 },
};
const sig = "direct_write x86-realistic torn-fetch wild-jump nop5->jmp32 write/0";
const diverging: MatrixCell = {
  strategy: "direct_write", model: "x86-realistic", shards: 1, execs: 5120, ms: 15_000, firstDivergence: { execs: 7, ms: 40 },
  signatures: [sig, "direct_write x86-realistic stale-after-completion wrong-output nop5->jmp32 after/0"],
  causes: ["stale-after-completion", "torn-fetch"], effects: ["wild-jump", "wrong-output"],
  rules: ["rule direct_write x86-realistic unsynchronized-xmc nop5->jmp32 write/0"], harnessErrors: 0,
};
const clean: MatrixCell = {
  strategy: "stop_machine", model: "x86-realistic", shards: 1, execs: 4000, ms: 15_000, signatures: [], causes: [], effects: [], rules: [], harnessErrors: 0,
  verified: { bound: 1, cases: 11, schedules: 9876, complete: true },
};

describe("matrix formats", () => {
  it("one line per cell with its evidence", () => {
    expect(cellLine(diverging)).toBe("direct_write x x86-realistic: DIVERGES (2 signatures): causes stale-after-completion, torn-fetch; effects wild-jump, wrong-output; first after 7 execs (0.04 s); 5,120 execs in 15.0 s; rule findings: unsynchronized-xmc");
    expect(cellLine(clean)).toBe("stop_machine x x86-realistic: no divergence found in 4,000 execs in 15.0 s; exhaustive verify: clean to delay bound 1 on 11 corpus cases (9,876 schedules)");
    expect(cellShort(diverging)).toBe("DIVERGES 2");
    expect(cellShort(clean)).toBe("none (bound 1)");
    expect(cellShort({ ...clean, verified: undefined, harnessErrors: 2 })).toBe("harness errors 2");
  });
  it("terminal: header, grid, then the cell lines", () => {
    const t = matrixText([diverging, clean], meta).split("\n");
    expect(t[0]).toBe("safety matrix: 2 strategies x 1 models, 15.0 s per cell, seed 1, 2 workers; 31.0 s in all");
    expect(t[2]).toMatch(/^\s+x86-realistic$/);
    expect(t[3]).toMatch(/^direct_write\s+DIVERGES 2$/);
    expect(t[4]).toMatch(/^stop_machine\s+none \(bound 1\)$/);
  });
  it("a header that names a restricted scope", () => {
    const scoped = { ...meta, scope: { maxCores: 5, slotKinds: ["nop5->jmp32", "call->call"], atomicBatches: false } };
    expect(matrixText([clean], scoped).split("\n")[0]).toBe("safety matrix: 2 strategies x 1 models, 15.0 s per cell, seed 1, 2 workers; generated cases: slot kinds nop5->jmp32, call->call; per-site ops only; 31.0 s in all");
    expect(matrixText([clean], { ...meta, scope: { maxCores: 5, atomicBatches: false } }).split("\n")[0]).toMatch(/workers; generated cases: per-site ops only; 31\.0 s/);
  });
  it("Markdown: the grid and a detail row per cell", () => {
    const md = matrixMarkdown([diverging, clean], meta);
    expect(md).toContain("| `direct_write` | **DIVERGES 2** |");
    expect(md).toContain("| stop_machine | x86-realistic | none (bound 1) |  |  |  | 4,000 (15.0 s) |  | bound 1, 11 cases, 9,876 schedules |");
  });
  it("JSON: the cells with their status; unbounded budgets as null", () => {
    const j = matrixJson([diverging, clean], meta) as { meta: { maxExecs: number | null }; cells: { status: string; ruleNames: string[] }[] };
    expect(j.meta.maxExecs).toBeNull();
    expect(j.cells.map((c) => c.status)).toEqual(["diverges", "no-divergence"]);
    expect(j.cells[0]!.ruleNames).toEqual(["unsynchronized-xmc"]);
  });
});
