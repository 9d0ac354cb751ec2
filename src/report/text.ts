import type { ByteOrigin, Case, CoreObservation, Divergence, EndState, FetchedInstr, ObsEvent, Passage, RuleFinding, RunResult, Verdict } from "../types.js";
import { disassemble, hex } from "../isa/disasm.js";
import { R32 } from "../isa/registers.js";
import { divergenceSignature, focusedDivergence, formatPhase } from "../oracle/classify.js";

// Plain-text reports: formatting only, from a finished run and its verdict.

const h = (n: number) => `0x${n.toString(16)}`;

export function formatEvent(e: ObsEvent): string {
  return e.kind === "out" ? `out ${h(e.port)} <- ${h(e.value)}` : `probe ${h(e.addr)}`;
}

export function formatEnd(e: EndState): string {
  if (e.kind === "halt") return "hlt";
  if (e.kind === "unfinished") return "(unfinished)";
  return `${e.fault} at ${h(e.addr)}`;
}

/** One line per verdict: the `run` command's output. */
export function verdictLine(v: Verdict): string {
  const cell = `${v.strategy.padEnd(20)} ${v.model.padEnd(22)}`;
  const rules = v.rules.length > 0 ? `  [rules: ${[...new Set(v.rules.map((r) => r.rule))].join(", ")}]` : "";
  if (v.kind === "harness-error") return `${cell} HARNESS ERROR  ${v.harnessError}`;
  if (v.kind === "clean") return `${cell} clean${rules}`;
  const d = v.divergences[0];
  if (!d) return `${cell} DIVERGES (rule findings counted as divergences)${rules}`;
  return `${cell} DIVERGES  ${d.cause} -> ${d.effect}  (${d.slotKind}, phase ${formatPhase(d.phase)}, core ${d.core})${rules}`;
}

/** "byte 0 new (fetched t=5, ...), bytes 1-2 old (...)": a fetched instruction's provenance, in words. */
export function describeOrigins(f: FetchedInstr, run: Pick<RunResult, "phases">): string {
  // Group consecutive bytes with the same origin, fetch time and patcher step: "byte 0 new, bytes 1-2 old".
  const parts: string[] = [];
  let i = 0;
  while (i < f.origin.length) {
    let j = i;
    while (j + 1 < f.origin.length && f.origin[j + 1] === f.origin[i] && f.patcherStepAt[j + 1] === f.patcherStepAt[i] && f.fetchedAt[j + 1] === f.fetchedAt[i]) j++;
    const which = i === j ? `byte ${i}` : `bytes ${i}-${j}`;
    parts.push(`${which} ${f.origin[i]} (fetched t=${f.fetchedAt[i]}, ${stepContext(run, f.patcherStepAt[i]!)})`);
    i = j + 1;
  }
  return parts.join(", ");
}

function stepContext(run: Pick<RunResult, "phases">, steps: number): string {
  if (steps === 0) return "before the patcher's first step";
  const entry = run.phases.filter((p) => p.phase.kind !== "after")[steps];
  return `after patcher step ${steps}${entry ? ` (${entry.phase.kind})` : ""}`;
}

const originMark: Record<ByteOrigin, string> = { invariant: "=", old: "o", new: "N", int3: "^", intermediate: "?" };

function passageLines(p: Passage, kase: Case, run: RunResult): string[] {
  const s = kase.program.slots[p.slot]!;
  const out = [
    `core ${p.core} through slot ${s.name} (${s.kind}) at t=${p.begin}..${p.end < 0 ? "end" : p.end}, judged against op ${p.op}` +
    `${p.resolution ? `, trap resolved by ${p.resolution}` : ""}${p.badEmulation ? " (bad emulation)" : ""}${p.widened ? ", widened" : ""}`,
  ];
  for (const f of p.fetched) {
    const text = disassemble(f.bytes, f.addr)[0]?.text ?? "";
    out.push(`  ${h(f.addr)}  ${hex(f.bytes).padEnd(24)} ${text.padEnd(22)} [${f.origin.map((o) => originMark[o]).join("")}]`);
    out.push(`      ${describeOrigins(f, run)}`);
  }
  return out;
}

function sideBySide(obs: CoreObservation, expected: CoreObservation | undefined, point: number): string[] {
  const rows = Math.max(obs.events.length, expected?.events.length ?? 0);
  const out = [`   #  ${"observed".padEnd(24)} ${"expected (closest stop_machine schedule)".padEnd(24)}`];
  const from = Math.max(0, point - 4), to = Math.min(rows, point + 4);
  if (from > 0) out.push("   ...");
  for (let i = from; i < to; i++) {
    const o = obs.events[i] ? formatEvent(obs.events[i]!) : "-";
    const e = expected?.events[i] ? formatEvent(expected.events[i]!) : "-";
    const mark = i === point && point < obs.events.length ? "  <-- first divergence" : "";
    out.push(`${String(i).padStart(4)}  ${o.padEnd(24)} ${e.padEnd(24)}${mark}`);
  }
  if (to < rows) out.push("   ...");
  const endMark = point >= obs.events.length ? "  <-- first divergence" : "";
  out.push(` end  ${formatEnd(obs.end).padEnd(24)} ${(expected ? formatEnd(expected.end) : "-").padEnd(24)}${endMark}`);
  for (const [o, e] of endStateDifferences(obs, expected, point)) out.push(`      ${o.padEnd(24)} ${e.padEnd(24)}`);
  return out;
}

/**
 * For a divergence in the end state (`point` past the events) where both end the same way: where
 * the observed and expected end states differ, as (observed, expected) texts: registers, ZF (after
 * the registers in `regs`), and memory (private data and the live stack, by digest).
 */
