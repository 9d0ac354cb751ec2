import { fnv1a } from "../hash.js";
import type { Cause, CoreObservation, Divergence, Effect, FindingFile, Passage, PatchOp, PatcherPhase, PhaseKind, RuleName, RunResult, Verdict } from "../types.js";

// Naming a divergence (SPEC 7): cause from the provenance of the core's passages, effect from what
// the core showed, patcher phase from the patcher's last completed step.

/**
 * Which version a passage's slot bytes came from, ignoring invariant and int3 bytes. A trap counts
 * as the version whose effect its handler reproduced (the int3 byte itself says nothing), so an
 * emulated first instruction followed by old bytes is a torn passage. The CC a handler resolved
 * says nothing even when it is one version's own byte (a kprobe slot's `CC`, patched in or out):
 * its provenance is `old` or `new` by value, but the core ran what the handler did. Any other CC
 * the core ran (an old immediate byte it trapped on after the handler) still counts.
 */
export function passageVersion(p: Passage): "old" | "new" | "mixed" | "none" {
  let old = p.resolvedAs === "old", neu = p.resolvedAs === "new", other = false;
  for (let i = 0; i < p.fetched.length; i++) {
    if (i === p.resolvedAt && p.resolvedAs !== undefined) continue;
    for (const o of p.fetched[i]!.origin) {
      if (o === "old") old = true;
      else if (o === "new") neu = true;
      else if (o === "intermediate") other = true;
    }
  }
  if (other || (old && neu)) return "mixed";
  return old ? "old" : neu ? "new" : "none";
}

export interface CauseFinding {
  readonly cause: Cause;
  readonly passage?: Passage;
}

/**
 * First match wins, in the order of SPEC 7.1. `ops`: the case's. Non-monotonic is old bytes after
 * new ones of the same op, at the same slot for a per-site op: its slots switch each at its own
 * point (SPEC 6.2), so new at one slot and then old at another is what the reference does. An op
 * declared `monotonic: false` allows old after new in its window, so that order explains nothing
 * there: such an op's late old passage is stale-after-completion.
 */
export function causeOf(passages: readonly Passage[], obs: CoreObservation | undefined, run: RunResult, until: number, ops: readonly Pick<PatchOp, "batch" | "monotonic">[]): CauseFinding {
  const upto = passages.filter((p) => p.begin <= until);
  const end = obs?.end;
  if (end?.kind === "fault" && end.fault === "int3") {
    const p = [...upto].reverse().find((q) => q.fetched.some((f) => f.addr === end.addr && f.origin[0] === "int3"));
    if (p) return { cause: "spurious-int3", passage: p };
  }
  // Each passage's version is read once: the rules below ask for it up to three times.
  const versions = upto.map(passageVersion);
  const torn = upto.find((_, i) => versions[i] === "mixed");
  if (torn) return { cause: "torn-fetch", passage: torn };
  const bad = upto.find((p) => p.badEmulation);
  if (bad) return { cause: "bad-emulation", passage: bad };
  const switchKey = (p: Passage) => (ops[p.op]?.batch === "atomic" ? `${p.op}` : `${p.op}:${p.slot}`);
  const sawNew = new Set<string>();
  for (const [i, p] of upto.entries()) {
    if (ops[p.op]?.monotonic === false) continue;
    if (versions[i] === "new") sawNew.add(switchKey(p));
    else if (versions[i] === "old" && sawNew.has(switchKey(p))) return { cause: "non-monotonic", passage: p };
  }
  const stale = upto.find((p, i) => versions[i] === "old" && p.op >= 0 && p.begin > run.ops[p.op]!.returned);
  if (stale) return { cause: "stale-after-completion", passage: stale };
  return { cause: "unexplained", passage: upto[upto.length - 1] };
}

/**
 * The effect of a divergent core that did not hang: the fault it ended with, unless the reference
 * ends with that very fault (same kind, same address: a program whose own end is a #PF at the
 * region end, or a ud2, still jumps wild or decodes garbage when it faults elsewhere).
 */
export function effectOf(obs: CoreObservation, expected: CoreObservation | undefined): Effect {
  const e = obs.end, x = expected?.end;
  if (e.kind === "fault" && !(x?.kind === "fault" && x.fault === e.fault && x.addr === e.addr)) {
    if (e.fault === "#UD") return "invalid-opcode";
    if (e.fault === "#PF") return "wild-jump";
  }
  return "wrong-output";
}

