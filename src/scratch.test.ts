import { it } from "vitest";
import seedrandom from "seedrandom";
import { generateCase } from "./fuzz/generate.js";
import { prepareUnchecked } from "./testing/build.js";
import { runOnce } from "./differential.js";
import { builtinStrategy } from "./strategies/registry.js";
import { namedModel } from "./models/named.js";
import { disassemble } from "./isa/disasm.js";

it("scratch", () => {
  for (const [sn, mn] of [["text_poke_bp", "x86-realistic"], ["int3_flush", "x86-realistic"], ["text_poke_bp_batch", "coherent-atomic-byte"]]) {
  const rng = seedrandom.alea("all");
  let shown = 0;
  for (let i = 0; i < 150; i++) {
    const p = prepareUnchecked(generateCase(rng, { maxCores: 5 }));
    const o = runOnce(p, { strategy: builtinStrategy(sn!)!, model: namedModel(mn!)!, seed: i, trace: true });
    if (o.verdict.kind !== "diverges" || o.verdict.divergences[0]!.cause !== "unexplained") continue;
    const d = o.verdict.divergences[0]!;
    console.log(i, o.verdict.signature, d.detail);
    console.log(disassemble(p.kase.program.code, 0x1000).map(l => `${l.addr.toString(16)}: ${l.text}`).join("\n"));
    console.log(JSON.stringify(p.kase.program.slots.map(s => [s.name, s.start.toString(16), s.kind, [...s.old], [...s.new]])), JSON.stringify(p.kase.ops));
    console.log(JSON.stringify(o.run.passages.filter(q => q.core === d.core).map(q => [q.slot, q.begin, q.end, q.resolution, q.fetched.map(f => f.text + ":" + f.origin.join(","))])));
    console.log("obs", JSON.stringify(o.run.observations[d.core - 1]!.events), JSON.stringify(o.run.observations[d.core - 1]!.end));
    console.log("exp", JSON.stringify(d.expected?.events), JSON.stringify(d.expected?.end));
    console.log(o.run.trace.filter(e => e.core === d.core || e.core === 0).map(e => `${e.t} c${e.core} ${e.text}`).join("\n"));
    if (++shown >= 1) break;
  }
  }
});
