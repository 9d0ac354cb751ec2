import type { Instr, Model } from "../types.js";
import { decode, MAX_INSTR_LEN } from "../isa/decode.js";
import type { Cpu } from "./cpu.js";
import { DecodedCache, type Fetch, NO_DECODED } from "./decoded-cache.js";
import { CodeMemory, LINE } from "./memory.js";
import type { InitialImage } from "./plan.js";
import type { FetchRecord } from "./passages.js";

// One program core's instruction fetch (SPEC 4): the prefetch buffer refilled block by block, the
// decoded-instruction cache, the non-coherent I-cache's line versions, and what the execute step
// is handed. The machine says when a refill, a snoop, a serialization or an invalidation happens;
// the fetch unit keeps what they leave behind.

/** What a fetch reports beside its instruction: nothing (the lazy fetch), its bytes, or also when each was fetched. */
export const enum Detail {
  None = 0,
  Bytes = 1,
  Provenance = 2,
}

/** What the fetch unit reads from its machine: the clock and the scheduler's choices. */
export interface FetchHost {
  /** The current event time. */
  readonly t: number;
  /** Patcher steps taken so far. */
  readonly patcherSteps: number;
  /** A choice among `options` (at least 2) inside an event (SPEC 8); `what` names it in drift messages. */
  choose(options: number, what: string): number;
}

const NONE: number[] = [];

/** Bytes of an instruction being decoded from a buffer whose bytes were modified (reused). */
const SCRATCH: number[] = new Array<number>(MAX_INSTR_LEN).fill(0);
const INCOMPLETE = { incomplete: true, need: 1 } as const;

/** Choices a fetch unit makes: how many blocks a refill appends, and which line version it reads. */
const enum ChoiceKind {
  Refill = 0,
  Fill = 1,
  Fetch = 2,
}

const CHOICE_TEXTS = new Map<number, string>();

/** The drift-message name of a choice, built once per (kind, core, line): choices are per event. */
function choiceText(kind: ChoiceKind, core: number, line: number): string {
  const key = (line << 8) | (core << 2) | kind;
  let text = CHOICE_TEXTS.get(key);
  if (text === undefined) {
    text = kind === ChoiceKind.Refill ? `refill on core ${core}` : `${kind === ChoiceKind.Fill ? "fill" : "fetch"} line ${line} on core ${core}`;
    CHOICE_TEXTS.set(key, text);
  }
  return text;
}

export class FetchUnit {
  /** The buffered range [lo, hi): whole fetch blocks. */
  lo = 0;
  hi = 0;
  // The buffer keeps, per fetch block, when it was fetched (event time and patcher steps) rather than
  // a copy of its bytes: a buffered byte is memory as of that time (or, with a non-coherent I-cache,
  // the line version read), and code bytes rarely change, so decoding reads memory directly.
  // Plain arrays, not typed: a typed array over 64 bytes has an off-heap backing store, several
  // times dearer to allocate, and these are allocated per core per run.
  private readonly blockT: number[];
  private readonly blockP: number[];
  /** Non-coherent models: the line version each block was read from. */
  private readonly blockV: Uint8Array[] | undefined;
  /** Non-coherent models: per line, the oldest version this core's I-cache may return (-1: not filled). */
  private readonly icache: number[];
  /** Decoded-instruction cache (models with one): the fetch as first made, returned as is on hits. */
  private readonly decoded: DecodedCache;
  /**
   * The complete decode of the buffered bytes at `memoPc`: each scheduler step asks whether every
   * core's next instruction is ready, and the buffer's bytes at a pc only change when it is cleared
   * (refills append past `hi`), so one decode serves until the pc moves or the buffer is cleared.
   */
  private memoPc = -1;
  private memoIns: Instr | undefined;
  /** The one lazy fetch: the execute step reads only its instruction, or asks again with detail. */
  private readonly lazyFetch: { ins: Instr; bytes: number[]; times: number[]; psteps: number[]; cached: boolean; lazy: boolean } =
    { ins: undefined as unknown as Instr, bytes: NONE, times: NONE, psteps: NONE, cached: false, lazy: true };
  /** The bytes an incomplete direct fetch from line versions read (see cutOff). */
  private partialWindow: number[] = NONE;
  /** The drift-message name of this core's refill choice (a refill with a choice is one event in four). */
  private readonly refillText: string;

