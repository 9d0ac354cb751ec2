import type { Case, CaseScope } from "../types.js";
import { MAX_CORES, MIN_CORES } from "../types.js";
import { parseCaseShape } from "../case/load.js";

// Whether cases lie within a campaign's scope (what its generated cases may hold): mutants and
// corpus entries shared by other workers, processes or a hub may not.

/** The generated kind a slot kind belongs to (`rewrite3` is a `rewrite`). */
export function generatedKindOf(slotKind: string): string {
  return /^rewrite\d+$/.test(slotKind) ? "rewrite" : slotKind;
}

/** Whether a scope leaves out any core count, slot kind or batching (an empty kind list leaves out none). */
export function isRestricted(scope: CaseScope): boolean {
  return (scope.slotKinds?.length ?? 0) > 0 || scope.atomicBatches === false ||
    (scope.minCores ?? MIN_CORES) > MIN_CORES || (scope.maxCores ?? MAX_CORES) < MAX_CORES;
}

/** What a scope looks at in a case. */
interface ScopeFacts {
  readonly cores: number;
  readonly slots: readonly { readonly kind: string }[];
  readonly ops: readonly { readonly batch?: string }[];
}

/** Whether a case lies within the scope's core counts, slot kinds and batching. */
export function inScope(kase: Case, scope: CaseScope): boolean {
  return factsInScope({ cores: kase.cores, slots: kase.program.slots, ops: kase.ops }, scope);
}

function factsInScope(c: ScopeFacts, scope: CaseScope): boolean {
  if (c.cores < (scope.minCores ?? MIN_CORES) || c.cores > (scope.maxCores ?? MAX_CORES)) return false;
  const kinds = scope.slotKinds;
  if (kinds?.length && !c.slots.every((s) => kinds.includes(generatedKindOf(s.kind)))) return false;
  return scope.atomicBatches !== false || c.ops.every((op) => op.batch !== "atomic");
}

/** A case file's scope facts as written, when it writes them all (our own files always do). */
function writtenFacts(c: unknown): ScopeFacts | undefined {
  const f = c as Partial<Record<keyof ScopeFacts, unknown>>;
  const listOf = (v: unknown, ok: (x: Record<string, unknown>) => boolean) => Array.isArray(v) && v.every((x) => typeof x === "object" && x !== null && ok(x));
  const written = typeof f.cores === "number" && listOf(f.slots, (s) => typeof s["kind"] === "string") &&
    listOf(f.ops, (op) => op["batch"] === undefined || typeof op["batch"] === "string");
  return written ? (f as ScopeFacts) : undefined;
}

/**
 * Whether a corpus entry (its file text, `{"case": ...}`) lies within the scope; unreadable text
 * does not. Read from the fields as written (the full load, several times dearer, is left to the
 * entry's first use as a parent, which drops an invalid one): workers adopt every entry the
 * others find, and most are never picked.
 */
export function entryInScope(json: string, scope: CaseScope): boolean {
  if (!isRestricted(scope)) return true;
  try {
    const c = (JSON.parse(json) as { case: unknown }).case;
    const facts = writtenFacts(c);
    return facts ? factsInScope(facts, scope) : inScope(parseCaseShape(c), scope);
  } catch {
    return false;
  }
}
