import { describe, expect, it } from "vitest";
import type { ByteOrigin, CoreObservation, Divergence, FetchedInstr, Passage, RuleFinding, RunResult, Verdict } from "../types.js";
import { causeOf, divergenceFindingsOf, effectOf, passageVersion, pickFinding, showsSignature } from "./classify.js";

// Naming causes from provenance (SPEC 6.5, 7.1), on hand-built passages whose version is known.

const fetch = (addr: number, bytes: number[], origin: ByteOrigin[]): FetchedInstr =>
  ({ addr, bytes, origin, fetchedAt: bytes.map(() => 0), patcherStepAt: bytes.map(() => 0) });

function passage(fetched: FetchedInstr[], trap: Partial<Pick<Passage, "resolution" | "resolvedAs" | "resolvedAt">> = {}, slot = 0, begin = 10): Passage {
  return { core: 1, slot, op: 0, begin, end: begin, fetched, widened: false, badEmulation: false, ...trap };
}

const int3Trap = (origin: ByteOrigin) => fetch(0x1000, [0xcc], [origin]);

describe("passageVersion", () => {
  it("reads the bytes: old, new, invariant-only, mixed, intermediate", () => {
    expect(passageVersion(passage([fetch(0x1000, [0x0f, 0x1f, 0x44, 0, 0], ["old", "old", "old", "invariant", "invariant"])]))).toBe("old");
    expect(passageVersion(passage([fetch(0x1000, [0xe9, 0x10, 0, 0, 0], ["new", "new", "invariant", "invariant", "invariant"])]))).toBe("new");
    expect(passageVersion(passage([fetch(0x1000, [0xe8, 0, 0, 0, 0], ["invariant", "invariant", "invariant", "invariant", "invariant"])]))).toBe("none");
    // A plain multi-byte write caught half way: byte 0 new, the rest old.
    expect(passageVersion(passage([fetch(0x1000, [0xe9, 0x1f, 0x44, 0, 0], ["new", "old", "old", "invariant", "invariant"])]))).toBe("mixed");
    expect(passageVersion(passage([fetch(0x1000, [0xe9, 0x77], ["new", "intermediate"])]))).toBe("mixed");
  });

  it("counts a resolved trap as the version whose effect the handler reproduced", () => {
    expect(passageVersion(passage([int3Trap("int3")], { resolution: "emulate", resolvedAs: "new", resolvedAt: 0 }))).toBe("new");
    expect(passageVersion(passage([int3Trap("int3")], { resolution: "resume", resolvedAs: "old", resolvedAt: 0 }))).toBe("old");
    // Emulating a multi-instruction slot's first new instruction, then running its old tail: torn.
    const tail = fetch(0x1002, [0x0f, 0x1f, 0x00], ["old", "old", "old"]);
    expect(passageVersion(passage([int3Trap("int3"), tail], { resolution: "emulate", resolvedAs: "new", resolvedAt: 0 }))).toBe("mixed");
  });

  it("lets a kprobe slot's own CC say nothing once a handler resolved the trap on it", () => {
    // Patching a probe in: the strategy's CC equals the new byte; the handler resumed as the old mov.
    expect(passageVersion(passage([int3Trap("new")], { resolution: "resume", resolvedAs: "old", resolvedAt: 0 }))).toBe("old");
    // Patching it out: the old byte is the CC; the handler emulated the new nop.
    expect(passageVersion(passage([int3Trap("old")], { resolution: "emulate", resolvedAs: "new", resolvedAt: 0 }))).toBe("new");
    // Another CC the core ran after the handler (an old `mov al, 0xcc` immediate, trapped on and
    // handed to the program) is a byte like any other: new first instruction, then old bytes.
    const oldImmediate = fetch(0x1002, [0xcc], ["old"]);
    expect(passageVersion(passage([int3Trap("int3"), oldImmediate], { resolution: "notMine", resolvedAs: "new", resolvedAt: 0 }))).toBe("mixed");
    // Handed to the program (notMine), the CC is the probe: the version it belongs to.
    expect(passageVersion(passage([int3Trap("new")], { resolution: "notMine" }))).toBe("new");
    expect(passageVersion(passage([int3Trap("old")], { resolution: "notMine" }))).toBe("old");
  });
});

