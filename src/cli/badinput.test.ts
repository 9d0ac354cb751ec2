import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import seedrandom from "seedrandom";
import { beforeAll, describe, expect, it } from "vitest";
import { loadCaseFile, parseCase } from "../case/load.js";
import { prepare, runOnce } from "../differential.js";
import { InputError } from "../errors.js";
import { parseModel } from "../models/load.js";
import { NAMED_MODELS } from "../models/named.js";
import { DriftError } from "../schedule/choosers.js";
import { BUILTIN_STRATEGIES } from "../strategies/registry.js";
import { corpusTexts, malformedArgv, malformedCase, malformedModel, malformedText } from "../testing/malformed.js";

// Issue 10, item 1: over 10,000 seeded malformed inputs to the case loader, the model loader, the
// replay of decision lists and the command line. Each is accepted or rejected with one line (an
// InputError, exit 2); none throws anything else, prints a stack trace or takes long.

const root = join(import.meta.dirname, "..", "..");
const cli = join(root, "dist", "src", "cli", "main.js");
const texts = corpusTexts(join(root, "corpus"));
const docs = texts.map((t) => JSON.parse(t) as unknown);
let dir = "";

/** Calls f; returns "ok" or the one-line message of the InputError it threw; anything else fails. */
function outcome(what: string, f: () => unknown): { result: "ok" | "rejected"; ms: number } {
  const t0 = performance.now();
  try {
    f();
    return { result: "ok", ms: performance.now() - t0 };
  } catch (e) {
    if (!(e instanceof InputError)) throw new Error(`${what}: not an InputError: ${e instanceof Error ? e.stack : String(e)}`);
    expect(e.message, what).not.toMatch(/\n/);
    expect(e.message.length, what).toBeGreaterThan(0);
    return { result: "rejected", ms: performance.now() - t0 };
  }
}

beforeAll(() => {
  if (!existsSync(cli)) throw new Error("dist/ is missing: run `npm run build` before the tests");
  dir = mkdtempSync(join(tmpdir(), "xmcfuzz-badinput-"));
});

