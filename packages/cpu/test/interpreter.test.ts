// The interpreter on short machine-code snippets (nasm sources in test/snippets.ts): execution in
// each mode, segmentation checks and their error codes, exception delivery and stack frames (IVT,
// 32-bit gates with a privilege change, 64-bit gates with IST), #PF with CR2 through real page
// tables, triple fault, self-modifying code inside a block, interrupts, and the stop reasons.
import { describe, expect, it } from "vitest";
import { Gpr, Seg, StopReason } from "../src/index.js";
import { createMachine, L, SEL, type TestMachine } from "./modes.js";
import { bytesOf, type Snippet } from "./snippet.js";
import { SNIPPETS } from "./snippets.js";

function load(m: TestMachine, s: Snippet): void {
  m.load(s.org, bytesOf(s));
}

const reg = (m: TestMachine, r: number): bigint =>
  (BigInt(m.cpu.state.hi(r)) << 32n) | BigInt(m.cpu.state.lo(r));
const R = { R9: 9, R10: 10, R11: 11, R12: 12, R13: 13, R14: 14, R15: 15 } as const;

describe("real mode", () => {
  it("runs arithmetic, the stack, CALL/RET and a memory read-modify-write", () => {
    const m = createMachine("real");
    load(m, SNIPPETS.realBasics);
    m.write32(0x600, 10);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(m.cpu.state.get16(Gpr.RAX)).toBe(42);
    expect(m.cpu.state.get16(Gpr.RCX)).toBe(42);
    expect(m.read32(0x600)).toBe(15);
    expect(m.cpu.state.get16(Gpr.RSP)).toBe(0x7000);
    expect(m.cpu.instructions).toBe(9);
  });

  it("INT n goes through the IVT and pushes FLAGS, CS, IP (SDM vol. 3, 21.1.4)", () => {
    const m = createMachine("real");
    const s = SNIPPETS.realInt;
    load(m, s);
    m.cpu.state.flags.write(0x202 | 0x1);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    const st = m.cpu.state;
    expect(st.get16(Gpr.RAX)).toBe(s.labels.after); // pushed IP: the next instruction
    expect(st.get16(Gpr.RBX)).toBe(0); // pushed CS
    expect(st.get16(Gpr.RCX) & 0x203).toBe(0x203); // pushed FLAGS (IF and CF set)
    expect(st.get16(Gpr.RSI)).toBe(0x1234); // IRET came back
    expect(st.flags.read() & 0x200).toBe(0x200); // IF restored by IRET
    expect(m.cpu.eventCounts[0x21]).toBe(1);
  });

  it("a divide error is a fault: the pushed IP is the DIV itself", () => {
    const m = createMachine("real");
    const s = SNIPPETS.realDivide;
    load(m, s);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(m.cpu.state.get16(Gpr.RDI)).toBe(s.labels.fault);
    expect(m.cpu.eventCounts[0]).toBe(1);
  });

  it("an external interrupt wakes HLT when IF = 1 and returns after it", () => {
    let pending = true;
    let acks = 0;
    const m = createMachine("real", {
      hasInterrupt: () => pending,
      acknowledge: () => {
        pending = false;
        acks++;
        return 0x30;
      },
    });
    pending = false;
    load(m, SNIPPETS.realIrq);
    expect(m.cpu.run(100)).toBe(StopReason.Halted); // STI; HLT with nothing pending
    pending = true;
    expect(m.cpu.run(100)).toBe(StopReason.Halted); // the handler ran, then the second HLT
    expect(acks).toBe(1);
    expect(m.cpu.state.get16(Gpr.RAX)).toBe(0x77);
    expect(m.cpu.state.get16(Gpr.RBX)).toBe(0x55);
  });
});

