// Loading a case file: JSON -> zod shape check -> build (assemble, resolve) -> control-flow and
// termination checks. Every rejection is a one-line CaseError naming the field (exit 2).
import { readInputFile } from "../files/read.js";
import type { Case } from "../types.js";
import { buildCase } from "./build.js";
import { CaseError, fromZod, issueText, oneLine } from "./error.js";
import { checkFlow } from "./flow.js";
import { caseSchema } from "./schema.js";
import { soloBudget } from "./terminate.js";

export { CaseError } from "./error.js";

export interface LoadedCase {
  readonly kase: Case;
  /** L of SPEC 6.4: the largest solo instruction count over all cores and op prefixes. */
  readonly soloBudget: number;
}

export function parseCase(json: unknown): LoadedCase {
  const kase = parseCaseShape(json);
  return { kase, soloBudget: soloBudget(kase) };
}

/**
 * The case of a document, shape- and flow-checked but without the termination check (solo runs):
 * for a mutation parent, whose mutants get the full check before they run.
 */
export function parseCaseShape(json: unknown): Case {
  const parsed = caseSchema.safeParse(json, { error: issueText });
  if (!parsed.success) throw fromZod(parsed.error);
  const { kase, newField } = buildCase(parsed.data);
  checkFlow(kase.program, (k, v) => (v === "new" ? newField[k]! : `slots[${k}].old`));
  return kase;
}

export function loadCaseFile(path: string): LoadedCase {
  let text: string;
  try {
    text = readInputFile(path, "utf8");
  } catch (e) {
    throw new CaseError(path, `cannot read file (${errText(e)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new CaseError(path, `not valid JSON (${errText(e)})`);
  }
  return parseCase(json);
}

function errText(e: unknown): string {
  return oneLine(e instanceof Error ? e.message : String(e));
}
