import type { MatrixCell } from "../../types.js";
import { esc, htmlPage } from "./page.js";

// The safety matrix as a self-contained HTML page: a coloured grid, one row per strategy and one
// column per model, each cell linking its signatures to their minimized reproducers' reports.

export interface MatrixPageOptions {
  readonly title?: string;
  /** Where a signature's minimized reproducer report lives, relative to the page (if saved). */
  readonly reportHref?: (signature: string) => string | undefined;
}

export type CellState = "diverges" | "rules-only" | "no-divergence" | "harness-error" | "missing";

export interface CellView {
  readonly strategy: string;
  readonly model: string;
  readonly state: CellState;
  readonly headline: string;
  /** One line each: causes, effects, first divergence, execs, rules, verify bound, harness errors. */
  readonly facts: readonly { readonly label: string; readonly text: string }[];
  readonly signatures: readonly { readonly signature: string; readonly short: string; readonly href?: string }[];
}

export interface MatrixView {
  readonly strategies: readonly string[];
  readonly models: readonly string[];
  /** rows[i][j]: strategy i under model j. */
  readonly rows: readonly (readonly CellView[])[];
}

const seconds = (ms: number) => (ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`);

/** A signature without its strategy and model (the cell already says them). */
const shortSignature = (s: string) => s.split(" ").slice(2).join(" ");

/** Rule signatures read "rule strategy model rule slot-kind phase" (fuzz/engine.ts): count by rule. */
function ruleSummary(rules: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const r of rules) {
    const w = r.split(" ");
    const name = w[0] === "rule" && w[3] ? w[3] : r;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return [...counts].map(([name, n]) => `${name} (${n} signature${n === 1 ? "" : "s"})`).join(", ");
}

function stateOf(c: MatrixCell): CellState {
  if (c.signatures.length > 0) return "diverges";
  if (c.harnessErrors > 0) return "harness-error";
  return c.rules.length > 0 || c.verified?.rules?.length ? "rules-only" : "no-divergence";
}

const HEADLINE: Record<CellState, string> = {
  diverges: "diverges", "rules-only": "no divergence found (rule findings)", "no-divergence": "no divergence found",
  "harness-error": "harness error", missing: "not run",
};

/** What one cell says, in words; formatting-free so tests can read it. */
export function cellView(strategy: string, model: string, c: MatrixCell | undefined, reportHref?: MatrixPageOptions["reportHref"]): CellView {
  if (!c) return { strategy, model, state: "missing", headline: HEADLINE.missing, facts: [], signatures: [] };
  const state = stateOf(c);
  const facts: { label: string; text: string }[] = [];
  if (c.causes.length > 0) facts.push({ label: "causes", text: c.causes.join(", ") });
  if (c.effects.length > 0) facts.push({ label: "effects", text: c.effects.join(", ") });
  if (c.firstDivergence) facts.push({ label: "first", text: `after ${c.firstDivergence.execs.toLocaleString("en-US")} exec${c.firstDivergence.execs === 1 ? "" : "s"}, ${seconds(c.firstDivergence.ms)}` });
  facts.push({ label: "execs", text: `${c.execs.toLocaleString("en-US")} in ${seconds(c.ms)} (${c.shards} shard${c.shards === 1 ? "" : "s"})` });
  if (c.rules.length > 0) facts.push({ label: "rules", text: ruleSummary(c.rules) });
  if (c.verified) {
    const v = c.verified;
    const rules = v.rules?.length ? `; rules broken: ${v.rules.join(", ")}` : "";
    facts.push({ label: "verified", text: `bound ${v.bound} on ${v.cases} corpus case${v.cases === 1 ? "" : "s"}, ${v.schedules.toLocaleString("en-US")} schedules${v.complete ? "" : " (incomplete)"}${rules}` });
  }
  if (c.harnessErrors > 0) facts.push({ label: "harness errors", text: String(c.harnessErrors) });
  return {
    strategy, model, state, headline: HEADLINE[state], facts,
    signatures: c.signatures.map((signature) => {
      const href = reportHref?.(signature);
      return { signature, short: shortSignature(signature), ...(href !== undefined ? { href } : {}) };
    }),
  };
}

export function matrixView(cells: readonly MatrixCell[], reportHref?: MatrixPageOptions["reportHref"]): MatrixView {
  const strategies = [...new Set(cells.map((c) => c.strategy))];
  const models = [...new Set(cells.map((c) => c.model))];
  const byKey = new Map(cells.map((c) => [`${c.strategy}\u0000${c.model}`, c]));
  return {
    strategies, models,
    rows: strategies.map((s) => models.map((m) => cellView(s, m, byKey.get(`${s}\u0000${m}`), reportHref))),
  };
}

const CSS = `
table.matrix { border-collapse: separate; border-spacing: 4px; }
table.matrix th { font-size: 13px; text-align: center; padding: 4px; }
table.matrix th.strategy { text-align: right; white-space: nowrap; }
td.cell { border-radius: 6px; padding: 6px 8px; min-width: 13em; max-width: 22em; font-size: 12px; border: 1px solid #0001; }
td.cell .headline { font-weight: 700; font-size: 13px; margin-bottom: 3px; }
td.cell dl { margin: 0; display: grid; grid-template-columns: auto 1fr; gap: 0 6px; }
td.cell dt { color: #57606a; } td.cell dd { margin: 0; }
td.cell ul { margin: 4px 0 0; padding-left: 1.1em; } td.cell li { font-family: ui-monospace, monospace; font-size: 11px; }
.s-diverges { background: #ffcecb; } .s-rules-only { background: #fff8c5; } .s-no-divergence { background: #aceebb; }
.s-harness-error { background: #ffd8b5; } .s-missing { background: #eaeef2; color: #57606a; }
.legend span { display: inline-block; padding: 2px 8px; margin-right: 6px; border-radius: 4px; font-size: 12px; }
`;

function cellHtml(v: CellView): string {
  const facts = v.facts.map((f) => `<dt>${esc(f.label)}</dt><dd>${esc(f.text)}</dd>`).join("");
  const sigs = v.signatures.map((s) => `<li title="${esc(s.signature)}">${s.href !== undefined ? `<a href="${esc(s.href)}">${esc(s.short)}</a>` : esc(s.short)}</li>`).join("");
  return `<td class="cell s-${v.state}" data-strategy="${esc(v.strategy)}" data-model="${esc(v.model)}" data-state="${v.state}">
<div class="headline">${esc(v.headline)}</div>${facts ? `<dl>${facts}</dl>` : ""}${sigs ? `<ul class="signatures">${sigs}</ul>` : ""}</td>`;
}

export function matrixHtml(cells: readonly MatrixCell[], opts: MatrixPageOptions = {}): string {
  const title = opts.title ?? "xmcfuzz safety matrix";
  const view = matrixView(cells, opts.reportHref);
  const head = `<tr><th></th>${view.models.map((m) => `<th class="model">${esc(m)}</th>`).join("")}</tr>`;
  const rows = view.rows.map((row, i) => `<tr><th class="strategy">${esc(view.strategies[i]!)}</th>${row.map(cellHtml).join("")}</tr>`);
  const legend = (["diverges", "rules-only", "no-divergence", "harness-error", "missing"] as const)
    .map((s) => `<span class="s-${s}">${esc(HEADLINE[s])}</span>`).join("");
  return htmlPage(title, CSS, `<h1>${esc(title)}</h1>
<p class="muted">Rows: patching strategies; columns: hardware models of instruction fetch. A cell diverges when some run's observation is one no stop_machine patch could produce; "no divergence found" is bounded by the budget (and, where shown, by the exhaustive-verify bound on the corpus cases). Rule findings are breaches of the manuals' written cross-modifying-code rules, not divergences. Each signature links to its minimized reproducer's report.</p>
<p class="legend">${legend}</p>
<table class="matrix">${head}${rows.join("\n")}</table>`);
}
