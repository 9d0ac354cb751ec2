#!/usr/bin/env -S node --single-threaded
// The xmcfuzz command line: a thin shell over the library. Bad input is one line on stderr and
// exit status 2; a strategy that misbehaves is exit 3; never a stack trace.
// The bin runs V8 without its helper threads (--single-threaded; V8 flags cannot be set once it
// runs): the emulator's worker threads keep every core busy, and with parallel GC and background
// compilation each worker also took ~0.2-0.3 of another core, for no faster runs (bench-fuzz).
import { realpathSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { Command, CommanderError, Option } from "commander";
import { InputError, OracleGaveUp, SelfCheckError } from "../errors.js";
import { DriftError } from "../schedule/choosers.js";
import { isRefusal } from "../hub/redis.js";
import { DEFAULT_MAX_CORES, MAX_CORES, MIN_CORES } from "../types.js";
import { GENERATED_KINDS } from "../fuzz/generate.js";
import { EXIT } from "./exit.js";
import { exportCommand } from "./export.js";
import { fromBytesCommand } from "./from-bytes.js";
import { DEFAULT_CELL_TIMEOUT } from "./cells.js";
import { fuzzCommand, parseDuration, type FuzzOptions } from "./fuzz.js";
import { hubEnqueueCommand, hubStatusCommand } from "./hub.js";
import { listModels, listStrategies } from "./list.js";
import { minimizeCommand } from "./minimize.js";
import { plotCommand } from "./plot.js";
import { verifyCommand } from "./verify.js";
import { reproCommand } from "./repro.js";
import { runCommand } from "./run.js";
import { checkReplayCommand } from "./check-replay.js";
import { regressCommand } from "./regress.js";
import { corpusAddCommand } from "./corpus.js";
import { matrixCommand } from "./matrix.js";

const collect = (value: string, previous: string[] = []) => [...previous, value];

function intArg(name: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (v: string): number => {
    const n = v.trim() === "" ? NaN : Number(v);
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in ${min}..${max}`;
    // Past 2^53 - 1 an integer is not exact ("9007199254740993" reads as ...992): say why it is refused.
    const tooLarge = max === Number.MAX_SAFE_INTEGER && Number.isInteger(n) && n > max ? ` (at most ${max}, 2^53 - 1)` : "";
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new InputError(`${name}: expected an integer ${range}, got "${v}"${tooLarge}`);
    return n;
  };
}

/**
 * Rejects a `--seed` whose consecutive seeds (`--seed` up to `--seed` + `<count>` - 1) pass 2^53 - 1:
 * past it seed + 1 may equal seed, so `run` looped forever on one seed and shards shared seeds.
 */
function lastSeedFits(countFlag: string, countKey: string) {
  return (cmd: Command): void => {
    const opts = cmd.opts<Record<string, number>>();
    const seed = opts["seed"]!, n = opts[countKey]!;
    // Compared without computing seed + n - 1, which itself rounds past 2^53 - 1.
    if (seed > Number.MAX_SAFE_INTEGER - (n - 1)) {
      throw new InputError(`--seed: ${seed} with ${countFlag} ${n} takes seeds past ${Number.MAX_SAFE_INTEGER} (2^53 - 1), which are not exact; use a seed of at most ${Number.MAX_SAFE_INTEGER - n + 1}`);
    }
  };
}

/**
 * A duration option whose error names the option (parseDuration's names --duration). None is 0:
 * a campaign or matrix of no time says "none found" of what it never ran.
 */
function durationArg(name: string) {
  return (v: string): number => {
    let ms: number;
    try {
      ms = parseDuration(v);
    } catch (e) {
      throw e instanceof InputError ? new InputError(e.message.replace(/^--duration:/, `${name}:`)) : e;
    }
    if (ms <= 0) throw new InputError(`${name}: expected a duration above 0, got "${v}"`);
    return ms;
  };
}

/** A duration option whose default is shown as written ("8h", not 28800000). */
function timeOption(flags: string, description: string, shown: string): Option {
  return new Option(flags, description).argParser(durationArg(flags.split(" ")[0]!)).default(parseDuration(shown), shown);
}

/** How long a step may run without yielding before its cell or worker is cut off. */
const STALL_TIMEOUT = "60s";

/** A count option with no limit unless given (shown as such, not as 2^53 - 1). */
function limitOption(flags: string, description: string): Option {
  return new Option(flags, description).argParser(intArg(flags.split(" ")[0]!, 1)).default(Number.MAX_SAFE_INTEGER, "no limit");
}

/** A repeated `--slot-kind`: one of the generator's patch kinds. */
function slotKindArg(v: string, previous: string[] = []): string[] {
  if (!GENERATED_KINDS.includes(v)) throw new InputError(`--slot-kind: unknown patch kind "${v}"; the generator makes ${GENERATED_KINDS.join(", ")}`);
  return [...previous, v];
}

/** What generated cases may hold, on the commands that generate them or plan shards (`fuzz`, `matrix`, `hub enqueue`). */
function scopeOptions(cmd: Command): Command {
  return cmd
    .option("--max-cores <n>", "largest generated core count (2..8)", intArg("--max-cores", MIN_CORES, MAX_CORES), DEFAULT_MAX_CORES)
    .option("--slot-kind <kind>", `generate only these patch kinds (repeatable; default all): ${GENERATED_KINDS.join(", ")}`, slotKindArg)
    .option("--no-atomic-batches", "generate per-site ops only (no atomic multi-slot batches)");
}

/** -s/--strategy and -m/--model, repeatable, on every command that runs cells. */
function cellOptions(cmd: Command, what = "default: all built-ins"): Command {
  return cmd
    .addOption(new Option("-s, --strategy <name|file>", `strategy (repeatable; ${what})`).argParser(collect))
    .addOption(new Option("-m, --model <name|file>", `hardware model (repeatable; ${what === "default: all built-ins" ? "default: all named models" : what})`).argParser(collect));
}

export function buildProgram(): Command {
  const program = new Command("xmcfuzz")
    .description("Differential fuzzer for live code-patching protocols: every divergence from a stop_machine patch, by machine.")
    .addHelpText("after", "\nExit status: 0 clean, 1 divergence found, 2 bad input (or replay drift), 3 harness error (a strategy threw or hung).")
    // Usage errors are one line like every other error (commander's own text, our prefix).
    .configureOutput({ outputError: (text, write) => write(`xmcfuzz: ${text.replace(/^error: /, "").replace(/\s*\n\s*/g, " ").trim()} (run with --help for usage)\n`) })
    .exitOverride();

  cellOptions(program.command("run"))
    .description("run a case under strategies x models with random schedules; one verdict per (strategy, model)")
    .argument("<case>", "case file (JSON)")
    .option("--seed <n>", "first seed of the random scheduler", intArg("--seed", 0), 0)
    .option("--schedules <n>", "random schedules tried per (strategy, model); stops at the first divergence", intArg("--schedules", 1), 200)
    .option("--rules-fail", "count rule findings as divergences", false)
    .option("--record <file>", "write the case with one recorded run per (strategy, model), its decisions and verdict")
    .option("--json", "machine-readable output", false)
    .addOption(timeOption("--timeout <time>", "wall budget per (strategy, model); past it the cell is a harness error (exit 3)", DEFAULT_CELL_TIMEOUT))
    .hook("preAction", lastSeedFits("--schedules", "schedules"))
    .action(runCommand);

  cellOptions(program.command("repro"), "filters the recorded runs; also names plugins and model files")
    .description("replay every recorded run of a case or crash file exactly and print the report")
    .argument("<file>", "case or crash file with recorded runs")
    .option("--rules-fail", "count rule findings as divergences", false)
    .option("--json", "machine-readable output", false)
    .option("--html <file>", "also write a self-contained HTML report (timeline, byte provenance, observed vs expected)")
    .addOption(timeOption("--timeout <time>", "wall budget per recorded run; past it the run is a harness error (exit 3)", DEFAULT_CELL_TIMEOUT))
    .action(reproCommand);

  scopeOptions(cellOptions(program.command("fuzz")))
    .description("fuzz campaign: generated and mutated cases x strategies x models x schedules; keeps going after findings")
    .addOption(timeOption("--duration <time>", "stop after this long (30s, 10m, 8h, 1h30m)", "8h"))
    .addOption(limitOption("--max-execs <n>", "stop after this many runs"))
    .option("--workers <n>", "worker threads", intArg("--workers", 1), 1)
    .option("--seed <n>", "root seed (worker seeds derive from it; default 1, mixed with the --node name given when the node shares a sync directory or hub)", intArg("--seed", 0))
    .addOption(new Option("--scheduler <policy>", "schedule policy").choices(["random", "pct"]).default("pct"))
    .option("--out <dir>", "campaign directory: stats.json, fuzz.log, corpus (sync/<node>/corpus) (default: fuzz-out; with --sync-dir, <sync>/<node>)")
    .option("--corpus <dir>", "alias of --sync-dir for a single machine (node \"local\": a restart resumes from it)")
    .option("--crashes <dir>", "where findings go (default crashes/, or <sync-dir>/crashes)")
    .option("--sync-dir <dir>", "AFL-style sync directory shared with other processes or machines")
    .option("--node <name>", "this process's name in the sync directory (default: hostname-pid with --sync-dir, so give one to resume)")
    .option("--log <file>", "pino JSON log (default <out>/fuzz.log)")
    .option("--no-feedback", "no coverage feedback: every case freshly generated (for comparison)")
    .option("--no-minimize", "keep findings unminimized")
    .addOption(timeOption("--stall-timeout <time>", "replace a worker stuck this long in one step (a harness error)", STALL_TIMEOUT))
    .option("--json", "print the final statistics as JSON", false)
    .option("--hub <url|dir>", "join a hub (redis://[user:password@]host:port, rediss:// for TLS, unix:///socket, or a shared directory): corpus and findings shared, shards served")
    .option("--shard-workers <n>", "threads serving the hub's shards (default: --workers)", intArg("--shard-workers", 0))
    .option("--shards-only", "with --hub: serve shards only, no free fuzzing", false)
    .option("--until-idle", "with --hub: stop once the hub has no pending or running shard", false)
    .option("--shard-lease <time>", "with --hub: a node silent this long loses its running shard to another (default 30s with Redis, 60s in a directory)", durationArg("--shard-lease"))
    .option("--promote [dir]", "also write minimized divergences into the regression corpus (default corpus/)")
    // --corpus is one machine's directory: its node keeps one name, so a restart resumes from it.
    .action((opts: FuzzOptions & { corpus?: string }) => {
      if (opts.corpus !== undefined && opts.syncDir !== undefined) throw new InputError("--corpus and --sync-dir: choose one (--corpus is one machine's sync directory)");
      return fuzzCommand({
        ...opts, syncDir: opts.syncDir ?? opts.corpus, corpusAlias: opts.corpus !== undefined,
        node: opts.node ?? (opts.corpus !== undefined && opts.hub === undefined ? "local" : undefined),
      });
    });

  cellOptions(program.command("verify"))
    .description("exhaustive scheduler: every schedule within a delay bound, per (strategy, model)")
    .argument("<case>", "case file (JSON)")
    .option("--bound <n>", "delay bound: decisions that may deviate from the default schedule", intArg("--bound", 0), 1)
    .option("--max-schedules <n>", "give up (incomplete) after this many schedules per cell", intArg("--max-schedules", 1), 200_000)
    .option("--rules-fail", "count rule findings as divergences", false)
    .option("--record <file>", "write the case with the divergent schedules recorded (for repro)")
    .addOption(timeOption("--stall-timeout <time>", "a cell whose search makes no progress this long (a step that never yields) is a harness error", STALL_TIMEOUT))
    .option("--json", "machine-readable output", false)
    .action(verifyCommand);

  cellOptions(program.command("minimize"), "filters the recorded runs; also names plugins and model files")
    .description("shrink a recorded run of a case (cores, ops, slots, instructions, decisions), keeping the signature of its divergence or, with none, of a rule it breaks (a crash file: the finding it is named after)")
    .argument("<case>", "case or crash file with a recorded divergent run")
    .requiredOption("-o, --out <file>", "where to write the minimized case")
    .option("--max-runs <n>", "replays allowed", intArg("--max-runs", 1), 2000)
    .addOption(timeOption("--stall-timeout <time>", "a replay with no progress this long (a step that never yields) is a harness error", STALL_TIMEOUT))
    .option("--json", "machine-readable output", false)
    .action(minimizeCommand);

  const hub = program.command("hub").description("a hub shared by campaigns on several machines (Redis, or a shared directory)");
  scopeOptions(cellOptions(hub.command("enqueue")))
    .description("split work into (strategy, model, seed, budget) shards on the hub's queue; served by `fuzz --hub`")
    .argument("<hub>", "redis://[user:password@]host:port, rediss://..., unix:///socket, or a shared directory")
    .option("--matrix", "exec-bounded shards for the safety matrix (needs --max-execs)", false)
    .option("--campaign", "time-bounded fuzzing shards (needs --duration)", false)
    .option("--seed <n>", "first seed (matrix's default: the same shards as `matrix --hub`)", intArg("--seed", 0), 1)
    .option("--seeds <n>", "shards (consecutive seeds) per (strategy, model)", intArg("--seeds", 1), 1)
    .addOption(new Option("--scheduler <policy>", "schedule policy of the shards, whichever node serves them").choices(["random", "pct"]).default("pct"))
    .option("--max-execs <n>", "execs per shard", intArg("--max-execs", 1))
    .option("--duration <time>", "time per shard (with --matrix an optional cap, none by default, as matrix --max-execs alone)", durationArg("--duration"))
    .option("--json", "machine-readable output", false)
    .hook("preAction", lastSeedFits("--seeds", "seeds"))
    .action(hubEnqueueCommand);
  hub.command("status")
    .description("nodes alive, execs/s per node and in total, corpus size, unique signatures, shards pending / running / done")
    .argument("<hub>", "redis://..., rediss://..., unix:///socket, or a shared directory")
    .option("--json", "machine-readable output", false)
    .action(hubStatusCommand);

  cellOptions(program.command("export"), "filters the recorded runs; also names plugins and model files")
    .description("export a case or crash file's recorded runs in a form readable without the tool")
    .argument("<file>", "case or crash file with recorded runs")
    .option("--litmus", "litmus-style text: per-core code, the patch, observed vs allowed outcomes", false)
    .option("-o, --out <file>", "write to a file instead of stdout")
    .option("--rules-fail", "count rule findings as divergences", false)
    .action(exportCommand);

  program.command("from-bytes")
    .description("decode a byte buffer (a jsfuzz crash file or corpus entry) into a case file with the one run it stands for recorded, as the jsfuzz target runs it")
    .argument("<file>", "byte buffer")
    .requiredOption("-o, --out <file>", "where to write the case file")
    .option("--json", "machine-readable output", false)
    .action(fromBytesCommand);

  program.command("plot")
    .description("plot a campaign's execs/s, coverage bits, corpus size and unique signatures over time (like afl-plot)")
    .argument("<campaign>", "campaign directory (its stats.json) or a stats.json file")
    .requiredOption("-o, --out <file>", "out.html (a self-contained page) or out.svg")
    .action(plotCommand);
  cellOptions(program.command("check-replay"), "plugins and model files the recorded runs name")
    .description("replay every recorded run under the given files and directories (corpus/, crashes/) twice and in a worker thread; exit 1 unless all are bit-identical and match their recorded verdicts")
    .argument("<paths...>", "case files or directories holding them")
    .addOption(timeOption("--timeout <time>", "wall budget per worker-thread replay", DEFAULT_CELL_TIMEOUT))
    .option("--json", "machine-readable output", false)
    .action(checkReplayCommand);

  program.command("strategies")
    .description("list the built-in strategies")
    .option("--json", "machine-readable output", false)
    .action(listStrategies);

  program.command("models")
    .description("list the named hardware models and their parameters")
    .option("--json", "machine-readable output", false)
    .action(listModels);

  cellOptions(program.command("regress"), "filters the recorded runs; also names plugins and model files")
    .description("replay every recorded run of every corpus case and compare verdict, signature and rule findings with its expectation")
    .argument("[dir]", "corpus directory (or one case file)", "corpus")
    .option("--update", "rewrite the expectations of changed runs (after a deliberate change) and print what changed", false)
    .option("--json", "machine-readable output", false)
    .action(regressCommand);

  const corpus = program.command("corpus").description("manage the regression corpus");
  cellOptions(corpus.command("add"), "filters the recorded runs; also names plugins and model files")
    .description("promote a crash (minimized finding) into the corpus, its recorded run as the expectation")
    .argument("<crash>", "crash or case file with recorded runs")
    .option("--corpus <dir>", "corpus directory", "corpus")
    .option("--json", "machine-readable output", false)
    .action(corpusAddCommand);

  scopeOptions(cellOptions(program.command("matrix"), "default: all nine built-ins / all named models; plugins and model files by path"))
    .description("the safety matrix: fuzz every (strategy, model) cell for a budget, verify the cells without a divergence exhaustively on the corpus")
    .option("--budget <time>", "fuzzing time per cell (default 30s; none when only --max-execs is given)", durationArg("--budget"))
    .addOption(limitOption("--max-execs <n>", "execs per cell (with it alone the matrix is deterministic)"))
    .option("--workers <n>", "worker threads shared by all cells", intArg("--workers", 1), 1)
    .option("--seed <n>", "root seed (shard k of a cell uses seed + k)", intArg("--seed", 0), 1)
    .option("--shards-per-cell <n>", "split each cell's budget into this many shards", intArg("--shards-per-cell", 1), 1)
    .addOption(new Option("--scheduler <policy>", "schedule policy").choices(["random", "pct"]).default("pct"))
    .option("--no-minimize", "keep findings unminimized")
    .addOption(timeOption("--minimize-time <time>", "wall time per minimization", "2s"))
    .option("--no-verify", "skip the exhaustive check of cells without a divergence")
    .option("--verify-bound <n>", "largest delay bound of the exhaustive check", intArg("--verify-bound", 0), 1)
    .option("--verify-max-schedules <n>", "schedules per (cell, corpus case, bound) before a bound counts as not exhausted", intArg("--verify-max-schedules", 1), 2000)
    .option("--verify-corpus <dir>", "corpus cases of the exhaustive check", "corpus")
    .option("--crashes <dir>", "where findings (reproducers and reports) go", "crashes")
    .addOption(timeOption("--stall-timeout <time>", "a shard stuck this long in one step is a harness error", STALL_TIMEOUT))
    .option("--md", "Markdown output", false)
    .option("--json", "machine-readable output", false)
    .option("--html <file>", "also write the matrix as a self-contained HTML page, linking to reproducer reports")
    .option("--hub <url|dir>", "serve the shards through a hub (redis://, rediss://, unix:// or a directory): `fuzz --hub` nodes help, this process serves --workers threads too")
    .hook("preAction", lastSeedFits("--shards-per-cell", "shardsPerCell"))
    .action(matrixCommand);

  return program;
}

const PATH_ERRORS = new Set(["ENOENT", "EEXIST", "EACCES", "EPERM", "ENOTDIR", "EISDIR", "EROFS", "ENAMETOOLONG", "ENOSPC", "EDQUOT", "EFBIG"]);

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv as string[]);
    return process.exitCode === undefined ? EXIT.clean : Number(process.exitCode);
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version exit 0; usage errors were already printed by commander.
      return e.exitCode === 0 ? EXIT.clean : EXIT.badInput;
    }
    if (e instanceof InputError || e instanceof DriftError) {
      process.stderr.write(`xmcfuzz: ${e.message}\n`);
      return EXIT.badInput;
    }
    if (e instanceof SelfCheckError || e instanceof OracleGaveUp) {
      process.stderr.write(`xmcfuzz: ${e.message}\n`);
      return EXIT.harnessError;
    }
    const fsError = e as NodeJS.ErrnoException;
    if (fsError.path && fsError.code && PATH_ERRORS.has(fsError.code)) {
      // A path the user gave that cannot be read or written (--out, --record, -o, --log...).
      process.stderr.write(`xmcfuzz: ${fsError.path.replace(/\.tmp-\d+-[a-z0-9]+$/, "")}: cannot use this path (${fsError.code})\n`);
      return EXIT.badInput;
    }
    const message = e instanceof Error ? e.message : String(e);
    if (isRefusal(message, true)) {
      // A hub command the server refused this user (credentials, ACLs): bad input, not our bug.
      // A refused INFO that reached here was one BullMQ needed (ioredis's ready check goes on).
      process.stderr.write(`xmcfuzz: hub refused: ${message.split("\n")[0]}\n`);
      return EXIT.badInput;
    }
    process.stderr.write(`xmcfuzz: internal error: ${message.split("\n")[0]}\n`);
    return EXIT.harnessError;
  }
}

// A reader that went away (`xmcfuzz repro x | head`) is not an error worth a stack trace; an
// output the system refuses (`> file` on a full disk) is bad input, said in one line (on stderr,
// if that is not the one refused).
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
    if (stream === process.stdout) outputRefused(e);
    process.exit(EXIT.badInput);
  });
}

/** A standard output the system refused (a full disk under `> file`): bad input, one line. */
function outputRefused(e: NodeJS.ErrnoException): never {
  process.stderr.write(`xmcfuzz: standard output: cannot write (${e.code ?? e.message})\n`);
  process.exit(EXIT.badInput);
}

function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return pathToFileURL(realpathSync(script)).href === import.meta.url;
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  // An error escaping every command's handling (a strategy plugin's own timer or promise that
  // throws) is a harness error of a plugin or a bug of ours: one line, exit 3, never a stack trace
  // and never exit 1 (a divergence).
  const escaped = (e: unknown) => {
    process.stderr.write(`xmcfuzz: uncaught error (a strategy plugin's own timer or promise, or a bug in xmcfuzz): ${e instanceof Error ? e.message.split("\n")[0] : String(e)}\n`);
    process.exit(EXIT.harnessError);
  };
  process.on("uncaughtException", escaped);
  process.on("unhandledRejection", escaped);
  // Exits once the command is done: a plugin's leftover timer or handle must not keep it alive.
  main(process.argv).then(exitWhenFlushed);
}

/**
 * Exits with `code` once stdout and stderr have handed everything to the OS. Writes to a pipe are
 * asynchronous: what a full pipe did not take yet (past 64 KiB of `--json`) would be lost to an
 * immediate exit. A reader that goes away meanwhile exits with the code too (EPIPE, above).
 */
function exitWhenFlushed(code: number): void {
  process.exitCode = code;
  const pending = [process.stdout, process.stderr].filter((s) => s.writableLength > 0);
  let left = pending.length;
  if (left === 0) return exitUnlessOutputFailed(code);
  for (const s of pending) s.write("", () => { if (--left === 0) exitUnlessOutputFailed(code); });
}

/** Exits with `code`, unless standard output failed with an error not yet emitted (a report cut short must not exit 0). */
function exitUnlessOutputFailed(code: number): void {
  const failed = process.stdout.errored as NodeJS.ErrnoException | null;
  if (failed && failed.code !== "EPIPE") outputRefused(failed);
  process.exit(code);
}
