import type { ByteOrigin, Case, CoreObservation, Divergence, RunResult, Verdict } from "../types.js";
import { decode } from "../isa/decode.js";
import { disassemble, hex } from "../isa/disasm.js";
import { formatPhase, showsSignature } from "../oracle/classify.js";
import { windowsOf } from "../oracle/windows.js";
import { endStateDifferences, formatEnd, formatEvent, opTimes } from "./text.js";

// A litmus-style export of a (minimized) case and one traced replay: the per-core code, the
// patch, and the observed vs allowed outcomes, readable without the tool. Formatting only.

const h = (n: number) => `0x${n.toString(16)}`;
const MAX_EVENTS = 12;
const MAX_PATCHER_LINES = 40;

/** A core's events and end state on one line; repeated events collapse ("out 0x10 <- 0x2 x9"). */
function outcome(o: CoreObservation): string {
  const runs: { text: string; n: number }[] = [];
  for (const e of o.events) {
    const text = formatEvent(e), last = runs[runs.length - 1];
    if (last && last.text === text) last.n++;
    else runs.push({ text, n: 1 });
  }
  const shown = runs.slice(0, MAX_EVENTS).map((r) => (r.n > 1 ? `${r.text} x${r.n}` : r.text));
  if (runs.length > MAX_EVENTS) shown.push(`... ${runs.length - MAX_EVENTS} more`);
  return [...shown, formatEnd(o.end)].join("; ");
}

/** "byte 0 new, bytes 1-2 old, bytes 3-4 invariant": where each fetched byte came from. */
function origins(o: readonly ByteOrigin[]): string {
  const parts: string[] = [];
  for (let i = 0; i < o.length;) {
    let j = i;
    while (j + 1 < o.length && o[j + 1] === o[i]) j++;
    parts.push(`${i === j ? `byte ${i}` : `bytes ${i}-${j}`} ${o[i]}`);
    i = j + 1;
  }
  return parts.join(", ");
}

/**
 * The code, disassembled piecewise: each slot over its own bytes and each stretch between slots
 * over its own, so a slot's padding (after a probe's CC, say) never shifts the lines after it.
 */
function listing(p: Case["program"]): ReturnType<typeof disassemble> {
  const out: ReturnType<typeof disassemble> = [];
  const slots = [...p.slots].sort((a, b) => a.start - b.start);
  let at = p.base;
  const piece = (from: number, to: number) => {
    if (to > from) out.push(...disassemble(p.code.subarray(from - p.base, to - p.base), from));
  };
  for (const s of slots) {
    piece(at, s.start);
    piece(s.start, s.start + s.len);
    at = s.start + s.len;
  }
  piece(at, p.base + p.code.length);
  return out;
}

function codeLines(kase: Case): string[] {
  const p = kase.program;
  const starts = new Map<number, string[]>();
  p.entries.forEach((e, i) => starts.set(e, [...(starts.get(e) ?? []), `P${i + 1}`]));
  const slotAt = (a: number) => p.slots.find((s) => a >= s.start && a < s.start + s.len);
  return listing(p).map((l) => {
    const who = starts.get(l.addr);
    const s = slotAt(l.addr);
    const notes = [who ? `<- ${who.join(", ")} start` : "", s ? `[slot ${s.name}, old]` : ""].filter(Boolean).join("  ");
    return `  ${h(l.addr).padEnd(8)} ${hex(l.bytes).padEnd(18)} ${l.text.padEnd(24)}${notes ? ` ${notes}` : ""}`.trimEnd();
  });
}

function patchLines(kase: Case, run: RunResult, verdict: Verdict): string[] {
  const slots = kase.program.slots;
  const out: string[] = [];
  for (const s of slots) {
    const dis = (b: Uint8Array) => disassemble(b, s.start).map((l) => l.text).join("; ");
    out.push(`  slot ${s.name} ${h(s.start)}..${h(s.start + s.len)} (${s.kind})`);
    out.push(`    old: ${hex(s.old).padEnd(18)} ${dis(s.old)}`);
    out.push(`    new: ${hex(s.new).padEnd(18)} ${dis(s.new)}`);
  }
  kase.ops.forEach((op, j) => {
    const t = run.ops[j];
    const targets = op.targets.map((x) => `${slots[x.slot]!.name} -> ${x.to}`).join(", ");
    out.push(`  op ${j}: ${targets}  (${op.batch}${op.monotonic ? "" : ", non-monotonic"})` +
      (t ? `  ${opTimes(t)}` : ""));
  });
  const steps = run.trace.filter((e) => e.core === 0);
  if (steps.length > 0) {
    out.push(`  P0 (${verdict.strategy}) as it ran:`);
    const shown = steps.length > MAX_PATCHER_LINES ? [...steps.slice(0, MAX_PATCHER_LINES / 2), undefined, ...steps.slice(-MAX_PATCHER_LINES / 2)] : steps;
    for (const e of shown) out.push(e ? `    t=${String(e.t).padStart(4)}  ${e.text}` : `    ... ${steps.length - MAX_PATCHER_LINES} more steps ...`);
  }
  return out;
}

