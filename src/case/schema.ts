// The JSON case file, format version 2 (SPEC 10), as a zod schema. This layer checks shapes
// and scalar ranges only; everything that needs the assembled program lives in load.ts.
import { z } from "zod";
import { MAX_CORES, MIN_CORES } from "../types.js";

export const CASE_VERSION = 2;

/** Custom message for a present-but-wrong value; undefined defers to the "missing" message. */
function msg(text: string | ((input: unknown) => string)) {
  return (iss: { input?: unknown }): string | undefined =>
    iss.input === undefined ? undefined : typeof text === "string" ? text : text(iss.input);
}

const SHOW_MAX = 40;

/** Short JSON rendering of a bad input for messages. */
export function show(v: unknown): string {
  if (v === undefined) return "nothing";
  const s = clippedJson(v, SHOW_MAX + 1);
  return s.length > SHOW_MAX ? s.slice(0, SHOW_MAX - 3) + "..." : s;
}

/**
 * JSON text of `v`, stopped once it is `max` characters long. Hostile input may nest 100,000
 * levels deep, which overflows JSON.stringify's stack: this walk goes no deeper than it prints.
 */
function clippedJson(v: unknown, max: number): string {
  let out = "";
  const put = (s: string): boolean => (out += s).length < max;
  const walk = (x: unknown): boolean => {
    if (Array.isArray(x)) {
      if (!put("[")) return false;
      for (let i = 0; i < x.length; i++) if ((i > 0 && !put(",")) || !walk(x[i] ?? null)) return false;
      return put("]");
    }
    if (typeof x === "object" && x !== null) {
      if (!put("{")) return false;
      let first = true;
      for (const [k, value] of Object.entries(x)) {
        if (value === undefined) continue;
        if ((!first && !put(",")) || !put(`${JSON.stringify(k)}:`) || !walk(value)) return false;
        first = false;
      }
      return put("}");
    }
    // A long string is cut before quoting: only its head is shown.
    if (typeof x === "string") return put(JSON.stringify(x.slice(0, max)));
    return put(typeof x === "bigint" ? String(x) : (JSON.stringify(x) ?? String(x)));
  };
  walk(v);
  return out;
}

type Ctx = z.core.$RefinementCtx<unknown>;

function fail(ctx: Ctx, input: unknown, message: string): never {
  ctx.issues.push({ code: "custom", message, input });
  return z.NEVER;
}

/** Wraps a converter that returns a value or an error text; an absent value is "missing". */
function conv<T>(f: (v: unknown) => T | { error: string }) {
  return z.unknown().transform((v, ctx): T => {
    if (v === undefined) return fail(ctx, v, "missing");
    const r = f(v);
    if (typeof r === "object" && r !== null && "error" in r) return fail(ctx, v, (r as { error: string }).error);
    return r as T;
  });
}

const HEX_NUM = /^0x[0-9a-f]+$/i;
const NUM_TEXT = 'expected a non-negative integer or a "0x..." hex string';

function toNum(v: unknown): number | undefined {
  if (typeof v === "number") return Number.isSafeInteger(v) && v >= 0 ? v : undefined;
  if (typeof v === "string" && HEX_NUM.test(v)) {
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : undefined;
  }
  return undefined;
}

/** A non-negative safe integer, written as a JSON number or a "0x..." string. */
export const num = conv((v) => toNum(v) ?? { error: `${NUM_TEXT}, got ${show(v)}` });

/** A code address: a number (as `num`) or an assembler label (resolved later). */
export type AddrRef = number | { readonly label: string };
const LABEL = /^[A-Za-z_.][A-Za-z0-9_.]*$/;
export const addrRef = conv((v): AddrRef | { error: string } => {
  const n = toNum(v);
  // Addresses are 32-bit (SPEC 2): a larger one would reach the machine, and be blamed on a strategy.
  if (n !== undefined) return n <= 0xffffffff ? n : { error: `expected a 32-bit address, got ${show(v)}` };
  if (typeof v === "string" && LABEL.test(v)) return { label: v };
  return { error: `expected a label, a non-negative integer or a "0x..." hex string, got ${show(v)}` };
});

