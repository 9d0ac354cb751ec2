import type { Case, PatchOp, Slot } from "../types.js";
import { assemble, assembleAt } from "../isa/asm.js";
import { DATA_BASE } from "../types.js";

// Structure-aware case generation (SPEC 9): terminating programs whose cores loop through shared
// blocks of patch sites; each site's `out` depends on the version executed. Patch kinds come from
// real practice, plus random same-length rewrites.

export type Rng = () => number;

export interface GenerateOptions {
  readonly minCores?: number;
  readonly maxCores?: number;
  readonly maxOps?: number;
}

const int = (rng: Rng, lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
const byte = (rng: Rng) => int(rng, 0, 255);
const hexb = (b: number) => `0x${b.toString(16)}`;

/** One patch site: its asm (with a `.slot`), the new version's asm, and helper functions. */
interface Site {
  readonly lines: string[];
  readonly newAsm: string[];
  readonly kind: string;
  readonly functions: string[];
}

type SiteMaker = (rng: Rng, id: string, port: number) => Site;

const jumpLabel = (size: 5 | 2): SiteMaker => (rng, id, port) => ({
  lines: [
    `.slot ${id}`, size === 5 ? "nop5" : "nop2", ".endslot",
    `mov al, ${hexb(byte(rng))}`, `out ${hexb(port)}`, `jmp ${id}_done`,
    `${id}_yes: mov al, ${hexb(byte(rng))}`, `out ${hexb(port)}`,
    `${id}_done:`,
  ],
  newAsm: [size === 5 ? `jmp ${id}_yes` : `jmp short ${id}_yes`],
  kind: size === 5 ? "nop5->jmp32" : "nop2->jmp8",
  functions: [],
});

const outFn = (rng: Rng, name: string, port: number) => [`${name}: mov al, ${hexb(byte(rng))}`, `out ${hexb(port)}`, "ret"];

const staticCall: SiteMaker = (rng, id, port) => ({
  lines: [`.slot ${id}`, `call ${id}_a`, ".endslot"],
  newAsm: [`call ${id}_b`],
  kind: "call->call",
  functions: [...outFn(rng, `${id}_a`, port), ...outFn(rng, `${id}_b`, port)],
});

const ftrace: SiteMaker = (rng, id, port) => ({
  lines: [`.slot ${id}`, "nop5", ".endslot"],
  newAsm: [`call ${id}_t`],
  kind: "nop5->call",
  functions: outFn(rng, `${id}_t`, port),
});

const imm8: SiteMaker = (rng, id, port) => {
  const a = byte(rng);
  return {
    lines: [`.slot ${id}`, `mov al, ${hexb(a)}`, ".endslot", `out ${hexb(port)}`],
    newAsm: [`mov al, ${hexb((a + int(rng, 1, 255)) & 0xff)}`],
    kind: "movr8->movr8",
    functions: [],
  };
};

const kprobeNop: SiteMaker = (rng, id, port) => ({
  lines: [`.slot ${id}`, "nop", ".endslot", `mov al, ${hexb(byte(rng))}`, `out ${hexb(port)}`],
  newAsm: ["int3"],
  kind: "nop->int3",
  functions: [],
});

const kprobeLong: SiteMaker = (rng, id, port) => {
  const imm = [byte(rng), byte(rng), byte(rng), byte(rng)];
  return {
    lines: [`.slot ${id}`, `.byte 0xb8, ${imm.map(hexb).join(", ")}`, ".endslot", `out ${hexb(port)}`],
    newAsm: [`.byte 0xcc, ${imm.map(hexb).join(", ")}`],
    kind: "movr32->int3",
    functions: [],
  };
};

/** `jmp32 next` -> `ret; int3 x4`: the block returns early (Linux's static_call RET patching). */
const retInsertion: SiteMaker = (rng, id, port) => ({
  lines: [`.slot ${id}`, `jmp ${id}_cont`, ".endslot", `${id}_cont: mov al, ${hexb(byte(rng))}`, `out ${hexb(port)}`],
  newAsm: ["ret", "int3", "int3", "int3", "int3"],
  kind: "jmp32->ret",
  functions: [],
});

const multiInstruction: SiteMaker = (rng, id, port) => ({
  lines: [`.slot ${id}`, "nop2", "nop3", ".endslot", `mov al, ${hexb(byte(rng))}`, `out ${hexb(port)}`],
  newAsm: [`call ${id}_f`],
  kind: "nop2;nop3->call",
  functions: outFn(rng, `${id}_f`, port),
});

/** Non-branching instructions that leave ecx (loop counter) and esp alone. */
const FILLERS: readonly { len: number; asm: (rng: Rng) => string }[] = [
  { len: 1, asm: () => "nop" },
  { len: 1, asm: (r) => pick(r, ["inc eax", "dec eax", "inc edx", "dec ebx", "inc esi", "dec edi"]) },
  { len: 2, asm: () => "nop2" },
  { len: 2, asm: (r) => `mov al, ${hexb(byte(r))}` },
  { len: 2, asm: (r) => `mov dl, ${hexb(byte(r))}` },
  { len: 3, asm: () => "nop3" },
  { len: 3, asm: (r) => `add eax, ${int(r, -128, 127)}` },
  { len: 4, asm: () => "nop4" },
  { len: 5, asm: () => "nop5" },
  { len: 5, asm: (r) => `mov ebx, ${hexb(int(r, 0, 0xffff))}` },
];

function fill(rng: Rng, len: number): string[] {
  const out: string[] = [];
  let left = len;
  while (left > 0) {
    const f = pick(rng, FILLERS.filter((x) => x.len <= left));
    out.push(f.asm(rng));
    left -= f.len;
  }
  return out;
}

/** A random same-length rewrite of straight-line code. */
const rewrite: SiteMaker = (rng, id, port) => {
  const len = int(rng, 1, 6);
  return {
    lines: [`.slot ${id}`, ...fill(rng, len), ".endslot", `out ${hexb(port)}`],
    newAsm: fill(rng, len),
    kind: "rewrite",
    functions: [],
  };
};

const MAKERS: readonly SiteMaker[] = [
  jumpLabel(5), jumpLabel(2), staticCall, ftrace, imm8, kprobeNop, kprobeLong, retInsertion, multiInstruction, rewrite,
];

/** A generated case: every program core terminates whatever the patches do. */
export function generateCase(rng: Rng, opts: GenerateOptions = {}): Case {
  const cores = int(rng, opts.minCores ?? 2, opts.maxCores ?? 8);
  const nBlocks = int(rng, 1, 3);
  const blocks: string[][] = [];
  const functions: string[] = [];
  const sites: { id: string; site: Site }[] = [];
  for (let b = 0; b < nBlocks; b++) {
    const lines = [`block${b}:`];
    for (let i = 0, n = int(rng, 1, 2); i < n; i++) {
      const id = `s${sites.length}`;
      const site = pick(rng, MAKERS)(rng, id, 0x10 + sites.length);
      sites.push({ id, site });
      lines.push(...site.lines);
      functions.push(...site.functions);
      if (rng() < 0.2) lines.push(`mov [${hexb(DATA_BASE + 4 * int(rng, 0, 15))}], eax`);
    }
    lines.push("ret");
    blocks.push(lines);
  }
  const mains: string[] = [];
  for (let c = 1; c < cores; c++) {
    mains.push(`core${c}: mov ecx, ${int(rng, 1, 8)}`, `core${c}_loop:`);
    for (let i = 0, n = int(rng, 1, 3); i < n; i++) {
      const call = `call block${int(rng, 0, nBlocks - 1)}`;
      if (rng() < 0.25) mains.push("cli", call, "sti");
      else mains.push(call);
    }
    mains.push("dec ecx", `jne core${c}_loop`, "hlt");
  }
  const asm = [...mains, ...blocks.flat(), ...functions];
  const base = 0x1000;
  const a = assemble(asm, base);
  const slots: Slot[] = a.slots.map((d) => {
    const site = sites.find((s) => s.id === d.name)!.site;
    const old = a.bytes.slice(d.start - base, d.start - base + d.len);
    const neu = assembleAt(site.newAsm, d.start, a.labels);
    // Random rewrites share one kind per length, so their findings deduplicate by cause and effect.
    const kind = site.kind === "rewrite" ? `rewrite${d.len}` : site.kind;
    return { name: d.name, start: d.start, len: d.len, old, new: neu, kind, bpResume: d.start + d.len };
  });
  return {
    name: "generated",
    cores,
    program: { base, code: a.bytes, entries: Array.from({ length: cores - 1 }, (_, i) => a.labels.get(`core${i + 1}`)!), slots },
    ops: generateOps(rng, slots.length, opts.maxOps ?? 3),
    runs: [],
  };
}

function generateOps(rng: Rng, nSlots: number, maxOps: number): PatchOp[] {
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
      batch: targets.length > 1 && rng() < 0.3 ? "atomic" : "per-site",
      monotonic: rng() < 0.85,
    });
  }
  return ops;
}