  constructor(
    private readonly core: number,
    private readonly cpu: Cpu,
    private readonly model: Model,
    private readonly mem: CodeMemory,
    private readonly initial: InitialImage,
    private readonly host: FetchHost,
  ) {
    const length = mem.end - mem.base;
    const blocks = Math.ceil(length / Math.max(1, model.fetchBlock));
    this.blockT = new Array<number>(blocks).fill(0);
    this.blockP = new Array<number>(blocks).fill(0);
    this.blockV = mem.versions ? new Array<Uint8Array>(blocks) : undefined;
    this.icache = new Array<number>(Math.ceil(length / LINE)).fill(-1);
    this.decoded = model.decodedCache ? new DecodedCache(mem.base, length) : NO_DECODED;
    this.refillText = choiceText(ChoiceKind.Refill, core, 0);
    this.clear();
  }

  /** Empties the buffer (the next fetch starts at pc's block), and with `decodedToo` the decoded cache. */
  clear(decodedToo = false): void {
    const b = this.model.fetchBlock, pc = this.cpu.pc;
    if (b > 0) this.lo = this.hi = pc - (pc % b);
    this.memoIns = undefined;
    if (decodedToo) this.decoded.clear();
  }

  /** A pc change other than falling through (SPEC 4.2). */
  controlTransfer(): void {
    if (this.model.fetchBlock === 0) return;
    const pc = this.cpu.pc;
    if (this.model.branchRefetch || pc < this.lo || pc >= this.hi) this.clear();
  }

  /** A store to [lo, hi) snooped: what the core holds of it is dropped. */
  snoop(lo: number, hi: number): void {
    if ((this.lo < hi && lo < this.hi) || this.decoded.overlaps(lo, hi)) this.clear(true);
  }

  /** An I-cache invalidation of these lines was delivered. */
  invalidate(lines: readonly number[]): void {
    for (const l of lines) this.icache[l] = -1;
  }

  /** Blocks a refill may append: those starting below both pc + prefetchDepth + 15 and the region end. */
  refillBlocks(): number {
    const b = this.model.fetchBlock, pc = this.cpu.pc, end = this.mem.end;
    if (b === 0 || pc < this.mem.base || pc >= end) return 0;
    const room = Math.min(pc + this.model.prefetchDepth + 15, end) - this.hi;
    return room > 0 ? Math.ceil(room / b) : 0;
  }

  /** A refill event: appends 1..refillBlocks() blocks (a choice); returns how many. */
  refill(): number {
    const options = this.refillBlocks();
    const k = 1 + (options <= 1 ? 0 : this.host.choose(options, this.refillText));
    const b = this.model.fetchBlock, base = this.mem.base;
    for (let i = 0; i < k; i++) {
      // Blocks are aligned and the base is line-aligned: a block lies within one line.
      const block = (this.hi - base) / b;
      this.blockT[block] = this.host.t;
      this.blockP[block] = this.host.patcherSteps;
      if (this.blockV) this.blockV[block] = this.readLine(Math.floor((this.hi - base) / LINE));
      this.hi = Math.min(this.hi + b, this.mem.end);
    }
    return k;
  }

  /** Whether the execute event is enabled: the fetch unit can supply the instruction (or a #PF) now. */
  ready(): boolean {
    const pc = this.cpu.pc, end = this.mem.end;
    if (pc < this.mem.base || pc >= end || this.model.fetchBlock === 0) return true;
    if (this.decoded.get(pc) !== undefined) return true;
    if (pc < this.lo || pc >= this.hi) return false;
    return this.hi >= end || this.bufferedInstr() !== undefined;
  }

