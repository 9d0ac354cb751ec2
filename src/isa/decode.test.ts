import { describe, it, expect } from "vitest";
import seedrandom from "seedrandom";
import type { DecodeResult, Instr } from "../types.js";
import { decode, decodeAll, isBranch, isNop, MAX_INSTR_LEN } from "./decode.js";

function dec(bytes: number[]): DecodeResult {
  return decode(bytes, 0, bytes.length);
}
function ins(bytes: number[]): Instr {
  const r = dec(bytes);
  if ("incomplete" in r) throw new Error("incomplete: " + JSON.stringify(bytes));
  return r;
}
function fields(bytes: number[]): Pick<Instr, "op" | "len" | "reg" | "imm" | "rel"> {
  const { op, len, reg, imm, rel } = ins(bytes);
  return { op, len, reg, imm, rel };
}
const I = (op: Instr["op"], len: number, reg = 0, imm = 0, rel = 0) => ({ op, len, reg, imm, rel });

describe("decode: table rows", () => {
  const rows: [string, number[], ReturnType<typeof I>][] = [
    ["nop", [0x90], I("nop", 1)],
    ["nop2", [0x66, 0x90], I("nop2", 2)],
    ["66 other", [0x66, 0x91], I("ud", 2)],
    ["nop3", [0x0f, 0x1f, 0x00], I("nopN", 3)],
    ["nop4", [0x0f, 0x1f, 0x40, 0x00], I("nopN", 4)],
    ["nop5", [0x0f, 0x1f, 0x44, 0x00, 0x00], I("nopN", 5)],
    ["nop7 disp32", [0x0f, 0x1f, 0x05, 1, 2, 3, 4], I("nopN", 7)],
    ["nop7 mod10", [0x0f, 0x1f, 0x80, 0, 0, 0, 0], I("nopN", 7)],
    ["nop8", [0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0], I("nopN", 8)],
    ["0F 1F /1", [0x0f, 0x1f, 0x08], I("ud", 3)],
    ["jmp8", [0xeb, 0xfe], I("jmp8", 2, 0, 0, -2)],
    ["jmp32", [0xe9, 0x10, 0, 0, 0], I("jmp32", 5, 0, 0, 0x10)],
    ["jmp32 neg", [0xe9, 0xfb, 0xff, 0xff, 0xff], I("jmp32", 5, 0, 0, -5)],
    ["call", [0xe8, 0x00, 0x01, 0, 0], I("call", 5, 0, 0, 0x100)],
    ["ret", [0xc3], I("ret", 1)],
    ["je8", [0x74, 0x05], I("je8", 2, 0, 0, 5)],
    ["jne8", [0x75, 0x80], I("jne8", 2, 0, 0, -128)],
    ["je32", [0x0f, 0x84, 1, 0, 0, 0], I("je32", 6, 0, 0, 1)],
    ["jne32", [0x0f, 0x85, 0xff, 0xff, 0xff, 0x7f], I("jne32", 6, 0, 0, 0x7fffffff)],
    ["mov al", [0xb0, 0x12], I("movr8", 2, 0, 0x12)],
    ["mov bl", [0xb3, 0xff], I("movr8", 2, 3, 0xff)],
    ["mov ah is ud", [0xb4, 0x12], I("ud", 1)],
    ["mov bh is ud", [0xb7, 0x12], I("ud", 1)],
    ["mov eax", [0xb8, 0x78, 0x56, 0x34, 0x12], I("movr32", 5, 0, 0x12345678)],
    ["mov edi", [0xbf, 0xff, 0xff, 0xff, 0xff], I("movr32", 5, 7, 0xffffffff)],
    ["inc eax", [0x40], I("inc", 1, 0)],
    ["inc edi", [0x47], I("inc", 1, 7)],
    ["dec eax", [0x48], I("dec", 1, 0)],
    ["dec edi", [0x4f], I("dec", 1, 7)],
    ["add ecx, 1", [0x83, 0xc1, 0x01], I("add", 3, 1, 1)],
    ["add eax, -1", [0x83, 0xc0, 0xff], I("add", 3, 0, 0xffffffff)],
    ["cmp edi, 3", [0x83, 0xff, 0x03], I("cmp", 3, 7, 3)],
    ["cmp eax, -128", [0x83, 0xf8, 0x80], I("cmp", 3, 0, 0xffffff80)],
    ["83 other", [0x83, 0xe8, 0x01], I("ud", 2)],
    ["load", [0xa1, 0x00, 0x00, 0x10, 0x00], I("load", 5, 0, 0x100000)],
    ["store", [0xa3, 0x04, 0x00, 0x10, 0x80], I("storeMem", 5, 0, 0x80100004)],
    ["out", [0xe6, 0x10], I("out", 2, 0, 0x10)],
    ["int3", [0xcc], I("int3", 1)],
    ["cpuid", [0x0f, 0xa2], I("cpuid", 2)],
    ["serialize", [0x0f, 0x01, 0xe8], I("serialize", 3)],
    ["0F 01 other", [0x0f, 0x01, 0xf8], I("ud", 3)],
    ["mfence", [0x0f, 0xae, 0xf0], I("mfence", 3)],
    ["0F AE other", [0x0f, 0xae, 0xe8], I("ud", 3)],
    ["pause", [0xf3, 0x90], I("pause", 2)],
    ["F3 other", [0xf3, 0xa4], I("ud", 2)],
    ["cli", [0xfa], I("cli", 1)],
    ["sti", [0xfb], I("sti", 1)],
    ["ud2", [0x0f, 0x0b], I("ud2", 2)],
    ["hlt", [0xf4], I("hlt", 1)],
    ["0F other", [0x0f, 0x10], I("ud", 2)],
    ["unknown", [0x00], I("ud", 1)],
    ["unknown ff", [0xff], I("ud", 1)],
  ];
  for (const [name, bytes, want] of rows) {
    it(name, () => expect(fields(bytes)).toEqual(want));
  }

  it("every incomplete prefix asks for more and the full form agrees", () => {
    for (const [, bytes, want] of rows) {
      for (let lim = 0; lim < want.len; lim++) {
        const r = decode(bytes, 0, lim);
        expect("incomplete" in r, `${JSON.stringify(bytes)} lim ${lim}`).toBe(true);
        if ("incomplete" in r) {
          expect(r.need).toBeGreaterThan(lim);
          expect(r.need).toBeLessThanOrEqual(want.len);
        }
      }
    }
  });

  it("respects off and limit, ignoring bytes beyond limit", () => {
    const b = [0xcc, 0xe9, 1, 2, 3, 4, 0x90];
    expect(decode(b, 1, 6)).toMatchObject({ op: "jmp32", len: 5, rel: 0x04030201 });
    expect(decode(b, 1, 5)).toEqual({ incomplete: true, need: 5 });
    expect(decode([0x66], 0, 1)).toEqual({ incomplete: true, need: 2 });
    expect(decode([0x0f, 0x1f], 0, 2)).toEqual({ incomplete: true, need: 3 });
    expect(decode([0x0f, 0x1f, 0x44], 0, 3)).toEqual({ incomplete: true, need: 4 });
    expect(decode([0x0f, 0x1f, 0x44, 0x00], 0, 4)).toEqual({ incomplete: true, need: 5 });
    expect(decode([0x0f, 0x1f, 0x04, 0x25], 0, 4)).toEqual({ incomplete: true, need: 8 });
  });

  it("helpers", () => {
    expect(["jmp8", "jmp32", "call", "je8", "jne8", "je32", "jne32"].every((o) => isBranch(o as Instr["op"]))).toBe(true);
    expect(isBranch("ret")).toBe(false);
    expect(isBranch("nop")).toBe(false);
    expect(["nop", "nop2", "nopN", "pause"].every((o) => isNop(o as Instr["op"]))).toBe(true);
    expect(isNop("hlt")).toBe(false);
    expect(isNop("ud")).toBe(false);
    expect(decodeAll([0x90, 0x0f, 0x1f, 0x44, 0, 0, 0xc3])?.map((i) => i.op)).toEqual(["nop", "nopN", "ret"]);
    expect(decodeAll([0x90, 0x0f, 0x1f, 0x44, 0])).toBeUndefined();
    expect(decodeAll([0x66, 0x91])?.map((i) => i.op)).toEqual(["ud"]);
    expect(decodeAll([])).toEqual([]);
  });
});