describe("protected mode: segmentation checks and 32-bit delivery", () => {
  function withGpHandler(snippet: Snippet): TestMachine {
    const m = createMachine("protected");
    load(m, snippet);
    load(m, SNIPPETS.gpHandler32);
    m.gate(13, L.HANDLER);
    return m;
  }

  it("an access beyond a data segment's limit is #GP(0) at the faulting instruction", () => {
    const s = SNIPPETS.protLimit;
    const m = withGpHandler(s);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    const st = m.cpu.state;
    expect(st.lo(Gpr.RBX)).toBe(s.labels.fault); // pushed EIP
    expect(st.lo(Gpr.RAX)).toBe(0); // error code
    expect(st.lo(Gpr.RCX)).toBe(SEL.CODE32); // pushed CS
  });

  it("loading a selector beyond the GDT limit is #GP(selector)", () => {
    const m = withGpHandler(SNIPPETS.protBadSelector);
    m.cpu.run(100);
    expect(m.cpu.state.lo(Gpr.RAX)).toBe(0x60);
    expect(m.cpu.state.lo(Gpr.RBX)).toBe(SNIPPETS.protBadSelector.labels.fault + 4);
  });

  it("MOV SS with a selector whose DPL is not the CPL is #GP(selector)", () => {
    const m = withGpHandler(SNIPPETS.protBadSs);
    m.cpu.run(100);
    expect(m.cpu.state.lo(Gpr.RAX)).toBe(0x30);
  });

  it("INT from ring 3 switches to SS0:ESP0 from the TSS and pushes SS, ESP, EFLAGS, CS, EIP", () => {
    const m = createMachine("protected");
    load(m, SNIPPETS.protRing3);
    load(m, SNIPPETS.int80Handler32);
    m.gate(0x80, L.HANDLER, { dpl: 3 });
    m.write32(L.TSS + 4, L.KSTACK); // ESP0
    // A 32-bit TSS: make TR a 32-bit available TSS of the GDT's 0x40 slot.
    m.cpu.state.segAccess[Seg.TR] = 0x8b;
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    const st = m.cpu.state;
    const userInt = SNIPPETS.protRing3.labels.user! + 5; // after MOV ESI, imm32
    expect(st.lo(Gpr.RSI)).toBe(0x1111);
    expect(st.lo(Gpr.RAX)).toBe(userInt + 2); // EIP after INT 0x80
    expect(st.lo(Gpr.RBX)).toBe(0x2b); // CS (ring 3)
    expect(st.lo(Gpr.RCX) & 0x200).toBe(0x200); // EFLAGS
    expect(st.lo(Gpr.RDX)).toBe(0x50000); // ESP of ring 3
    expect(st.lo(Gpr.RBP)).toBe(0x33); // SS of ring 3
    expect(st.lo(Gpr.RDI)).toBe(L.KSTACK - 20);
    expect(st.segSelector[Seg.SS]).toBe(SEL.DATA);
    expect(st.segSelector[Seg.CS]).toBe(SEL.CODE32);
  });
});

