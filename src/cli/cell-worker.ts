import { parentPort, workerData } from "node:worker_threads";
import type { Model, Strategy } from "../types.js";
import { parseCase } from "../case/load.js";
import { prepare, runOnce, searchSchedules, settledOutcome } from "../differential.js";
import { InputError, OracleGaveUp } from "../errors.js";
import { DriftError } from "../schedule/choosers.js";
import { exploreExhaustive } from "../schedule/exhaustive.js";
import { minimize } from "../fuzz/minimize.js";
import { BUILTIN_STRATEGIES } from "../strategies/registry.js";
import { resolveStrategy } from "../strategies/load.js";
import type { CellJob, CellReply, CellWorkerData } from "./cells.js";

// The thread that runs `run`/`repro`/`verify`/`minimize` cells, so that the main thread can cut off a strategy step
// that never yields (it terminates this thread after the cell's wall budget). Pure relay: it
// computes exactly what the commands used to compute in the main thread.

async function main(): Promise<void> {
  const data = workerData as CellWorkerData;
  const port = parentPort!;
  const prepareJson = (json: string) => {
    const loaded = parseCase(JSON.parse(json));
    return prepare(loaded.kase, loaded.soloBudget);
  };
  let prepared = data.caseJson === undefined ? undefined : prepareJson(data.caseJson);
  let preparedJson = data.caseJson;
  const plugins = await Promise.all(data.plugins.map((p) => resolveStrategy(p)));
  const strategies: Strategy[] = [...plugins, ...BUILTIN_STRATEGIES];
  const models: readonly Model[] = data.models;
  port.on("message", (job: CellJob & { readonly id: number }) => {
    let reply: CellReply;
    try {
      const strategy = strategies.find((s) => s.name === job.strategy);
      const model = models.find((m) => m.name === job.model);
      if (!strategy || !model) throw new Error(`cell worker: unknown cell ${job.strategy} x ${job.model}`);
      if (job.caseJson !== undefined && job.caseJson !== preparedJson) {
        prepared = prepareJson(job.caseJson);
        preparedJson = job.caseJson;
      }
      if (!prepared) throw new Error("cell worker: no case");
      const spec = { strategy, model, seed: job.seed, trace: job.trace, judge: job.judge };
      // Long jobs beat now and then, so that only a step that never yields gets them cut off.
      let beats = 0;
      const beat = () => {
        if (++beats % 16 === 0) port.postMessage({ kind: "progress", id: job.id } satisfies CellReply & { id: number });
      };
      if (job.mode === "verify") {
        const result = exploreExhaustive(prepared, { strategy, model, judge: job.judge }, { bound: job.bound ?? 1, maxSchedules: job.maxSchedules, onSchedule: beat });
        reply = { kind: "verified", result };
      } else if (job.mode === "minimize") {
        const m = minimize(prepared.kase, strategy, model, job.decisions ?? [], job.signature ?? "", { seed: job.seed, maxRuns: job.maxRuns, shouldStop: () => (beat(), false) });
        reply = { kind: "minimized", result: m, final: settledOutcome(runOnce(prepare(m.kase, m.soloBudget), { strategy, model, decisions: m.decisions })) };
      } else if (job.mode === "search") {
        const o = searchSchedules(prepared, spec, job.schedules ?? 1);
        reply = { kind: "done", outcome: o, seed: o.seed };
      } else {
        reply = { kind: "done", outcome: settledOutcome(runOnce(prepared, { ...spec, decisions: job.decisions })), seed: job.seed };
      }
    } catch (e) {
      const kind = e instanceof DriftError ? "drift" : e instanceof InputError ? "input" : e instanceof OracleGaveUp ? "oracle" : "internal";
      reply = { kind: "error", error: kind, message: e instanceof Error ? e.message : String(e) };
    }
    port.postMessage({ ...reply, id: job.id });
  });
  port.postMessage({ kind: "ready" } satisfies CellReply);
}

main().catch((e: unknown) => {
  const kind = e instanceof InputError ? "input" : "internal";
  parentPort!.postMessage({ kind: "error", error: kind, message: e instanceof Error ? e.message : String(e) } satisfies CellReply);
});