describe("decode: 0F 1F ModRM/SIB lengths", () => {
  // Independent formula: 2 opcode bytes + ModRM + optional SIB + displacement.
  function archLen(modrm: number, sib: number): number {
    const mod = modrm >> 6, rm = modrm & 7;
    if (mod === 3) return 3;
    const hasSib = rm === 4 ? 1 : 0;
    let disp = 0;
    if (mod === 1) disp = 1;
    else if (mod === 2) disp = 4;
    else if (rm === 5) disp = 4;
    else if (rm === 4 && (sib & 7) === 5) disp = 4;
    return 3 + hasSib + disp;
  }

  it("all 256 ModRM x 256 SIB values", () => {
    const seen = new Set<number>();
    for (let m = 0; m < 256; m++) {
      for (let s = 0; s < 256; s++) {
        const b = [0x0f, 0x1f, m, s, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66];
        const r = ins(b);
        if (((m >> 3) & 7) !== 0) {
          expect(r).toMatchObject({ op: "ud", len: 3 });
        } else {
          const want = archLen(m, s);
          expect(r.op).toBe("nopN");
          expect(r.len, `modrm ${m.toString(16)} sib ${s.toString(16)}`).toBe(want);
          seen.add(want);
          // Exactly the needed bytes suffice, one fewer does not.
          expect(decode(b, 0, want)).toMatchObject({ op: "nopN", len: want });
          expect("incomplete" in decode(b, 0, want - 1)).toBe(true);
        }
      }
    }
    expect([...seen].sort()).toEqual([3, 4, 5, 7, 8]);
  });
});

