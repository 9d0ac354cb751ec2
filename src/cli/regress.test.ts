import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadCaseFile } from "../case/load.js";
import { caseToJson } from "../case/save.js";
import { readableName } from "../corpus/promote.js";
import { CLI as cli, ROOT as root, runCli } from "../testing/cli.js";

// `regress`, `corpus add` and `fuzz --promote` as users run them: the built CLI on copies of the corpus.

const corpus = join(root, "corpus");
const fresh = () => mkdtempSync(join(tmpdir(), "xmcfuzz-regress-"));

const xmcfuzz = (...args: string[]) => runCli(args, 120_000);

interface RawRun { strategy: string; model: string; decisions?: string; expect: { verdict: string; signature?: string; rules: string[] } }
const readRaw = (path: string) => JSON.parse(readFileSync(path, "utf8")) as { runs: RawRun[] };
const writeRaw = (path: string, raw: unknown) => writeFileSync(path, JSON.stringify(raw, null, 2) + "\n");

beforeAll(() => {
  if (!existsSync(cli)) throw new Error("dist/ is missing: run `npm run build` before the tests");
});

describe("regress", () => {
  it("the corpus as committed: every recorded run reproduces, exit 0", () => {
    const r = xmcfuzz("regress");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^total\s+495\s/m);
    expect(r.stdout).toMatch(/no change/);
  }, 60_000);

  it("writes its whole --json report to a pipe (past the pipe's 64 KiB, which an immediate exit lost)", () => {
    // A shell's pipe, as `xmcfuzz regress --json | jq` makes it (spawnSync's own is a socket pair).
    const r = spawnSync("bash", ["-c", `"${process.execPath}" "${cli}" regress --json | cat; exit \${PIPESTATUS[0]}`], { cwd: root, encoding: "utf8", timeout: 60_000 });
    expect(r.status).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(128 * 1024);
    expect((JSON.parse(r.stdout) as { checks: unknown[] }).checks).toHaveLength(495);
    // A standard output the system refuses (a full disk) is said, exit 2, not a report cut short with exit 0.
    // Whether the output is written at the end (regress --json) or run by run (repro's text).
    for (const command of ["regress --json", "repro corpus/jump-label-nop5-jmp32.json"]) {
      const full = spawnSync("bash", ["-c", `"${process.execPath}" "${cli}" ${command} > /dev/full`], { cwd: root, encoding: "utf8", timeout: 60_000 });
      expect([full.status, full.stderr], command).toEqual([2, "xmcfuzz: standard output: cannot write (ENOSPC)\n"]);
    }
  }, 60_000);

  it("one changed expected verdict in a copy of the corpus fails with a clear line; --update restores it byte for byte", () => {
    const dir = fresh();
    cpSync(corpus, dir, { recursive: true });
    const file = join(dir, "jump-label-nop5-jmp32.json");
    const original = readFileSync(file, "utf8");
    const raw = readRaw(file);
    const i = raw.runs.findIndex((x) => x.expect.verdict === "diverges");
    const run = raw.runs[i]!;
    const signature = run.expect.signature!;
    run.expect = { verdict: "clean", rules: run.expect.rules };
    writeRaw(file, raw);

    const r = xmcfuzz("regress", dir);
    expect(r.status).toBe(1);
    const changed = r.stdout.split("\n").filter((l) => l.startsWith("CHANGED"));
    expect(changed).toEqual([`CHANGED ${file} runs[${i}] ${run.strategy} ${run.model}: new divergence: expected clean, now diverges (${signature})`]);
    expect(r.stdout).toMatch(/^jump-label-nop5-jmp32\.json\s+45\s.*\s1\s+CHANGED$/m);
    expect(r.stdout).toMatch(/regress: 1 of 495 recorded runs in 11 cases changed/);

    const u = xmcfuzz("regress", dir, "--update");
    expect(u.status).toBe(0);
    expect(u.stdout).toContain(`updated ${file} runs[${i}] ${run.strategy} ${run.model}: new divergence`);
    expect(readFileSync(file, "utf8")).toBe(original);
    expect(xmcfuzz("regress", dir).status).toBe(0);
  }, 120_000);

  it("a vanished divergence, changed rules and a drifted schedule each get their line; --update re-records the drifted run", () => {
    const dir = fresh();
    const file = join(dir, "static-call.json");
    cpSync(join(corpus, "static-call.json"), file);
    const raw = readRaw(file);
    const clean = raw.runs.findIndex((x) => x.expect.verdict === "clean");
    const div = raw.runs.findIndex((x) => x.expect.verdict === "diverges");
    const drift = raw.runs.findIndex((x, k) => k !== clean && k !== div && (x.decisions?.length ?? 0) > 0);
    raw.runs[clean]!.expect = { verdict: "diverges", signature: "made up", rules: [] };
    raw.runs[div]!.expect = { ...raw.runs[div]!.expect, rules: ["cmodx-violation"] };
    raw.runs[drift]!.decisions += " 0/2";
    writeRaw(file, raw);
    const r = xmcfuzz("regress", dir);
    expect(r.status).toBe(1);
    const changed = r.stdout.split("\n").filter((l) => l.startsWith("CHANGED"));
    expect(changed).toHaveLength(3);
    expect(changed.find((l) => l.includes(`runs[${clean}]`))).toMatch(/: vanished divergence: expected diverges \(made up\), now clean$/);
    expect(changed.find((l) => l.includes(`runs[${div}]`))).toMatch(/: changed rules: expected cmodx-violation, now /);
    expect(changed.find((l) => l.includes(`runs[${drift}]`))).toMatch(/: drift: replay drift: run ended after \d+ of \d+ recorded decisions$/);
    const json = JSON.parse(xmcfuzz("regress", dir, "--json").stdout) as { changed: number; checks: { index: number; changes: string[] }[] };
    expect(json.changed).toBe(3);
    expect(json.checks.filter((c) => c.changes.length > 0).map((c) => [c.index, c.changes]).sort())
      .toEqual([[clean, ["vanished-divergence"]], [div, ["changed-rules"]], [drift, ["drift"]]].sort());
    const u = xmcfuzz("regress", dir, "--update");
    expect(u.status).toBe(0);
    expect(u.stdout).toMatch(/re-recorded by a schedule search from seed \d+: seed \d+, \d+ decisions, now /);
    expect(xmcfuzz("regress", dir).status).toBe(0);
    // The hand-written asm form survives the rewrite.
    expect(readFileSync(file, "utf8")).toContain('"asm"');
  }, 60_000);

  it("bad input: exit 2 with one line", () => {
    const r = xmcfuzz("regress", join(fresh(), "absent"));
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/no such file or directory/);
    // An empty corpus directory is nothing to gate on: not a pass.
    const empty = fresh();
    const none = xmcfuzz("regress", empty);
    expect(none.status).toBe(2);
    expect(none.stderr).toBe(`xmcfuzz: ${empty}: no case file (.json) to replay\n`);
    // A FIFO named .json among the cases would block the read for ever.
    const withFifo = fresh();
    cpSync(join(corpus, "static-call.json"), join(withFifo, "static-call.json"));
    expect(spawnSync("mkfifo", [join(withFifo, "x.json")]).status).toBe(0);
    const fifo = xmcfuzz("regress", withFifo);
    expect(fifo.status).toBe(2);
    expect(fifo.stderr).toBe(`xmcfuzz: ${join(withFifo, "x.json")}: not a regular file\n`);
  });
});

