import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Case, FindingFile } from "../types.js";
import { caseToJson } from "../case/save.js";
import { ensureDir, writeFileAtomic } from "../files/atomic.js";
import { findingName, reproducerSize } from "../files/store.js";
import { parseCaseShape } from "../case/load.js";

// Promotion: a (minimized) finding becomes a regression corpus case, named after its signature,
// with its recorded run (decisions and verdict) as the expectation that `regress` checks.

/** "direct_write x86-realistic torn-fetch wild-jump nop5->jmp32 write/0" -> "direct_write.x86-realistic.torn-fetch.wild-jump.nop5-to-jmp32.write-0". */
export function readableName(signature: string): string {
  const name = signature.trim().split(/\s+/)
    .map((part) => part.replace(/->/g, "-to-").replace(/\//g, "-").replace(/[^A-Za-z0-9_-]+/g, "_"))
    .join(".");
  return name.slice(0, 150) || "case";
}

export type Promotion = { readonly path: string; readonly status: "added" | "known" | "replaced" };

/**
 * Writes `kase` into `dir` as `<readable signature>.json` (atomically). A file there with the same
 * program, ops and runs is left alone ("known"). Another case of the same finding under that name
 * is replaced when `replace` and the new one is smaller (a campaign's smaller reproducer of that
 * signature; a resumed campaign knows nothing of what it promoted before), unless runs were added
 * to it (promote writes one); the name of another
 * finding (names are cut and folded: two signatures can share one) gives the new one a suffix.
 */
export function promote(kase: Case, finding: Pick<FindingFile, "kind" | "signature"> | undefined, dir: string, opts: { replace: boolean }): Promotion {
  // Not Node's recursive mkdir: it spins forever on some unusable paths (/proc/x/c).
  ensureDir(dir);
  const stem = readableName(finding?.signature ?? kase.name);
  // Described by the finding's name, as a crash file is: repro, minimize, corpus add and regress
  // then work on that finding, not the run's first divergence (a secondary one is a finding too).
  const body = (name: string) => caseToJson({ ...kase, name, ...(finding ? { description: findingName(finding) } : {}) });
  const comparable = (json: object) => JSON.stringify({ ...json, name: undefined, description: undefined });
  for (let n = 1; ; n++) {
    const name = n === 1 ? stem : `${stem}-${n}`;
    const path = join(dir, `${name}.json`);
    const json = body(name);
    if (!existsSync(path)) {
      writeFileAtomic(path, JSON.stringify(json, null, 2) + "\n");
      return { path, status: "added" };
    }
    let existing: { description?: unknown; runs?: unknown } | undefined;
    try {
      existing = JSON.parse(readFileSync(path, "utf8")) as { description?: unknown; runs?: unknown };
    } catch {
      existing = undefined;
    }
    if (existing && comparable(existing) === comparable(json)) return { path, status: "known" };
    if (opts.replace && finding && existing?.description === findingName(finding)) {
      // A file holding more runs than promote writes (one) was added to by hand: it stays.
      if (runCount(existing) > 1 || !smallerThan(kase, existing)) return { path, status: "known" };
      writeFileAtomic(path, JSON.stringify(json, null, 2) + "\n");
      return { path, status: "replaced" };
    }
  }
}

function runCount(json: { runs?: unknown }): number {
  return Array.isArray(json.runs) ? json.runs.length : 0;
}

/** Whether `kase` is a smaller reproducer than the case file `existing` (one that does not load is replaced). */
function smallerThan(kase: Case, existing: object): boolean {
  try {
    return reproducerSize(kase) < reproducerSize(parseCaseShape(existing));
  } catch {
    return true;
  }
}
