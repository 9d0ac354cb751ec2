// Case-file errors: always one line, always naming the field, so the CLI can print the message
// and exit 2 without a stack trace (SPEC 10).
import type { z } from "zod";
import { InputError } from "../errors.js";
import { show } from "./schema.js";

/** Bad case input; an InputError, so the CLI maps it to exit status 2 like other bad input. */
export class CaseError extends InputError {
  /** `field: what`, flattened to a single line. */
  constructor(readonly field: string, what: string) {
    super(`${field}: ${oneLine(what)}`);
  }
}

export function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, " ").trim();
}

/** `slots[1].new`, `ops[0].slots[2]`; the whole document is `case`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let s = "";
  for (const k of path) s += typeof k === "number" ? `[${k}]` : s === "" ? String(k) : `.${String(k)}`;
  return s === "" ? "case" : s;
}

const TYPE_NAMES: Readonly<Record<string, string>> = {
  int: "an integer", number: "a number", string: "a string", boolean: "true or false",
  object: "an object", array: "an array",
};

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return "an object";
  return `${typeof v} ${show(v)}`;
}

/**
 * Parse-level zod error map: messages for issues whose schema did not set one. Absent inputs
 * read "missing" whatever the expected type, which is what a user fixing a file needs to know.
 */
export function issueText(iss: z.core.$ZodRawIssue): string | undefined {
  if (iss.input === undefined && (iss.code === "invalid_type" || iss.code === "invalid_value")) return "missing";
  switch (iss.code) {
    case "invalid_type":
      return `expected ${TYPE_NAMES[iss.expected] ?? iss.expected}, got ${typeOf(iss.input)}`;
    case "invalid_value":
      return `expected ${iss.values.map((v) => show(v)).join(" or ")}, got ${show(iss.input)}`;
    case "too_small":
      return iss.origin === "array" ? `expected at least ${iss.minimum} entries` : `expected at least ${iss.minimum}`;
    case "too_big":
      return iss.origin === "array" ? `expected at most ${iss.maximum} entries` : `expected at most ${iss.maximum}`;
    default:
      return undefined;
  }
}

/** The first zod issue as a CaseError. */
export function fromZod(err: z.ZodError): CaseError {
  const iss = err.issues[0];
  if (!iss) return new CaseError("case", "invalid");
  if (iss.code === "unrecognized_keys") {
    const keys = iss.keys.map((k) => `"${k}"`).join(", ");
    return new CaseError(fieldPath(iss.path), `unknown field${iss.keys.length > 1 ? "s" : ""} ${keys}`);
  }
  return new CaseError(fieldPath(iss.path), iss.message);
}
