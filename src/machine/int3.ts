import type { Slot } from "../types.js";
import { decode } from "../isa/decode.js";
import { type Cpu, endWithFault, execute, Flow } from "./cpu.js";

/**
 * The program's own meaning of `CC` at addr (SPEC 5.3), identical in real and solo runs: at the
 * start of a probe slot (exactly one version begins with CC) it records `probe(addr)` and runs the
 * other version's first instruction out of line; anywhere else the core ends with int3@addr.
 */
export function programInt3(cpu: Cpu, slots: readonly Slot[], addr: number): Flow {
  const slot = slots.find((s) => s.start === addr);
  if (slot && (slot.old[0] === 0xcc) !== (slot.new[0] === 0xcc)) {
    const probed = slot.old[0] === 0xcc ? slot.new : slot.old;
    const d = decode(probed, 0, probed.length);
    cpu.events.push({ kind: "probe", addr });
    if ("incomplete" in d) {
      endWithFault(cpu, "#UD", addr);
      return Flow.Ended;
    }
    return execute(cpu, d, addr);
  }
  endWithFault(cpu, "int3", addr);
  return Flow.Ended;
}