describe("malformed inputs: one line, never a crash, never a hang", () => {
  it("6,000 malformed case documents", () => {
    const rng = seedrandom.alea("cases");
    let rejected = 0, slowest = 0;
    for (let i = 0; i < 6000; i++) {
      const doc = malformedCase(rng, docs);
      const o = outcome(`case #${i}: ${JSON.stringify(doc).slice(0, 300)}`, () => parseCase(doc));
      if (o.result === "rejected") rejected++;
      slowest = Math.max(slowest, o.ms);
    }
    expect(rejected).toBeGreaterThan(5000);
    expect(slowest).toBeLessThan(5000);
  }, 120_000);

  it("1,000 malformed case files (truncated, spliced, not JSON)", () => {
    const rng = seedrandom.alea("texts");
    let rejected = 0;
    for (let i = 0; i < 1000; i++) {
      const path = join(dir, `t${i % 10}.json`);
      const text = malformedText(rng, texts);
      writeFileSync(path, text);
      if (outcome(`text #${i}: ${text.slice(0, 200)}`, () => loadCaseFile(path)).result === "rejected") rejected++;
    }
    expect(rejected).toBeGreaterThan(900);
  }, 60_000);

  it("2,000 malformed model files", () => {
    const rng = seedrandom.alea("models");
    let rejected = 0;
    for (let i = 0; i < 2000; i++) {
      const doc = malformedModel(rng);
      if (outcome(`model #${i}: ${JSON.stringify(doc)}`, () => parseModel(doc, "m.json")).result === "rejected") rejected++;
    }
    expect(rejected).toBeGreaterThan(1000);
    expect(rejected).toBeLessThan(2000);
  });

  it("500 decision lists of the wrong length or out of range: replay drift, never another error", () => {
    const rng = seedrandom.alea("decisions");
    const loaded = docs.map((d) => parseCase(d));
    let drift = 0;
    for (let i = 0; i < 500; i++) {
      const l = loaded[Math.floor(rng() * loaded.length)]!;
      const run = l.kase.runs[Math.floor(rng() * l.kase.runs.length)]!;
      const strategy = BUILTIN_STRATEGIES.find((s) => s.name === run.strategy)!;
      const model = NAMED_MODELS.find((m) => m.name === run.model)!;
      const ds = [...(run.decisions ?? [])];
      const k = Math.floor(rng() * 4);
      if (k === 0) ds.length = Math.floor(rng() * ds.length);
      else if (k === 1) ds.push(...ds.slice(0, 1 + Math.floor(rng() * 5)));
      else if (k === 2 && ds.length > 0) { const j = Math.floor(rng() * ds.length); ds[j] = [ds[j]![1] + Math.floor(rng() * 3), ds[j]![1]]; }
      else if (ds.length > 0) { const j = Math.floor(rng() * ds.length); ds[j] = [ds[j]![0], ds[j]![1] + 1]; }
      try {
        runOnce(prepare(l.kase, l.soloBudget), { strategy, model, decisions: ds });
      } catch (e) {
        if (!(e instanceof DriftError)) throw e;
        expect(e.message).not.toMatch(/\n/);
        drift++;
      }
    }
    expect(drift).toBeGreaterThan(400);
  }, 120_000);

  it("1,000 malformed command lines, in process: exit 2 and one line on stderr", async () => {
    const { main } = (await import(cli)) as { main: (argv: string[]) => Promise<number> };
    const files = {
      badCase: join(dir, "bad-case.json"), goodCase: join(root, "corpus", "static-call.json"),
      badModel: join(dir, "bad-model.json"), missing: join(dir, "absent.json"), dirAsFile: join(dir, "a-directory"),
    };
    writeFileSync(files.badCase, "{\"xmcfuzz\": \"case\", \"version\": 2");
    writeFileSync(files.badModel, JSON.stringify({ name: "x", fetchBlock: 3 }));
    mkdirSync(files.dirAsFile, { recursive: true });
    const rng = seedrandom.alea("argv");
    const write = { out: process.stdout.write, err: process.stderr.write };
    for (let i = 0; i < 1000; i++) {
      const argv = malformedArgv(rng, files);
      // A defect that slipped through must not start a long job.
      if (argv[0] === "fuzz") argv.push("--out", join(dir, "fuzz-out"), "--max-execs", "5", "--duration", "2s");
      if (argv[0] === "matrix") argv.push("--crashes", join(dir, "matrix-crashes"), "--max-execs", "5", "--no-verify");
      let err = "";
      process.stdout.write = () => true;
      process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
      process.exitCode = undefined;
      let code: number;
      try {
        code = await main(["node", "xmcfuzz", ...argv]);
      } finally {
        process.stdout.write = write.out;
        process.stderr.write = write.err;
        process.exitCode = undefined;
      }
      const what = `argv #${i}: ${JSON.stringify(argv)} -> ${code} ${JSON.stringify(err)}`;
      expect(code, what).toBe(2);
      if (argv.length > 0) {
        expect(err.trim().split("\n"), what).toHaveLength(1);
        expect(err, what).toMatch(/^xmcfuzz: /);
      }
      expect(err, what).not.toMatch(/\n\s+at /);
    }
  }, 120_000);
});

describe("a log that cannot be written (a full disk): the campaign stops, exit 2 naming it", () => {
  // Only where /dev/full is the device (appending to a missing one would create a file in /dev).
  const haveFull = (() => { try { return statSync("/dev/full").isCharacterDevice(); } catch { return false; } })();
  it.skipIf(!haveFull)("--log /dev/full", () => {
    const r = spawnSync(process.execPath, [cli, "fuzz", "--out", join(dir, "full"), "--log", "/dev/full", "-s", "direct_write", "-m", "sdm-strict", "--workers", "1", "--duration", "5s"], { cwd: root, encoding: "utf8", timeout: 30_000 });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr.trim().split("\n").at(-1)).toBe("xmcfuzz: /dev/full: cannot use this path (ENOSPC on write); the campaign stopped");
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 30_000);
});

describe("paths that cannot be used: exit 2, one line, no hang", () => {
  const cases: [string, () => string[]][] = [
    ["--out is a file", () => ["fuzz", "--out", join(root, "package.json"), "--duration", "1s"]],
    ["--log under /proc (Node's recursive mkdir spins there)", () => ["fuzz", "--out", join(dir, "o1"), "--log", "/proc/xmcfuzz/log", "--duration", "1s"]],
    ["--sync-dir under /proc", () => ["fuzz", "--out", join(dir, "o2"), "--sync-dir", "/proc/xmcfuzz", "--duration", "1s"]],
    ["--crashes is a file", () => ["fuzz", "--out", join(dir, "o3"), "--crashes", join(root, "package.json"), "--duration", "1s"]],
    ["--record into a missing directory", () => ["run", join(root, "corpus", "static-call.json"), "-s", "stop_machine", "-m", "sdm-strict", "--schedules", "1", "--record", join(dir, "missing", "x.json")]],
  ];
  for (const [what, args] of cases) {
    it(what, () => {
      const r = spawnSync(process.execPath, [cli, ...args()], { cwd: root, encoding: "utf8", timeout: 30_000 });
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(/^xmcfuzz: .*cannot use this path/);
      expect(r.stderr).not.toMatch(/\.tmp-/);
    }, 60_000);
  }
});

