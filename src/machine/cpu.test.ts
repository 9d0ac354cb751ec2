import { describe, expect, it } from "vitest";
import { assemble } from "../isa/asm.js";
import { decode } from "../isa/decode.js";
import { DATA_BASE, STACK_TOP } from "../types.js";
import { type Cpu, cloneCpu, ESP, execute, Flow, memoryHash, newCpu, sameMemory } from "./cpu.js";

// SPEC 2's semantics, instruction by instruction, on programs run straight from their bytes.

const BASE = 0x1000;

/** Runs `source` from its first byte until the core ends or traps; returns the state and the last flow. */
function run(source: string, from?: Cpu): { cpu: Cpu; flow: Flow; flows: Flow[] } {
  const { bytes } = assemble(source, BASE);
  const cpu = from ?? newCpu(BASE);
  const flows: Flow[] = [];
  for (let step = 0; step < 1000; step++) {
    const d = decode(bytes, cpu.pc - BASE, bytes.length);
    if ("incomplete" in d) throw new Error(`ran off the program at 0x${cpu.pc.toString(16)}`);
    const flow = execute(cpu, d, cpu.pc);
    flows.push(flow);
    if (flow === Flow.Ended || flow === Flow.Trap) return { cpu, flow, flows };
  }
  throw new Error("no end in 1000 steps");
}

const EAX = 0, ECX = 1, EBX = 3;

describe("execute", () => {
  it("mov r8 writes the low byte only; mov r32 the whole register", () => {
    const { cpu } = run("mov eax, 0x12345678\nmov al, 0xab\nmov ebx, 7\nhlt");
    expect(cpu.regs[EAX]).toBe(0x123456ab);
    expect(cpu.regs[EBX]).toBe(7);
    expect(cpu.end).toEqual({ kind: "halt" });
  });

  it("inc, dec, add and cmp set ZF (cmp leaves its register alone); je and jne follow ZF", () => {
    // ecx counts 3 down to 0: the loop body runs three times; cmp then picks the taken branch.
    const { cpu } = run(`
      mov ecx, 3
    loop:
      out 0x10, al
      dec ecx
      jne loop
      mov eax, 5
      cmp eax, 5
      je same
      out 0x11, al
    same:
      add eax, -5
      je zero
      out 0x12, al
    zero:
      inc eax
      hlt`);
    expect(cpu.events).toEqual([1, 2, 3].map(() => ({ kind: "out", port: 0x10, value: 0 })));
    expect(cpu.regs[ECX]).toBe(0);
    expect(cpu.regs[EAX]).toBe(1);
    expect(cpu.zf).toBe(false); // inc eax to 1
  });

  it("out appends (port, al); call pushes the return address on the core's stack and ret pops it", () => {
    const { cpu } = run(`
      mov eax, 0x1234
      call f
      out 0x21, al
      hlt
    f:
      out 0x20, al
      ret`);
    expect(cpu.events).toEqual([{ kind: "out", port: 0x20, value: 0x34 }, { kind: "out", port: 0x21, value: 0x34 }]);
    expect(cpu.regs[ESP]).toBe(STACK_TOP); // balanced
    // The pushed word stays below esp: the return address (BASE + 10), little-endian.
    expect(cpu.stack.slice(0, 4)).toEqual([0, 0, 0x10, 0x0a]);
  });

  it("mov [abs], eax and mov eax, [abs] reach private data only; outside it is #PF", () => {
    const { cpu } = run(`mov eax, 0xdeadbeef\nmov [${DATA_BASE + 8}], eax\nmov eax, 0\nmov eax, [${DATA_BASE + 8}]\nhlt`);
    expect(cpu.regs[EAX]).toBe(0xdeadbeef);
    expect(cpu.data.slice(8, 12)).toEqual([0xef, 0xbe, 0xad, 0xde]);
    expect(run(`mov [${DATA_BASE - 4}], eax\nhlt`).cpu.end).toEqual({ kind: "fault", fault: "#PF", addr: DATA_BASE - 4 });
  });

  it("ends on hlt, faults #UD at ud2's address, traps on int3 without counting it, serializes on cpuid", () => {
    const ud = run("nop\nud2");
    expect(ud.cpu.end).toEqual({ kind: "fault", fault: "#UD", addr: BASE + 1 });
    const trap = run("nop\nint3\nhlt");
    expect(trap.flow).toBe(Flow.Trap);
    expect(trap.cpu.instructions).toBe(1);
    expect(trap.cpu.end).toBeUndefined();
    expect(run("cpuid\nhlt").flows[0]).toBe(Flow.Serialize);
    expect(run("mfence\nhlt").flows[0]).toBe(Flow.Fence); // serializes fetch only where a model says so (run.ts)
  });

  it("cli and sti set IF", () => {
    const cpu = newCpu(BASE);
    expect(cpu.iflag).toBe(true);
    expect(run("cli\nhlt", cpu).cpu.iflag).toBe(false);
    expect(run("cli\nsti\nhlt").cpu.iflag).toBe(true);
  });
});

describe("core memory", () => {
  it("a clone shares memory until either stores (copy on write)", () => {
    const parent = run(`mov eax, 1\nmov [${DATA_BASE}], eax\nhlt`).cpu;
    const child = cloneCpu(parent);
    expect(sameMemory(parent, child)).toBe(true);
    child.pc = BASE;
    child.end = undefined;
    run(`mov eax, 2\nmov [${DATA_BASE}], eax\nhlt`, child);
    expect(parent.data[0]).toBe(1);
    expect(child.data[0]).toBe(2);
    expect(sameMemory(parent, child)).toBe(false);
    expect(memoryHash(parent)).not.toBe(memoryHash(child));
  });

  it("hashes what memory holds, not how it got there: zeros stored read as never stored", () => {
    const stored = run(`mov eax, 0\nmov [${DATA_BASE + 200}], eax\nhlt`).cpu;
    const untouched = run("hlt").cpu;
    expect(stored.data.length).toBeGreaterThan(0);
    expect(sameMemory(stored, untouched)).toBe(true);
    expect(memoryHash(stored)).toBe(memoryHash(untouched));
    const a = run(`mov eax, 5\nmov [${DATA_BASE}], eax\nmov eax, 6\nmov [${DATA_BASE + 4}], eax\nhlt`).cpu;
    const b = run(`mov eax, 6\nmov [${DATA_BASE + 4}], eax\nmov eax, 5\nmov [${DATA_BASE}], eax\nhlt`).cpu;
    expect(memoryHash(a)).toBe(memoryHash(b));
    // A word left on the live stack counts; one popped off does not.
    const pushed = run("call f\nf: hlt").cpu, popped = run("call f\nhlt\nf: ret").cpu;
    expect(memoryHash(pushed)).not.toBe(memoryHash(untouched));
    expect(memoryHash(popped)).toBe(memoryHash(untouched));
  });
});
