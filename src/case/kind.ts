// Default slot kinds (`nop5->jmp32`): short, stable names, because kinds end up in signatures.
import type { Instr } from "../types.js";
import { decodeVersion } from "../isa/decode.js";

function mnemonic(ins: Instr): string {
  return ins.op === "nopN" ? `nop${ins.len}` : ins.op;
}

/** True when exactly one version begins with CC (SPEC 5.3): a kprobe-style slot. */
export function isProbeSlot(old: Uint8Array, neu: Uint8Array): boolean {
  return (old[0] === 0xcc) !== (neu[0] === 0xcc);
}

function versionName(bytes: Uint8Array, probe: boolean): string {
  // Padding (after ret/jmp, or a probe's leading CC) is never executed: naming it would be noise.
  return (decodeVersion(bytes, probe) ?? []).map(mnemonic).join(";");
}

export function defaultKind(old: Uint8Array, neu: Uint8Array): string {
  const probe = isProbeSlot(old, neu);
  return `${versionName(old, probe)}->${versionName(neu, probe)}`;
}
