// Two-pass assembler for the SPEC 2 subset. Every instruction's size follows from its text
// alone (rel8 vs rel32 is explicit via `short`), so pass 1 lays out addresses and labels and
// pass 2 emits bytes with all labels known.

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

type Val = { readonly n: number } | { readonly label: string };
type Lookup = (name: string) => number | undefined;

/** A laid-out statement: its size is known in pass 1, its bytes in pass 2. */
interface Stmt {
  readonly line: number;
  readonly addr: number;
  readonly size: number;
  gen(addr: number, look: Lookup): readonly number[];
}

const LABEL = /^[A-Za-z_.][A-Za-z0-9_.]*$/;
const LABEL_DEF = /^([A-Za-z_.][A-Za-z0-9_.]*)\s*:/;
const R32 = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"];
const R8 = ["al", "cl", "dl", "bl"];
const REGS = new Set([...R32, ...R8, "ah", "ch", "dh", "bh"]);
/** Guards `.org` against allocating absurd images. */
const MAX_IMAGE = 1 << 24;

const FIXED: Readonly<Record<string, readonly number[]>> = {
  nop: [0x90], nop1: [0x90], nop2: [0x66, 0x90],
  nop3: [0x0f, 0x1f, 0x00],
  nop4: [0x0f, 0x1f, 0x40, 0x00],
  nop5: [0x0f, 0x1f, 0x44, 0x00, 0x00],
  nop7: [0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00],
  nop8: [0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
  ret: [0xc3], int3: [0xcc], cpuid: [0x0f, 0xa2], serialize: [0x0f, 0x01, 0xe8],
  mfence: [0x0f, 0xae, 0xf0], pause: [0xf3, 0x90], cli: [0xfa], sti: [0xfb],
  ud2: [0x0f, 0x0b], hlt: [0xf4],
};

/** Branch opcodes: [rel8 form or null, rel32 form]. */
const BRANCH: Readonly<Record<string, readonly [readonly number[] | null, readonly number[]]>> = {
  jmp: [[0xeb], [0xe9]],
  call: [null, [0xe8]],
  je: [[0x74], [0x0f, 0x84]], jz: [[0x74], [0x0f, 0x84]],
  jne: [[0x75], [0x0f, 0x85]], jnz: [[0x75], [0x0f, 0x85]],
};

function parseNum(tok: string): number | undefined {
  const m = /^(-?)(0x[0-9a-f]+|[0-9]+)$/i.exec(tok.trim());
  if (!m) return undefined;
  const v = Number(m[2]);
  return m[1] ? -v : v;
}

function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

function stripComment(s: string): string {
  const i = s.search(/[;#]/);
  return i < 0 ? s : s.slice(0, i);
}

/** Assembles `source` placed at `base`. Throws AsmError. */
export function assemble(source: string | readonly string[], base: number): Assembly {
  return run(source, base, () => undefined);
}

/** Assembles a snippet placed at `addr`; its own labels shadow those in `labels`. */
export function assembleAt(source: string | readonly string[], addr: number, labels: ReadonlyMap<string, number>): Uint8Array {
  return run(source, addr, (name) => labels.get(name)).bytes;
}

function run(source: string | readonly string[], base: number, outer: Lookup): Assembly {
  const lines = typeof source === "string" ? source.split(/\r?\n/) : source;
  const labels = new Map<string, number>();
  const slots: { name: string; start: number; len: number; line: number }[] = [];
  const stmts: Stmt[] = [];
  let open: { name: string; start: number; line: number } | undefined;
  let loc = base;

  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    let s = stripComment(lines[i]!).trim();
    for (let m = LABEL_DEF.exec(s); m; m = LABEL_DEF.exec(s)) {
      if (labels.has(m[1]!)) throw new AsmError(line, `duplicate label "${m[1]}"`);
      labels.set(m[1]!, loc);
      s = s.slice(m[0].length).trim();
    }
    if (!s) continue;
    const sp = s.search(/\s/);
    const mn = (sp < 0 ? s : s.slice(0, sp)).toLowerCase();
    const rest = sp < 0 ? "" : s.slice(sp + 1).trim();

    if (mn === ".slot") {
      if (open) throw new AsmError(line, `nested .slot "${rest}" inside "${open.name}"`);
      if (!LABEL.test(rest)) throw new AsmError(line, `bad slot name "${rest}"`);
      if (slots.some((x) => x.name === rest)) throw new AsmError(line, `duplicate slot "${rest}"`);
      open = { name: rest, start: loc, line };
      continue;
    }
    if (mn === ".endslot") {
      if (!open) throw new AsmError(line, ".endslot without .slot");
      if (rest) throw new AsmError(line, `unexpected "${rest}"`);
      slots.push({ name: open.name, start: open.start, len: loc - open.start, line: open.line });
      open = undefined;
      continue;
    }
    if (mn === ".org") {
      const to = parseNum(rest);
      if (to === undefined) throw new AsmError(line, `bad operand "${rest}"`);
      if (to < loc) throw new AsmError(line, `.org ${rest} moves backwards`);
      if (to - base > MAX_IMAGE) throw new AsmError(line, `.org ${rest} too far`);
      // Pad with int3, as linkers do: running into padding traps.
      const fill = new Array<number>(to - loc).fill(0xcc);
      stmts.push({ line, addr: loc, size: fill.length, gen: () => fill });
      loc = to;
      continue;
    }
    if (mn === ".byte") {
      const toks = rest.split(/[\s,]+/).filter((t) => t !== "");
      if (toks.length === 0) throw new AsmError(line, ".byte needs at least one value");
      const out = toks.map((t) => {
        const v = parseNum(t);
        if (v === undefined || v < -128 || v > 255) throw new AsmError(line, `bad byte "${t}"`);
        return v & 0xff;
      });
      stmts.push({ line, addr: loc, size: out.length, gen: () => out });
      loc += out.length;
      continue;
    }
    const st = instr(mn, rest, line, loc);
    stmts.push(st);
    loc += st.size;
  }
  if (open) throw new AsmError(open.line, `unclosed .slot "${open.name}"`);

  const look: Lookup = (name) => labels.get(name) ?? outer(name);
  const bytes = new Uint8Array(loc - base);
  for (const st of stmts) {
    const b = st.gen(st.addr, look);
    bytes.set(b, st.addr - base);
  }
  return { bytes, labels, slots };
}

function value(tok: string, line: number): Val {
  const n = parseNum(tok);
  if (n !== undefined) return { n };
  if (LABEL.test(tok) && !REGS.has(tok.toLowerCase())) return { label: tok };
  throw new AsmError(line, `bad operand "${tok}"`);
}

function resolve(v: Val, look: Lookup, line: number): number {
  if ("n" in v) return v.n;
  const a = look(v.label);
  if (a === undefined) throw new AsmError(line, `undefined label "${v.label}"`);
  return a;
}

function imm(tok: string, lo: number, hi: number, what: string, line: number): number {
  const v = parseNum(tok);
  if (v === undefined) throw new AsmError(line, `bad operand "${tok}"`);
  if (v < lo || v > hi) throw new AsmError(line, `${what} ${tok} out of range`);
  return v;
}

function reg32(tok: string, line: number): number {
  const r = R32.indexOf(tok.toLowerCase());
  if (r < 0) throw new AsmError(line, `bad operand "${tok}"`);
  return r;
}

/** `[x]` / `dword [x]` / `dword ptr [x]` → x, else undefined. */
function memOperand(tok: string): string | undefined {
  const m = /^(?:dword\s+(?:ptr\s+)?)?\[\s*([^\]]*?)\s*\]$/i.exec(tok);
  return m ? m[1] : undefined;
}

function fixedStmt(line: number, addr: number, bytes: readonly number[]): Stmt {
  return { line, addr, size: bytes.length, gen: () => bytes };
}

function instr(mn: string, rest: string, line: number, addr: number): Stmt {
  const ops = rest === "" ? [] : rest.split(",").map((t) => t.trim());
  const arity = (n: number): void => {
    if (ops.length !== n) throw new AsmError(line, `${mn} takes ${n} operand${n === 1 ? "" : "s"}`);
  };

  const fixed = FIXED[mn];
  if (fixed) {
    arity(0);
    return fixedStmt(line, addr, fixed);
  }
  if (mn === "nop6") throw new AsmError(line, "nop6 is not encodable (needs a 66 prefix, #UD here)");

  const br = BRANCH[mn];
  if (br) {
    arity(1);
    const sm = /^short\s+(.*)$/i.exec(ops[0]!);
    const tgt = value(sm ? sm[1]!.trim() : ops[0]!, line);
    const opc = sm ? br[0] : br[1];
    if (!opc) throw new AsmError(line, `${mn} has no short form`);
    const size = opc.length + (sm ? 1 : 4);
    return {
      line, addr, size,
      gen: (at, look) => {
        const rel = resolve(tgt, look, line) - (at + size);
        if (sm) {
          if (rel < -128 || rel > 127) throw new AsmError(line, "rel8 target out of range");
          return [...opc, rel & 0xff];
        }
        return [...opc, ...le32(rel | 0)];
      },
    };
  }

  switch (mn) {
    case "inc": case "dec":
      arity(1);
      return fixedStmt(line, addr, [(mn === "inc" ? 0x40 : 0x48) + reg32(ops[0]!, line)]);
    case "add": case "cmp": {
      arity(2);
      const r = reg32(ops[0]!, line);
      const v = imm(ops[1]!, -128, 127, "imm8", line);
      return fixedStmt(line, addr, [0x83, (mn === "add" ? 0xc0 : 0xf8) + r, v & 0xff]);
    }
    case "out": {
      if (ops.length !== 1 && ops.length !== 2) throw new AsmError(line, "out takes a port and optionally al");
      if (ops.length === 2 && ops[1]!.toLowerCase() !== "al") throw new AsmError(line, `bad operand "${ops[1]}"`);
      return fixedStmt(line, addr, [0xe6, imm(ops[0]!, 0, 255, "port", line)]);
    }
    case "mov": {
      arity(2);
      const dst = ops[0]!, src = ops[1]!;
      const r8 = R8.indexOf(dst.toLowerCase());
      if (r8 >= 0) return fixedStmt(line, addr, [0xb0 + r8, imm(src, -128, 255, "imm8", line) & 0xff]);
      const dmem = memOperand(dst);
      if (dmem !== undefined) {
        if (src.toLowerCase() !== "eax") throw new AsmError(line, `bad operand "${src}" (only mov [abs], eax)`);
        const a = value(dmem, line);
        return { line, addr, size: 5, gen: (_at, look) => [0xa3, ...le32(resolve(a, look, line))] };
      }
      const r = reg32(dst, line);
      const smem = memOperand(src);
      if (smem !== undefined) {
        if (r !== 0) throw new AsmError(line, `bad operand "${dst}" (only mov eax, [abs])`);
        const a = value(smem, line);
        return { line, addr, size: 5, gen: (_at, look) => [0xa1, ...le32(resolve(a, look, line))] };
      }
      const v = value(src, line);
      if ("n" in v && (v.n < -0x80000000 || v.n > 0xffffffff)) throw new AsmError(line, `imm32 ${src} out of range`);
      return { line, addr, size: 5, gen: (_at, look) => [0xb8 + r, ...le32(resolve(v, look, line))] };
    }
  }
  throw new AsmError(line, `unknown mnemonic "${mn}"`);
}
