import { describe, expect, it } from "vitest";
import type { Step } from "../types.js";
import { HarnessError, StrategyDriver } from "./strategy-driver.js";

const driver = new StrategyDriver("probe", undefined);

describe("StrategyDriver.start", () => {
  it("runs a generator to its first step, checked", () => {
    function* twoSteps(): Generator<Step, string, unknown> {
      yield { k: "nop" };
      yield { k: "serialize" };
      return "end";
    }
    const started = driver.start("patch", twoSteps);
    expect(started.step).toEqual({ k: "nop" });
    expect(started.returned).toBeUndefined();
    expect(driver.next("patch", started.gen, undefined).value).toEqual({ k: "serialize" });
  });

  it("gives the value of a generator that returns before any step", () => {
    function* noStep(): Generator<Step, string, unknown> {
      return "resumed";
    }
    const started = driver.start("onInt3", noStep);
    expect(started.step).toBeUndefined();
    expect(started.returned).toBe("resumed");
  });

  it("reports a throw while making the generator, or before its first step, as a harness error of the strategy", () => {
    const boom = (): Generator<Step, void, unknown> => {
      throw new Error("no ctx");
    };
    expect(() => driver.start("patch", boom)).toThrow(new HarnessError("strategy probe threw in patch: no ctx"));
    function* throwsFirst(): Generator<Step, void, unknown> {
      throw new Error("bad slot");
    }
    expect(() => driver.start("IPI function", throwsFirst)).toThrow("strategy probe threw in IPI function: bad slot");
  });

  it("rejects a first yield that is no ctx step (yield x for yield* ctx.x())", () => {
    function* yieldsGenerator(): Generator<Step, void, unknown> {
      yield (function* () {})() as unknown as Step;
    }
    expect(() => driver.start("patch", yieldsGenerator)).toThrow(/patch yielded .*not a ctx step/);
  });
});
