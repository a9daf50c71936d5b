// Virtual-8086 mode, written from the SDM (vol. 3, chapter 20 "8086 Emulation"; vol. 2 IRET, INT n,
// CLI, STI, PUSHF, POPF): entry by IRETD at CPL 0, 8086 addressing, the IOPL-sensitive
// instructions, the I/O permission bitmap, leaving through IDT gates with the 8086 segment
// registers on the ring-0 stack, the virtual-mode extensions (VIF/VIP, interrupt redirection
// through the TSS bitmap to the 8086 IVT: Table 20-2's six methods) and protected-mode virtual
// interrupts. The ring-0 side is the flat 32-bit machine of test/modes.ts (TSS: ESP0 = L.KSTACK,
// SS0 = SEL.DATA).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Gpr, Rflags, restore, Seg, StopReason, snapshot } from "../src/index.js";
import { createMachine, L, SEL, type TestMachine } from "./modes.js";
import { bytesOf, type Snippet } from "./snippet.js";
import { V86_SNIPPETS as P } from "./v86-snippets.js";

const VM = Rflags.VM;
const IF = Rflags.IF;
const VIF = Rflags.VIF;
const VIP = Rflags.VIP;
const IOPL3 = Rflags.IOPL;

/** The 8086 task's segments. */
const CS86 = 0x1000;
const SS86 = 0x4000;
const DS86 = 0x2000;
const ES86 = 0x3000;
const FS86 = 0x5000;
const GS86 = 0x6000;
const SP86 = 0xfffe;

/** Ring-0 handlers (32-bit code): #GP and #UD halt; others are placed per test. */
const GP_HANDLER = L.HANDLER;
const UD_HANDLER = L.HANDLER + 0x10;
const INT_HANDLER = L.HANDLER + 0x100;
/** Where the monitor of the "skip and return" tests counts its #GPs. */
const COUNTER = L.DATA;

interface V86Options {
  /** EFLAGS image (VM is added). */
  readonly flags?: number;
  /** CR4 (VME = 1, PVI = 2). */
  readonly cr4?: number;
  /** IP of the 8086 program. */
  readonly ip?: number;
}

/**
 * A protected-mode machine whose first instruction is an IRETD at CPL 0 with an EFLAGS image
 * that has VM = 1: it enters the 8086 program `code` at CS86:ip.
 */
function v86Machine(code: Snippet | number[], options: V86Options = {}): TestMachine {
  const m = createMachine("protected");
  m.load(CS86 << 4, Array.isArray(code) ? code : bytesOf(code));
  m.gate(13, GP_HANDLER);
  m.gate(6, UD_HANDLER);
  m.load(GP_HANDLER, [0xf4]); // hlt
  m.load(UD_HANDLER, [0xf4]);
  const frame = [options.ip ?? 0, CS86, (options.flags ?? 0x2) | VM, SP86, SS86, ES86, DS86, FS86, GS86];
  const esp = L.STACK - 4 * frame.length;
  for (const [k, v] of frame.entries()) m.write32(esp + 4 * k, v);
  m.cpu.state.gpr[8] = esp;
  m.load(L.CODE, [0xcf]); // iretd
  m.cpu.state.cr[8] = options.cr4 ?? 0;
  return m;
}

/** The dwords at the current ESP (a ring-0 handler's frame). */
function stackFrame(m: TestMachine, n: number): number[] {
  const esp = m.cpu.state.gpr[8]!;
  return Array.from({ length: n }, (_, k) => m.read32(esp + 4 * k));
}

/** Asserts the processor took #GP (or `vector`) from 8086 code at `ip` and is halted in the ring-0 handler. */
function expectV86Fault(m: TestMachine, ip: number, error: number, vector = 13): void {
  expect(m.cpu.eventCounts[vector]).toBe(1);
  const s = m.cpu.state;
  expect(s.segSelector[Seg.CS]).toBe(SEL.CODE32);
  expect(s.flags.read() & VM).toBe(0);
  const [err, eip, cs, eflags] = stackFrame(m, 4);
  expect(err).toBe(error);
  expect(eip).toBe(ip);
  expect(cs).toBe(CS86);
  expect(eflags! & VM).toBe(VM);
}

/**
 * Gives the TSS a software-interrupt redirection bitmap (32 bytes) and an I/O permission bitmap
 * (8 KiB and the terminating byte), every bit set except the vectors and ports listed.
 */
function tssBitmaps(m: TestMachine, redirect: number[], ports: number[]): void {
  const mapBase = 0x88;
  m.ram.bytes.fill(0xff, L.TSS + mapBase - 32, L.TSS + mapBase + 0x2001);
  for (const v of redirect) m.ram.bytes[L.TSS + mapBase - 32 + (v >>> 3)]! &= ~(1 << (v & 7));
  for (const p of ports) m.ram.bytes[L.TSS + mapBase + (p >>> 3)]! &= ~(1 << (p & 7));
  m.ram.bytes[L.TSS + 0x66] = mapBase;
  m.ram.bytes[L.TSS + 0x67] = 0;
  m.cpu.state.segLimit[Seg.TR] = mapBase + 0x2000;
}

