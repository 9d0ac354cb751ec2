import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import type { Expectation, RegressCheck } from "../types.js";
import { changeLines, compareExpectation } from "./compare.js";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { loadCaseFile } from "../case/load.js";
import { promote, readableName } from "./promote.js";

const clean: Expectation = { verdict: "clean", rules: [] };
const sigA = "direct_write x86-realistic torn-fetch wild-jump nop5->jmp32 write/0";
const divA: Expectation = { verdict: "diverges", signature: sigA, rules: ["unsynchronized-xmc"] };

describe("compareExpectation", () => {
  it("no change when verdict, signature and rules (as a set) agree", () => {
    expect(compareExpectation(clean, { verdict: "clean", rules: [] })).toEqual([]);
    expect(compareExpectation({ ...divA, rules: ["b", "a"] }, { ...divA, rules: ["a", "b"] })).toEqual([]);
  });
  it("names each kind of change", () => {
    expect(compareExpectation(clean, { ...divA, rules: [] })).toEqual(["new-divergence"]);
    expect(compareExpectation(divA, { verdict: "clean", rules: ["unsynchronized-xmc"] })).toEqual(["vanished-divergence"]);
    expect(compareExpectation(divA, { ...divA, signature: sigA.replace("write/0", "write/1") })).toEqual(["changed-signature"]);
    expect(compareExpectation(divA, { ...divA, rules: [] })).toEqual(["changed-rules"]);
    expect(compareExpectation(clean, { verdict: "harness-error", rules: [] })).toEqual(["changed-verdict"]);
    expect(compareExpectation(divA, { verdict: "clean", rules: [] })).toEqual(["vanished-divergence", "changed-rules"]);
    expect(compareExpectation(undefined, clean)).toEqual(["no-expectation"]);
    expect(compareExpectation(divA, { drift: "replay drift at decision 3" })).toEqual(["drift"]);
  });
});

describe("changeLines", () => {
  const base = { file: "corpus/x.json", index: 4, strategy: "direct_write", model: "x86-realistic" };
  it("one self-contained line per change, with what was expected and what happened", () => {
    const c: RegressCheck = { ...base, expected: divA, actual: clean, changes: ["vanished-divergence", "changed-rules"] };
    expect(changeLines(c)).toEqual([
      `corpus/x.json runs[4] direct_write x86-realistic: vanished divergence: expected diverges (${sigA}), now clean`,
      "corpus/x.json runs[4] direct_write x86-realistic: changed rules: expected unsynchronized-xmc, now none",
    ]);
    const n: RegressCheck = { ...base, expected: clean, actual: { ...divA, rules: [] }, changes: ["new-divergence"] };
    expect(changeLines(n)).toEqual([`corpus/x.json runs[4] direct_write x86-realistic: new divergence: expected clean, now diverges (${sigA})`]);
    const d: RegressCheck = { ...base, expected: clean, drift: "replay drift at decision 5 (event): recorded 3 options, run has 4", changes: ["drift"] };
    expect(changeLines(d)[0]).toMatch(/runs\[4\] direct_write x86-realistic: drift: replay drift at decision 5/);
    expect(changeLines({ ...base, expected: clean, actual: clean, changes: [] })).toEqual([]);
  });
});

describe("promotion names", () => {
  it("reads the signature, safe as a file name", () => {
    expect(readableName(sigA)).toBe("direct_write.x86-realistic.torn-fetch.wild-jump.nop5-to-jmp32.write-0");
    expect(readableName("int3_flush noncoherent-icache spurious-int3 hang nop2;nop3->call sync/2")).toBe("int3_flush.noncoherent-icache.spurious-int3.hang.nop2_nop3-to-call.sync-2");
    expect(readableName("a/../../b")).not.toContain("/");
  });
});

describe("promote", () => {
  it("replaces a smaller reproducer of the same finding, never another finding that folds to the same name", () => {
    const dir = mkdtempSync(join(tmpdir(), "xmcfuzz-promote-"));
    const loaded = loadCaseFile(join(import.meta.dirname, "..", "..", "corpus", "jump-label-nop5-jmp32.json")).kase;
    const run = loaded.runs[0]!;
    // As a campaign promotes them: one recorded run each.
    const kase = { ...loaded, runs: [run] };
    const smaller = { ...kase, runs: [{ ...run, decisions: run.decisions!.slice(0, 5) }] };
    // Two kinds that fold to one file name ("a;b" and "a_b" are both "a_b").
    const first = { kind: "divergence" as const, signature: "direct_write sdm-strict torn-fetch wrong-output a;b write/0" };
    const other = { kind: "divergence" as const, signature: "direct_write sdm-strict torn-fetch wrong-output a_b write/0" };
    expect(promote(kase, first, dir, { replace: true }).status).toBe("added");
    expect(promote(smaller, first, dir, { replace: true }).status).toBe("replaced");
    // A larger one (a resumed campaign's first) leaves the smaller in place.
    expect(promote(kase, first, dir, { replace: true }).status).toBe("known");
    const second = promote(kase, other, dir, { replace: true });
    expect(second.status).toBe("added");
    expect(readdirSync(dir).sort()).toEqual(["direct_write.sdm-strict.torn-fetch.wrong-output.a_b.write-0-2.json", "direct_write.sdm-strict.torn-fetch.wrong-output.a_b.write-0.json"]);
    const kept = JSON.parse(readFileSync(join(dir, "direct_write.sdm-strict.torn-fetch.wrong-output.a_b.write-0.json"), "utf8")) as { description: string; runs: { decisions: string }[] };
    expect([kept.description, kept.runs.length, kept.runs[0]!.decisions.split(" ").length]).toEqual([`divergence ${first.signature}`, 1, 5]);
    // Runs added to a promoted file by hand keep it, however small the new reproducer.
    const keptPath = join(dir, "direct_write.sdm-strict.torn-fetch.wrong-output.a_b.write-0.json");
    writeFileSync(keptPath, JSON.stringify({ ...kept, runs: [...kept.runs, kept.runs[0]] }));
    const tiny = { ...kase, runs: [{ ...run, decisions: run.decisions!.slice(0, 2) }] };
    expect(promote(tiny, first, dir, { replace: true }).status).toBe("known");
    expect((JSON.parse(readFileSync(keptPath, "utf8")) as { runs: unknown[] }).runs).toHaveLength(2);
  });

  it("a directory that cannot be made fails at once, never hangs (Node's recursive mkdir spins forever under /proc)", () => {
    // In a child process: a hang in a synchronous mkdir cannot be cut off from inside.
    const root = join(import.meta.dirname, "..", "..");
    const module = (path: string) => JSON.stringify(pathToFileURL(join(root, "dist", "src", path)).href);
    const script = [
      `const { promote } = await import(${module("corpus/promote.js")});`,
      `const { loadCaseFile } = await import(${module("case/load.js")});`,
      `const kase = loadCaseFile(${JSON.stringify(join(root, "corpus", "jump-label-nop5-jmp32.json"))}).kase;`,
      `try { promote(kase, "s", "/proc/xmcfuzz/corpus", { replace: true, source: "test" }); } catch (e) { console.log(e.code); }`,
    ].join("\n");
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 20_000, killSignal: "SIGKILL" });
    expect(r.stdout.trim(), r.stderr).toBe("ENOENT");
  });
});
