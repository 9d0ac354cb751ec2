import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, runCli } from "../testing/cli.js";

// A run the oracle cannot judge (its membership search passes its work cap) has no verdict: the
// CLI says so in one line and exits 3 (a harness error's status), never as an internal error.
// The case was found by scripts/oracle-soak.js; its search takes a few seconds to give up.

const CASE = join(ROOT, "src", "testing", "cases", "oracle-gives-up.json");

describe("a run the oracle gives up on", () => {
  it("repro: one line naming the core and the cap, exit 3", () => {
    const r = runCli(["repro", CASE], 120_000);
    expect(r.stderr.trim()).toMatch(/^xmcfuzz: the oracle gave up on core 2: its membership search passed its work cap \(\d+ steps\), so this run has no verdict$/);
    expect(r.status).toBe(3);
  });
});
