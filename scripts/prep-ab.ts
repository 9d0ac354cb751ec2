// A/B of the fuzzing engine's case preparation alone (no runs) between two builds, side by side:
// generated cases (generate, termination check, plan), parents parsed from corpus text, and
// mutants of a fixed set of parents (mutate, validate, plan), each build in its own child process,
// alternated; CPU ms per case and a check that both builds prepared the same cases. "cold": the
// first cases of a process (the engine prepares one case per 8 runs, so its preparation code
// stays cold for thousands of runs); "warm": after as many cases again as measured.
//   node dist/scripts/prep-ab.js <old dist dir> <new dist dir> [cases=4000] [rounds=3]
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import seedrandom from "seedrandom";
import type { Case } from "../src/types.js";
import type { PreparedCase } from "../src/differential.js";
import type { Rng } from "../src/fuzz/generate.js";

interface Sample {
  coldGeneratedMs: number; coldMutantMs: number;
  generatedMs: number; parentMs: number; mutantMs: number;
  rejected: number; digest: string;
}

/** What the engine does to prepare a case, as each build does it (parents as the build keeps them). */
interface Preparation {
  generated(rng: Rng): PreparedCase;
  parseParent(text: string): Parent;
  /** A mutant, prepared; "rejected" when the loader refuses it, undefined when no mutator applied. */
  mutant(rng: Rng, parent: Parent): PreparedCase | "rejected" | undefined;
}

type Parent = unknown;

const PARENTS = 128;
/** Cases of each kind measured cold. */
const COLD = 200;

async function child(dir: string, cases: number): Promise<Sample> {
  const load = (p: string) => import(pathToFileURL(resolve(dir, p)).href);
  const { caseToJson } = await load("src/case/save.js");
  const { runOnce } = await load("src/differential.js");
  const { NAMED_MODELS } = await load("src/models/named.js");
  const { BUILTIN_STRATEGIES } = await load("src/strategies/registry.js");
  const prep = await preparationOf(load);
  const digest = createHash("sha256");

  // Timed in batches; each batch is digested after its timing (serializing is not preparation)
  // and then dropped, so the heap stays as small as the engine's.
  const BATCH = 100;
  let rejected = 0;
  const timedBatches = (n: number, prepareOne: () => PreparedCase | "rejected" | undefined): number => {
    let ms = 0;
    for (let done = 0; done < n;) {
      const batch: PreparedCase[] = [];
      const u0 = process.cpuUsage();
      for (const end = Math.min(n, done + BATCH); done < end;) {
        const p = prepareOne();
        if (p === undefined) continue;
        done++;
        if (p === "rejected") rejected++;
        else batch.push(p);
      }
      const u = process.cpuUsage(u0);
      ms += (u.user + u.system) / 1000;
      for (const p of batch) digest.update(`${JSON.stringify({ case: caseToJson(p.kase) })} ${p.soloBudget}\n`);
    }
    return ms / n;
  };

  const genRng = seedrandom.alea("prep-ab:generated");
  const coldGeneratedMs = timedBatches(COLD, () => prep.generated(genRng));

  // Parents as the engine keeps them: JSON text of a case with one recorded run (untimed).
  const setup = seedrandom.alea("prep-ab:parents");
  const texts: string[] = [];
  for (let i = 0; i < PARENTS; i++) {
    const p = prep.generated(setup);
    const o = runOnce(p, { strategy: BUILTIN_STRATEGIES[i % BUILTIN_STRATEGIES.length], model: NAMED_MODELS[i % NAMED_MODELS.length], seed: i });
    const run = { strategy: "s", model: "m", seed: i, decisions: o.decisions, expect: { verdict: "clean", rules: [] } };
    texts.push(JSON.stringify({ case: caseToJson({ ...p.kase, runs: [run] }) }));
  }
  const parents: Parent[] = [];
  const u0 = process.cpuUsage();
  for (let i = 0; i < PARENTS; i++) parents[i] = prep.parseParent(texts[i]!);
  const u = process.cpuUsage(u0);
  const parentMs = (u.user + u.system) / 1000 / PARENTS;
  const mutRng = seedrandom.alea("prep-ab:mutants");
  const nextMutant = () => prep.mutant(mutRng, parents[Math.floor(mutRng() * PARENTS)]!);
  const coldMutantMs = timedBatches(COLD, nextMutant);

  // Warm-up (untimed, undigested): a campaign prepares cases for hours.
  const warm = seedrandom.alea("prep-ab:warm-up");
  for (let i = 0; i < cases; i++) {
    prep.mutant(warm, parents[i % PARENTS]!);
    prep.generated(warm);
  }
  const generatedMs = timedBatches(cases, () => prep.generated(genRng));
  const mutantMs = timedBatches(cases, nextMutant);
  digest.update(`rejected ${rejected}`);
  return { coldGeneratedMs, coldMutantMs, generatedMs, parentMs, mutantMs, rejected, digest: digest.digest("hex").slice(0, 16) };
}

