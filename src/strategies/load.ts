import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { isMainThread, Worker } from "node:worker_threads";
import type { HandlerCtx, Strategy } from "../types.js";
import { InputError } from "../errors.js";
import { BUILTIN_STRATEGIES, builtinStrategy } from "./registry.js";

// User strategies (SPEC 5): an ES module exporting `strategy`, fuzzed exactly like the built-ins.

function checkShape(value: unknown, path: string): Strategy {
  const s = value as Partial<Strategy> | undefined;
  if (!s || typeof s !== "object") throw new InputError(`${path}: must export \`strategy\` (an object with name and patch)`);
  // Each member read once, not spread (a class instance's methods live on its prototype): a
  // getter answering otherwise the second time must not get past the checks.
  const { name, patch, onInt3, description } = s;
  if (typeof name !== "string" || name.length === 0) throw new InputError(`${path}: strategy.name: expected a non-empty string`);
  if (/\s/.test(name)) throw new InputError(`${path}: strategy.name: "${name}" holds whitespace; a name is one word of every signature (e.g. "${name.trim().replace(/\s+/g, "_")}")`);
  if (typeof patch !== "function") throw new InputError(`${path}: strategy.patch: expected a generator function`);
  if (onInt3 !== undefined && typeof onInt3 !== "function") throw new InputError(`${path}: strategy.onInt3: expected a generator function`);
  if (builtinStrategy(name)) throw new InputError(`${path}: strategy.name: "${name}" is a built-in strategy; choose another name`);
  return {
    name,
    description: typeof description === "string" ? description : "user strategy",
    patch: (ctx, slots) => patch.call(s, ctx, slots),
    ...(onInt3 ? { onInt3: (ctx: HandlerCtx, core: number, addr: number) => onInt3.call(s, ctx, core, addr) } : {}),
  };
}

/** How long a plugin's module may take to load (its top level) before it is bad input. */
export const PLUGIN_LOAD_MS = Number(process.env["XMCFUZZ_PLUGIN_LOAD_MS"]) || 10_000;

/** Undefined when the module loads in a throwaway thread within the limit, else why not. */
function probePlugin(url: string, ms: number): Promise<string | undefined> {
  return new Promise((done) => {
    const w = new Worker(new URL("./probe-worker.js", import.meta.url), { workerData: url, stdout: true, stderr: true });
    const finish = (why: string | undefined) => {
      clearTimeout(timer);
      w.removeAllListeners();
      void w.terminate();
      done(why);
    };
    const timer = setTimeout(() => finish(`its module did not finish loading within ${ms} ms`), ms);
    w.on("message", (m: { ok: boolean; message?: string }) => finish(m.ok ? undefined : (m.message ?? "failed").split("\n")[0]));
    w.on("error", (e) => finish(e.message.split("\n")[0]));
    w.on("exit", () => finish("its module did not finish loading"));
  });
}

/** checkShape of what `exported` reads, with a throwing getter or proxy on the way reported as bad input. */
function checked(exported: () => unknown, path: string): Strategy {
  try {
    return checkShape(exported(), path);
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${path}: cannot read \`strategy\` (${(e as Error).message?.split("\n")[0] ?? String(e)})`);
  }
}

export async function loadStrategyFile(path: string): Promise<Strategy> {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new InputError(`${path}: no such strategy file`);
  // The main thread cannot be pre-empted: try the import elsewhere first (workers trust it).
  if (isMainThread) {
    const why = await probePlugin(pathToFileURL(abs).href, PLUGIN_LOAD_MS);
    if (why !== undefined) throw new InputError(`${path}: cannot load strategy plugin (${why})`);
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(abs).href)) as Record<string, unknown>;
  } catch (e) {
    throw new InputError(`${path}: cannot load strategy plugin (${(e as Error).message?.split("\n")[0] ?? String(e)})`);
  }
  // A CommonJS plugin's `module.exports = { strategy }` arrives as the default export.
  return checked(() => mod["strategy"] ?? (mod["default"] as Record<string, unknown> | null | undefined)?.["strategy"], path);
}

/** A strategy by built-in name, or from a module file when the argument looks like a path. */
export async function resolveStrategy(arg: string): Promise<Strategy> {
  const s = builtinStrategy(arg);
  if (s) return s;
  if (/\.(m?js|cjs)$/i.test(arg) || arg.includes("/")) return loadStrategyFile(arg);
  throw new InputError(`unknown strategy "${arg}" (built-in: ${BUILTIN_STRATEGIES.map((x) => x.name).join(", ")}; or a path to a .js plugin)`);
}
