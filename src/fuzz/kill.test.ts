import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import seedrandom from "seedrandom";
import { beforeAll, describe, expect, it } from "vitest";
import { parseCase } from "../case/load.js";
import { expectationOf, prepare, runOnce, sameExpectation } from "../differential.js";
import { REPRODUCER_FILE, signatureDirs } from "../files/store.js";
import { NAMED_MODELS } from "../models/named.js";
import { BUILTIN_STRATEGIES } from "../strategies/registry.js";

// Issue 10, item 2: a campaign killed with SIGKILL at random moments, 20 times on the same
// directories. After every kill: each finding file that exists loads, has its report and replays
// to its recorded verdict; each finding the log reported has its file; the restart resumes from
// the corpus. XMCFUZZ_KILL_ROUNDS=100 XMCFUZZ_KILL_MAX_MS=15000 is the long variant.

const root = join(import.meta.dirname, "..", "..");
const cli = join(root, "dist", "src", "cli", "main.js");
const ROUNDS = Number(process.env["XMCFUZZ_KILL_ROUNDS"] ?? 20);
const MAX_MS = Number(process.env["XMCFUZZ_KILL_MAX_MS"] ?? 3000);

beforeAll(() => {
  if (!existsSync(cli)) throw new Error("dist/ is missing: run `npm run build` before the tests");
});

/** Starts a campaign, SIGKILLs it after `ms` (or lets it end), resolves when it is gone. */
function killedCampaign(dir: string, round: number, ms: number): Promise<NodeJS.Signals | number | null> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [cli, "fuzz", "-s", "direct_write", "-s", "int3_nosync", "-s", "text_poke_bp", "-m", "x86-realistic", "-m", "noncoherent-icache",
      "--workers", "2", "--duration", "60s", "--seed", String(round), "--out", dir, "--crashes", join(dir, "crashes"), "--log", join(dir, `fuzz-${round}.log`)],
    { cwd: root, stdio: "ignore" });
    const timer = setTimeout(() => p.kill("SIGKILL"), ms);
    p.on("exit", (code, signal) => {
      clearTimeout(timer);
      resolve(signal ?? code);
    });
  });
}

/** Log lines; only a last line cut short (no newline yet) may be incomplete. */
function logLines(path: string): { msg: string; signature?: string; offer?: string; corpus?: number }[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, "utf8");
  const lines = text.split("\n");
  if (!text.endsWith("\n")) lines.pop();
  return lines.filter((l) => l !== "").map((l) => JSON.parse(l) as { msg: string });
}

describe("SIGKILL at random moments", () => {
  it(`${ROUNDS} kills: findings complete, logged findings on disk, restarts resume`, async () => {
    const dir = mkdtempSync(join(tmpdir(), "xmcfuzz-kill-"));
    const crashes = join(dir, "crashes");
    const corpus = join(dir, "sync", "local", "corpus");
    const rng = seedrandom.alea("kill");
    const replayed = new Set<string>();
    let killed = 0, logged = 0, resumedRounds = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const corpusBefore = existsSync(corpus) ? readdirSync(corpus).filter((n) => n.endsWith(".json")).length : 0;
      const ms = 300 + Math.floor(rng() * MAX_MS);
      if ((await killedCampaign(dir, round, ms)) === "SIGKILL") killed++;
      const log = logLines(join(dir, `fuzz-${round}.log`));
      // The restart resumed from what the previous rounds left.
      const resumed = log.find((l) => l.msg === "resumed");
      if (corpusBefore > 0 && log.some((l) => l.msg === "campaign start")) {
        expect(resumed?.corpus, `round ${round}`).toBeGreaterThanOrEqual(corpusBefore);
        resumedRounds++;
      }
      // Every finding file loads, has its report, and replays to its recorded verdict.
      const stored = new Set<string>();
      for (const sigDir of signatureDirs(crashes)) {
        for (const n of readdirSync(sigDir).filter((x) => REPRODUCER_FILE.test(x))) {
          const path = join(sigDir, n);
          const text = readFileSync(path, "utf8");
          const desc = (JSON.parse(text) as { description: string }).description;
          stored.add(desc.replace(/^(divergence|rule) /, ""));
          const report = join(sigDir, n.replace(/\.json$/, ".txt"));
          expect(existsSync(report) && statSync(report).size > 0, `${path}: report`).toBe(true);
          if (replayed.has(n)) continue;
          replayed.add(n);
          const { kase, soloBudget } = parseCase(JSON.parse(text));
          const run = kase.runs[0]!;
          const strategy = BUILTIN_STRATEGIES.find((s) => s.name === run.strategy)!;
          const model = NAMED_MODELS.find((m) => m.name === run.model)!;
          const o = runOnce(prepare(kase, soloBudget), { strategy, model, decisions: run.decisions ?? [] });
          expect(sameExpectation(run.expect!, expectationOf(o.verdict)), `${path}: replays`).toBe(true);
        }
      }
      // Every finding the log reported before the kill has its file.
      for (const l of log.filter((x) => x.msg === "finding" && (x.offer === "new" || x.offer === "smaller"))) {
        logged++;
        expect(stored.has(l.signature!), `round ${round}: logged ${l.signature} has no file`).toBe(true);
      }
      // Every corpus entry that exists is complete.
      for (const n of existsSync(corpus) ? readdirSync(corpus).filter((x) => x.endsWith(".json")) : []) {
        const entry = JSON.parse(readFileSync(join(corpus, n), "utf8")) as { case: unknown; bits: number[] };
        expect(Array.isArray(entry.bits)).toBe(true);
      }
    }
    console.log(`kill test: ${killed} of ${ROUNDS} rounds killed, ${logged} logged findings checked, ${replayed.size} finding files replayed, ${resumedRounds} restarts resumed`);
    expect(killed).toBeGreaterThanOrEqual(Math.min(ROUNDS, 20));
    expect(logged).toBeGreaterThan(0);
    expect(replayed.size).toBeGreaterThan(0);
    expect(resumedRounds).toBeGreaterThan(ROUNDS / 2);
  }, 600_000);
});
