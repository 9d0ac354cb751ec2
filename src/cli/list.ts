import { NAMED_MODELS } from "../models/named.js";
import { BUILTIN_STRATEGIES } from "../strategies/registry.js";

export function listStrategies(opts: { json: boolean }): void {
  if (opts.json) {
    process.stdout.write(JSON.stringify(BUILTIN_STRATEGIES.map((s) => ({ name: s.name, description: s.description, handlesInt3: !!s.onInt3 })), null, 2) + "\n");
    return;
  }
  for (const s of BUILTIN_STRATEGIES) process.stdout.write(`${s.name.padEnd(20)} ${s.description}\n`);
}

export function listModels(opts: { json: boolean }): void {
  if (opts.json) {
    process.stdout.write(JSON.stringify(NAMED_MODELS, null, 2) + "\n");
    return;
  }
  const header = ["model", "block", "depth", "snoop", "order", "brRefetch", "decoded", "icache", "stores"];
  const rows = NAMED_MODELS.map((m) => [
    m.name, String(m.fetchBlock), String(m.prefetchDepth),
    m.crossModifySnoop === "eventual" ? `eventual(${m.snoopBound})` : m.crossModifySnoop, m.snoopOrder,
    m.branchRefetch ? "yes" : "no", m.decodedCache ? "yes" : "no", m.icache, m.storeAtomicity,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const r of [header, ...rows]) process.stdout.write(r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd() + "\n");
  process.stdout.write("\n");
  for (const m of NAMED_MODELS) process.stdout.write(`${m.name}: ${m.reading}\n`);
}