describe("causeOf", () => {
  const run = { ops: [{ began: 5, returned: 100 }] } as unknown as RunResult;
  const perSite = [{ batch: "per-site" as const, monotonic: true }], atomic = [{ batch: "atomic" as const, monotonic: true }];

  it("names non-monotonic a core that ran a slot's new version, then its old one, past a probe-out trap (not torn-fetch)", () => {
    const callNew = passage([int3Trap("int3")], { resolution: "emulate", resolvedAs: "new", resolvedAt: 0 }, 0, 20);
    const probeOut = passage([int3Trap("old")], { resolution: "emulate", resolvedAs: "new", resolvedAt: 0 }, 1, 30);
    const callOld = passage([fetch(0x1033, [0xe8, 0x09, 0, 0, 0], ["invariant", "old", "invariant", "invariant", "invariant"])], {}, 0, 40);
    const c = causeOf([callNew, probeOut, callOld], undefined, run, 40, perSite);
    expect(c.cause).toBe("non-monotonic");
    expect(c.passage).toBe(callOld);
  });

  it("keeps SPEC 7.1's order: torn-fetch before non-monotonic, stale-after-completion last", () => {
    const torn = passage([fetch(0x1000, [0xe9, 0x1f], ["new", "old"])], {}, 0, 15);
    const neu = passage([fetch(0x1000, [0xe9, 0x10], ["new", "new"])], {}, 0, 20);
    const old = passage([fetch(0x1000, [0x0f, 0x1f], ["old", "old"])], {}, 0, 30);
    expect(causeOf([neu, old, torn], undefined, run, 40, perSite).cause).toBe("torn-fetch");
    expect(causeOf([neu, old], undefined, run, 40, perSite).cause).toBe("non-monotonic");
    const late = passage([fetch(0x1000, [0x0f, 0x1f], ["old", "old"])], {}, 0, 120);
    expect(causeOf([late], undefined, run, 130, perSite).cause).toBe("stale-after-completion");
    expect(causeOf([old], undefined, run, 40, perSite).cause).toBe("unexplained");
  });

  it("reads non-monotonic per slot for a per-site op (its slots switch at their own points), per op for an atomic one", () => {
    const newAtSlot0 = passage([fetch(0x1000, [0xe9, 0x10], ["new", "new"])], {}, 0, 20);
    const oldAtSlot1 = passage([fetch(0x1010, [0x0f, 0x1f], ["old", "old"])], {}, 1, 30);
    expect(causeOf([newAtSlot0, oldAtSlot1], undefined, run, 40, perSite).cause).toBe("unexplained");
    expect(causeOf([newAtSlot0, oldAtSlot1], undefined, run, 40, atomic)).toEqual({ cause: "non-monotonic", passage: oldAtSlot1 });
  });

  it("never names non-monotonic an op declared monotonic: false (old after new is in its reference); its late old passage is stale", () => {
    const unordered = [{ batch: "per-site" as const, monotonic: false }];
    const neu = passage([fetch(0x1000, [0xe9, 0x10], ["new", "new"])], {}, 0, 20);
    const late = passage([fetch(0x1000, [0x0f, 0x1f], ["old", "old"])], {}, 0, 120);
    expect(causeOf([neu, late], undefined, run, 130, perSite).cause).toBe("non-monotonic");
    expect(causeOf([neu, late], undefined, run, 130, unordered)).toEqual({ cause: "stale-after-completion", passage: late });
  });
});

