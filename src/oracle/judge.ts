import type { CoreObservation, Divergence, Passage, PatcherPhase, RunResult, Verdict } from "../types.js";
import type { CasePlan } from "../machine/plan.js";
import { causeOf, effectOf, phaseAt, signatureOf } from "./classify.js";
import { MembershipSearch, WORK_CAP_LIMITS } from "./membership.js";
import { passagesByCore, windowsFrom } from "./windows.js";
import { OracleGaveUp } from "../errors.js";

// The verdict of one run (SPEC 6-7): each program core's observation against the stop_machine
// reference family, hangs, the final-code check, and the rule findings beside them. It reads only
// the case and the run: never the strategy's name, never a table of expected results.

function slotKindOf(plan: CasePlan, slot: number | undefined): string {
  return slot === undefined ? "-" : plan.kase.program.slots[slot]!.kind;
}

function divergenceOf(
  plan: CasePlan, run: RunResult, obs: CoreObservation, passages: readonly Passage[], point: number,
  expected: CoreObservation | undefined, hang: boolean, alignment: Divergence["alignment"],
): Divergence {
  // At the divergence point (SPEC 7.1), a hung core's too: at the run's end only when every event
  // it had matched (its phase and cause are then those of the hang).
  const t = point < obs.events.length ? obs.times[point]! : hang ? run.events : obs.endTime;
  const { cause, passage } = causeOf(passages, obs, run, t, plan.kase.ops);
  const effect = hang ? "hang" : effectOf(obs, expected);
  const phase = phaseAt(run, t);
  const slotKind = slotKindOf(plan, passage?.slot);
  const eventRefuted = point < obs.events.length ? `event #${point} is not allowed by any stop_machine schedule` : undefined;
  const what = hang
    ? `core ${obs.core} hung after ${obs.instructions} instructions${eventRefuted ? `; its ${eventRefuted}` : ""}`
    : `core ${obs.core}: ${eventRefuted ?? "its end state is not allowed by any stop_machine schedule"}`;
  return {
    core: obs.core, cause, effect, slotKind, phase, t, point, alignment,
    passage, expected, detail: what,
  };
}

/**
 * The work cap of a search with windows a torn jump opened, in per-branch limits, before SPEC
 * 6.1's one-step windows decide instead (README: up to ~20 loop iterations of a jump over two slots).
 */
const OPEN_WINDOWS_CAP_LIMITS = 64;

export interface JudgeOptions {
  /** Count rule findings as divergences (`--rules-fail`). */
  readonly rulesFail?: boolean;
}