  /**
   * The instruction at pc for the execute step (it is ready), or the #PF address. With
   * `Detail.None` the fetch may come back lazy (its instruction only): ask again with detail if
   * its bytes are needed; no choice is made twice.
   */
  fetch(detail: Detail): Fetch | number {
    return this.isDirect() ? this.fetchDirect(detail) : this.peek(detail)!;
  }

  /** Keeps an executed fetch (its own object, never the lazy one) in the decoded cache, if the model has one. */
  keep(pc: number, f: Fetch): void {
    if (!this.model.decodedCache || f.cached) return;
    f.cached = true;
    this.decoded.set(pc, f);
  }

  /** After a fetch at pc ran into the region end (#PF): the bytes [pc, end) it read, and when. */
  cutOff(pc: number): FetchRecord {
    const direct = this.isDirect(), base = this.mem.base;
    const bytes: number[] = [], times: number[] = [], psteps: number[] = [];
    for (let a = pc; a < this.mem.end; a++) {
      if (direct) {
        bytes.push(this.mem.versions ? this.partialWindow[a - pc]! : this.mem.bytes[a - base]!);
        times.push(this.host.t);
        psteps.push(this.host.patcherSteps);
      } else {
        const block = Math.floor((a - base) / this.model.fetchBlock);
        bytes.push(this.bufferedByte(a));
        times.push(this.blockT[block]!);
        psteps.push(this.blockP[block]!);
      }
    }
    return { bytes, times, psteps };
  }

  /** fetchBlock 0 and no decoded-cache hit: the execute step decodes from memory (or the I-cache) itself. */
  private isDirect(): boolean {
    const pc = this.cpu.pc;
    return this.model.fetchBlock === 0 && this.decoded.get(pc) === undefined && pc >= this.mem.base && pc < this.mem.end;
  }

  private choose(options: number, kind: ChoiceKind, line: number): number {
    return options <= 1 ? 0 : this.host.choose(options, choiceText(kind, this.core, line));
  }

  /** Reads one line through the non-coherent I-cache (fill, then a version in [lo, W]). */
  private readLine(line: number): Uint8Array {
    const w = this.mem.newest(line);
    if (this.icache[line]! < 0) {
      const p = this.mem.pou![line]!;
      this.icache[line] = p + this.choose(w - p + 1, ChoiceKind.Fill, line);
    }
    const lo = this.icache[line]!;
    return this.mem.versions![line]![lo + this.choose(w - lo + 1, ChoiceKind.Fetch, line)]!;
  }

  /** The instruction the fetch buffer holds complete at pc (memoized, see `memoIns`), else undefined. */
  private bufferedInstr(): Instr | undefined {
    const pc = this.cpu.pc;
    if (this.memoIns !== undefined && this.memoPc === pc) return this.memoIns;
    const initial = this.unmodifiedInstrAt(pc);
    let d: Instr | undefined;
    if (initial !== undefined) {
      // Never-modified bytes are the same in memory, in every line version and in the buffer.
      d = initial !== null && initial.len <= this.hi - pc ? initial : undefined;
    } else {
      const n = Math.min(MAX_INSTR_LEN, this.hi - pc);
      for (let i = 0; i < n; i++) SCRATCH[i] = this.bufferedByte(pc + i);
      const r = decode(SCRATCH, 0, n);
      d = "incomplete" in r ? undefined : r;
    }
    if (d === undefined) return undefined;
    this.memoPc = pc;
    this.memoIns = d;
    return d;
  }

  /** The byte at a buffered address: memory as of its block's fetch, or the line version it read. */
  private bufferedByte(addr: number): number {
    const off = addr - this.mem.base, block = Math.floor(off / this.model.fetchBlock);
    return this.blockV ? this.blockV[block]![off % LINE]! : this.mem.byteAt(addr, this.blockT[block]!);
  }

  /**
   * The instruction at pc in the initial image if none of its bytes was ever modified (null: it
   * runs past the region end), else undefined. Decodes are cached per case: most instructions
   * executed lie outside slots and every run of the case decodes them the same way.
   */
  private unmodifiedInstrAt(pc: number): Instr | null | undefined {
    const initial = this.initial.instrAt(pc - this.mem.base);
    return this.mem.modifiedIn(pc, initial ? initial.len : this.mem.end - pc) ? undefined : initial;
  }