describe("effectOf", () => {
  const ending = (end: CoreObservation["end"]): CoreObservation =>
    ({ core: 1, events: [], times: [], end, endTime: 0, regs: [], digest: "", instructions: 0 });
  const pf = (addr: number) => ending({ kind: "fault", fault: "#PF", addr });
  const ud = (addr: number) => ending({ kind: "fault", fault: "#UD", addr });

  it("names the fault a core ended with unless the reference ends with the same fault at the same address", () => {
    expect(effectOf(pf(0x5429), ending({ kind: "halt" }))).toBe("wild-jump");
    expect(effectOf(ud(0x1007), ending({ kind: "halt" }))).toBe("invalid-opcode");
    // A program whose own end is a #PF at the region end (no hlt), or a ud2 (Linux's BUG()).
    expect(effectOf(pf(0x5429), pf(0x101e))).toBe("wild-jump");
    expect(effectOf(ud(0x1007), ud(0x1015))).toBe("invalid-opcode");
    expect(effectOf(pf(0x101e), pf(0x101e))).toBe("wrong-output");
    expect(effectOf(ending({ kind: "halt" }), ending({ kind: "halt" }))).toBe("wrong-output");
  });
});

describe("divergenceFindingsOf", () => {
  const divergence = (core: number, cause: Divergence["cause"], t: number): Divergence =>
    ({ core, cause, effect: "wrong-output", slotKind: "nop5->jmp32", phase: { kind: "write", syncs: 0 }, t, point: 0, alignment: "exact", detail: "" });

  it("names every divergence's class once, the run's own first, and a finding of any of them is still shown", () => {
    const v = {
      strategy: "s", model: "m", kind: "diverges", rules: [], signature: "s m torn-fetch wrong-output nop5->jmp32 write/0",
      divergences: [divergence(1, "torn-fetch", 5), divergence(2, "stale-after-completion", 9), divergence(3, "torn-fetch", 12)],
    } as Verdict;
    expect([...divergenceFindingsOf(v)]).toEqual([
      ["s m torn-fetch wrong-output nop5->jmp32 write/0", "torn-fetch"],
      ["s m stale-after-completion wrong-output nop5->jmp32 write/0", "stale-after-completion"],
    ]);
    expect(showsSignature(v, "s m stale-after-completion wrong-output nop5->jmp32 write/0")).toBe(true);
    expect(showsSignature(v, "s m non-monotonic wrong-output nop5->jmp32 write/0")).toBe(false);
  });
});

describe("pickFinding", () => {
  const rule = (slotKind: string): RuleFinding => ({ rule: "unsynchronized-xmc", core: 1, addr: 0x1005, t: 3, bytes: [0xe9], phase: { kind: "write", syncs: 0 }, slotKind });
  const verdict = (signature: string | undefined, rules: RuleFinding[]): Verdict =>
    ({ strategy: "s", model: "m", kind: signature ? "diverges" : "clean", divergences: [], rules, ...(signature ? { signature } : {}) }) as Verdict;
  const clean = verdict(undefined, []), ruleOnly = verdict(undefined, [rule("call->call")]);
  const both = verdict("s m torn-fetch wild-jump nop5->jmp32 write/0", [rule("nop5->jmp32")]);

  it("takes the finding a crash file is named after when a run shows it, else the first divergence, else the first rule finding", () => {
    expect(pickFinding([clean, ruleOnly, both], undefined)).toEqual({ run: 2, signature: "s m torn-fetch wild-jump nop5->jmp32 write/0", kind: "divergence" });
    expect(pickFinding([clean, ruleOnly], undefined)).toEqual({ run: 1, signature: "rule s m unsynchronized-xmc call->call write/0", kind: "rule" });
    // A campaign files a run's rule finding apart from its divergence: its crash file names the rule.
    expect(pickFinding([both], "rule s m unsynchronized-xmc nop5->jmp32 write/0")).toEqual({ run: 0, signature: "rule s m unsynchronized-xmc nop5->jmp32 write/0", kind: "rule" });
    expect(pickFinding([both], "rule s m unsynchronized-xmc ret write/0")?.signature).toBe("s m torn-fetch wild-jump nop5->jmp32 write/0");
    expect(pickFinding([clean], undefined)).toBeUndefined();
  });
});
