import { existsSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCaseFile } from "../case/load.js";
import type { ShippedFinding } from "../fuzz/engine.js";
import { findingFile } from "../files/store.js";
import { MatrixFindings } from "./findings.js";

// A matrix's findings arrive in worker threads' message handlers: storing one never throws, and a
// crashes directory that fails mid-run loses none of them.

const kase = loadCaseFile(join(import.meta.dirname, "..", "..", "corpus", "jump-label-nop5-jmp32.json")).kase;
const finding = (n: number): ShippedFinding => {
  const signature = `s m torn-fetch wild-jump nop5->jmp32 write/${n}`;
  return { kind: "divergence", signature, minimized: false, strategy: "s", model: "m", file: findingFile(signature, "divergence", kase, "report") };
};

describe("MatrixFindings", () => {
  it("stores findings under the crashes directory", () => {
    const crashes = join(mkdtempSync(join(tmpdir(), "xmcfuzz-findings-")), "crashes");
    const sink = new MatrixFindings(crashes);
    sink.offer(finding(0));
    expect(readdirSync(crashes)).toHaveLength(1);
    expect(sink.problem()).toBeUndefined();
  });

  it("a crashes directory that cannot be used: no throw, the findings go to a temporary directory the last line names", () => {
    const dir = mkdtempSync(join(tmpdir(), "xmcfuzz-findings-"));
    const crashes = join(dir, "file", "crashes");
    writeFileSync(join(dir, "file"), "not a directory");
    const sink = new MatrixFindings(crashes);
    expect(() => [0, 1, 2].forEach((n) => sink.offer(finding(n)))).not.toThrow();
    const problem = sink.problem()!;
    expect(problem).toMatch(new RegExp(`^${crashes}: cannot use this path for --crashes \\(ENOTDIR on mkdir\\); 3 findings went to (\\S+)$`));
    const elsewhere = / went to (\S+)$/.exec(problem)![1]!;
    expect(existsSync(elsewhere)).toBe(true);
    expect(readdirSync(elsewhere)).toHaveLength(3);
  });
});
