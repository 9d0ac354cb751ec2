import type { CaseScope, Cause, Effect, MatrixCell, Shard, ShardResult } from "../types.js";
import { loadCaseFile } from "../case/load.js";
import { corpusFiles } from "../corpus/files.js";
import { InputError } from "../errors.js";
import { writeOutputFile } from "../files/atomic.js";
import { matrixCells, needsVerification, withVerification } from "../matrix/cells.js";
import { MatrixFindings } from "../matrix/findings.js";
import { reportHrefFrom } from "../matrix/links.js";
import { planShards } from "../matrix/plan.js";
import { serveShards } from "../matrix/serve.js";
import { serveMatrixThroughHub, type ServeMatrixOptions } from "../hub/matrix.js";
import { inScope } from "../fuzz/scope.js";
import { serveVerifyJobs, type VerifyJob } from "../matrix/verify-thread.js";
import { matrixHtml } from "../report/html/matrix.js";
import { cellShort, matrixJson, matrixMarkdown, matrixText, type MatrixMeta } from "../report/matrix.js";
import { foldCell } from "../matrix/fold.js";
import { EXIT } from "./exit.js";
import { REFERENCE_STRATEGY, selfCheckLine } from "../oracle/self-check.js";
import { checkOutputDir, checkOutputFile } from "./output-paths.js";
import { forEveryNode, modelArgsOf, modelsFrom, scopeFrom, type ScopeArgs, strategiesFrom, strategyArgsOf } from "./resolve.js";
import { withFile } from "./run.js";

export interface MatrixOptions extends ScopeArgs {
  strategy?: string[];
  model?: string[];
  /** Per cell; undefined: 30 s, or no time limit when --max-execs is given (a deterministic matrix). */
  budget?: number;
  maxExecs: number;
  workers: number;
  seed: number;
  shardsPerCell: number;
  scheduler: "random" | "pct";
  minimize: boolean;
  minimizeTime: number;
  verify: boolean;
  verifyBound: number;
  verifyMaxSchedules: number;
  verifyCorpus: string;
  crashes: string;
  stallTimeout: number;
  md: boolean;
  json: boolean;
  html?: string;
  /** Serve the shards through this hub instead of local threads alone. */
  hub?: string;
}

/**
 * The shards served through a hub, as other nodes load them: plugin and model files by absolute
 * path (forEveryNode). Their results come back labelled with the arguments as given, so the cells
 * read the same as when served here.
 */
async function throughHub(hub: string, shards: readonly Shard[], strategies: readonly string[], models: readonly string[], opts: ServeMatrixOptions): Promise<ShardResult[]> {
  const absS = forEveryNode(strategies), absM = forEveryNode(models);
  /** x's counterpart in `to`, by its place in `from` (unchanged if it has none). */
  const swap = (x: string, from: readonly string[], to: readonly string[]) => to[from.indexOf(x)] ?? x;
  const results = await serveMatrixThroughHub(hub, shards.map((s) => ({ ...s, strategy: swap(s.strategy, strategies, absS), model: swap(s.model, models, absM) })), opts);
  return results.map((r) => ({ ...r, shard: { ...r.shard, strategy: swap(r.shard.strategy, absS, strategies), model: swap(r.shard.model, absM, models) } }));
}

/**
 * `matrix`: fuzz every (strategy, model) cell for a budget on a pool of worker threads, check the
 * cells without a divergence exhaustively on the corpus cases, and print the safety matrix.
 * Findings go to the crashes directory like a campaign's. Exit 0 (findings are the output),
 * 3 when a strategy raised harness errors, 2 when an output path cannot be used (checked before
 * any work; a crashes directory that fails mid-run sends the findings to a temporary directory).
 */