describe("the committed v86 snippet bytes are what nasm assembles", () => {
  let nasm = true;
  try {
    execFileSync("nasm", ["-v"], { stdio: "ignore" });
  } catch {
    nasm = false;
  }
  it.skipIf(!nasm)("every snippet", () => {
    const dir = mkdtempSync(join(tmpdir(), "cpu-v86-"));
    for (const [name, s] of Object.entries(P)) {
      const src = join(dir, `${name}.asm`);
      const bin = join(dir, `${name}.bin`);
      writeFileSync(src, `bits ${s.bits}\norg ${s.org}\n${s.src}`);
      execFileSync("nasm", ["-f", "bin", "-o", bin, src]);
      expect(readFileSync(bin).toString("hex"), name).toBe(s.hex);
    }
  });
});

describe("entering virtual-8086 mode by IRETD at CPL 0 (SDM IRET, RETURN-TO-VIRTUAL-8086-MODE)", () => {
  it("loads CS, SS, ES, DS, FS, GS as 8086 segments (base = selector x 16, limit 0xFFFF) at CPL 3", () => {
    const m = v86Machine(P.segArith, { flags: 0x2 });
    expect(m.cpu.run(1)).toBe(StopReason.Budget); // just the IRETD
    const s = m.cpu.state;
    expect(s.rip).toBe(0);
    expect(s.flags.read() & VM).toBe(VM);
    expect(m.cpu.cpl).toBe(3);
    expect(s.gpr[8]).toBe(SP86);
    const expected: [number, number][] = [
      [Seg.CS, CS86],
      [Seg.SS, SS86],
      [Seg.DS, DS86],
      [Seg.ES, ES86],
      [Seg.FS, FS86],
      [Seg.GS, GS86],
    ];
    for (const [seg, sel] of expected) {
      expect(s.segSelector[seg]).toBe(sel);
      expect(s.segBase[2 * seg]).toBe(sel << 4);
      expect(s.segLimit[seg]).toBe(0xffff);
      expect(s.segAccess[seg]).toBe(0xf3);
    }
  });

  it("runs 8086 code with segment arithmetic; HLT at CPL 3 is #GP(0) to the ring-0 handler", () => {
    const m = v86Machine(P.segArith);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    const s = m.cpu.state;
    // DS = 0x2000 : 0x10 and ES = 0x2001 : 0 are the same linear byte 0x20010.
    expect(m.read32(0x20010) & 0xffff).toBe(0xbeef);
    expect(s.get16(Gpr.RBX)).toBe(0xbeef);
    expect(s.get16(Gpr.RCX)).toBe(0xbeef); // through the stack at SS:SP
    expect(s.get16(Gpr.RDX)).toBe(SP86);
    expect(m.read32((SS86 << 4) + SP86 - 2) & 0xffff).toBe(0xbeef);
    expectV86Fault(m, P.segArith.labels.stop, 0);
  });

  it("a hot 8086 loop runs through the compiled tier with the same result", () => {
    // mov cx, 1000; xor ax, ax; l: add ax, cx; loop l; hlt
    const code = [0xb9, 0xe8, 0x03, 0x31, 0xc0, 0x01, 0xc8, 0xe2, 0xfc, 0xf4];
    for (const compile of [true, false]) {
      const m = v86Machine(code);
      m.cpu.compile = compile;
      expect(m.cpu.run(10_000)).toBe(StopReason.Halted);
      expect(m.cpu.state.get16(Gpr.RAX)).toBe(((1000 * 1001) / 2) & 0xffff);
      expectV86Fault(m, 9, 0);
    }
  });

  it("an EIP image beyond 0xFFFF is #GP(0) at the IRETD, still in protected mode", () => {
    const m = v86Machine(P.segArith, { ip: 0x10000 });
    expect(m.cpu.run(10)).toBe(StopReason.Halted);
    expect(m.cpu.eventCounts[13]).toBe(1);
    const [err, eip, cs] = stackFrame(m, 3);
    expect(err).toBe(0);
    expect(eip).toBe(L.CODE);
    expect(cs).toBe(SEL.CODE32);
    expect(m.cpu.state.segSelector[Seg.DS]).toBe(SEL.DATA); // nothing was loaded
  });

  it("a word at offset 0xFFFF crosses the 64 KiB limit: #GP(0)", () => {
    const m = v86Machine(P.limitFault);
    expect(m.cpu.run(10)).toBe(StopReason.Halted);
    expect(m.cpu.state.get16(Gpr.RAX)).toBe(0x1234);
    expectV86Fault(m, 3, 0);
  });

  it("a segment load in virtual-8086 mode sets limit 0xFFFF whatever the register held", () => {
    const m = v86Machine([0xb8, 0x00, 0x20, 0x8e, 0xd8, 0x8b, 0x36, 0xff, 0xff]); // mov ax, 0x2000; mov ds, ax; mov si, [0xffff]
    expect(m.cpu.run(1)).toBe(StopReason.Budget);
    m.cpu.state.segLimit[Seg.DS] = 0xffffffff; // as a VMM or a snapshot may leave it
    expect(m.cpu.run(10)).toBe(StopReason.Halted);
    expect(m.cpu.state.get16(Gpr.RAX)).toBe(0x2000);
    expectV86Fault(m, 5, 0);
  });

  it("8086 linear addresses go through paging as user accesses: a supervisor page is #PF(P|W|U)", () => {
    const m = v86Machine(P.segArith);
    const PD = 0x90000;
    const PT = 0x91000;
    for (let k = 0; k < 1024; k++) m.write32(PT + 4 * k, k * 4096 + 7);
    m.write32(PT + 4 * 0x10, 0x400000 + 7); // the 8086 code page: linear 0x10000 -> 0x400000
    m.write32(PT + 4 * 0x20, 0x20000 + 3); // DS's page: supervisor only
    m.write32(PD, PT + 7);
    m.load(0x400000, bytesOf(P.segArith));
    m.load(CS86 << 4, [0xf4]); // what would run without the translation
    m.gate(14, GP_HANDLER);
    const s = m.cpu.state;
    s.cr[6] = PD;
    s.cr[0] = 0x80000011;
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expectV86Fault(m, 5, 7, 14);
    expect(s.cr[4]).toBe(0x20010);
  });

  it("the state survives a snapshot round trip in virtual-8086 mode", () => {
    const m = v86Machine(P.segArith);
    expect(m.cpu.run(3)).toBe(StopReason.Budget); // IRETD, MOV AX, MOV DS
    const snap = JSON.parse(JSON.stringify(snapshot(m.cpu.state)));
    m.cpu.reset();
    restore(snap, m.cpu.state);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(m.read32(0x20010) & 0xffff).toBe(0xbeef);
    expectV86Fault(m, P.segArith.labels.stop, 0);
  });
});