/** Hex bytes: whitespace-separated groups of whole bytes ("e9 00 00 00 00" or "e900000000"). */
export const hexBytes = conv((v): Uint8Array | { error: string } => {
  if (typeof v !== "string") return { error: `expected a hex byte string, got ${show(v)}` };
  const groups = v.trim() === "" ? [] : v.trim().split(/\s+/);
  if (!groups.every((g) => /^([0-9a-f]{2})+$/i.test(g))) {
    return { error: 'expected hex bytes such as "e9 00 00 00 00"' };
  }
  const digits = groups.join("");
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return out;
});

const asmText = z.union([z.string(), z.array(z.string())], {
  error: msg((v) => `expected assembler text (a string or an array of lines), got ${show(v)}`),
});

function intIn(lo: number, hi: number) {
  const e = msg(`expected an integer from ${lo} to ${hi}`);
  return z.number({ error: e }).int({ error: e }).min(lo, { error: e }).max(hi, { error: e });
}

const codeSchema = z.strictObject({
  base: num,
  asm: asmText.optional(),
  hex: hexBytes.optional(),
});

const slotSchema = z.strictObject({
  name: z.string().min(1, { error: "expected a non-empty name" }),
  new: asmText.optional(),
  newHex: hexBytes.optional(),
  kind: z.string().min(1, { error: "expected a non-empty kind" }).optional(),
  bpResume: addrRef.optional(),
  start: num.optional(),
  len: z.number().int().min(1, { error: msg("expected an integer of at least 1") }).optional(),
  old: hexBytes.optional(),
});

const TARGET_TEXT = 'expected a slot name or {"slot": name, "to": "new"|"old"}';

/** An op target; a bare name means "to new". Checked by hand so that errors say which part is wrong. */
const targetSchema = conv((v): { slot: string; to: "new" | "old" } | { error: string } => {
  if (typeof v === "string") return { slot: v, to: "new" };
  if (typeof v !== "object" || v === null || Array.isArray(v)) return { error: `${TARGET_TEXT}, got ${show(v)}` };
  const o = v as Record<string, unknown>;
  const extra = Object.keys(o).filter((k) => k !== "slot" && k !== "to");
  if (extra.length > 0) return { error: `unknown field "${extra[0]}"` };
  if (typeof o.slot !== "string") return { error: `"slot": expected a slot name, got ${show(o.slot)}` };
  if (o.to !== "new" && o.to !== "old") return { error: `"to": expected "new" or "old", got ${show(o.to)}` };
  return { slot: o.slot, to: o.to };
});

const opSchema = z.strictObject({
  slots: z.array(targetSchema).min(1, { error: "expected at least one slot" }),
  batch: z.enum(["per-site", "atomic"]).default("per-site"),
  monotonic: z.boolean().default(true),
});

const expectSchema = z.strictObject({
  verdict: z.enum(["clean", "diverges", "harness-error"]),
  signature: z.string().optional(),
  rules: z.array(z.string()),
});

const runSchema = z.strictObject({
  strategy: z.string().min(1, { error: "expected a non-empty strategy name" }),
  model: z.string().min(1, { error: "expected a non-empty model name" }),
  seed: z.number({ error: msg("expected a non-negative integer") })
    .int({ error: msg("expected a non-negative integer") })
    .min(0, { error: msg("expected a non-negative integer") }),
  decisions: z.string().optional(),
  expect: expectSchema.optional(),
});

export const caseSchema = z.strictObject({
  xmcfuzz: z.literal("case", { error: msg((v) => `expected "case", got ${show(v)}`) }),
  version: z.literal(CASE_VERSION, { error: msg((v) => `expected ${CASE_VERSION}, got ${show(v)}`) }),
  name: z.string().min(1, { error: "expected a non-empty name" }),
  description: z.string().optional(),
  cores: intIn(MIN_CORES, MAX_CORES),
  code: codeSchema,
  entries: z.array(addrRef),
  slots: z.array(slotSchema),
  ops: z.array(opSchema),
  runs: z.array(runSchema).default([]),
});

export type RawCase = z.output<typeof caseSchema>;
export type RawSlot = RawCase["slots"][number];
