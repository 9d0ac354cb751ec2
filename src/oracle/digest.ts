import { type Cpu, ESP } from "../machine/cpu.js";
import { DATA_SIZE, STACK_SIZE, STACK_TOP } from "../types.js";

// memoryDigest (machine/cpu.ts) as a number, twice as fast: the oracle digests a state at
// every end it compares and at every state it records. Half of memoryDigest's time is spelling the
// hash in hex, and a core's memory is mostly zero bytes: FNV-1a turns a zero byte into one
// multiplication by the prime, so a run of z zero bytes is one multiplication by prime^z, and zero
// bytes are found four at a time. digest.test.ts checks both against memoryDigest.

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** PRIME_POWERS[z] = FNV_PRIME^z mod 2^32, for every run of zeros a core's memory can hold. */
const PRIME_POWERS = new Int32Array(DATA_SIZE + STACK_SIZE + 1);
PRIME_POWERS[0] = 1;
for (let z = 1; z < PRIME_POWERS.length; z++) PRIME_POWERS[z] = Math.imul(PRIME_POWERS[z - 1]!, FNV_PRIME);

/** A memory view's bytes as aligned 32-bit words: the words, and the word index of its byte 0. */
interface WordView {
  readonly words: Uint32Array;
  readonly base: number;
}

/** Word views, made once per memory view (the search recycles its states, and their views). */
const WORD_VIEWS = new WeakMap<Uint8Array, WordView | null>();

function wordViewOf(bytes: Uint8Array): WordView | null {
  let view = WORD_VIEWS.get(bytes);
  if (view === undefined) {
    const buffer = bytes.buffer;
    const aligned = bytes.byteOffset % 4 === 0 && buffer.byteLength % 4 === 0;
    view = aligned ? { words: new Uint32Array(buffer), base: bytes.byteOffset / 4 } : null;
    WORD_VIEWS.set(bytes, view);
  }
  return view;
}

/** FNV-1a over a sequence of byte ranges; one instance, reused (the oracle is single-threaded). */
class Fnv {
  private h = FNV_OFFSET;
  /** Zero bytes hashed but not multiplied in yet. */
  private zeros = 0;

  start(): void {
    this.h = FNV_OFFSET;
    this.zeros = 0;
  }

  /** bytes[from..to), passing over aligned zero words in one step each. */
  range(bytes: Uint8Array, from: number, to: number): void {
    const view = wordViewOf(bytes);
    if (!view) return this.bytes(bytes, from, to);
    const firstWord = (from + 3) >> 2, endWord = to >> 2;
    if (firstWord >= endWord) return this.bytes(bytes, from, to);
    this.bytes(bytes, from, firstWord * 4);
    const { words, base } = view;
    for (let w = firstWord; w < endWord; w++) {
      if (words[base + w] === 0) this.zeros += 4;
      else this.bytes(bytes, w * 4, w * 4 + 4);
    }
    this.bytes(bytes, endWord * 4, to);
  }

  value(): number {
    return Math.imul(this.h, PRIME_POWERS[this.zeros]!) >>> 0;
  }

  private bytes(bytes: Uint8Array, from: number, to: number): void {
    let h = this.h, zeros = this.zeros;
    for (let i = from; i < to; i++) {
      const v = bytes[i]!;
      if (v === 0) {
        zeros++;
      } else {
        h = Math.imul(Math.imul(h, PRIME_POWERS[zeros]!) ^ v, FNV_PRIME);
        zeros = 0;
      }
    }
    this.h = h;
    this.zeros = zeros;
  }
}

const FNV = new Fnv();

/** The number memoryDigest(cpu) spells: FNV-1a over private data, then the live stack. */
export function memoryHash(cpu: Cpu): number {
  FNV.start();
  FNV.range(cpu.data, 0, cpu.data.length);
  const liveFrom = Math.max(0, Math.min(STACK_SIZE, cpu.regs[ESP]! - (STACK_TOP - STACK_SIZE)));
  FNV.range(cpu.stack, liveFrom, STACK_SIZE);
  return FNV.value();
}

/** The number a memoryDigest text spells: eight lowercase hex digits (-1 for any other text). */
export function digestValue(text: string): number {
  if (text.length !== 8) return -1;
  let value = 0;
  for (let i = 0; i < 8; i++) {
    const c = text.charCodeAt(i);
    const digit = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1;
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}
