import { it } from "vitest";
import { prepareSketch } from "./testing/build.js";
import { runOnce } from "./differential.js";
import { builtinStrategy } from "./strategies/registry.js";
import { namedModel } from "./models/named.js";

const jl = prepareSketch({
  asm: [
    "core1: mov ecx, 20",
    "loop:",
    ".slot jl", "nop5", ".endslot",
    "mov al, 1", "out 0x10", "jmp next",
    "yes: mov al, 2", "out 0x10",
    "next: dec ecx", "jne loop", "hlt",
  ],
  entries: ["core1", "core1"],
  slots: { jl: { new: "jmp yes" } },
  ops: [["jl"]],
});

it("smoke", () => {
  const s = builtinStrategy("int3_flush")!, m = namedModel("noncoherent-icache")!;
  for (let seed = 0; seed < 200; seed++) {
    const o = runOnce(jl, { strategy: s, model: m, seed, trace: true });
    if (o.verdict.kind !== "diverges") continue;
    const d = o.verdict.divergences[0]!;
    console.log(seed, o.verdict.signature, d.detail, JSON.stringify(o.run.observations.map(x => [x.events.map(e => e.kind === "out" ? e.value : "p").join(""), x.end])));
    console.log("expected", JSON.stringify(d.expected?.events.map(e => e.kind === "out" ? e.value : "p").join("")), JSON.stringify(d.expected?.end));
    console.log(JSON.stringify(o.run.ops), JSON.stringify(o.run.passages.filter(p => p.core === d.core).map(p => [p.begin, p.end, p.fetched.map(f => f.text + ":" + f.origin.join(",")), p.resolution])));
    console.log(o.run.trace.filter(e => e.kind !== "exec" && e.kind !== "refill").map(e => `${e.t} c${e.core} ${e.text}`).join("\n"));
    break;
  }
});
