import type { PlotModel, Series, SeriesKey } from "./plot-model.js";
import { esc, htmlPage } from "./page.js";

// Renders a PlotModel as one SVG of stacked charts (one per series, shared time axis), standalone
// or inside a self-contained HTML page.

const W = 820, CHART_H = 150, GAP = 46, LEFT = 74, RIGHT = 20, TOP = 62;
const COLOUR: Record<SeriesKey, string> = { execsPerSec: "#0969da", coverageBits: "#1a7f37", corpus: "#8250df", signatures: "#cf222e" };

function niceCeil(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/** "45s", "12m", "1h30m": afl-plot labels its time axis the same way. */
export function formatElapsed(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s}s`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m}m`;
  return `${Math.floor(m / 60)}h${m % 60 ? `${m % 60}m` : ""}`;
}

const num = (v: number) => (Number.isInteger(v) ? String(v) : v >= 100 ? v.toFixed(0) : v.toFixed(1));

function chart(s: Series, index: number, spanMs: number): string {
  const top = TOP + index * (CHART_H + GAP);
  const plotW = W - LEFT - RIGHT;
  const yMax = niceCeil(s.max);
  const x = (t: number) => LEFT + (spanMs > 0 ? (t / spanMs) * plotW : plotW / 2);
  const y = (v: number) => top + CHART_H - (v / yMax) * CHART_H;
  const out: string[] = [`<g class="chart" data-series="${s.key}">`];
  out.push(`<text class="chart-title" x="${LEFT}" y="${top - 8}">${esc(s.label)} <tspan class="muted">(last ${num(s.last)}, max ${num(s.max)})</tspan></text>`);
  out.push(`<rect x="${LEFT}" y="${top}" width="${plotW}" height="${CHART_H}" fill="#fff" stroke="#d0d7de"/>`);
  for (let i = 0; i <= 4; i++) {
    const v = (yMax * i) / 4;
    out.push(`<line x1="${LEFT}" x2="${LEFT + plotW}" y1="${y(v)}" y2="${y(v)}" stroke="#eaeef2"/><text x="${LEFT - 6}" y="${y(v) + 4}" text-anchor="end">${num(v)}</text>`);
  }
  for (let i = 0; i <= 6; i++) {
    const t = (spanMs * i) / 6;
    out.push(`<text x="${x(t)}" y="${top + CHART_H + 15}" text-anchor="middle">${formatElapsed(t)}</text>`);
  }
  // Samples joined by straight lines (the counters grew somewhere between two samples).
  const d = s.points.map(([t, v], i) => `${i === 0 ? "M" : "L"}${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
  out.push(`<path class="series" data-series="${s.key}" data-points="${s.points.length}" d="${d}" fill="none" stroke="${COLOUR[s.key]}" stroke-width="2"/>`);
  if (s.points.length <= 60) {
    for (const [t, v] of s.points) out.push(`<circle cx="${x(t).toFixed(1)}" cy="${y(v).toFixed(1)}" r="2.5" fill="${COLOUR[s.key]}"><title>${formatElapsed(t)}: ${num(v)}</title></circle>`);
  }
  out.push("</g>");
  return out.join("");
}

export function plotSvg(m: PlotModel): string {
  const height = TOP + m.series.length * (CHART_H + GAP);
  const head = `${m.title}${m.node ? ` (node ${m.node})` : ""}: ${m.execs} execs in ${formatElapsed(m.spanMs)}`;
  return `<svg class="plot" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="sans-serif" font-size="11">
<style>.chart-title { font-size: 13px; font-weight: 600; } .muted { fill: #57606a; font-weight: 400; }</style>
<rect width="${W}" height="${height}" fill="#f6f8fa"/>
<text x="${LEFT}" y="22" font-size="15" font-weight="600">${esc(head)}</text>
${m.series.map((s, i) => chart(s, i, m.spanMs)).join("\n")}
</svg>
`;
}

export function plotHtml(m: PlotModel): string {
  return htmlPage(`${m.title}: campaign plot`, "", `<h1>${esc(m.title)}</h1>
<p class="muted">execs/s, coverage bits, corpus size and unique signatures over the campaign's elapsed time, from its stats.json history.</p>
${plotSvg(m)}`);
}
