import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CaseError, loadCaseFile, parseCase } from "./load.js";
import { caseToJson, writeCaseFile } from "./save.js";

/** A jump label: three passes through `jl`, which prints 0x10 unpatched and 0x20 patched. */
const JUMP_LABEL = [
  "main:",
  "  mov ecx, 3",
  "top:",
  ".slot jl",
  "  nop5",
  ".endslot",
  "  out 0x10",
  "  jmp short next",
  "yes:",
  "  out 0x20",
  "next:",
  "  dec ecx",
  "  jne short top",
  "  hlt",
];

function asmCase(asm: string[], slots: object[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    xmcfuzz: "case", version: 2, name: "t", cores: 2,
    code: { base: "0x1000", asm }, entries: ["main"], slots,
    ops: slots.length > 0 ? [{ slots: [(slots[0] as { name: string }).name] }] : [],
    ...extra,
  };
}

function valid(): Record<string, unknown> {
  return {
    xmcfuzz: "case", version: 2, name: "jump-label", description: "nop5 <-> jmp32, then reverted",
    cores: 3,
    code: { base: "0x1000", asm: JUMP_LABEL },
    entries: ["main", 0x1000],
    slots: [{ name: "jl", new: "jmp yes" }],
    ops: [{ slots: ["jl"] }, { slots: [{ slot: "jl", to: "old" }], batch: "atomic", monotonic: false }],
    runs: [
      { strategy: "text_poke_bp", model: "x86-realistic", seed: 7, decisions: "0/2 1/3 4/5",
        expect: { verdict: "diverges", signature: "sig", rules: ["unsynchronized-xmc"] } },
      { strategy: "stop_machine", model: "sdm-strict", seed: 0 },
    ],
  };
}

