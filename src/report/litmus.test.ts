import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCaseFile } from "../case/load.js";
import { prepare } from "../differential.js";
import { namedModel } from "../models/named.js";
import { builtinStrategy } from "../strategies/registry.js";
import { findRun } from "../testing/search.js";
import { prepareSketch } from "../testing/build.js";
import type { Strategy } from "../types.js";
import { formatPhase } from "../oracle/classify.js";
import { litmusText } from "./litmus.js";

const loaded = loadCaseFile(join(import.meta.dirname, "..", "..", "corpus", "jump-label-nop5-jmp32.json"));
const prepared = prepare(loaded.kase, loaded.soloBudget);

describe("litmus export", () => {
  const o = findRun(prepared, builtinStrategy("direct_write")!, namedModel("coherent-atomic-byte")!, (x) => x.verdict.kind === "diverges", 300, true)!;
  const text = litmusText(loaded.kase, o.run, o.verdict, "seed 0");
  const lines = text.split("\n");

  it("lists the shared code with each core's start and the slot", () => {
    expect(text).toMatch(/^ {2}0x1000 +b9 0a 00 00 00 +mov ecx, 0xa +<- P1, P2 start$/m);
    expect(text).toMatch(/^ {2}0x1005 +0f 1f 44 00 00 +nop5 +\[slot jl, old\]$/m);
    expect(text).toMatch(/^ {2}0x101e +f4 +hlt$/m);
  });

  it("gives the patch: old and new bytes, the op, and the patcher's stores as they ran", () => {
    expect(text).toMatch(/old: 0f 1f 44 00 00 +nop5/);
    expect(text).toMatch(/new: e9 09 00 00 00 +jmp 0x1013/);
    expect(text).toMatch(/op 0: jl -> new {2}\(per-site\)/);
    const stores = o.run.trace.filter((e) => e.core === 0 && e.kind === "store");
    expect(stores.length).toBeGreaterThan(1);
    for (const s of stores) expect(lines).toContain(`    t=${String(s.t).padStart(4)}  ${s.text}`);
  });

  it("marks each divergent core's outcome forbidden and shows the closest allowed one", () => {
    for (const d of o.verdict.divergences.filter((x) => x.core > 0)) {
      const at = lines.findIndex((l) => l.startsWith(`  P${d.core}: `));
      expect(lines[at + 1]).toContain(`FORBIDDEN: ${d.cause} -> ${d.effect}`);
      expect(text).toContain(`closest allowed for P${d.core}: `);
    }
    expect(text).toMatch(/^ {6}executed e9 [0-9a-f ]+ \(jmp 0x[0-9a-f]+\) at 0x1005: byte 0 new, bytes 1-\d old/m);
    expect(text).toMatch(/^ {2}P1: op 0 applied after \d+ or more of its passages \(opened by a torn jump\)$/m);
    expect(text).toContain(`verdict: diverges  (${o.verdict.signature})`);
    expect(text).not.toContain("this file's finding");
  });

  it("names the finding a crash file is named after when the run shows it and it is not the run's first", () => {
    const second = { ...o.verdict.divergences[0]!, cause: "stale-after-completion" as const, effect: "wrong-output" as const };
    const verdict = { ...o.verdict, divergences: [...o.verdict.divergences, second] };
    const other = `direct_write coherent-atomic-byte stale-after-completion wrong-output nop5->jmp32 ${formatPhase(second.phase)}`;
    expect(litmusText(loaded.kase, o.run, verdict, "seed 0", other)).toContain(`\nthis file's finding: ${other}\n`);
    expect(litmusText(loaded.kase, o.run, o.verdict, "seed 0", other)).not.toContain("this file's finding");
    expect(litmusText(loaded.kase, o.run, verdict, "seed 0", o.verdict.signature)).not.toContain("this file's finding");
  });

  it("collapses repeated events", () => {
    expect(text).toMatch(/out 0x10 <- 0x2 x\d+/);
  });

  it("an allowed outcome says so", () => {
    const clean = findRun(prepared, builtinStrategy("stop_machine")!, namedModel("coherent-atomic-byte")!, (x) => x.verdict.kind === "clean", 5, true)!;
    const t = litmusText(loaded.kase, clean.run, clean.verdict, "seed 0");
    expect(t).not.toContain("FORBIDDEN");
    expect(t.match(/^ {6}allowed$/gm)).toHaveLength(2);
    expect(t).toContain("verdict: clean");
  });
});

