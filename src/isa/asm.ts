// Two-pass assembler for the SPEC 2 subset. Every instruction's size follows from its form alone
// (rel8 vs rel32 is explicit via `short`), so pass 1 lays out addresses and labels and pass 2
// emits bytes with all labels known. Programs come as text (cases, reports) or as statements
// built in code (the case generator: printing programs for the parser to read back cost more
// than building them).
import { R32, R8 } from "./registers.js";

/** One-line error: `line N: what`. */
export class AsmError extends Error {
  override readonly name = "AsmError";
  constructor(readonly line: number, what: string) {
    super(`line ${line}: ${what}`);
  }
}

export interface Assembly {
  bytes: Uint8Array;
  labels: ReadonlyMap<string, number>;
  slots: readonly { name: string; start: number; len: number; line: number }[];
}

/** An operand: a number, or a label resolved in pass 2. */
export type Operand = number | string;
type Lookup = (name: string) => number | undefined;

/** An instruction or data: its size is known in pass 1, its bytes in pass 2 (`line` for errors). */
export interface Code {
  readonly size: number;
  encode(at: number, look: Lookup, line: number): readonly number[];
}

/** A statement built in code: code, a label, or a slot's start or end (`.slot NAME`, `.endslot`). */
export type Stmt = Code | { readonly label: string } | { readonly slot: string } | typeof END_SLOT;
export const END_SLOT = { endslot: true } as const;

const LABEL = /^[A-Za-z_.][A-Za-z0-9_.]*$/;
const LABEL_DEF = /^([A-Za-z_.][A-Za-z0-9_.]*)\s*:/;
const REGS = new Set<string>([...R32, ...R8, "ah", "ch", "dh", "bh"]);
/** Guards `.org` against allocating absurd images. */
const MAX_IMAGE = 1 << 24;

export type Reg32 = (typeof R32)[number];
export type Reg8 = (typeof R8)[number];

