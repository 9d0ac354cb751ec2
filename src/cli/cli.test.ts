import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CLI as cli, ROOT as root, runCli } from "../testing/cli.js";

// The CLI as users run it: the built entry point in a child process.

let dir = "";

const xmcfuzz = (...args: string[]) => runCli(args);

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

const base = {
  xmcfuzz: "case", version: 2, name: "t", cores: 3,
  code: { base: "0x1000", asm: ["c: mov ecx, 3", "top:", ".slot s", "nop5", ".endslot", "mov al, 1", "out 0x10", "jmp nx", "y: mov al, 2", "out 0x10", "nx: dec ecx", "jne top", "hlt"] },
  entries: ["c", "c"],
  slots: [{ name: "s", new: "jmp y" }],
  ops: [{ slots: ["s"] }],
};

beforeAll(() => {
  if (!existsSync(cli)) throw new Error("dist/ is missing: run `npm run build` before the tests");
  dir = mkdtempSync(join(tmpdir(), "xmcfuzz-cli-"));
});

describe("bad input: one line, exit 2, no stack trace", () => {
  const cases: [string, () => string[], RegExp][] = [
    ["wrong version", () => ["run", file("v.json", { ...base, version: 1 })], /version: expected 2, got 1/],
    ["missing field", () => { const { cores: _, ...rest } = base; return ["run", file("m.json", rest)]; }, /cores: missing/],
    ["overlapping slots", () => ["run", file("o.json", { ...base, code: { base: 4096, hex: "0f 1f 44 00 00 f4" }, entries: [4096, 4096], slots: [{ name: "a", start: 4096, len: 5, newHex: "e9 00 00 00 00" }, { name: "b", start: 4098, len: 2, newHex: "90 90" }], ops: [{ slots: ["a"] }] })], /overlaps slot "a"/],
    ["version that does not decode", () => ["run", file("d.json", { ...base, slots: [{ name: "s", newHex: "90 90 90 90 e9" }] })], /slots\[0\]\.newHex: does not decode/],
    ["branch into a slot", () => ["run", file("b.json", { ...base, code: { base: "0x1000", asm: ["c: jmp inner", ".slot s", "nop2", "inner: nop3", ".endslot", "hlt"] }, slots: [{ name: "s", newHex: "90 90 90 90 90" }] })], /targets 0x1007 inside slot "s"/],
    ["call returning into a slot", () => ["run", file("r.json", { ...base, code: { base: "0x1000", asm: [".slot s", "c: nop5", "nop", ".endslot", "hlt", "f: ret"] }, slots: [{ name: "s", new: ["call f", "nop"] }] })], /returns to 0x1005 inside slot "s"/],
    ["non-terminating program", () => ["run", file("n.json", { ...base, code: { base: "0x1000", asm: ["c: nop", ".slot s", "nop5", ".endslot", "jmp c"] }, slots: [{ name: "s", new: "nop5" }] })], /does not terminate within 1000000 instructions/],
    ["invalid JSON", () => ["run", file("j.json", "{ \"xmcfuzz\": ")], /not valid JSON/],
    ["missing file", () => ["run", join(dir, "absent.json")], /cannot read file/],
    ["unknown strategy", () => ["run", file("ok.json", base), "-s", "nope"], /unknown strategy "nope"/],
    ["unknown model", () => ["run", file("ok.json", base), "-m", "nope"], /unknown model "nope"/],
    ["bad model file", () => ["run", file("ok.json", base), "-m", file("m.model.json", { name: "x", fetchBlock: 3 })], /fetchBlock/],
    ["strategy plugin that fails to load", () => ["run", file("ok.json", base), "-s", file("bad.mjs", "throw new Error('boom')")], /cannot load strategy plugin \(boom\)/],
    ["bad --seed", () => ["run", file("ok.json", base), "--seed", "-3"], /--seed: expected an integer >= 0/],
    ["a shard lease below a second", () => ["fuzz", "--hub", join(dir, "hub"), "--shard-lease", "500ms"], /--shard-lease: at least 1s/],
    ["repro of a file without recorded runs", () => ["repro", file("ok.json", base)], /no recorded run to replay/],
    ["replay drift", () => ["repro", file("drift.json", { ...base, runs: [{ strategy: "direct_write", model: "x86-realistic", seed: 0, decisions: "1/2 0/9 0/9" }] })], /drift\.json: runs\[0\]: direct_write x86-realistic: replay drift/],
  ];
  for (const [what, args, message] of cases) {
    it(what, () => {
      const r = xmcfuzz(...args());
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(/^xmcfuzz: /);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  }
});

describe("minimize", () => {
  it("shrinks a run that only breaks a rule, keeping that rule finding's signature", () => {
    const dir = mkdtempSync(join(tmpdir(), "xmcfuzz-min-"));
    const rec = join(dir, "rule.json"), out = join(dir, "rule-min.json");
    expect(xmcfuzz("run", "corpus/static-call.json", "-s", "direct_single_byte", "-m", "coherent-atomic-byte", "--schedules", "5", "--record", rec).status).toBe(0);
    const m = xmcfuzz("minimize", rec, "-o", out, "--json");
    expect(m.status, m.stderr).toBe(0);
    const r = JSON.parse(m.stdout) as { signature: string; before: { decisions: number }; after: { decisions: number } };
    expect(r.signature).toMatch(/^rule direct_single_byte coherent-atomic-byte unsynchronized-xmc call->call /);
    expect(r.after.decisions).toBeLessThan(r.before.decisions);
    const again = JSON.parse(xmcfuzz("repro", out, "--json").stdout) as { rules: { rule: string }[] }[];
    expect(again[0]!.rules.map((x) => x.rule)).toContain("unsynchronized-xmc");
    // The output names the finding it kept (its run may now diverge too: that is not the one kept).
    expect((JSON.parse(readFileSync(out, "utf8")) as { description?: string }).description).toBe(`rule ${r.signature}`);
  });
});

describe("minimize: a stale name and a later run that drifts", () => {
  it("falls back to the divergent run it replayed before the drift (the crash file's named finding is in no run)", () => {
    const dir = mkdtempSync(join(tmpdir(), "xmcfuzz-min-"));
    const rec = join(dir, "div.json");
    expect(xmcfuzz("run", "corpus/jump-label-nop5-jmp32.json", "-s", "direct_write", "-m", "sdm-strict", "--record", rec).status).toBe(1);
    const doc = JSON.parse(readFileSync(rec, "utf8")) as { description?: string; runs: { decisions: string }[] };
    doc.description = "divergence direct_write sdm-strict torn-fetch wild-jump nop5->jmp32 sync/9";
    doc.runs.push({ ...doc.runs[0]!, decisions: "1/3 1/3 1/3 1/3" });
    writeFileSync(rec, JSON.stringify(doc));
    const m = xmcfuzz("minimize", rec, "-o", join(dir, "min.json"), "--json");
    expect(m.status, m.stderr).toBe(0);
    expect((JSON.parse(m.stdout) as { signature: string }).signature).toMatch(/^direct_write sdm-strict /);
  });
});

describe("verdicts and exit statuses", () => {
  it("run: 0 when every run is clean, 1 when one diverges", () => {
    const ok = xmcfuzz("run", "corpus/jump-label-nop5-jmp32.json", "-s", "stop_machine", "--schedules", "20");
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/stop_machine\s+coherent-atomic-byte\s+clean/);
    expect(ok.stdout.trim().split("\n")).toHaveLength(5);
    const bad = xmcfuzz("run", "corpus/jump-label-nop5-jmp32.json", "-s", "direct_write", "-m", "sdm-strict", "--json");
    expect(bad.status).toBe(1);
    const json = JSON.parse(bad.stdout) as { verdict: string; signature: string }[];
    expect(json[0]!.verdict).toBe("diverges");
    expect(json[0]!.signature).toMatch(/^direct_write sdm-strict /);
  });

  it("a user strategy that throws is a harness error: exit 3, reported, not a divergence", () => {
    const plugin = file("throws.mjs", "export const strategy = { name: 'thrower', *patch(ctx) { yield* ctx.store('x', 1); throw new Error('kaboom'); } };");
    const r = xmcfuzz("run", file("ok.json", base), "-s", plugin, "-m", "x86-realistic", "--schedules", "3");
    expect(r.status).toBe(3);
    expect(r.stdout).toMatch(/HARNESS ERROR.*kaboom/);
    expect(r.stdout).not.toMatch(/DIVERGES/);
  });

  it("a user strategy plugin is fuzzed like a built-in", () => {
    const plugin = file("mine.mjs", [
      "export const strategy = { name: 'mine', description: 'stop_machine by hand',",
      "  *patch(ctx, slots) { yield* ctx.stopMachine(function* (c) { for (const s of slots) yield* c.write(s.start, s.to); }); } };",
    ].join("\n"));
    const r = xmcfuzz("run", "corpus/jump-label-nop5-jmp32.json", "-s", plugin, "-m", "sdm-strict", "--schedules", "30");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/mine\s+sdm-strict\s+clean/);
  });

  it("repro replays a recorded run and prints the report a kernel developer reads", () => {
    const r = xmcfuzz("repro", "corpus/jump-label-nop5-jmp32.json", "-s", "direct_write", "-m", "sdm-strict");
    expect(r.status).toBe(1);
    for (const section of ["DIVERGES:", "signature:", "slots:", "old: 0f 1f 44 00 00", "first divergent passage", "observed vs expected", "rule findings", "timeline:", "reproduced"]) {
      expect(r.stdout).toContain(section);
    }
  });

  it("lists strategies and models, as text and JSON; --help everywhere", () => {
    expect(xmcfuzz("strategies").stdout.trim().split("\n")).toHaveLength(9);
    expect((JSON.parse(xmcfuzz("models", "--json").stdout) as unknown[]).length).toBe(5);
    for (const cmd of [[], ["run"], ["repro"], ["strategies"], ["models"]]) {
      const r = xmcfuzz(...cmd, "--help");
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/Usage: xmcfuzz/);
    }
  });
});

describe("the bin", () => {
  it("runs as a program, as npx runs it (executable, through its shebang)", () => {
    const r = spawnSync(cli, ["strategies"], { cwd: root, encoding: "utf8", timeout: 60_000 });
    expect(r.error).toBeUndefined();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("stop_machine");
  });
});
