// Memory digests as numbers: the oracle compares a state's memoryHash (machine/cpu.ts) with the
// digest text an observation carries, read once into the number it spells.

/** The number a memoryDigest text spells: eight lowercase hex digits (-1 for any other text). */
export function digestValue(text: string): number {
  if (text.length !== 8) return -1;
  let value = 0;
  for (let i = 0; i < 8; i++) {
    const c = text.charCodeAt(i);
    const digit = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1;
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}
