import type { Case, Model, Strategy } from "../types.js";
import { parseCase } from "../case/load.js";
import { caseToJson } from "../case/save.js";
import { prepare, runOnce, type Outcome } from "../differential.js";
import { formatReport } from "../report/text.js";
import type { Finding } from "./engine.js";

/**
 * The engine's strict replays (confirmation, minimized verdicts), made on the reproducer as it will
 * be saved (through the loader) and traced, so the same replay yields the finding's `repro` report:
 * one replay per finding instead of a confirmation and a report replay.
 */
export class TracedReplays {
  private last: { reproducer: Case; kase: Case; outcome: Outcome } | undefined;

  replay(reproducer: Case, strategy: Strategy, model: Model): Outcome {
    const loaded = parseCase(caseToJson(reproducer));
    const outcome = runOnce(prepare(loaded.kase, loaded.soloBudget), { strategy, model, decisions: reproducer.runs[0]!.decisions, trace: true });
    this.last = { reproducer, kase: loaded.kase, outcome };
    return outcome;
  }

  /** The `repro` report of a finding (made in a worker, off the main thread), from its confirming replay. */
  reportOf(f: Finding, strategies: readonly Strategy[], models: readonly Model[]): string {
    const run = f.kase.runs[0]!;
    const last = this.last?.reproducer.runs[0];
    if (!last || last.decisions !== run.decisions || last.strategy !== run.strategy || last.model !== run.model) {
      // Not the engine's last replay: replay it now.
      const strategy = strategies.find((s) => s.name === run.strategy)!;
      const model = models.find((m) => m.name === run.model)!;
      this.replay(f.kase, strategy, model);
    }
    const { kase, outcome } = this.last!;
    return formatReport(kase, outcome.run, outcome.verdict, `xmcfuzz finding: ${f.signature}`);
  }
}