/** The patcher phase in force at t (SPEC 7.2); entries of kind `skip` are passed over. */
export function phaseAt(run: RunResult, t: number, skip?: PhaseKind): PatcherPhase {
  let phase = run.phases[0]!.phase;
  for (const entry of run.phases) {
    if (entry.t > t) break;
    if (entry.phase.kind !== skip) phase = entry.phase;
  }
  return phase;
}

export function formatPhase(p: PatcherPhase): string {
  return `${p.kind}/${p.syncs}`;
}

export function signatureOf(
  strategy: string, model: string, cause: Cause, effect: Effect, slotKind: string, phase: PatcherPhase,
): string {
  return [strategy, model, cause, effect, slotKind, formatPhase(phase)].join(" ");
}

/**
 * Every divergence of a run is a finding under its own signature (SPEC 7.2), each with its cause:
 * one core's torn fetch and another's stale passage are two classes, whichever came first. The
 * run's own signature (Verdict.signature, its first divergence's) comes first.
 */
export function divergenceFindingsOf(v: Verdict): Map<string, Cause> {
  const out = new Map<string, Cause>();
  for (const d of v.divergences) {
    const s = divergenceSignature(v, d);
    if (!out.has(s)) out.set(s, d.cause);
  }
  return out;
}

/** The signature of one divergence of a run. */
export function divergenceSignature(v: Pick<Verdict, "strategy" | "model">, d: Divergence): string {
  return signatureOf(v.strategy, v.model, d.cause, d.effect, d.slotKind, d.phase);
}

/** The divergence a report shows in full: the one signed `focus` (a finding's), else the run's first. */
export function focusedDivergence(v: Verdict, focus: string | undefined): Divergence | undefined {
  return (focus !== undefined ? v.divergences.find((d) => divergenceSignature(v, d) === focus) : undefined) ?? v.divergences[0];
}

/** Rule findings are kept apart from divergences, under a signature of their own (SPEC 7.3): each with its rule. */
export function ruleFindingsOf(v: Verdict): Map<string, RuleName> {
  return new Map(v.rules.map((r) => [`rule ${v.strategy} ${v.model} ${r.rule} ${r.slotKind} ${formatPhase(r.phase)}`, r.rule]));
}

export function ruleSignatures(v: Verdict): string[] {
  return [...ruleFindingsOf(v).keys()];
}

/**
 * The finding to work on among a file's replayed runs (minimize, corpus add): the one the file is
 * named after (a crash file's description) when a run shows it, else the first divergence, else
 * the first rule finding. A run shows a divergence and its rule findings as separate findings.
 */
export function pickFinding(verdicts: readonly Verdict[], named: string | undefined): PickedFinding | undefined {
  if (named !== undefined) {
    const run = verdicts.findIndex((v) => showsSignature(v, named));
    if (run >= 0) return { run, signature: named, kind: divergenceFindingsOf(verdicts[run]!).has(named) ? "divergence" : "rule" };
  }
  const divergent = verdicts.findIndex((v) => v.signature !== undefined);
  if (divergent >= 0) return { run: divergent, signature: verdicts[divergent]!.signature!, kind: "divergence" };
  const rule = verdicts.findIndex((v) => v.rules.length > 0);
  return rule >= 0 ? { run: rule, signature: ruleSignatures(verdicts[rule]!)[0]!, kind: "rule" } : undefined;
}

/** A finding picked among a file's runs: the run showing it, its signature and kind. */
export interface PickedFinding extends Pick<FindingFile, "kind" | "signature"> {
  readonly run: number;
}

/** Whether a verdict still shows a finding's signature: one of its divergences', or of its rule findings'. */
export function showsSignature(v: Verdict, signature: string): boolean {
  return divergenceFindingsOf(v).has(signature) || ruleFindingsOf(v).has(signature);
}

/** A file-system-safe, collision-free name for a signature. */
export function signatureSlug(signature: string): string {
  const h = fnv1a(signature);
  const readable = signature.replace(/->/g, "-to-").replace(/[^A-Za-z0-9._-]+/g, "_").slice(0, 120);
  return `${readable}-${h.toString(16).padStart(8, "0")}`;
}
