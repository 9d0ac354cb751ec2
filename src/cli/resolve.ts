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

export async function strategiesFrom(args: readonly string[] | undefined): Promise<Strategy[]> {
  if (!args || args.length === 0) return [...BUILTIN_STRATEGIES];
  return distinctNames(args, await Promise.all(args.map(resolveStrategy)), "strategy");
}

export function modelsFrom(args: readonly string[] | undefined): Model[] {
  if (!args || args.length === 0) return [...NAMED_MODELS];
  return distinctNames(args, args.map(resolveModel), "model");
}

/**
 * Strategy and model arguments as a shard carries them to other nodes: names as they are, plugin
 * and model files as absolute paths (a relative one named another file, or none, on a node
 * started elsewhere). Machines sharing the hub must see the files at the same paths.
 */
export function forEveryNode(args: readonly string[]): string[] {
  return args.map((a) => (builtinStrategy(a) || namedModel(a) ? a : resolve(a)));
}

/**
 * One of each name: the same built-in or file given twice counts once, and two different ones
 * under one name are bad input (a cell, a recorded run and a signature know them by name only).
 */
function distinctNames<T extends { readonly name: string }>(args: readonly string[], items: readonly T[], what: string): T[] {
  const seen = new Map<string, { arg: string; where: string }>();
  const out: T[] = [];
  items.forEach((item, i) => {
    const builtin = (BUILTIN_STRATEGIES as readonly unknown[]).includes(item) || (NAMED_MODELS as readonly unknown[]).includes(item);
    const arg = args[i]!, where = builtin ? item.name : resolve(arg);
    const first = seen.get(item.name);
    if (!first) {
      seen.set(item.name, { arg, where });
      out.push(item);
    } else if (first.where !== where) {
      throw new InputError(`${arg}: ${what} name "${item.name}" is also the name of ${first.arg}; cells and signatures know a ${what} by its name`);
    }
  });
  return out;
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
