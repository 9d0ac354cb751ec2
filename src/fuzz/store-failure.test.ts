import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadCaseFile, parseCase } from "../case/load.js";
import { REPRODUCER_FILE, signatureDirs } from "../files/store.js";
import { UNSTORED_DIR } from "./campaign.js";

// A crashes directory that becomes unusable mid-run (moved away, a file in its place): the
// campaign stops with one line and exit 2, writes its stats, and loses no finding.

const root = join(import.meta.dirname, "..", "..");
const cli = join(root, "dist", "src", "cli", "main.js");

beforeAll(() => {
  if (!existsSync(cli)) throw new Error("dist/ is missing: run `npm run build` before the tests");
});

interface LogLine { msg: string; signature?: string; case?: unknown }

/** Runs a campaign; once its first finding is on disk, swaps its crashes directory for a file. */
function campaignLosingCrashes(dir: string): Promise<{ status: number | null; stderr: string }> {
  const crashes = join(dir, "crashes");
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [cli, "fuzz", "-s", "direct_write", "-s", "int3_nosync", "-m", "x86-realistic", "-m", "noncoherent-icache",
      "--workers", "1", "--duration", "60s", "--seed", "5", "--out", dir, "--crashes", crashes], { cwd: root, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const poll = setInterval(() => {
      if (signatureDirs(crashes).length === 0) return;
      clearInterval(poll);
      renameSync(crashes, join(dir, "crashes.old"));
      writeFileSync(crashes, "x\n");
    }, 20);
    p.on("exit", (status) => {
      clearInterval(poll);
      resolve({ status, stderr });
    });
  });
}

/** Signatures with a reproducer file under a crashes-style directory. */
function storedSignatures(crashes: string): Set<string> {
  const out = new Set<string>();
  for (const d of signatureDirs(crashes)) {
    for (const n of readdirSync(d).filter((x) => REPRODUCER_FILE.test(x))) {
      const path = join(d, n);
      loadCaseFile(path);
      out.add((JSON.parse(readFileSync(path, "utf8")) as { description: string }).description.replace(/^(divergence|rule) /, ""));
    }
  }
  return out;
}

function expectStoppedCleanly(dir: string, r: { status: number | null; stderr: string }, kept: RegExp): LogLine[] {
  expect(r.status, r.stderr).toBe(2);
  expect(r.stderr).not.toMatch(/\n\s+at |internal error/);
  const errors = r.stderr.split("\n").filter((l) => l.startsWith("xmcfuzz: "));
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatch(new RegExp(`^xmcfuzz: ${join(dir, "crashes")}: cannot use this path \\((ENOTDIR|ENOENT) on \\w+\\); the campaign stopped; ${kept.source}$`));
  const stats = JSON.parse(readFileSync(join(dir, "stats.json"), "utf8")) as { elapsedMs: number; signatures: number };
  expect(stats.elapsedMs).toBeLessThan(50_000);
  const log = readFileSync(join(dir, "fuzz.log"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as LogLine);
  expect(log.at(-1)!.msg).toBe("campaign end");
  return log;
}

describe("a crashes directory that becomes unusable mid-run", () => {
  it("stops the campaign: exit 2, one line, stats written, later findings under --out", async () => {
    const dir = mkdtempSync(join(tmpdir(), "xmcfuzz-store-"));
    const r = await campaignLosingCrashes(dir);
    const log = expectStoppedCleanly(dir, r, /\d+ findings it could not take went to .*unstored-crashes/);
    const stored = new Set([...storedSignatures(join(dir, "crashes.old")), ...storedSignatures(join(dir, UNSTORED_DIR))]);
    expect(signatureDirs(join(dir, UNSTORED_DIR)).length).toBeGreaterThan(0);
    for (const l of log.filter((x) => x.msg === "finding")) expect(stored.has(l.signature!), l.signature).toBe(true);
  }, 120_000);

  it("with --out unusable for them too, the findings it could not store are in the log whole", async () => {
    const dir = mkdtempSync(join(tmpdir(), "xmcfuzz-store-"));
    writeFileSync(join(dir, UNSTORED_DIR), "in the way\n");
    const r = await campaignLosingCrashes(dir);
    const log = expectStoppedCleanly(dir, r, /\d+ findings are only in .*fuzz\.log \(their cases whole\)/);
    const inLog = log.filter((l) => l.msg === "finding not stored; its case is here");
    expect(inLog.length).toBeGreaterThan(0);
    for (const l of inLog) parseCase(l.case);
    const stored = new Set([...storedSignatures(join(dir, "crashes.old")), ...inLog.map((l) => l.signature!)]);
    for (const l of log.filter((x) => x.msg === "finding")) expect(stored.has(l.signature!), l.signature).toBe(true);
  }, 120_000);
});
