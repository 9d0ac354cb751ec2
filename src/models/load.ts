import { readInputFile } from "../files/read.js";
import { z } from "zod";
import type { Model } from "../types.js";
import { InputError } from "../errors.js";
import { NAMED_MODELS, namedModel } from "./named.js";

// A user's model file (SPEC 4): the same parameters as the named models, validated on load.

const modelSchema = z.strictObject({
  // One word: names are words of every finding's signature, which is read back word by word.
  name: z.string().min(1).regex(/^\S+$/, { error: "expected one word, no whitespace (a name is one word of every signature)" }),
  fetchBlock: z.union([z.literal(0), z.literal(1), z.literal(16), z.literal(64)], { error: "expected 0, 1, 16 or 64" }),
  prefetchDepth: z.number().int().min(0).max(64),
  crossModifySnoop: z.enum(["immediate", "eventual", "none"]),
  snoopBound: z.number().int().min(1).max(1_000_000).default(64),
  snoopOrder: z.enum(["store", "any"]),
  branchRefetch: z.boolean(),
  decodedCache: z.boolean(),
  icache: z.enum(["coherent", "noncoherent"]),
  storeAtomicity: z.enum(["byte", "aligned8"]),
  trapSerializes: z.boolean().default(true),
  mfenceSerializesFetch: z.boolean().default(false),
  reading: z.string().optional(),
});

export function issueText(error: z.ZodError): string {
  const issue = error.issues[0]!;
  const path = issue.path.length > 0 ? issue.path.join(".") : "(top level)";
  return `${path}: ${issue.message}`;
}

export function parseModel(json: unknown, source: string): Model {
  const r = modelSchema.safeParse(json);
  if (!r.success) throw new InputError(`${source}: ${issueText(r.error)}`);
  if (namedModel(r.data.name)) throw new InputError(`${source}: name: "${r.data.name}" is a built-in model; choose another name`);
  return r.data;
}

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readInputFile(path, "utf8");
  } catch (e) {
    throw new InputError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InputError(`${path}: not valid JSON (${(e as Error).message.split("\n")[0]})`);
  }
}

/** A model by built-in name, or from a JSON file when the argument looks like a path. */
export function resolveModel(arg: string): Model {
  const named = namedModel(arg);
  if (named) return named;
  if (/\.json$/i.test(arg) || arg.includes("/")) return parseModel(readJson(arg), arg);
  throw new InputError(`unknown model "${arg}" (built-in: ${NAMED_MODELS.map((m) => m.name).join(", ")}; or a path to a .json model file)`);
}
