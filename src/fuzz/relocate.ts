// Relocatable form of a program, so the minimizer can delete instructions (SPEC 9): the code
// region is lifted into items (reachable instructions, slots with both versions, unreached byte
// runs) whose branch targets and entries are references to items, then laid out again with every
// displacement re-encoded. Data addresses are absolute and stay as they are.
import type { Instr, Op, Program, Slot } from "../types.js";
import { decode, decodeVersion, isBranch } from "../isa/decode.js";
import { isProbeSlot } from "../case/kind.js";

/** Where a branch or entry points: an item (by index), the region end, or a fixed address outside. */
export type Ref = { readonly item: number } | { readonly end: true } | { readonly abs: number };

/** A branch inside an item's bytes, at byte offset `off`. */
export interface Branch {
  readonly off: number;
  readonly ins: Instr;
  readonly target: Ref;
}

export type Item =
  /** A reachable instruction outside slots. */
  | { readonly kind: "ins"; readonly bytes: Uint8Array; readonly ins: Instr; readonly branch?: Branch }
  /** Bytes no walk reaches (padding, dead code): one item per instruction of a linear sweep. */
  | { readonly kind: "raw"; readonly bytes: Uint8Array }
  /** A slot; its branches are per version. */
  | { readonly kind: "slot"; readonly slot: number; readonly old: readonly Branch[]; readonly new: readonly Branch[] };

export interface Lifted {
  readonly program: Program;
  /** In address order; they tile the code region. */
  readonly items: readonly Item[];
  readonly entries: readonly Ref[];
  /**
   * Per slot, where the 2013 int3 handler resumes (SPEC 5.4): a label like an entry, or undefined
   * for the default, the slot's end, which stays the slot's end whatever is inserted after it.
   */
  readonly bpResumes: readonly (Ref | undefined)[];
}

/** No fall-through after these (as in the loader's flow check). */
const STOPS: ReadonlySet<Op> = new Set<Op>(["jmp8", "jmp32", "ret", "hlt", "ud", "ud2", "int3"]);

/**
 * Lifts `program` by a recursive walk from the entries and every slot, through both versions.
 * Undefined when the code is not relocatable: overlapping instructions, an instruction straddling
 * a slot, or a reference into the middle of an item.
 */
