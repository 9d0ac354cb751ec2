// A/B of the oracle alone (judge, no emulator) between two builds, side by side: each build makes
// the same generated runs with its own runCase (random and PCT schedules), then judges them in a
// timed loop. Prints CPU ms per judge for each build and whether both gave identical verdicts.
//   node dist/scripts/oracle-ab.js <old dist dir> <new dist dir> [reps=3] [rounds=3]
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import seedrandom from "seedrandom";

interface Sample {
  /** CPU ms per judge over the generated runs (the fuzzing workload). */
  msPerJudge: number;
  /** CPU ms per judge over the hand-made hang runs (rare in fuzzing, each one expensive). */
  msPerHangJudge: number;
  judged: number;
  /** sha256 over every verdict, in run order. */
  verdicts: string;
  /** How many runs of each shape were judged (coverage of the comparison). */
  shapes: Record<string, number>;
}

const CASES = 300;

/**
 * Generated cases almost never hang, so hand-made ones cover hang admission (SPEC 6.4): a core that
 * spins on a slot until it is patched (admitted while the patcher stalls), a core caught by a
 * self-jump no version has (a hang divergence), and parked cores (a deadlock).
 */
const SPIN_UNTIL_PATCHED = {
  asm: ["spin:", ".slot s", "jmp short spin", ".endslot", "mov al, 1", "out 0x10", "hlt"],
  entries: ["spin", "spin"],
  slots: { s: { new: "nop2" } },
  ops: [["s"]],
};
const LOOP_THROUGH_LABELS = {
  asm: [
    "start: mov ecx, 6",
    "loop:", ".slot a", "nop2", ".endslot", ".slot b", "nop5", ".endslot",
    "mov al, 1", "out 0x10", "jmp next",
    "yes: mov al, 2", "out 0x10",
    "next: dec ecx", "jne loop", "hlt",
  ],
  entries: ["start", "start", "start"],
  slots: { a: { new: "jmp short yes" }, b: { new: "jmp yes" } },
  ops: [["a", "b"], ["!b"]],
};
/** Budget the loader would compute for these cases if it accepted them (SPIN_UNTIL_PATCHED it rejects). */
const HANG_CASE_BUDGET = 80;

function hangStrategies(): unknown[] {
  const never = () => false;
  return [
    { name: "ab_stall", description: "never writes, never returns", *patch(ctx: any) { yield* ctx.await(never); } },
    {
      name: "ab_self_jump", description: "writes a jump to itself over every slot start, then stalls",
      *patch(ctx: any, slots: any[]) {
        for (const s of slots) yield* ctx.write(s.start, Uint8Array.of(0xeb, 0xfe));
        yield* ctx.await(never);
      },
    },
    {
      name: "ab_ipi_in_stop_machine", description: "an IPI while every core is parked: a deadlock",
      *patch(ctx: any, slots: any[]) {
        yield* ctx.stopMachine(function* (c: any) {
          for (const s of slots) yield* c.write(s.start, s.to);
          yield* c.ipiAll();
          yield* c.waitAcks();
        });
      },
    },
  ];
}

/** JSON of a verdict, with the values JSON would lose (typed arrays, Infinity) spelled out. */
function verdictJson(v: unknown): string {
  return JSON.stringify(v, (_key, value: unknown) => {
    if (value instanceof Uint8Array) return `u8:${Buffer.from(value).toString("hex")}`;
    if (typeof value === "number" && !Number.isFinite(value)) return `num:${value}`;
    return value;
  });
}

function shapeOf(run: any, verdict: any): string {
  if (run.hung) return run.hung.deadlock ? "deadlocked" : "hung";
  return verdict.kind;
}