describe("litmus export: the code listing", () => {
  it("disassembles each slot over its own bytes: a probe's padding does not shift the code after it", () => {
    // A kprobe patched out: the old version is the probe's CC over the immediate of a mov eax.
    const kp = prepareSketch({
      asm: ["start:", ".slot kp", ".byte 0xcc, 0x11, 0xbb, 0x33, 0x44", ".endslot", "mov al, 5", "out 0x10", "hlt"],
      entries: ["start"], slots: { kp: { new: ".byte 0xb8, 0x11, 0xbb, 0x33, 0x44" } }, ops: [["kp"]],
    });
    const r = findRun(kp, builtinStrategy("direct_write")!, namedModel("coherent-atomic-byte")!, () => true, 1, true)!;
    const text = litmusText(kp.kase, r.run, r.verdict, "seed 0");
    // Linearly, bb 33 44 would be the start of a mov ebx swallowing the code after the slot.
    expect(text).toMatch(/^ {2}0x1005 +b0 05 +mov al, 0x5$/m);
    expect(text).toMatch(/^ {2}0x1007 +e6 10 +out 0x10/m);
    expect(text).toMatch(/^ {2}0x1009 +f4 +hlt$/m);
  });
});

describe("litmus export: ops that are not monotonic or never began", () => {
  it("says a non-monotonic op's passages may run either version in its window, and names an op that never began", () => {
    const unordered = { ...loaded.kase, ops: loaded.kase.ops.map((op) => ({ ...op, monotonic: false })) };
    const p = prepare(unordered, loaded.soloBudget);
    const o = findRun(p, builtinStrategy("direct_write")!, namedModel("coherent-atomic-byte")!, () => true, 1, true)!;
    expect(litmusText(unordered, o.run, o.verdict, "seed 0")).toMatch(/P1: op 0 applied after \d+(\.\.\d+| or more) of its passages, each passage of that window running either version/);
    const never = { ...o.run, ops: [{ begin: Infinity, returned: Infinity }] };
    const text = litmusText(unordered, never, o.verdict, "seed 0");
    expect(text).toMatch(/op 0: jl -> new {2}\(per-site, non-monotonic\) {2}never began/);
    expect(text).toMatch(/P1: op 0 never began: not applied/);
    expect(text).not.toMatch(/Infinity/);
  });

  it("shows every divergence of the patcher's side: a wrong final code and a hang both", () => {
    // Op 0 writes nothing (its slot keeps the old bytes when it returns); op 1 waits forever.
    const lazy: Strategy = {
      name: "lazy_then_hang", description: "",
      *patch(ctx) {
        yield* ctx.store("n", ((ctx.peek("n") as number | undefined) ?? 0) + 1);
        if ((ctx.peek("n") as number) > 1) yield* ctx.await(() => false);
      },
    };
    const twice = { ...loaded.kase, ops: [loaded.kase.ops[0]!, { ...loaded.kase.ops[0]!, targets: [{ slot: 0, to: "old" as const }] }] };
    const p = prepare(twice, loaded.soloBudget);
    const o = findRun(p, lazy, namedModel("coherent-atomic-byte")!, () => true, 1, true)!;
    expect(o.verdict.divergences.filter((d) => d.core === 0).map((d) => d.effect).sort()).toEqual(["hang", "wrong-final-code"]);
    const text = litmusText(twice, o.run, o.verdict, "seed 0");
    expect(text).toMatch(/P0: FORBIDDEN: wrong-final-code/);
    expect(text).toMatch(/P0: FORBIDDEN: hang/);
  });
});
