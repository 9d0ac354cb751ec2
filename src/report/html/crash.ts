import type { ByteOrigin } from "../../types.js";
import type { CrashReportModel, FetchedByte, Lane, LaneMark, LaneMarkKind, PassageBar } from "./crash-model.js";
import { esc, htmlPage } from "./page.js";

// Renders a CrashReportModel as one self-contained HTML page: an SVG timeline (one lane per core on
// a shared time axis), the slot's bytes by provenance, and observed vs expected side by side.

const LABEL_W = 170;
const AXIS_H = 26;
const PHASE_H = 24;
const LANE_H = 40;

const MARK_COLOUR: Record<LaneMarkKind, string> = {
  exec: "#8c959f", store: "#cf222e", step: "#6639ba", ipi: "#bc4c00", ack: "#d4a72c", trap: "#a40e26",
  resolve: "#0969da", refill: "#54aeff", snoop: "#8250df", inval: "#1a7f37", clean: "#953800", end: "#1b1f24", other: "#afb8c1",
};

const MARK_NAME: Record<LaneMarkKind, string> = {
  exec: "instruction executed", store: "code store", step: "patcher step (sync, data, maintenance)", ipi: "IPI delivered",
  ack: "IPI acked", trap: "int3 trap", resolve: "handler resolution", refill: "fetch refill", snoop: "snoop delivered",
  inval: "I-cache invalidation delivered", clean: "write-back (clean) completed", end: "core ended", other: "other (handler step, park)",
};

const PHASE_COLOUR: Record<string, string> = {
  before: "#f6f8fa", write: "#ffebe9", sync: "#fff8c5", maintenance: "#dafbe1", data: "#ddf4ff", after: "#eaeef2",
};

const ORIGIN_NAME: Record<ByteOrigin, string> = {
  invariant: "invariant (old and new agree)", old: "old", new: "new", int3: "int3 (strategy-written CC)", intermediate: "intermediate (other patcher write)",
};

const CSS = `
.summary { padding: .6em .9em; border-radius: 6px; margin: .6em 0; }
.summary.diverges { background: #ffebe9; border: 1px solid #ff8182; }
.summary.clean { background: #dafbe1; border: 1px solid #4ac26b; }
.summary.harness-error { background: #fff8c5; border: 1px solid #d4a72c; }
.timeline-wrap { overflow-x: auto; border: 1px solid #d0d7de; border-radius: 6px; }
svg text { font: 11px ui-monospace, monospace; fill: #1b1f24; }
svg .lane-label { font: 12px system-ui, sans-serif; font-weight: 600; }
.passage { stroke: #57606a; stroke-width: .5; }
.passage.v-old { fill: #ddf4ff; } .passage.v-new { fill: #dafbe1; } .passage.v-mixed { fill: #ffd8b5; } .passage.v-none { fill: #eaeef2; }
.passage.divergent { stroke: #cf222e; stroke-width: 3; fill: #ffcecb; }
.divergence-point { stroke: #cf222e; stroke-width: 1.5; stroke-dasharray: 4 3; }
.legend { display: flex; flex-wrap: wrap; gap: .3em 1.2em; margin: .5em 0; font-size: 12px; }
.legend i { display: inline-block; width: 12px; height: 12px; margin-right: 4px; vertical-align: -2px; border: 1px solid #0002; }
.byte { display: inline-block; padding: 1px 4px; margin: 0 1px; border-radius: 3px; font-family: ui-monospace, monospace; }
.o-invariant { background: #eaeef2; } .o-old { background: #b6e3ff; } .o-new { background: #aceebb; }
.o-int3 { background: #ffd33d; } .o-intermediate { background: #ff8182; }
table.grid td, table.grid th { border: 1px solid #d0d7de; }
tr.divergent-row td { background: #ffebe9; font-weight: 600; }
.cmp { display: flex; gap: 2em; flex-wrap: wrap; }
`;