describe("long mode: page faults, canonical checks, IST and the frame", () => {
  function withHandler(snippet: Snippet, vector: number, handler: Snippet, ist = 0): TestMachine {
    const m = createMachine("long");
    load(m, snippet);
    load(m, handler);
    m.gate(vector, L.HANDLER, { ist });
    return m;
  }

  it("#PF on a not-present page: CR2, error code 0, the 64-bit frame on the IST stack", () => {
    const m = withHandler(SNIPPETS.longPageFault, 14, SNIPPETS.pfHandler64, 1);
    m.write64(L.PD + 5 * 8, 0n); // 10-12 MiB not present
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(reg(m, R.R14)).toBe(0xa00000n); // CR2
    expect(reg(m, R.R13)).toBe(0n); // error code: not present, read, supervisor
    expect(reg(m, R.R12)).toBe(BigInt(SNIPPETS.longPageFault.labels.fault1!)); // RIP of the fault
    expect(reg(m, R.R11)).toBe(BigInt(SEL.CODE64)); // CS
    expect(reg(m, R.R10)).toBe(BigInt(L.STACK)); // old RSP
    expect(reg(m, R.R9)).toBe(BigInt(SEL.DATA64)); // old SS
    expect(reg(m, R.R15)).toBe(BigInt(L.IST1 - 48)); // IST1, 16-byte aligned, 6 qwords
    expect(m.cpu.state.lo(Gpr.RAX)).toBe(0x11);
  });

  it("#PF on a write to a read-only page has error code P|W (3)", () => {
    const m = withHandler(SNIPPETS.longWriteProtect, 14, SNIPPETS.pfHandler64);
    m.write64(L.PD + 6 * 8, BigInt(6 * 0x200000 + 0x85)); // present, user, not writable
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(reg(m, R.R13)).toBe(3n);
    expect(reg(m, R.R14)).toBe(0xc00000n);
    expect(reg(m, R.R12)).toBe(BigInt(SNIPPETS.longWriteProtect.labels.fault2!));
    expect(reg(m, R.R15)).toBe(BigInt(L.STACK - 48)); // same privilege, no IST: the current stack
  });

  it("a non-canonical data address is #GP(0), a non-canonical stack address #SS(0)", () => {
    const gp = withHandler(SNIPPETS.longNonCanonical, 13, SNIPPETS.excHandler64);
    gp.cpu.run(100);
    expect(reg(gp, R.R13)).toBe(0n);
    expect(reg(gp, R.R12)).toBe(BigInt(SNIPPETS.longNonCanonical.labels.fault!));
    const ss = withHandler(SNIPPETS.longStackNonCanonical, 12, SNIPPETS.excHandler64, 1);
    ss.cpu.run(100);
    expect(ss.cpu.eventCounts[12]).toBe(1);
    expect(reg(ss, R.R13)).toBe(0n);
    expect(reg(ss, R.R12)).toBe(BigInt(SNIPPETS.longStackNonCanonical.labels.fault!));
  });

  it("#DE from DIV by zero in 64-bit mode (no error code pushed)", () => {
    const m = withHandler(SNIPPETS.divideError64, 0, SNIPPETS.excHandler64);
    m.cpu.run(100);
    expect(reg(m, R.R13)).toBe(BigInt(SNIPPETS.divideError64.labels.fault!));
    expect(reg(m, R.R12)).toBe(BigInt(SEL.CODE64));
  });

  it("an exception with no usable IDT ends in a triple fault (Shutdown)", () => {
    const m = createMachine("long");
    load(m, SNIPPETS.tripleFault);
    m.cpu.state.idtr.limit = 0;
    expect(m.cpu.run(100)).toBe(StopReason.Shutdown);
    expect(m.cpu.eventCounts[8]).toBe(1); // #DF was attempted
    expect(m.cpu.run(100)).toBe(StopReason.Shutdown); // stays shut down until reset()
  });

  it("SYSCALL/SYSRET round trip from ring 3 (STAR, LSTAR, FMASK, RCX/R11)", () => {
    const m = createMachine("long");
    const s = SNIPPETS.syscallRoundTrip;
    load(m, s);
    // The user's HLT at CPL 3 is #GP(0): a ring-0 handler (stack from TSS.RSP0) halts.
    load(m, SNIPPETS.hltOnly);
    m.gate(13, L.HANDLER);
    expect(m.cpu.run(200)).toBe(StopReason.Halted);
    expect(m.cpu.eventCounts[13]).toBe(1);
    expect(m.cpu.state.lo(Gpr.RSP)).toBe(L.KSTACK - 48);
    expect(reg(m, R.R13)).toBe(BigInt(s.labels.user! + 7)); // RCX = return address
    expect(Number(reg(m, R.R14)) & 0x200).toBe(0x200); // R11 = RFLAGS with IF
    expect(reg(m, R.R12)).toBe(0x99n); // RAX from the kernel
    expect(m.cpu.state.segSelector[Seg.CS]).toBe(SEL.CODE64);
  });
});

describe("decoded blocks", () => {
  it("a store into the next instruction of the running block takes effect (self-modifying code)", () => {
    const m = createMachine("long");
    load(m, SNIPPETS.smc);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(m.cpu.state.lo(Gpr.RAX)).toBe(42);
  });

  it("re-runs decoded code after a loader rewrites it", () => {
    const m = createMachine("long");
    load(m, SNIPPETS.smc);
    m.cpu.run(100);
    m.cpu.state.rip = SNIPPETS.smc.labels.patch!;
    m.cpu.halted = false;
    m.load(SNIPPETS.smc.labels.patch! + 1, [7, 0, 0, 0]);
    m.memory.write8(SNIPPETS.smc.labels.patch! + 1, 9, 1);
    m.cpu.run(100);
    expect(m.cpu.state.lo(Gpr.RAX)).toBe(9);
  });

  it("an instruction the interpreter lacks stops the run with its name and address", () => {
    const m = createMachine("long");
    const s = SNIPPETS.unimplemented;
    load(m, s);
    m.cpu.state.cr[8] = m.cpu.state.cr[8]! | 0x200; // CR4.OSFXSR: SSE is enabled, so ADDPS would run
    expect(m.cpu.run(100)).toBe(StopReason.Unimplemented);
    expect(m.cpu.unimplemented).toEqual({ name: "Addps_V_W", rip: s.org + 5 });
    expect(m.cpu.state.rip).toBe(s.org + 5);
    expect(m.cpu.state.lo(Gpr.RAX)).toBe(3);
    expect(m.cpu.instructions).toBe(1);
  });

  it("stops after exactly the budget", () => {
    const m = createMachine("long");
    load(m, SNIPPETS.budget);
    expect(m.cpu.run(7)).toBe(StopReason.Budget);
    expect(m.cpu.instructions).toBe(7);
    expect(m.cpu.run(10)).toBe(StopReason.Budget);
    expect(m.cpu.instructions).toBe(17);
    expect(m.cpu.state.lo(Gpr.RAX)).toBe(9); // 9 INCs among 17 instructions (INC, JMP, ...)
  });
});

