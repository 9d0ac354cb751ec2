// Disassembler for the SPEC 2 subset. Output is text that asm.ts accepts back, so reports
// can be pasted into cases.
import type { Instr } from "../types.js";
import { fixedEncoding } from "./asm.js";
import { sameBytes } from "./bytes.js";
import { decode } from "./decode.js";
import { R32, R8 } from "./registers.js";


function h(n: number): string {
  return "0x" + (n >>> 0).toString(16);
}

/** add/cmp immediates are sign-extended, so show them signed (`-1`, not `0xffffffff`). */
function s8(imm: number): string {
  const v = (imm << 24) >> 24;
  return v < 0 ? String(v) : h(v);
}

/** Intel-style text of `ins` located at `addr` (branch targets are absolute). */
export function formatInstr(ins: Instr, addr: number): string {
  const target = h(addr + ins.len + ins.rel);
  const r32 = R32[ins.reg & 7]!;
  switch (ins.op) {
    case "nop": return "nop";
    case "nop2": return "nop2";
    case "nopN": return "nop" + ins.len;
    case "jmp8": return "jmp short " + target;
    case "jmp32": return "jmp " + target;
    case "call": return "call " + target;
    case "ret": return "ret";
    case "je8": return "je short " + target;
    case "jne8": return "jne short " + target;
    case "je32": return "je " + target;
    case "jne32": return "jne " + target;
    case "movr8": return `mov ${R8[ins.reg & 3]!}, ${h(ins.imm & 0xff)}`;
    case "movr32": return `mov ${r32}, ${h(ins.imm)}`;
    case "inc": return "inc " + r32;
    case "dec": return "dec " + r32;
    case "add": return `add ${r32}, ${s8(ins.imm)}`;
    case "cmp": return `cmp ${r32}, ${s8(ins.imm)}`;
    case "load": return `mov eax, [${h(ins.imm)}]`;
    case "storeMem": return `mov [${h(ins.imm)}], eax`;
    case "out": return `out ${h(ins.imm & 0xff)}, al`;
    case "int3": return "int3";
    case "cpuid": return "cpuid";
    case "serialize": return "serialize";
    case "mfence": return "mfence";
    case "pause": return "pause";
    case "cli": return "cli";
    case "sti": return "sti";
    case "ud2": return "ud2";
    case "hlt": return "hlt";
    case "ud": return "(bad)";
  }
}

/** Space-separated lowercase hex bytes: "e9 1f 44 00 00". */
export function hex(bytes: ArrayLike<number>): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) {
    if (i > 0) s += " ";
    s += (bytes[i]! & 0xff).toString(16).padStart(2, "0");
  }
  return s;
}

export interface Line {
  addr: number;
  bytes: number[];
  text: string;
}

/**
 * Linear sweep over `bytes` (located at `base`) from address `from` while the address is < `to`.
 * `ud` bytes and an instruction cut off by the end of `bytes` become `.byte` lines
 * (commented `(bad)` / `(incomplete)`). Never throws.
 */
export function disassemble(bytes: ArrayLike<number>, base: number, from?: number, to?: number): Line[] {
  const n = bytes.length;
  let off = Math.max(0, Math.min(n, (from ?? base) - base));
  const end = Math.max(0, Math.min(n, (to ?? base + n) - base));
  const lines: Line[] = [];
  while (off < end) {
    const r = decode(bytes, off, n);
    const len = "incomplete" in r ? n - off : r.len;
    const raw: number[] = [];
    for (let i = 0; i < len; i++) raw.push(bytes[off + i]! & 0xff);
    // Undecodable bytes print as `.byte` so the listing still assembles back to the same bytes;
    // so does a multi-byte nop in another encoding than the assembler's (a torn or rewritten one).
    const asBytes = (note: string) => ".byte " + raw.map(h).join(", ") + " ; " + note;
    const text = "incomplete" in r ? asBytes("(incomplete)")
      : r.op === "ud" ? asBytes("(bad)")
      : r.op === "nopN" && !sameBytes(raw, fixedEncoding(`nop${r.len}`) ?? []) ? asBytes(`nop${r.len}`)
      : formatInstr(r, base + off);
    lines.push({ addr: base + off, bytes: raw, text });
    off += len;
  }
  return lines;
}
