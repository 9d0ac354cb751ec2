import type { Case, CaseScope, PatchOp, Slot } from "../types.js";
import { arith, assembleStmts, branch, data, dec, END_SLOT, fixed, inc, movR32, movR8, out, type Stmt, store } from "../isa/asm.js";
import { DATA_BASE } from "../types.js";
import { decode } from "../isa/decode.js";

// Structure-aware case generation (SPEC 9): terminating programs whose cores loop through shared
// blocks of patch sites; each site's `out` depends on the version executed. Patch kinds come from
// real practice, plus random same-length rewrites. Programs are built as assembler statements,
// named after their text forms (`movR8("al", 0x3f)` is `mov al, 0x3f`), rather than as text
// that the assembler would only parse back.

export type Rng = () => number;

const int = (rng: Rng, lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
const byte = (rng: Rng) => int(rng, 0, 255);
const label = (name: string): Stmt => ({ label: name });
/** `.slot id`, the body, `.endslot`. */
const slot = (id: string, ...body: Stmt[]): Stmt[] => [{ slot: id }, ...body, END_SLOT];

/** One patch site: its statements (with a slot), the slot's new version, and helper functions. */
interface Site {
  readonly lines: Stmt[];
  readonly newCode: Stmt[];
  readonly kind: string;
  readonly functions: Stmt[];
}

type SiteMaker = (rng: Rng, id: string, port: number) => Site;

/** Two different bytes: what a site's two versions print (SPEC 9: the out events tell them apart). */
function twoBytes(rng: Rng): [number, number] {
  const a = byte(rng);
  return [a, (a + int(rng, 1, 255)) & 0xff];
}

/** `nop5` -> `jmp id_yes` (or `nop2` -> `jmp short id_yes`). */
const jumpLabel = (size: 5 | 2): SiteMaker => (rng, id, port) => {
  const [no, yes] = twoBytes(rng);
  return {
    lines: [
      ...slot(id, fixed(size === 5 ? "nop5" : "nop2")),
      movR8("al", no), out(port), branch("jmp", `${id}_done`),
      label(`${id}_yes`), movR8("al", yes), out(port),
      label(`${id}_done`),
    ],
    newCode: [branch("jmp", `${id}_yes`, size === 2)],
    kind: size === 5 ? "nop5->jmp32" : "nop2->jmp8",
    functions: [],
  };
};

/** `name: mov al, imm8; out port; ret`. */
const outFn = (value: number, name: string, port: number): Stmt[] => [label(name), movR8("al", value), out(port), fixed("ret")];

const staticCall: SiteMaker = (rng, id, port) => {
  const [a, b] = twoBytes(rng);
  return {
    lines: slot(id, branch("call", `${id}_a`)),
    newCode: [branch("call", `${id}_b`)],
    kind: "call->call",
    functions: [...outFn(a, `${id}_a`, port), ...outFn(b, `${id}_b`, port)],
  };
};

const ftrace: SiteMaker = (rng, id, port) => ({
  lines: slot(id, fixed("nop5")),
  newCode: [branch("call", `${id}_t`)],
  kind: "nop5->call",
  functions: outFn(byte(rng), `${id}_t`, port),
});

const imm8: SiteMaker = (rng, id, port) => {
  const [a, b] = twoBytes(rng);
  return {
    lines: [...slot(id, movR8("al", a)), out(port)],
    newCode: [movR8("al", b)],
    kind: "movr8->movr8",
    functions: [],
  };
};

const kprobeNop: SiteMaker = (rng, id, port) => ({
  lines: [...slot(id, fixed("nop")), movR8("al", byte(rng)), out(port)],
  newCode: [fixed("int3")],
  kind: "nop->int3",
  functions: [],
});

/** `mov eax, imm32` -> `int3` over its opcode byte. */
const kprobeLong: SiteMaker = (rng, id, port) => {
  const imm = [byte(rng), byte(rng), byte(rng), byte(rng)];
  return {
    lines: [...slot(id, data([0xb8, ...imm])), out(port)],
    newCode: [data([0xcc, ...imm])],
    kind: "movr32->int3",
    functions: [],
  };
};

/** `jmp32 next` -> `ret; int3 x4`: the block returns early (Linux's static_call RET patching). */
const retInsertion: SiteMaker = (rng, id, port) => ({
  lines: [...slot(id, branch("jmp", `${id}_cont`)), label(`${id}_cont`), movR8("al", byte(rng)), out(port)],
  newCode: [fixed("ret"), fixed("int3"), fixed("int3"), fixed("int3"), fixed("int3")],
  kind: "jmp32->ret",
  functions: [],
});

const multiInstruction: SiteMaker = (rng, id, port) => ({
  lines: [...slot(id, fixed("nop2"), fixed("nop3")), movR8("al", byte(rng)), out(port)],
  newCode: [branch("call", `${id}_f`)],
  kind: "nop2;nop3->call",
  functions: outFn(byte(rng), `${id}_f`, port),
});

const INC_DEC: readonly Stmt[] = [inc("eax"), dec("eax"), inc("edx"), dec("ebx"), inc("esi"), dec("edi")];

/** Non-branching instructions that leave ecx (loop counter) and esp alone. */
const FILLERS: readonly { len: number; code: (rng: Rng) => Stmt }[] = [
  { len: 1, code: () => fixed("nop") },
  { len: 1, code: (r) => pick(r, INC_DEC) },
  { len: 2, code: () => fixed("nop2") },
  { len: 2, code: (r) => movR8("al", byte(r)) },
  { len: 2, code: (r) => movR8("dl", byte(r)) },
  { len: 3, code: () => fixed("nop3") },
  { len: 3, code: (r) => arith("add", "eax", int(r, -128, 127)) },
  { len: 4, code: () => fixed("nop4") },
  { len: 5, code: () => fixed("nop5") },
  { len: 5, code: (r) => movR32("ebx", int(r, 0, 0xffff)) },
];

/** Random straight-line code of exactly `len` bytes (no branch; ecx and esp untouched). */
export function fill(rng: Rng, len: number): Stmt[] {
  const out: Stmt[] = [];
  let left = len;
  while (left > 0) {
    const f = pick(rng, FILLERS.filter((x) => x.len <= left));
    out.push(f.code(rng));
    left -= f.len;
  }
  return out;
}

/** One random straight-line instruction (a filler). */
export function filler(rng: Rng): Stmt {
  return pick(rng, FILLERS).code(rng);
}

const bytesOf = (stmts: readonly Stmt[]) => assembleStmts(stmts, 0).bytes;

/**
 * What straight-line filler code does to al, as a function of al before it: "=v" (sets it to v)
 * or "+k" (adds k, mod 256). Two versions of the same form that differ print different bytes for
 * every al before the slot; a set and an add agree for one (the set's value less the add).
 */
export function alEffect(bytes: Uint8Array): string {
  let set: number | undefined, add = 0;
  for (let o = 0; o < bytes.length;) {
    const d = decode(bytes, o, bytes.length);
    if ("incomplete" in d) break;
    if (d.op === "movr8" && d.reg === 0) [set, add] = [d.imm, 0];
    else if ((d.op === "inc" || d.op === "dec" || d.op === "add") && d.reg === 0) add += d.op === "inc" ? 1 : d.op === "dec" ? -1 : d.imm;
    o += d.len;
  }
  return set === undefined ? `+${add & 0xff}` : `=${(set + add) & 0xff}`;
}

/**
 * A random same-length rewrite of straight-line code whose `out` tells the versions apart (SPEC 9):
 * the new version leaves another al than the old, whatever al was before (both set it, or both
 * add to it, by different amounts).
 */
const rewrite: SiteMaker = (rng, id, port) => {
  const len = int(rng, 1, 6);
  const old = fill(rng, len), oldAl = alEffect(bytesOf(old));
  const apart = (stmts: readonly Stmt[]) => {
    const al = alEffect(bytesOf(stmts));
    return al[0] === oldAl[0] && al !== oldAl;
  };
  // Short rewrites often draw code with the same effect on al again (one byte: nop or one of six
  // inc/dec). A few draws, then a fixed pick: a generator fed a spent byte buffer (the jsfuzz
  // target's) repeats itself.
  let neu = fill(rng, len);
  for (let tries = 0; tries < 64 && !apart(neu); tries++) neu = fill(rng, len);
  if (!apart(neu)) {
    const nops = (n: number) => Array.from({ length: n }, () => fixed("nop"));
    // Set al to another value than the old code (which then has a 2-byte mov al), or add 1 where it adds another amount, else none.
    if (oldAl[0] === "=") neu = [movR8("al", oldAl === "=90" ? 91 : 90), ...nops(len - 2)];
    else neu = [oldAl === "+1" ? fixed("nop") : inc("eax"), ...nops(len - 1)];
  }
  return {
    lines: [...slot(id, ...old), out(port)],
    newCode: neu,
    kind: "rewrite",
    functions: [],
  };
};

/** Every patch kind the generator draws, by the kind its slots get (`rewrite`: `rewrite1`..`rewrite6`). */
const MAKERS: ReadonlyMap<string, SiteMaker> = new Map([
  ["nop5->jmp32", jumpLabel(5)], ["nop2->jmp8", jumpLabel(2)], ["call->call", staticCall], ["nop5->call", ftrace],
  ["movr8->movr8", imm8], ["nop->int3", kprobeNop], ["movr32->int3", kprobeLong], ["jmp32->ret", retInsertion],
  ["nop2;nop3->call", multiInstruction], ["rewrite", rewrite],
]);

export const GENERATED_KINDS: readonly string[] = [...MAKERS.keys()];

/** The site makers a scope draws from. */
function makersOf(scope: CaseScope): SiteMaker[] {
  if (!scope.slotKinds?.length) return [...MAKERS.values()];
  return scope.slotKinds.map((k) => {
    const maker = MAKERS.get(k);
    if (!maker) throw new Error(`unknown patch kind "${k}" (the generator makes ${GENERATED_KINDS.join(", ")})`);
    return maker;
  });
}

/** A generated case: every program core terminates whatever the patches do. */
export function generateCase(rng: Rng, opts: CaseScope = {}): Case {
  const makers = makersOf(opts);
  const cores = int(rng, opts.minCores ?? 2, opts.maxCores ?? 8);
  const nBlocks = int(rng, 1, 3);
  const blocks: Stmt[][] = [];
  const functions: Stmt[] = [];
  const sites: { id: string; site: Site }[] = [];
  for (let b = 0; b < nBlocks; b++) {
    const lines = [label(`block${b}`)];
    for (let i = 0, n = int(rng, 1, 2); i < n; i++) {
      const id = `s${sites.length}`;
      const site = pick(rng, makers)(rng, id, 0x10 + sites.length);
      sites.push({ id, site });
      lines.push(...site.lines);
      functions.push(...site.functions);
      if (rng() < 0.2) lines.push(store(DATA_BASE + 4 * int(rng, 0, 15)));
    }
    lines.push(fixed("ret"));
    blocks.push(lines);
  }
  // Each core's loop calls 1..3 random blocks; a block no core called is then given to a random
  // core, so that every slot is reached (and every op patches code someone runs).
  const calls: number[][] = [];
  for (let c = 1; c < cores; c++) calls.push(Array.from({ length: int(rng, 1, 3) }, () => int(rng, 0, nBlocks - 1)));
  for (let b = 0; b < nBlocks; b++) if (!calls.some((list) => list.includes(b))) calls[int(rng, 0, calls.length - 1)]!.push(b);
  const mains: Stmt[] = [], entryLabels: string[] = [];
  calls.forEach((blocksCalled, i) => {
    const c = i + 1;
    entryLabels.push(`core${c}`);
    mains.push(label(`core${c}`), movR32("ecx", int(rng, 1, 8)), label(`core${c}_loop`));
    for (const b of blocksCalled) {
      const call = branch("call", `block${b}`);
      if (rng() < 0.25) mains.push(fixed("cli"), call, fixed("sti"));
      else mains.push(call);
    }
    mains.push(dec("ecx"), branch("jne", `core${c}_loop`), fixed("hlt"));
  });
  const base = 0x1000;
  const a = assembleStmts(mains.concat(...blocks, functions), base);
  const slots: Slot[] = a.slots.map((d) => {
    const site = sites.find((s) => s.id === d.name)!.site;
    const old = a.bytes.slice(d.start - base, d.start - base + d.len);
    const neu = assembleStmts(site.newCode, d.start, a.labels).bytes;
    // Random rewrites share one kind per length, so their findings deduplicate by cause and effect.
    const kind = site.kind === "rewrite" ? `rewrite${d.len}` : site.kind;
    return { name: d.name, start: d.start, len: d.len, old, new: neu, kind, bpResume: d.start + d.len };
  });
  return {
    name: "generated",
    cores,
    program: { base, code: a.bytes, entries: entryLabels.map((l) => a.labels.get(l)!), slots },
    ops: generateOps(rng, slots.length, opts.maxOps ?? 3, opts.atomicBatches !== false),
    runs: [],
  };
}

function generateOps(rng: Rng, nSlots: number, maxOps: number, atomicBatches: boolean): PatchOp[] {
  const state = new Array<"old" | "new">(nSlots).fill("old");
  const ops: PatchOp[] = [];
  for (let j = 0, n = int(rng, 1, maxOps); j < n; j++) {
    const chosen = [...Array(nSlots).keys()].filter(() => rng() < 0.6);
    if (chosen.length === 0) chosen.push(int(rng, 0, nSlots - 1));
    // Mostly flip each slot (a later op reverts it, like ftrace); sometimes re-patch to the same version.
    const targets = chosen.map((slot) => {
      const to: "old" | "new" = rng() < 0.85 ? (state[slot] === "old" ? "new" : "old") : state[slot]!;
      state[slot] = to;
      return { slot, to };
    });
    ops.push({
      targets,
      batch: targets.length > 1 && rng() < 0.3 && atomicBatches ? "atomic" : "per-site",
      monotonic: rng() < 0.85,
    });
  }
  return ops;
}