describe("instructions", () => {
  it("REP MOVSB forwards and backwards, REPE CMPSB stops at the first difference", () => {
    const m = createMachine("long");
    load(m, SNIPPETS.strings);
    for (let k = 0; k < 16; k++) m.ram.bytes[0x300000 + k] = 0x10 + k;
    m.ram.bytes.set([0x10, 0x11, 0x12, 0x13, 0x14, 0x99], 0x300400);
    m.cpu.run(100);
    expect([...m.ram.bytes.subarray(0x300100, 0x300110)]).toEqual(
      Array.from({ length: 16 }, (_, k) => 0x10 + k),
    );
    expect([...m.ram.bytes.subarray(0x300200, 0x300208)]).toEqual(
      Array.from({ length: 8 }, (_, k) => 0x10 + k),
    );
    const st = m.cpu.state;
    expect(st.lo(Gpr.RCX)).toBe(10); // 6 compared, the 6th differed
    expect(st.lo(Gpr.RSI)).toBe(0x300006);
    expect(st.flags.zf()).toBe(0);
  });

  it("MUL, DIV, BSWAP, BSR, SETcc, CMOVcc, LEA in 64-bit mode", () => {
    const m = createMachine("long");
    load(m, SNIPPETS.arith64);
    m.cpu.run(100);
    expect(reg(m, 8)).toBe(2n); // high half of (2^64 - 1) * 3
    expect(reg(m, R.R9)).toBe(0xfffffffffffffffdn);
    expect(reg(m, R.R10)).toBe(14n);
    expect(reg(m, R.R11)).toBe(2n);
    expect(reg(m, Gpr.RBX)).toBe(0x0807060504030201n);
    expect(reg(m, Gpr.RDI)).toBe(7n);
    expect(m.cpu.state.lo(Gpr.RBP) & 0xff).toBe(1);
    expect(reg(m, R.R13)).toBe(5n);
    expect(reg(m, R.R14)).toBe(32n);
  });

  it("a quadword access that crosses a page boundary is split", () => {
    const m = createMachine("long");
    load(m, SNIPPETS.split);
    m.cpu.run(100);
    expect(reg(m, Gpr.RBX)).toBe(0x1122334455667788n);
    expect(m.cpu.state.lo(Gpr.RCX)).toBe(0x33445566);
    expect(m.read32(0x301000)).toBe(0x11223344);
  });

  it("CPUID leaf 0 reports the model's vendor", () => {
    const m = createMachine("long");
    load(m, SNIPPETS.cpuid);
    m.cpu.run(100);
    const st = m.cpu.state;
    const text = [st.lo(Gpr.RBX), st.lo(Gpr.RDX), st.lo(Gpr.RCX)]
      .map((v) => String.fromCharCode(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24))
      .join("");
    expect(text).toBe(m.cpu.model.vendor);
    expect(st.lo(Gpr.RAX)).toBeGreaterThanOrEqual(1);
  });
});

