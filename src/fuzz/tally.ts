import type { CellFindings } from "../types.js";
import type { ShippedFinding } from "./engine.js";

// A campaign's new signatures counted per (strategy, model) cell and per class, with its harness
// errors: what a night found, at a glance, beside the thousands of signatures it lists one by one.

interface Counts {
  readonly strategy: string;
  readonly model: string;
  divergences: number;
  readonly causes: Map<string, number>;
  ruleFindings: number;
  readonly rules: Map<string, number>;
  harnessErrors: number;
}

const cellKey = (strategy: string, model: string) => `${strategy}\u0000${model}`;

function bump(m: Map<string, number>, key: string): void {
  m.set(key, (m.get(key) ?? 0) + 1);
}

/** Most first, then by name: the same counts always print the same way. */
function ranked(m: ReadonlyMap<string, number>): [string, number][] {
  return [...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
}

export class FindingTally {
  private readonly cells = new Map<string, Counts>();
  /** Totals over every cell (the status line reads them several times a second). */
  divergences = 0;
  ruleFindings = 0;
  harnessErrors = 0;

  private cell(strategy: string, model: string): Counts {
    const key = cellKey(strategy, model);
    let c = this.cells.get(key);
    if (!c) this.cells.set(key, (c = { strategy, model, divergences: 0, causes: new Map(), ruleFindings: 0, rules: new Map(), harnessErrors: 0 }));
    return c;
  }

  /** Counts a signature new to the campaign (call once per signature). */
  add(f: Pick<ShippedFinding, "kind" | "cause" | "rule" | "strategy" | "model">): void {
    const c = this.cell(f.strategy, f.model);
    if (f.kind === "divergence") {
      c.divergences++;
      this.divergences++;
      bump(c.causes, f.cause ?? "?");
    } else {
      c.ruleFindings++;
      this.ruleFindings++;
      bump(c.rules, f.rule ?? "?");
    }
  }

  harnessError(strategy: string, model: string, count = 1): void {
    this.cell(strategy, model).harnessErrors += count;
    this.harnessErrors += count;
  }

  /**
   * Every cell asked for, in the order asked (strategies, then models), those without a finding
   * included; then the cells found beyond them (shards a hub handed out), in the order found.
   */
  byCell(strategies: readonly string[], models: readonly string[]): CellFindings[] {
    const asked = strategies.flatMap((strategy) => models.map((model) => ({ strategy, model })));
    const askedKeys = new Set(asked.map((a) => cellKey(a.strategy, a.model)));
    const extra = [...this.cells.values()].filter((c) => !askedKeys.has(cellKey(c.strategy, c.model)));
    return [...asked, ...extra].map(({ strategy, model }) => {
      const c = this.cells.get(cellKey(strategy, model));
      return {
        strategy, model, divergences: c?.divergences ?? 0, causes: c ? ranked(c.causes) : [],
        ruleFindings: c?.ruleFindings ?? 0, rules: c ? ranked(c.rules) : [], harnessErrors: c?.harnessErrors ?? 0,
      };
    });
  }
}