const FIXED = {
  nop: [0x90], nop1: [0x90], nop2: [0x66, 0x90],
  nop3: [0x0f, 0x1f, 0x00],
  nop4: [0x0f, 0x1f, 0x40, 0x00],
  nop5: [0x0f, 0x1f, 0x44, 0x00, 0x00],
  nop7: [0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00],
  nop8: [0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
  ret: [0xc3], int3: [0xcc], cpuid: [0x0f, 0xa2], serialize: [0x0f, 0x01, 0xe8],
  mfence: [0x0f, 0xae, 0xf0], pause: [0xf3, 0x90], cli: [0xfa], sti: [0xfb],
  ud2: [0x0f, 0x0b], hlt: [0xf4],
} satisfies Record<string, readonly number[]>;
export type FixedMnemonic = keyof typeof FIXED;

/** The bytes the assembler emits for an operand-less mnemonic (`nop5`), if it is one. */
export function fixedEncoding(mnemonic: string): readonly number[] | undefined {
  return Object.hasOwn(FIXED, mnemonic) ? FIXED[mnemonic as FixedMnemonic] : undefined;
}

/** Branch opcodes: [rel8 form or null, rel32 form]. */
const BRANCH = {
  jmp: [[0xeb], [0xe9]],
  call: [null, [0xe8]],
  je: [[0x74], [0x0f, 0x84]], jz: [[0x74], [0x0f, 0x84]],
  jne: [[0x75], [0x0f, 0x85]], jnz: [[0x75], [0x0f, 0x85]],
} satisfies Record<string, readonly [readonly number[] | null, readonly number[]]>;
export type BranchMnemonic = keyof typeof BRANCH;

// Own keys only: `constructor` or `__proto__` is no mnemonic.
const isFixed = (mn: string): mn is FixedMnemonic => Object.hasOwn(FIXED, mn);
const isBranch = (mn: string): mn is BranchMnemonic => Object.hasOwn(BRANCH, mn);

function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

function resolve(v: Operand, look: Lookup, line: number): number {
  if (typeof v === "number") return v;
  const a = look(v);
  if (a === undefined) throw new AsmError(line, `undefined label "${v}"`);
  return a;
}

// ---------------------------------------------------------------- code, by instruction form

/** Bytes as they are (`.byte`, `.org` padding, operand-less instructions). */
export function data(bytes: readonly number[]): Code {
  return new Data(bytes);
}

class Data implements Code {
  readonly size: number;
  constructor(private readonly bytes: readonly number[]) {
    this.size = bytes.length;
  }

  encode(): readonly number[] {
    return this.bytes;
  }
}

/** An operand-less instruction (`nop5`, `ret`, `hlt`, ...). */
export function fixed(mnemonic: FixedMnemonic): Code {
  return data(FIXED[mnemonic]);
}

/** `jmp`/`call`/`je`/`jne` to a target; `short`: the rel8 form (not for call). */
export function branch(mnemonic: BranchMnemonic, target: Operand, short = false): Code {
  const opcode = BRANCH[mnemonic][short ? 0 : 1]!;
  const size = opcode.length + (short ? 1 : 4);
  return {
    size,
    encode: (at, look, line) => {
      const rel = resolve(target, look, line) - (at + size);
      if (!short) return [...opcode, ...le32(rel | 0)];
      if (rel < -128 || rel > 127) throw new AsmError(line, "rel8 target out of range");
      return [...opcode, rel & 0xff];
    },
  };
}

export function inc(reg: Reg32): Code {
  return data([0x40 + R32.indexOf(reg)]);
}

export function dec(reg: Reg32): Code {
  return data([0x48 + R32.indexOf(reg)]);
}

/** `add`/`cmp r32, imm8` (imm8 in -128..127). */
export function arith(mnemonic: "add" | "cmp", reg: Reg32, imm8: number): Code {
  return data([0x83, (mnemonic === "add" ? 0xc0 : 0xf8) + R32.indexOf(reg), imm8 & 0xff]);
}

export function out(port: number): Code {
  return data([0xe6, port]);
}

/** `mov r8, imm8` (imm8 in -128..255). */
export function movR8(reg: Reg8, imm8: number): Code {
  return data([0xb0 + R8.indexOf(reg), imm8 & 0xff]);
}

/** `mov r32, imm32` (a number or a label's address). */
export function movR32(reg: Reg32, imm32: Operand): Code {
  return { size: 5, encode: (_at, look, line) => [0xb8 + R32.indexOf(reg), ...le32(resolve(imm32, look, line))] };
}

/** `mov eax, [abs]`. */
export function load(addr: Operand): Code {
  return { size: 5, encode: (_at, look, line) => [0xa1, ...le32(resolve(addr, look, line))] };
}

/** `mov [abs], eax`. */
export function store(addr: Operand): Code {
  return { size: 5, encode: (_at, look, line) => [0xa3, ...le32(resolve(addr, look, line))] };
}

// ---------------------------------------------------------------- the two passes

/** Pass 1: lays out statements in order, checking labels and slots; `finish` is pass 2. */
class Layout {
  readonly labels = new Map<string, number>();
  private readonly slots: { name: string; start: number; len: number; line: number }[] = [];
  private readonly placed: { code: Code; addr: number; line: number }[] = [];
  private open: { name: string; start: number; line: number } | undefined;
  loc: number;

  constructor(readonly base: number, private readonly outer: Lookup) {
    this.loc = base;
  }

  add(s: Stmt, line: number): void {
    if ("size" in s) this.place(s, line);
    else if ("label" in s) this.label(s.label, line);
    else if ("slot" in s) this.openSlot(s.slot, line);
    else this.closeSlot(line);
  }

  place(code: Code, line: number): void {
    this.placed.push({ code, addr: this.loc, line });
    this.loc += code.size;
  }

  label(name: string, line: number): void {
    if (this.labels.has(name)) throw new AsmError(line, `duplicate label "${name}"`);
    this.labels.set(name, this.loc);
  }

  openSlot(name: string, line: number): void {
    if (this.open) throw new AsmError(line, `nested .slot "${name}" inside "${this.open.name}"`);
    if (!LABEL.test(name)) throw new AsmError(line, `bad slot name "${name}"`);
    if (this.slots.some((x) => x.name === name)) throw new AsmError(line, `duplicate slot "${name}"`);
    this.open = { name, start: this.loc, line };
  }

  closeSlot(line: number): void {
    if (!this.open) throw new AsmError(line, ".endslot without .slot");
    this.slots.push({ name: this.open.name, start: this.open.start, len: this.loc - this.open.start, line: this.open.line });
    this.open = undefined;
  }

  finish(): Assembly {
    if (this.open) throw new AsmError(this.open.line, `unclosed .slot "${this.open.name}"`);
    const look: Lookup = (name) => this.labels.get(name) ?? this.outer(name);
    const bytes = new Uint8Array(this.loc - this.base);
    for (const p of this.placed) {
      const code = p.code.encode(p.addr, look, p.line);
      // A loop: typed-array set() from a plain array costs more than copying a few bytes.
      for (let i = 0, at = p.addr - this.base; i < code.length; i++) bytes[at + i] = code[i]!;
    }
    return { bytes, labels: this.labels, slots: this.slots };
  }
}

/** Assembles `source` placed at `base`. Throws AsmError. */
export function assemble(source: string | readonly string[], base: number): Assembly {
  return parse(source, new Layout(base, () => undefined)).finish();
}

/** Assembles a snippet placed at `addr`; its own labels shadow those in `labels`. */
export function assembleAt(source: string | readonly string[], addr: number, labels: ReadonlyMap<string, number>): Uint8Array {
  return parse(source, new Layout(addr, (name) => labels.get(name))).finish().bytes;
}

/**
 * Assembles statements built in code, placed at `base`; `labels` resolve what they do not define.
 * Statement i is line i + 1 in errors.
 */
export function assembleStmts(stmts: readonly Stmt[], base: number, labels?: ReadonlyMap<string, number>): Assembly {
  const layout = new Layout(base, (name) => labels?.get(name));
  for (let i = 0; i < stmts.length; i++) layout.add(stmts[i]!, i + 1);
  return layout.finish();
}

// ---------------------------------------------------------------- text

function parseNum(tok: string): number | undefined {
  const m = /^(-?)(0x[0-9a-f]+|[0-9]+)$/i.exec(tok.trim());
  if (!m) return undefined;
  const v = Number(m[2]);
  return m[1] ? -v : v;
}

function stripComment(s: string): string {
  const i = s.search(/[;#]/);
  return i < 0 ? s : s.slice(0, i);
}

/** Pass 1 over text: each line's labels, then its directive or instruction. */
function parse(source: string | readonly string[], layout: Layout): Layout {
  const lines = typeof source === "string" ? source.split(/\r?\n/) : source;
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    let s = stripComment(lines[i]!).trim();
    for (let m = LABEL_DEF.exec(s); m; m = LABEL_DEF.exec(s)) {
      layout.label(m[1]!, line);
      s = s.slice(m[0].length).trim();
    }
    if (!s) continue;
    const sp = s.search(/\s/);
    const mn = (sp < 0 ? s : s.slice(0, sp)).toLowerCase();
    const rest = sp < 0 ? "" : s.slice(sp + 1).trim();

    if (mn === ".slot") {
      layout.openSlot(rest, line);
    } else if (mn === ".endslot") {
      layout.closeSlot(line);
      if (rest) throw new AsmError(line, `unexpected "${rest}"`);
    } else if (mn === ".org") {
      const to = parseNum(rest);
      if (to === undefined) throw new AsmError(line, `bad operand "${rest}"`);
      if (to < layout.loc) throw new AsmError(line, `.org ${rest} moves backwards`);
      if (to - layout.base > MAX_IMAGE) throw new AsmError(line, `.org ${rest} too far`);
      // Pad with int3, as linkers do: running into padding traps.
      layout.place(data(new Array<number>(to - layout.loc).fill(0xcc)), line);
    } else if (mn === ".byte") {
      layout.place(byteList(rest, line), line);
    } else {
      layout.place(instr(mn, rest, line), line);
    }
  }
  return layout;
}

function byteList(rest: string, line: number): Code {
  const toks = rest.split(/[\s,]+/).filter((t) => t !== "");
  if (toks.length === 0) throw new AsmError(line, ".byte needs at least one value");
  return data(toks.map((t) => {
    const v = parseNum(t);
    if (v === undefined || v < -128 || v > 255) throw new AsmError(line, `bad byte "${t}"`);
    return v & 0xff;
  }));
}

function value(tok: string, line: number): Operand {
  const n = parseNum(tok);
  if (n !== undefined) return n;
  if (LABEL.test(tok) && !REGS.has(tok.toLowerCase())) return tok;
  throw new AsmError(line, `bad operand "${tok}"`);
}

/** A label or a 32-bit address (le32 would silently wrap a larger one). */
function address(tok: string, line: number): Operand {
  const v = value(tok, line);
  if (typeof v === "number" && (v < 0 || v > 0xffffffff)) throw new AsmError(line, `address ${tok} out of range`);
  return v;
}

function imm(tok: string, lo: number, hi: number, what: string, line: number): number {
  const v = parseNum(tok);
  if (v === undefined) throw new AsmError(line, `bad operand "${tok}"`);
  if (v < lo || v > hi) throw new AsmError(line, `${what} ${tok} out of range`);
  return v;
}

function reg32(tok: string, line: number): Reg32 {
  const r = R32.find((x) => x === tok.toLowerCase());
  if (r === undefined) throw new AsmError(line, `bad operand "${tok}"`);
  return r;
}

/** `[x]` / `dword [x]` / `dword ptr [x]` → x, else undefined. */
function memOperand(tok: string): string | undefined {
  const m = /^(?:dword\s+(?:ptr\s+)?)?\[\s*([^\]]*?)\s*\]$/i.exec(tok);
  return m ? m[1] : undefined;
}

function instr(mn: string, rest: string, line: number): Code {
  const ops = rest === "" ? [] : rest.split(",").map((t) => t.trim());
  const arity = (n: number): void => {
    if (ops.length !== n) throw new AsmError(line, `${mn} takes ${n} operand${n === 1 ? "" : "s"}`);
  };

  if (isFixed(mn)) {
    arity(0);
    return fixed(mn);
  }
  if (mn === "nop6") throw new AsmError(line, "nop6 is not encodable (needs a 66 prefix, #UD here)");

  if (isBranch(mn)) {
    arity(1);
    const sm = /^short\s+(.*)$/i.exec(ops[0]!);
    const target = address(sm ? sm[1]!.trim() : ops[0]!, line);
    if (sm && !BRANCH[mn][0]) throw new AsmError(line, `${mn} has no short form`);
    return branch(mn, target, sm !== null);
  }

  switch (mn) {
    case "inc": case "dec": {
      arity(1);
      const r = reg32(ops[0]!, line);
      return mn === "inc" ? inc(r) : dec(r);
    }
    case "add": case "cmp": {
      arity(2);
      const r = reg32(ops[0]!, line);
      return arith(mn, r, imm(ops[1]!, -128, 127, "imm8", line));
    }
    case "out": {
      if (ops.length !== 1 && ops.length !== 2) throw new AsmError(line, "out takes a port and optionally al");
      if (ops.length === 2 && ops[1]!.toLowerCase() !== "al") throw new AsmError(line, `bad operand "${ops[1]}"`);
      return out(imm(ops[0]!, 0, 255, "port", line));
    }
    case "mov":
      arity(2);
      return mov(ops[0]!, ops[1]!, line);
  }
  throw new AsmError(line, `unknown mnemonic "${mn}"`);
}

function mov(dst: string, src: string, line: number): Code {
  const r8 = R8.find((x) => x === dst.toLowerCase());
  if (r8 !== undefined) return movR8(r8, imm(src, -128, 255, "imm8", line));
  const dmem = memOperand(dst);
  if (dmem !== undefined) {
    if (src.toLowerCase() !== "eax") throw new AsmError(line, `bad operand "${src}" (only mov [abs], eax)`);
    return store(address(dmem, line));
  }
  const r = reg32(dst, line);
  const smem = memOperand(src);
  if (smem !== undefined) {
    if (r !== "eax") throw new AsmError(line, `bad operand "${dst}" (only mov eax, [abs])`);
    return load(address(smem, line));
  }
  const v = value(src, line);
  if (typeof v === "number" && (v < -0x80000000 || v > 0xffffffff)) throw new AsmError(line, `imm32 ${src} out of range`);
  return movR32(r, v);
}
