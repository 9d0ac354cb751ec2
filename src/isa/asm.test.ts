import { describe, it, expect } from "vitest";
import { arith, assemble, assembleAt, assembleStmts, AsmError, branch, data, dec, END_SLOT, fixed, inc, load, movR32, movR8, out, type Stmt, store } from "./asm.js";
import { disassemble, formatInstr, hex } from "./disasm.js";
import { decode, decodeAll } from "./decode.js";

const ALL = `
; every mnemonic formatInstr prints
start:
  nop
  nop1
  nop2
  nop3
  nop4
  nop5
  nop7
  nop8
  jmp short start
  jmp done
  call func
  je short start
  jne short done2
  je done
  jne start
  mov al, 0x12
  mov cl, 255
  mov dl, -1
  mov bl, 0
  mov eax, 0x12345678
  mov ecx, 1
  mov edx, -1
  mov ebx, start
  mov esp, 0x200000
  mov ebp, 0
  mov esi, 7
  mov edi, 0xffffffff
  inc eax
  inc edi
  dec ecx
  dec esi
  add eax, 1
  add ebx, -1
  cmp eax, 3
  cmp edi, -128
  mov eax, [0x100000]
  mov eax, [data]
  mov [0x100004], eax
  out 0x10, al
  out 0x11
  int3
  cpuid
  serialize
  mfence
  pause
  cli
  sti
  ud2
done2: hlt
func: ret
done: hlt
.org 0x1100
data: .byte 1, 2 3 0xff
`;