describe("privilege checks", () => {
  it("IN at CPL 3 with IOPL 0 consults the TSS I/O permission bitmap: allowed port, then #GP(0)", () => {
    const m = createMachine("protected");
    const s = SNIPPETS.ring3Io;
    load(m, s);
    load(m, SNIPPETS.gpHandler32);
    m.gate(13, L.HANDLER);
    m.io.register(0x80, 2, { read: () => 0x5a, write: () => {} }, "probe");
    m.cpu.state.segLimit[Seg.TR] = 0x68 + 0x20;
    m.ram.bytes[L.TSS + 0x66] = 0x68; // I/O map base
    m.ram.bytes[L.TSS + 0x68 + 0x10] = 0x02; // port 0x81 denied, 0x80 allowed
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    const st = m.cpu.state;
    expect(st.lo(Gpr.RSI)).toBe(1); // the first IN went through
    expect(st.lo(Gpr.RAX)).toBe(0); // #GP error code
    expect(st.lo(Gpr.RBX)).toBe(s.labels.fault);
    expect(m.cpu.eventCounts[13]).toBe(1);
  });

  it("POPF at CPL 3 keeps IOPL and IF; CLI at CPL 3 > IOPL is #GP(0)", () => {
    const m = createMachine("protected");
    const s = SNIPPETS.ring3Cli;
    load(m, s);
    load(m, SNIPPETS.gpHandler32);
    m.gate(13, L.HANDLER);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    const st = m.cpu.state;
    expect(st.lo(Gpr.RSI) & 0x3000).toBe(0);
    expect(st.lo(Gpr.RSI) & 0x200).toBe(0x200);
    expect(st.lo(Gpr.RBX)).toBe(s.labels.fault);
  });

  it("LTR marks the TSS descriptor busy; STR reads the selector back", () => {
    const m = createMachine("long");
    load(m, SNIPPETS.ltrBusy);
    expect(m.ram.bytes[L.GDT + 0x45]).toBe(0x89);
    m.cpu.run(100);
    expect(m.ram.bytes[L.GDT + 0x45]).toBe(0x8b);
    expect(m.cpu.state.get16(Gpr.RBX)).toBe(SEL.TSS);
    expect(m.cpu.state.segBase[2 * Seg.TR]).toBe(L.TSS);
  });
});

describe("interrupt timing and real-mode segment limits", () => {
  it("an interrupt pending at STI is taken after the next instruction (the STI shadow)", () => {
    let pending = true;
    const m = createMachine("real", {
      hasInterrupt: () => pending,
      acknowledge: () => {
        pending = false;
        return 0x30;
      },
    });
    load(m, SNIPPETS.stiShadow);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(m.cpu.state.get16(Gpr.RCX)).toBe(1);
    expect(m.cpu.state.get16(Gpr.RBX)).toBe(2);
  });

  it("real mode honours the cached limit: 64 KiB raises #GP, a 4 GiB limit left by protected mode does not", () => {
    const small = createMachine("real");
    load(small, SNIPPETS.unrealMode);
    small.cpu.run(100);
    expect(small.cpu.state.get16(Gpr.RDI)).toBe(0xdead);
    const big = createMachine("real");
    load(big, SNIPPETS.unrealMode);
    big.write32(0x200000, 0x12345678);
    big.cpu.state.segLimit[Seg.DS] = 0xffffffff;
    big.cpu.run(100);
    expect(big.cpu.state.get16(Gpr.RDI)).toBe(0);
    expect(big.cpu.state.lo(Gpr.RAX)).toBe(0x12345678);
  });
});

describe("legacy paging modes", () => {
  it("32-bit paging with 4 MiB pages (CR4.PSE), enabled by MOV CR0", () => {
    const m = createMachine("protected");
    load(m, SNIPPETS.paging32);
    m.write32(0x20000, 0x00000083); // 0-4 MiB identity
    m.write32(0x20004, 0x00800083); // 4-8 MiB -> 8-12 MiB
    m.write32(0x800000, 0x5eed);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(m.cpu.state.lo(Gpr.RBX)).toBe(0x5eed);
    expect(m.read32(0x800004)).toBe(0xcafe);
    expect(m.read32(0x20004) & 0x60).toBe(0x60); // accessed and dirty set by the walk
  });

  it("PAE paging outside long mode: PDPTEs loaded from CR3, 2 MiB pages", () => {
    const m = createMachine("protected");
    load(m, SNIPPETS.pagingPae);
    m.write32(0x21000, 0x22001); // PDPTE 0 -> PD at 0x22000
    m.write32(0x22000, 0x00000083); // 0-2 MiB identity
    m.write32(0x22008, 0x00200083); // 2-4 MiB identity (code at 1 MiB is in the first)
    m.write32(0x22010, 0x00800083); // 4-6 MiB -> 8-10 MiB
    m.write32(0x800000, 0x5eed);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(m.cpu.state.lo(Gpr.RBX)).toBe(0x5eed);
    expect(m.read32(0x800004)).toBe(0xcafe);
  });
});

