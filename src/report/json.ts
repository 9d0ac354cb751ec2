import type { CoreObservation, Divergence, Passage, RuleFinding, RunResult, Verdict } from "../types.js";
import { formatPhase } from "../oracle/classify.js";
import { formatEnd, formatEvent } from "./text.js";

// JSON views of verdicts and runs (`--json`): plain data, stable field names.

function observationJson(o: CoreObservation) {
  return { core: o.core, events: o.events.map(formatEvent), end: formatEnd(o.end), instructions: o.instructions, regs: o.regs, digest: o.digest };
}

function passageJson(p: Passage) {
  return {
    core: p.core, slot: p.slot, op: p.op, begin: p.begin, end: p.end, widened: p.widened, badEmulation: p.badEmulation,
    resolution: p.resolution ?? null, resolvedAs: p.resolvedAs ?? null, fetched: p.fetched,
  };
}

function divergenceJson(d: Divergence) {
  return {
    core: d.core, cause: d.cause, effect: d.effect, slotKind: d.slotKind, phase: formatPhase(d.phase), t: d.t,
    point: d.point, alignment: d.alignment, detail: d.detail,
    passage: d.passage && passageJson(d.passage),
    expected: d.expected && observationJson(d.expected),
  };
}

function ruleJson(r: RuleFinding) {
  return { rule: r.rule, core: r.core, addr: r.addr, t: r.t, bytes: r.bytes, phase: formatPhase(r.phase), slotKind: r.slotKind };
}

export function verdictJson(v: Verdict) {
  return {
    strategy: v.strategy, model: v.model, verdict: v.kind, signature: v.signature ?? null,
    divergences: v.divergences.map(divergenceJson), rules: v.rules.map(ruleJson), harnessError: v.harnessError ?? null,
  };
}

export function runJson(run: RunResult, v: Verdict) {
  return {
    ...verdictJson(v),
    events: run.events, decisions: run.decisionCount,
    ops: run.ops.map((o) => ({ begin: o.begin, returned: o.returned === Infinity ? null : o.returned })),
    observations: run.observations.map(observationJson),
    hung: run.hung ?? null,
  };
}
