// Decoder for the x86 subset of SPEC 2. It runs in the emulator's hot loop, so it is a
// single switch on the first byte, allocates at most the returned Instr, and never throws.
import type { DecodeResult, Instr, Op } from "../types.js";

/** Longest form in the subset: `0F 1F` ModRM SIB disp32. */
export const MAX_INSTR_LEN = 8;

// Always build Instr with the same field order so consumers stay monomorphic.
function mk(op: Op, len: number, reg: number, imm: number, rel: number): Instr {
  return { op, len, reg, imm, rel };
}

function short(need: number): DecodeResult {
  return { incomplete: true, need };
}

// Operand-less instructions are shared: they carry no per-site data.
const NOP = mk("nop", 1, 0, 0, 0);
const NOP2 = mk("nop2", 2, 0, 0, 0);
const RET = mk("ret", 1, 0, 0, 0);
const INT3 = mk("int3", 1, 0, 0, 0);
const CPUID = mk("cpuid", 2, 0, 0, 0);
const SERIALIZE = mk("serialize", 3, 0, 0, 0);
const MFENCE = mk("mfence", 3, 0, 0, 0);
const PAUSE = mk("pause", 2, 0, 0, 0);
const CLI = mk("cli", 1, 0, 0, 0);
const STI = mk("sti", 1, 0, 0, 0);
const UD2 = mk("ud2", 2, 0, 0, 0);
const HLT = mk("hlt", 1, 0, 0, 0);
const UD1 = mk("ud", 1, 0, 0, 0);
const UD2B = mk("ud", 2, 0, 0, 0);
const UD3B = mk("ud", 3, 0, 0, 0);

/** Little-endian 32-bit word at i, as a signed int32. */
function d32(b: ArrayLike<number>, i: number): number {
  return (b[i]! & 0xff) | ((b[i + 1]! & 0xff) << 8) | ((b[i + 2]! & 0xff) << 16) | ((b[i + 3]! & 0xff) << 24);
}

/**
 * Decodes the instruction at `bytes[off]`, looking only at indices < `limit`.
 * Returns `{incomplete, need}` (bytes needed from `off`, at least) when the window is too short.
 */
export function decode(bytes: ArrayLike<number>, off: number, limit: number): DecodeResult {
  if (off >= limit) return short(1);
  const b0 = bytes[off]! & 0xff;
  switch (b0) {
    case 0x90: return NOP;
    case 0xc3: return RET;
    case 0xcc: return INT3;
    case 0xfa: return CLI;
    case 0xfb: return STI;
    case 0xf4: return HLT;
    case 0x66:
      if (off + 2 > limit) return short(2);
      return (bytes[off + 1]! & 0xff) === 0x90 ? NOP2 : UD2B;
    case 0xf3:
      if (off + 2 > limit) return short(2);
      return (bytes[off + 1]! & 0xff) === 0x90 ? PAUSE : UD2B;
    case 0xeb: case 0x74: case 0x75: {
      if (off + 2 > limit) return short(2);
      const rel = ((bytes[off + 1]! & 0xff) << 24) >> 24;
      return mk(b0 === 0xeb ? "jmp8" : b0 === 0x74 ? "je8" : "jne8", 2, 0, 0, rel);
    }
    case 0xe9: case 0xe8:
      if (off + 5 > limit) return short(5);
      return mk(b0 === 0xe9 ? "jmp32" : "call", 5, 0, 0, d32(bytes, off + 1));
    case 0xb0: case 0xb1: case 0xb2: case 0xb3:
      if (off + 2 > limit) return short(2);
      return mk("movr8", 2, b0 - 0xb0, bytes[off + 1]! & 0xff, 0);
    case 0xb8: case 0xb9: case 0xba: case 0xbb: case 0xbc: case 0xbd: case 0xbe: case 0xbf:
      if (off + 5 > limit) return short(5);
      return mk("movr32", 5, b0 - 0xb8, d32(bytes, off + 1) >>> 0, 0);
    case 0x40: case 0x41: case 0x42: case 0x43: case 0x44: case 0x45: case 0x46: case 0x47:
      return mk("inc", 1, b0 - 0x40, 0, 0);
    case 0x48: case 0x49: case 0x4a: case 0x4b: case 0x4c: case 0x4d: case 0x4e: case 0x4f:
      return mk("dec", 1, b0 - 0x48, 0, 0);
    case 0x83: {
      if (off + 2 > limit) return short(2);
      const m = bytes[off + 1]! & 0xff;
      const hi = m & 0xf8;
      if (hi !== 0xc0 && hi !== 0xf8) return UD2B;
      if (off + 3 > limit) return short(3);
      const imm = (((bytes[off + 2]! & 0xff) << 24) >> 24) >>> 0;
      return mk(hi === 0xc0 ? "add" : "cmp", 3, m & 7, imm, 0);
    }
    case 0xa1: case 0xa3:
      if (off + 5 > limit) return short(5);
      return mk(b0 === 0xa1 ? "load" : "storeMem", 5, 0, d32(bytes, off + 1) >>> 0, 0);
    case 0xe6:
      if (off + 2 > limit) return short(2);
      return mk("out", 2, 0, bytes[off + 1]! & 0xff, 0);
    case 0x0f:
      return decode0F(bytes, off, limit);
    default:
      return UD1;
  }
}

