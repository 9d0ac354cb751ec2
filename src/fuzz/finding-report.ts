import type { Case, Model, Strategy } from "../types.js";
import { soloBudget } from "../case/terminate.js";
import { prepare, runOnce, type Outcome, type PreparedCase } from "../differential.js";
import { formatReport } from "../report/text.js";
import { parseCaseShape } from "../case/load.js";
import { findingFile } from "../files/store.js";
import type { Finding, ShippedFinding } from "./engine.js";

/**
 * The engine's strict replays (confirmation, minimized verdicts), traced, so the same replay yields
 * the finding's `repro` report: one replay per finding instead of a confirmation and a report
 * replay. They run on the prepared case the engine ran: every case it runs already passed the
 * loader's checks (generated ones by construction, mutants and minimizer candidates checked), so
 * the saved file loads as the same case.
 */
export class TracedReplays {
  private last: { reproducer: Case; outcome: Outcome } | undefined;

  replay(reproducer: Case, prepared: PreparedCase, strategy: Strategy, model: Model): Outcome {
    const outcome = runOnce(prepared, { strategy, model, decisions: reproducer.runs[0]!.decisions, trace: true });
    this.last = { reproducer, outcome };
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
      this.replay(f.kase, prepare(f.kase, soloBudget(f.kase)), strategy, model);
    }
    const { reproducer, outcome } = this.last!;
    return formatReport(reproducer, outcome.run, outcome.verdict, `xmcfuzz finding: ${f.signature}`, f.signature);
  }

  /** The finding as a worker thread ships it: its files (with its report) and its facts. */
  ship(f: Finding, strategies: readonly Strategy[], models: readonly Model[]): ShippedFinding {
    const { kase, ...facts } = f;
    const { strategy, model } = kase.runs[0]!;
    return { ...facts, strategy, model, file: findingFile(f.signature, f.kind, kase, this.reportOf(f, strategies, models)) };
  }
}

/** A shipped finding back as the engine's (a dead worker's raw finding, minimized by its replacement). */
export function unship(s: ShippedFinding): Finding {
  const { strategy: _s, model: _m, file, ...facts } = s;
  return { ...facts, kase: parseCaseShape(JSON.parse(file.json)) };
}
