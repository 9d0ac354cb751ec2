import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { Case } from "../types.js";
import { loadCaseFile, parseCaseShape } from "../case/load.js";
import { signatureSlug } from "../oracle/classify.js";
import { harnessErrorKind, thinHistory } from "./campaign.js";
import { inScope } from "./scope.js";

// Campaigns as users run them: the built CLI in child processes, on fixed seeds.

const root = join(import.meta.dirname, "..", "..");
const cli = join(root, "dist", "src", "cli", "main.js");
const fresh = () => mkdtempSync(join(tmpdir(), "xmcfuzz-campaign-"));

function fuzz(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [cli, "fuzz", ...args], { cwd: root, encoding: "utf8", timeout: 120_000, env: { ...process.env, ...env } });
}

/** Signature directories with their files, ignoring nothing: a stray lock or temp file fails tests. */
function findings(crashes: string): { dir: string; files: string[] }[] {
  if (!existsSync(crashes)) return [];
  return readdirSync(crashes).map((dir) => ({ dir, files: readdirSync(join(crashes, dir)).sort() }));
}

function logLines(path: string): { msg: string; signature?: string; offer?: string }[] {
  return readFileSync(path, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { msg: string });
}

beforeAll(() => {
  if (!existsSync(cli)) throw new Error("dist/ is missing: run `npm run build` before the tests");
});

