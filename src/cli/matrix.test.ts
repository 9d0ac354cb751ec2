import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadCaseFile } from "../case/load.js";
import { corpusFiles } from "../corpus/files.js";
import { reportHrefFrom } from "../matrix/links.js";
import { BUILTIN_STRATEGIES } from "../strategies/registry.js";
import { NAMED_MODELS } from "../models/named.js";
import { CLI as cli, ROOT as root, runCli } from "../testing/cli.js";

// `matrix` as users run it: the built CLI on a tiny exec budget (deterministic), every format.

const fresh = () => mkdtempSync(join(tmpdir(), "xmcfuzz-matrix-"));

const xmcfuzz = (...args: string[]) => runCli(args, 240_000);

interface JsonCell { strategy: string; model: string; execs: number; status: string; signatures: string[]; firstDivergence?: { execs: number }; verified?: { bound: number; cases: number } }
const tiny = ["--max-execs", "12", "--workers", "2", "--no-minimize", "--verify-bound", "0"];

beforeAll(() => {
  if (!existsSync(cli)) throw new Error("dist/ is missing: run `npm run build` before the tests");
});

describe("matrix on a tiny budget", () => {
  it("runs every cell of all nine built-ins x all named models, in all four formats", () => {
    const dir = fresh();
    const html = join(dir, "page", "matrix.html");
    const crashes = join(dir, "crashes");
    const j = xmcfuzz("matrix", ...tiny, "--json", "--html", html, "--crashes", crashes);
    expect(j.stderr).not.toMatch(/error/i);
    expect(j.stderr.trim().split("\n")).toHaveLength(45); // one progress line per shard
    expect(j.status).toBe(0);
    const { meta, cells } = JSON.parse(j.stdout) as { meta: { maxExecs: number; corpusCases: number }; cells: JsonCell[] };
    expect(meta.maxExecs).toBe(12);
    expect(cells).toHaveLength(BUILTIN_STRATEGIES.length * NAMED_MODELS.length);
    expect(cells.length).toBe(45);
    for (const s of BUILTIN_STRATEGIES) for (const m of NAMED_MODELS) {
      const c = cells.find((x) => x.strategy === s.name && x.model === m.name);
      expect(c, `${s.name} x ${m.name}`).toBeDefined();
      expect(c!.execs).toBe(12);
      expect(["diverges", "diverges-exhaustive", "no-divergence"]).toContain(c!.status);
      if (c!.status === "diverges") expect(c!.firstDivergence!.execs).toBeLessThanOrEqual(12);
      // Cells without a divergence carry the exhaustive check on the corpus cases.
      if (c!.status === "no-divergence") expect(c!.verified).toMatchObject({ bound: 0, cases: meta.corpusCases });
    }
    expect(cells.filter((c) => c.strategy === "stop_machine").map((c) => c.status)).toEqual(Array(5).fill("no-divergence"));
    expect(cells.some((c) => c.status === "diverges")).toBe(true);

    // HTML: a page with every cell; signatures resolve to the reproducer reports saved under --crashes.
    const page = readFileSync(html, "utf8");
    expect(page.match(/<td[^>]* data-strategy=/g)).toHaveLength(45);
    // A cell where only the exhaustive check diverged is not shown as clean.
    for (const c of cells.filter((x) => x.status === "diverges-exhaustive")) {
      expect(page).toMatch(new RegExp(`data-strategy="${c.strategy}" data-model="${c.model}" data-state="diverges"`));
    }
    // The page links signatures to their saved reports, and every link resolves.
    const links = [...page.matchAll(/href="([^"#][^"]*)"/g)].map((m) => m[1]!.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n))));
    expect(links.length).toBeGreaterThan(0);
    for (const l of links) expect(existsSync(join(dirname(html), decodeURIComponent(l))), l).toBe(true);
    const href = reportHrefFrom(crashes, html);
    for (const c of cells.filter((x) => x.status === "diverges")) {
      for (const sig of c.signatures) {
        const h = href(sig);
        expect(h, sig).toBeDefined();
        expect(existsSync(join(dirname(html), decodeURIComponent(h!)))).toBe(true);
      }
    }

    const md = xmcfuzz("matrix", ...tiny, "--md", "--crashes", crashes);
    expect(md.status).toBe(0);
    const mdLines = md.stdout.split("\n");
    for (const s of BUILTIN_STRATEGIES) expect(mdLines.filter((l) => l.startsWith(`| \`${s.name}\` |`))).toHaveLength(1);
    expect(mdLines.filter((l) => /^\| [a-z0-9_]+ \| [a-z0-9-]+ \| /.test(l) && !l.startsWith("| strategy |"))).toHaveLength(45);

    const text = xmcfuzz("matrix", ...tiny, "--crashes", crashes);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/^safety matrix: 9 strategies x 5 models, 12 execs per cell/);
    for (const s of BUILTIN_STRATEGIES) for (const m of NAMED_MODELS) expect(text.stdout).toContain(`\n${s.name} x ${m.name}: `);
    // Bounded by execs alone, the text matrix is the JSON one's cells.
    for (const c of cells) expect(text.stdout).toMatch(new RegExp(`\\n${c.strategy} x ${c.model}: ${c.status === "diverges" ? "DIVERGES" : "no divergence found"}`));
  }, 240_000);

  it("bounded by execs, the cells do not depend on the worker count or on who serves the shards", () => {
    const args = ["matrix", "-s", "direct_write", "-s", "text_poke_bp", "-m", "x86-realistic", "-m", "noncoherent-icache", "--max-execs", "40", "--no-minimize", "--no-verify", "--shards-per-cell", "2", "--json", "--crashes", join(fresh(), "c")];
    const strip = (out: string) => (JSON.parse(out) as { cells: (JsonCell & { ms: number; firstDivergence?: { ms: number } })[] }).cells
      .map((c) => ({ ...c, ms: 0, firstDivergence: c.firstDivergence && { ...c.firstDivergence, ms: 0 } }));
    const one = xmcfuzz(...args, "--workers", "1"), two = xmcfuzz(...args, "--workers", "2");
    expect(one.status).toBe(0);
    expect(strip(two.stdout)).toEqual(strip(one.stdout));
    // Served through a hub (here the directory hub, no server), the same shards fold to the same cells.
    const viaHub = xmcfuzz(...args, "--workers", "2", "--hub", join(fresh(), "hub"));
    expect(viaHub.status, viaHub.stderr).toBe(0);
    expect(viaHub.stderr).toMatch(/\[8\/8\] shards done through the hub/);
    expect(strip(viaHub.stdout)).toEqual(strip(one.stdout));
    expect(strip(one.stdout).map((c) => c.execs)).toEqual([40, 40, 40, 40]);
  }, 120_000);

  it("within a scope: the header says so, and only the corpus cases within it are checked exhaustively", () => {
    const kinds = ["nop5->jmp32", "nop2->jmp8"];
    const r = xmcfuzz("matrix", "-s", "stop_machine", "-s", "direct_write", "-m", "x86-realistic", "--slot-kind", kinds[0]!, "--slot-kind", kinds[1]!,
      "--no-atomic-batches", "--max-execs", "30", "--no-minimize", "--verify-bound", "0", "--json", "--crashes", join(fresh(), "c"));
    expect(r.status, r.stderr).toBe(0);
    const { meta, cells } = JSON.parse(r.stdout) as { meta: { corpusCases: number; scope: object }; cells: JsonCell[] };
    expect(meta.scope).toEqual({ maxCores: 5, slotKinds: kinds, atomicBatches: false });
    // Jump labels alone, no atomic batch: counted here from the corpus files themselves.
    const within = corpusFiles(join(root, "corpus")).filter((f) => {
      const k = loadCaseFile(f).kase;
      return k.program.slots.every((s) => kinds.includes(s.kind)) && k.ops.every((o) => o.batch === "per-site");
    });
    expect(within.length).toBeGreaterThanOrEqual(3);
    expect(meta.corpusCases).toBe(within.length);
    const clean = cells.find((c) => c.strategy === "stop_machine")!;
    expect(clean.status).toBe("no-divergence");
    expect(clean.verified).toMatchObject({ bound: 0, cases: within.length });
    // Multi-byte jump-label patches tear under a plain write.
    expect(cells.find((c) => c.strategy === "direct_write")!.status).toBe("diverges");
    const text = xmcfuzz("matrix", "-s", "stop_machine", "-m", "x86-realistic", "--slot-kind", kinds[0]!, "--no-atomic-batches", "--max-execs", "5", "--no-verify", "--crashes", join(fresh(), "c"));
    expect(text.stdout.split("\n")[0]).toMatch(/; generated cases: slot kinds nop5->jmp32; per-site ops only; /);
  }, 120_000);

  it("through a hub, a node started without the scope still fuzzes the shards within the matrix's", () => {
    const hub = join(fresh(), "hub"), scratch = fresh();
    const cells = ["-s", "direct_write", "-s", "int3_flush", "-m", "sdm-strict"];
    const scope = ["--slot-kind", "nop5->jmp32", "--slot-kind", "call->call", "--no-atomic-batches", "--max-cores", "3"];
    const enqueued = xmcfuzz("hub", "enqueue", hub, "--matrix", ...cells, ...scope, "--seed", "1", "--max-execs", "60");
    expect(enqueued.status, enqueued.stderr).toBe(0);
    expect(enqueued.stdout).toMatch(/^2 shards added/);
    const node = xmcfuzz("fuzz", "--hub", hub, "--shards-only", "--until-idle", "--shard-workers", "1", "--max-cores", "8", "--no-minimize",
      "--out", join(scratch, "node"), "--crashes", join(scratch, "node-crashes"));
    expect(node.status, node.stderr).toBe(0);
    for (const f of readdirSync(join(scratch, "node-crashes"), { recursive: true, encoding: "utf8" }).filter((x) => x.endsWith(".json"))) {
      const k = loadCaseFile(join(scratch, "node-crashes", f)).kase;
      expect(k.cores, f).toBeLessThanOrEqual(3);
      expect(k.program.slots.every((sl) => sl.kind === "nop5->jmp32" || sl.kind === "call->call"), f).toBe(true);
    }
    const matrix = (...more: string[]) => xmcfuzz("matrix", ...cells, ...scope, "--max-execs", "60", "--no-minimize", "--no-verify", "--json", ...more);
    const strip = (out: string) => (JSON.parse(out) as { cells: (JsonCell & { ms: number; firstDivergence?: { ms: number } })[] }).cells
      .map((c) => ({ ...c, ms: 0, firstDivergence: c.firstDivergence && { ...c.firstDivergence, ms: 0 } }));
    const viaHub = matrix("--hub", hub, "--crashes", join(scratch, "c1"));
    expect(viaHub.status, viaHub.stderr).toBe(0);
    // The node served every shard: the matrix's reproducers come from the hub, one per signature.
    const viaHubCells = JSON.parse(viaHub.stdout) as { cells: { signatures: string[]; rules: string[] }[] };
    const found = viaHubCells.cells.reduce((n, c) => n + c.signatures.length + c.rules.length, 0);
    expect(found).toBeGreaterThan(0);
    expect(readdirSync(join(scratch, "c1")).length).toBe(found);
    // Enqueued and planned by the matrix, they are the same shards: the node's results were folded, none added.
    const status = JSON.parse(xmcfuzz("hub", "status", hub, "--json").stdout) as { shards: { pending: number; done: number } };
    expect(status.shards).toMatchObject({ pending: 0, done: 2 });
    const local = matrix("--crashes", join(scratch, "c2"));
    expect(strip(viaHub.stdout)).toEqual(strip(local.stdout));
    expect(strip(local.stdout).find((c) => c.strategy === "direct_write")!.status).toBe("diverges");
    // The same cells unscoped are other shards: the hub's scoped results are not folded into them.
    const unscoped = xmcfuzz("matrix", ...cells, "--max-execs", "60", "--no-minimize", "--no-verify", "--json", "--hub", hub, "--crashes", join(scratch, "c3"));
    expect(unscoped.status, unscoped.stderr).toBe(0);
    expect(unscoped.stderr).toMatch(/\[2\/2\] shards done through the hub/);
    expect(strip(unscoped.stdout)).toEqual(strip(xmcfuzz("matrix", ...cells, "--max-execs", "60", "--no-minimize", "--no-verify", "--json", "--crashes", join(scratch, "c4")).stdout));
    expect((JSON.parse(xmcfuzz("hub", "status", hub, "--json").stdout) as { shards: { done: number } }).shards.done).toBe(4);
  }, 180_000);

  it("bad input: one line, exit 2", () => {
    for (const [args, message] of [
      [["--md", "--json"], /--md and --json: choose one/],
      [["-s", "nope"], /unknown strategy "nope"/],
      [["--budget", "soon"], /--budget: expected a duration/],
      // No time at all would say "none found" of cells it never ran.
      [["--budget", "0"], /^xmcfuzz: --budget: expected a duration above 0, got "0"$/m],
      [["--slot-kind", "rewrite3"], /--slot-kind: unknown patch kind "rewrite3"; the generator makes nop5->jmp32, /],
      [["--verify-corpus", join(fresh(), "absent")], /no such file or directory/],
      // Output paths are checked before any work (Node's recursive mkdir spins forever under /proc).
      [["--crashes", "/dev/null/x"], /^xmcfuzz: \/dev\/null\/x: cannot use this path for --crashes \(ENOTDIR\)$/m],
      [["--crashes", "/proc/xmcfuzz/c"], /^xmcfuzz: \/proc\/xmcfuzz\/c: cannot use this path for --crashes \(ENOENT\)$/m],
      [["--html", "/proc/xmcfuzz/m.html"], /^xmcfuzz: \/proc\/xmcfuzz\/m.html: cannot use this path for --html \(ENOENT\)$/m],
      [["--html", tmpdir()], /cannot use this path for --html \(EISDIR\)$/m],
    ] as [string[], RegExp][]) {
      const r = xmcfuzz("matrix", "--max-execs", "1", ...args);
      expect(r.status, `${args.join(" ")}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
  });

  it("an --html that cannot be written when the matrix is done (a full disk): the result is printed first, then one line, exit 2", () => {
    const r = xmcfuzz("matrix", "-s", "direct_write", "-m", "sdm-strict", "--max-execs", "100", "--no-verify", "--json", "--html", "/dev/full");
    expect(r.status, r.stderr).toBe(2);
    expect((JSON.parse(r.stdout) as { cells: unknown[] }).cells).toHaveLength(1);
    expect(r.stderr.trim().split("\n").at(-1)).toBe("xmcfuzz: /dev/full: cannot use this path (ENOSPC)");
  });

  it("a strategy that throws on a corpus case in the exhaustive check: a harness error of its cell (exit 3), never a divergence", () => {
    const dir = fresh(), corpus = join(dir, "corpus");
    mkdirSync(corpus);
    copyFileSync(join(root, "corpus", "jump-label-nop5-jmp32.json"), join(corpus, "jump-label-nop5-jmp32.json"));
    // stop_machine, except on the corpus case's exact jump label, which generated cases do not hit.
    writeFileSync(join(dir, "picky.mjs"), [
      "function* body(ctx, slots) { for (const s of slots) yield* ctx.write(s.start, s.to); }",
      "const refused = (s) => s.start === 0x1005 && s.len === 5 && s.from[0] === 0x0f && s.to[0] === 0xe9 && s.from[3] === 0 && s.from[4] === 0;",
      "export const strategy = { name: \"picky\", description: \"throws on one jump label\",",
      "  *patch(ctx, slots) { if (slots.some(refused)) throw new Error(\"picky: I refuse this patch\"); yield* ctx.stopMachine((c) => body(c, slots)); } };",
    ].join("\n"));
    const r = xmcfuzz("matrix", "-s", join(dir, "picky.mjs"), "-m", "x86-realistic", "--max-execs", "300", "--verify-corpus", corpus,
      "--verify-bound", "0", "--json", "--crashes", join(dir, "c"));
    expect(r.status, r.stderr).toBe(3);
    const [cell] = (JSON.parse(r.stdout) as { cells: (JsonCell & { harnessErrors: number })[] }).cells;
    expect(cell).toMatchObject({ status: "harness-error", harnessErrors: 1, signatures: [] });
    expect(cell!.verified).toBeUndefined();
    expect(r.stderr).toMatch(/^harness error: \S+picky.mjs under x86-realistic: exhaustive verify, corpus case jump-label-nop5-jmp32, bound 0: .*picky: I refuse this patch$/m);
  });
});
