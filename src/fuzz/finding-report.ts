import type { Model, Strategy } from "../types.js";
import { parseCase } from "../case/load.js";
import { caseToJson } from "../case/save.js";
import { prepare, runOnce } from "../differential.js";
import { formatReport } from "../report/text.js";
import type { Finding } from "./engine.js";

/** The `repro` report of a finding, from a traced strict replay (made in a worker, off the main thread). */
export function findingReport(f: Finding, strategies: readonly Strategy[], models: readonly Model[]): string {
  const run = f.kase.runs[0]!;
  const strategy = strategies.find((s) => s.name === run.strategy)!;
  const model = models.find((m) => m.name === run.model)!;
  const loaded = parseCase(caseToJson(f.kase));
  const replay = runOnce(prepare(loaded.kase, loaded.soloBudget), { strategy, model, decisions: run.decisions, trace: true });
  return formatReport(loaded.kase, replay.run, replay.verdict, `xmcfuzz finding: ${f.signature}`);
}
