import type { CaseScope, Model, Shard, ShardResult, Strategy } from "../types.js";
import { FuzzEngine, type EngineOptions, type Finding } from "../fuzz/engine.js";
import { divergenceFindingsOf, ruleSignatures } from "../oracle/classify.js";

// One shard of a matrix cell: a fuzzing engine on one (strategy, model) from one seed until its
// exec or time budget runs out. Pure computation; the thread shell (shard-thread.ts) and the hub
// ship its output. Bounded by execs alone, the same shard always gives the same result.

export interface ShardOptions {
  readonly scheduler?: "random" | "pct";
  readonly scope?: CaseScope;
  /** Minimize new divergences after the budget (which counts fuzzing only), for at most as long again. */
  readonly minimize?: boolean;
  /** Wall-time cap of one minimization. */
  readonly minimizeMs?: number;
  /** Called with each confirmed finding as soon as it exists, and again once minimized. */
  readonly onFinding?: (f: Finding) => void;
  /** The engine's strict replays (see EngineOptions.replay): a traced one also yields the report. */
  readonly replay?: EngineOptions["replay"];
  /** Called now and then with the execs so far (a heartbeat for watchdogs and leases). */
  readonly onProgress?: (execs: number) => void;
  /** Asked between execs: stop early (the result then covers the execs done). */
  readonly shouldStop?: () => boolean;
}

export interface ShardRun {
  readonly result: ShardResult;
  /** The confirmed reproducer of each new signature (minimized when asked). */
  readonly findings: readonly Finding[];
}

const PROGRESS_EVERY = 64;

export function runShard(shard: Shard, strategy: Strategy, model: Model, opts: ShardOptions = {}): ShardRun {
  const engine = new FuzzEngine({
    seed: `shard:${shard.seed}`, strategies: [strategy], models: [model],
    scheduler: shard.scheduler ?? opts.scheduler ?? "pct", feedback: true, scope: shard.scope ?? opts.scope, replay: opts.replay,
  });
  const signatures = new Set<string>(), rules = new Set<string>();
  const findings: Finding[] = [];
  let harnessErrors = 0, firstHarnessError: string | undefined;
  let firstDivergence: ShardResult["firstDivergence"];
  const t0 = performance.now();
  const elapsed = () => performance.now() - t0;
  while (engine.execs < shard.maxExecs && elapsed() < shard.maxMs && !opts.shouldStop?.()) {
    const r = engine.step();
    if (engine.execs % PROGRESS_EVERY === 0) opts.onProgress?.(engine.execs);
    if (r.harnessError) {
      // Its verdict counts for nothing: a harness error, or a run that did not replay.
      harnessErrors++;
      firstHarnessError ??= r.harnessError;
      continue;
    }
    const v = r.outcome.verdict;
    if (v.signature) {
      // Every divergence's class, as the engine files them (a second core's may differ from the first's).
      for (const s of divergenceFindingsOf(v).keys()) signatures.add(s);
      firstDivergence ??= { execs: engine.execs, ms: Math.round(elapsed()) };
    }
    for (const s of ruleSignatures(v)) rules.add(s);
    for (const f of r.findings) {
      findings.push(f);
      opts.onFinding?.(f);
    }
  }
  const ms = Math.round(elapsed());
  const result: ShardResult = {
    shard, execs: engine.execs, ms, firstDivergence,
    signatures: [...signatures].sort(), rules: [...rules].sort(), harnessErrors, ...(firstHarnessError ? { firstHarnessError } : {}),
  };
  if (!opts.minimize) return { result, findings };
  // Minimization gets at most as much time as the fuzzing had, so a cell rich in signatures does
  // not spend its matrix slot shrinking them; the rest keep their (already shipped) raw reproducer.
  const minimizeUntil = performance.now() + ms;
  // Divergences first: rule findings get what time they leave.
  const byKind = [...findings.filter((f) => f.kind === "divergence"), ...findings.filter((f) => f.kind === "rule")];
  const minimized = byKind.map((f) => {
    if (performance.now() > minimizeUntil) return f;
    const deadline = Math.min(minimizeUntil, performance.now() + (opts.minimizeMs ?? 5_000));
    opts.onProgress?.(engine.execs);
    const m = engine.minimizeFinding(f, () => performance.now() > deadline || (opts.shouldStop?.() ?? false));
    opts.onFinding?.(m);
    return m;
  });
  return { result, findings: minimized };
}
