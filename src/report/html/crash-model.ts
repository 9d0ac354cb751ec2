import type { ByteOrigin, Case, CoreObservation, Divergence, Passage, PhaseKind, RunResult, TraceEvent, Verdict } from "../../types.js";
import { disassemble, hex } from "../../isa/disasm.js";
import { divergenceSignature, focusedDivergence, formatPhase, passageVersion } from "../../oracle/classify.js";
import { endStateDifferences, formatEnd, formatEvent, opTimes } from "../text.js";

// The HTML crash report's model: everything the page shows, computed from a traced replay
// (case, run, verdict). Pure; crash.ts only renders it.

/** Event kinds a lane shows; everything else in the trace (handler steps, parks, ...) is "other". */
export type LaneMarkKind =
  | "exec" | "store" | "step" | "ipi" | "ack" | "trap" | "resolve" | "refill"
  | "snoop" | "inval" | "clean" | "end" | "other";

export interface LaneMark {
  readonly t: number;
  readonly kind: LaneMarkKind;
  readonly text: string;
}

export interface PassageBar {
  readonly core: number;
  readonly slot: string;
  readonly begin: number;
  /** Inclusive end time; the run's end for a passage still open. */
  readonly end: number;
  readonly version: "old" | "new" | "mixed" | "none";
  readonly widened: boolean;
  /** The passage the verdict names as explaining the first divergence. */
  readonly divergent: boolean;
}

export interface Lane {
  /** 0 the patcher, 1.. program cores, -1 the memory system (write-backs). */
  readonly core: number;
  readonly label: string;
  readonly marks: readonly LaneMark[];
  /** Instruction marks left out of a very long lane (the other events are always kept). */
  readonly hiddenExecs: number;
  readonly passages: readonly PassageBar[];
  /** How the core ended (program cores), with the time. */
  readonly end?: { readonly t: number; readonly text: string };
}

export interface PhaseSpan {
  readonly from: number;
  readonly to: number;
  readonly kind: PhaseKind;
  readonly label: string;
}

export interface SlotView {
  readonly name: string;
  readonly kind: string;
  readonly start: number;
  readonly old: readonly string[];
  readonly new: readonly string[];
  readonly oldText: string;
  readonly newText: string;
}

export interface FetchedByte {
  readonly value: string;
  readonly origin: ByteOrigin;
  readonly fetchedAt: number;
  readonly patcherStep: number;
}

export interface FetchedRow {
  readonly addr: number;
  readonly text: string;
  readonly bytes: readonly FetchedByte[];
}

export interface PassageDetail {
  readonly core: number;
  readonly slot: string;
  readonly slotKind: string;
  readonly begin: number;
  readonly end: number;
  readonly op: number;
  readonly note: string;
  readonly rows: readonly FetchedRow[];
}

export interface ComparisonRow {
  /**
   * Event index, "end" for the end state, "state" for a register or the memory where end states of
   * the same kind differ, or "gap" for rows left out (`observed` says how many).
   */
  readonly index: number | "end" | "state" | "gap";
  readonly observed: string;
  readonly expected: string;
  /** The first event no stop_machine schedule matches. */
  readonly divergent: boolean;
}

export interface DivergenceView {
  readonly core: number;
  readonly cause: string;
  readonly effect: string;
  readonly phase: string;
  readonly alignment: string;
  readonly t: number;
  readonly detail: string;
}

export interface CrashReportModel {
  readonly title: string;
  readonly caseName: string;
  readonly strategy: string;
  readonly model: string;
  readonly cores: number;
  readonly verdict: Verdict["kind"];
  readonly signature?: string;
  readonly harnessError?: string;
  readonly divergence?: DivergenceView;
  readonly otherDivergences: readonly DivergenceView[];
  /** Last event time (the axis runs 0..tEnd). */
  readonly tEnd: number;
  readonly lanes: readonly Lane[];
  readonly phases: readonly PhaseSpan[];
  /** Each op's first step and return (null: never, as in a hung run), and both in words. */
  readonly ops: readonly { readonly label: string; readonly begin: number | null; readonly returned: number | null; readonly times: string }[];
  readonly slots: readonly SlotView[];
  readonly passage?: PassageDetail;
  readonly comparison: readonly ComparisonRow[];
  readonly rules: readonly string[];
  readonly decisions: number;
  readonly events: number;
}