function decode0F(bytes: ArrayLike<number>, off: number, limit: number): DecodeResult {
  if (off + 2 > limit) return short(2);
  const b1 = bytes[off + 1]! & 0xff;
  switch (b1) {
    case 0xa2: return CPUID;
    case 0x0b: return UD2;
    case 0x84: case 0x85:
      if (off + 6 > limit) return short(6);
      return mk(b1 === 0x84 ? "je32" : "jne32", 6, 0, 0, d32(bytes, off + 2));
    case 0x01:
      if (off + 3 > limit) return short(3);
      return (bytes[off + 2]! & 0xff) === 0xe8 ? SERIALIZE : UD3B;
    case 0xae:
      if (off + 3 > limit) return short(3);
      return (bytes[off + 2]! & 0xff) === 0xf0 ? MFENCE : UD3B;
    case 0x1f: {
      if (off + 3 > limit) return short(3);
      const m = bytes[off + 2]! & 0xff;
      if ((m & 0x38) !== 0) return UD3B;
      const mod = m >> 6;
      const rm = m & 7;
      // Architectural 32-bit addressing length: torn mixes of nop5 etc. depend on it.
      let len = 3;
      if (mod !== 3) {
        if (rm === 4) {
          if (off + 4 > limit) return short(4);
          len = 4;
          if (mod === 0 && ((bytes[off + 3]! & 7) === 5)) len += 4;
        } else if (mod === 0 && rm === 5) {
          len += 4;
        }
        if (mod === 1) len += 1;
        else if (mod === 2) len += 4;
      }
      if (off + len > limit) return short(len);
      return mk("nopN", len, 0, 0, 0);
    }
    default:
      return UD2B;
  }
}

/** Ops that carry a `rel` displacement. */
export function isBranch(op: Op): boolean {
  switch (op) {
    case "jmp8": case "jmp32": case "call": case "je8": case "jne8": case "je32": case "jne32":
      return true;
    default:
      return false;
  }
}

/** Ops with no architectural effect besides advancing the pc. */
export function isNop(op: Op): boolean {
  return op === "nop" || op === "nop2" || op === "nopN" || op === "pause";
}

/** Linear decode of a whole byte string; undefined if it does not split into complete instructions. */
export function decodeAll(bytes: ArrayLike<number>): Instr[] | undefined {
  return decodeUntil(bytes, () => false);
}

/** Decodes instructions until `stop` says the rest is padding; undefined if one runs past the end. */
function decodeUntil(bytes: ArrayLike<number>, stop: (ins: Instr, end: number) => boolean): Instr[] | undefined {
  const out: Instr[] = [];
  const n = bytes.length;
  let off = 0;
  while (off < n) {
    const r = decode(bytes, off, n);
    if ("incomplete" in r) return undefined;
    out.push(r);
    off += r.len;
    if (stop(r, off)) return out;
  }
  return off === n ? out : undefined;
}

/**
 * The instructions a slot version executes (SPEC 3.2): decoding stops after a `ret` or `jmp`, or
 * after the leading `CC` of a probe version; the bytes after that are padding that is never
 * executed, and need not decode. Undefined if an executed instruction runs past the end.
 */
export function decodeVersion(bytes: ArrayLike<number>, probe: boolean): Instr[] | undefined {
  return decodeUntil(bytes, (r, end) => r.op === "ret" || r.op === "jmp8" || r.op === "jmp32" || (probe && end === 1 && r.op === "int3"));
}
