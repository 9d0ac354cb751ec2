import type { MatrixCell } from "../../types.js";

// The safety matrix as a self-contained HTML page: one row per strategy, one column per model.
// (First cut: a plain table; the coloured grid with links to reproducers is owned by report/html.)

export interface MatrixPageOptions {
  readonly title?: string;
  /** Where a signature's minimized reproducer report lives, relative to the page (if saved). */
  readonly reportHref?: (signature: string) => string | undefined;
}

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function matrixHtml(cells: readonly MatrixCell[], opts: MatrixPageOptions = {}): string {
  const strategies = [...new Set(cells.map((c) => c.strategy))];
  const models = [...new Set(cells.map((c) => c.model))];
  const cell = (s: string, m: string) => cells.find((c) => c.strategy === s && c.model === m);
  const rows = strategies.map((s) => `<tr><th>${escape(s)}</th>${models.map((m) => {
    const c = cell(s, m);
    if (!c) return "<td></td>";
    return `<td data-strategy="${escape(s)}" data-model="${escape(m)}">${c.signatures.length > 0 ? "diverges" : "no divergence found"}</td>`;
  }).join("")}</tr>`);
  return `<!doctype html><meta charset="utf-8"><title>${escape(opts.title ?? "xmcfuzz safety matrix")}</title>
<table><tr><th></th>${models.map((m) => `<th>${escape(m)}</th>`).join("")}</tr>${rows.join("")}</table>`;
}
