// `npm run bench`: speed of the harness, as ratios measured side by side in one process.
//   1. emulated instructions per second on one core, next to a bare decode loop over the same bytes;
//   2. the oracle's cost: run + membership check over the run alone;
//   3. differential runs per second: one generated case, every strategy, every model.
import seedrandom from "seedrandom";
import { prepare, runOnce } from "../src/differential.js";
import { generateCase } from "../src/fuzz/generate.js";
import { decode } from "../src/isa/decode.js";
import { NAMED_MODELS, namedModel } from "../src/models/named.js";
import { runCase } from "../src/machine/run.js";
import { judge } from "../src/oracle/judge.js";
import { RandomChooser, RecordingChooser } from "../src/schedule/choosers.js";
import { BUILTIN_STRATEGIES, builtinStrategy } from "../src/strategies/registry.js";
import { sketchCase } from "../src/testing/build.js";
import { soloRun } from "../src/oracle/solo.js";
import { SOLO_LIMIT } from "../src/types.js";
import type { Case } from "../src/types.js";

const quick = process.argv.includes("--quick");
const scale = quick ? 0.2 : 1;

function soloBudget(kase: Case): number {
  let L = 0;
  const { base, entries, slots } = kase.program;
  for (const e of entries) L = Math.max(L, soloRun(e, kase.program.code, base, slots, SOLO_LIMIT).instructions);
  return L;
}

/** Best of `reps` timings of f (milliseconds): the least disturbed by a noisy shared machine. */
function best(reps: number, f: () => void): number {
  let min = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    f();
    min = Math.min(min, performance.now() - t0);
  }
  return min;
}

function fmt(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(1);
}

// ---- 1. one core, a long loop: the machine's instruction rate against decoding alone
const iterations = Math.round(20_000 * scale);
const loop = sketchCase({
  asm: [`c1: mov ecx, ${iterations}`, "top:", ".slot s", "nop5", ".endslot",
    "mov al, 1", "add eax, 3", "out 0x10", "inc edx", "cmp edx, 7", "dec ecx", "jne top", "hlt"],
  entries: ["c1"],
  slots: { s: { new: "jmp top" } },
  ops: [],
});
const L = soloBudget(loop);
const prepared = prepare(loop, L);
const code = loop.program.code;
const pcs: number[] = [];
{
  // The exact instruction addresses the core executes, for the decode-only loop.
  let pc = loop.program.base;
  for (let i = 0; i < 9; i++) {
    const d = decode(code, pc - loop.program.base, code.length);
    if ("incomplete" in d) break;
    pcs.push(pc - loop.program.base);
    pc += d.len;
  }
}
console.log(`1. one core, ${L} instructions per run`);
for (const m of ["coherent-atomic-byte", "x86-realistic", "noncoherent-icache"]) {
  const model = namedModel(m)!;
  const run = () => runCase(prepared.plan, builtinStrategy("stop_machine")!, model, { chooser: new RandomChooser(1), soloBudget: L });
  const tRun = best(5, run);
  let sink = 0;
  const tDecode = best(5, () => {
    for (let n = 0; n < L; n++) sink += (decode(code, pcs[n % pcs.length]!, code.length) as { len: number }).len;
  });
  if (sink < 0) console.log(sink);
  console.log(`   ${m.padEnd(22)} emulated ${fmt(L / (tRun / 1000))} instr/s, bare decode ${fmt(L / (tDecode / 1000))} instr/s, ratio decode/emulate ${(tRun / tDecode).toFixed(1)}x`);
}

// ---- 2. the oracle's cost on generated cases
const rng = seedrandom.alea("bench");
const cases = Array.from({ length: Math.round(60 * scale) }, () => {
  const k = generateCase(rng, { maxCores: 5 });
  let budget = 0;
  for (const e of k.program.entries) budget = Math.max(budget, soloRun(e, k.program.code, k.program.base, k.program.slots, SOLO_LIMIT).instructions);
  return prepare(k, budget);
});
{
  let tRun = 0, tJudge = 0;
  for (const p of cases) {
    for (const s of BUILTIN_STRATEGIES) {
      for (const m of NAMED_MODELS) {
        const chooser = new RecordingChooser(new RandomChooser(7));
        const t0 = performance.now();
        const run = runCase(p.plan, s, m, { chooser, soloBudget: p.soloBudget });
        const t1 = performance.now();
        judge(p.plan, run);
        tJudge += performance.now() - t1;
        tRun += t1 - t0;
      }
    }
  }
  console.log(`2. oracle cost over ${cases.length} generated cases x 9 strategies x 5 models:`);
  console.log(`   (run + membership check) / run alone = ${((tRun + tJudge) / tRun).toFixed(2)}x`);
}

// ---- 3. differential runs per second
{
  let runs = 0;
  const t = best(3, () => {
    runs = 0;
    for (const p of cases.slice(0, Math.max(5, Math.round(20 * scale)))) {
      for (const s of BUILTIN_STRATEGIES) for (const m of NAMED_MODELS) {
        runOnce(p, { strategy: s, model: m, seed: runs });
        runs++;
      }
    }
  });
  console.log(`3. differential runs (run + verdict), every strategy x every model: ${fmt(runs / (t / 1000))} runs/s on one core`);
}
