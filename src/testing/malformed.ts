import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Rng } from "../fuzz/generate.js";

// Seeded malformed inputs for the loaders and the command line (issue 10): each is a valid
// document or argument list with one or a few defects of the kinds users (and disks) produce.

export function corpusTexts(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith(".json")).sort().map((f) => readFileSync(join(dir, f), "utf8"));
}

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
const int = (rng: Rng, n: number) => Math.floor(rng() * n);

const HUGE: readonly unknown[] = [
  1e308, -1e308, 2 ** 53 + 1, -(2 ** 31), 2 ** 32, 4294967296 * 16, 1.5, -1, 0, "0xffffffffffffffff",
  "0x100000000", "-0x10", "1e9", Number.MAX_SAFE_INTEGER, 1e-300,
];
const WRONG: readonly unknown[] = [
  null, true, false, "", "x", "0x", "zz", [], [1, 2], {}, { a: 1 }, 0, -5, 3.25, "90 90", "nop5", [null], [[]], "\u0000",
  "0x1000", "🙂", "a".repeat(5000),
];
const HEX: readonly string[] = ["", "0f", "0f 1f", "e9", "e9 00", "ff ff ff", "cc", "c3", "zz", "90 9", "f4 f4 f4 f4 f4", "0f 0b", "66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 90", "8b", "c7 05"];
const ASM: readonly string[] = ["", "nop9", "mov", "jmp nowhere", ".slot", ".endslot", ".org 0", ".org 0xffffffff", ".byte 0x100", "label:", "jmp $", "hlt", "call 0", ":", "mov eax, 0x1ffffffff"];
const DECISIONS: readonly unknown[] = ["", "0/1", "5/3", "0/0", "-1/2", "a/b", "1/2 3", "0/3 0/3 0/3 0/3 0/3 0/3 0/3 0/3 0/3", "/", "0/2/3", [], [0, 1], [{ c: 0, n: 2 }], 7];

type Json = unknown;

/** Every path to a value inside `doc` (keys and indices). */
function paths(doc: Json, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(prefix);
  if (Array.isArray(doc)) doc.forEach((v, i) => paths(v, [...prefix, i], out));
  else if (doc && typeof doc === "object") for (const [k, v] of Object.entries(doc)) paths(v, [...prefix, k], out);
  return out;
}

function setAt(doc: Json, path: (string | number)[], value: unknown): Json {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  if (Array.isArray(doc)) return doc.map((v, i) => (i === head ? setAt(v, rest, value) : v));
  if (doc && typeof doc === "object") return { ...(doc as object), [head!]: setAt((doc as Record<string, unknown>)[head!], rest, value) };
  return doc;
}

function deleteAt(doc: Json, path: (string | number)[]): Json {
  if (path.length === 0) return doc;
  if (path.length === 1) {
    const [head] = path;
    if (Array.isArray(doc)) return doc.filter((_, i) => i !== head);
    if (doc && typeof doc === "object") {
      const { [head!]: _gone, ...rest } = doc as Record<string, unknown>;
      return rest;
    }
    return doc;
  }
  const [head, ...rest] = path;
  if (Array.isArray(doc)) return doc.map((v, i) => (i === head ? deleteAt(v, rest) : v));
  if (doc && typeof doc === "object") return { ...(doc as object), [head!]: deleteAt((doc as Record<string, unknown>)[head!], rest) };
  return doc;
}

/** One defect in a case document. */
function caseDefect(rng: Rng, doc: Record<string, unknown>): Json {
  const all = paths(doc).filter((p) => p.length > 0);
  const slots = (doc["slots"] as Record<string, unknown>[] | undefined) ?? [];
  switch (int(rng, 14)) {
    case 0: return setAt(doc, pick(rng, all), pick(rng, WRONG));
    case 1: return setAt(doc, pick(rng, all), pick(rng, HUGE));
    case 2: return deleteAt(doc, pick(rng, all));
    case 3: return { ...doc, [pick(rng, ["extra", "slot", "Cores", "__proto__", "constructor"])]: pick(rng, WRONG) };
    case 4: return { ...doc, cores: pick(rng, [0, 1, 2, 9, 64, 1e9, -3, 2.5]) };
    case 5: return { ...doc, code: { base: pick(rng, HUGE), hex: pick(rng, HEX) } };
    case 6: return { ...doc, code: { base: "0x1000", asm: [pick(rng, ASM), ...((doc["code"] as { asm?: string[] })?.asm ?? []).slice(int(rng, 3))] } };
    case 7: return { ...doc, entries: pick(rng, [[], ["nowhere"], [0], [1e12], ["0xffffffff"], [-1], (doc["entries"] as unknown[]) ?? []].map((e) => [...e, ...e])) };
    case 8: // A slot given by bytes that decode to nothing, or at an address outside the code.
      return { ...doc, slots: slots.map((s) => ({ name: s["name"], start: pick(rng, [0, 4096, 4097, 0xffffffff, 1e15, -4096]), len: pick(rng, [0, 1, 5, 16, 1000]), newHex: pick(rng, HEX) })) };
    case 9: // Overlapping slots: the same slot twice under two names.
      return slots.length > 0 ? { ...doc, slots: [...slots, { ...slots[0], name: `${String(slots[0]!["name"])}2` }] } : doc;
    case 10: return { ...doc, slots: slots.map((s) => ({ ...s, [pick(rng, ["new", "newHex", "old", "kind", "bpResume"])]: pick(rng, [...HEX, ...ASM, ...WRONG]) })) };
    case 11: return { ...doc, ops: pick(rng, [[], [{ slots: [] }], [{ slots: ["nope"] }], [{ slots: [{ slot: "x", to: "sideways" }] }], [{ slots: slots.map((s) => s["name"]), batch: "both" }], "ops"]) };
    case 12: return { ...doc, runs: [{ strategy: pick(rng, ["direct_write", "nope", "", 3]), model: pick(rng, ["sdm-strict", "nope", null]), seed: pick(rng, [0, -1, 1e20, "s"]), decisions: pick(rng, DECISIONS) }] };
    default: return { ...doc, version: pick(rng, [1, 3, "2", null]), xmcfuzz: pick(rng, ["case", "model", 2]) };
  }
}

