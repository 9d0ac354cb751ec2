import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import seedrandom from "seedrandom";
import { beforeAll, describe, expect, it } from "vitest";
import { loadCaseFile } from "../case/load.js";
import { prepare, runOnce } from "../differential.js";
import { caseFromBytes } from "../fuzz/bytes.js";
import { BUILTIN_STRATEGIES } from "../strategies/registry.js";

// `xmcfuzz from-bytes`: a jsfuzz crash buffer becomes a case file that replays the run the jsfuzz
// target flagged.

const root = join(import.meta.dirname, "..", "..");
const cli = join(root, "dist", "src", "cli", "main.js");
const xmcfuzz = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: "utf8", timeout: 120_000 });

beforeAll(() => {
  if (!existsSync(cli)) throw new Error("dist/ is missing: run `npm run build` before the tests");
});

/** The jsfuzz target's run of a buffer (harness/jsfuzz-target.cjs does the same). */
function targetRun(bytes: Uint8Array) {
  const { kase, soloBudget, strategy, model, seed } = caseFromBytes(bytes);
  return runOnce(prepare(kase, soloBudget), { strategy, model, seed });
}

/** A buffer whose run diverges: direct_write's byte, the rest random until one does. */
function divergentBuffer(): Uint8Array {
  const rng = seedrandom.alea("from-bytes");
  const strategyByte = BUILTIN_STRATEGIES.findIndex((s) => s.name === "direct_write");
  for (let tries = 0; tries < 500; tries++) {
    const bytes = Uint8Array.from({ length: 300 }, () => Math.floor(rng() * 256));
    bytes[0] = strategyByte;
    if (targetRun(bytes).verdict.kind === "diverges") return bytes;
  }
  throw new Error("no divergent buffer in 500 tries");
}

describe("from-bytes", () => {
  it("writes a case whose recorded run replays the target's divergence: repro and check-replay agree, exit 1", () => {
    const dir = mkdtempSync(join(tmpdir(), "xmcfuzz-bytes-"));
    const bytes = divergentBuffer();
    const expected = targetRun(bytes).verdict;
    writeFileSync(join(dir, "crash-abc"), bytes);
    const made = xmcfuzz("from-bytes", join(dir, "crash-abc"), "-o", join(dir, "crash.json"), "--json");
    expect(made.status, made.stderr).toBe(1);
    expect(JSON.parse(made.stdout)).toMatchObject({ strategy: "direct_write", verdict: "diverges", signature: expected.signature });
    const kase = loadCaseFile(join(dir, "crash.json")).kase;
    expect(kase.runs).toHaveLength(1);
    expect(kase.runs[0]!.expect?.signature).toBe(expected.signature);
    const repro = xmcfuzz("repro", join(dir, "crash.json"), "--json");
    expect(repro.status).toBe(1);
    expect((JSON.parse(repro.stdout) as { signature: string }[])[0]!.signature).toBe(expected.signature);
    expect(xmcfuzz("check-replay", join(dir, "crash.json")).status).toBe(0);
  }, 120_000);

  it("a file that cannot be read is one line, exit 2, and nothing is written", () => {
    const dir = mkdtempSync(join(tmpdir(), "xmcfuzz-bytes-"));
    const r = xmcfuzz("from-bytes", join(dir, "missing"), "-o", join(dir, "out.json"));
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("no such file");
    expect(existsSync(join(dir, "out.json"))).toBe(false);
    // A device would be read forever: refused wherever a file is read, case, model or buffer.
    const device = xmcfuzz("from-bytes", "/dev/zero", "-o", join(dir, "out.json"));
    expect(device.status).toBe(2);
    expect(device.stderr).toBe("xmcfuzz: /dev/zero: cannot read (a device, not a file)\n");
    const asCase = xmcfuzz("run", "/dev/zero", "-s", "stop_machine");
    expect([asCase.status, asCase.stderr]).toEqual([2, "xmcfuzz: /dev/zero: cannot read file (a device, not a file)\n"]);
    const asModel = xmcfuzz("run", "corpus/static-call.json", "-s", "stop_machine", "-m", "/dev/zero");
    expect([asModel.status, asModel.stderr]).toEqual([2, "xmcfuzz: /dev/zero: cannot read (a device, not a file)\n"]);
    // A pipe is finite: `run /dev/stdin` with the case piped in works.
    // (Through sh: Node's own stdin pipe is a socket, which /dev/stdin cannot open.)
    const piped = spawnSync("sh", ["-c", `cat corpus/static-call.json | "${process.execPath}" "${cli}" run /dev/stdin -s stop_machine -m sdm-strict --schedules 2 >/dev/null`], { cwd: root, encoding: "utf8" });
    expect([piped.status, piped.stderr]).toEqual([0, ""]);
  });
});