/** Where each op may switch for this core (SPEC 6.2): after how many of its passages. */
function windowText(kase: Case, run: RunResult, core: number, divergence: Divergence | undefined): string {
  // The windows that decided: one step where the verdict fell back to them (see oracle/judge.ts).
  const w = windowsOf(run, core, divergence?.alignment === "widened" ? "one-step" : "open");
  if (w.a.length === 0) return "no op: the unpatched code";
  return w.a.map((a, j) => {
    if (a === Infinity) return `op ${j} never began: not applied`;
    const range = w.b[j] === Infinity ? `${a} or more` : `${a}..${w.b[j]}`;
    // A non-monotonic op may also run either version in any passage of its window.
    const either = kase.ops[j]?.monotonic === false ? `, each passage of that window running either version` : "";
    return `op ${j} applied after ${range} of its passages${either}`;
  }).join(", ") + (w.opened ? " (opened by a torn jump)" : w.widened ? " (widened)" : "");
}

/**
 * The litmus text of one replayed run. `schedule` names the schedule in words (seed, decisions);
 * the run must have been traced for the patcher's steps to appear. `focus`: the finding a crash
 * file is named after, said beside the verdict when it is not the run's first.
 */
export function litmusText(kase: Case, run: RunResult, verdict: Verdict, schedule: string, focus?: string): string {
  const n = kase.cores;
  // One divergence per program core; the patcher's side (core 0) may have two: a hang and wrong final code.
  const byCore = new Map(verdict.divergences.filter((d) => d.core > 0).map((d) => [d.core, d]));
  const out: string[] = [];
  out.push(`X86-XMC "${kase.name}"  (xmcfuzz litmus export)`);
  out.push(`strategy ${verdict.strategy}, model ${verdict.model}; ${n} cores: P0 patches, ${n === 2 ? "P1 runs" : `P1..P${n - 1} run`} the code below`);
  if (kase.description) out.push(`"${kase.description}"`);
  out.push("", `code (shared; every slot shown with its old bytes):`, ...codeLines(kase));
  out.push("", "patch (P0):", ...patchLines(kase, run, verdict));
  out.push("", `observed (${schedule}):`);
  run.observations.forEach((o) => {
    const d = byCore.get(o.core);
    out.push(`  P${o.core}: ${outcome(o)}`);
    out.push(`      ${d ? `FORBIDDEN: ${d.cause} -> ${d.effect} (phase ${formatPhase(d.phase)}, t=${d.t})` : "allowed"}`);
    for (const f of d?.passage?.fetched ?? []) {
      // A fetch cut off by the code end (the core's #PF) was never executed.
      const verb = "incomplete" in decode(f.bytes, 0, f.bytes.length) ? "fetched (cut off by the code end)" : "executed";
      out.push(`      ${verb} ${hex(f.bytes)} (${disassemble(f.bytes, f.addr)[0]?.text ?? "?"}) at ${h(f.addr)}: ${origins(f.origin)}`);
    }
  });
  for (const d of verdict.divergences) if (d.core === 0) out.push(`  P0: FORBIDDEN: ${d.effect} (${d.detail})`);
  out.push("", "allowed (the stop_machine reference): each core's outcome when run alone, with each op applied");
  out.push("between two of its passages through the slots, at any point its op window allows:");
  for (let c = 1; c < n; c++) out.push(`  P${c}: ${windowText(kase, run, c, byCore.get(c))}`);
  for (const d of [...verdict.divergences].sort((x, y) => x.core - y.core)) {
    if (d.core <= 0 || !d.expected) continue;
    out.push(`  closest allowed for P${d.core}: ${outcome(d.expected)}`);
    // Outcomes the same but for the end state: say where it differs.
    for (const [o, e] of endStateDifferences(run.observations[d.core - 1]!, d.expected, d.point)) out.push(`      observed ${o}, allowed ${e}`);
  }
  out.push("", `verdict: ${verdict.kind}${verdict.signature ? `  (${verdict.signature})` : ""}`);
  if (focus !== undefined && focus !== verdict.signature && showsSignature(verdict, focus)) out.push(`this file's finding: ${focus}`);
  if (verdict.harnessError) out.push(`harness error: ${verdict.harnessError}`);
  if (verdict.rules.length > 0) {
    out.push("rule findings (not divergences unless --rules-fail):");
    for (const r of verdict.rules) out.push(`  ${r.rule}: P${r.core} executed ${hex(r.bytes)} at ${h(r.addr)} (t=${r.t}, phase ${formatPhase(r.phase)})`);
  }
  return out.join("\n") + "\n";
}