/** The build's own preparation (src/fuzz/prepare.js), or main's engine code before it existed. */
async function preparationOf(load: (p: string) => Promise<any>): Promise<Preparation> {
  const { generateCase } = await load("src/fuzz/generate.js");
  const { mutateCase } = await load("src/fuzz/mutate.js");
  const { parseCase, parseCaseShape } = await load("src/case/load.js");
  const parseParent = (text: string): Case => parseCaseShape(JSON.parse(text).case);
  const own = await load("src/fuzz/prepare.js").catch(() => undefined);
  if (own) {
    return {
      generated: (rng) => own.prepareCase(generateCase(rng, { maxCores: 5 })),
      parseParent: (text) => ({ kase: parseParent(text), soloCounts: new Map() }),
      mutant: (rng, parent: any) => {
        const kase = mutateCase(rng, parent.kase);
        return kase && (own.prepareMutant(parent, kase) ?? "rejected");
      },
    };
  }
  const { caseToJson } = await load("src/case/save.js");
  const { prepare } = await load("src/differential.js");
  const { soloBudget } = await load("src/case/terminate.js");
  return {
    generated: (rng) => {
      const kase = generateCase(rng, { maxCores: 5 });
      return prepare(kase, soloBudget(kase));
    },
    parseParent,
    mutant: (rng, parent) => {
      const kase = mutateCase(rng, parent);
      if (!kase) return undefined;
      try {
        const loaded = parseCase(caseToJson(kase));
        return prepare(loaded.kase, loaded.soloBudget);
      } catch {
        return "rejected";
      }
    },
  };
}

if (process.argv[2] === "--child") {
  console.log(JSON.stringify(await child(process.argv[3]!, Number(process.argv[4]))));
} else {
  const [oldDir, newDir] = [process.argv[2], process.argv[3]];
  const cases = Number(process.argv[4] ?? 4000), rounds = Number(process.argv[5] ?? 3);
  if (!oldDir || !newDir) throw new Error("usage: prep-ab <old dist> <new dist> [cases] [rounds]");
  const one = (dir: string): Sample => JSON.parse(execFileSync(process.execPath, [process.argv[1]!, "--child", dir, String(cases)], { encoding: "utf8" }));
  const figures = ["coldGeneratedMs", "coldMutantMs", "generatedMs", "mutantMs", "parentMs"] as const;
  const names = { coldGeneratedMs: "generated cold", coldMutantMs: "mutant cold", generatedMs: "generated warm", mutantMs: "mutant warm", parentMs: "parent parse" };
  const ratios = new Map<string, number[]>(figures.map((f) => [f, []]));
  let same = true;
  for (let r = 0; r < rounds; r++) {
    const o = one(oldDir), n = one(newDir);
    same &&= o.digest === n.digest;
    const cells = figures.map((f) => {
      ratios.get(f)!.push(o[f] / n[f]);
      return `${names[f]} ${o[f].toFixed(3)}/${n[f].toFixed(3)} ${(o[f] / n[f]).toFixed(2)}x`;
    });
    console.log(`round ${r + 1}: CPU ms per case old/new: ${cells.join(", ")} (rejected ${o.rejected}/${n.rejected}; same cases: ${o.digest === n.digest ? "yes" : "NO"})`);
  }
  const range = (xs: number[]) => `${Math.min(...xs).toFixed(2)}x..${Math.max(...xs).toFixed(2)}x`;
  console.log(`new build cheaper: ${figures.map((f) => `${names[f]} ${range(ratios.get(f)!)}`).join(", ")} (${cases} warm cases, ${rounds} rounds, alternated)`);
  if (!same) {
    console.log("DIFFERENT CASES: the builds do not prepare the same cases");
    process.exitCode = 1;
  }
}
