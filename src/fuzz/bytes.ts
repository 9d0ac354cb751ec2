import type { Case, Model, Strategy } from "../types.js";
import { DEFAULT_MAX_CORES } from "../types.js";
import { parseCase } from "../case/load.js";
import { caseToJson } from "../case/save.js";
import { NAMED_MODELS } from "../models/named.js";
import { BUILTIN_STRATEGIES } from "../strategies/registry.js";
import { generateCase } from "./generate.js";

// Byte buffers -> cases (SPEC 9, last bullet): lets byte-oriented fuzzers such as jsfuzz drive
// the same harness. The bytes are consumed like libFuzzer's FuzzedDataProvider: front to back,
// deterministic, and reads past the end yield zeros instead of throwing, so every byte string
// (including the empty one) decodes to a valid case.

/** A deterministic, never-throwing reader over a byte buffer. */
export class ByteReader {
  private pos = 0;
  constructor(private readonly bytes: Uint8Array) {}

  /** Bytes not consumed yet. */
  get remaining(): number {
    return Math.max(0, this.bytes.length - this.pos);
  }

  /** One byte in [0, 255]; 0 past the end. */
  u8(): number {
    const b = this.pos < this.bytes.length ? this.bytes[this.pos]! : 0;
    this.pos++;
    return b;
  }

  /** Four bytes, little-endian, as an unsigned 32-bit integer. */
  u32(): number {
    const a = this.u8(), b = this.u8(), c = this.u8(), d = this.u8();
    return (a | (b << 8) | (c << 16) | (d << 24)) >>> 0;
  }

  /** A float in [0, 1) from four bytes. */
  float(): number {
    return this.u32() / 0x1_0000_0000;
  }

  /** An integer in [lo, hi] (both inclusive); `lo` when hi <= lo. */
  int(lo: number, hi: number): number {
    if (hi <= lo) return lo;
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  /** One element of a non-empty array. */
  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new RangeError("ByteReader.pick: empty array");
    return xs[this.int(0, xs.length - 1)]!;
  }

  /** One byte's low bit. */
  bool(): boolean {
    return (this.u8() & 1) === 1;
  }
}

export interface BytesCase {
  readonly kase: Case;
  readonly soloBudget: number;
  readonly strategy: Strategy;
  readonly model: Model;
  /** Seed of the random schedule policy. */
  readonly seed: number;
}

/**
 * Decodes a byte string into a run: byte 0 picks the strategy, byte 1 the model, bytes 2-5 the
 * schedule seed; the rest drives the structure-aware generator. The case goes through the
 * loader (`parseCase`), which must accept it: a rejection here is a generator bug and throws.
 */
export function caseFromBytes(bytes: Uint8Array): BytesCase {
  const r = new ByteReader(bytes);
  const strategy = BUILTIN_STRATEGIES[r.u8() % BUILTIN_STRATEGIES.length]!;
  const model = NAMED_MODELS[r.u8() % NAMED_MODELS.length]!;
  const seed = r.u32();
  const generated = generateCase(() => r.float(), { maxCores: DEFAULT_MAX_CORES });
  const { kase, soloBudget } = parseCase(caseToJson(generated));
  return { kase, soloBudget, strategy, model, seed };
}
