import { afterEach, describe, expect, it, vi } from "vitest";
import type { RuleFinding, Verdict } from "../types.js";
import { EXIT, exitFor, settleExit } from "./exit.js";

// SPEC 6.6: a stop_machine run that diverges or breaks a rule is a bug of the tool's, never a
// finding: no such run can be produced on purpose, so the verdicts here are written by hand.

const verdict = (strategy: string, kind: Verdict["kind"], rules: readonly RuleFinding[] = [], model = "sdm-strict"): Verdict =>
  ({ kind, strategy, model, divergences: [], rules, ...(kind === "diverges" ? { signature: `${strategy} ${model} torn-fetch wrong-output nop5->jmp32 write/0` } : {}) });
const rule = { rule: "unsynchronized-xmc", core: 1, addr: 0x1005, t: 9, bytes: [0xe9], phase: { kind: "write", syncs: 0 } } as unknown as RuleFinding;

afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

describe("exit statuses", () => {
  it("a divergence is 1, a harness error 3 and outranks it", () => {
    expect(exitFor([verdict("direct_write", "clean"), verdict("direct_write", "diverges")])).toBe(EXIT.divergence);
    expect(exitFor([verdict("direct_write", "diverges"), verdict("text_poke_bp", "harness-error")])).toBe(EXIT.harnessError);
    expect(exitFor([verdict("stop_machine", "clean"), verdict("direct_write", "clean", [rule])])).toBe(EXIT.clean);
  });

  it("stop_machine diverging or breaking a rule is 3, with one stderr line per model saying it is a bug of the tool's", () => {
    const lines: string[] = [];
    vi.spyOn(process.stderr, "write").mockImplementation((s) => (lines.push(String(s)), true));
    settleExit([verdict("direct_write", "diverges"), verdict("stop_machine", "diverges"), verdict("stop_machine", "diverges"), verdict("stop_machine", "clean", [rule], "x86-realistic")]);
    expect(process.exitCode).toBe(EXIT.harnessError);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^xmcfuzz: SELF-CHECK FAILED: stop_machine under sdm-strict: diverged \(stop_machine sdm-strict torn-fetch .*\)\. .*SPEC 6\.6.*bug in xmcfuzz/);
    expect(lines[1]).toMatch(/^xmcfuzz: SELF-CHECK FAILED: stop_machine under x86-realistic: broke the rule unsynchronized-xmc\./);
  });
});