describe("leaving virtual-8086 mode through the IDT (SDM INT n, INTERRUPT-FROM-VIRTUAL-8086-MODE)", () => {
  it("#GP pushes GS, FS, DS, ES, SS, ESP, EFLAGS, CS, EIP, error on the TSS's ring-0 stack and nulls the data segments", () => {
    const m = v86Machine(P.segArith, { flags: 0x2 | IF });
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    const s = m.cpu.state;
    expect(s.gpr[8]).toBe(L.KSTACK - 40);
    const [err, eip, cs, eflags, esp, ss, es, ds, fs, gs] = stackFrame(m, 10);
    expect([err, eip, cs, esp, ss, es, ds, fs, gs]).toEqual([
      0,
      P.segArith.labels.stop,
      CS86,
      SP86,
      SS86,
      0x2001,
      0x2000,
      FS86,
      GS86,
    ]);
    expect(eflags! & (VM | IF)).toBe(VM | IF);
    expect(s.segSelector[Seg.SS]).toBe(SEL.DATA);
    for (const seg of [Seg.ES, Seg.DS, Seg.FS, Seg.GS]) {
      expect(s.segSelector[seg]).toBe(0);
      expect(s.segAccess[seg]! & 0x10000).toBe(0x10000);
    }
    expect(m.cpu.cpl).toBe(0);
    expect(s.flags.read() & (VM | IF)).toBe(0); // interrupt gate
    expect(s.rip).toBe(GP_HANDLER + 1);
  });

  it("a trap gate leaves IF set", () => {
    const m = v86Machine(P.limitFault, { flags: 0x2 | IF });
    m.gate(13, GP_HANDLER, { trap: true });
    expect(m.cpu.run(10)).toBe(StopReason.Halted);
    expect(m.cpu.state.flags.read() & (IF | VM)).toBe(IF);
    expect(stackFrame(m, 5)[4]).toBe(SP86);
  });

  it("a gate whose code segment is not ring 0 is #GP(selector) (here a DPL-3 segment)", () => {
    const m = v86Machine([0xcd, 0x30, 0xeb, 0xfe], { flags: 0x2 | IOPL3 }); // int 0x30; jmp $
    m.gate(0x30, INT_HANDLER, { dpl: 3 });
    m.write32(L.IDT + 0x30 * 8, (m.read32(L.IDT + 0x30 * 8) & 0xffff) | (SEL.CODE32_U << 16));
    m.load(INT_HANDLER, [0xf4]);
    expect(m.cpu.run(10)).toBe(StopReason.Halted);
    expectV86Fault(m, 0, SEL.CODE32_U & 0xfffc);
  });

  it("a 16-bit interrupt gate pushes the same frame as words", () => {
    const m = v86Machine(P.intThroughIdt, { flags: 0x2 | IF | IOPL3 });
    const handler = 0x9000; // offset in SEL.CODE16 (base 0, limit 0xFFFF)
    m.write32(L.IDT + 0x30 * 8, (SEL.CODE16 << 16) | handler);
    m.write32(L.IDT + 0x30 * 8 + 4, 0x0000e600); // present, DPL 3, 16-bit interrupt gate
    m.load(handler, [0xf4]);
    expect(m.cpu.run(20)).toBe(StopReason.Halted);
    const s = m.cpu.state;
    expect(s.segSelector[Seg.CS]).toBe(SEL.CODE16);
    expect(s.rip).toBe(handler + 1);
    expect(s.gpr[8]).toBe(L.KSTACK - 18);
    const words = Array.from({ length: 9 }, (_, k) => m.read32(L.KSTACK - 18 + 2 * k) & 0xffff);
    expect(words).toEqual([
      P.intThroughIdt.labels.after,
      CS86,
      0x2 | IF | IOPL3, // the low word of EFLAGS (VM is bit 17)
      SP86,
      SS86,
      ES86,
      DS86,
      FS86,
      GS86,
    ]);
  });

  it("an expand-down ring-0 stack takes the frame below ESP0 when it fits above the limit", () => {
    const m = v86Machine(P.segArith);
    // GDT 0x60: expand-down writable data (B = 1, byte granular), DPL 0, base 0, limit 0x50000.
    m.write32(L.GDT + 0x60, 0x00000000);
    m.write32(L.GDT + 0x64, 0x00459600);
    m.cpu.state.gdtr.limit = 0x67;
    m.write32(L.TSS + 8, 0x60);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(m.cpu.state.segSelector[Seg.SS]).toBe(0x60);
    expect(m.cpu.state.gpr[8]).toBe(L.KSTACK - 40);
    expect(stackFrame(m, 3)).toEqual([0, P.segArith.labels.stop, CS86]);
    // The limit now covers the frame: #SS, which cannot be delivered either (triple fault).
    const low = v86Machine(P.segArith);
    low.write32(L.GDT + 0x60, 0x0000ffe0);
    low.write32(L.GDT + 0x64, 0x00459600); // limit 0x5FFE0
    low.cpu.state.gdtr.limit = 0x67;
    low.gate(8, GP_HANDLER);
    low.write32(L.TSS + 8, 0x60);
    expect(low.cpu.run(100)).toBe(StopReason.Shutdown);
    expect(low.cpu.eventCounts[8]).toBe(1); // #GP then #SS: a double fault, whose delivery faults too
    expect([low.cpu.excVector, low.cpu.excError]).toEqual([12, 0x60 + 1]); // #DF's delivery: #SS(SS0 selector + EXT)
  });

  it("a ring-0 stack too small for the frame is #SS (here a triple fault: nothing can be delivered)", () => {
    const m = v86Machine(P.segArith);
    m.write32(L.TSS + 4, 0x10);
    m.write32(L.TSS + 8, SEL.SMALL); // limit 15 bytes
    m.gate(8, GP_HANDLER);
    expect(m.cpu.run(100)).toBe(StopReason.Shutdown);
    expect(m.cpu.eventCounts[8]).toBe(1);
    expect([m.cpu.excVector, m.cpu.excError]).toEqual([12, SEL.SMALL + 1]);
  });

  it("an external interrupt goes through the IDT even with VME and a clear redirection bit", () => {
    let pending = true;
    const m = createMachine("protected", {
      hasInterrupt: () => pending,
      acknowledge: () => {
        pending = false;
        return 0x40;
      },
    });
    pending = false;
    m.load(CS86 << 4, [0xeb, 0xfe]); // jmp $
    const frame = [0, CS86, 0x2 | IF | VM, SP86, SS86, ES86, DS86, FS86, GS86];
    for (const [k, v] of frame.entries()) m.write32(L.STACK - 36 + 4 * k, v);
    m.cpu.state.gpr[8] = L.STACK - 36;
    m.load(L.CODE, [0xcf]);
    m.cpu.state.cr[8] = 1; // VME
    tssBitmaps(m, [0x40], []);
    m.gate(0x40, INT_HANDLER);
    m.load(INT_HANDLER, [0xf4]);
    expect(m.cpu.run(5)).toBe(StopReason.Budget);
    pending = true;
    expect(m.cpu.run(5)).toBe(StopReason.Halted);
    expect(m.cpu.eventCounts[0x40]).toBe(1);
    const [eip, cs, eflags, , , , ds] = stackFrame(m, 9);
    expect([eip, cs, ds]).toEqual([0, CS86, DS86]);
    expect(eflags! & VM).toBe(VM);
  });
});

