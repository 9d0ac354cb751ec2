// The finding minimizer of SPEC 9: ddmin over cores, ops, slots, instructions and the decision
// list. A candidate counts only if the loader accepts it and its lenient replay (SPEC 8) keeps
// the finding's signature (a divergence's, or a rule finding's); its newly recorded decision list
// then replaces the old one.
import type { Case, Decision, Model, Strategy } from "../types.js";
import { SOLO_LIMIT } from "../types.js";
import { parseCase } from "../case/load.js";
import { caseToJson } from "../case/save.js";
import { runOnce } from "../differential.js";
import { type FuzzCase, prepareCase, prepareMutant } from "./prepare.js";
import { planCase } from "../machine/plan.js";
import { soloRun } from "../oracle/solo.js";
import { showsSignature } from "../oracle/classify.js";
import { ddmin } from "./ddmin.js";
import { countInstructions, layout, lift } from "./relocate.js";
import { withoutCores, withoutOps, withoutSlots, withoutTargets, withProgram } from "./shrink.js";

export interface Size {
  readonly cores: number;
  readonly ops: number;
  /** Slot patches over all ops. */
  readonly targets: number;
  readonly slots: number;
  /** Reachable instructions outside slots plus each slot's old version (see relocate.ts). */
  readonly instructions: number;
  readonly decisions: number;
  readonly codeBytes: number;
}

export interface MinimizeOptions {
  /** Replays allowed (default 2000). */
  readonly maxRuns?: number;
  /** Seed of the generator that draws decisions a lenient replay lacks (default 0). */
  readonly seed?: number;
  /** Stop trying candidates when this returns true (a wall-time budget, a campaign stopping). */
  readonly shouldStop?: () => boolean;
}

export interface Minimized {
  /** Loader-normalized, with no recorded runs (the old ones no longer describe it). */
  readonly kase: Case;
  /** The loader's L for `kase`, so callers can replay it without loading it again. */
  readonly soloBudget: number;
  readonly decisions: Decision[];
  readonly runs: number;
  readonly before: Size;
  readonly after: Size;
}

export function sizeOf(kase: Case, decisions: readonly Decision[]): Size {
  return {
    cores: kase.cores, ops: kase.ops.length, targets: kase.ops.reduce((n, op) => n + op.targets.length, 0), slots: kase.program.slots.length,
    instructions: countInstructions(kase.program), decisions: decisions.length, codeBytes: kase.program.code.length,
  };
}

interface State {
  /** The case as the loader would load it, planned, with its solo counts (shared by candidates that keep its code). */
  readonly prepared: FuzzCase;
  readonly decisions: Decision[];
  readonly size: Size;
}

/** Whether `a` is larger than `b` in some dimension. */
function growsAny(a: Size, b: Size): boolean {
  return (Object.keys(a) as (keyof Size)[]).some((k) => a[k] > b[k]);
}

/** Decision lists are compared by length, then by the sum of chosen indices (lower is simpler). */
function simpler(a: readonly Decision[], b: readonly Decision[]): boolean {
  if (a.length !== b.length) return a.length < b.length;
  const sum = (l: readonly Decision[]) => l.reduce((s, d) => s + d[0], 0);
  return sum(a) < sum(b);
}

/**
 * Cheap guard before the loader: a candidate whose solo runs grow far past the current ones (a
 * deleted `dec ecx` makes a loop endless) is not a reduction, and the loader would spend 10^6
 * instructions per core and image proving it.
 */
function runsShort(kase: Case, budget: number): boolean {
  const limit = Math.min(SOLO_LIMIT, 4 * budget + 1000);
  const { base, entries, slots } = kase.program;
  try {
    for (const image of planCase(kase).images) {
      for (const e of entries) if (!soloRun(e, image, base, slots, limit + 1).end) return false;
    }
  } catch {
    return false;
  }
  return true;
}

