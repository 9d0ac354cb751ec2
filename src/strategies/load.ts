import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Strategy } from "../types.js";
import { InputError } from "../errors.js";
import { BUILTIN_STRATEGIES, builtinStrategy } from "./registry.js";

// User strategies (SPEC 5): an ES module exporting `strategy`, fuzzed exactly like the built-ins.

function checkShape(value: unknown, path: string): Strategy {
  const s = value as Partial<Strategy> | undefined;
  if (!s || typeof s !== "object") throw new InputError(`${path}: must export \`strategy\` (an object with name and patch)`);
  if (typeof s.name !== "string" || s.name.length === 0) throw new InputError(`${path}: strategy.name: expected a non-empty string`);
  if (typeof s.patch !== "function") throw new InputError(`${path}: strategy.patch: expected a generator function`);
  if (s.onInt3 !== undefined && typeof s.onInt3 !== "function") throw new InputError(`${path}: strategy.onInt3: expected a generator function`);
  if (builtinStrategy(s.name)) throw new InputError(`${path}: strategy.name: "${s.name}" is a built-in strategy; choose another name`);
  return { description: "user strategy", ...s } as Strategy;
}

export async function loadStrategyFile(path: string): Promise<Strategy> {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new InputError(`${path}: no such strategy file`);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(abs).href)) as Record<string, unknown>;
  } catch (e) {
    throw new InputError(`${path}: cannot load strategy plugin (${(e as Error).message?.split("\n")[0] ?? String(e)})`);
  }
  return checkShape(mod["strategy"], path);
}

/** A strategy by built-in name, or from a module file when the argument looks like a path. */
export async function resolveStrategy(arg: string): Promise<Strategy> {
  const s = builtinStrategy(arg);
  if (s) return s;
  if (/\.(m?js|cjs)$/.test(arg) || arg.includes("/")) return loadStrategyFile(arg);
  throw new InputError(`unknown strategy "${arg}" (built-in: ${BUILTIN_STRATEGIES.map((x) => x.name).join(", ")}; or a path to a .js plugin)`);
}