describe("IOPL-sensitive instructions in virtual-8086 mode", () => {
  it("CLI with IOPL 0 traps to the monitor, which skips it and returns to the 8086 program by IRETD", () => {
    const m = v86Machine(P.cliLoop, { flags: 0x2 | IF });
    m.load(GP_HANDLER, bytesOf(P.monitorSkip));
    expect(m.cpu.run(40)).toBe(StopReason.Budget);
    const s = m.cpu.state;
    expect(m.read32(COUNTER)).toBe(2); // CLI and STI
    expect(s.get16(Gpr.RAX)).toBe(0x55);
    expect(s.get16(Gpr.RBX)).toBe(0x66);
    expect(s.flags.read() & (VM | IF)).toBe(VM | IF);
    expect(s.rip).toBe(P.cliLoop.labels.spin);
    expect(s.segSelector[Seg.DS]).toBe(DS86); // restored from the frame
    expect(s.segBase[2 * Seg.DS]).toBe(DS86 << 4);
    expect(s.gpr[8]).toBe(SP86);
  });

  it("CLI with IOPL 3 clears IF itself", () => {
    const m = v86Machine([0xfa, 0xeb, 0xfe], { flags: 0x2 | IF | IOPL3 }); // cli; jmp $
    expect(m.cpu.run(10)).toBe(StopReason.Budget);
    expect(m.cpu.eventCounts[13]).toBe(0);
    expect(m.cpu.state.flags.read() & (IF | VM)).toBe(VM);
  });

  it("INT n with IOPL 3 goes through a DPL-3 gate to ring 0 (method 1); IRETD returns to the 8086 program", () => {
    const m = v86Machine(P.intThroughIdt, { flags: 0x2 | IF | IOPL3 });
    m.gate(0x30, INT_HANDLER, { dpl: 3 });
    m.load(INT_HANDLER, [0xf4, 0xcf]); // hlt; iretd
    expect(m.cpu.run(20)).toBe(StopReason.Halted);
    const s = m.cpu.state;
    expect(s.get16(Gpr.RAX)).toBe(0x1111);
    expect(s.gpr[8]).toBe(L.KSTACK - 36);
    const [eip, cs, eflags, esp, ss, es, ds, fs, gs] = stackFrame(m, 9);
    expect([eip, cs, esp, ss, es, ds, fs, gs]).toEqual([
      P.intThroughIdt.labels.after,
      CS86,
      SP86,
      SS86,
      ES86,
      DS86,
      FS86,
      GS86,
    ]);
    expect(eflags! & (VM | IF | IOPL3)).toBe(VM | IF | IOPL3);
    expect(s.flags.read() & (VM | IF)).toBe(0);
    m.cpu.halted = false;
    expect(m.cpu.run(20)).toBe(StopReason.Halted); // back in v86: MOV BX, then HLT traps
    expect(s.get16(Gpr.RBX)).toBe(0x2222);
    expectV86Fault(m, P.intThroughIdt.labels.stop, 0);
  });

  it("INT n with IOPL 3 through a DPL-0 gate is #GP(vector x 8 + 2)", () => {
    const m = v86Machine(P.intThroughIdt, { flags: 0x2 | IOPL3 });
    m.gate(0x30, INT_HANDLER, { dpl: 0 });
    expect(m.cpu.run(20)).toBe(StopReason.Halted);
    expectV86Fault(m, 3, 0x30 * 8 + 2);
  });

  it("INT n with IOPL < 3 and no VME is #GP(0) (method 2)", () => {
    const m = v86Machine(P.intThroughIdt, { flags: 0x2 });
    m.gate(0x30, INT_HANDLER, { dpl: 3 });
    expect(m.cpu.run(20)).toBe(StopReason.Halted);
    expectV86Fault(m, 3, 0);
    expect(m.cpu.eventCounts[0x30]).toBe(0);
  });

  it("INT3 is not IOPL-sensitive: it goes through its gate with IOPL 0", () => {
    const m = v86Machine([0xcc, 0xeb, 0xfe], { flags: 0x2 }); // int3; jmp $
    m.gate(3, INT_HANDLER, { dpl: 3 });
    m.load(INT_HANDLER, [0xf4]);
    expect(m.cpu.run(20)).toBe(StopReason.Halted);
    expect(m.cpu.eventCounts[3]).toBe(1);
    expect(m.cpu.eventCounts[13]).toBe(0);
    expect(stackFrame(m, 2)).toEqual([1, CS86]);
  });

  it("PUSHF, POPF and IRET with IOPL < 3 and no VME are #GP(0); with IOPL 3 they run", () => {
    for (const code of [[0x9c], [0x9d], [0xcf], [0x66, 0x9c]]) {
      const m = v86Machine([...code, 0xeb, 0xfe], { flags: 0x2 });
      expect(m.cpu.run(10), code.join()).toBe(StopReason.Halted);
      expectV86Fault(m, 0, 0);
    }
    const m = v86Machine([0x9c, 0x9d, 0xeb, 0xfe], { flags: 0x2 | IOPL3 | 0x1 }); // pushf; popf
    expect(m.cpu.run(10)).toBe(StopReason.Budget);
    expect(m.cpu.eventCounts[13]).toBe(0);
    expect(m.read32((SS86 << 4) + SP86 - 2) & 0xffff).toBe(0x3003); // IOPL 3, CF
  });

  it("instructions of protected mode: LAR, LSL, VERR, ARPL, SLDT are #UD; LGDT, MOV CR, HLT, RDMSR are #GP(0)", () => {
    const cases: [number[], number][] = [
      [[0x0f, 0x02, 0xc3], 6], // lar ax, bx
      [[0x0f, 0x03, 0xc3], 6], // lsl ax, bx
      [[0x0f, 0x00, 0xe0], 6], // verr ax
      [[0x63, 0xd8], 6], // arpl ax, bx
      [[0x0f, 0x00, 0xc0], 6], // sldt ax
      [[0x0f, 0x01, 0x16, 0x00, 0x00], 13], // lgdt [0]
      [[0x0f, 0x20, 0xc0], 13], // mov eax, cr0
      [[0x0f, 0x22, 0xc0], 13], // mov cr0, eax
      [[0xf4], 13], // hlt
      [[0x0f, 0x32], 13], // rdmsr
    ];
    for (const [code, vector] of cases) {
      const m = v86Machine([...code, 0xeb, 0xfe], { flags: 0x2 | IOPL3 });
      expect(m.cpu.run(10), code.join()).toBe(StopReason.Halted);
      expect(m.cpu.eventCounts[vector], code.join()).toBe(1);
      const frame = stackFrame(m, 3);
      if (vector === 6) expect(frame.slice(0, 2), code.join()).toEqual([0, CS86]);
      else expect(frame, code.join()).toEqual([0, 0, CS86]);
    }
  });
});

