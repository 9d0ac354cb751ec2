import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Shard, ShardResult } from "../types.js";
import { namedModel } from "../models/named.js";
import { builtinStrategy } from "../strategies/registry.js";
import { inScope } from "../fuzz/scope.js";
import { unship } from "../fuzz/finding-report.js";
import { foldCell, shardKey } from "./fold.js";
import { runShard } from "./shard.js";
// Worker threads run compiled code: the thread shell is taken from the build (`npm test` builds first).
const built: string = "../../dist/src/matrix/shard-thread.js";
const { ShardThread } = (await import(built)) as typeof import("./shard-thread.js");

const shard = (strategy: string, model: string, seed: number, maxExecs: number): Shard =>
  ({ strategy, model, seed, maxExecs, maxMs: Number.MAX_SAFE_INTEGER });
const inProcess = (s: Shard) => runShard(s, builtinStrategy(s.strategy)!, namedModel(s.model)!);
/** What a seed-bounded shard fixes: everything but the wall times. */
const deterministic = (r: ShardResult) => ({ ...r, ms: 0, firstDivergence: r.firstDivergence && { ...r.firstDivergence, ms: 0 } });

describe("shards", () => {
  it("direct_write diverges within a small exec budget; stop_machine does not", () => {
    const bad = inProcess(shard("direct_write", "coherent-atomic-byte", 1, 300));
    expect(bad.result.execs).toBe(300);
    expect(bad.result.signatures.length).toBeGreaterThan(0);
    expect(bad.result.firstDivergence!.execs).toBeLessThanOrEqual(300);
    expect(bad.findings.some((f) => f.kind === "divergence" && bad.result.signatures.includes(f.signature))).toBe(true);
    const good = inProcess(shard("stop_machine", "x86-realistic", 1, 300));
    expect(good.result.signatures).toEqual([]);
    expect(good.result.firstDivergence).toBeUndefined();
  });

  it("lists every divergence class its findings filed, another core's second class too", () => {
    const r = inProcess(shard("text_poke_bp", "noncoherent-icache", 1, 400));
    const filed = r.findings.filter((f) => f.kind === "divergence").map((f) => f.signature);
    // Some run filed a class other than its own first divergence's.
    expect(r.findings.some((f) => f.kind === "divergence" && f.kase.runs[0]!.expect?.signature !== f.signature)).toBe(true);
    for (const s of filed) expect(r.result.signatures).toContain(s);
  });

  it("a seed-bounded shard gives the same result every time, in a worker thread too", async () => {
    const s = shard("text_poke_bp", "noncoherent-icache", 7, 200);
    const a = inProcess(s), b = inProcess(s);
    expect(deterministic(b.result)).toEqual(deterministic(a.result));
    const thread = new ShardThread();
    try {
      const c = await thread.run(s);
      expect(c.failed).toBeUndefined();
      expect(deterministic(c.result)).toEqual(deterministic(a.result));
    } finally {
      await thread.close();
    }
  });

  it("a shard carries its scope: it rules over the serving side's, and it is part of the shard's key", async () => {
    const scope = { maxCores: 3, slotKinds: ["nop5->jmp32"], atomicBatches: false };
    const s: Shard = { ...shard("direct_write", "x86-realistic", 4, 300), scope };
    // Served by a thread told to fuzz everything, with up to 8 cores.
    const thread = new ShardThread({ scope: { maxCores: 8 } });
    try {
      const run = await thread.run(s);
      expect(run.failed).toBeUndefined();
      expect(run.findings.length).toBeGreaterThan(0);
      for (const f of run.findings.map(unship)) {
        expect(inScope(f.kase, scope)).toBe(true);
        expect(f.kase.cores).toBeLessThanOrEqual(3);
      }
      expect(deterministic(run.result)).toEqual(deterministic(runShard(s, builtinStrategy(s.strategy)!, namedModel(s.model)!).result));
    } finally {
      await thread.close();
    }
    const plain = shard("direct_write", "x86-realistic", 4, 300);
    expect(shardKey(s)).not.toBe(shardKey(plain));
    expect(shardKey({ ...s, scope: { ...scope } })).toBe(shardKey(s));
    expect(shardKey({ ...s, scope: { ...scope, atomicBatches: undefined } })).not.toBe(shardKey(s));
  });

  it("folding is order-independent and counts a retried shard once", () => {
    const cell = "direct_write", model = "sdm-strict";
    const rs = [1, 2, 3].map((seed) => inProcess(shard(cell, model, seed, 100)).result);
    const folded = foldCell(cell, model, rs);
    expect(foldCell(cell, model, [...rs].reverse())).toEqual(folded);
    expect(foldCell(cell, model, [...rs, rs[1]!])).toEqual(folded);
    expect(folded.shards).toBe(3);
    expect(folded.execs).toBe(300);
    expect(folded.signatures).toEqual([...new Set(rs.flatMap((r) => r.signatures))].sort());
    for (const sig of folded.signatures) {
      const [, , cause, effect] = sig.split(" ");
      expect(folded.causes).toContain(cause);
      expect(folded.effects).toContain(effect);
    }
    expect(() => foldCell("stop_machine", model, rs)).toThrow(/folded into/);
  });

  describe("a strategy that never yields", () => {
    const dir = mkdtempSync(join(tmpdir(), "xmcfuzz-shard-"));
    const plugin = join(dir, "spin.mjs");
    writeFileSync(plugin, "export const strategy = { name: 'spinner', *patch(ctx) { yield* ctx.store('x', 1); for (;;) {} } };");
    const thread = new ShardThread({ stallMs: 1_500 });
    afterAll(() => thread.close());

    it("stalls its thread, which is replaced; the shard ends as a harness error and the next shard runs", async () => {
      const stuck = await thread.run(shard(plugin, "coherent-atomic-byte", 1, 50));
      expect(stuck.stalled).toBe(true);
      expect(stuck.result.harnessErrors).toBe(1);
      expect(stuck.result.signatures).toEqual([]);
      const next = await thread.run(shard("stop_machine", "coherent-atomic-byte", 1, 20));
      expect(next.failed).toBeUndefined();
      expect(next.result.execs).toBe(20);
    });
  });
});
