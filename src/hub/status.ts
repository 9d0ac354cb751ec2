import type { HubStatus } from "../types.js";

// `hub status` as text: one line per node, then the totals.

export function formatHubStatus(s: HubStatus, now = Date.now()): string {
  const lines = s.nodes.map((n) => `${n.node.padEnd(24)} ${n.alive ? "alive" : n.left ? "left " : "gone "}  ${String(Math.round(n.execsPerSec)).padStart(7)} execs/s  ${n.execs.toLocaleString("en-US").padStart(12)} execs  seen ${Math.round((now - n.at) / 1000)} s ago`);
  const alive = s.nodes.filter((n) => n.alive).length;
  lines.push(`nodes ${alive} alive of ${s.nodes.length}  total ${Math.round(s.execsPerSec)} execs/s  corpus ${s.corpus}  signatures ${s.signatures}`);
  lines.push(`shards pending ${s.shards.pending}  running ${s.shards.running}  done ${s.shards.done}`);
  return lines.join("\n") + "\n";
}
