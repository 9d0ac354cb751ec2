import type { Case, PatchOp, RecordedRun, Slot } from "../types.js";
import { assemble, assembleAt } from "../isa/asm.js";
import { decodeAll } from "../isa/decode.js";
import { soloRun } from "../oracle/solo.js";
import { planCase } from "../machine/plan.js";
import { SOLO_LIMIT } from "../types.js";
import { prepare, type PreparedCase } from "../differential.js";

// Builds cases from assembly for tests, without the file loader's checks.

export interface CaseSketch {
  readonly asm: readonly string[];
  readonly base?: number;
  /** Entry labels of program cores 1..N-1. */
  readonly entries: readonly string[];
  /** Per `.slot NAME`: the new version (asm), an optional kind. */
  /** `bpResume`: a label (default: the slot's end). */
  readonly slots: Readonly<Record<string, { readonly new: string | readonly string[]; readonly kind?: string; readonly bpResume?: string }>>;
  /** Ops as lists of slot names (`!name` reverts to old). */
  readonly ops: readonly (readonly string[] | { readonly slots: readonly string[]; readonly batch?: PatchOp["batch"]; readonly monotonic?: boolean })[];
  readonly runs?: readonly RecordedRun[];
}

function mnemonics(bytes: Uint8Array): string {
  return (decodeAll(bytes) ?? []).map((i) => (i.op === "nopN" ? `nop${i.len}` : i.op)).join(";");
}

export function sketchCase(s: CaseSketch): Case {
  const base = s.base ?? 0x1000;
  const a = assemble(s.asm, base);
  const slots: Slot[] = a.slots.map((d) => {
    const spec = s.slots[d.name];
    if (!spec) throw new Error(`no new version for slot ${d.name}`);
    const old = a.bytes.slice(d.start - base, d.start - base + d.len);
    const neu = assembleAt(spec.new, d.start, a.labels);
    return { name: d.name, start: d.start, len: d.len, old, new: neu, kind: spec.kind ?? `${mnemonics(old)}->${mnemonics(neu)}`, bpResume: spec.bpResume ? a.labels.get(spec.bpResume)! : d.start + d.len };
  });
  const ops: PatchOp[] = s.ops.map((o) => {
    const list = Array.isArray(o) ? (o as readonly string[]) : (o as { slots: readonly string[] }).slots;
    const rest = Array.isArray(o) ? {} : (o as { batch?: PatchOp["batch"]; monotonic?: boolean });
    return {
      targets: list.map((n) => ({ slot: slots.findIndex((x) => x.name === n.replace(/^!/, "")), to: n.startsWith("!") ? "old" as const : "new" as const })),
      batch: rest.batch ?? "per-site",
      monotonic: rest.monotonic ?? true,
    };
  });
  return {
    name: "sketch", cores: s.entries.length + 1,
    program: { base, code: a.bytes, entries: s.entries.map((e) => a.labels.get(e)!), slots },
    ops, runs: s.runs ?? [],
  };
}

/** Plans a sketch with its solo budget (the loader's L). */
export function prepareSketch(s: CaseSketch): PreparedCase {
  return prepareUnchecked(sketchCase(s));
}

/** Plans a case, computing the loader's L without its other checks. */
export function prepareUnchecked(kase: Case): PreparedCase {
  const plan = planCase(kase);
  let L = 0;
  for (const image of plan.images) {
    for (const e of kase.program.entries) {
      const cpu = soloRun(e, image, kase.program.base, kase.program.slots, SOLO_LIMIT + 1);
      if (!cpu.end) throw new Error("sketch does not terminate");
      L = Math.max(L, cpu.instructions);
    }
  }
  return prepare(kase, L);
}
