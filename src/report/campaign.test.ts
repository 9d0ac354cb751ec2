import { describe, expect, it } from "vitest";
import { findingsByCellLines } from "./campaign.js";

describe("findingsByCellLines", () => {
  it("aligns the cells, says none where nothing new was found, and flags harness errors", () => {
    const lines = findingsByCellLines([
      { strategy: "text_poke_bp", model: "sdm-strict", divergences: 1200, causes: [["bad-emulation", 1000], ["torn-fetch", 200]], ruleFindings: 1, rules: [["unsynchronized-xmc", 1]], harnessErrors: 0 },
      { strategy: "stop_machine", model: "noncoherent-icache", divergences: 0, causes: [], ruleFindings: 0, rules: [], harnessErrors: 0 },
      { strategy: "thrower", model: "m", divergences: 0, causes: [], ruleFindings: 0, rules: [], harnessErrors: 3 },
      { strategy: "x", model: "m", divergences: 0, causes: [], ruleFindings: 2, rules: [["unsynchronized-xmc", 2]], harnessErrors: 0 },
    ]);
    expect(lines).toEqual([
      "new signatures by cell (divergences by cause; rule findings by rule):",
      "  text_poke_bp  sdm-strict          1,200 divergences (bad-emulation 1000, torn-fetch 200); 1 rule finding (unsynchronized-xmc 1)",
      "  stop_machine  noncoherent-icache  none",
      "  thrower       m                   none  [3 harness errors: the cell's verdicts are not to be trusted]",
      "  x             m                   2 rule findings (unsynchronized-xmc 2)",
    ]);
  });

  it("says none when no cell is listed (a node that only served shards and found nothing)", () => {
    expect(findingsByCellLines([])).toEqual(["new signatures by cell: none"]);
  });
});
