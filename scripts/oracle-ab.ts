// A/B of the oracle alone (judge, no emulator) between two builds, side by side: each build makes
// the same runs with its own runCase, then judges them in a timed loop. Two run sets, each in its
// own child process (so neither set's heap weighs on the other's collections): generated cases
// under random and PCT schedules (the fuzzing workload), and hand-made hangs. Prints CPU ms per
// judge for each build and set, the ratios, and whether both builds gave identical verdicts.
//   node dist/scripts/oracle-ab.js <old dist dir> <new dist dir> [reps=3] [rounds=3]
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import seedrandom from "seedrandom";
import { median } from "./median.js";

type RunSet = "generated" | "hang";

interface Sample {
  msPerJudge: number;
  judged: number;
  /** sha256 over every verdict, in run order. */
  verdicts: string;
  /** How many runs of each shape were judged (coverage of the comparison). */
  shapes: Record<string, number>;
}

interface Judged {
  readonly plan: unknown;
  readonly run: any;
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

/** The parts of one build the comparison uses. */
async function loadBuild(dir: string) {
  const url = (p: string) => pathToFileURL(resolve(dir, p)).href;
  return {
    ...(await import(url("src/fuzz/generate.js"))), ...(await import(url("src/differential.js"))),
    ...(await import(url("src/case/terminate.js"))), ...(await import(url("src/machine/run.js"))),
    ...(await import(url("src/oracle/judge.js"))),
    ...(await import(url("src/schedule/choosers.js"))), ...(await import(url("src/schedule/pct.js"))),
    ...(await import(url("src/models/named.js"))), ...(await import(url("src/strategies/registry.js"))),
    ...(await import(url("src/testing/build.js"))),
  };
}

type Build = Awaited<ReturnType<typeof loadBuild>>;

/** Generated cases, each run under four random schedules and one PCT schedule. */
function generatedRuns(b: Build): Judged[] {
  const rng = seedrandom.alea("oracle-ab");
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
  const seed = () => Math.floor(rng() * 1e9);
  const runs: Judged[] = [];
  for (let i = 0; i < CASES; i++) {
    const kase = b.generateCase(rng, { maxCores: 5 });
    const p = b.prepare(kase, b.soloBudget(kase));
    const make = (policy: unknown) => {
      const chooser = new b.RecordingChooser(policy);
      runs.push({ plan: p.plan, run: b.runCase(p.plan, pick(b.BUILTIN_STRATEGIES), pick(b.NAMED_MODELS), { chooser, soloBudget: p.soloBudget }) });
    };
    for (let j = 0; j < 4; j++) make(new b.RandomChooser(seed()));
    make(new b.PctChooser(seed(), { depth: 1 + Math.floor(rng() * 3), length: 200, inPatchWindow: rng() < 0.7 }));
  }
  return runs;
}

/** The hand-made hang cases under every strategy (hand-made and built-in) and model. */
function hangRuns(b: Build): Judged[] {
  const rng = seedrandom.alea("oracle-ab hangs");
  const runs: Judged[] = [];
  for (const sketch of [SPIN_UNTIL_PATCHED, LOOP_THROUGH_LABELS]) {
    const p = b.prepare(b.sketchCase(sketch), HANG_CASE_BUDGET);
    for (const strategy of [...hangStrategies(), ...b.BUILTIN_STRATEGIES]) {
      for (const model of b.NAMED_MODELS) {
        const chooser = new b.RecordingChooser(new b.RandomChooser(Math.floor(rng() * 1e9)));
        runs.push({ plan: p.plan, run: b.runCase(p.plan, strategy, model, { chooser, soloBudget: p.soloBudget }) });
      }
    }
  }
  return runs;
}

/**
 * CPU ms per judge over `reps` timed repetitions, after one untimed one: the first pass over the
 * runs (the verdict hash) leaves the compiler still at work, and a fuzzer judges millions of runs.
 */
function msPerJudge(b: Build, runs: readonly Judged[], reps: number): number {
  let check = 0;
  for (const { plan, run } of runs) check += b.judge(plan, run).divergences.length;
  const u0 = process.cpuUsage();
  for (let rep = 0; rep < reps; rep++) {
    for (const { plan, run } of runs) check += b.judge(plan, run).divergences.length;
  }
  const u = process.cpuUsage(u0);
  if (check < 0) throw new Error("unreachable: keeps the timed loop's results alive");
  return (u.user + u.system) / 1000 / (reps * runs.length);
}

async function child(dir: string, set: RunSet, reps: number): Promise<Sample> {
  const b = await loadBuild(dir);
  const runs = set === "generated" ? generatedRuns(b) : hangRuns(b);
  settleHeap();
  const hash = createHash("sha256");
  const shapes: Record<string, number> = {};
  for (const { plan, run } of runs) {
    const verdict = b.judge(plan, run);
    hash.update(verdictJson(verdict));
    const shape = shapeOf(run, verdict);
    shapes[shape] = (shapes[shape] ?? 0) + 1;
  }
  return { msPerJudge: msPerJudge(b, runs, reps), judged: runs.length, verdicts: hash.digest("hex"), shapes };
}

/**
 * A full collection after making the runs, before the judging warms up: otherwise the collection
 * their garbage starts goes on in steps during the timed judging, charged to whichever build runs.
 */
function settleHeap(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

if (process.argv[2] === "--child") {
  console.log(JSON.stringify(await child(process.argv[3]!, process.argv[4] as RunSet, Number(process.argv[5]))));
} else {
  const [oldDir, newDir] = [process.argv[2], process.argv[3]];
  const reps = Number(process.argv[4] ?? 3), rounds = Number(process.argv[5] ?? 3);
  if (!oldDir || !newDir) throw new Error("usage: oracle-ab <old dist> <new dist> [reps] [rounds]");
  // One thread per child: the garbage collector's work is then charged where it happens.
  const one = (dir: string, set: RunSet): Sample => JSON.parse(execFileSync(
    process.execPath, ["--single-threaded", "--expose-gc", process.argv[1]!, "--child", dir, set, String(reps)], { encoding: "utf8" },
  ));
  const ratios: Record<RunSet, number[]> = { generated: [], hang: [] };
  let same = true;
  for (let r = 0; r < rounds; r++) {
    const line: string[] = [];
    for (const set of ["generated", "hang"] as const) {
      const o = one(oldDir, set), n = one(newDir, set);
      const sameNow = o.verdicts === n.verdicts;
      same &&= sameNow;
      ratios[set].push(o.msPerJudge / n.msPerJudge);
      if (r === 0) console.log(`${set}: ${n.judged} runs judged, ${JSON.stringify(n.shapes)}`);
      line.push(`${set} runs: old ${o.msPerJudge.toFixed(4)} CPU ms/judge, new ${n.msPerJudge.toFixed(4)}: ${(o.msPerJudge / n.msPerJudge).toFixed(2)}x (same verdicts: ${sameNow ? "yes" : "NO"})`);
    }
    console.log(`round ${r + 1}: ${line.join("; ")}`);
  }
  const range = (xs: readonly number[]) => `${Math.min(...xs).toFixed(2)}x..${Math.max(...xs).toFixed(2)}x, median ${median(xs).toFixed(2)}x`;
  console.log(`generated runs: ${range(ratios.generated)}; hang runs: ${range(ratios.hang)}; same verdicts: ${same ? "yes" : "NO"}`);
  if (!same) process.exitCode = 1;
}