export async function matrixCommand(opts: MatrixOptions): Promise<void> {
  if (opts.md && opts.json) throw new InputError("--md and --json: choose one output format");
  const strategies = strategyArgsOf(opts.strategy), models = modelArgsOf(opts.model);
  // Resolve here first: bad names and files are bad input (exit 2) before any thread starts.
  await strategiesFrom(strategies);
  modelsFrom(models);
  const scope = scopeFrom(opts);
  const cases = opts.verify ? verifyCases(opts.verifyCorpus, scope) : [];
  // Where the results go is checked before any work, not after the whole matrix ran.
  checkOutputDir("--crashes", opts.crashes);
  if (opts.html) checkOutputFile("--html", opts.html);
  const budget = opts.budget ?? (opts.maxExecs < Number.MAX_SAFE_INTEGER ? Number.MAX_SAFE_INTEGER : 30_000);
  const t0 = performance.now();
  const shards = planShards({ strategies, models, seed: opts.seed, maxExecs: opts.maxExecs, maxMs: budget, shardsPerCell: opts.shardsPerCell, scope, scheduler: opts.scheduler });
  const progress = process.stderr.isTTY === true;
  const threads = { stallMs: opts.stallTimeout, scheduler: opts.scheduler, scope, minimize: opts.minimize, minimizeMs: opts.minimizeTime };
  const findings = new MatrixFindings(opts.crashes);
  const onFinding = findings.offer;
  const show = (line: string) => process.stderr.write(progress ? `\r\x1b[2K${line}` : `${line}\n`);
  let shown = -1;
  const results = opts.hub !== undefined
    ? await throughHub(opts.hub, shards, strategies, models, {
      ...threads, localWorkers: opts.workers, onFinding, onHubFinding: findings.offerFile,
      onProgress: (done, total) => {
        if (done !== shown) show(`[${(shown = done)}/${total}] shards done through the hub`);
      },
    })
    : await serveShards(shards, {
      ...threads, workers: opts.workers, onFinding,
      // A live line on a terminal, plain lines otherwise (a long matrix shows where it is).
      onResult: (r, done, total) => show(`[${done}/${total}] ${r.shard.strategy} x ${r.shard.model}: ${cellShort(foldCell(r.shard.strategy, r.shard.model, [r]))} (${r.execs} execs)`),
    });
  if (progress) process.stderr.write("\r\x1b[2K");
  const fuzzed = matrixCells(strategies, models, results);
  const cells = cases.length > 0 ? await verifiedCells(fuzzed, { cases, bound: opts.verifyBound, maxSchedules: opts.verifyMaxSchedules }, opts) : fuzzed;
  const meta: MatrixMeta = {
    strategies, models, budgetMs: budget, maxExecs: opts.maxExecs, seed: opts.seed, workers: opts.workers,
    shardsPerCell: opts.shardsPerCell, verifyBound: opts.verify ? opts.verifyBound : -1, verifyMaxSchedules: opts.verifyMaxSchedules,
    corpusCases: cases.length, elapsedMs: Math.round(performance.now() - t0), scope,
  };
  // The result first: a --html path that cannot be written must not lose a long matrix.
  if (opts.json) process.stdout.write(JSON.stringify(matrixJson(cells, meta), null, 2) + "\n");
  else if (opts.md) process.stdout.write(matrixMarkdown(cells, meta));
  else process.stdout.write(matrixText(cells, meta));
  if (opts.html) writeOutputFile(opts.html, matrixHtml(cells.map(pageCell), { reportHref: reportHrefFrom(opts.crashes, opts.html) }));
  if (cells.some((c) => c.harnessErrors > 0)) process.exitCode = EXIT.harnessError;
  for (const c of cells) {
    const breaches = selfCheckBreaches(c);
    if (breaches.length === 0) continue;
    const shown = breaches.slice(0, 3).join("; ") + (breaches.length > 3 ? `; ${breaches.length - 3} more` : "");
    process.stderr.write(`xmcfuzz: ${selfCheckLine(c.model, `found ${shown}`)}\n`);
    process.exitCode = EXIT.harnessError;
  }
  const problem = findings.problem();
  if (problem) throw new InputError(problem);
}

/**
 * The cells fuzzing found clean, checked exhaustively on the corpus cases. A check a strategy's
 * harness error stopped (it threw, or its thread failed) is a harness error of that cell, named on
 * stderr, never a clean bill nor a divergence.
 */
async function verifiedCells(cells: MatrixCell[], check: Omit<VerifyJob, "strategy" | "model">, opts: MatrixOptions): Promise<MatrixCell[]> {
  const toVerify = cells.filter(needsVerification);
  if (toVerify.length === 0) return cells;
  const outcomes = await serveVerifyJobs(toVerify.map((c) => ({ ...check, strategy: c.strategy, model: c.model })), opts.workers, opts.stallTimeout);
  return cells.map((c) => {
    const i = toVerify.indexOf(c);
    if (i < 0) return c;
    const o = outcomes[i]!;
    if ("verified" in o) return withVerification(c, o.verified);
    process.stderr.write(`harness error: ${c.strategy} under ${c.model}: ${o.harnessError}\n`);
    return { ...c, harnessErrors: c.harnessErrors + 1 };
  });
}

/**
 * The corpus cases the exhaustive check runs on: each must load (bad input otherwise), and only
 * those within the scope the cells were fuzzed in count (a cell is not judged on patches it was
 * not asked about).
 */
function verifyCases(dir: string, scope: CaseScope): string[] {
  return corpusFiles(dir).filter((f) => inScope(withFile(f, () => loadCaseFile(f)).kase, scope));
}

/**
 * The page colours cells by their signatures; a cell where only the exhaustive check diverged shows
 * that signature (unlinked: the check saves no reproducer), never "no divergence found".
 */
function pageCell(c: MatrixCell): MatrixCell {
  const d = c.verified?.divergent;
  if (!d || c.signatures.length > 0) return c;
  const [, , cause, effect] = d.signature.split(" ");
  return { ...c, signatures: [d.signature], causes: cause ? [cause as Cause] : [], effects: effect ? [effect as Effect] : [] };
}

/** What a stop_machine cell found, fuzzed or verified: each a breach of the self-check (SPEC 6.6). */
function selfCheckBreaches(c: MatrixCell): string[] {
  if (c.strategy !== REFERENCE_STRATEGY) return [];
  const divergent = c.verified?.divergent?.signature;
  return [...c.signatures, ...(divergent ? [divergent] : []), ...new Set([...c.rules, ...(c.verified?.rules ?? [])])];
}
