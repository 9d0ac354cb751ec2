import seedrandom from "seedrandom";
import { describe, expect, it } from "vitest";
import { type Cpu, ESP, newCpu, storeByte } from "../machine/cpu.js";
import { STACK_TOP } from "../types.js";
import { type BranchState, EntryMemory, VisitedStates } from "./visited.js";

// The membership search's memo (SPEC 6.3): a state counts as visited only when it equals a
// recorded one in pc, registers, ZF, memory, observation position, passages, switch state, slot
// and slot version, and the recorded one's failure implies its own given the instruction counts.
// Anything else would prune a branch the reference family still needs.

const OLD = Uint8Array.from([0x0f, 0x1f, 0x44, 0x00, 0x00]), NEW = Uint8Array.from([0xe9, 0x10, 0x00, 0x00, 0x00]);

function state(edit: (s: { cpu: Cpu; pos: number; n: number; sw: number[]; slot: number; content: Uint8Array }) => void = () => {}): BranchState {
  const s = { cpu: newCpu(0x1000), pos: 3, n: 2, sw: [0, 1], slot: 0, content: OLD };
  s.cpu.regs[0] = 7;
  s.cpu.regs[ESP] = STACK_TOP - 4; // a word on the live stack
  edit(s);
  return { ...s, memory: new EntryMemory(s.cpu) };
}

describe("VisitedStates", () => {
  it("knows a state it recorded, by value", () => {
    const visited = new VisitedStates(false);
    expect(visited.visit(state(), true)).toBe(false);
    expect(visited.visit(state(), true)).toBe(true);
  });

  it("covers a twin with another instruction count only where the explored one's failure implies the twin's", () => {
    // Ended core: a twin that has run more meets the search's limit sooner. Hung core: a twin that
    // has run fewer reaches the observed count later, so it can only end before it sooner.
    const cases: [hang: boolean, covered: number[], notCovered: number[]][] = [
      [false, [40, 41, 99], [39]],
      [true, [40, 39, 0], [41]],
    ];
    for (const [hang, covered, notCovered] of cases) {
      const visited = new VisitedStates(hang);
      visited.visit(state((s) => { s.cpu.instructions = 40; }), true);
      const twin = (count: number) => visited.visit(state((s) => { s.cpu.instructions = count; }), false);
      for (const count of covered) expect(twin(count), `hang ${hang}, ${count}`).toBe(true);
      for (const count of notCovered) expect(twin(count), `hang ${hang}, ${count}`).toBe(false);
    }
  });

  it("tells apart states that differ in any one field, memory included", () => {
    const visited = new VisitedStates(false);
    visited.visit(state(), true);
    const variants: [string, BranchState][] = [
      ["pc", state((s) => { s.cpu.pc = 0x1005; })],
      ["a register", state((s) => { s.cpu.regs[3] = 1; })],
      ["ZF", state((s) => { s.cpu.zf = true; })],
      ["memory", state((s) => storeByte(s.cpu, "data", 4, 1))],
      ["the live stack", state((s) => storeByte(s.cpu, "stack", 0, 1))],
      ["observation position", state((s) => { s.pos = 4; })],
      ["passages completed", state((s) => { s.n = 3; })],
      ["switch state", state((s) => { s.sw = [1, 1]; })],
      ["slot", state((s) => { s.slot = 1; })],
      ["slot version", state((s) => { s.content = NEW; })],
    ];
    for (const [field, s] of variants) expect(visited.visit(s, false), field).toBe(false);
    // Memory stored as zeros is the same memory as none stored.
    expect(visited.visit(state((s) => storeByte(s.cpu, "data", 4, 0)), false)).toBe(true);
  });

  it("compares states field by field: a hash collision costs a comparison, never a wrong answer", () => {
    // 100,000 recorded states and 100,000 others, each pair differing in one field only (random
    // values: sequential ones never collide): about ten pairs share the memo's 30-bit hash, and
    // every state not recorded must still be unvisited.
    const rng = seedrandom.alea("collisions");
    const bytes = () => Uint8Array.from({ length: 5 }, () => Math.floor(rng() * 256));
    const key = (b: Uint8Array) => b.join();
    const recorded = new Set<string>(), positions = new Set<number>();
    const byContent = new VisitedStates(false), byPosition = new VisitedStates(false);
    for (let i = 0; i < 100_000; i++) {
      const content = bytes();
      recorded.add(key(content));
      byContent.visit(state((s) => { s.content = content; }), true);
      const pos = Math.floor(rng() * 2 ** 31);
      positions.add(pos);
      byPosition.visit(state((s) => { s.pos = pos; }), true);
    }
    let wrong = 0;
    for (let i = 0; i < 100_000; i++) {
      const content = bytes();
      if (!recorded.has(key(content)) && byContent.visit(state((s) => { s.content = content; }), false)) wrong++;
      const pos = Math.floor(rng() * 2 ** 31);
      if (!positions.has(pos) && byPosition.visit(state((s) => { s.pos = pos; }), false)) wrong++;
    }
    expect(wrong).toBe(0);
  });

  it("records only when asked, and keeps a copy, not the live state", () => {
    const visited = new VisitedStates(false);
    expect(visited.visit(state(), false)).toBe(false);
    expect(visited.visit(state(), false)).toBe(false);
    const live = state();
    visited.visit(live, true);
    live.cpu.regs[0] = 8; // the branch runs on
    live.sw[0] = 1;
    expect(visited.visit(state(), false)).toBe(true);
  });
});