describe("assemble", () => {
  it("round-trips assemble -> disassemble -> assemble over every mnemonic", () => {
    const a = assemble(ALL, 0x1000);
    const lines = disassemble(a.bytes, 0x1000);
    const text = lines.map((l) => l.text);
    const b = assemble(text, 0x1000);
    expect(hex(b.bytes)).toBe(hex(a.bytes));
    // Spot-check the printed forms.
    expect(text).toContain("nop5");
    expect(text).toContain("add ebx, -1");
    expect(text).toContain("mov eax, [0x1100]");
    expect(text).toContain("mov [0x100004], eax");
    expect(text).toContain("out 0x11, al");
    expect(text).toContain("mov dl, 0xff");
    expect(text[0]).toBe("nop");
  });

  it("encodes the canonical nops and branches", () => {
    const a = assemble(["nop3", "nop4", "nop5", "nop7", "nop8"], 0);
    expect(hex(a.bytes)).toBe("0f 1f 00 0f 1f 40 00 0f 1f 44 00 00 0f 1f 80 00 00 00 00 0f 1f 84 00 00 00 00 00");
    expect(hex(assemble("top: jmp short top", 0x1000).bytes)).toBe("eb fe");
    expect(hex(assemble("jmp 0x1010", 0x1000).bytes)).toBe("e9 0b 00 00 00");
    expect(hex(assemble("JNE Short 0x1000\nJE 0x1000", 0x1000).bytes)).toBe("75 fe 0f 84 f8 ff ff ff");
  });

  it("resolves forward and backward labels", () => {
    const a = assemble(
      ["back: nop", "  jmp fwd   # forward", "  je short back", "fwd:", "  call back", "  mov eax, [fwd]"],
      0x2000,
    );
    expect(a.labels.get("back")).toBe(0x2000);
    expect(a.labels.get("fwd")).toBe(0x2008);
    const ins = decodeAll(a.bytes)!;
    expect(ins.map((i) => i.op)).toEqual(["nop", "jmp32", "je8", "call", "load"]);
    expect(0x2001 + 5 + ins[1]!.rel).toBe(0x2008);
    expect(0x2006 + 2 + ins[2]!.rel).toBe(0x2000);
    expect(0x2008 + 5 + ins[3]!.rel).toBe(0x2000);
    expect(ins[4]!.imm).toBe(0x2008);
  });

  it("records slots and pads .org with int3", () => {
    const a = assemble(
      ["nop", ".slot s1", "site: nop5", ".endslot", ".slot s2", "  mov al, 1 ; imm patch", ".endslot", ".org 0x1010", "hlt"],
      0x1000,
    );
    expect(a.slots).toEqual([
      { name: "s1", start: 0x1001, len: 5, line: 2 },
      { name: "s2", start: 0x1006, len: 2, line: 5 },
    ]);
    const b = assemble([".org 0x1010", "hlt"], 0x100c);
    expect(hex(b.bytes)).toBe("cc cc cc cc f4");
  });

  it("assembleAt resolves labels from the given map and its own", () => {
    const prog = assemble(["jmp short l1", "l1: .slot s", "nop5", ".endslot", "done: hlt"], 0x1000);
    const s = prog.slots[0]!;
    const nu = assembleAt(["jmp done"], s.start, prog.labels);
    expect(nu.length).toBe(s.len);
    const r = decode(nu, 0, nu.length);
    expect(!("incomplete" in r) && formatInstr(r, s.start)).toBe("jmp 0x1007");
    const own = assembleAt(["x: jmp short x"], 0x5000, prog.labels);
    expect(hex(own)).toBe("eb fe");
  });

  const errors: [string, string | string[], string][] = [
    ["unknown mnemonic", "nop\n\n  foo eax", 'line 3: unknown mnemonic "foo"'],
    ["undefined label", ["nop", "nop", "nop", "nop", "jmp done"], 'line 5: undefined label "done"'],
    ["rel8 out of range", ["top:", ".org 0x200", "nop", "nop", "nop", "nop", "jmp short top"], "line 7: rel8 target out of range"],
    ["duplicate label", "a: nop\na: nop", 'line 2: duplicate label "a"'],
    ["nested slot", ".slot a\n.slot b", 'line 2: nested .slot "b" inside "a"'],
    ["unclosed slot", "nop\n.slot a\nnop", 'line 2: unclosed .slot "a"'],
    ["endslot without slot", ".endslot", "line 1: .endslot without .slot"],
    [".org backwards", "nop5\n.org 2", "line 2: .org 2 moves backwards"],
    ["nop6", "nop6", "line 1: nop6 is not encodable (needs a 66 prefix, #UD here)"],
    ["imm8 range", "add eax, 200", "line 1: imm8 200 out of range"],
    ["bad register", "mov ah, 1", 'line 1: bad operand "ah"'],
    ["bad byte", ".byte 90 cc", 'line 1: bad byte "cc"'],
    ["arity", "ret 4", "line 1: ret takes 0 operands"],
    ["call short", "call short 0", "line 1: call has no short form"],
    ["inherited key", "constructor", 'line 1: unknown mnemonic "constructor"'],
    ["__proto__", "__proto__", 'line 1: unknown mnemonic "__proto__"'],
    ["branch target past 32 bits", "jmp 0x100001000", "line 1: address 0x100001000 out of range"],
    ["store address past 32 bits", "mov [0x1ffffffff], eax", "line 1: address 0x1ffffffff out of range"],
    ["load address past 32 bits", "mov eax, [4294967296]", "line 1: address 4294967296 out of range"],
  ];
  for (const [name, src, msg] of errors) {
    it(`error: ${name}`, () => {
      let err: unknown;
      try {
        assemble(src, 0);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(AsmError);
      expect((err as Error).message).toBe(msg);
      expect((err as Error).message).not.toContain("\n");
    });
  }
});

describe("assembleStmts", () => {
  it("assembles statements built in code as their text forms assemble", () => {
    const text = [
      "top: .slot s", "nop5", ".endslot", "mov al, 0x3f", "mov dl, 255", "out 0x10", "jmp short top", "jne done",
      "call fn", "inc eax", "dec edi", "add eax, -2", "cmp ebx, 127", "mov ecx, 8", "mov ebx, fn",
      "mov eax, [0x100004]", "mov [0x100008], eax", ".byte 0xb8, 1, 2, 3, 4", "done: hlt", "fn: ret",
    ];
    const stmts: Stmt[] = [
      { label: "top" }, { slot: "s" }, fixed("nop5"), END_SLOT, movR8("al", 0x3f), movR8("dl", 255), out(0x10),
      branch("jmp", "top", true), branch("jne", "done"), branch("call", "fn"), inc("eax"), dec("edi"),
      arith("add", "eax", -2), arith("cmp", "ebx", 127), movR32("ecx", 8), movR32("ebx", "fn"),
      load(0x100004), store(0x100008), data([0xb8, 1, 2, 3, 4]), { label: "done" }, fixed("hlt"), { label: "fn" }, fixed("ret"),
    ];
    const a = assemble(text, 0x1000), b = assembleStmts(stmts, 0x1000);
    expect(hex(b.bytes)).toBe(hex(a.bytes));
    expect(b.labels).toEqual(a.labels);
    expect(b.slots.map(({ name, start, len }) => ({ name, start, len }))).toEqual(a.slots.map(({ name, start, len }) => ({ name, start, len })));
    expect(hex(assembleStmts([branch("jmp", "done")], 0x1002, a.labels).bytes)).toBe(hex(assembleAt(["jmp done"], 0x1002, a.labels)));
  });

  it("reports errors with the statement's number as the line", () => {
    expect(() => assembleStmts([fixed("nop"), branch("jmp", "nowhere")], 0)).toThrow('line 2: undefined label "nowhere"');
    expect(() => assembleStmts([{ label: "a" }, { label: "a" }], 0)).toThrow('line 2: duplicate label "a"');
    expect(() => assembleStmts([{ slot: "s" }, fixed("nop")], 0)).toThrow('line 1: unclosed .slot "s"');
  });
});

describe("disassemble", () => {
  it("formats lines and an incomplete tail, never throwing", () => {
    const lines = disassemble([0x90, 0x66, 0x91, 0x0f, 0x1f], 0x1000);
    expect(lines).toEqual([
      { addr: 0x1000, bytes: [0x90], text: "nop" },
      { addr: 0x1001, bytes: [0x66, 0x91], text: ".byte 0x66, 0x91 ; (bad)" },
      { addr: 0x1003, bytes: [0x0f, 0x1f], text: ".byte 0xf, 0x1f ; (incomplete)" },
    ]);
    expect(disassemble([0x90, 0x90, 0x90], 0x10, 0x11, 0x12).map((l) => l.addr)).toEqual([0x11]);
    expect(disassemble([], 0)).toEqual([]);
    expect(formatInstr({ op: "ud", len: 1, reg: 0, imm: 0, rel: 0 }, 0)).toBe("(bad)");
    expect(hex([0xe9, 0x1f, 0x44, 0, 0])).toBe("e9 1f 44 00 00");
  });

  it("assembles back to the same bytes when a multi-byte nop is not in the assembler's encoding (torn, rewritten)", () => {
    const odd = [[0x0f, 0x1f, 0x44, 0x00, 0x09], [0x0f, 0x1f, 0xc0], [0x0f, 0x1f, 0x05, 1, 2, 3, 4]];
    for (const bytes of odd) {
      const [line] = disassemble(bytes, 0x1000);
      expect(line!.text).toMatch(new RegExp(`^\\.byte .* ; nop${bytes.length}$`));
      expect([...assemble(line!.text, 0x1000).bytes]).toEqual(bytes);
    }
    expect(disassemble([0x0f, 0x1f, 0x44, 0x00, 0x00], 0x1000)[0]!.text).toBe("nop5");
  });
});
