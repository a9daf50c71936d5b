// REP string instructions count every iteration toward the instruction budget and the counter,
// and an interrupt can be taken between iterations with RIP at the REP instruction and RCX/RSI/RDI
// updated (SDM vol. 2B, "REP/REPE/REPZ/REPNE/REPNZ": interrupts and exceptions between
// iterations; vol. 3, 6.6 "Program or Task Restart").
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Gpr, StopReason } from "../src/index.js";
import { createMachine, L } from "./modes.js";
import { le32 } from "./snippet.js";

const REP_STOSB = [0xf3, 0xaa];
const REP_MOVSB = [0xf3, 0xa4];
const REPE_CMPSB = [0xf3, 0xa6];
const HLT = [0xf4];

function withRep(code: number[], rcx: number) {
  const m = createMachine("long");
  m.load(L.CODE, [...code, ...HLT]);
  const g = m.cpu.state.gpr;
  g[2 * Gpr.RCX] = rcx;
  g[2 * Gpr.RDI] = L.DATA;
  g[2 * Gpr.RSI] = L.DATA + 0x100000;
  g[2 * Gpr.RAX] = 0x5a;
  return m;
}

describe("REP and the instruction budget", () => {
  it("each iteration is one instruction: a budget of 100 runs 100 iterations and stops at the REP", () => {
    const m = withRep(REP_STOSB, 10_000);
    expect(m.cpu.run(100)).toBe(StopReason.Budget);
    expect(m.cpu.instructions).toBe(100);
    expect(m.cpu.state.lo(Gpr.RCX)).toBe(10_000 - 100);
    expect(m.cpu.state.lo(Gpr.RDI)).toBe(L.DATA + 100);
    expect(m.cpu.state.rip).toBe(L.CODE);
    expect(m.ram.bytes[L.DATA + 99]).toBe(0x5a);
    expect(m.ram.bytes[L.DATA + 100]).toBe(0);
  });

  it("runs to the end over many slices, counting count + 1 (the HLT) instructions", () => {
    const m = withRep(REP_STOSB, 10_000);
    let slices = 0;
    while (m.cpu.run(333) === StopReason.Budget) slices++;
    expect(slices).toBe(30);
    expect(m.cpu.instructions).toBe(10_001);
    expect(m.cpu.state.lo(Gpr.RCX)).toBe(0);
    expect(m.cpu.state.lo(Gpr.RDI)).toBe(L.DATA + 10_000);
    expect(m.cpu.state.rip).toBe(L.CODE + 3);
  });

  it("a REP that completes inside a block does not let the rest of the block overrun the budget", () => {
    const INC_RBX = [0x48, 0xff, 0xc3];
    const m = withRep([...REP_STOSB, ...INC_RBX, ...INC_RBX, ...INC_RBX, ...INC_RBX, ...INC_RBX], 10);
    expect(m.cpu.run(12)).toBe(StopReason.Budget);
    expect(m.cpu.instructions).toBe(12);
    expect(m.cpu.state.lo(Gpr.RBX)).toBe(2);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(m.cpu.instructions).toBe(10 + 5 + 1);
  });

  it("a REP with a zero count is one instruction", () => {
    const m = withRep(REP_STOSB, 0);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(m.cpu.instructions).toBe(2);
  });

  it("REPE CMPS counts only the iterations it ran before ZF ended it", () => {
    const m = withRep(REPE_CMPSB, 1000);
    m.ram.bytes.fill(7, L.DATA, L.DATA + 40);
    m.ram.bytes.fill(7, L.DATA + 0x100000, L.DATA + 0x100000 + 40);
    m.ram.bytes[L.DATA + 0x100000 + 24] = 8; // differs at the 25th byte
    expect(m.cpu.run(10_000)).toBe(StopReason.Halted);
    expect(m.cpu.instructions).toBe(25 + 1);
    expect(m.cpu.state.lo(Gpr.RCX)).toBe(1000 - 25);
  });

  it("law: slicing never changes the final state or the count (REP MOVSB, then a short REP STOSB)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 0, max: 2000 }), (slice, count) => {
        const run = (budget: number) => {
          const m = withRep([...REP_MOVSB, 0xb9, 0x10, 0, 0, 0, ...REP_STOSB], count);
          while (m.cpu.run(budget) === StopReason.Budget) {}
          return [
            m.cpu.instructions,
            m.cpu.state.lo(Gpr.RDI),
            m.cpu.state.lo(Gpr.RSI),
            m.cpu.state.lo(Gpr.RCX),
          ];
        };
        expect(run(slice)).toEqual(run(1_000_000));
        expect(run(slice)[0]).toBe(Math.max(count, 1) + 1 + 16 + 1); // a zero-count REP is one
      }),
      { numRuns: 25 },
    );
  });

  it("the same final state and count whatever the slicing", () => {
    const run = (slice: number) => {
      const m = withRep([...REP_MOVSB, 0xb9, 0x40, 0, 0, 0, ...REP_STOSB], 5000);
      for (let k = 0; k < 5000; k++) m.ram.bytes[L.DATA + 0x100000 + k] = k & 0xff;
      let n = 0;
      while (m.cpu.run(slice) === StopReason.Budget) n++;
      return { n, ins: m.cpu.instructions, rdi: m.cpu.state.lo(Gpr.RDI), rsi: m.cpu.state.lo(Gpr.RSI) };
    };
    const whole = run(1_000_000);
    expect(whole.n).toBe(0);
    expect(whole.ins).toBe(5000 + 1 + 64 + 1);
    for (const slice of [1, 7, 100, 4999]) expect({ ...run(slice), n: 0 }).toEqual(whole);
  });
});