  /** The instruction at pc if the fetch unit can supply it now; a number is a #PF address; null: wait. */
  private peek(detail: Detail): Fetch | number | null {
    const pc = this.cpu.pc, base = this.mem.base, end = this.mem.end;
    if (pc < base || pc >= end) return pc;
    const hit = this.decoded.get(pc);
    if (hit) return hit;
    if (this.model.fetchBlock === 0) return null; // decoded at the step that executes it
    if (pc < this.lo || pc >= this.hi) return this.hi >= end && pc >= this.hi ? pc : null;
    const d = this.bufferedInstr();
    if (!d) return this.hi >= end ? end : null;
    if (detail === Detail.None) {
      this.lazyFetch.ins = d;
      return this.lazyFetch;
    }
    const unmodified = this.unmodifiedInstrAt(pc) === d;
    const provenance = detail === Detail.Provenance;
    // Sized up front: an array grown by push from empty takes room for 17 elements.
    const bytes: number[] = unmodified ? NONE : new Array<number>(d.len);
    const times: number[] = provenance ? new Array<number>(d.len) : NONE, psteps: number[] = provenance ? new Array<number>(d.len) : NONE;
    const b = this.model.fetchBlock;
    for (let i = 0; i < d.len; i++) {
      const a = pc + i, block = Math.floor((a - base) / b);
      if (!unmodified) bytes[i] = this.bufferedByte(a);
      if (provenance) {
        times[i] = this.blockT[block]!;
        psteps[i] = this.blockP[block]!;
      }
    }
    return { ins: d, bytes: unmodified ? this.initial.bytesAt(pc - base) : bytes, times, psteps, cached: false };
  }

  /**
   * fetchBlock 0: decode from memory (or the I-cache) at the executing step. Without an I-cache
   * the fetch makes no choice, so `Detail.None` may return the lazy fetch (asked again if needed).
   */
  private fetchDirect(detail: Detail): Fetch | number {
    const pc = this.cpu.pc, base = this.mem.base, end = this.mem.end;
    let window: ArrayLike<number> = this.mem.bytes, off = pc - base, limit = end - base;
    if (this.mem.versions) {
      const line = Math.floor(off / LINE);
      const first = this.readLine(line);
      const tmp: number[] = [...first.subarray(off - line * LINE, Math.min(LINE, limit - line * LINE))];
      const d = decode(tmp, 0, tmp.length);
      if ("incomplete" in d && (line + 1) * LINE < limit) {
        const second = this.readLine(line + 1);
        tmp.push(...second.subarray(0, Math.min(LINE, limit - (line + 1) * LINE)));
      }
      window = tmp;
      off = 0;
      limit = tmp.length;
    }
    const initial = this.mem.versions ? undefined : this.unmodifiedInstrAt(pc);
    const d = initial === undefined ? decode(window, off, limit) : initial ?? INCOMPLETE;
    if ("incomplete" in d) {
      // The line versions this fetch read (its choices made): a cut-off fetch's record reads them.
      if (this.mem.versions) this.partialWindow = window as number[];
      return end;
    }
    if (detail === Detail.None && !this.mem.versions) {
      this.lazyFetch.ins = d;
      return this.lazyFetch;
    }
    let bytes: readonly number[];
    if (initial) {
      bytes = this.initial.bytesAt(pc - base);
    } else {
      const copy = new Array<number>(d.len);
      for (let i = 0; i < d.len; i++) copy[i] = window[off + i]!;
      bytes = copy;
    }
    if (detail === Detail.Bytes) return { ins: d, bytes, times: NONE, psteps: NONE, cached: false };
    // Every byte is fetched now.
    const times = new Array<number>(d.len).fill(this.host.t), psteps = new Array<number>(d.len).fill(this.host.patcherSteps);
    return { ins: d, bytes, times, psteps, cached: false };
  }
}