describe("compiled blocks (second tier)", () => {
  for (const compile of [true, false]) {
    it(`a fault inside a hot block reports the faulting instruction and count (compile=${compile})`, () => {
      const m = createMachine("long");
      m.cpu.compile = compile;
      const s = SNIPPETS.hotLoopFault;
      load(m, s);
      load(m, SNIPPETS.pfHandler64);
      m.gate(14, L.HANDLER);
      m.write64(L.PD + 5 * 8, 0n); // 10-12 MiB not present
      expect(m.cpu.run(10_000)).toBe(StopReason.Halted);
      expect(reg(m, R.R12)).toBe(BigInt(s.labels.top!)); // faulting RIP
      expect(reg(m, R.R14)).toBe(0xa00000n); // CR2
      expect(m.cpu.state.lo(Gpr.RCX)).toBe(100);
      expect(m.cpu.instructions).toBe(2 + 100 * 4 + 8);
    });
  }
});

describe("external interrupts and reset", () => {
  it("long mode: INTR with IF = 1 goes through the 64-bit gate and is acknowledged once", () => {
    let pending = false;
    let acks = 0;
    const m = createMachine("long", {
      hasInterrupt: () => pending,
      acknowledge: () => {
        pending = false;
        acks++;
        return 0x40;
      },
    });
    load(m, SNIPPETS.longIrq);
    load(m, SNIPPETS.excHandler64);
    m.gate(0x40, L.HANDLER);
    expect(m.cpu.run(100)).toBe(StopReason.Halted); // nothing pending: STI, NOP, NOP, HLT
    expect(m.cpu.halted).toBe(true);
    pending = true;
    expect(m.cpu.run(100)).toBe(StopReason.Halted); // woken, handler halts
    expect(acks).toBe(1);
    expect(reg(m, R.R13)).toBe(BigInt(SNIPPETS.longIrq.labels.after! + 1)); // return RIP: after HLT
    expect(reg(m, R.R12)).toBe(BigInt(SEL.CODE64));
    expect(m.cpu.state.flags.read() & 0x200).toBe(0); // an interrupt gate clears IF
    expect(m.cpu.eventCounts[0x40]).toBe(1);
  });

  it("reset() starts at F000:FFF0, linear 0xFFFFFFF0 (SDM vol. 3, 10.1.4)", () => {
    const m = createMachine("long");
    const rom = new Uint8Array(0x10000);
    rom[0xfff0] = 0xf4; // hlt
    m.memory.mapRom(0xffff0000, rom, "bios");
    m.cpu.reset();
    const st = m.cpu.state;
    expect(st.segSelector[Seg.CS]).toBe(0xf000);
    expect(st.rip).toBe(0xfff0);
    expect(st.cr[0]).toBe(0x60000010);
    expect(m.cpu.run(10)).toBe(StopReason.Halted);
    expect(st.rip).toBe(0xfff1);
    expect(m.cpu.instructions).toBe(1);
  });
});

describe("legacy instructions", () => {
  it("PUSHA/POPA, DAA, AAD and a multi-byte NOP in 16-bit code", () => {
    const m = createMachine("real");
    load(m, SNIPPETS.pushaBcd);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    const st = m.cpu.state;
    expect(st.get16(Gpr.RCX)).toBe(2);
    expect(st.get16(Gpr.RBX)).toBe(4);
    expect(st.get16(Gpr.RDI)).toBe(7);
    expect(st.get16(Gpr.RSP)).toBe(0x7000);
    expect(st.get16(Gpr.RDX) & 0xff).toBe(0x47); // 19 + 28 = 47 in BCD
    expect(st.get16(Gpr.RSI)).toBe(35); // AAD: 3 * 10 + 5
    expect(m.read32(0x7000 - 10) & 0xffff).toBe(0x7000); // the SP image PUSHA stored (5th word)
  });
});