describe("fuzz campaigns", () => {
  it("in 15 s on a fixed seed: divergences for direct_write, none (and no rule finding) for stop_machine", () => {
    const dir = fresh();
    const r = fuzz(["-s", "direct_write", "-s", "stop_machine", "--duration", "15s", "--seed", "7", "--out", dir, "--crashes", join(dir, "crashes"), "--json"]);
    expect(r.status).toBe(0);
    type Cell = { strategy: string; model: string; divergences: number; ruleFindings: number };
    const stats = JSON.parse(r.stdout) as { execs: number; signatures: number; divergences: number; ruleFindings: number; cells: Cell[] };
    expect(stats.execs).toBeGreaterThan(100);
    // The run's new signatures per cell: all ten cells, stop_machine's empty, summing to the totals.
    expect(stats.cells).toHaveLength(10);
    expect(stats.cells.filter((c) => c.strategy === "stop_machine").every((c) => c.divergences + c.ruleFindings === 0)).toBe(true);
    expect(stats.cells.reduce((a, c) => a + c.divergences, 0)).toBe(stats.divergences);
    expect(stats.cells.reduce((a, c) => a + c.ruleFindings, 0)).toBe(stats.ruleFindings);
    const dirs = findings(join(dir, "crashes")).map((f) => f.dir);
    expect(dirs.some((d) => d.startsWith("direct_write_"))).toBe(true);
    expect(dirs.filter((d) => d.includes("stop_machine"))).toEqual([]);
    // Every finding directory holds exactly one reproducer and its report.
    for (const f of findings(join(dir, "crashes"))) {
      expect(f.files).toHaveLength(2);
      expect(f.files[0]!.replace(/\.json$/, "")).toBe(f.files[1]!.replace(/\.txt$/, ""));
    }
    const saved = JSON.parse(readFileSync(join(dir, "stats.json"), "utf8")) as { history: unknown[]; cells: Cell[] };
    expect(saved.history.length).toBeGreaterThan(1);
    expect(saved.cells).toEqual(stats.cells);
    // Stderr names the first divergence of each (strategy, model, cause), not every signature.
    const named = r.stderr.split("\n").filter((l) => l.startsWith("new divergence: ")).map((l) => l.split(" ").slice(2, 5).join(" "));
    expect(named.length).toBeGreaterThan(0);
    expect(new Set(named).size).toBe(named.length);
    expect(named.length).toBeLessThan(stats.divergences);
  }, 60_000);

  it("within a scope, every worker keeps its corpus and findings to the slot kinds and per-site ops asked for", () => {
    const dir = fresh();
    const kinds = ["nop5->jmp32", "call->call", "rewrite"];
    const r = fuzz(["-s", "direct_write", "-s", "text_poke_bp", "-m", "sdm-strict", ...kinds.flatMap((k) => ["--slot-kind", k]), "--no-atomic-batches",
      "--workers", "2", "--max-execs", "4000", "--no-minimize", "--out", dir, "--crashes", join(dir, "crashes"), "--json"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr.split("\n")[0]).toBe("generated cases: slot kinds nop5->jmp32, call->call, rewrite; per-site ops only");
    const within = (k: Case) => k.program.slots.every((s) => kinds.includes(s.kind.replace(/^rewrite\d+$/, "rewrite"))) && k.ops.every((o) => o.batch === "per-site");
    const corpus = join(dir, "sync", "local", "corpus");
    const entries = readdirSync(corpus).map((f) => join(corpus, f));
    expect(entries.length).toBeGreaterThan(10);
    // Corpus entries are a case beside its coverage bits.
    for (const f of entries) expect(within(parseCaseShape((JSON.parse(readFileSync(f, "utf8")) as { case: unknown }).case)), f).toBe(true);
    const reproducers = findings(join(dir, "crashes")).map((f) => join(dir, "crashes", f.dir, f.files[0]!));
    expect(reproducers.length).toBeGreaterThan(0);
    for (const f of reproducers) expect(within(loadCaseFile(f).kase), f).toBe(true);
  }, 60_000);

  it("within a scope, another node's entries outside it are not taken in: neither passed on nor counted as coverage", () => {
    const sync = fresh();
    const wide = fuzz(["-s", "direct_write", "-m", "sdm-strict", "--max-execs", "1500", "--no-minimize", "--sync-dir", sync, "--node", "wide", "--out", join(sync, "out-wide")]);
    expect(wide.status, wide.stderr).toBe(0);
    const scope = { slotKinds: ["call->call", "nop5->jmp32"] };
    const narrow = fuzz(["-s", "direct_write", "-m", "sdm-strict", "--slot-kind", "call->call", "--slot-kind", "nop5->jmp32", "--duration", "4s", "--no-minimize",
      "--sync-dir", sync, "--node", "narrow", "--out", join(sync, "out-narrow"), "--json"]);
    expect(narrow.status, narrow.stderr).toBe(0);
    const entries = (node: string) => readdirSync(join(sync, node, "corpus")).map((f) =>
      JSON.parse(readFileSync(join(sync, node, "corpus", f), "utf8")) as { case: unknown; bits: number[] });
    const within = (e: { case: unknown }) => inScope(parseCaseShape(e.case), scope);
    const wideEntries = entries("wide");
    expect(wideEntries.filter((e) => !within(e)).length).toBeGreaterThan(20);
    // The narrow node's coverage is its own entries' bits and the wide node's entries within its scope, nothing else.
    const union = (es: { bits: number[] }[]) => new Set(es.flatMap((e) => e.bits));
    const expected = union([...wideEntries.filter(within), ...entries("narrow")]);
    const stats = JSON.parse(narrow.stdout) as { coverageBits: number };
    expect(stats.coverageBits).toBe(expected.size);
    expect(union(wideEntries).size).toBeGreaterThan(expected.size);
  }, 60_000);

  it("with --sync-dir and no --out, a process writes its stats and log in its node's directory there", () => {
    const sync = fresh();
    const r = fuzz(["-s", "direct_write", "-m", "sdm-strict", "--max-execs", "50", "--no-minimize", "--workers", "1", "--sync-dir", sync, "--node", "n1"]);
    expect(r.status, r.stderr).toBe(0);
    expect((JSON.parse(readFileSync(join(sync, "n1", "stats.json"), "utf8")) as { execs: number }).execs).toBe(50);
    expect(existsSync(join(sync, "n1", "fuzz.log"))).toBe(true);
  }, 60_000);

  it("nodes sharing a sync directory without --seed draw different cases (the node's name is mixed into the seed)", () => {
    const sync = fresh();
    for (const node of ["m1", "m2"]) expect(fuzz(["-s", "direct_write", "-m", "sdm-strict", "--max-execs", "200", "--no-minimize", "--workers", "1", "--sync-dir", sync, "--node", node]).status).toBe(0);
    const seeds = ["m1", "m2"].map((n) => (JSON.parse(readFileSync(join(sync, n, "stats.json"), "utf8")) as { seed: string }).seed);
    expect(seeds).toEqual(["1:m1", "1:m2"]);
    const m1 = new Set(readdirSync(join(sync, "m1", "corpus")));
    expect(readdirSync(join(sync, "m2", "corpus")).filter((f) => m1.has(f))).toEqual([]);
  }, 60_000);

  it("a second process under a node name in use is bad input; once the first has stopped, the name is free", async () => {
    const sync = fresh();
    const args = ["-s", "direct_write", "-m", "sdm-strict", "--no-minimize", "--workers", "1", "--sync-dir", sync, "--node", "same"];
    const first = spawn(process.execPath, [cli, "fuzz", ...args, "--duration", "6s"], { cwd: root, stdio: "ignore" });
    const firstExit = new Promise<number | null>((r) => first.once("exit", r));
    for (let i = 0; i < 200 && !existsSync(join(sync, "same", "owner")); i++) await new Promise((r) => setTimeout(r, 50));
    const second = fuzz([...args, "--max-execs", "50"]);
    expect(second.status).toBe(2);
    expect(second.stderr).toMatch(new RegExp(`^xmcfuzz: --node same: ${join(sync, "same")} is in use by process \\S+ ${first.pid} \\(a campaign still running there\\); give each process its own --node\\n$`));
    expect(await firstExit).toBe(0);
    expect(existsSync(join(sync, "same", "owner"))).toBe(false);
    expect(fuzz([...args, "--max-execs", "50"]).status).toBe(0);
  }, 60_000);

  it("two campaigns on different corpora but one --out: the second is bad input (they shared its stats.json and log)", async () => {
    const dir = fresh(), out = join(dir, "out");
    const args = (corpus: string) => ["-s", "direct_write", "-m", "sdm-strict", "--no-minimize", "--workers", "1", "--corpus", join(dir, corpus), "--out", out];
    const first = spawn(process.execPath, [cli, "fuzz", ...args("A"), "--duration", "6s"], { cwd: root, stdio: "ignore" });
    const firstExit = new Promise<number | null>((r) => first.once("exit", r));
    for (let i = 0; i < 200 && !existsSync(join(out, "owner")); i++) await new Promise((r) => setTimeout(r, 50));
    const second = fuzz([...args("B"), "--max-execs", "50"]);
    expect(second.status).toBe(2);
    expect(second.stderr).toMatch(new RegExp(`^xmcfuzz: --out ${out}: in use by process \\S+ ${first.pid} \\(a campaign still running there\\); give each campaign its own --out\\n$`));
    expect(await firstExit).toBe(0);
    expect(existsSync(join(out, "owner"))).toBe(false);
    // B never ran: no node directory of its own was left claimed either.
    expect(existsSync(join(dir, "B", "local", "owner"))).toBe(false);
  }, 60_000);

  it("--corpus (one machine's sync directory) resumes too: its node keeps one name", () => {
    const dir = fresh();
    const args = ["-s", "direct_write", "-m", "sdm-strict", "--max-execs", "200", "--no-minimize", "--workers", "1", "--corpus", join(dir, "corpus"), "--out", join(dir, "out")];
    expect(fuzz(args).status).toBe(0);
    expect(fuzz(args).status).toBe(0);
    expect(readdirSync(join(dir, "corpus")).filter((d) => d !== "crashes")).toEqual(["local"]);
    const resumed = (logLines(join(dir, "out", "fuzz.log")) as { msg: string; corpus?: number }[]).find((l) => l.msg === "resumed");
    expect(resumed?.corpus).toBeGreaterThan(0);
  }, 60_000);

  it("a second start on the same directories resumes: corpus, signatures, and a stats history that goes on", () => {
    const dir = fresh();
    const args = ["-s", "direct_write", "-m", "sdm-strict", "--max-execs", "300", "--no-minimize", "--out", dir, "--crashes", join(dir, "crashes"), "--json"];
    type Point = { t: number; execs: number; events: number; corpus: number; coverageBits: number; cpuMs: number; fuzzMs: number; minimizeMs: number };
    type Stats = { seed: string; signatures: number; divergences: number; ruleFindings: number; events: number; execs: number; corpus: number; coverageBits: number; history: Point[] };
    const first = fuzz(args);
    expect(first.status, first.stderr).toBe(0);
    const before = JSON.parse(readFileSync(join(dir, "stats.json"), "utf8")) as Stats;
    const second = fuzz(args);
    expect(second.status, second.stderr).toBe(0);
    const after = JSON.parse(readFileSync(join(dir, "stats.json"), "utf8")) as Stats;
    const log = logLines(join(dir, "fuzz.log"));
    const resumedAt = log.findIndex((l) => l.msg === "resumed");
    expect(resumedAt).toBeGreaterThan(0);
    expect(after.signatures).toBeGreaterThanOrEqual(before.signatures);
    // Its split counts the stored signatures too (it counted this session's new ones only).
    expect(after.divergences + after.ruleFindings).toBe(after.signatures);
    // Its workers draw from the seed and the execs before it, not the first session's fresh cases again.
    expect([before.seed, after.seed]).toEqual(["1", `1@${before.execs}`]);
    // The resumed corpus counts, and its bits: neither falls back to this session's own.
    expect(before.corpus).toBeGreaterThan(0);
    expect(after.corpus).toBeGreaterThanOrEqual(before.corpus);
    expect(after.coverageBits).toBeGreaterThanOrEqual(before.coverageBits);
    expect(after.history.at(-1)).toMatchObject({ corpus: after.corpus, coverageBits: after.coverageBits });
    // The workers are told the stored signatures: none is confirmed, reported and stored again.
    const stored = new Set(log.slice(0, resumedAt).filter((l) => l.msg === "finding").map((l) => l.signature));
    expect(stored.size).toBeGreaterThan(0);
    expect(log.slice(resumedAt).filter((l) => l.msg === "finding" && stored.has(l.signature)).map((l) => l.signature)).toEqual([]);
    // The earlier session's points are kept, and the new ones continue its time and exec axes.
    expect(after.history.slice(0, before.history.length)).toEqual(before.history);
    const fresh2 = after.history.slice(before.history.length);
    expect(fresh2.length).toBeGreaterThan(0);
    expect(fresh2[0]!.t).toBeGreaterThanOrEqual(before.history.at(-1)!.t);
    expect(after.history.at(-1)!.execs).toBeGreaterThanOrEqual(before.history.at(-1)!.execs + 300);
    // Every run emulates at least one scheduler event; the history's event axis goes on too.
    expect(before.events).toBeGreaterThanOrEqual(before.execs);
    expect(after.history.at(-1)!.events).toBeGreaterThanOrEqual(before.history.at(-1)!.events + after.execs);
    // So do its CPU and time axes (they fell back to the new session's own).
    for (const axis of ["cpuMs", "fuzzMs", "minimizeMs"] as const) {
      for (let i = 1; i < after.history.length; i++) expect(after.history[i]![axis], `${axis} at point ${i}`).toBeGreaterThanOrEqual(after.history[i - 1]![axis]);
    }
    expect(after.history.at(-1)!.fuzzMs).toBeGreaterThan(before.history.at(-1)!.fuzzMs);
  }, 60_000);

  it("a node of a directory hub that stops posts its final exec count, saying it left", () => {
    const dir = fresh();
    const r = fuzz(["-s", "direct_write", "-m", "sdm-strict", "--duration", "3s", "--no-minimize", "--hub", join(dir, "hub"), "--node", "n1", "--out", join(dir, "c"), "--crashes", join(dir, "c", "crashes"), "--json"]);
    expect(r.status, r.stderr).toBe(0);
    const board = JSON.parse(readFileSync(join(dir, "hub", "board", "n1.json"), "utf8")) as { execs: number; left?: boolean };
    // Posted once the workers' last stats were in (it was posted before and fell short by hundreds).
    expect(board).toMatchObject({ left: true, execs: (JSON.parse(r.stdout) as { execs: number }).execs });
  }, 60_000);

  it("without feedback, the coverage its runs set is counted, though none is kept as corpus", () => {
    const dir = fresh();
    const r = fuzz(["-s", "direct_write", "-m", "sdm-strict", "--max-execs", "300", "--no-feedback", "--no-minimize", "--out", dir, "--crashes", join(dir, "crashes"), "--json"]);
    expect(r.status, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as { corpus: number; coverageBits: number };
    expect(s.corpus).toBe(0);
    expect(s.coverageBits).toBeGreaterThan(10);
  }, 60_000);

  it("--promote to a path that cannot be used: one line, exit 2, before any work (it hung at the first finding)", () => {
    const dir = fresh();
    for (const [promote, code] of [["/proc/xmcfuzz/corpus", "ENOENT"], ["/dev/null/corpus", "ENOTDIR"]] as const) {
      const r = spawnSync(process.execPath, [cli, "fuzz", "-s", "direct_write", "-m", "sdm-strict", "--max-execs", "3000", "--no-minimize", "--promote", promote, "--out", dir, "--crashes", join(dir, "crashes")],
        { cwd: root, encoding: "utf8", timeout: 30_000, killSignal: "SIGKILL" });
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toBe(`xmcfuzz: ${promote}: cannot use this path for --promote (${code})\n`);
    }
    expect(findings(join(dir, "crashes"))).toEqual([]);
  });

  it("--max-execs N runs N execs, however many workers share them (it overshot by a batch per worker: 38 for 1)", () => {
    for (const [n, workers] of [[1, 2], [1, 1], [700, 2]] as const) {
      const dir = fresh();
      const r = fuzz(["-s", "direct_write", "-m", "sdm-strict", "--max-execs", String(n), "--workers", String(workers), "--out", dir, "--crashes", join(dir, "crashes"), "--json"]);
      expect(r.status, r.stderr).toBe(0);
      expect((JSON.parse(r.stdout) as { execs: number }).execs, `--max-execs ${n} --workers ${workers}`).toBe(n);
    }
  });

  it("a worker that dies mid-run loses no finding, and the campaign goes on", () => {
    const dir = fresh();
    const r = fuzz(["--workers", "2", "--duration", "12s", "--seed", "3", "--out", dir, "--crashes", join(dir, "crashes"), "--json", "--no-minimize"], { XMCFUZZ_TEST_WORKER_DIES_MS: "3000" });
    expect(r.status).toBe(0);
    const stats = JSON.parse(r.stdout) as { workerRestarts: number; signatures: number };
    expect(stats.workerRestarts).toBeGreaterThanOrEqual(1);
    const log = logLines(join(dir, "fuzz.log"));
    expect(log.some((l) => l.msg === "worker died; restarting")).toBe(true);
    const logged = new Set(log.filter((l) => l.msg === "finding" && l.offer === "new").map((l) => l.signature));
    expect(logged.size).toBeGreaterThan(0);
    expect(logged.size).toBe(stats.signatures);
    // Every finding the log reported has its file.
    const stored = new Set(findings(join(dir, "crashes")).flatMap((f) => f.files.filter((n) => n.endsWith(".json")).map((n) => {
      const desc = (JSON.parse(readFileSync(join(dir, "crashes", f.dir, n), "utf8")) as { description: string }).description;
      return desc.replace(/^(divergence|rule) /, "");
    })));
    for (const s of logged) expect(stored.has(s!), s).toBe(true);
  }, 60_000);

  it("a strategy that never yields is cut off by the watchdog, reported as a harness error, and the campaign goes on", () => {
    const dir = fresh();
    const plugin = join(dir, "spin.mjs");
    writeFileSync(plugin, "export const strategy = { name: 'spinner', *patch(ctx) { yield* ctx.store('x', 1); for (;;) {} } };");
    const r = fuzz(["-s", plugin, "-s", "direct_write", "--duration", "12s", "--stall-timeout", "2s", "--out", dir, "--crashes", join(dir, "crashes"), "--json"]);
    expect(r.status).toBe(0);
    const stats = JSON.parse(r.stdout) as { harnessErrors: number; workerRestarts: number; execs: number };
    expect(stats.harnessErrors).toBeGreaterThanOrEqual(1);
    expect(stats.workerRestarts).toBeGreaterThanOrEqual(1);
    const errors = logLines(join(dir, "fuzz.log")).filter((l) => l.msg === "harness error") as unknown as { strategy: string; error: string }[];
    expect(errors.some((e) => e.strategy === "spinner" && /no progress/.test(e.error))).toBe(true);
    // Never a divergence of the spinning strategy.
    expect(findings(join(dir, "crashes")).filter((f) => f.dir.startsWith("spinner"))).toEqual([]);
  }, 60_000);

  it("a finding whose minimization never returns stalls one worker once: it keeps its raw reproducer and is not handed on", () => {
    const dir = fresh();
    const plugin = join(dir, "minhang.mjs");
    // A direct write that spins only while minimizing cases with a nop2->jmp8 slot.
    writeFileSync(plugin, [
      "export const strategy = { name: 'min_hang', *patch(ctx, slots) {",
      "  if (slots.some((s) => s.kind === 'nop2->jmp8') && (new Error().stack ?? '').includes('minimizeFinding')) for (;;) {}",
      "  for (const s of slots) yield* ctx.write(s.start, s.to);",
      "} };"].join("\n"));
    const r = fuzz(["-s", plugin, "-m", "x86-realistic", "--workers", "1", "--duration", "12s", "--stall-timeout", "1s", "--out", dir, "--crashes", join(dir, "crashes"), "--json"]);
    expect(r.status, r.stderr).toBe(0);
    const stats = JSON.parse(r.stdout) as { workerRestarts: number };
    const abandoned = (logLines(join(dir, "fuzz.log")) as { msg: string; signature?: string }[]).filter((l) => l.msg.startsWith("worker died minimizing")).map((l) => l.signature);
    expect(stats.workerRestarts).toBeGreaterThanOrEqual(1);
    // One stall per such finding, never the same finding twice; each keeps its raw reproducer.
    expect(abandoned.length).toBe(stats.workerRestarts);
    expect(new Set(abandoned).size).toBe(abandoned.length);
    const stored = new Set(findings(join(dir, "crashes")).map((f) => f.dir));
    for (const sig of abandoned) expect(stored.has(signatureSlug(sig!)), sig).toBe(true);
  }, 60_000);

  it("two processes sharing a sync directory end with one file per signature", async () => {
    const sync = fresh();
    const run = (node: string, seed: string) => new Promise<number>((resolve) => {
      const p = spawn(process.execPath, [cli, "fuzz", "-s", "direct_write", "-s", "int3_nosync", "--duration", "10s", "--seed", seed, "--sync-dir", sync, "--node", node, "--out", join(sync, `out-${node}`)], { cwd: root, stdio: "ignore" });
      p.on("exit", (code) => resolve(code ?? -1));
    });
    expect(await Promise.all([run("a", "1"), run("b", "2")])).toEqual([0, 0]);
    const all = findings(join(sync, "crashes"));
    expect(all.length).toBeGreaterThan(0);
    for (const f of all) {
      expect(f.files.filter((n) => n.endsWith(".json")), f.dir).toHaveLength(1);
      expect(f.files.filter((n) => n.endsWith(".txt")), f.dir).toHaveLength(1);
      expect(f.files.filter((n) => n.includes(".lock") || n.includes(".tmp")), f.dir).toEqual([]);
    }
    // Both nodes published corpus entries into their own subdirectory of the sync directory.
    expect(readdirSync(join(sync, "a", "corpus")).length).toBeGreaterThan(0);
    expect(readdirSync(join(sync, "b", "corpus")).length).toBeGreaterThan(0);
  }, 60_000);
});

describe("fuzz: options that make no campaign", () => {
  it("--duration 0 and --corpus with --sync-dir are bad input: one line, exit 2, nothing written", () => {
    const dir = fresh();
    for (const [args, message] of [
      [["--duration", "0"], 'xmcfuzz: --duration: expected a duration above 0, got "0"'],
      [["--corpus", join(dir, "c"), "--sync-dir", join(dir, "s")], "xmcfuzz: --corpus and --sync-dir: choose one (--corpus is one machine's sync directory)"],
    ] as [string[], string][]) {
      const r = fuzz([...args, "--out", join(dir, "out")]);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toBe(`${message}\n`);
    }
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe("signals", () => {
  /** A 60 s campaign in `dir`, signalled (`signals`, 20 ms apart) once its workers have found something. */
  async function signalled(dir: string, signals: NodeJS.Signals[]): Promise<number | null> {
    const p = spawn(process.execPath, [cli, "fuzz", "-s", "direct_write", "-m", "x86-realistic", "--workers", "2", "--duration", "60s", "--out", dir], { cwd: root, stdio: "ignore" });
    const exit = new Promise<number | null>((r) => p.once("exit", r));
    for (let i = 0; i < 400 && !existsSync(join(dir, "stats.json")); i++) await new Promise((r) => setTimeout(r, 50));
    for (const s of signals) {
      p.kill(s);
      await new Promise((r) => setTimeout(r, 20));
    }
    return exit;
  }
  const statsOf = (dir: string) => JSON.parse(readFileSync(join(dir, "stats.json"), "utf8")) as { elapsedMs: number; execs: number };

  it("SIGTERM (or SIGINT) stops cleanly: exit 0, the end line logged, stats.json final, the claims given back", async () => {
    const dir = fresh();
    expect(await signalled(dir, ["SIGTERM"])).toBe(0);
    const log = logLines(join(dir, "fuzz.log"));
    expect(log.at(-1)!.msg).toBe("campaign end");
    expect(statsOf(dir).execs).toBe((log.at(-1) as unknown as { execs: number }).execs);
    expect(existsSync(join(dir, "owner")) || existsSync(join(dir, "sync", "local", "owner"))).toBe(false);
  }, 60_000);

  it("a second SIGINT during the stop quits at once (exit 130), with stats.json and the log written and the claims given back", async () => {
    const dir = fresh();
    expect(await signalled(dir, ["SIGINT", "SIGINT"])).toBe(130);
    const last = logLines(join(dir, "fuzz.log")).at(-1) as unknown as { msg: string; elapsedMs: number };
    expect(last.msg).toBe("second signal: quit without waiting for the workers");
    // Written at the second signal, not 5 s before (its periodic write).
    expect(Math.abs(statsOf(dir).elapsedMs - last.elapsedMs)).toBeLessThan(100);
    expect(existsSync(join(dir, "owner")) || existsSync(join(dir, "sync", "local", "owner"))).toBe(false);
  }, 60_000);
});

describe("stats history", () => {
  it("is thinned past its bound: first point, newest quarter at full resolution, whole span kept", () => {
    let h = Array.from({ length: 2000 }, (_, i) => i);
    expect(thinHistory(h)).toBe(h);
    for (let i = 2000; i < 10_000; i++) h = thinHistory([...h, i]);
    expect(h.length).toBeLessThanOrEqual(2000);
    expect(h[0]).toBe(0);
    expect(h.slice(-500)).toEqual(Array.from({ length: 500 }, (_, i) => 9500 + i));
    for (let i = 1; i < h.length; i++) expect(h[i]!).toBeGreaterThan(h[i - 1]!);
  });
});

describe("harness errors told apart on stderr", () => {
  it("by their words: errors that differ only in decimal or hex numbers are one", () => {
    expect(harnessErrorKind("boom at 0x1050 (decision 12)")).toBe(harnessErrorKind("boom at 0x106E (decision 3)"));
    expect(harnessErrorKind("boom at 0x106e")).toBe("boom at #");
    expect(harnessErrorKind("boom at 0x106e")).not.toBe(harnessErrorKind("bang at 0x106e"));
  });
});
