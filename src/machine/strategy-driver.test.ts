import { describe, expect, it } from "vitest";
import type { PatcherCtx, Step, Steps } from "../types.js";
import { handlerCtx, patcherCtx } from "../strategies/ctx.js";
import { HarnessError, StrategyDriver } from "./strategy-driver.js";

const driver = new StrategyDriver("probe", undefined);

describe("StrategyDriver.start", () => {
  it("runs a generator to its first step, checked", () => {
    function* twoSteps(): Generator<Step, string, unknown> {
      yield { k: "nop" };
      yield { k: "serialize" };
      return "end";
    }
    const started = driver.start("patch", "patcher", twoSteps);
    expect(started.step).toEqual({ k: "nop" });
    expect(started.returned).toBeUndefined();
    expect(driver.next("patch", started.gen, undefined).value).toEqual({ k: "serialize" });
  });

  it("gives the value of a generator that returns before any step", () => {
    function* noStep(): Generator<Step, string, unknown> {
      return "resumed";
    }
    const started = driver.start("onInt3", "handler", noStep);
    expect(started.step).toBeUndefined();
    expect(started.returned).toBe("resumed");
  });

  it("reports a throw while making the generator, or before its first step, as a harness error of the strategy", () => {
    const boom = (): Generator<Step, void, unknown> => {
      throw new Error("no ctx");
    };
    expect(() => driver.start("patch", "patcher", boom)).toThrow(new HarnessError("strategy probe threw in patch: no ctx"));
    function* throwsFirst(): Generator<Step, void, unknown> {
      throw new Error("bad slot");
    }
    expect(() => driver.start("IPI function", "handler", throwsFirst)).toThrow("strategy probe threw in IPI function: bad slot");
  });

  it("names the strategy and its code for a ctx call it may not make there (a bare TypeError before)", () => {
    const env = { cores: 2, ended: () => false, peek: () => undefined };
    const handler = handlerCtx(env, 1) as unknown as PatcherCtx;
    function* writesInHandler(): Generator<Step, void, unknown> {
      yield* handler.write(0x1000, Uint8Array.of(0x90));
    }
    expect(() => driver.start("onInt3", "handler", writesInHandler)).toThrow(
      new HarnessError("strategy probe: onInt3: ctx.write() is the patcher's (IPI functions and onInt3 may use only the data, maintenance, serializeSelf and await steps)"));
    const patcher = patcherCtx(env, "byte");
    function* stopsWithPlainBody(): Generator<Step, void, unknown> {
      yield* patcher.stopMachine((() => 5) as unknown as () => Steps);
    }
    const started = driver.start("patch", "patcher", stopsWithPlainBody);
    expect(started.step).toEqual({ k: "stop", outsideSlots: true });
    expect(driver.next("patch", started.gen, undefined).value).toEqual({ k: "awaitParked" });
    expect(() => driver.next("patch", started.gen, undefined)).toThrow(new HarnessError("strategy probe: patch: stopMachine's body must be a generator function (function*)"));
  });

  it("rejects a first yield that is no ctx step (yield x for yield* ctx.x())", () => {
    function* yieldsGenerator(): Generator<Step, void, unknown> {
      yield (function* () {})() as unknown as Step;
    }
    expect(() => driver.start("patch", "patcher", yieldsGenerator)).toThrow(/patch yielded .*not a ctx step/);
  });
});

describe("StrategyDriver.checked and resolution: misuse the machine cannot act on is the strategy's harness error", () => {
  const bad = (step: unknown, role: "patcher" | "handler" = "patcher") => () => driver.checked(step, "patch", role);

  it("refuses steps whose arguments are missing or of the wrong type", () => {
    expect(bad({ k: "clean", range: undefined })).toThrow(HarnessError);
    expect(bad({ k: "waitOutside" })).toThrow(/address range/);
    expect(bad({ k: "inval", range: { lo: 8, hi: 4 } })).toThrow(/address range/);
    expect(bad({ k: "store", addr: Number.NaN, bytes: new Uint8Array([0x90]) })).toThrow(/not an integer/);
    expect(bad({ k: "store", addr: 4096.5, bytes: new Uint8Array([0x90]) })).toThrow(/not an integer/);
    expect(bad({ k: "store", addr: 0x1000, bytes: [0x90] })).toThrow(/Uint8Array/);
    expect(bad({ k: "await", pred: true })).toThrow(/predicate/);
    expect(bad({ k: "ipi", fn: 3, serialize: true })).toThrow(/IPI function/);
    expect(driver.checked({ k: "clean", range: { lo: 0x1000, hi: 0x1005 } }, "patch", "patcher")).toEqual({ k: "clean", range: { lo: 0x1000, hi: 0x1005 } });
    // A flush of the whole address space, and ipiAll(null, ...) for "no function".
    expect(driver.checked({ k: "inval", range: { lo: 0, hi: 2 ** 32 } }, "patch", "patcher").k).toBe("inval");
    expect(bad({ k: "inval", range: { lo: 0, hi: 2 ** 32 + 1 } })).toThrow(/address range/);
    expect(driver.checked({ k: "ipi", fn: null, serialize: false }, "patch", "patcher").k).toBe("ipi");
  });

  it("refuses the patcher's steps in a handler (a handler's waitAcks would wait for its own ack)", () => {
    for (const k of ["waitAcks", "awaitParked", "release"]) expect(bad({ k }, "handler")).toThrow(`took the patcher's step "${k}"`);
    expect(bad({ k: "store", addr: 0x1000, bytes: new Uint8Array([0x90]) }, "handler")).toThrow(/patcher's step "store"/);
    expect(driver.checked({ k: "waitAcks" }, "patch", "patcher")).toEqual({ k: "waitAcks" });
    expect(driver.checked({ k: "serialize" }, "IPI function", "handler")).toEqual({ k: "serialize" });
  });

  it("accepts only resume(pc), emulate(bytes) and notMine() as a trap's end", () => {
    expect(driver.resolution({ kind: "notMine" })).toEqual({ kind: "notMine" });
    expect(driver.resolution({ kind: "resume", pc: 0x1005, serialize: true })).toEqual({ kind: "resume", pc: 0x1005, serialize: true });
    for (const r of [undefined, { kind: "bogus" }, { kind: "resume", pc: "x", serialize: true }, { kind: "resume", pc: 10n, serialize: true }, { kind: "emulate" }, { kind: "emulate", bytes: [0x90] }]) {
      expect(() => driver.resolution(r)).toThrow(/onInt3 must end with/);
    }
    // emulate(bytes) executes the instruction the bytes begin with: none, or one cut off, is no instruction.
    for (const bytes of [[], [0xe9], [0xe8, 0x01, 0x00]]) {
      expect(() => driver.resolution({ kind: "emulate", bytes: Uint8Array.from(bytes) })).toThrow(/emulate\(bytes\) needs bytes that begin with a whole instruction/);
    }
    // An undecodable whole instruction (ud2) is emulated as #UD; bytes past the first instruction are ignored.
    for (const bytes of [[0x0f, 0x0b], [0xe8, 0x01, 0x00, 0x00, 0x00, 0x90]]) {
      expect(driver.resolution({ kind: "emulate", bytes: Uint8Array.from(bytes) }).kind).toBe("emulate");
    }
  });
});