function niceStep(span: number, target: number): number {
  const raw = span / target;
  const p = 10 ** Math.floor(Math.log10(Math.max(raw, 1)));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

function markSvg(m: LaneMark, x: number, y: number, w: number): string {
  const tall = m.kind === "exec" || m.kind === "other" ? 10 : 22;
  const width = Math.max(2, Math.min(w * 0.7, 8));
  return `<rect class="mark k-${m.kind}" data-kind="${m.kind}" x="${(x + (w - width) / 2).toFixed(1)}" y="${(y + (LANE_H - tall) / 2).toFixed(1)}" width="${width.toFixed(1)}" height="${tall}" fill="${MARK_COLOUR[m.kind]}"><title>t=${m.t} ${esc(m.text)}</title></rect>`;
}

function passageSvg(p: PassageBar, x0: number, x1: number, y: number): string {
  return `<rect class="passage v-${p.version}${p.divergent ? " divergent" : ""}" data-divergent="${p.divergent}" x="${x0.toFixed(1)}" y="${y + 4}" width="${Math.max(2, x1 - x0).toFixed(1)}" height="${LANE_H - 8}" rx="3"><title>passage of core ${p.core} through ${esc(p.slot)}: t=${p.begin}..${p.end}, ${p.version}${p.widened ? ", widened" : ""}${p.divergent ? " (explains the first divergence)" : ""}</title></rect>`;
}

function timelineSvg(m: CrashReportModel): string {
  // At least 3 px per event, but never wider than 40,000 px (long unminimized runs).
  const pxPerT = Math.min(30, Math.max(3, 1100 / m.tEnd), 40_000 / m.tEnd);
  const x = (t: number) => LABEL_W + t * pxPerT;
  const width = Math.ceil(x(m.tEnd + 1) + 150); // room for the end-state labels
  const lanesTop = AXIS_H + PHASE_H + 4;
  const height = lanesTop + m.lanes.length * LANE_H + 8;
  const out: string[] = [];
  // Axis.
  const step = niceStep(m.tEnd, Math.max(4, Math.floor((width - LABEL_W) / 80)));
  for (let t = 0; t <= m.tEnd + 1; t += step) {
    out.push(`<line x1="${x(t)}" y1="${AXIS_H - 6}" x2="${x(t)}" y2="${height}" stroke="#eaeef2"/><text x="${x(t) + 2}" y="${AXIS_H - 10}">${t}</text>`);
  }
  out.push(`<text class="lane-label" x="6" y="${AXIS_H - 10}">t (scheduler events)</text>`);
  // The patcher's phases and its ops' windows.
  out.push(`<g class="phases"><text class="lane-label" x="6" y="${AXIS_H + 16}">patcher phase</text>`);
  for (const p of m.phases) {
    const x0 = x(p.from), x1 = x(Math.max(p.to, p.from + 1));
    out.push(`<g class="phase" data-phase="${esc(p.label)}"><rect x="${x0}" y="${AXIS_H}" width="${x1 - x0}" height="${PHASE_H}" fill="${PHASE_COLOUR[p.kind] ?? "#fff"}" stroke="#d0d7de"/><title>${esc(p.label)} from t=${p.from} to t=${p.to}</title>${x1 - x0 > 44 ? `<text x="${x0 + 3}" y="${AXIS_H + 16}">${esc(p.label)}</text>` : ""}</g>`);
  }
  // Each op's window, from its first step to its return, under the phases.
  m.ops.forEach((op, j) => {
    if (op.begin === null) return; // An op that never began has no window.
    const x0 = x(op.begin), x1 = x((op.returned ?? m.tEnd) + 1), y = AXIS_H + PHASE_H - 4 + (j % 2) * 2;
    out.push(`<line class="op-window" x1="${x0}" x2="${x1}" y1="${y}" y2="${y}" stroke="#57606a" stroke-width="2"><title>${esc(`${op.label}: ${op.times}`)}</title></line>`);
  });
  out.push("</g>");
  m.lanes.forEach((lane, i) => out.push(laneSvg(lane, lanesTop + i * LANE_H, x, pxPerT, width)));
  if (m.divergence) {
    const xd = x(m.divergence.t) + pxPerT / 2;
    out.push(`<line class="divergence-point" x1="${xd}" y1="${AXIS_H}" x2="${xd}" y2="${height}"><title>first divergence: core ${m.divergence.core} at t=${m.divergence.t}</title></line>`);
  }
  return `<svg class="timeline" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${out.join("")}</svg>`;
}

function laneSvg(lane: Lane, y: number, x: (t: number) => number, pxPerT: number, width: number): string {
  const parts = [
    `<g class="lane" data-core="${lane.core}">`,
    `<rect x="0" y="${y}" width="${width}" height="${LANE_H}" fill="${lane.core === 0 ? "#fbfbfc" : "none"}" stroke="#eaeef2"/>`,
    `<text class="lane-label" x="6" y="${y + LANE_H / 2 + 4}">${esc(lane.label)}</text>`,
    lane.hiddenExecs > 0 ? `<text class="muted" x="6" y="${y + LANE_H - 4}">(${lane.hiddenExecs} instructions not drawn)</text>` : "",
  ];
  for (const p of lane.passages) parts.push(passageSvg(p, x(p.begin), x(p.end + 1), y));
  for (const mk of lane.marks) parts.push(markSvg(mk, x(mk.t), y, pxPerT));
  if (lane.end) parts.push(`<text x="${x(lane.end.t + 1) + 3}" y="${y + LANE_H / 2 + 4}">${esc(lane.end.text)}</text>`);
  parts.push("</g>");
  return parts.join("");
}

function legend(): string {
  const marks = (Object.keys(MARK_NAME) as LaneMarkKind[]).map((k) => `<span><i style="background:${MARK_COLOUR[k]}"></i>${esc(MARK_NAME[k])}</span>`);
  const passages = [["v-old", "#ddf4ff", "passage of old bytes"], ["v-new", "#dafbe1", "passage of new bytes"], ["v-mixed", "#ffd8b5", "torn / mixed passage"]]
    .map(([, c, n]) => `<span><i style="background:${c}"></i>${n}</span>`);
  return `<div class="legend">${[...marks, ...passages, `<span><i style="background:#ffcecb;border:2px solid #cf222e"></i>the divergent passage</span>`, `<span><i style="background:#cf222e;width:2px"></i>first divergence</span>`].join("")}</div>`;
}

function byteSpan(b: FetchedByte): string {
  return `<span class="byte o-${b.origin}" data-origin="${b.origin}" title="${esc(`${ORIGIN_NAME[b.origin]}, fetched t=${b.fetchedAt}, after ${b.patcherStep} patcher step(s)`)}">${b.value}</span>`;
}

function slotsHtml(m: CrashReportModel): string {
  const rows = m.slots.map((s) => {
    const cls = (i: number, which: "old" | "new") => (s.old[i] === s.new[i] ? "invariant" : which);
    const bytes = (which: "old" | "new") => (which === "old" ? s.old : s.new).map((v, i) => `<span class="byte o-${cls(i, which)}">${v}</span>`).join("");
    return `<tr><td><b>${esc(s.name)}</b><br><span class="muted">${esc(s.kind)}</span></td><td class="mono">0x${s.start.toString(16)}</td>
<td>old</td><td>${bytes("old")}</td><td class="mono">${esc(s.oldText)}</td></tr>
<tr><td></td><td></td><td>new</td><td>${bytes("new")}</td><td class="mono">${esc(s.newText)}</td></tr>`;
  });
  return `<table class="grid slots"><tr><th>slot</th><th>start</th><th></th><th>bytes</th><th>instructions</th></tr>${rows.join("")}</table>`;
}

function passageHtml(m: CrashReportModel): string {
  const p = m.passage;
  if (!p) return `<p class="muted">No passage explains this verdict.</p>`;
  const origins = (Object.keys(ORIGIN_NAME) as ByteOrigin[]).map((o) => `<span><span class="byte o-${o}">&nbsp;</span> ${esc(ORIGIN_NAME[o])}</span>`).join("");
  const rows = p.rows.map((r) => `<tr><td class="mono">0x${r.addr.toString(16)}</td><td>${r.bytes.map(byteSpan).join("")}</td><td class="mono">${esc(r.text)}</td>
<td class="muted">${esc(r.bytes.map((b, i) => `${i}: t=${b.fetchedAt}/step ${b.patcherStep}`).join(", "))}</td></tr>`);
  return `<div id="divergent-passage-detail"><p>Core ${p.core} through slot <b>${esc(p.slot)}</b> (${esc(p.slotKind)}) at t=${p.begin}..${p.end}, judged against op ${p.op}${p.note ? `; ${esc(p.note)}` : ""}.</p>
<div class="legend">${origins}</div>
<table class="grid fetched"><tr><th>address</th><th>fetched bytes (by provenance)</th><th>executed as</th><th>fetched at (event time / patcher steps)</th></tr>${rows.join("")}</table></div>`;
}

function comparisonHtml(m: CrashReportModel): string {
  if (!m.divergence) return `<p class="muted">No divergence: nothing to compare.</p>`;
  if (m.comparison.length === 0) return `<p class="muted">No program core diverged (the patcher hung or the final code is wrong).</p>`;
  const rows = m.comparison.map((r) => r.index === "gap" ? `<tr class="gap"><td>&hellip;</td><td colspan="3" class="muted">${esc(r.observed)}</td></tr>` : `<tr class="${r.divergent ? "divergent-row" : ""}"><td>${r.index === "state" ? "" : r.index}</td><td class="mono observed">${esc(r.observed)}</td><td class="mono expected">${esc(r.expected)}</td><td>${r.divergent ? "&larr; first divergence" : ""}</td></tr>`);
  return `<table class="grid comparison"><tr><th>#</th><th>observed (core ${m.divergence!.core})</th><th>expected (closest stop_machine schedule)</th><th></th></tr>${rows.join("")}</table>`;
}

function runSection(m: CrashReportModel, index: number): string {
  const d = m.divergence;
  const headline = m.verdict === "harness-error" ? `HARNESS ERROR: ${esc(m.harnessError ?? "")}`
    : d ? `DIVERGES: ${esc(d.cause)} &rarr; ${esc(d.effect)} <span class="muted">(core ${d.core}, phase ${esc(d.phase)}, t=${d.t}, alignment ${esc(d.alignment)})</span>`
    : m.verdict === "clean" ? "clean: every core's observation is one a stop_machine patch could produce" : "DIVERGES (rule findings)";
  return `<section class="run" data-run="${index}" data-verdict="${m.verdict}">
<h1>${esc(m.title)}</h1>
<p class="muted">case <b>${esc(m.caseName)}</b>: ${m.cores} cores (core 0 patches) &middot; strategy <b>${esc(m.strategy)}</b> &middot; model <b>${esc(m.model)}</b> &middot; ${m.decisions} scheduler decisions, ${m.events} events</p>
<div class="summary ${m.verdict}" id="verdict"><b>${headline}</b>${m.signature ? `<br>signature: <code>${esc(m.signature)}</code>` : ""}${d ? `<br>${esc(d.detail)}` : ""}</div>
<h2>Timeline</h2>
<p class="muted">One lane per core on a shared time axis; hover a mark for the event. Ops: ${m.ops.map((o) => esc(`${o.label} ${o.times}`)).join("; ")}.</p>
${legend()}
<div class="timeline-wrap">${timelineSvg(m)}</div>
<h2>Slots</h2>
${slotsHtml(m)}
<h2>First divergent passage</h2>
${passageHtml(m)}
<h2>Observed vs expected</h2>
<div class="cmp">${comparisonHtml(m)}</div>
${m.otherDivergences.length > 0 ? `<h2>Other divergences</h2><ul>${m.otherDivergences.map((x) => `<li>core ${x.core}: ${esc(x.cause)} &rarr; ${esc(x.effect)} at t=${x.t} (${esc(x.detail)})</li>`).join("")}</ul>` : ""}
<h2>Rule findings</h2>
${m.rules.length > 0 ? `<p class="muted">Not divergences unless --rules-fail.</p><ul class="rules">${m.rules.map((r) => `<li class="mono">${esc(r)}</li>`).join("")}</ul>` : `<p class="muted">none</p>`}
</section>`;
}

/** One page for the replayed runs of a crash or case file (usually one), each in its own section. */
export function crashReportHtml(models: readonly CrashReportModel[], title = models[0]?.title ?? "xmcfuzz crash report"): string {
  // Bring each run's divergent passage into view in its scrolling timeline.
  const script = `for (const p of document.querySelectorAll(".passage.divergent")) p.scrollIntoView?.({ block: "nearest", inline: "center" });`;
  return htmlPage(title, CSS, models.map(runSection).join("\n<hr>\n"), script);
}
