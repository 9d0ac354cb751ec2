import { parentPort } from "node:worker_threads";
import type { Model, Strategy } from "../types.js";
import { loadCaseFile } from "../case/load.js";
import { prepare, type PreparedCase } from "../differential.js";
import { resolveModel } from "../models/load.js";
import { resolveStrategy } from "../strategies/load.js";
import { verifyCell } from "./verify.js";
import type { FromVerifyThread, ToVerifyThread } from "./verify-thread.js";

// The worker-thread side of verify-thread.ts: exhaustive checks of cells, one at a time, with
// strategies, models and corpus cases loaded once per thread.

const strategies = new Map<string, Strategy>();
const models = new Map<string, Model>();
const cases = new Map<string, { name: string; prepared: PreparedCase }>();

async function serve(m: ToVerifyThread): Promise<void> {
  const send = (msg: FromVerifyThread) => parentPort!.postMessage(msg);
  try {
    const { job } = m;
    if (!strategies.has(job.strategy)) strategies.set(job.strategy, await resolveStrategy(job.strategy));
    if (!models.has(job.model)) models.set(job.model, resolveModel(job.model));
    const list = job.cases.map((file) => {
      if (!cases.has(file)) {
        const loaded = loadCaseFile(file);
        cases.set(file, { name: loaded.kase.name, prepared: prepare(loaded.kase, loaded.soloBudget) });
      }
      return cases.get(file)!;
    });
    let n = 0;
    const check = verifyCell(strategies.get(job.strategy)!, models.get(job.model)!, list, {
      bound: job.bound, maxSchedules: job.maxSchedules,
      onSchedule: () => {
        if (++n % 256 === 0) send({ type: "progress", id: m.id });
      },
    });
    send({ type: "done", id: m.id, check });
  } catch (e) {
    send({ type: "failed", id: m.id, message: e instanceof Error ? e.message : String(e) });
  }
}

parentPort!.on("message", (m: ToVerifyThread) => void serve(m));
