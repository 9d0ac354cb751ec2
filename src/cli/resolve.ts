import { resolve } from "node:path";
import type { CaseScope, Model, RecordedRun, Strategy } from "../types.js";
import { InputError } from "../errors.js";
import { DriftError } from "../schedule/choosers.js";
import { NAMED_MODELS, namedModel } from "../models/named.js";
import { resolveModel } from "../models/load.js";
import { BUILTIN_STRATEGIES, builtinStrategy } from "../strategies/registry.js";
import { resolveStrategy } from "../strategies/load.js";

// Turning command-line names and paths into strategies and models.

/** `--max-cores`, `--slot-kind` (repeatable) and `--no-atomic-batches`, on the commands that generate cases. */
export interface ScopeArgs {
  maxCores: number;
  slotKind?: string[];
  atomicBatches: boolean;
}

/** The generator's scope from its command-line options. */
export function scopeFrom(opts: ScopeArgs): CaseScope {
  return {
    maxCores: opts.maxCores,
    ...(opts.slotKind && opts.slotKind.length > 0 ? { slotKinds: [...new Set(opts.slotKind)] } : {}),
    ...(opts.atomicBatches ? {} : { atomicBatches: false }),
  };
}

/** Strategies of `-s` arguments (every built-in when none): see uniqueArgs and distinctNames. */
export async function strategiesFrom(args: readonly string[] | undefined): Promise<Strategy[]> {
  if (!args || args.length === 0) return [...BUILTIN_STRATEGIES];
  const unique = uniqueArgs(args);
  return distinctNames(unique, await Promise.all(unique.map(resolveStrategy)), "strategy");
}

/** Models of `-m` arguments (every named one when none): see uniqueArgs and distinctNames. */
export function modelsFrom(args: readonly string[] | undefined): Model[] {
  if (!args || args.length === 0) return [...NAMED_MODELS];
  const unique = uniqueArgs(args);
  return distinctNames(unique, unique.map(resolveModel), "model");
}

/** Where an argument points: a built-in strategy or named model by name, a file by absolute path. */
function target(arg: string): string {
  return builtinStrategy(arg) || namedModel(arg) ? arg : resolve(arg);
}

/**
 * `-s`/`-m` arguments with the same built-in or file given twice counted once (in the order
 * first given). Commands that hand arguments on (to workers, to a hub) must use these, so that
 * their lists and the resolved ones line up.
 */
export function uniqueArgs(args: readonly string[]): string[] {
  const seen = new Set<string>();
  return args.filter((a) => {
    const t = target(a);
    if (seen.has(t)) return false;
    seen.add(t);
    return true;
  });
}

/** `-s` arguments once each (uniqueArgs), or every built-in strategy's name. */
export function strategyArgsOf(args: readonly string[] | undefined): string[] {
  return args && args.length > 0 ? uniqueArgs(args) : BUILTIN_STRATEGIES.map((s) => s.name);
}

/** `-m` arguments once each (uniqueArgs), or every named model's name. */
export function modelArgsOf(args: readonly string[] | undefined): string[] {
  return args && args.length > 0 ? uniqueArgs(args) : NAMED_MODELS.map((m) => m.name);
}

/**
 * Strategy and model arguments as a shard carries them to other nodes: names as they are, plugin
 * and model files as absolute paths (a relative one named another file, or none, on a node
 * started elsewhere). Machines sharing the hub must see the files at the same paths.
 */
export function forEveryNode(args: readonly string[]): string[] {
  return args.map(target);
}

/**
 * Two different strategies (or models) under one name are bad input: a cell, a recorded run and a
 * signature know them by name only. `args` are unique (uniqueArgs), one per item.
 */
function distinctNames<T extends { readonly name: string }>(args: readonly string[], items: readonly T[], what: string): T[] {
  const seen = new Map<string, string>();
  items.forEach((item, i) => {
    const first = seen.get(item.name);
    if (first !== undefined) throw new InputError(`${args[i]}: ${what} name "${item.name}" is also the name of ${first}; cells and signatures know a ${what} by its name`);
    seen.set(item.name, args[i]!);
  });
  return [...items];
}

/** The strategy and model of a recorded run: built-ins by name, user ones among those given. */
export function recordedPair(run: RecordedRun, strategies: readonly Strategy[], models: readonly Model[], where: string): [Strategy, Model] {
  const s = strategies.find((x) => x.name === run.strategy);
  if (!s) throw new InputError(`${where}: strategy "${run.strategy}" is not built in; pass its plugin with --strategy <file>`);
  const m = models.find((x) => x.name === run.model);
  if (!m) throw new InputError(`${where}: model "${run.model}" is not built in; pass its file with --model <file>`);
  return [s, m];
}

/**
 * The recorded runs of a case that `-s`/`-m` select (all when none is given), each with its
 * strategy and model: built-ins by name, plugins and model files among those given.
 */
export async function selectRecordedRuns(
  runs: readonly RecordedRun[], opts: { strategy?: string[]; model?: string[] }, where: string,
): Promise<{ run: RecordedRun; index: number; strategy: Strategy; model: Model }[]> {
  const given = opts.strategy ? await strategiesFrom(opts.strategy) : [];
  const givenModels = opts.model ? modelsFrom(opts.model) : [];
  const strategies = [...given, ...BUILTIN_STRATEGIES.filter((s) => !given.includes(s))];
  const models = [...givenModels, ...NAMED_MODELS.filter((m) => !givenModels.includes(m))];
  return runs.flatMap((run, index) => {
    if (opts.strategy && !given.some((s) => s.name === run.strategy)) return [];
    if (opts.model && !givenModels.some((m) => m.name === run.model)) return [];
    const [strategy, model] = recordedPair(run, strategies, models, `${where}: runs[${index}]`);
    return [{ run, index, strategy, model }];
  });
}

/**
 * A strict replay of a recorded run (`where`: `<file>: runs[i]`); its drift names the file, the
 * run and its cell, as every bad-input line names its field.
 */
export async function replayNamingDrift<T>(where: string, run: RecordedRun, replay: () => T | Promise<T>): Promise<T> {
  try {
    return await replay();
  } catch (e) {
    if (e instanceof DriftError) throw new DriftError(`${where}: ${run.strategy} ${run.model}: ${e.message}`);
    throw e;
  }
}

/** The models a cell thread needs for these recorded runs: theirs (model files included) and every named one. */
export function modelsOfRuns(runs: readonly { readonly model: Model }[]): Model[] {
  return [...new Map([...runs.map((r) => r.model), ...NAMED_MODELS].map((m) => [m.name, m])).values()];
}