const LANE_KINDS = new Set<LaneMarkKind>(["exec", "store", "step", "ipi", "ack", "trap", "resolve", "refill", "snoop", "inval", "clean", "end"]);

function markOf(e: TraceEvent): LaneMark {
  // A handler's retry ("resume") is a resolution like the others.
  const kind: LaneMarkKind = e.kind === "resume" ? "resolve" : LANE_KINDS.has(e.kind as LaneMarkKind) ? (e.kind as LaneMarkKind) : "other";
  return { t: e.t, kind, text: e.text };
}

/** Past this many marks in a lane, its instruction marks are dropped to keep the page light. */
export const MAX_LANE_MARKS = 5000;

function laneMarks(all: LaneMark[]): { marks: LaneMark[]; hiddenExecs: number } {
  if (all.length <= MAX_LANE_MARKS) return { marks: all, hiddenExecs: 0 };
  const marks = all.filter((m) => m.kind !== "exec");
  return { marks, hiddenExecs: all.length - marks.length };
}

const samePassage = (p: Passage, q: Passage | undefined) => q !== undefined && p.core === q.core && p.slot === q.slot && p.begin === q.begin;

function divergenceView(d: Divergence): DivergenceView {
  return { core: d.core, cause: d.cause, effect: d.effect, phase: formatPhase(d.phase), alignment: d.alignment, t: d.t, detail: d.detail };
}

function phaseSpans(run: RunResult, tEnd: number): PhaseSpan[] {
  const spans: PhaseSpan[] = [];
  run.phases.forEach((entry, i) => {
    const to = run.phases[i + 1]?.t ?? tEnd;
    const label = formatPhase(entry.phase);
    const last = spans[spans.length - 1];
    // Consecutive steps of one phase (four stores in a row) are one band.
    if (last && last.label === label) spans[spans.length - 1] = { ...last, to };
    else spans.push({ from: entry.t, to, kind: entry.phase.kind, label });
  });
  return spans.filter((s) => s.to > s.from || s === spans[spans.length - 1]);
}

function passageDetail(p: Passage, kase: Case, tEnd: number): PassageDetail {
  const s = kase.program.slots[p.slot]!;
  const notes = [
    p.resolution ? `trap resolved by ${p.resolution}` : "",
    p.badEmulation ? "bad emulation" : "",
    p.widened ? "widened (an instruction of neither version)" : "",
  ].filter(Boolean);
  return {
    core: p.core, slot: s.name, slotKind: s.kind, begin: p.begin, end: p.end < 0 ? tEnd : p.end, op: p.op,
    note: notes.join(", "),
    rows: p.fetched.map((f) => ({
      addr: f.addr,
      text: disassemble(f.bytes, f.addr)[0]?.text ?? "",
      bytes: f.bytes.map((b, i) => ({
        value: (b & 0xff).toString(16).padStart(2, "0"), origin: f.origin[i]!, fetchedAt: f.fetchedAt[i]!, patcherStep: f.patcherStepAt[i]!,
      })),
    })),
  };
}

/** Events shown on each side of the divergence point (the rest collapse into gap rows). */
export const COMPARISON_CONTEXT = 12;

function comparison(obs: CoreObservation, expected: CoreObservation | undefined, point: number): ComparisonRow[] {
  const rows: ComparisonRow[] = [];
  const n = Math.max(obs.events.length, expected?.events.length ?? 0);
  const from = Math.max(0, point - COMPARISON_CONTEXT), to = Math.min(n, point + COMPARISON_CONTEXT + 1);
  const gap = (k: number) => ({ index: "gap" as const, observed: `${k} event${k === 1 ? "" : "s"} not shown`, expected: "", divergent: false });
  if (from > 0) rows.push(gap(from));
  for (let i = from; i < to; i++) {
    rows.push({
      index: i,
      observed: obs.events[i] ? formatEvent(obs.events[i]!) : "-",
      expected: expected?.events[i] ? formatEvent(expected.events[i]!) : "-",
      divergent: i === point && point < obs.events.length,
    });
  }
  if (to < n) rows.push(gap(n - to));
  rows.push({ index: "end", observed: formatEnd(obs.end), expected: expected ? formatEnd(expected.end) : "-", divergent: point >= obs.events.length });
  for (const [o, e] of endStateDifferences(obs, expected, point)) rows.push({ index: "state", observed: o, expected: e, divergent: false });
  return rows;
}