/** Asserts that parsing `json` fails with exactly `message`. */
function rejects(json: unknown, message: string): void {
  let err: unknown;
  try {
    parseCase(json);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(CaseError);
  expect((err as Error).message).toBe(message);
  expect((err as Error).message).not.toContain("\n");
}

describe("parseCase: a valid asm case", () => {
  it("assembles the code, the slot and its defaults", () => {
    const { kase, soloBudget } = parseCase(valid());
    const s = kase.program.slots[0]!;
    expect(s.start).toBe(0x1005);
    expect(s.len).toBe(5);
    expect([...s.old]).toEqual([0x0f, 0x1f, 0x44, 0x00, 0x00]);
    // yes = 0x100e: slot end 0x100a + out (2) + jmp short (2); rel32 = 4.
    expect([...s.new]).toEqual([0xe9, 0x04, 0x00, 0x00, 0x00]);
    expect(s.kind).toBe("nop5->jmp32");
    expect(s.bpResume).toBe(0x100a);
    expect(kase.program.entries).toEqual([0x1000, 0x1000]);
    expect(kase.ops).toEqual([
      { targets: [{ slot: 0, to: "new" }], batch: "per-site", monotonic: true },
      { targets: [{ slot: 0, to: "old" }], batch: "atomic", monotonic: false },
    ]);
    expect(kase.runs[0]!.decisions).toEqual([[0, 2], [1, 3], [4, 5]]);
    // Unpatched: mov + 3 x (nop5, out, jmp, dec, jne) + hlt.
    expect(soloBudget).toBe(17);
  });

  it("round-trips through caseToJson", () => {
    const { kase } = parseCase(valid());
    const json = caseToJson(kase);
    expect((json as { code: { hex: string } }).code.hex.startsWith("b9 03 00 00 00 0f 1f 44")).toBe(true);
    expect(parseCase(json).kase).toStrictEqual(kase);
    expect(parseCase(JSON.parse(JSON.stringify(json))).kase).toStrictEqual(kase);
  });

  it("writes atomically and loads back", () => {
    const dir = mkdtempSync(join(tmpdir(), "xmcfuzz-case-"));
    const path = join(dir, "c.json");
    const { kase } = parseCase(valid());
    writeCaseFile(path, kase);
    expect(readdirSync(dir)).toEqual(["c.json"]);
    expect(readFileSync(path, "utf8")).toMatch(/^\{\n {2}"xmcfuzz": "case",\n/);
    expect(loadCaseFile(path).kase).toStrictEqual(kase);
  });

  it("names multi-instruction and probe versions compactly", () => {
    const asm = ["main:", ".slot a", "  nop2", "  nop3", ".endslot", ".slot p", "  mov eax, 1", ".endslot", "  hlt", "f:", "  ret"];
    const { kase } = parseCase(asmCase(asm, [{ name: "a", new: "jmp f" }, { name: "p", newHex: "cc 01 00 00 00" }]));
    expect(kase.program.slots.map((s) => s.kind)).toEqual(["nop2;nop3->jmp32", "movr32->int3"]);
  });

  it("accepts the hex form with padding after ret", () => {
    const { kase } = parseCase({
      xmcfuzz: "case", version: 2, name: "ret", cores: 2,
      code: { base: 4096, hex: "e9 00 00 00 00 f4" }, entries: [4096],
      slots: [{ name: "r", start: "0x1000", old: "e9 00 00 00 00", newHex: "c3cccccccc" }],
      ops: [{ slots: ["r"] }],
    });
    // The padding is never executed, so it is not part of the kind.
    expect(kase.program.slots[0]!.kind).toBe("jmp32->ret");
    expect(kase.program.slots[0]!.len).toBe(5);
  });

  it("accepts padding that does not decode after ret and after a probe's CC (SPEC 3.2)", () => {
    const { kase } = parseCase({
      xmcfuzz: "case", version: 2, name: "pad", cores: 2,
      code: { base: 4096, hex: "e9 00 00 00 00 b8 e8 00 00 00 f4" }, entries: [4096],
      slots: [
        { name: "r", start: "0x1000", old: "e9 00 00 00 00", newHex: "c3 e8 00 00 00" },
        { name: "p", start: "0x1005", old: "b8 e8 00 00 00", newHex: "cc e8 00 00 00" },
      ],
      ops: [{ slots: ["r", "p"] }],
    });
    expect(kase.program.slots.map((s) => s.kind)).toEqual(["jmp32->ret", "movr32->int3"]);
  });
});

describe("parseCase: rejections", () => {
  it("wrong version", () => rejects({ ...valid(), version: 1 }, "version: expected 2, got 1"));

  it("missing field", () => {
    const { cores: _cores, ...rest } = valid();
    rejects(rest, "cores: missing");
  });

  it("bad type", () => {
    rejects({ ...valid(), cores: "3" }, "cores: expected an integer from 2 to 8");
    rejects({ ...valid(), cores: 9 }, "cores: expected an integer from 2 to 8");
    rejects({ ...valid(), name: 5 }, "name: expected a string, got number 5");
    rejects({ ...valid(), code: { base: -64, asm: JUMP_LABEL } },
      'code.base: expected a non-negative integer or a "0x..." hex string, got -64');
  });

  it("unknown field", () => {
    rejects({ ...valid(), slots: [{ name: "jl", neww: "jmp yes" }] }, 'slots[0]: unknown field "neww"');
  });

  it("wrong number of entries", () => {
    rejects({ ...valid(), entries: ["main"] }, "entries: expected 2 entries (one per program core), got 1");
  });

  it("assembler errors", () => {
    rejects({ ...valid(), code: { base: 0x1000, asm: ["main:", "  hlt", "  frob eax"] } },
      'code.asm: line 3: unknown mnemonic "frob"');
  });

  it("overlapping slots", () => {
    rejects({
      xmcfuzz: "case", version: 2, name: "t", cores: 2,
      code: { base: 0x1000, hex: "0f 1f 44 00 00 f4" }, entries: [0x1000],
      slots: [
        { name: "a", start: 0x1000, len: 5, newHex: "90 90 90 90 90" },
        { name: "b", start: "0x1003", len: 2, newHex: "66 90" },
      ],
      ops: [],
    }, 'slots[1]: overlaps slot "a"');
  });

  it("a version that does not decode to whole instructions", () => {
    // e9 needs 5 bytes; the 3-byte slot ends after 2 of its displacement bytes.
    const asm = ["main:", ".slot s", "  nop3", ".endslot", "  hlt"];
    rejects(asmCase(asm, [{ name: "s", new: ".byte 0xe9, 0, 0" }]),
      "slots[0].new: does not decode to whole instructions ending at the slot end");
  });

  it("a version of the wrong length", () => {
    const asm = ["main:", ".slot s", "  nop3", ".endslot", "  hlt"];
    rejects(asmCase(asm, [{ name: "s", new: "nop2" }]), "slots[0].new: expected 3 bytes (the slot length), got 2");
  });

  it("a probe over several instructions", () => {
    const asm = ["main:", ".slot s", "  nop", "  nop", ".endslot", "  hlt"];
    rejects(asmCase(asm, [{ name: "s", newHex: "cc 90" }]), "slots[0]: the probed version must be one instruction");
  });

  it("a probe over a ret or jmp with padding after it: one instruction, the padding never executed (SPEC 3.2)", () => {
    const ret = ["main:", "  call f", "  hlt", "f:", ".slot s", "  ret", "  .byte 0xcc, 0xcc, 0xcc, 0xcc", ".endslot"];
    expect(parseCase(asmCase(ret, [{ name: "s", newHex: "cc cc cc cc cc" }])).kase.program.slots[0]!.old[0]).toBe(0xc3);
    const jmp = ["main:", ".slot s", "  jmp short done", "  nop3", ".endslot", "done:", "  hlt"];
    expect(parseCase(asmCase(jmp, [{ name: "s", newHex: "cc 03 0f 1f 00" }])).kase.program.slots[0]!.new[0]).toBe(0xcc);
  });

  it("an address past 32 bits", () => {
    const asm = ["main:", ".slot s", "  nop5", ".endslot", "  hlt"];
    rejects(asmCase(asm, [{ name: "s", new: "jmp32 0", bpResume: 0x100001005 }]), "slots[0].bpResume: expected a 32-bit address, got 4294971397");
  });

  it("a branch into a slot", () => {
    // je short mid at 0x1000; slot s = [0x1002, 0x1007) with mid = 0x1004 between nop2 and nop3.
    const asm = ["main:", "  je short mid", ".slot s", "  nop2", "mid:", "  nop3", ".endslot", "  hlt"];
    rejects(asmCase(asm, [{ name: "s", new: "nop5" }]), 'code: branch at 0x1000 targets 0x1004 inside slot "s"');
    const asm2 = ["main:", "  nop2", ".slot s", "  nop2", "mid:", "  nop3", ".endslot", "  hlt"];
    rejects(asmCase(asm2, [{ name: "s", new: ["je short mid", "nop3"] }]),
      'slots[0].new: branch at 0x1002 targets 0x1004 inside slot "s"');
  });

  it("a bpResume inside another slot (the 2013 handler would resume there, as a branch would jump)", () => {
    const asm = ["main:", ".slot s", "  nop5", ".endslot", ".slot t", "  nop2", "mid:", "  nop3", ".endslot", "  hlt"];
    rejects(asmCase(asm, [{ name: "s", new: "nop5", bpResume: "mid" }, { name: "t", new: "nop5" }]), 'slots[0].bpResume: 0x1007 is inside slot "t"');
  });

  it("a call whose return address is inside a slot", () => {
    const asm = ["main:", ".slot s", "  nop5", "  nop", ".endslot", "  hlt", "f:", "  ret"];
    rejects(asmCase(asm, [{ name: "s", new: ["call f", "nop"] }]),
      'slots[0].new: call at 0x1000 returns to 0x1005 inside slot "s"');
  });

  it("an instruction straddling a slot", () => {
    // b8 + the slot's nop4 decodes as one 5-byte mov eax, imm32 running into the slot.
    const asm = ["main:", "  .byte 0xb8", ".slot s", "  nop4", ".endslot", "  hlt"];
    rejects(asmCase(asm, [{ name: "s", new: ["nop2", "nop2"] }]), 'code: instruction at 0x1000 straddles slot "s"');
  });

  it("a non-terminating program", () => {
    rejects(asmCase(["main:", "top: jmp top"], []),
      "cores: core 1 does not terminate within 1000000 instructions with no ops applied");
    // Terminates unpatched; loops once the op is applied. Core 1 halts at once either way.
    const asm = ["exit: hlt", "main:", "top:", ".slot s", "  nop2", ".endslot", "  hlt"];
    rejects(asmCase(asm, [{ name: "s", new: "jmp short top" }], { cores: 3, entries: ["exit", "main"] }),
      "cores: core 2 does not terminate within 1000000 instructions with ops 1..1 applied");
  });

  it("an unknown slot name in an op", () => {
    rejects({ ...valid(), ops: [{ slots: ["jl", "nope"] }] }, 'ops[0].slots[1]: unknown slot "nope"');
    rejects({ ...valid(), ops: [{ slots: ["jl", { slot: "jl", to: "old" }] }] }, 'ops[0].slots[1]: slot "jl" listed twice in one op');
    rejects({ ...valid(), ops: [{ slots: [] }] }, "ops[0].slots: expected at least one slot");
    rejects({ ...valid(), ops: [{ slots: [{ slot: "jl", to: "neww" }] }] },
      'ops[0].slots[0]: "to": expected "new" or "old", got "neww"');
  });

  it("a slot without a .slot in the asm, and the reverse", () => {
    rejects({ ...valid(), slots: [{ name: "jl", new: "jmp yes" }, { name: "x", new: "nop" }] },
      'slots[1].name: no ".slot x" in code.asm');
    rejects({ ...valid(), slots: [], ops: [] }, 'slots: no entry for ".slot jl" of code.asm');
  });

  it("a bad decisions string", () => {
    const v = valid();
    rejects({ ...v, runs: [{ strategy: "s", model: "m", seed: 1, decisions: "0/2 1/1" }] },
      'runs[0].decisions: bad decision "1/1": index must be below an option count of at least 2');
    rejects({ ...v, runs: [{ strategy: "s", model: "m", seed: -1 }] }, "runs[0].seed: expected a non-negative integer");
  });
});

describe("loadCaseFile", () => {
  const dir = mkdtempSync(join(tmpdir(), "xmcfuzz-load-"));

  it("rejects invalid JSON text in one line", () => {
    const path = join(dir, "case.json");
    writeFileSync(path, '{"xmcfuzz": "case",');
    let native = "";
    try {
      JSON.parse('{"xmcfuzz": "case",');
    } catch (e) {
      native = (e as Error).message;
    }
    expect(() => loadCaseFile(path)).toThrow(CaseError);
    expect(() => loadCaseFile(path)).toThrow(`${path}: not valid JSON (${native.replace(/\s*\n\s*/g, " ")})`);
    writeFileSync(path, "");
    expect(() => loadCaseFile(path)).toThrow(`${path}: not valid JSON (Unexpected end of JSON input)`);
  });

  it("rejects a missing file", () => {
    const path = join(dir, "absent.json");
    expect(() => loadCaseFile(path)).toThrow(CaseError);
    expect(() => loadCaseFile(path)).toThrow(/^.*absent\.json: cannot read file \(ENOENT: no such file or directory/);
  });
});