export function lift(program: Program): Lifted | undefined {
  const { base, code, slots } = program;
  const n = code.length;
  const slotAt = new Int16Array(n).fill(-1);
  slots.forEach((s, k) => slotAt.fill(k, s.start - base, s.start - base + s.len));
  /** Offset of the instruction owning each byte, -1 if none. */
  const owner = new Int32Array(n).fill(-1);
  const at = new Map<number, Instr>();
  // Slots are kept even when unreachable, so the code their versions branch to is walked too;
  // a handler may resume at a slot's bpResume, so that code is reachable as well.
  const work: number[] = [...program.entries, ...slots.map((s) => s.start), ...slots.map((s) => s.bpResume)];
  const versionTargets: number[][] = slots.map(() => []);
  const slotSeen = new Uint8Array(slots.length);

  const follow = (ins: Instr, a: number, into: number[]): boolean => {
    if (isBranch(ins.op)) into.push(a + ins.len + ins.rel);
    return !STOPS.has(ins.op);
  };

  while (work.length > 0) {
    const a = work.pop()!;
    const o = a - base;
    if (o < 0 || o >= n) continue;
    const k = slotAt[o]!;
    if (k >= 0) {
      const s = slots[k]!;
      if (s.start !== a) return undefined;
      if (slotSeen[k]) continue;
      slotSeen[k] = 1;
      const probe = isProbeSlot(s.old, s.new);
      for (const bytes of [s.old, s.new]) {
        const list = decodeVersion(bytes, probe);
        if (!list) return undefined;
        let p = a, falls = true;
        for (const ins of list) {
          falls = follow(ins, p, versionTargets[k]!);
          p += ins.len;
          if (!falls) break;
        }
        if (falls) work.push(p);
      }
      work.push(...versionTargets[k]!);
      continue;
    }
    if (owner[o] === o) continue;
    if (owner[o]! >= 0) return undefined; // a second decoding inside an instruction
    const ins = decode(code, o, n);
    if ("incomplete" in ins) continue; // runs off the region: left as raw bytes
    for (let i = 0; i < ins.len; i++) {
      if (owner[o + i]! >= 0 || slotAt[o + i]! >= 0) return undefined;
      owner[o + i] = o;
    }
    at.set(o, ins);
    if (follow(ins, a, work)) work.push(a + ins.len);
  }

  // Tile the region: instructions, slots, and maximal runs of unreached bytes.
  const items: Item[] = [];
  const itemAt = new Map<number, number>();
  const pending: { item: number; off: number; ins: Instr; target: number; version?: "old" | "new" }[] = [];
  let rawFrom = -1;
  // Unreached bytes are split where a linear sweep would split them, so dead code goes piecemeal.
  const flushRaw = (o: number): void => {
    for (let p = rawFrom; rawFrom >= 0 && p < o;) {
      const d = decode(code, p, o);
      const len = "incomplete" in d ? o - p : d.len;
      itemAt.set(p, items.length);
      items.push({ kind: "raw", bytes: code.slice(p, p + len) });
      p += len;
    }
    rawFrom = -1;
  };
  for (let o = 0; o < n;) {
    const k = slotAt[o]!;
    const ins = at.get(o);
    if (k >= 0) {
      flushRaw(o);
      const s = slots[k]!;
      itemAt.set(o, items.length);
      const probe = isProbeSlot(s.old, s.new);
      for (const v of ["old", "new"] as const) {
        const list = decodeVersion(s[v], probe);
        if (!list) return undefined;
        let p = 0;
        for (const i of list) {
          if (isBranch(i.op)) pending.push({ item: items.length, off: p, ins: i, target: s.start + p + i.len + i.rel, version: v });
          p += i.len;
        }
      }
      items.push({ kind: "slot", slot: k, old: [], new: [] });
      o += s.len;
    } else if (ins) {
      flushRaw(o);
      itemAt.set(o, items.length);
      if (isBranch(ins.op)) pending.push({ item: items.length, off: 0, ins, target: base + o + ins.len + ins.rel });
      items.push({ kind: "ins", bytes: code.slice(o, o + ins.len), ins });
      o += ins.len;
    } else {
      if (rawFrom < 0) rawFrom = o;
      o++;
    }
  }
  flushRaw(n);

  const ref = (a: number): Ref | undefined => {
    if (a === base + n) return { end: true };
    if (a < base || a > base + n) return { abs: a };
    const i = itemAt.get(a - base);
    return i === undefined ? undefined : { item: i };
  };
  for (const p of pending) {
    const target = ref(p.target);
    if (!target) return undefined;
    const b: Branch = { off: p.off, ins: p.ins, target };
    const it = items[p.item]!;
    if (it.kind === "ins") items[p.item] = { ...it, branch: b };
    else if (it.kind === "slot") (it[p.version!] as Branch[]).push(b);
  }
  const refs = (addrs: readonly number[]): Ref[] | undefined => {
    const out: Ref[] = [];
    for (const a of addrs) {
      const r = ref(a);
      if (!r) return undefined;
      out.push(r);
    }
    return out;
  };
  const entries = refs(program.entries);
  const custom = slots.filter((s) => s.bpResume !== s.start + s.len);
  const customRefs = refs(custom.map((s) => s.bpResume));
  if (!entries || !customRefs) return undefined;
  const bpResumes = slots.map((s) => (s.bpResume === s.start + s.len ? undefined : customRefs[custom.indexOf(s)]));
  return { program, items, entries, bpResumes };
}

/** Byte length of an item. */
export function itemSize(l: Lifted, it: Item): number {
  return it.kind === "slot" ? l.program.slots[it.slot]!.len : it.bytes.length;
}

/** Writes `b`'s displacement to reach `target` from `at` into `out`; false if a rel8 form cannot. */
function encodeBranch(out: Uint8Array, pos: number, at: number, b: Branch, target: number): boolean {
  const rel = target - (at + b.ins.len);
  switch (b.ins.op) {
    case "jmp8": case "je8": case "jne8":
      if (rel < -128 || rel > 127) return false;
      out[pos + 1] = rel & 0xff;
      return true;
    case "jmp32": case "call":
      writeLe32(out, pos + 1, rel);
      return true;
    case "je32": case "jne32":
      writeLe32(out, pos + 2, rel);
      return true;
    default:
      return false;
  }
}

