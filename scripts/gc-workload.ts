// Workloads for scripts/gc-promotion.ts and src/machine/gc.test.ts, run under --trace-gc-nvp:
//   node dist/scripts/gc-workload.js runs [seconds=2]     differential runs (machine + oracle),
//                                                           every built-in strategy and model
//   node dist/scripts/gc-workload.js <demo> [seconds=2]   one V8 pattern in isolation (DEMOS)
import seedrandom from "seedrandom";
import { soloBudget } from "../src/case/terminate.js";
import { prepare, runOnce } from "../src/differential.js";
import { generateCase } from "../src/fuzz/generate.js";
import { NAMED_MODELS } from "../src/models/named.js";
import { BUILTIN_STRATEGIES } from "../src/strategies/registry.js";

/** Each demo makes a small object that reaches a 64 KB young payload, as a ctx reaches its run. */
const payload = () => ({ buffers: Array.from({ length: 64 }, () => new Array<number>(120).fill(1)) });
/** Twelve closures, like the patcher ctx's common part. */
const common = (p: unknown) => ({
  a: () => p, b: () => 1, c: () => 2, d: () => 3, e: () => 4, f: () => 5,
  g: () => 6, h: () => 7, i: () => 8, j: () => 9, k: () => 10, l: () => 11,
});
function* moduleLevel(p: unknown) {
  yield p;
}

export const DEMOS: Readonly<Record<string, () => unknown>> = {
  /** `{ ...common, more }`: V8 builds it on a slow path, in the old generation. */
  "spread-literal": () => {
    const p = payload();
    return { ...common(p), m: () => p, n: () => 12 };
  },
  /** The same object through Object.assign: young. */
  "assign": () => {
    const p = payload();
    return Object.assign(common(p), { m: () => p, n: () => 12 });
  },
  /** A new generator closure per call, called once: its map is old and reaches the closure. */
  "generator-closure": () => {
    const p = payload();
    const g = function* () {
      yield p;
    };
    return g().next();
  },
  /** A module-level generator called with the same data: nothing old. */
  "module-generator": () => moduleLevel(payload()).next(),
};

function runs(seconds: number): number {
  const rng = seedrandom.alea("gc-workload");
  const cases = Array.from({ length: 40 }, () => {
    const k = generateCase(rng, { maxCores: 5 });
    return prepare(k, soloBudget(k));
  });
  const end = performance.now() + seconds * 1000;
  let n = 0;
  while (performance.now() < end) {
    const strategy = BUILTIN_STRATEGIES[n % BUILTIN_STRATEGIES.length]!, model = NAMED_MODELS[Math.floor(n / 7) % NAMED_MODELS.length]!;
    runOnce(cases[n % cases.length]!, { strategy, model, seed: n, scheduler: { kind: "pct", depth: 2, length: 200, inPatchWindow: true } });
    n++;
  }
  return n;
}

if (process.argv[1]?.endsWith("gc-workload.js")) {
  const mode = process.argv[2] ?? "runs", seconds = Number(process.argv[3] ?? 2);
  if (mode === "runs") runs(seconds);
  else {
    const demo = DEMOS[mode];
    if (!demo) throw new Error(`unknown workload ${mode}`);
    const end = performance.now() + seconds * 1000;
    const keep: unknown[] = [];
    for (let i = 0; performance.now() < end; i++) keep[i & 7] = demo();
  }
}
