// The oracle against its definition, for as long as asked: runs of generated cases and of their
// mutants, under every strategy and model and both schedule policies, each ended core judged by
// the membership search (SPEC 6.3) and by the reference family enumerated by brute force (SPEC
// 6.2). CI's test judges 600 runs; this is the overnight check after a change to the oracle or the
// machine. A disagreement is printed and its case saved with the run recorded (`xmcfuzz repro`
// shows it); the exit status is 1 if there was any. A run whose judging gives up (a search past
// its work cap, in a campaign the cell's harness error) is counted and saved the same way.
// The time is checked between cases: with many cores one case's enumeration can take minutes.
//   node dist/scripts/oracle-soak.js [seconds=600] [seed=1] [max-cores=4] [out dir=.]
import { join } from "node:path";
import seedrandom from "seedrandom";
import type { Case, Decision, Model, RecordedRun, Strategy } from "../src/types.js";
import { expectationOf, policyFor, runOnce, type Outcome, type PreparedCase, type RunSpec, type SchedulerKind } from "../src/differential.js";
import { runCase } from "../src/machine/run.js";
import { RecordingChooser } from "../src/schedule/choosers.js";
import { caseToJson } from "../src/case/save.js";
import { OracleGaveUp } from "../src/errors.js";
import { writeFileAtomic } from "../src/files/atomic.js";
import { generateCase } from "../src/fuzz/generate.js";
import { mutateCase } from "../src/fuzz/mutate.js";
import { type FuzzCase, prepareCase, prepareMutant } from "../src/fuzz/prepare.js";
import { NAMED_MODELS } from "../src/models/named.js";
import { BUILTIN_STRATEGIES } from "../src/strategies/registry.js";
import { judgeAgainstFamily } from "../src/testing/family-check.js";

const seconds = Number(process.argv[2] ?? 600), seed = process.argv[3] ?? "1";
const maxCores = Number(process.argv[4] ?? 4), outDir = process.argv[5] ?? ".";
const rng = seedrandom.alea(`oracle-soak:${seed}`);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;

/** Half the cases mutate the last one (mutants reach shapes the generator does not make). */
function nextCase(parent: FuzzCase | undefined): FuzzCase {
  const mutant = parent && rng() < 0.5 ? mutateCase(rng, parent.kase) : undefined;
  return (mutant && prepareMutant(parent!, mutant)) || prepareCase(generateCase(rng, { maxCores }));
}

function schedule(): SchedulerKind {
  if (rng() < 0.4) return { kind: "random" };
  return { kind: "pct", depth: 1 + Math.floor(rng() * 3), length: 50 + Math.floor(rng() * 300), inPatchWindow: rng() < 0.7 };
}

/** The case with one run recorded, saved for `repro` (its verdict too, when there is one). */
function save(kase: Case, run: RecordedRun, n: number): string {
  const path = join(outDir, `oracle-soak-${seed}-${n}.json`);
  writeFileAtomic(path, `${JSON.stringify(caseToJson({ ...kase, runs: [run] }), null, 1)}\n`);
  return path;
}

/** The decisions of a run whose judging threw (runOnce records none then): the run again, recorded. */
function decisionsOf(prepared: PreparedCase, strategy: Strategy, model: Model, spec: RunSpec): readonly Decision[] {
  const chooser = new RecordingChooser(policyFor(spec));
  runCase(prepared.plan, strategy, model, { chooser, soloBudget: prepared.soloBudget });
  chooser.seal();
  return chooser.decisions;
}

let runs = 0, judged = 0, tooLarge = 0, members = 0, withChoices = 0, opened = 0, disagreements = 0, gaveUp = 0;
let prepared: FuzzCase | undefined;
const t0 = performance.now();
while (performance.now() - t0 < seconds * 1000) {
  prepared = nextCase(prepared);
  for (let r = 0; r < 4; r++) {
    const strategy = pick(BUILTIN_STRATEGIES), model = pick(NAMED_MODELS), runSeed = Math.floor(rng() * 2 ** 31);
    const spec: RunSpec = { strategy, model, seed: runSeed, scheduler: schedule() };
    runs++;
    let outcome: Outcome;
    try {
      outcome = runOnce(prepared, spec);
    } catch (e) {
      if (!(e instanceof OracleGaveUp)) throw e;
      gaveUp++;
      const saved = save(prepared.kase, { strategy: strategy.name, model: model.name, seed: runSeed, decisions: decisionsOf(prepared, strategy, model, spec) }, disagreements + gaveUp);
      console.log(`GAVE UP ${strategy.name} x ${model.name}: ${e.message}: ${saved}`);
      continue;
    }
    if (outcome.run.hung || outcome.run.harnessError) continue;
    const judgements = judgeAgainstFamily(prepared, outcome.run);
    tooLarge += outcome.run.observations.filter((o) => o.end.kind !== "unfinished").length - judgements.length;
    for (const j of judgements) {
      judged++;
      if (j.member) members++;
      if (j.family.ended.size > 1) withChoices++;
      if (j.win.opened) opened++;
      const wrongExpected = j.expectedInFamily === false;
      if (j.member === j.inFamily && !wrongExpected) continue;
      disagreements++;
      const what = wrongExpected ? "its expected observation is not in the family" : `search says ${j.member ? "member" : "not a member"}, the family ${j.inFamily ? "has it" : "does not"}`;
      const run = { strategy: strategy.name, model: model.name, seed: runSeed, decisions: outcome.decisions, expect: expectationOf(outcome.verdict) };
      console.log(`DISAGREE ${strategy.name} x ${model.name}, core ${j.obs.core}: ${what}: ${save(prepared.kase, run, disagreements + gaveUp)}`);
    }
  }
}
console.log(`oracle-soak seed ${seed}, ${seconds} s, up to ${maxCores} cores: ${runs} runs, ${judged} cores judged ` +
  `(${members} members, ${judged - members} refuted; ${withChoices} with more than one reference observation, ${opened} under opened windows; ` +
  `${tooLarge} more whose family has too many paths to enumerate), ${disagreements} disagreements, ${gaveUp} runs whose judging gave up`);
if (disagreements > 0) process.exitCode = 1;
