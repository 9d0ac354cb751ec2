import type { CaseSketch } from "./build.js";

// Small programs whose reference behaviour is known from first principles. Each program core
// loops `iterations` times through the slot and reports which version it executed.

/** A jump label: `nop5` falls through to `out 1`, `jmp yes` reaches `out 2`. */
export function jumpLabel(cores = 2, iterations = 12, pad: string[] = []): CaseSketch {
  return {
    asm: [
      `core1: mov ecx, ${iterations}`, ...pad,
      "loop:", ".slot jl", "nop5", ".endslot",
      "mov al, 1", "out 0x10", "jmp next",
      "yes: mov al, 2", "out 0x10",
      "next: dec ecx", "jne loop", "hlt",
    ],
    entries: Array.from({ length: cores }, () => "core1"),
    slots: { jl: { new: "jmp yes" } },
    ops: [["jl"]],
  };
}

/** The immediate-value patch: `mov al, 1` -> `mov al, 2` (one differing byte). */
export function imm8(cores = 2, iterations = 12, extra: string[] = []): CaseSketch {
  return {
    asm: [
      `core1: mov ecx, ${iterations}`,
      "loop:", ".slot imm", "mov al, 1", ".endslot",
      "out 0x10", ...extra,
      "dec ecx", "jne loop", "hlt",
    ],
    entries: Array.from({ length: cores }, () => "core1"),
    slots: { imm: { new: "mov al, 2" } },
    ops: [["imm"]],
  };
}

/** Static call: `call a` -> `call b`, each function reporting itself. */
export function staticCall(cores = 2, iterations = 10): CaseSketch {
  return {
    asm: [
      `core1: mov ecx, ${iterations}`,
      "loop:", ".slot sc", "call fa", ".endslot",
      "dec ecx", "jne loop", "hlt",
      "fa: mov al, 0xa", "out 0x20", "ret",
      "fb: mov al, 0xb", "out 0x20", "ret",
    ],
    entries: Array.from({ length: cores }, () => "core1"),
    slots: { sc: { new: "call fb" } },
    ops: [["sc"]],
  };
}

/** kprobe: `nop` -> `int3` at the start of a probe slot. */
export function kprobeNop(cores = 2, iterations = 10): CaseSketch {
  return {
    asm: [
      `core1: mov ecx, ${iterations}`,
      "loop:", ".slot kp", "nop", ".endslot",
      "mov al, 1", "out 0x10",
      "dec ecx", "jne loop", "hlt",
    ],
    entries: Array.from({ length: cores }, () => "core1"),
    slots: { kp: { new: "int3" } },
    ops: [["kp"]],
  };
}

/** Two jump labels patched in one batch. */
export function twoJumpLabels(batch: "per-site" | "atomic", cores = 2, iterations = 10): CaseSketch {
  return {
    asm: [
      `core1: mov ecx, ${iterations}`,
      "loop:", ".slot a", "nop5", ".endslot",
      "mov al, 1", "out 0x10", "jmp mid",
      "ya: mov al, 2", "out 0x10",
      "mid:", ".slot b", "nop5", ".endslot",
      "mov al, 3", "out 0x11", "jmp next",
      "yb: mov al, 4", "out 0x11",
      "next: dec ecx", "jne loop", "hlt",
    ],
    entries: Array.from({ length: cores }, () => "core1"),
    slots: { a: { new: "jmp ya" }, b: { new: "jmp yb" } },
    ops: [{ slots: ["a", "b"], batch }],
  };
}

/** A slot that only sets a register (`nop5 -> mov ebx, 7`) and no `out`: a torn mov shows in the end state alone. */
export function setsEbx(cores = 2): CaseSketch {
  return {
    asm: ["c: mov ecx, 3", "top:", ".slot s", "nop5", ".endslot", "dec ecx", "jne top", "hlt"],
    entries: Array.from({ length: cores }, () => "c"),
    slots: { s: { new: "mov ebx, 7" } },
    ops: [["s"]],
  };
}