/** The crash page's model; `focus`: the signature of the divergence to show in full (a finding's), else the first. */
export function crashReportModel(kase: Case, run: RunResult, verdict: Verdict, title: string, focus?: string): CrashReportModel {
  const d = focusedDivergence(verdict, focus);
  const lastTrace = run.trace.length > 0 ? run.trace[run.trace.length - 1]!.t : 0;
  const tEnd = Math.max(run.events, lastTrace, 1);
  const slotName = (i: number) => kase.program.slots[i]?.name ?? `#${i}`;
  const lane = (core: number, label: string): Lane => {
    const obs = core > 0 ? run.observations[core - 1] : undefined;
    return {
      core, label,
      ...laneMarks(run.trace.filter((e) => e.core === core).map(markOf)),
      passages: run.passages.filter((p) => p.core === core).map((p) => ({
        core, slot: slotName(p.slot), begin: p.begin, end: p.end < 0 ? tEnd : p.end,
        version: passageVersion(p), widened: p.widened, divergent: samePassage(p, d?.passage),
      })),
      ...(obs ? { end: { t: obs.endTime, text: formatEnd(obs.end) } } : {}),
    };
  };
  const lanes = [lane(0, "patcher (core 0)")];
  for (let c = 1; c < kase.cores; c++) lanes.push(lane(c, `core ${c}`));
  if (run.trace.some((e) => e.core < 0)) lanes.push(lane(-1, "memory (write-backs)"));
  return {
    title, caseName: kase.name, strategy: verdict.strategy, model: verdict.model, cores: kase.cores,
    verdict: verdict.kind,
    ...(d ? { signature: divergenceSignature(verdict, d) } : {}),
    ...(verdict.harnessError ? { harnessError: verdict.harnessError } : {}),
    ...(d ? { divergence: divergenceView(d) } : {}),
    otherDivergences: verdict.divergences.filter((x) => x !== d).map(divergenceView),
    tEnd, lanes,
    phases: phaseSpans(run, tEnd),
    ops: kase.ops.map((op, j) => ({
      label: `op ${j}: ${op.targets.map((x) => `${slotName(x.slot)}->${x.to}`).join(", ")} (${op.batch}${op.monotonic ? "" : ", non-monotonic"})`,
      begin: run.ops[j] && run.ops[j]!.begin !== Infinity ? run.ops[j]!.begin : null,
      returned: run.ops[j] && run.ops[j]!.returned !== Infinity ? run.ops[j]!.returned : null,
      times: run.ops[j] ? opTimes(run.ops[j]!) : "never began",
    })),
    slots: kase.program.slots.map((s) => ({
      name: s.name, kind: s.kind, start: s.start,
      old: [...s.old].map((b) => b.toString(16).padStart(2, "0")),
      new: [...s.new].map((b) => b.toString(16).padStart(2, "0")),
      oldText: disassemble(s.old, s.start).map((l) => l.text).join("; "),
      newText: disassemble(s.new, s.start).map((l) => l.text).join("; "),
    })),
    ...(d?.passage ? { passage: passageDetail(d.passage, kase, tEnd) } : {}),
    comparison: d && d.core > 0 && run.observations[d.core - 1] ? comparison(run.observations[d.core - 1]!, d.expected, d.point) : [],
    rules: verdict.rules.map((r) => `${r.rule}: core ${r.core} executed ${hex(r.bytes)} at 0x${r.addr.toString(16)} (t=${r.t}, phase ${formatPhase(r.phase)}, slot ${r.slotKind})`),
    decisions: run.decisionCount,
    events: run.events,
  };
}