/** A malformed case document: a corpus case with one to three defects. */
export function malformedCase(rng: Rng, corpus: readonly Json[]): Json {
  let doc = structuredClone(pick(rng, corpus)) as Json;
  for (let i = 0, n = 1 + int(rng, 3); i < n; i++) doc = caseDefect(rng, doc as Record<string, unknown>);
  return doc;
}

/** Malformed file text: truncated, spliced, or not JSON at all. */
export function malformedText(rng: Rng, texts: readonly string[]): string {
  const t = pick(rng, texts);
  switch (int(rng, 5)) {
    case 0: return t.slice(0, int(rng, t.length));
    case 1: { const i = int(rng, t.length); return t.slice(0, i) + pick(rng, ["}", "]", "\"", ",", "\u0000", "{{", "NaN", "\\u12"]) + t.slice(i); }
    case 2: return pick(rng, ["", " ", "null", "[]", "42", "\"case\"", "true", "\ufeff{}", "{\"xmcfuzz\":\"case\"}"]);
    case 3: return t.replace(/"/g, int(rng, 2) ? "'" : "");
    default: return Buffer.from(t).subarray(0, int(rng, t.length)).reverse().toString("latin1");
  }
}

const MODEL_OK = {
  name: "m", fetchBlock: 16, prefetchDepth: 32, crossModifySnoop: "eventual", snoopBound: 16, snoopOrder: "any",
  branchRefetch: true, decodedCache: false, icache: "coherent", storeAtomicity: "aligned8", trapSerializes: true, mfenceSerializesFetch: true,
};

/** A malformed model document (and sometimes a valid one: the loader must accept it). */
export function malformedModel(rng: Rng): Json {
  let doc: Json = { ...MODEL_OK, name: `m${int(rng, 1000)}` };
  const all = paths(doc).filter((p) => p.length > 0);
  for (let i = 0, n = int(rng, 3); i < n; i++) {
    switch (int(rng, 5)) {
      case 0: doc = setAt(doc, pick(rng, all), pick(rng, WRONG)); break;
      case 1: doc = setAt(doc, pick(rng, all), pick(rng, HUGE)); break;
      case 2: doc = deleteAt(doc, pick(rng, all)); break;
      case 3: doc = { ...(doc as object), name: pick(rng, ["x86-realistic", "sdm-strict", "", 7]) }; break;
      default: doc = pick(rng, [null, [], "model", 3, { ...(doc as object), extra: 1 }]);
    }
  }
  return doc;
}

/** Command lines with at least one defect that must be caught before any work starts. */
export function malformedArgv(rng: Rng, files: { badCase: string; goodCase: string; badModel: string; missing: string; dirAsFile: string }): string[] {
  const cmd = pick(rng, ["run", "repro", "verify", "minimize", "fuzz", "matrix", "strategies", "models", "frob", "", "--frob", "-s"]);
  const args: string[] = cmd === "" ? [] : [cmd];
  const caseArg = pick(rng, [files.badCase, files.missing, files.dirAsFile]);
  if (["run", "repro", "verify", "minimize"].includes(cmd) && rng() < 0.9) args.push(rng() < 0.7 ? caseArg : files.goodCase);
  const defects = [
    () => ["--seed", pick(rng, ["-1", "x", "1.5", "1e400", "", " "])],
    () => ["--schedules", pick(rng, ["0", "-3", "many", "NaN"])],
    () => ["--timeout", pick(rng, ["5x", "", "-1s", "1h1", "s"])],
    () => ["--duration", pick(rng, ["forever", "10q", "", "1m1"])],
    () => ["--workers", pick(rng, ["0", "two", "-1"])],
    () => ["--max-cores", pick(rng, ["1", "9", "100"])],
    () => ["--slot-kind", pick(rng, ["nop5", "", "rewrite3", "NOP5->JMP32"])],
    () => ["--stall-timeout", pick(rng, ["x", "1.2.3s"])],
    () => ["--scheduler", pick(rng, ["dfs", "", "PCT"])],
    () => ["--bound", pick(rng, ["-1", "b"])],
    () => ["-s", pick(rng, ["nope", "", "stop_machine_", "./absent.mjs", "x/y"])],
    () => ["-m", pick(rng, ["nope", "", files.badModel, files.missing, "./absent.json"])],
    () => [pick(rng, ["--bogus", "-z", "---", "--seed=", "--schedules="])],
    () => ["extra-argument", "another"],
    () => ["--seed"],
  ];
  const n = 1 + int(rng, 2);
  for (let i = 0; i < n; i++) args.splice(int(rng, args.length + 1) || 1, 0, ...pick(rng, defects)());
  if (cmd === "minimize" && rng() < 0.5) args.push("-o", join(files.dirAsFile, "x", "out.json"));
  return args;
}