export function minimize(
  kase: Case, strategy: Strategy, model: Model, decisions: readonly Decision[], signature: string, opts: MinimizeOptions = {},
): Minimized {
  const maxRuns = opts.maxRuns ?? 2000;
  const seed = opts.seed ?? 0;
  let runs = 0;
  const more = (): boolean => runs < maxRuns && !(opts.shouldStop?.() ?? false);

  const loaded = parseCase(caseToJson({ ...kase, runs: [] }));
  const start = prepareCase(loaded.kase);
  const first = runOnce(start, { strategy, model, decisions, lenient: true, seed });
  runs++;
  if (!showsSignature(first.verdict, signature)) {
    throw new Error(`minimize: the case does not reproduce "${signature}" (got ${first.verdict.signature ?? first.verdict.kind})`);
  }
  let state: State = { prepared: start, decisions: [...first.decisions], size: sizeOf(loaded.kase, first.decisions) };
  /** No accepted candidate is larger than the reproducer we started from, in any dimension. */
  const ceiling = state.size;
  const before = sizeOf(loaded.kase, decisions);

  /**
   * Tries a candidate; on success it becomes the state. `decisionsOnly` demands a simpler list;
   * any other candidate may grow no dimension past the starting reproducer's (a case with fewer
   * cores whose lenient replay drew a longer decision list is kept, for the decision pass to
   * shrink, unless the list outgrew the one we started from).
   */
  const attempt = (cand: Case, list: readonly Decision[] = state.decisions, decisionsOnly = false): boolean => {
    if (!more()) return false;
    let next: State;
    try {
      if (!decisionsOnly && !runsShort(cand, state.prepared.soloBudget)) return false;
      // A candidate is loaded as parseCase would load it (the loader's checks, without the round trip).
      const prepared = decisionsOnly ? state.prepared : prepareMutant(state.prepared, cand);
      if (!prepared) return false;
      runs++;
      const o = runOnce(prepared, { strategy, model, decisions: list, lenient: true, seed });
      if (!showsSignature(o.verdict, signature)) return false;
      next = { prepared, decisions: [...o.decisions], size: sizeOf(prepared.kase, o.decisions) };
    } catch {
      return false; // the harness failed on it
    }
    if (decisionsOnly ? !simpler(next.decisions, state.decisions) : growsAny(next.size, ceiling)) return false;
    state = next;
    return true;
  };

  const passes: (() => boolean)[] = [
    // 1. cores (at least one program core stays)
    () => ddmin(() => state.prepared.kase.program.entries.length, (i, c) => attempt(withoutCores(state.prepared.kase, i, c)), more, 1),
    // 2. ops, then targets within each op (at least one stays)
    () => {
      let any = ddmin(() => state.prepared.kase.ops.length, (i, c) => attempt(withoutOps(state.prepared.kase, i, c)), more);
      for (let j = 0; j < state.prepared.kase.ops.length; j++) {
        any = ddmin(() => state.prepared.kase.ops[j]?.targets.length ?? 0, (i, c) => attempt(withoutTargets(state.prepared.kase, j, i, c)), more, 1) || any;
      }
      return any;
    },
    // 3. slots
    () => ddmin(() => state.prepared.kase.program.slots.length, (i, c) => attempt(withoutSlots(state.prepared.kase, i, c)), more),
    // 4. instructions and unreached bytes outside slots, by relocation
    () => deleteInstructions(),
    // 5. decisions: drop chunks, then lower chunks of indices to 0
    () => {
      let any = ddmin(() => state.decisions.length, (i, c) => attempt(state.prepared.kase, [...state.decisions.slice(0, i), ...state.decisions.slice(i + c)], true), more);
      any = lowerDecisions() || any;
      return any;
    },
  ];

  function deleteInstructions(): boolean {
    const l = lift(state.prepared.kase.program);
    if (!l) return false;
    const alive = l.items.map(() => true);
    // Indices (into l.items) of the live items that may go; slots stay (pass 3 removes them).
    let deletable = l.items.flatMap((it, i) => (it.kind === "slot" ? [] : [i]));
    return ddmin(() => deletable.length, (i, c) => {
      const gone = deletable.slice(i, i + c);
      const mask = alive.slice();
      for (const g of gone) mask[g] = false;
      const program = layout(l, mask);
      if (!program || !attempt(withProgram(state.prepared.kase, program))) return false;
      for (const g of gone) alive[g] = false;
      deletable = [...deletable.slice(0, i), ...deletable.slice(i + c)];
      return true;
    }, more);
  }

  function lowerDecisions(): boolean {
    let any = false;
    for (let chunk = Math.max(1, Math.floor(state.decisions.length / 2)); ; chunk = Math.floor(chunk / 2)) {
      for (let i = 0; i < state.decisions.length && more(); i += chunk) {
        const list = state.decisions.map((d, k): Decision => (k >= i && k < i + chunk ? [0, d[1]] : d));
        if (list.some((d, k) => d[0] !== state.decisions[k]![0]) && attempt(state.prepared.kase, list, true)) any = true;
      }
      if (chunk <= 1 || !more()) return any;
    }
  }

  for (let progress = true; progress && more();) {
    progress = false;
    for (const pass of passes) progress = pass() || progress;
  }
  return { kase: state.prepared.kase, soloBudget: state.prepared.soloBudget, decisions: state.decisions, runs, before, after: state.size };
}