describe("deeply nested JSON: the field's one-line error, never a stack overflow", () => {
  const nest = (n: number) => `${"[".repeat(n)}${"]".repeat(n)}`;
  const small = '"version":2,"name":"x","cores":2,"code":{"base":0,"hex":"f4"}';
  const cases: [string, string, RegExp][] = [
    ["the top-level tag", `{"xmcfuzz":${nest(5000)}}`, /: xmcfuzz: expected "case", got \[{37}\.\.\.$/],
    ["an entry", `{"xmcfuzz":"case",${small},"entries":[${nest(5000)}],"slots":[],"ops":[]}`, /: entries\[0\]: expected a label, .*got \[+\.\.\.$/],
    ["an op's slot", `{"xmcfuzz":"case",${small},"entries":[0],"slots":[],"ops":[{"slots":[${nest(5000)}]}]}`, /: ops\[0\]\.slots\[0\]: expected a slot name .*got \[+\.\.\.$/],
  ];
  for (const [what, text, pattern] of cases) {
    it(what, () => {
      const path = join(dir, `deep-${what.replace(/\W+/g, "-")}.json`);
      writeFileSync(path, text);
      for (const command of ["run", "check-replay"]) {
        const r = spawnSync(process.execPath, [cli, command, path], { cwd: root, encoding: "utf8", timeout: 30_000 });
        const message = command === "run" ? r.stderr : r.stdout.split("\n")[0]!;
        expect(r.status, r.stderr).toBe(command === "run" ? 2 : 1);
        expect(message.trim()).toMatch(pattern);
        expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
      }
    }, 60_000);
  }
});

describe("strategy plugins that misbehave, through the real CLI", () => {
  const plugin = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const xmcfuzz = (args: string[], env: Record<string, string> = {}) => {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: "utf8", timeout: 60_000, env: { ...process.env, ...env } });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: performance.now() - t0 };
  };
  const kase = () => join(root, "corpus", "static-call.json");
  const cases: [string, () => string[], number, RegExp, Record<string, string>?][] = [
    ["a module whose top level never finishes", () => ["run", kase(), "-s", plugin("top-spin.mjs", "for (;;) {}\nexport const strategy = {};")], 2, /did not finish loading within 1000 ms/, { XMCFUZZ_PLUGIN_LOAD_MS: "1000" }],
    ["a module whose top-level await never settles", () => ["run", kase(), "-s", plugin("tla.mjs", "await new Promise(() => {});\nexport const strategy = {};")], 2, /did not finish loading/],
    ["a module without `strategy`", () => ["run", kase(), "-s", plugin("none.mjs", "export const nothing = 1;")], 2, /must export `strategy`/],
    ["a strategy name with a space (signatures are read word by word)", () => ["run", kase(), "-s", plugin("spaced.mjs", "export const strategy = { name: 'my patcher', *patch() {} };")], 2, /strategy\.name: "my patcher" holds whitespace.*"my_patcher"/],
    ["a model's fetchBlock none of 0, 1, 16, 64", () => ["run", kase(), "-m", plugin("fb32-model.json", JSON.stringify({ name: "fb32", fetchBlock: 32, prefetchDepth: 32, crossModifySnoop: "eventual", snoopOrder: "any", branchRefetch: true, decodedCache: false, icache: "coherent", storeAtomicity: "aligned8" }))], 2, /fb32-model\.json: fetchBlock: expected 0, 1, 16 or 64$/m],
    ["a model name with a space", () => ["run", kase(), "-m", plugin("spaced-model.json", JSON.stringify({ name: "my core", fetchBlock: 16, prefetchDepth: 32, crossModifySnoop: "eventual", snoopOrder: "any", branchRefetch: true, decodedCache: false, icache: "coherent", storeAtomicity: "aligned8" }))], 2, /name: expected one word/],
    ["a patch step that never yields (run)", () => ["run", kase(), "-m", "x86-realistic", "--timeout", "2s", "-s", plugin("spin.mjs", "export const strategy = { name: 'spinner', *patch(ctx) { yield* ctx.store('x', 1); for (;;) {} } };")], 3, /HARNESS ERROR.*no result within 2000 ms/],
    // It spins before its first step, so the empty decision list cannot drift first.
    ["a patch step that never yields (repro)", () => ["repro", plugin("spin-case.json", JSON.stringify({ ...(docs.find((d) => (d as { name: string }).name === "static-call") as object), runs: [{ strategy: "spinner0", model: "x86-realistic", seed: 0, decisions: "" }] })), "--timeout", "2s", "-s", plugin("spin0.mjs", "export const strategy = { name: 'spinner0', *patch() { for (;;) {} } };")], 3, /HARNESS ERROR: .*no result within 2000 ms/],
    ["a patch step that never yields (verify)", () => ["verify", kase(), "-m", "x86-realistic", "--bound", "1", "--stall-timeout", "2s", "-s", plugin("spin-v.mjs", "export const strategy = { name: 'spinnerv', *patch(ctx) { yield* ctx.store('x', 1); for (;;) {} } };")], 3, /HARNESS ERROR: .*no progress for 2000 ms/],
    ["a patch step that never yields (minimize)", () => ["minimize", plugin("spin-m.json", JSON.stringify({ ...(docs.find((d) => (d as { name: string }).name === "static-call") as object), runs: [{ strategy: "spinner0", model: "x86-realistic", seed: 0, decisions: "" }] })), "-o", join(dir, "spin-min.json"), "--stall-timeout", "2s", "-s", plugin("spin0m.mjs", "export const strategy = { name: 'spinner0', *patch() { for (;;) {} } };")], 3, /no result within 2000 ms|no progress for 2000 ms/],
    ["a patch that throws", () => ["run", kase(), "-m", "sdm-strict", "-s", plugin("throw.mjs", "export const strategy = { name: 'thrower', *patch() { throw new RangeError('bad'); } };")], 3, /HARNESS ERROR.*threw in patch: bad/],
    ["a patch that yields something other than a ctx step", () => ["run", kase(), "-m", "sdm-strict", "-s", plugin("junk.mjs", "export const strategy = { name: 'junk', *patch() { for (;;) yield 42; } };")], 3, /HARNESS ERROR.*yielded 42, not a ctx step/],
    ["a patch that is not a generator function", () => ["run", kase(), "-m", "sdm-strict", "-s", plugin("plain.mjs", "export const strategy = { name: 'plain', patch(ctx, slots) { return []; } };")], 3, /HARNESS ERROR.*patch must be a generator function/],
    ["a strategy whose name getter throws", () => ["run", kase(), "-s", plugin("getter.mjs", "export const strategy = { get name() { throw new Error('no name'); }, *patch() {} };")], 2, /getter\.mjs: cannot read `strategy` \(no name\)/],
    ["two strategy plugins under one name", () => ["run", kase(), "-s", plugin("dup-a.mjs", "export const strategy = { name: 'dup', *patch() {} };"), "-s", plugin("dup-b.mjs", "export const strategy = { name: 'dup', *patch(ctx) { yield* ctx.barrier(); } };")], 2, /dup-b\.mjs: strategy name "dup" is also the name of .*dup-a\.mjs/],
    ["two model files under one name", () => ["run", kase(), "-s", "direct_write", "-m", plugin("mine-a.json", JSON.stringify({ name: "mine", fetchBlock: 16, prefetchDepth: 32, crossModifySnoop: "eventual", snoopOrder: "any", branchRefetch: true, decodedCache: false, icache: "coherent", storeAtomicity: "aligned8" })), "-m", plugin("mine-b.json", JSON.stringify({ name: "mine", fetchBlock: 1, prefetchDepth: 64, crossModifySnoop: "none", snoopOrder: "any", branchRefetch: false, decodedCache: false, icache: "coherent", storeAtomicity: "byte" }))], 2, /mine-b\.json: model name "mine" is also the name of .*mine-a\.json/],
    ["a plugin whose handler is inherited (a class instance) keeps it: the same verdicts as with its own members", () => ["run", kase(), "-m", "x86-realistic", "--schedules", "30", "-s", plugin("classy.mjs", [
      "class Int3Emulate {",
      "  name = 'classy';",
      "  *patch(ctx, slots) { for (const s of slots) { yield* ctx.store('t', s); yield* ctx.write(s.start, Uint8Array.of(0xcc)); yield* ctx.ipiAll(); yield* ctx.waitAcks();",
      "    yield* ctx.write(s.start + 1, s.to.subarray(1)); yield* ctx.ipiAll(); yield* ctx.waitAcks(); yield* ctx.write(s.start, s.to.subarray(0, 1)); yield* ctx.ipiAll(); yield* ctx.waitAcks(); yield* ctx.store('t', undefined); } }",
      "  *onInt3(ctx, core, addr) { const t = yield* ctx.load('t'); return t && t.start === addr ? ctx.emulate(t.to) : ctx.notMine(); }",
      "}",
      "export const strategy = new Int3Emulate();"].join("\n"))], 0, /classy\s+x86-realistic\s+clean/],
    // A plugin's own timer and promise escape the harness: they must neither keep a finished
    // command alive nor turn into a stack trace and exit 1 (a divergence).
    ["a module that leaves a timer running: the command still ends", () => ["run", kase(), "-m", "sdm-strict", "--schedules", "3", "-s", plugin("interval.mjs", "setInterval(() => {}, 1000);\nexport const strategy = { name: 'ticking', *patch(ctx, slots) { for (const s of slots) yield* ctx.write(s.start, s.to); } };")], 1, /ticking\s+sdm-strict\s+DIVERGES/],
    // Its load is probed in a thread that waits out Node's report of the rejection (it raced the
    // probe's answer: exit 2 or 3 by luck).
    ["a module whose top level leaves a promise rejected unhandled: it does not load", () => ["run", kase(), "-m", "sdm-strict", "-s", plugin("reject.mjs", "Promise.reject(new Error('nobody awaits me'));\nexport const strategy = { name: 'rejecting', *patch() {} };")], 2, /^xmcfuzz: .*reject\.mjs: cannot load strategy plugin \(its top level left a promise rejected that nobody handles: nobody awaits me\)$/m],
    // The probe is over long before the timer; the command is not (its strategy never diverges).
    ["a module whose promise rejects unhandled while the command runs: exit 3, one line", () => ["run", kase(), "-m", "sdm-strict", "--schedules", "1000000", "-s", plugin("reject-late.mjs", "setTimeout(() => Promise.reject(new Error('nobody awaits me')), 1500);\nexport const strategy = { name: 'rejecting_late', *patch(ctx, slots) { yield* ctx.stopMachine(function* (c) { for (const s of slots) yield* c.write(s.start, s.to); }); } };")], 3, /^xmcfuzz: uncaught error \(a strategy plugin's own timer or promise, or a bug in xmcfuzz\): nobody awaits me$/m],
    ["a strategy that is not deterministic (module state): its finding is its harness error, not a divergence that will not replay", () => ["run", join(root, "corpus", "jump-label-nop5-jmp32.json"), "-m", "coherent-atomic-byte", "--schedules", "30", "-s", plugin("counter.mjs", "let n = 0;\nexport const strategy = { name: 'counting', *patch(ctx, slots) { if (++n % 7 === 3) { for (const s of slots) yield* ctx.write(s.start, s.to); return; }\n  yield* ctx.stopMachine(function* (c) { for (const s of slots) yield* c.write(s.start, s.to); }); } };")], 3, /counting\s+coherent-atomic-byte\s+HARNESS ERROR\s+strategy counting is not deterministic: the run it reported does not replay/],
    ["a CommonJS plugin exporting an object", () => ["run", kase(), "-m", "sdm-strict", "--schedules", "3", "-s", plugin("cjs.cjs", "module.exports = { strategy: { name: 'cjs_obj', *patch(ctx, slots) { for (const s of slots) yield* ctx.write(s.start, s.to); } } };")], 1, /cjs_obj\s+sdm-strict\s+DIVERGES/],
    ["a name getter that answers a built-in's name the second time it is read", () => ["run", kase(), "-m", "sdm-strict", "--schedules", "3", "-s", plugin("flip.mjs", "let n = 0;\nexport const strategy = { get name() { return n++ === 0 ? 'evil' : 'stop_machine'; }, *patch(ctx, slots) { for (const s of slots) yield* ctx.write(s.start, s.to); } };")], 1, /evil\s+sdm-strict\s+DIVERGES/],
    ["a patch that yields steps forever: a hang divergence (SPEC 6.4)", () => ["run", kase(), "-m", "sdm-strict", "--schedules", "3", "-s", plugin("forever.mjs", "export const strategy = { name: 'forever', *patch(ctx) { for (;;) yield* ctx.store('x', 1); } };")], 1, /DIVERGES .*-> hang/],
  ];
  for (const [what, args, status, pattern, env] of cases) {
    it(what, () => {
      const r = xmcfuzz(args(), env);
      expect(r.status, r.stderr).toBe(status);
      expect(r.stdout + r.stderr).toMatch(pattern);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      if (status === 2) expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.ms).toBeLessThan(30_000);
    }, 60_000);
  }
});