describe("the I/O permission bitmap in virtual-8086 mode (SDM vol. 1, 19.5; vol. 3, 20.2.8)", () => {
  function withPorts(ports: number[], flags: number, bitmap = true): { m: TestMachine; log: string[] } {
    const m = v86Machine(P.ioPorts, { flags });
    if (bitmap) tssBitmaps(m, [], ports);
    const log: string[] = [];
    m.io.register(0x80, 8, {
      read: (off, size) => {
        log.push(`in ${(0x80 + off).toString(16)}/${size}`);
        return 0xabcd;
      },
      write: (off, size, v) => {
        log.push(`out ${(0x80 + off).toString(16)}/${size}=${v.toString(16)}`);
      },
    });
    return { m, log };
  }

  it("is consulted even with IOPL 3: clear bits allow ports, a set bit is #GP(0)", () => {
    const { m, log } = withPorts([0x80, 0x84, 0x85], 0x2 | IOPL3);
    expect(m.cpu.run(20)).toBe(StopReason.Halted);
    expect(log).toEqual(["out 80/1=12", "in 84/2"]);
    expect(m.cpu.state.get16(Gpr.RAX)).toBe(0xabcd);
    expectV86Fault(m, P.ioPorts.labels.denied, 0);
  });

  it("a word access needs the bits of both ports", () => {
    const { m, log } = withPorts([0x80, 0x84], 0x2);
    expect(m.cpu.run(20)).toBe(StopReason.Halted);
    expect(log).toEqual(["out 80/1=12"]);
    expectV86Fault(m, P.ioPorts.labels.inword, 0);
  });

  it("with the bitmap base beyond the TSS limit every port faults", () => {
    const { m, log } = withPorts([], 0x2 | IOPL3, false);
    expect(m.cpu.run(20)).toBe(StopReason.Halted);
    expect(log).toEqual([]);
    expectV86Fault(m, 2, 0);
  });
});