export function endStateDifferences(obs: CoreObservation, expected: CoreObservation | undefined, point: number): [string, string][] {
  const rows: [string, string][] = [];
  if (!expected || point < obs.events.length || formatEnd(obs.end) !== formatEnd(expected.end)) return rows;
  const reg = (v: number | undefined) => `0x${(v ?? 0).toString(16).padStart(8, "0")}`;
  R32.forEach((name, i) => {
    if (obs.regs[i] !== expected.regs[i]) rows.push([`${name} = ${reg(obs.regs[i])}`, `${name} = ${reg(expected.regs[i])}`]);
  });
  const zf = R32.length;
  if (obs.regs[zf] !== expected.regs[zf]) rows.push([`ZF = ${obs.regs[zf]}`, `ZF = ${expected.regs[zf]}`]);
  if (obs.digest !== expected.digest) rows.push([`memory digest ${obs.digest}`, `memory digest ${expected.digest}`]);
  return rows;
}

function ruleLines(rules: readonly RuleFinding[]): string[] {
  return rules.map((r) => `  ${r.rule}: core ${r.core} executed ${hex(r.bytes)} at ${h(r.addr)} (t=${r.t}, phase ${formatPhase(r.phase)}, slot ${r.slotKind})`);
}

function timeline(run: RunResult, d: Divergence | undefined): string[] {
  const keep = new Set(["store", "ipi", "ack", "trap", "resolve", "park", "snoop", "inval", "clean", "end", "fault"]);
  const around = d ? d.t : Infinity;
  const lines = run.trace
    .filter((e) => keep.has(e.kind) || (d && e.core === d.core && e.kind === "exec" && Math.abs(e.t - around) <= 12))
    .map((e) => `  t=${String(e.t).padStart(5)}  ${(e.core === 0 ? "patcher" : e.core < 0 ? "memory" : `core ${e.core}`).padEnd(8)} ${e.text}`);
  return lines.length > 80 ? [...lines.slice(0, 40), `  ... ${lines.length - 80} more ...`, ...lines.slice(-40)] : lines;
}

/**
 * The `repro` report: what a kernel developer reads at a glance. `focus`: the signature of the
 * divergence to show in full (a finding's: another core's may come first), else the first.
 */
export function formatReport(kase: Case, run: RunResult, verdict: Verdict, title: string, focus?: string): string {
  const out: string[] = [];
  const d = focusedDivergence(verdict, focus);
  out.push(`${title}`);
  out.push(`case ${kase.name}: ${kase.cores} cores (core 0 patches), ${kase.program.slots.length} slot(s), ${kase.ops.length} op(s)`);
  out.push(`strategy ${verdict.strategy}, model ${verdict.model}, ${run.decisionCount} scheduler decisions, ${run.events} events`);
  out.push("");
  if (verdict.kind === "harness-error") out.push(`HARNESS ERROR: ${verdict.harnessError}`);
  else if (d) {
    out.push(`DIVERGES: ${d.cause} -> ${d.effect}   (phase ${formatPhase(d.phase)}, alignment ${d.alignment})`);
    out.push(`signature: ${divergenceSignature(verdict, d)}`);
    out.push(d.detail);
  } else out.push(verdict.kind === "clean" ? "clean: every core's observation is one a stop_machine patch could produce" : "DIVERGES (rule findings)");
  out.push("", "slots:");
  for (const s of kase.program.slots) {
    const dis = (b: Uint8Array) => disassemble(b, s.start).map((l) => l.text).join("; ");
    out.push(`  ${s.name.padEnd(8)} ${h(s.start)}..${h(s.start + s.len)}  ${s.kind}`);
    out.push(`    old: ${hex(s.old).padEnd(24)} ${dis(s.old)}`);
    out.push(`    new: ${hex(s.new).padEnd(24)} ${dis(s.new)}`);
  }
  out.push("", "ops:");
  kase.ops.forEach((op, j) => {
    const t = run.ops[j]!;
    const targets = op.targets.map((x) => `${kase.program.slots[x.slot]!.name}->${x.to}`).join(", ");
    out.push(`  op ${j}: ${targets}  (${op.batch}${op.monotonic ? "" : ", non-monotonic"})  ${opTimes(t)}`);
  });
  if (d?.passage) out.push("", "first divergent passage (o old, N new, = invariant, ^ int3, ? intermediate):", ...passageLines(d.passage, kase, run));
  if (d && d.core > 0) {
    const obs = run.observations[d.core - 1]!;
    out.push("", `core ${d.core}: observed vs expected`, ...sideBySide(obs, d.expected, d.point));
  }
  if (verdict.divergences.length > 1) {
    out.push("", "other divergences:");
    for (const x of verdict.divergences) if (x !== d) out.push(`  core ${x.core}: ${x.cause} -> ${x.effect} at t=${x.t} (${x.detail})`);
  }
  out.push("", verdict.rules.length > 0 ? "rule findings (not divergences unless --rules-fail):" : "rule findings: none");
  out.push(...ruleLines(verdict.rules));
  if (run.trace.length > 0) out.push("", "timeline:", ...timeline(run, d));
  return out.join("\n") + "\n";
}

/** When an op ran: "began t=3, returned t=9", "began t=3, returned never" (a hung run), or "never began". */
export function opTimes(t: { readonly begin: number; readonly returned: number }): string {
  return t.begin === Infinity ? "never began" : `began t=${t.begin}, returned ${t.returned === Infinity ? "never" : `t=${t.returned}`}`;
}