describe("promotion", () => {
  /** A crash-like file: one divergent recorded run of a corpus case, in the canonical hex form. */
  function crash(dir: string): { path: string; signature: string } {
    const loaded = loadCaseFile(join(corpus, "jump-label-nop5-jmp32.json"));
    const run = loaded.kase.runs.find((r) => r.strategy === "direct_write" && r.expect?.verdict === "diverges")!;
    const path = join(dir, "s123-abc.json");
    writeFileSync(path, JSON.stringify(caseToJson({ ...loaded.kase, name: "gen-1", runs: [run] }), null, 2));
    return { path, signature: run.expect!.signature! };
  }

  it("corpus add: a readable name, the recorded run as expectation, regress passes; adding it again is a no-op", () => {
    const dir = fresh();
    const { path, signature } = crash(dir);
    const target = join(dir, "corpus");
    const r = xmcfuzz("corpus", "add", path, "--corpus", target);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const name = `${readableName(signature)}.json`;
    expect(readdirSync(target)).toEqual([name]);
    expect(r.stdout).toContain(`added ${join(target, name)}`);
    const saved = readRaw(join(target, name));
    expect(saved.runs).toHaveLength(1);
    expect(saved.runs[0]!.expect.signature).toBe(signature);
    expect(xmcfuzz("regress", target).status).toBe(0);
    const again = xmcfuzz("corpus", "add", path, "--corpus", target);
    expect(again.stdout).toMatch(/^already in the corpus/);
    expect(readdirSync(target)).toHaveLength(1);
  }, 60_000);

  it("corpus add of a crash named after a run's second divergence class: named after it, and regress checks it by that name", () => {
    // Run 18 of the ftrace case diverges twice: torn-fetch (its verdict) and stale-after-completion.
    const loaded = loadCaseFile(join(corpus, "ftrace-nop5-call.json"));
    const run = loaded.kase.runs[18]!;
    const second = "direct_single_byte superscalar-stale stale-after-completion wrong-output nop5->call write/0";
    expect(run.expect!.signature).not.toBe(second);
    const dir = fresh(), path = join(dir, "s18.json"), target = join(dir, "corpus");
    // With a stop_machine run beside it, which shows no finding.
    writeFileSync(path, JSON.stringify(caseToJson({ ...loaded.kase, name: "gen-18", description: `divergence ${second}`, runs: [run, loaded.kase.runs[2]!] }), null, 2));
    const added = xmcfuzz("corpus", "add", path, "--corpus", target);
    expect(added.status, added.stderr).toBe(0);
    const file = join(target, `${readableName(second)}.json`);
    expect((JSON.parse(readFileSync(file, "utf8")) as { description: string }).description).toBe(`divergence ${second}`);
    expect(xmcfuzz("repro", file).stdout).toContain(`signature: ${second}`);
    expect(xmcfuzz("regress", target).status).toBe(0);
    // Named after a finding no run shows any more: a change (exit 1); --update renames the case after what its run shows.
    const raw = JSON.parse(readFileSync(file, "utf8")) as { description: string };
    writeRaw(file, { ...raw, description: "divergence direct_single_byte superscalar-stale non-monotonic wrong-output nop5->call write/0" });
    const gone = xmcfuzz("regress", target);
    expect(gone.status).toBe(1);
    expect(gone.stdout).toContain(`CHANGED ${file}: vanished finding: the case is named after direct_single_byte superscalar-stale non-monotonic wrong-output nop5->call write/0, which no run shows now`);
    // Not judged on a part of the runs (the one showing it may be left out), nor on free text.
    expect(xmcfuzz("regress", target, "-s", "stop_machine").status).toBe(0);
    writeRaw(file, { ...raw, description: "rule of thumb: the ftrace call site, torn under superscalar-stale write/0" });
    expect(xmcfuzz("regress", target).status).toBe(0);
    writeRaw(file, { ...raw, description: "divergence direct_single_byte superscalar-stale non-monotonic wrong-output nop5->call write/0" });
    expect(xmcfuzz("regress", target, "--update").status).toBe(0);
    expect((JSON.parse(readFileSync(file, "utf8")) as { description: string }).description).toBe(`divergence ${run.expect!.signature}`);
    expect(xmcfuzz("regress", target).status).toBe(0);
  }, 60_000);

  it("corpus add refuses a crash that no longer reproduces its recorded verdict (exit 2, one line)", () => {
    const dir = fresh();
    const { path } = crash(dir);
    const raw = readRaw(path);
    raw.runs[0]!.expect = { verdict: "clean", rules: [] };
    writeRaw(path, raw);
    const r = xmcfuzz("corpus", "add", path, "--corpus", join(dir, "corpus"));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/does not reproduce its recorded run: .*new divergence: expected clean/);
    expect(existsSync(join(dir, "corpus"))).toBe(false);
  });

  // Without minimization the raw findings are promoted (a minimized one needs more wall time than a
  // loaded test machine can promise; the code path differs only in which finding is offered).
  it("fuzz --promote: divergences land in the corpus directory, and regress replays them", () => {
    const dir = fresh();
    const r = xmcfuzz("fuzz", "-s", "direct_write", "-m", "x86-realistic", "--duration", "6s", "--seed", "5", "--out", join(dir, "out"),
      "--crashes", join(dir, "crashes"), "--no-minimize", "--promote", join(dir, "corpus"));
    expect(r.status).toBe(0);
    const promoted = readdirSync(join(dir, "corpus"));
    expect(promoted.length).toBeGreaterThan(0);
    for (const f of promoted) expect(f).toMatch(/^direct_write\.x86-realistic\.[a-z-]+\.[a-z-]+\..+\.json$/);
    const g = xmcfuzz("regress", join(dir, "corpus"));
    expect(g.status).toBe(0);
    expect(g.stdout).toMatch(new RegExp(`^total\\s+${promoted.length}\\s`, "m"));
  }, 60_000);
});
