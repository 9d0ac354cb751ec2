import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CLI as cli, ROOT as root, runCli } from "../testing/cli.js";

// Option validation of the command line (the built entry point): bad input is one line and exit 2.

const MAX = Number.MAX_SAFE_INTEGER;
let dir = "";

const xmcfuzz = (...args: string[]) => runCli(args);

function expectBadInput(r: ReturnType<typeof xmcfuzz>, message: RegExp): void {
  expect(r.stderr).toMatch(message);
  expect(r.stderr.trim().split("\n")).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.status).toBe(2);
}

beforeAll(() => {
  if (!existsSync(cli)) throw new Error("dist/ is missing: run `npm run build` before the tests");
  dir = mkdtempSync(join(tmpdir(), "xmcfuzz-main-"));
});

describe("--seed: consecutive seeds stay exact integers (at most 2^53 - 1)", () => {
  const kase = join(root, "corpus", "static-call.json");

  it("run: --seed + --schedules - 1 past 2^53 - 1 is refused (it looped on one seed until --timeout)", () => {
    const r = xmcfuzz("run", kase, "-s", "stop_machine", "-m", "sdm-strict", "--seed", String(MAX), "--schedules", "5", "--timeout", "5s");
    expectBadInput(r, new RegExp(`^xmcfuzz: --seed: ${MAX} with --schedules 5 takes seeds past ${MAX} .*use a seed of at most ${MAX - 4}\n$`));
    expect(r.stdout).toBe("");
  });

  it("run: the largest seeds that fit are taken", () => {
    const r = xmcfuzz("run", kase, "-s", "stop_machine", "-m", "sdm-strict", "--seed", String(MAX - 1), "--schedules", "2");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`clean.*\\(2 schedules from seed ${MAX - 1}\\)`));
  });

  it("a seed that is not an exact integer says so", () => {
    expectBadInput(xmcfuzz("run", kase, "--seed", "9007199254740993"), /--seed: expected an integer >= 0, got "9007199254740993" \(at most 9007199254740991, 2\^53 - 1\)/);
  });

  it("matrix (shard k gets seed + k) and hub enqueue (--seeds consecutive seeds) alike", () => {
    expectBadInput(xmcfuzz("matrix", "--seed", String(MAX), "--shards-per-cell", "2", "--max-execs", "1", "--no-verify"), /--seed: .* with --shards-per-cell 2 takes seeds past/);
    const hub = join(dir, "hub");
    expectBadInput(xmcfuzz("hub", "enqueue", hub, "--matrix", "--max-execs", "1", "--seed", String(MAX - 1), "--seeds", "3"), /--seed: .* with --seeds 3 takes seeds past/);
    expect(existsSync(hub) ? readdirSync(hub) : []).toEqual([]);
  });
});