describe("interrupts between iterations", () => {
  it("an interrupt pending at a budget stop is taken with RIP at the REP and RCX updated; the REP then completes", () => {
    let pending = false;
    const m = createMachine("long", {
      hasInterrupt: () => pending,
      acknowledge: () => {
        pending = false;
        return 0x40;
      },
    });
    m.load(L.CODE, [0xfb, ...REP_STOSB, ...HLT]); // sti; rep stosb; hlt
    // handler: mov rbx, rcx; mov rdx, [rsp] (return RIP); iretq
    m.load(L.HANDLER, [0x48, 0x89, 0xcb, 0x48, 0x8b, 0x14, 0x24, 0x48, 0xcf]);
    m.gate(0x40, L.HANDLER);
    const g = m.cpu.state.gpr;
    g[2 * Gpr.RCX] = 3000;
    g[2 * Gpr.RDI] = L.DATA;
    g[2 * Gpr.RAX] = 0x11;
    expect(m.cpu.run(1001)).toBe(StopReason.Budget); // STI + 1000 iterations
    pending = true;
    expect(m.cpu.run(100_000)).toBe(StopReason.Halted);
    const s = m.cpu.state;
    expect(s.lo(Gpr.RBX)).toBe(2000); // RCX when the interrupt came
    expect(s.lo(Gpr.RDX)).toBe(L.CODE + 1); // the pushed RIP is the REP STOSB
    expect(s.lo(Gpr.RCX)).toBe(0);
    expect(s.lo(Gpr.RDI)).toBe(L.DATA + 3000);
    expect(m.ram.bytes[L.DATA + 2999]).toBe(0x11);
    expect(m.ram.bytes[L.DATA + 3000]).toBe(0);
    expect(m.cpu.instructions).toBe(1 + 3000 + 3 + 1);
  });

  it("an NMI raised during a long REP is taken within it (the REP yields every few thousand iterations)", () => {
    let raised = false;
    const m = createMachine("long");
    // rep outsb to port 0x80 whose handler raises an NMI at its 10th byte; then hlt
    m.load(L.CODE, [0xf3, 0x6e, ...HLT]);
    m.load(L.HANDLER, [0x48, 0x89, 0xcb, 0x48, 0xcf]); // NMI: mov rbx, rcx; iretq
    m.gate(2, L.HANDLER);
    let bytes = 0;
    m.io.register(0x80, 1, {
      read: () => 0,
      write: () => {
        bytes++;
        if (bytes === 10 && !raised) {
          raised = true;
          m.cpu.raiseNmi();
        }
      },
    });
    const g = m.cpu.state.gpr;
    g[2 * Gpr.RCX] = 100_000;
    g[2 * Gpr.RDX] = 0x80;
    g[2 * Gpr.RSI] = L.DATA;
    expect(m.cpu.run(1_000_000)).toBe(StopReason.Halted);
    expect(m.cpu.state.lo(Gpr.RBX)).toBe(100_000 - 10); // taken right after the 10th iteration
    expect(bytes).toBe(100_000);
  });
});

describe("a fault in the middle", () => {
  it("leaves RCX/RDI at the faulting iteration and counts the iterations done", () => {
    const m = createMachine("long");
    m.load(L.CODE, [...REP_STOSB, ...HLT]);
    m.load(L.HANDLER, HLT);
    m.gate(14, L.HANDLER);
    const g = m.cpu.state.gpr;
    g[2 * Gpr.RCX] = 0x200;
    g[2 * Gpr.RDI] = 0x3fffff00; // the identity map ends at 1 GiB
    expect(m.cpu.run(10_000)).toBe(StopReason.Halted);
    expect(m.cpu.eventCounts[14]).toBe(1);
    expect(m.cpu.state.cr[4]).toBe(0x40000000);
    expect(m.cpu.state.lo(Gpr.RCX)).toBe(0x100);
    expect(m.cpu.state.lo(Gpr.RDI)).toBe(0x40000000);
    expect(m.cpu.instructions).toBe(0x100 + 1); // 256 iterations, then the handler's HLT
  });
});

describe("REP INS/OUTS and device interrupts", () => {
  it("an interrupt a device raises during REP OUTSB is taken between iterations (RIP at the REP, RCX left)", () => {
    let pending = false;
    let writes = 0;
    const m = createMachine("long", {
      hasInterrupt: () => pending,
      acknowledge: () => {
        pending = false;
        return 0x40;
      },
    });
    m.io.register(0x2005, 1, {
      read: () => 0,
      write: () => {
        if (++writes === 4) pending = true;
      },
    });
    m.gate(0x40, L.HANDLER);
    // handler: mov r13, [rsp] (return RIP); mov r12, rcx; hlt
    m.load(L.HANDLER, [0x4c, 0x8b, 0x2c, 0x24, 0x49, 0x89, 0xcc, 0xf4]);
    // sti; mov ecx, 16; mov dx, 0x2005; mov rsi, L.DATA; rep outsb; hlt
    m.load(L.CODE, [
      0xfb,
      0xb9,
      16,
      0,
      0,
      0,
      0x66,
      0xba,
      0x05,
      0x20,
      0x48,
      0xc7,
      0xc6,
      ...le32(L.DATA),
      0xf3,
      0x6e,
      0xf4,
    ]);
    expect(m.cpu.run(1000)).toBe(StopReason.Halted);
    expect(writes).toBe(4);
    expect(m.cpu.state.get32(Gpr.R12)).toBe(12);
    expect(m.cpu.state.get32(Gpr.R13)).toBe(L.CODE + 17); // the REP OUTSB itself
  });
});