describe("virtual-mode extensions: software interrupts (SDM vol. 3, 20.3.3, Table 20-2)", () => {
  function redirectMachine(flags: number, redirect: number[]): TestMachine {
    const m = v86Machine(P.vmeRedirect, { flags, cr4: 1 });
    m.load((0x2000 << 4) + 0x100, bytesOf(P.ivtHandler));
    m.write32(0x21 * 4, (0x2000 << 16) | 0x100); // the 8086 IVT at linear 0
    tssBitmaps(m, redirect, []);
    m.gate(0x21, INT_HANDLER, { dpl: 3 });
    m.load(INT_HANDLER, [0xf4]);
    return m;
  }

  it("method 6 (IOPL 0, bit clear): the 8086 handler runs with VIF cleared; the FLAGS image has IF = VIF and IOPL = 3", () => {
    const m = redirectMachine(0x2, [0x21]);
    expect(m.cpu.run(50)).toBe(StopReason.Budget);
    const s = m.cpu.state;
    expect(m.cpu.eventCounts[13]).toBe(0);
    expect(m.cpu.eventCounts[0x21]).toBe(0);
    expect(s.get16(Gpr.RSI) & 0x3200).toBe(0x3200); // pushed by INT: IF = VIF (set by STI), IOPL 3
    expect(s.get16(Gpr.RCX) & 0x3200).toBe(0x3000); // PUSHF in the handler: VIF was cleared
    expect(s.get16(Gpr.RDI)).toBe(0x99); // IRET came back to `back`
    expect(s.get16(Gpr.RDX) & 0x3200).toBe(0x3200); // IRET restored VIF from the image's IF
    const fl = s.flags.read();
    expect(fl & (VM | VIF | IF | IOPL3)).toBe(VM | VIF); // the real IF and IOPL never changed
    expect(s.rip).toBe(P.vmeRedirect.labels.spin);
    expect(s.gpr[8]).toBe(SP86);
    // The 8086 stack holds FLAGS, CS, IP of the INT.
    const top = (SS86 << 4) + SP86;
    expect(m.read32(top - 6) & 0xffff).toBe(P.vmeRedirect.labels.back);
    expect(m.read32(top - 4) & 0xffff).toBe(CS86);
  });

  it("a stack fault while redirecting leaves SP as it was: #SS(0) restarts the INT", () => {
    const m = redirectMachine(0x2, [0x21]);
    m.write32(L.STACK - 36 + 12, 3); // SP image 3: the second push would cross the 64 KiB limit
    m.gate(12, GP_HANDLER);
    expect(m.cpu.run(50)).toBe(StopReason.Halted);
    expect(m.cpu.eventCounts[12]).toBe(1);
    const [err, eip, cs, , esp] = stackFrame(m, 5);
    expect([err, eip, cs, esp]).toEqual([0, 1, CS86, 3]);
  });

  it("method 5 (IOPL 3, bit clear): the 8086 handler runs with IF cleared; IRET restores IF", () => {
    const m = redirectMachine(0x2 | IOPL3, [0x21]);
    expect(m.cpu.run(50)).toBe(StopReason.Budget);
    const s = m.cpu.state;
    expect(m.cpu.eventCounts[13]).toBe(0);
    expect(s.get16(Gpr.RSI) & IF).toBe(IF); // STI set the real IF
    expect(s.get16(Gpr.RCX) & IF).toBe(0);
    expect(s.get16(Gpr.RDI)).toBe(0x99);
    expect(s.get16(Gpr.RDX) & IF).toBe(IF);
    expect(s.flags.read() & (VM | VIF | IF)).toBe(VM | IF);
  });

  it("method 4 (IOPL 3, bit set): the protected-mode handler through the IDT", () => {
    const m = redirectMachine(0x2 | IOPL3, []);
    expect(m.cpu.run(50)).toBe(StopReason.Halted);
    expect(m.cpu.eventCounts[0x21]).toBe(1);
    expect(stackFrame(m, 2)).toEqual([P.vmeRedirect.labels.back, CS86]);
    expect(m.cpu.state.get16(Gpr.RCX)).toBe(0);
  });

  it("method 3 (IOPL 0, bit set): #GP(0)", () => {
    const m = redirectMachine(0x2, [0x20, 0x22]);
    expect(m.cpu.run(50)).toBe(StopReason.Halted);
    expectV86Fault(m, 1, 0);
  });

  it("a redirection bitmap outside the TSS limit is #GP(0)", () => {
    const m = redirectMachine(0x2 | IOPL3, [0x21]);
    m.ram.bytes[L.TSS + 0x67] = 0x40; // map base 0x4088: the bitmap byte is past the limit
    expect(m.cpu.run(50)).toBe(StopReason.Halted);
    expectV86Fault(m, 1, 0);
  });
});