describe("system tables in the upper half of the address space", () => {
  it("IDT, GDT and TSS at 0xFFFFFF80_xxxxxxxx (a kernel's layout) deliver a #PF through IST", () => {
    const m = createMachine("long");
    const HIGH = 0xffffff80_00000000n;
    m.write64(L.PML4 + 511 * 8, BigInt(L.PDPT | 7)); // alias the low 512 GiB at the top
    const st = m.cpu.state;
    const split = (a: bigint): [number, number] => [Number(a & 0xffffffffn), Number(a >> 32n)];
    [st.idtr.baseLo, st.idtr.baseHi] = split(HIGH + BigInt(L.IDT));
    [st.gdtr.baseLo, st.gdtr.baseHi] = split(HIGH + BigInt(L.GDT));
    [st.segBase[2 * Seg.TR]!, st.segBase[2 * Seg.TR + 1]!] = split(HIGH + BigInt(L.TSS));
    load(m, SNIPPETS.longPageFault);
    load(m, SNIPPETS.pfHandler64);
    m.gate(14, L.HANDLER, { ist: 1 });
    m.write64(L.PD + 5 * 8, 0n);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(reg(m, R.R14)).toBe(0xa00000n);
    expect(reg(m, R.R15)).toBe(BigInt(L.IST1 - 48));
  });
});

describe("more system and general-purpose instructions", () => {
  it("SGDT/SIDT, LAR/LSL/VERW, CR4.FSGSBASE with WRFSBASE/RDFSBASE, FS-relative access, RDMSR FS_BASE", () => {
    const m = createMachine("long");
    load(m, SNIPPETS.systemMisc);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    const st = m.cpu.state;
    expect(m.read32(0x300000) & 0xffff).toBe(st.gdtr.limit);
    expect(m.read64(0x300002)).toBe(BigInt(L.GDT));
    expect(m.read64(0x300012)).toBe(BigInt(L.IDT));
    expect(st.lo(Gpr.RBX)).toBe(0x00af9a00 & 0x00f0ff00); // LAR: the access-rights bytes
    expect(st.lo(R.R11)).toBe(0xffffffff); // LSL: the 4 GiB limit of the flat code segment
    expect(st.lo(R.R13) & 0xff).toBe(1); // VERW of a writable data segment: ZF = 1
    expect(st.lo(Gpr.RSI)).toBe(0x11223344); // [fs:rdi] reached 0x300020
    expect(reg(m, 8)).toBe(0x123456789an);
    expect(st.lo(R.R9)).toBe(0x3456789a);
    expect(st.lo(R.R10)).toBe(0x12);
  });

  it("ENTER/LEAVE, CMPXCHG16B, LOOP, JRCXZ, REP INSB/OUTSB", () => {
    const m = createMachine("long");
    let inValue = 0x40;
    const out: number[] = [];
    m.io.register(0x90, 1, { read: () => inValue++, write: (_o, _s, v) => out.push(v) }, "probe");
    load(m, SNIPPETS.miscOps);
    expect(m.cpu.run(200)).toBe(StopReason.Halted);
    const st = m.cpu.state;
    expect(st.lo(Gpr.RBX)).toBe(0x4444); // RBX is only a source of CMPXCHG16B
    expect(m.read64(0x300040)).toBe(0x4444n);
    expect(m.read64(0x300048)).toBe(0x3333n);
    expect(st.lo(8) & 0xff).toBe(1);
    expect(st.lo(R.R9)).toBe(5);
    expect(st.lo(R.R10)).toBe(0); // JRCXZ jumped over
    expect(st.lo(Gpr.RSP)).toBe(L.STACK);
    expect([...m.ram.bytes.subarray(0x300080, 0x300084)]).toEqual([0x40, 0x41, 0x42, 0x43]);
    expect(out).toEqual([0x40, 0x41, 0x42, 0x43]);
  });

  it("SYSEXIT to 64-bit ring 3 and SYSENTER back (SYSENTER_CS/ESP/EIP)", () => {
    const m = createMachine("long");
    load(m, SNIPPETS.sysenterExit);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    const st = m.cpu.state;
    expect(st.lo(Gpr.RBX)).toBe(0x77); // ran in ring 3
    expect(st.segSelector[Seg.CS]).toBe(SEL.CODE64);
    expect(st.lo(R.R12)).toBe(0x60000); // RSP from SYSENTER_ESP
  });
});

describe("mode transitions", () => {
  it("protected → real mode the SDM's way (10.9.2): a 16-bit code segment, clear CR0.PE, far jump", () => {
    const m = createMachine("protected");
    load(m, SNIPPETS.backToReal);
    m.cpu.state.rip = SNIPPETS.backToReal.org;
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    const st = m.cpu.state;
    expect(st.get16(Gpr.RBX)).toBe(0x1234);
    expect(st.segSelector[Seg.CS]).toBe(0);
    expect(st.cr[0]! & 1).toBe(0);
    expect(m.cpu.bits).toBe(16);
  });

  it("64-bit → compatibility mode through RETFQ to a 32-bit code segment", () => {
    const m = createMachine("long");
    load(m, SNIPPETS.toCompat);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    const st = m.cpu.state;
    expect(st.lo(Gpr.RBX)).toBe(0x42);
    expect(st.segSelector[Seg.CS]).toBe(SEL.CODE32);
    expect(m.cpu.mode64).toBe(false);
    expect(m.cpu.bits).toBe(32);
  });
});