export function judge(plan: CasePlan, run: RunResult, opts: JudgeOptions = {}): Verdict {
  // Verdicts are built as whole literals, without spreads (see strategies/ctx.ts on V8 and spreads).
  if (run.harnessError) {
    return { strategy: run.strategy, model: run.model, rules: run.rules, kind: "harness-error", divergences: [], harnessError: run.harnessError };
  }
  const divergences: Divergence[] = [];
  const passages = passagesByCore(run);
  const passagesOf = (obs: CoreObservation) => passages[obs.core - 1]!;
  const check = (obs: CoreObservation) => {
    const mine = passagesOf(obs);
    const win = windowsFrom(run, mine);
    let search = new MembershipSearch(plan, obs.core, obs, win, mine, run.soloBudget, win.opened ? OPEN_WINDOWS_CAP_LIMITS : WORK_CAP_LIMITS).run();
    let alignment: Divergence["alignment"] = win.opened ? "opened" : win.widened ? "widened" : "exact";
    if (search.exhausted && win.opened) {
      // Windows a torn jump opened admit every combination of switch points after it: in a hot
      // loop through several slots, too many to refute (an audit's 3 slots x 60 passages: 8M
      // work for an observation one-step windows refute in 1,206). SPEC 6.1's one-step windows
      // decide then, as the SPEC reads (they may call a torn jump over several slots a divergence).
      search = new MembershipSearch(plan, obs.core, obs, windowsFrom(run, mine, "one-step"), mine, run.soloBudget).run();
      alignment = "widened";
    }
    if (search.exhausted) throw new OracleGaveUp(`the oracle gave up on core ${obs.core}: its membership search passed its work cap (${search.work} steps), so this run has no verdict`);
    return { member: search.member, point: search.point, expected: search.expected, alignment };
  };

  const hung = run.hung;
  // A hung run's cores that ended are judged like any other (SPEC 1: a divergence is outside the
  // family, a hang, or wrong final code); "a hung run reports only hang" (SPEC 6.4) is read as
  // "no end-of-run code check": a run that never ended has no final code, but a wrong code found
  // when an op returned stays a divergence.
  for (const obs of run.observations) {
    if (hung?.stuckCores.includes(obs.core)) continue;
    const m = check(obs);
    if (!m.member) divergences.push(divergenceOf(plan, run, obs, passagesOf(obs), m.point, m.expected, false, m.alignment));
  }
  if (hung) {
    // A running hung core is admitted when some branch of its search runs as long without ending.
    let admitted = false;
    const blocked: CoreObservation[] = [];
    for (const c of hung.stuckCores) {
      const obs = run.observations[c - 1]!;
      if (hung.blockedCores.includes(c)) {
        blocked.push(obs);
        continue;
      }
      const m = check(obs);
      if (m.member) admitted = true;
      else divergences.push(divergenceOf(plan, run, obs, passagesOf(obs), m.point, m.expected, true, m.alignment));
    }
    // A hung patcher is excused by an admitted core (it may be waiting for that core's long
    // computation, as stop_machine waits for a core looping with IF=0), and so are the cores only
    // the patcher frees meanwhile: parked by stopMachine, or in an IPI function (SPEC 6.4's "a
    // parked core or one in a handler is a hang" read so that stop_machine never diverges, 6.6).
    // A core in an int3 handler or with no enabled event is a hang even then: a deadlock of the
    // strategy's own (a handler awaiting a patcher that awaits its ack) is no long computation.
    const excused = hung.patcherStuck && admitted;
    for (const obs of blocked) {
      if (excused && hung.waitingOnPatcher.includes(obs.core)) continue;
      divergences.push(divergenceOf(plan, run, obs, passagesOf(obs), obs.events.length, undefined, true, "exact"));
    }
    if (hung.patcherStuck && !admitted) {
      const t = run.events;
      const phase = phaseAt(run, t);
      divergences.push({
        core: 0, cause: "unexplained", effect: "hang", slotKind: slotKindOf(plan, plan.kase.ops[run.ops.findIndex((o) => o.returned === Infinity)]?.targets[0]?.slot),
        phase, t, point: 0, alignment: "exact", detail: `the patcher hung ${hung.deadlock ? "(deadlock: no event enabled)" : "(budget exhausted)"}`,
      });
    }
  }
  const w = run.wrongFinalCode;
  if (w) {
    const off = w.addr - plan.base;
    const slot = plan.slotAt[off]! >= 0 ? plan.slotAt[off]! : undefined;
    divergences.push({
      core: 0, cause: "unexplained", effect: "wrong-final-code", slotKind: slotKindOf(plan, slot),
      phase: codeCheckPhase(run, w.t), t: w.t, point: 0, alignment: "exact",
      detail: `code byte 0x${w.addr.toString(16)} holds ${hex2(w.actual)}, expected ${hex2(w.expected)}`,
    });
  }
  divergences.sort((x, y) => x.t - y.t);
  const first = divergences[0];
  const ruleDiverges = opts.rulesFail === true && run.rules.length > 0;
  return {
    strategy: run.strategy,
    model: run.model,
    rules: run.rules,
    kind: first || ruleDiverges ? "diverges" : "clean",
    divergences,
    signature: first ? signatureOf(run.strategy, run.model, first.cause, first.effect, first.slotKind, first.phase) : undefined,
  };
}

/**
 * The phase of a code check at t. One made as an op returned is that op's last step's (the last
 * op's return also enters `after` at that t, which an earlier op's does not: the same wrong code
 * was signed two ways); one made at the run's end, after every op, is `after`.
 */
function codeCheckPhase(run: RunResult, t: number): PatcherPhase {
  return phaseAt(run, t, run.ops.some((op) => op.returned === t) ? "after" : undefined);
}

function hex2(v: number): string {
  return v.toString(16).padStart(2, "0");
}
