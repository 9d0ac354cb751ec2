import type { Strategy } from "../types.js";
import { directSingleByte, directWrite } from "./direct.js";
import { int3Flush, int3Nosync, textPokeBpBatch } from "./int3-batch.js";
import { noncoherentFlush } from "./noncoherent-flush.js";
import { sdmXmc } from "./sdm-xmc.js";
import { stopMachine } from "./stop-machine.js";
import { textPokeBp } from "./text-poke-bp.js";

/** The nine built-in strategies of SPEC 5.2, in the order of its table. */
export const BUILTIN_STRATEGIES: readonly Strategy[] = [
  stopMachine, textPokeBp, textPokeBpBatch, directSingleByte, directWrite,
  int3Nosync, sdmXmc, noncoherentFlush, int3Flush,
];

export function builtinStrategy(name: string): Strategy | undefined {
  return BUILTIN_STRATEGIES.find((s) => s.name === name);
}