describe("the TLB across runs", () => {
  it("is kept between runs (like hardware) until invalidateTlb() or a guest flush", () => {
    const m = createMachine("long");
    const s = SNIPPETS.longPageFault;
    load(m, s);
    m.write64(L.PD + 5 * 8, BigInt(0x800000 | 0x83)); // 10 MiB -> 8 MiB
    m.write32(0x800000, 0xaaaa);
    m.write32(0xc00000, 0xbbbb);
    const again = (): number => {
      m.cpu.state.rip = s.org;
      m.cpu.halted = false;
      m.cpu.run(100);
      return m.cpu.state.lo(Gpr.RBX);
    };
    expect(again()).toBe(0xaaaa);
    m.write64(L.PD + 5 * 8, BigInt(0xc00000 | 0x83)); // remapped behind the CPU's back
    expect(again()).toBe(0xaaaa); // the cached translation
    m.cpu.invalidateTlb();
    expect(again()).toBe(0xbbbb);
  });
});

describe("x87 and SSE without an FPU", () => {
  it("SSE with CR4.OSFXSR clear is #UD; x87 with CR0.EM set is #NM; x87 otherwise stops as Unimplemented", () => {
    const ud = createMachine("long");
    load(ud, SNIPPETS.unimplemented);
    load(ud, SNIPPETS.excHandler64);
    ud.gate(6, L.HANDLER);
    expect(ud.cpu.run(100)).toBe(StopReason.Halted);
    expect(reg(ud, R.R13)).toBe(BigInt(SNIPPETS.unimplemented.org + 5)); // RIP of ADDPS

    const nm = createMachine("long");
    load(nm, SNIPPETS.x87);
    load(nm, SNIPPETS.excHandler64);
    nm.gate(7, L.HANDLER);
    nm.cpu.state.cr[0] = nm.cpu.state.cr[0]! | 4; // CR0.EM: no FPU
    expect(nm.cpu.run(100)).toBe(StopReason.Halted);
    expect(nm.cpu.eventCounts[7]).toBe(1);
    expect(reg(nm, R.R13)).toBe(BigInt(SNIPPETS.x87.org));

    const gap = createMachine("long");
    load(gap, SNIPPETS.x87);
    expect(gap.cpu.run(100)).toBe(StopReason.Unimplemented);
    expect(gap.cpu.unimplemented?.name).toBe("Fninit");
  });
});

describe("call gates", () => {
  it("CALL FAR through a 64-bit call gate from ring 3 switches to TSS.RSP0; RETF returns to ring 3", () => {
    const m = createMachine("long");
    const s = SNIPPETS.callGate64;
    load(m, s);
    load(m, SNIPPETS.hltOnly);
    m.gate(13, L.HANDLER); // the final HLT at CPL 3
    const kernel = s.labels.kernel!;
    m.write32(L.GDT + 0x60, (SEL.CODE64 << 16) | (kernel & 0xffff));
    m.write32(L.GDT + 0x64, (kernel & 0xffff0000) | 0xec00); // present, DPL 3, 64-bit call gate
    m.write64(L.GDT + 0x68, 0n);
    m.cpu.state.gdtr.limit = 0x6f;
    expect(m.cpu.run(200)).toBe(StopReason.Halted);
    expect(reg(m, R.R11)).toBe(BigInt(L.KSTACK - 32)); // the new stack, from TSS.RSP0
    expect(reg(m, R.R12)).toBe(BigInt(s.labels.back!)); // return RIP
    expect(reg(m, R.R13)).toBe(BigInt(SEL.CODE64_U)); // caller's CS
    expect(reg(m, R.R14)).toBe(0x50000n); // caller's RSP
    expect(reg(m, R.R15)).toBe(0x33n); // caller's SS
    expect(m.cpu.state.lo(Gpr.RBX)).toBe(0x99); // back in ring 3 after RETF
    expect(m.cpu.eventCounts[13]).toBe(1);
  });
});
