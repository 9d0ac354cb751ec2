// Delta debugging over a list that shrinks as removals are accepted (Zeller's ddmin, complement
// steps only): chunks of halving size, down to single elements, until no single removal works.

/**
 * `tryRemove(start, count)` removes that range from the current list and reports whether it was
 * kept removed; `len()` is the current length. At least `keep` elements stay; `more()` false stops.
 * Returns whether anything was removed.
 */
export function ddmin(
  len: () => number, tryRemove: (start: number, count: number) => boolean, more: () => boolean, keep = 0,
): boolean {
  let any = false;
  let chunk = Math.max(1, Math.floor(len() / 2));
  for (;;) {
    let removed = false;
    for (let i = 0; i < len() && more();) {
      const count = Math.min(chunk, len() - i);
      if (len() - count >= keep && tryRemove(i, count)) removed = any = true;
      else i += count;
    }
    if (!more()) return any;
    if (chunk > 1) chunk = Math.max(1, Math.floor(chunk / 2));
    else if (!removed) return any;
  }
}