async function child(dir: string, reps: number): Promise<Sample> {
  const url = (p: string) => pathToFileURL(resolve(dir, p)).href;
  const { generateCase } = await import(url("src/fuzz/generate.js"));
  const { prepare } = await import(url("src/differential.js"));
  const { soloBudget } = await import(url("src/case/terminate.js"));
  const { runCase } = await import(url("src/machine/run.js"));
  const { judge } = await import(url("src/oracle/judge.js"));
  const { RandomChooser, RecordingChooser } = await import(url("src/schedule/choosers.js"));
  const { PctChooser } = await import(url("src/schedule/pct.js"));
  const { NAMED_MODELS } = await import(url("src/models/named.js"));
  const { BUILTIN_STRATEGIES } = await import(url("src/strategies/registry.js"));
  const { sketchCase } = await import(url("src/testing/build.js"));
  const rng = seedrandom.alea("oracle-ab");
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
  const seed = () => Math.floor(rng() * 1e9);
  const { planCase } = await import(url("src/machine/plan.js"));
  type Judged = { kase: unknown; plan: unknown; run: any };
  const runs: Judged[] = [];
  for (let i = 0; i < CASES; i++) {
    const kase = generateCase(rng, { maxCores: 5 });
    const p = prepare(kase, soloBudget(kase));
    const make = (policy: unknown) => {
      const chooser = new RecordingChooser(policy);
      runs.push({ kase: p.kase, plan: p.plan, run: runCase(p.plan, pick(BUILTIN_STRATEGIES), pick(NAMED_MODELS), { chooser, soloBudget: p.soloBudget }) });
    };
    for (let j = 0; j < 4; j++) make(new RandomChooser(seed()));
    const pct = { depth: 1 + Math.floor(rng() * 3), length: 200, inPatchWindow: rng() < 0.7 };
    make(new PctChooser(seed(), pct));
  }
  const hangRuns: Judged[] = [];
  for (const sketch of [SPIN_UNTIL_PATCHED, LOOP_THROUGH_LABELS]) {
    const p = prepare(sketchCase(sketch), HANG_CASE_BUDGET);
    for (const strategy of [...hangStrategies(), ...BUILTIN_STRATEGIES]) {
      for (const model of NAMED_MODELS) {
        const chooser = new RecordingChooser(new RandomChooser(seed()));
        hangRuns.push({ kase: p.kase, plan: p.plan, run: runCase(p.plan, strategy, model, { chooser, soloBudget: p.soloBudget }) });
      }
    }
  }
  const hash = createHash("sha256");
  const shapes: Record<string, number> = {};
  for (const { plan, run } of [...runs, ...hangRuns]) {
    const verdict = judge(plan, run);
    hash.update(verdictJson(verdict));
    const shape = shapeOf(run, verdict);
    shapes[shape] = (shapes[shape] ?? 0) + 1;
  }
  // Each repetition judges with freshly planned cases (as the fuzzer judges a few runs per new
  // case), so what the oracle derives once per case is paid in every repetition.
  const msPerJudge = (set: readonly Judged[]) => {
    let check = 0, cpuMicros = 0;
    for (let rep = 0; rep < reps; rep++) {
      const plans = new Map<unknown, unknown>();
      const planned = set.map(({ kase, run }) => {
        if (!plans.has(kase)) plans.set(kase, planCase(kase));
        return { plan: plans.get(kase), run };
      });
      const u0 = process.cpuUsage();
      for (const { plan, run } of planned) check += judge(plan, run).divergences.length;
      const u = process.cpuUsage(u0);
      cpuMicros += u.user + u.system;
    }
    if (check < 0) throw new Error("unreachable: keeps the timed loop's results alive");
    return cpuMicros / 1000 / (reps * set.length);
  };
  return {
    msPerJudge: msPerJudge(runs), msPerHangJudge: msPerJudge(hangRuns), judged: runs.length + hangRuns.length,
    verdicts: hash.digest("hex"), shapes,
  };
}

function median(xs: readonly number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}

if (process.argv[2] === "--child") {
  console.log(JSON.stringify(await child(process.argv[3]!, Number(process.argv[4]))));
} else {
  const [oldDir, newDir] = [process.argv[2], process.argv[3]];
  const reps = Number(process.argv[4] ?? 3), rounds = Number(process.argv[5] ?? 3);
  if (!oldDir || !newDir) throw new Error("usage: oracle-ab <old dist> <new dist> [reps] [rounds]");
  // One thread per child: the garbage collector's work is then charged where it happens.
  const one = (dir: string): Sample => JSON.parse(execFileSync(process.execPath, ["--single-threaded", process.argv[1]!, "--child", dir, String(reps)], { encoding: "utf8" }));
  const ratios: number[] = [], hangRatios: number[] = [];
  let same = true;
  for (let r = 0; r < rounds; r++) {
    const o = one(oldDir), n = one(newDir);
    const sameNow = o.verdicts === n.verdicts;
    same &&= sameNow;
    ratios.push(o.msPerJudge / n.msPerJudge);
    hangRatios.push(o.msPerHangJudge / n.msPerHangJudge);
    if (r === 0) console.log(`${n.judged} runs judged: ${JSON.stringify(n.shapes)}`);
    console.log(
      `round ${r + 1}: generated runs: old ${o.msPerJudge.toFixed(4)} CPU ms/judge, new ${n.msPerJudge.toFixed(4)}: ${(o.msPerJudge / n.msPerJudge).toFixed(2)}x;`
      + ` hang runs: old ${o.msPerHangJudge.toFixed(3)}, new ${n.msPerHangJudge.toFixed(3)}: ${(o.msPerHangJudge / n.msPerHangJudge).toFixed(2)}x (same verdicts: ${sameNow ? "yes" : "NO"})`,
    );
  }
  const range = (xs: readonly number[]) => `${Math.min(...xs).toFixed(2)}x..${Math.max(...xs).toFixed(2)}x, median ${median(xs).toFixed(2)}x`;
  console.log(`generated runs: ${range(ratios)}; hang runs: ${range(hangRatios)}; same verdicts: ${same ? "yes" : "NO"}`);
  if (!same) process.exitCode = 1;
}
