import { describe, expect, it } from "vitest";
import { cloneCpu, ESP, newCpu, storeByte } from "../machine/cpu.js";
import { COPIED_CPU_FIELDS, CpuPool } from "./cpu-pool.js";

// Recycled states must be exactly the states cloneCpu and newCpu make, or verdicts would change.

function used() {
  const cpu = newCpu(0x1234);
  cpu.regs.set([1, 2, 3, 4, 5, 6, 7, 8]);
  cpu.zf = true;
  cpu.iflag = false;
  storeByte(cpu, "data", 5, 9);
  storeByte(cpu, "stack", 200, 7);
  cpu.events.push({ kind: "out", port: 1, value: 2 });
  cpu.end = { kind: "halt" };
  cpu.instructions = 42;
  return cpu;
}

describe("CpuPool", () => {
  it("copies every field a Cpu has", () => {
    expect([...COPIED_CPU_FIELDS].sort()).toEqual(Object.keys(newCpu(0)).sort());
  });

  it("recycles a state into an exact copy without events (cloneCpu(c, false))", () => {
    const pool = new CpuPool();
    pool.release(used());
    const source = newCpu(0x40);
    source.regs[ESP] -= 4;
    storeByte(source, "stack", 3, 0xaa); // the byte at STACK_TOP - 4
    source.instructions = 3;
    expect(pool.copyOf(source)).toEqual(cloneCpu(source, false));
  });

  it("makes a state at an entry point as newCpu does, recycled or not", () => {
    const pool = new CpuPool();
    expect(pool.atEntry(0x1000)).toEqual(newCpu(0x1000));
    pool.release(used());
    expect(pool.atEntry(0x2000)).toEqual(newCpu(0x2000));
  });
});
