import type { Model, RuleName } from "../types.js";
import { decode, isNop } from "../isa/decode.js";
import { type CodeMemory, LINE } from "./memory.js";

// The written cross-modifying-code rules of SPEC 7.3, checked on every executed instruction whose
// bytes were ever modified. They judge what the protocol did, not what the core happened to fetch.

export interface RuleLedger {
  /** Per core, times of its serializing events; the start of the run (0) counts as one. */
  readonly serializeTimes: number[][];
  /** Per core, delivered I-cache invalidations. */
  readonly invalDeliveries: { t: number; lines: number[] }[][];
  readonly cleansDone: { issued: number; completed: number; lines: number[] }[];
}

const CC = 0xcc;

export function checkRule(
  model: Model, mem: CodeMemory, ledger: RuleLedger, core: number, addr: number, len: number, now: number,
): RuleName | undefined {
  if (!mem.modifiedIn(addr, len)) return undefined;
  return model.icache === "coherent"
    ? unsynchronizedXmc(mem, ledger, core, addr, len)
    : cmodxViolation(mem, ledger, core, addr, len, now);
}

/** Intel: bytes modified since this core last serialized, except an int3 in the first byte. */
function unsynchronizedXmc(mem: CodeMemory, ledger: RuleLedger, core: number, addr: number, len: number): RuleName | undefined {
  const times = ledger.serializeTimes[core]!;
  const last = times[times.length - 1]!;
  let firstOnly = true, anyRecent = false, allStoredCC = true;
  for (let i = 0; i < len; i++) {
    const mods = mem.mods.get(addr + i - mem.base);
    if (!mods) continue;
    // Runs on every executed modified instruction: loops, no filtered copies.
    let recent = false;
    for (const m of mods) {
      if (m.t <= last) continue;
      recent = true;
      if (m.value !== CC) allStoredCC = false;
    }
    if (!recent) continue;
    anyRecent = true;
    if (i > 0) firstOnly = false;
  }
  if (!anyRecent) return undefined;
  if (firstOnly && (mem.byteAt(addr, last) === CC || allStoredCC)) return undefined;
  return "unsynchronized-xmc";
}

/** Latest clean issue time that a completed clean -> delivered invalidate -> serialize chain covers. */
function coveredBefore(mem: CodeMemory, ledger: RuleLedger, core: number, addr: number, now: number): number {
  const line = Math.floor((addr - mem.base) / LINE);
  const sers = ledger.serializeTimes[core]!;
  let lastSer = 0;
  for (const t of sers) if (t <= now) lastSer = t;
  let best = -1;
  for (const cl of ledger.cleansDone) {
    if (!cl.lines.includes(line) || cl.issued <= best) continue;
    let inv: { t: number } | undefined;
    for (const d of ledger.invalDeliveries[core]!) {
      if (d.t > cl.completed && d.lines.includes(line)) {
        inv = d;
        break;
      }
    }
    if (inv && lastSer > inv.t) best = cl.issued;
  }
  return best;
}

function patchableLive(bytes: number[]): boolean {
  if (bytes[0] === CC) return true; // a CC counts as int3 whatever follows it
  const d = decode(bytes, 0, bytes.length);
  if ("incomplete" in d) return false;
  return d.op === "jmp8" || d.op === "jmp32" || d.op === "call" || isNop(d.op);
}

/** ARM's CMODX: clean + invalidate + serialize after every modification, or a single-store patch between live-patchable instructions. */
function cmodxViolation(mem: CodeMemory, ledger: RuleLedger, core: number, addr: number, len: number, now: number): RuleName | undefined {
  const checkedStores = new Set<number>();
  for (let i = 0; i < len; i++) {
    const mods = mem.mods.get(addr + i - mem.base);
    if (!mods) continue;
    const covered = coveredBefore(mem, ledger, core, addr + i, now);
    for (const m of mods) {
      if (m.t < covered || checkedStores.has(m.store)) continue;
      checkedStores.add(m.store);
      const before = mem.bytesAt(addr, 8, m.t - 1), after = mem.bytesAt(addr, 8, m.t);
      if (!patchableLive(before) || !patchableLive(after)) return "cmodx-violation";
    }
  }
  return undefined;
}