describe("decode: torn mixes", () => {
  const nop5 = [0x0f, 0x1f, 0x44, 0x00, 0x00];
  const jmp = [0xe9, 0x10, 0x00, 0x30, 0x00];
  const call = [0xe8, 0x10, 0x20, 0x30, 0x00];

  it("new first byte, old tail: jmp32 with the nop's bytes as displacement", () => {
    expect(fields([0xe9, 0x1f, 0x44, 0x00, 0x00])).toEqual(I("jmp32", 5, 0, 0, 0x441f));
    expect(fields([0xe8, 0x1f, 0x44, 0x00, 0x00])).toEqual(I("call", 5, 0, 0, 0x441f));
  });

  it("old first byte, new second byte: 0F + displacement byte", () => {
    expect(fields([0x0f, 0x10, 0x44, 0x00, 0x00])).toEqual(I("ud", 2));
    // Displacement byte that happens to be a valid 0F opcode.
    expect(fields([0x0f, 0x84, 0x44, 0x00, 0x00, 0x90])).toEqual(I("je32", 6, 0, 0, 0x90000044 | 0));
    expect(fields([0x0f, 0x0b, 0x44, 0x00, 0x00])).toEqual(I("ud2", 2));
  });

  it("old head, new tail keeps nop5 (tail is displacement)", () => {
    expect(fields([0x0f, 0x1f, 0x44, 0x30, 0x00])).toEqual(I("nopN", 5));
    expect(fields([0x0f, 0x1f, 0x44, call[3]!, call[4]!])).toEqual(I("nopN", 5));
  });

  it("every byte-wise mix of nop5 and jmp32/call decodes to a complete instruction or a ud", () => {
    for (const nu of [jmp, call]) {
      for (let mask = 0; mask < 32; mask++) {
        const b = nop5.map((x, i) => ((mask >> i) & 1 ? nu[i]! : x));
        const r = decode([...b, 0xcc, 0xcc, 0xcc], 0, 8);
        expect("incomplete" in r).toBe(false);
        if (!("incomplete" in r)) {
          if (b[0] === 0xe9) expect(r.op).toBe("jmp32");
          else if (b[0] === 0xe8) expect(r.op).toBe("call");
          else if (b[1] === 0x1f && b[2] === 0x44) expect(r).toMatchObject({ op: "nopN", len: 5 });
          else if (b[1] === 0x1f && b[2] === 0x00) expect(r).toMatchObject({ op: "nopN", len: 3 });
          else if (b[1] === 0x1f) expect(r).toMatchObject({ op: "ud", len: 3 }); // ModRM 0x20: reg=4
          else expect(r).toMatchObject({ op: "ud", len: 2 }); // 0F 10
        }
      }
    }
    // ModRM replaced by the displacement's second byte changes the length: nop3 + leftovers.
    expect(fields([0x0f, 0x1f, 0x00, 0x00, 0x00])).toEqual(I("nopN", 3));
    expect(fields([0x0f, 0x1f, 0x20, 0x00, 0x00])).toEqual(I("ud", 3)); // ModRM reg=4
  });
});

describe("decode: random byte strings", () => {
  it("100,000 strings: total, bounded, consistent across limits", () => {
    const rng = seedrandom.alea("1");
    const buf = new Uint8Array(16);
    for (let n = 0; n < 100_000; n++) {
      for (let i = 0; i < buf.length; i++) buf[i] = Math.floor(rng() * 256);
      // Bias toward the interesting first bytes.
      if (n % 4 === 0) buf[0] = 0x0f;
      const full = decode(buf, 0, buf.length);
      expect("incomplete" in full).toBe(false);
      if ("incomplete" in full) continue;
      expect(full.len).toBeGreaterThanOrEqual(1);
      expect(full.len).toBeLessThanOrEqual(MAX_INSTR_LEN);
      for (let lim = 0; lim <= MAX_INSTR_LEN; lim++) {
        const r = decode(buf, 0, lim);
        if ("incomplete" in r) {
          if (lim >= full.len) expect.fail(`complete ${full.len} but incomplete at ${lim}: ${[...buf]}`);
          if (r.need <= lim || r.need > full.len) expect.fail(`need ${r.need} at lim ${lim}, len ${full.len}`);
        } else if (r.op !== full.op || r.len !== full.len || r.reg !== full.reg || r.imm !== full.imm || r.rel !== full.rel) {
          expect.fail(`limit ${lim} changed result: ${[...buf]}`);
        }
      }
    }
  });
});