describe("virtual-mode extensions: VIF and VIP (SDM vol. 3, 20.3.2; CLI, STI, PUSHF, POPF, IRET)", () => {
  const vme = (code: number[], flags: number): TestMachine =>
    v86Machine([...code, 0xeb, 0xfe], { flags: flags | 0x2, cr4: 1 });

  it("CLI and STI with IOPL 0 act on VIF and leave IF alone", () => {
    let m = vme([0xfa], IF | VIF);
    expect(m.cpu.run(5)).toBe(StopReason.Budget);
    expect(m.cpu.state.flags.read() & (IF | VIF)).toBe(IF);
    m = vme([0xfb], 0);
    expect(m.cpu.run(5)).toBe(StopReason.Budget);
    expect(m.cpu.state.flags.read() & (IF | VIF)).toBe(VIF);
    expect(m.cpu.eventCounts[13]).toBe(0);
  });

  it("STI with VIP set is #GP(0) and VIF stays clear", () => {
    const m = vme([0xfb], VIP);
    expect(m.cpu.run(5)).toBe(StopReason.Halted);
    expectV86Fault(m, 0, 0);
    const [, , , eflags] = stackFrame(m, 4);
    expect(eflags! & (VIF | VIP)).toBe(VIP);
  });

  it("PUSHF pushes VIF as IF and IOPL as 3; PUSHFD is #GP(0)", () => {
    const m = vme([0x9c], VIF | 0x1);
    expect(m.cpu.run(5)).toBe(StopReason.Budget);
    expect(m.read32((SS86 << 4) + SP86 - 2) & 0xffff).toBe(0x3203);
    const d = vme([0x66, 0x9c], VIF);
    expect(d.cpu.run(5)).toBe(StopReason.Halted);
    expectV86Fault(d, 0, 0);
  });

  it("POPF loads VIF from the popped IF; IF and IOPL are unchanged", () => {
    const m = vme([0x68, 0x01, 0x32, 0x9d], 0); // push word 0x3201; popf
    expect(m.cpu.run(5)).toBe(StopReason.Budget);
    expect(m.cpu.state.flags.read() & (VIF | IF | IOPL3 | 0x1)).toBe(VIF | 0x1);
    const off = vme([0x68, 0x00, 0x00, 0x9d], VIF | IF); // push word 0; popf
    expect(off.cpu.run(5)).toBe(StopReason.Budget);
    expect(off.cpu.state.flags.read() & (VIF | IF)).toBe(IF);
  });

  it("POPF is #GP(0) when it would set VIF with VIP pending, when it sets TF, and as POPFD", () => {
    const cases = [
      [[0x68, 0x00, 0x02, 0x9d], VIP], // push 0x200; popf
      [[0x68, 0x00, 0x01, 0x9d], 0], // push 0x100; popf
      [[0x66, 0x6a, 0x00, 0x66, 0x9d], 0], // push dword 0; popfd
    ] as const;
    for (const [code, flags] of cases) {
      const m = vme([...code], flags);
      expect(m.cpu.run(5), code.join()).toBe(StopReason.Halted);
      expect(m.cpu.eventCounts[13]).toBe(1);
      expect(stackFrame(m, 2)[1], code.join()).toBe(code.length - (code[0] === 0x66 ? 2 : 1));
    }
    const ok = vme([0x68, 0x00, 0x00, 0x9d], VIP); // IF = 0 with VIP pending is fine
    expect(ok.cpu.run(5)).toBe(StopReason.Budget);
    expect(ok.cpu.eventCounts[13]).toBe(0);
  });

  it("IRET loads VIF from the popped IF; with VIP pending that is #GP(0); IRETD is #GP(0)", () => {
    const m = v86Machine(P.iretVme, { flags: 0x2, cr4: 1 });
    expect(m.cpu.run(10)).toBe(StopReason.Budget);
    expect(m.cpu.state.rip).toBe(P.iretVme.labels.target);
    expect(m.cpu.state.flags.read() & (VIF | IF)).toBe(VIF);
    const pending = v86Machine(P.iretVme, { flags: 0x2 | VIP, cr4: 1 });
    expect(pending.cpu.run(10)).toBe(StopReason.Halted);
    expectV86Fault(pending, 9, 0);
    const d = v86Machine([0x66, 0xcf], { flags: 0x2, cr4: 1 });
    expect(d.cpu.run(10)).toBe(StopReason.Halted);
    expectV86Fault(d, 0, 0);
  });
});

