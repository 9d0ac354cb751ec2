import { describe, expect, it } from "vitest";
import { CodeMemory, LINE } from "./memory.js";

const BASE = 0x1000;
const code = (n = 2 * LINE) => Uint8Array.from({ length: n }, (_, i) => i & 0xff);

describe("CodeMemory", () => {
  it("records each changed byte of a store as one modification, and nothing for bytes that already held the value", () => {
    const mem = new CodeMemory(BASE, code(), false);
    const made = mem.store(BASE + 2, Uint8Array.from([2, 0xaa, 0xbb]), 7); // byte 2 already holds 2
    expect(made).toEqual([
      { t: 7, addr: BASE + 3, value: 0xaa, before: 3, store: 0 },
      { t: 7, addr: BASE + 4, value: 0xbb, before: 4, store: 0 },
    ]);
    expect(mem.store(BASE + 3, Uint8Array.from([0xaa]), 8)).toEqual([]); // no change: no modification
    const later = mem.store(BASE + 3, Uint8Array.from([0xcc]), 9)[0]!;
    expect(later).toMatchObject({ t: 9, value: 0xcc, before: 0xaa });
    expect(later.store).toBeGreaterThan(made[0]!.store); // another store event
    expect([...mem.bytes.subarray(2, 5)]).toEqual([2, 0xcc, 0xbb]);
    expect(mem.initial[3]).toBe(3); // the initial image is never written
  });

  it("answers what a byte held at any time, and whether a range was ever modified", () => {
    const mem = new CodeMemory(BASE, code(), false);
    expect(mem.modifiedIn(BASE, 8)).toBe(false);
    mem.store(BASE + 5, Uint8Array.from([0xe9]), 10);
    mem.store(BASE + 5, Uint8Array.from([0xcc]), 20);
    expect([9, 10, 19, 20, 99].map((t) => mem.byteAt(BASE + 5, t))).toEqual([5, 0xe9, 0xe9, 0xcc, 0xcc]);
    expect(mem.bytesAt(BASE + 4, 3, 15)).toEqual([4, 0xe9, 6]);
    expect(mem.modifiedIn(BASE, 5)).toBe(false);
    expect(mem.modifiedIn(BASE + 5, 1)).toBe(true);
    expect(mem.modifiedIn(BASE - 4, 10)).toBe(true); // partly outside the region
    expect(mem.bytesAt(mem.end - 2, 8, 0)).toHaveLength(2); // bytes past the end are left out
  });

  it("keeps a version per store for each line it touched (SPEC 4.3), only when asked to", () => {
    expect(new CodeMemory(BASE, code(), false).versions).toBeUndefined();
    const mem = new CodeMemory(BASE, code(), true);
    expect([mem.newest(0), mem.newest(1)]).toEqual([0, 0]);
    mem.store(BASE + LINE - 1, Uint8Array.from([0xaa, 0xbb]), 5); // straddles lines 0 and 1
    mem.store(BASE + LINE + 4, Uint8Array.from([0xcc]), 6);
    mem.store(BASE + LINE + 4, Uint8Array.from([0xcc]), 7); // no change: no new version
    expect([mem.newest(0), mem.newest(1)]).toEqual([1, 2]);
    const line1 = mem.versions![1]!;
    expect([line1[0]![0], line1[1]![0], line1[2]![0]]).toEqual([LINE & 0xff, 0xbb, 0xbb]);
    expect([line1[1]![4], line1[2]![4]]).toEqual([(LINE + 4) & 0xff, 0xcc]);
    expect(mem.versions![0]![1]![LINE - 1]).toBe(0xaa);
    expect([...mem.pou!]).toEqual([0, 0]); // nothing written back to the point of unification yet
  });
});