function writeLe32(out: Uint8Array, pos: number, v: number): void {
  for (let i = 0; i < 4; i++) out[pos + i] = (v >>> (8 * i)) & 0xff;
}

/**
 * Lays the items out again from the region base, skipping items with `alive[i] === false`; a
 * reference to a skipped item goes to the next kept one (as a label before it would). Undefined
 * if a rel8 branch no longer reaches, or nothing is left.
 */
export function layout(l: Lifted, alive?: readonly boolean[]): Program | undefined {
  const { program, items } = l;
  const { base } = program;
  const addr = new Array<number>(items.length + 1);
  let p = base;
  // A dead item gets the address of the next live one, which is where references to it go.
  for (let i = 0; i < items.length; i++) {
    addr[i] = p;
    if (alive?.[i] !== false) p += itemSize(l, items[i]!);
  }
  const end = p;
  addr[items.length] = end;
  if (end === base) return undefined;
  const resolve = (r: Ref): number => ("item" in r ? addr[r.item]! : "end" in r ? end : r.abs);
  const resolveResume = (r: Ref | undefined, slotEnd: number): number => (r ? resolve(r) : slotEnd);

  const code = new Uint8Array(end - base);
  const slots: Slot[] = [...program.slots];
  for (let i = 0; i < items.length; i++) {
    if (alive?.[i] === false) continue;
    const it = items[i]!;
    const at = addr[i]!;
    if (it.kind === "slot") {
      const s = program.slots[it.slot]!;
      const versions = { old: s.old.slice(), new: s.new.slice() };
      for (const v of ["old", "new"] as const) {
        for (const b of it[v]) {
          if (!encodeBranch(versions[v], b.off, at + b.off, b, resolve(b.target))) return undefined;
        }
      }
      code.set(versions.old, at - base);
      slots[it.slot] = { ...s, start: at, old: versions.old, new: versions.new, bpResume: resolveResume(l.bpResumes[it.slot], at + s.len) };
    } else {
      code.set(it.bytes, at - base);
      if (it.kind === "ins" && it.branch && !encodeBranch(code, at - base, at, it.branch, resolve(it.branch.target))) return undefined;
    }
  }
  return { base, code, entries: l.entries.map(resolve), slots };
}

/**
 * `l` with `item` inserted before item `at`. References to the item that was at `at` (its label)
 * keep pointing at it, so the inserted one runs only when the code before it falls through.
 */
export function insertItem(l: Lifted, at: number, item: Item): Lifted {
  const moved = (r: Ref): Ref => ("item" in r && r.item >= at ? { item: r.item + 1 } : r);
  const movedBranch = (b: Branch): Branch => ({ ...b, target: moved(b.target) });
  const items = l.items.map((it): Item => {
    if (it.kind === "ins") return it.branch ? { ...it, branch: movedBranch(it.branch) } : it;
    if (it.kind === "slot") return { ...it, old: it.old.map(movedBranch), new: it.new.map(movedBranch) };
    return it;
  });
  items.splice(at, 0, item);
  return { program: l.program, items, entries: l.entries.map(moved), bpResumes: l.bpResumes.map((r) => r && moved(r)) };
}

/** Instructions a program can execute: reachable ones outside slots plus each slot's old version. */
export function countInstructions(program: Program): number {
  const l = lift(program);
  if (!l) return linearCount(program);
  let count = 0;
  for (const it of l.items) {
    if (it.kind === "ins") count++;
    else if (it.kind === "slot") {
      const s = program.slots[it.slot]!;
      count += decodeVersion(s.old, isProbeSlot(s.old, s.new))?.length ?? 1;
    }
  }
  return count;
}

/** Fallback for code the walk cannot lift: a linear sweep, unreadable bytes counting as one each. */
function linearCount(program: Program): number {
  const { code } = program;
  let count = 0;
  for (let o = 0; o < code.length; count++) {
    const d = decode(code, o, code.length);
    o += "incomplete" in d ? 1 : d.len;
  }
  return count;
}