describe("protected-mode virtual interrupts (CR4.PVI; SDM vol. 3, 20.4)", () => {
  function ring3(code: number[], flags: number, cr4: number): TestMachine {
    const m = createMachine("protected");
    const s = m.cpu.state;
    s.segSelector[Seg.CS] = SEL.CODE32_U;
    s.segAccess[Seg.CS] = 0xc0fb;
    for (const seg of [Seg.SS, Seg.DS, Seg.ES, Seg.FS, Seg.GS]) {
      s.segSelector[seg] = SEL.DATA_U;
      s.segAccess[seg] = 0xc0f3;
    }
    s.flags.write(flags | 0x2);
    s.cr[8] = cr4;
    m.load(L.CODE, [...code, 0xeb, 0xfe]);
    m.gate(13, GP_HANDLER);
    m.load(GP_HANDLER, [0xf4]);
    return m;
  }

  it("CLI and STI at CPL 3 with IOPL 0 act on VIF", () => {
    const m = ring3([0xfa], IF | VIF, 2);
    expect(m.cpu.run(1)).toBe(StopReason.Budget);
    expect(m.cpu.state.flags.read() & (IF | VIF)).toBe(IF);
    const on = ring3([0xfb], 0, 2);
    expect(on.cpu.run(3)).toBe(StopReason.Budget);
    expect(on.cpu.state.flags.read() & (IF | VIF)).toBe(VIF);
    expect(on.cpu.eventCounts[13]).toBe(0);
  });

  it("STI with VIP pending is #GP(0); without PVI CLI is #GP(0)", () => {
    for (const [code, flags, cr4] of [
      [[0xfb], VIP, 2],
      [[0xfa], IF, 0],
      [[0xfa], IF, 1], // VME alone does not cover protected mode
    ] as const) {
      const m = ring3([...code], flags, cr4);
      expect(m.cpu.run(5)).toBe(StopReason.Halted);
      expect(m.cpu.eventCounts[13]).toBe(1);
      expect(stackFrame(m, 3)).toEqual([0, L.CODE, SEL.CODE32_U]);
    }
  });

  it("POPF at CPL 3 is not affected: IF and VIF are left alone without a fault", () => {
    const m = ring3([0x6a, 0x00, 0x9d], IF | VIF, 2); // push 0; popfd
    expect(m.cpu.run(5)).toBe(StopReason.Budget);
    expect(m.cpu.state.flags.read() & (IF | VIF)).toBe(IF | VIF);
  });
});

describe("CPUID", () => {
  it("leaf 1 EDX advertises VME (bit 1)", () => {
    const m = createMachine("protected");
    m.load(L.CODE, [0xb8, 1, 0, 0, 0, 0x0f, 0xa2, 0xf4]); // mov eax, 1; cpuid; hlt
    expect(m.cpu.run(10)).toBe(StopReason.Halted);
    expect(m.cpu.state.gpr[2 * Gpr.RDX]! & 2).toBe(2);
  });
});
