import type { Modification } from "../types.js";

export const LINE = 64;

/**
 * The code region: current bytes, the history of every modification (for rules, provenance and
 * "memory at time t"), and per 64-byte line the version history of SPEC 4.3 with its point of
 * unification. Versions are kept only when the model needs them.
 */
export class CodeMemory {
  readonly bytes: Uint8Array;
  readonly initial: Uint8Array;
  /** Modifications per byte offset (absent: never modified). */
  readonly mods = new Map<number, Modification[]>();
  /** Per byte offset: 1 once modified. Asked per executed instruction, so a flat array, not the map. */
  private readonly modified: number[];
  readonly versions: Uint8Array[][] | undefined;
  readonly pou: Int32Array | undefined;
  private stores = 0;

  /** First address past the region. */
  readonly end: number;

  constructor(readonly base: number, code: Uint8Array, trackLines: boolean) {
    this.end = base + code.length;
    this.bytes = code.slice();
    this.initial = code; // only read
    this.modified = new Array<number>(code.length).fill(0);
    const lines = Math.ceil(code.length / LINE);
    if (trackLines) {
      this.versions = [];
      for (let l = 0; l < lines; l++) {
        const v = new Uint8Array(LINE);
        v.set(code.subarray(l * LINE, Math.min(code.length, (l + 1) * LINE)));
        this.versions.push([v]);
      }
      this.pou = new Int32Array(lines);
    }
  }

  /** One store event; returns the modifications it made (empty if every byte already held its value). */
  store(addr: number, piece: Uint8Array, t: number): Modification[] {
    const id = this.stores++;
    const made: Modification[] = [];
    for (let i = 0; i < piece.length; i++) {
      const o = addr - this.base + i;
      const before = this.bytes[o]!;
      if (before === piece[i]) continue;
      this.bytes[o] = piece[i]!;
      const m: Modification = { t, addr: addr + i, value: piece[i]!, before, store: id };
      made.push(m);
      let list = this.mods.get(o);
      if (!list) this.mods.set(o, (list = []));
      list.push(m);
      this.modified[o] = 1;
    }
    if (made.length > 0 && this.versions) {
      const touched = new Set(made.map((m) => Math.floor((m.addr - this.base) / LINE)));
      for (const l of touched) {
        const v = new Uint8Array(LINE);
        v.set(this.bytes.subarray(l * LINE, Math.min(this.bytes.length, (l + 1) * LINE)));
        this.versions[l]!.push(v);
      }
    }
    return made;
  }

  /** Whether any byte of [addr, addr+len) inside the region was ever modified. */
  modifiedIn(addr: number, len: number): boolean {
    if (this.mods.size === 0) return false;
    const from = Math.max(0, addr - this.base), to = Math.min(this.modified.length, addr - this.base + len);
    for (let o = from; o < to; o++) if (this.modified[o] === 1) return true;
    return false;
  }

  /** Newest version index of a line (W). */
  newest(line: number): number {
    return this.versions![line]!.length - 1;
  }

  /** Value of the byte at `addr` once every event up to and including time t has happened. */
  byteAt(addr: number, t: number): number {
    const o = addr - this.base;
    if (this.modified[o] !== 1) return this.bytes[o]!;
    const list = this.mods.get(o)!;
    let v = this.initial[o]!;
    for (const m of list) {
      if (m.t > t) break;
      v = m.value;
    }
    return v;
  }

  /** Bytes [addr, addr+n) as of time t (bytes outside the region are omitted). */
  bytesAt(addr: number, n: number, t: number): number[] {
    const out: number[] = [];
    for (let a = addr; a < addr + n && a < this.end; a++) out.push(this.byteAt(a, t));
    return out;
  }
}
