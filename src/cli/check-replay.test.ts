import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadCaseFile } from "../case/load.js";
import { prepare, runOnce } from "../differential.js";
import { NAMED_MODELS } from "../models/named.js";
import { BUILTIN_STRATEGIES } from "../strategies/registry.js";
import { caseFiles, fingerprint } from "./check-replay.js";

// Issue 10, item 3: `xmcfuzz check-replay` (CI runs it on corpus/ after the tests).

const root = join(import.meta.dirname, "..", "..");
const cli = join(root, "dist", "src", "cli", "main.js");
const xmcfuzz = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: "utf8", timeout: 120_000 });

beforeAll(() => {
  if (!existsSync(cli)) throw new Error("dist/ is missing: run `npm run build` before the tests");
});

describe("check-replay", () => {
  it("a corpus case and a sync-directory corpus entry replay identically: exit 0", () => {
    const dir = mkdtempSync(join(tmpdir(), "xmcfuzz-check-"));
    mkdirSync(join(dir, "sync"));
    copyFileSync(join(root, "corpus", "static-call.json"), join(dir, "static-call.json"));
    const kase = JSON.parse(readFileSync(join(root, "corpus", "ftrace-nop5-call.json"), "utf8")) as unknown;
    writeFileSync(join(dir, "sync", "entry.json"), JSON.stringify({ case: kase, bits: [1, 2, 3] }));
    // A --sync-dir campaign keeps each node's stats.json beside its corpus: no case.
    writeFileSync(join(dir, "sync", "stats.json"), JSON.stringify({ execs: 5, history: [] }));
    const r = xmcfuzz("check-replay", dir);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/check-replay: 2 files, 90 recorded runs, all replay identically/);
  }, 120_000);

  it("a truncated file and a run that drifts are named, exit 1", () => {
    const dir = mkdtempSync(join(tmpdir(), "xmcfuzz-check-"));
    const text = readFileSync(join(root, "corpus", "static-call.json"), "utf8");
    writeFileSync(join(dir, "cut.json"), text.slice(0, text.length / 2));
    const doc = JSON.parse(text) as { runs: { decisions: string }[] };
    doc.runs = [{ ...doc.runs[0]!, decisions: `${doc.runs[0]!.decisions} 0/2` }];
    writeFileSync(join(dir, "drift.json"), JSON.stringify(doc));
    const r = xmcfuzz("check-replay", dir);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/cut\.json: does not load: .*not valid JSON/);
    expect(r.stdout).toMatch(/drift\.json runs\[0\]: .*replay drift/);
    expect(r.stdout).toMatch(/2 problems/);
  }, 60_000);

  it("a file holding JSON that is no object (null, a number, an array...) is named as not loading, exit 1", () => {
    const dir = mkdtempSync(join(tmpdir(), "xmcfuzz-check-"));
    const docs = { "null": "null", "number": "5", "string": '"x"', "array": "[]", "boolean": "true", "entry": '{"case":null,"bits":[1]}' };
    for (const [name, text] of Object.entries(docs)) writeFileSync(join(dir, `${name}.json`), text);
    const r = xmcfuzz("check-replay", dir);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toBe("");
    for (const name of Object.keys(docs)) expect(r.stdout).toMatch(new RegExp(`${name}\\.json: does not load: .*case: expected an object, got `));
    expect(r.stdout).toMatch(/6 files, 0 recorded runs, 6 problems/);
  });

  it("a file named is checked whatever its name; paths holding no case file are bad input, never a pass", () => {
    const dir = mkdtempSync(join(tmpdir(), "xmcfuzz-check-"));
    const doc = JSON.parse(readFileSync(join(root, "corpus", "static-call.json"), "utf8")) as { runs: { decisions: string }[] };
    doc.runs = [{ ...doc.runs[0]!, decisions: `${doc.runs[0]!.decisions} 0/2` }];
    writeFileSync(join(dir, "mycase.case"), JSON.stringify(doc));
    const named = xmcfuzz("check-replay", join(dir, "mycase.case"));
    expect(named.status).toBe(1);
    expect(named.stdout).toMatch(/mycase\.case runs\[0\]: .*replay drift/);
    const empty = mkdtempSync(join(tmpdir(), "xmcfuzz-check-"));
    const none = xmcfuzz("check-replay", empty, dir);
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/no case file \(\.json\) to check/);
  });

  it("a recorded run with a seed and no decisions is the random schedule of that seed: replayed, reported and exported as such", () => {
    const dir = mkdtempSync(join(tmpdir(), "xmcfuzz-check-"));
    const doc = JSON.parse(readFileSync(join(root, "corpus", "static-call.json"), "utf8")) as { runs: { seed: number; decisions?: string; expect?: unknown }[] };
    doc.runs = [{ ...doc.runs[0]!, seed: 7, decisions: undefined, expect: undefined }];
    const file = join(dir, "seeded.json");
    writeFileSync(file, JSON.stringify(doc));
    const check = xmcfuzz("check-replay", file);
    expect(check.status, check.stdout + check.stderr).toBe(0);
    const repro = xmcfuzz("repro", file);
    expect([0, 1]).toContain(repro.status);
    expect(repro.stdout + repro.stderr).not.toMatch(/drift/);
    const litmus = xmcfuzz("export", file, "--litmus");
    expect(litmus.stdout).toMatch(/observed \(random schedule, seed 7\)/);
  }, 60_000);

  it("walks each directory once and takes regular .json files only: a link back up, a FIFO and stats.json are no cases", () => {
    const dir = mkdtempSync(join(tmpdir(), "xmcfuzz-check-"));
    mkdirSync(join(dir, "a"));
    copyFileSync(join(root, "corpus", "static-call.json"), join(dir, "a", "static-call.json"));
    symlinkSync("..", join(dir, "a", "up"));
    writeFileSync(join(dir, "a", "stats.json"), "{}");
    expect(spawnSync("mkfifo", [join(dir, "a", "fifo.json")]).status).toBe(0);
    expect(caseFiles([dir])).toEqual([join(dir, "a", "static-call.json")]);
  });

  it("cases holding no recorded run are nothing to gate on: bad input, never a pass", () => {
    const dir = mkdtempSync(join(tmpdir(), "xmcfuzz-check-"));
    const doc = JSON.parse(readFileSync(join(root, "corpus", "static-call.json"), "utf8")) as { runs: unknown[] };
    doc.runs = [];
    writeFileSync(join(dir, "bare.json"), JSON.stringify(doc));
    const r = xmcfuzz("check-replay", dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`xmcfuzz: ${dir}: no recorded run to check\n`);
    const regress = xmcfuzz("regress", dir);
    expect(regress.status).toBe(2);
    expect(regress.stderr).toBe(`xmcfuzz: ${dir}: no recorded run to replay\n`);
  });

  it("a path that does not exist is bad input", () => {
    const r = xmcfuzz("check-replay", join(tmpdir(), "no-such-dir-xmcfuzz"));
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("fingerprints: equal for the same replay, different for another schedule", () => {
    const { kase, soloBudget } = loadCaseFile(join(root, "corpus", "jump-label-nop5-jmp32.json"));
    const run = kase.runs.find((r) => r.strategy === "direct_write" && r.expect?.verdict === "diverges")!;
    const strategy = BUILTIN_STRATEGIES.find((s) => s.name === run.strategy)!;
    const model = NAMED_MODELS.find((m) => m.name === run.model)!;
    const a = fingerprint(runOnce(prepare(kase, soloBudget), { strategy, model, decisions: run.decisions }));
    const b = fingerprint(runOnce(prepare(kase, soloBudget), { strategy, model, decisions: run.decisions }));
    expect(b).toBe(a);
    const other = fingerprint(runOnce(prepare(kase, soloBudget), { strategy, model, seed: 12345 }));
    expect(other).not.toBe(a);
    expect(caseFiles([join(root, "corpus")]).length).toBeGreaterThanOrEqual(11);
  });
});
