import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCaseFile } from "../case/load.js";
import { caseToJson } from "../case/save.js";
import { reproducerSize } from "../files/store.js";
import { NAMED_MODELS } from "../models/named.js";
import { BUILTIN_STRATEGIES } from "../strategies/registry.js";
import type { Finding } from "./engine.js";
import { TracedReplays, unship } from "./finding-report.js";

// Workers ship findings as their files' text; a dead worker's raw finding comes back to its
// replacement as text too, and must be the same finding.

const { kase } = loadCaseFile(join(import.meta.dirname, "..", "..", "corpus", "jump-label-nop5-jmp32.json"));
const run = kase.runs.find((r) => r.strategy === "direct_single_byte" && r.expect?.verdict === "diverges")!;
const finding: Finding = {
  kind: "divergence", signature: run.expect!.signature!, cause: "torn-fetch", kase: { ...kase, runs: [run] }, minimized: false,
};

describe("shipped findings", () => {
  const shipped = new TracedReplays().ship(finding, BUILTIN_STRATEGIES, NAMED_MODELS);

  it("carry the case file, its size, the cell and the repro report of the finding", () => {
    expect(shipped).toMatchObject({ kind: "divergence", signature: finding.signature, cause: "torn-fetch", strategy: run.strategy, model: run.model, minimized: false });
    expect(shipped.file.size).toBe(reproducerSize(finding.kase));
    expect(JSON.parse(shipped.file.json)).toMatchObject({ description: `divergence ${finding.signature}` });
    expect(shipped.file.report).toContain(finding.signature);
  });

  it("come back as the same finding", () => {
    const back = unship(shipped);
    expect({ ...back, kase: undefined }).toEqual({ ...finding, kase: undefined });
    // The file describes the finding in place of the case's own description; the rest is the same.
    const undescribed = (k: typeof kase) => caseToJson({ ...k, description: undefined });
    expect(undescribed(back.kase)).toEqual(undescribed(finding.kase));
  });
});
