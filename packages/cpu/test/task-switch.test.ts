// Hardware task switching, written from the Intel SDM vol. 3, chapter 7 ("Task Management") and
// the JMP/CALL/IRET/INT pages of vol. 2: far JMP/CALL to a TSS descriptor or a task gate, nesting
// with the previous task link and NT, IRET back, the busy flag, events through IDT task gates
// (#DF and #PF handlers as tasks, error codes on the new task's stack), the #TS/#NP/#SS/#GP checks
// and their error codes, CR3 from the TSS, 16-bit TSSs, the T flag, LTR, and #GP in IA-32e mode.
//
// Machine code is written by hand (encodings from the SDM opcode tables), one helper per form.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Gpr, Seg, StopReason } from "../src/index.js";
import { createMachine, L, SEL, type TestMachine } from "./modes.js";
import { le32 } from "./snippet.js";

// ---- encodings ---------------------------------------------------------------------------------
const le16 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff];
/** JMP ptr16:32 (EA cd cw). */
const jmpFar = (sel: number, off = 0): number[] => [0xea, ...le32(off), ...le16(sel)];
/** CALL ptr16:32 (9A cd cw). */
const callFar = (sel: number, off = 0): number[] => [0x9a, ...le32(off), ...le16(sel)];
/** MOV dword [disp32], imm32 (C7 /0 with ModRM 05). */
const movMem = (addr: number, v: number): number[] => [0xc7, 0x05, ...le32(addr), ...le32(v)];
/** MOV EAX, imm32. */
const movEax = (v: number): number[] => [0xb8, ...le32(v)];
const HLT = 0xf4;
const IRET = 0xcf;
const POP_EAX = 0x58;
const LTR_AX = [0x0f, 0x00, 0xd8];

// ---- the task layout ---------------------------------------------------------------------------
/** GDT selectors added by these tests (the flat ones of modes.ts stay). */
const T = {
  A: 0x60, // 32-bit TSS of the running task (busy)
  B: 0x68, // 32-bit TSS, available
  C: 0x70, // 32-bit TSS, available: the handler task
  GATE_B: 0x78, // task gate -> B
  D16: 0x80, // 16-bit TSS, available
  LDT: 0x88, // an LDT (empty)
  DATA16: 0x90, // 16-bit data segment (D/B = 0), limit 0xFFFF
  NP_DATA: 0x98, // a data segment that is not present
  GATE_C: 0xa0, // task gate -> C
} as const;
const BASE = { A: 0x4000, B: 0x4100, C: 0x4200, D16: 0x4300, LDT: 0x5000 } as const;
const CODE_B = 0x110000;
const CODE_C = 0x120000;
const CODE_D16 = 0x7000;
const STACK_B = 0x90000;
const STACK_C = 0x98000;
const OUT = L.DATA;
const PD1 = 0x20000;
const PD2 = 0x21000;

/** A segment or system descriptor as two dwords; `type` includes the S bit (bit 4). */
function descriptor(
  base: number,
  limit: number,
  type: number,
  dpl: number,
  present = true,
  flags = 0,
): [number, number] {
  const lo = (((base & 0xffff) << 16) | (limit & 0xffff)) >>> 0;
  const hi =
    (((base >>> 16) & 0xff) |
      (type << 8) |
      (dpl << 13) |
      (present ? 0x8000 : 0) |
      (limit & 0xf0000) |
      (flags << 20) |
      (base & 0xff000000)) >>>
    0;
  return [lo, hi];
}

function setGdt(m: TestMachine, sel: number, [lo, hi]: [number, number]): void {
  m.write32(L.GDT + (sel & 0xfff8), lo);
  m.write32(L.GDT + (sel & 0xfff8) + 4, hi);
}

const taskGate = (tss: number, dpl = 0, present = true): [number, number] => [
  (tss << 16) >>> 0,
  (0x0500 | (dpl << 13) | (present ? 0x8000 : 0)) >>> 0,
];

/** Type field (5 bits with S) of the GDT entry of `sel`. */
const typeOf = (m: TestMachine, sel: number): number => (m.read32(L.GDT + (sel & 0xfff8) + 4) >>> 8) & 0x1f;

interface Task32 {
  eip: number;
  esp?: number;
  eflags?: number;
  cs?: number;
  ss?: number;
  data?: number;
  ldt?: number;
  cr3?: number;
  eax?: number;
  trap?: boolean;
  link?: number;
}

/** Writes a 32-bit TSS (SDM Figure 7-2). */
function tss32(m: TestMachine, base: number, t: Task32): void {
  for (let k = 0; k < 0x68; k += 4) m.write32(base + k, 0);
  m.write32(base + 0x00, t.link ?? 0);
  m.write32(base + 0x1c, t.cr3 ?? 0);
  m.write32(base + 0x20, t.eip);
  m.write32(base + 0x24, t.eflags ?? 0x2);
  m.write32(base + 0x28, t.eax ?? 0);
  m.write32(base + 0x38, t.esp ?? 0);
  const data = t.data ?? SEL.DATA;
  m.write32(base + 0x48, data); // ES
  m.write32(base + 0x4c, t.cs ?? SEL.CODE32);
  m.write32(base + 0x50, t.ss ?? SEL.DATA);
  m.write32(base + 0x54, data); // DS
  m.write32(base + 0x58, data); // FS
  m.write32(base + 0x5c, data); // GS
  m.write32(base + 0x60, t.ldt ?? 0);
  m.write32(base + 0x64, t.trap === true ? 1 : 0);
}

/**
 * A 32-bit protected-mode machine running task A (TSS at BASE.A, TR = T.A, busy) with TSS B and
 * C available (B runs at CODE_B, C at CODE_C), task gates to B and C in the GDT, a 16-bit TSS, an
 * LDT, and `code` at L.CODE.
 */
function tasks(code: number[]): TestMachine {
  const m = createMachine("protected");
  setGdt(m, T.A, descriptor(BASE.A, 0x67, 0x0b, 0));
  setGdt(m, T.B, descriptor(BASE.B, 0x67, 0x09, 0));
  setGdt(m, T.C, descriptor(BASE.C, 0x67, 0x09, 0));
  setGdt(m, T.GATE_B, taskGate(T.B));
  setGdt(m, T.D16, descriptor(BASE.D16, 0x2b, 0x01, 0));
  setGdt(m, T.LDT, descriptor(BASE.LDT, 0x0f, 0x02, 0));
  setGdt(m, T.DATA16, descriptor(0, 0xffff, 0x13, 0));
  setGdt(m, T.NP_DATA, descriptor(0, 0xfffff, 0x13, 0, false, 0xc));
  setGdt(m, T.GATE_C, taskGate(T.C));
  const s = m.cpu.state;
  s.gdtr.limit = 0x1ff;
  s.segSelector[Seg.TR] = T.A;
  s.segBase[2 * Seg.TR] = BASE.A;
  s.segLimit[Seg.TR] = 0x67;
  s.segAccess[Seg.TR] = 0x8b;
  tss32(m, BASE.A, { eip: 0 });
  tss32(m, BASE.B, { eip: CODE_B, esp: STACK_B, eax: 0x2222_2222 });
  tss32(m, BASE.C, { eip: CODE_C, esp: STACK_C });
  m.load(CODE_C, [POP_EAX, HLT]); // the handler task: error code into EAX
  m.load(L.HANDLER, [POP_EAX, HLT]); // an interrupt-gate handler: error code (or EIP) into EAX
  m.load(L.CODE, code);
  return m;
}

/** IDT entry `vector` as a task gate to `tss`. */
function idtTaskGate(m: TestMachine, vector: number, tss: number): void {
  const [lo, hi] = taskGate(tss);
  m.write32(L.IDT + vector * 8, lo);
  m.write32(L.IDT + vector * 8 + 4, hi);
}

const eax = (m: TestMachine): number => m.cpu.state.get32(Gpr.RAX);
const tr = (m: TestMachine): number => m.cpu.state.segSelector[Seg.TR]!;
const NT = 0x4000;

describe("JMP and CALL to a task (SDM 7.3, 7.4)", () => {
  it("JMP to a TSS descriptor saves the old task, loads the new one, moves the busy flag, keeps NT = 0", () => {
    const m = tasks([...movEax(0x1111_1111), ...jmpFar(T.B), HLT]);
    m.write32(BASE.B, 0x1234); // link field: JMP does not write it
    m.load(CODE_B, [HLT]);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    const s = m.cpu.state;
    expect(tr(m)).toBe(T.B);
    expect(s.segBase[2 * Seg.TR]).toBe(BASE.B);
    expect(s.segAccess[Seg.TR]! & 0xf).toBe(0xb); // busy 32-bit TSS in the hidden part
    expect(s.rip).toBe(CODE_B + 1);
    expect(eax(m)).toBe(0x2222_2222); // loaded from B
    expect(s.get32(Gpr.RSP)).toBe(STACK_B);
    expect(s.flags.read() & NT).toBe(0);
    expect(m.read32(BASE.B) & 0xffff).toBe(0x1234);
    // The old task's state, EIP after the JMP.
    expect(m.read32(BASE.A + 0x20)).toBe(L.CODE + 12);
    expect(m.read32(BASE.A + 0x28)).toBe(0x1111_1111);
    expect(m.read32(BASE.A + 0x38)).toBe(L.STACK);
    expect(m.read32(BASE.A + 0x4c) & 0xffff).toBe(SEL.CODE32);
    // Busy flags: A not busy any more (JMP), B busy.
    expect(typeOf(m, T.A)).toBe(0x09);
    expect(typeOf(m, T.B)).toBe(0x0b);
    expect(s.cr[0]! & 8).toBe(8); // CR0.TS
  });

  it("JMP through a task gate reaches the gate's TSS; the gate DPL is checked against RPL (#GP(gate))", () => {
    const m = tasks([...jmpFar(T.GATE_B), HLT]);
    m.load(CODE_B, [HLT]);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(tr(m)).toBe(T.B);
    expect(m.cpu.state.rip).toBe(CODE_B + 1);

    const m2 = tasks([...jmpFar(T.GATE_B | 3), HLT]); // RPL 3 > gate DPL 0
    m2.gate(13, L.HANDLER);
    expect(m2.cpu.run(100)).toBe(StopReason.Halted);
    expect(eax(m2)).toBe(T.GATE_B);
    expect(tr(m2)).toBe(T.A);
    expect(typeOf(m2, T.B)).toBe(0x09);
  });

  it("a not-present task gate is #NP(gate)", () => {
    const m = tasks([...jmpFar(T.GATE_B), HLT]);
    setGdt(m, T.GATE_B, taskGate(T.B, 0, false));
    m.gate(11, L.HANDLER);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(eax(m)).toBe(T.GATE_B);
    expect(tr(m)).toBe(T.A);
  });

  it("CALL nests (link and NT), IRET returns; two levels deep through a task gate", () => {
    const m = tasks([...callFar(T.B), ...movMem(OUT + 12, 0xa), HLT]);
    m.load(CODE_B, [...movMem(OUT, 0xb), ...callFar(T.GATE_C), ...movMem(OUT + 8, 0xbb), IRET]);
    m.load(CODE_C, [...movMem(OUT + 4, 0xc), IRET]);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect([m.read32(OUT), m.read32(OUT + 4), m.read32(OUT + 8), m.read32(OUT + 12)]).toEqual([
      0xb, 0xc, 0xbb, 0xa,
    ]);
    expect(tr(m)).toBe(T.A);
    expect(m.read32(BASE.B) & 0xffff).toBe(T.A); // B's previous task link
    expect(m.read32(BASE.C) & 0xffff).toBe(T.B); // C's previous task link
    // B was suspended by its CALL with NT = 1, and by its IRET with NT cleared.
    expect(m.read32(BASE.B + 0x24) & NT).toBe(0);
    expect(m.read32(BASE.C + 0x24) & NT).toBe(0);
    expect(m.read32(BASE.C + 0x20)).toBe(CODE_C + 11); // after C's IRET
    expect(m.cpu.state.flags.read() & NT).toBe(0); // A's own flags
    expect([typeOf(m, T.A), typeOf(m, T.B), typeOf(m, T.C)]).toEqual([0x0b, 0x09, 0x09]);
  });

  it("the called task runs with NT = 1 and both tasks busy", () => {
    const m = tasks([...callFar(T.B), HLT]);
    m.load(CODE_B, [HLT]);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(tr(m)).toBe(T.B);
    expect(m.cpu.state.flags.read() & NT).toBe(NT);
    expect(m.read32(BASE.B) & 0xffff).toBe(T.A);
    expect([typeOf(m, T.A), typeOf(m, T.B)]).toEqual([0x0b, 0x0b]);
    expect(m.read32(BASE.A + 0x20)).toBe(L.CODE + 7); // the return point
  });
});

describe("privilege checks from ring 3 (SDM 7.3 step 2, 7.2.5)", () => {
  /** Runs `code` at CPL 3 (flat ring-3 segments; ring-0 stack in A's TSS for the #GP handler). */
  function ring3(code: number[]): TestMachine {
    const m = tasks(code);
    const s = m.cpu.state;
    s.segSelector[Seg.CS] = SEL.CODE32_U;
    s.segAccess[Seg.CS] = 0xc0fb;
    for (const seg of [Seg.ES, Seg.SS, Seg.DS, Seg.FS, Seg.GS]) {
      s.segSelector[seg] = SEL.DATA_U;
      s.segAccess[seg] = 0xc0f3;
    }
    m.write32(BASE.A + 4, L.KSTACK); // ESP0
    m.write32(BASE.A + 8, SEL.DATA); // SS0
    m.gate(13, L.HANDLER);
    return m;
  }

  it("a TSS descriptor with DPL 0 cannot be reached from CPL 3: #GP(TSS)", () => {
    const m = ring3([...jmpFar(T.B | 3), HLT]);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(m.cpu.eventCounts[13]).toBe(1);
    expect(eax(m)).toBe(T.B);
    expect(tr(m)).toBe(T.A);
  });

  it("a task gate with DPL 3 reaches a DPL-0 TSS from CPL 3 (the TSS DPL is not used)", () => {
    const m = ring3([...jmpFar(T.GATE_B | 3), HLT]);
    setGdt(m, T.GATE_B, taskGate(T.B, 3));
    m.load(CODE_B, [HLT]);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(m.cpu.eventCounts[13]).toBe(0);
    expect(tr(m)).toBe(T.B);
    expect(m.cpu.cpl).toBe(0); // B's CS is the ring-0 code segment
    expect(m.read32(BASE.A + 0x4c) & 0xffff).toBe(SEL.CODE32_U);
  });
});

describe("busy flag checks", () => {
  it("JMP to a busy TSS is #GP(TSS selector); nothing is saved", () => {
    const m = tasks([...jmpFar(T.A), HLT]);
    m.gate(13, L.HANDLER);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(eax(m)).toBe(T.A);
    expect(tr(m)).toBe(T.A);
    expect(m.read32(BASE.A + 0x20)).toBe(0);
  });

  it("CALL through a gate to a busy TSS is #GP(TSS selector)", () => {
    const m = tasks([...callFar(T.GATE_B), HLT]);
    setGdt(m, T.B, descriptor(BASE.B, 0x67, 0x0b, 0));
    m.gate(13, L.HANDLER);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(eax(m)).toBe(T.B);
  });

  it("IRET with NT = 1 to a task that is not busy is #TS(link)", () => {
    const m = tasks([IRET, HLT]);
    m.write32(BASE.A, T.B); // link -> B, which is available
    m.cpu.state.flags.write(0x2 | NT);
    m.gate(10, L.HANDLER);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(eax(m)).toBe(T.B);
    expect(tr(m)).toBe(T.A);
  });

  it("IRET with NT = 1 and a link that is not a TSS is #TS(link)", () => {
    const m = tasks([IRET, HLT]);
    m.write32(BASE.A, SEL.DATA);
    m.cpu.state.flags.write(0x2 | NT);
    m.gate(10, L.HANDLER);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(eax(m)).toBe(SEL.DATA);
  });
});

describe("events through a task gate (SDM 6.11.3)", () => {
  it("a double fault handled by a task: error code 0 on the new task's stack, nested", () => {
    // MOV DS with a selector into a null LDT: #GP(0x0C); IDT 13 is not present: #NP; so #DF.
    const m = tasks([0x66, 0xb8, 0x0c, 0x00, 0x8e, 0xd8, HLT]);
    idtTaskGate(m, 8, T.C);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(tr(m)).toBe(T.C);
    expect(m.cpu.eventCounts[8]).toBe(1);
    expect(eax(m)).toBe(0);
    expect(m.cpu.state.get32(Gpr.RSP)).toBe(STACK_C);
    expect(m.read32(STACK_C - 4)).toBe(0);
    expect(m.read32(BASE.C) & 0xffff).toBe(T.A);
    expect(m.cpu.state.flags.read() & NT).toBe(NT);
    expect([typeOf(m, T.A), typeOf(m, T.C)]).toEqual([0x0b, 0x0b]);
  });

  it("a #PF handled by a task gets its error code pushed; the faulting EIP is saved in the old TSS", () => {
    // 32-bit paging with 4 MiB pages, identity; the page at 8 MiB is not present.
    const m = tasks([...movMem(0x800000, 1), HLT]);
    for (let k = 0; k < 1024; k++) m.write32(PD1 + 4 * k, k === 2 ? 0 : ((k << 22) | 0x87) >>> 0);
    const s = m.cpu.state;
    s.cr[0] = s.cr[0]! | 0x80000000;
    s.cr[8] = 0x10; // PSE
    s.cr[6] = PD1;
    tss32(m, BASE.C, { eip: CODE_C, esp: STACK_C, cr3: PD1 });
    idtTaskGate(m, 14, T.C);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(tr(m)).toBe(T.C);
    expect(eax(m)).toBe(2); // write to a not-present page, supervisor
    expect(s.cr[4]).toBe(0x800000); // CR2
    expect(m.read32(BASE.A + 0x20)).toBe(L.CODE);
    expect(m.read32(BASE.C) & 0xffff).toBe(T.A);
  });

  it("a task gate to a 16-bit TSS pushes a 16-bit error code", () => {
    const m = tasks([...jmpFar(T.A), HLT]); // busy: #GP(0x60)
    const d = BASE.D16;
    for (let k = 0; k < 0x2c; k += 4) m.write32(d + k, 0);
    m.write32(d + 0x0e, CODE_D16 | (0x0002 << 16)); // IP, FLAGS
    m.write32(d + 0x1a, 0x6000); // SP
    m.write32(d + 0x22, T.DATA16 | (SEL.CODE16 << 16)); // ES, CS
    m.write32(d + 0x26, T.DATA16 | (T.DATA16 << 16)); // SS, DS
    m.load(CODE_D16, [HLT]);
    m.write32(0x5ffc, 0xffff_ffff);
    idtTaskGate(m, 13, T.D16);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(tr(m)).toBe(T.D16);
    expect(m.cpu.state.get16(Gpr.RSP)).toBe(0x5ffe);
    expect(m.read32(0x5ffc)).toBe(((T.A << 16) | 0xffff) >>> 0); // two bytes written, no more
  });

  it("INT n through a task gate checks the gate DPL and pushes no error code; IRET resumes after INT", () => {
    const m = tasks([0xcd, 0x40, ...movMem(OUT, 0x99), HLT]);
    idtTaskGate(m, 0x40, T.C);
    m.load(CODE_C, [...movMem(OUT + 4, 0x77), IRET]);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect([m.read32(OUT), m.read32(OUT + 4)]).toEqual([0x99, 0x77]);
    expect(m.cpu.state.get32(Gpr.RSP)).toBe(L.STACK);
    expect(m.read32(BASE.C + 0x38)).toBe(STACK_C); // C's saved ESP: nothing was pushed
    expect(tr(m)).toBe(T.A);
  });

  it("an exception from a task-switch fault after the commit point has EXT = 1 when a hardware event started it", () => {
    // #UD through a task gate to B, whose LDT selector names a data segment: #TS(0x10 | EXT),
    // delivered in B's context through the #TS task gate to C.
    const m = tasks([0x0f, 0x0b, HLT]);
    tss32(m, BASE.B, { eip: CODE_B, esp: STACK_B, ldt: SEL.DATA });
    idtTaskGate(m, 6, T.B);
    idtTaskGate(m, 10, T.C);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(tr(m)).toBe(T.C);
    expect(eax(m)).toBe(SEL.DATA | 1);
    expect(m.read32(BASE.C) & 0xffff).toBe(T.B);
    expect(m.read32(BASE.B + 0x20)).toBe(CODE_B); // B was left at its first instruction
  });
});

describe("faults of a task switch started by an event", () => {
  it("a busy TSS behind an IDT task gate is #GP(TSS | EXT) for a hardware exception", () => {
    const m = tasks([0x0f, 0x0b, HLT]); // UD2
    setGdt(m, T.B, descriptor(BASE.B, 0x67, 0x0b, 0));
    idtTaskGate(m, 6, T.B);
    m.gate(13, L.HANDLER);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(eax(m)).toBe(T.B | 1);
    expect(tr(m)).toBe(T.A);
  });

  it("a contributory fault after the commit point of a #PF's task switch is a double fault (SDM Table 6-5)", () => {
    const m = tasks([...movMem(0x800000, 1), HLT]);
    for (let k = 0; k < 1024; k++) m.write32(PD1 + 4 * k, k === 2 ? 0 : ((k << 22) | 0x87) >>> 0);
    const s = m.cpu.state;
    s.cr[0] = s.cr[0]! | 0x80000000;
    s.cr[8] = 0x10;
    s.cr[6] = PD1;
    tss32(m, BASE.B, { eip: CODE_B, esp: STACK_B, cr3: PD1, ldt: SEL.DATA }); // #TS after commit
    tss32(m, BASE.C, { eip: CODE_C, esp: STACK_C, cr3: PD1 });
    idtTaskGate(m, 14, T.B);
    idtTaskGate(m, 10, T.C);
    idtTaskGate(m, 8, T.C);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(m.cpu.eventCounts[8]).toBe(1);
    expect(m.cpu.eventCounts[10]).toBe(0);
    expect(tr(m)).toBe(T.C);
    expect(eax(m)).toBe(0);
    expect(m.read32(BASE.C) & 0xffff).toBe(T.B); // entered from B, the task the #PF reached
  });
});

describe("#TS, #NP and #SS with their error codes (SDM Table 7-1, Table 6-6)", () => {
  function faultOnJmp(setup: (m: TestMachine) => void, target: number = T.B): TestMachine {
    const m = tasks([...jmpFar(target), HLT]);
    setup(m);
    for (const v of [10, 11, 12]) idtTaskGate(m, v, T.C);
    m.gate(13, L.HANDLER);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    return m;
  }

  it("a 32-bit TSS limit below 67H is #TS(TSS), raised in the old task (nothing switched)", () => {
    const m = faultOnJmp((m) => setGdt(m, T.B, descriptor(BASE.B, 0x66, 0x09, 0)));
    expect(m.cpu.eventCounts[10]).toBe(1);
    expect(eax(m)).toBe(T.B);
    expect(m.read32(BASE.C) & 0xffff).toBe(T.A); // the #TS task was entered from A
    expect(m.read32(BASE.A + 0x20)).toBe(L.CODE); // A saved at the faulting JMP
    expect(typeOf(m, T.B)).toBe(0x09);
  });

  it("a 16-bit TSS limit below 2BH is #TS(TSS)", () => {
    const m = faultOnJmp((m) => setGdt(m, T.D16, descriptor(BASE.D16, 0x2a, 0x01, 0)), T.D16);
    expect(eax(m)).toBe(T.D16);
    expect(m.read32(BASE.C) & 0xffff).toBe(T.A);
  });

  it("a TSS descriptor that is not present is #NP(TSS)", () => {
    const m = faultOnJmp((m) => setGdt(m, T.B, descriptor(BASE.B, 0x67, 0x09, 0, false)));
    expect(m.cpu.eventCounts[11]).toBe(1);
    expect(eax(m)).toBe(T.B);
  });

  it("an LDT selector that is not an LDT is #TS(LDT) in the new task's context", () => {
    const m = faultOnJmp((m) => tss32(m, BASE.B, { eip: CODE_B, esp: STACK_B, ldt: SEL.DATA }));
    expect(eax(m)).toBe(SEL.DATA);
    expect(m.read32(BASE.C) & 0xffff).toBe(T.B); // entered from B: the switch had committed
    expect(typeOf(m, T.A)).toBe(0x09);
    expect(typeOf(m, T.B)).toBe(0x0b);
  });

  it("an LDT selector with TI = 1 is #TS(LDT); a valid LDT loads", () => {
    const bad = faultOnJmp((m) => tss32(m, BASE.B, { eip: CODE_B, esp: STACK_B, ldt: T.LDT | 4 }));
    expect(eax(bad)).toBe(T.LDT | 4); // the error code keeps TI (SDM 6.13)
    const m = tasks([...jmpFar(T.B), HLT]);
    tss32(m, BASE.B, { eip: CODE_B, esp: STACK_B, ldt: T.LDT });
    m.load(CODE_B, [HLT]);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    const s = m.cpu.state;
    expect(s.segSelector[Seg.LDTR]).toBe(T.LDT);
    expect(s.segBase[2 * Seg.LDTR]).toBe(BASE.LDT);
    expect(s.segLimit[Seg.LDTR]).toBe(0x0f);
  });

  it("an SS that is a code segment is #TS(SS)", () => {
    const m = faultOnJmp((m) => tss32(m, BASE.B, { eip: CODE_B, esp: STACK_B, ss: SEL.CODE32 }));
    expect(eax(m)).toBe(SEL.CODE32);
    expect(m.cpu.eventCounts[10]).toBe(1);
  });

  it("an SS whose RPL differs from the new CPL is #TS(SS)", () => {
    // DATA has DPL 0 = the new CPL, so only the RPL of 3 is wrong.
    const m = faultOnJmp((m) => tss32(m, BASE.B, { eip: CODE_B, esp: STACK_B, ss: SEL.DATA | 3 }));
    expect(eax(m)).toBe(SEL.DATA);
    const dpl = faultOnJmp((m) => tss32(m, BASE.B, { eip: CODE_B, esp: STACK_B, ss: SEL.DATA_U & 0xfffc }));
    expect(eax(dpl)).toBe(SEL.DATA_U & 0xfffc);
  });

  it("a null SS is #TS(0)", () => {
    const m = faultOnJmp((m) => tss32(m, BASE.B, { eip: CODE_B, esp: STACK_B, ss: 0 }));
    expect(m.cpu.eventCounts[10]).toBe(1);
    expect(eax(m)).toBe(0);
  });

  it("an SS that is not present is #SS(SS)", () => {
    const m = faultOnJmp((m) => tss32(m, BASE.B, { eip: CODE_B, esp: STACK_B, ss: T.NP_DATA }));
    expect(m.cpu.eventCounts[12]).toBe(1);
    expect(eax(m)).toBe(T.NP_DATA);
  });

  it("a CS that is a data segment is #TS(CS); a data segment that is not present is #NP(sel)", () => {
    const m = faultOnJmp((m) => tss32(m, BASE.B, { eip: CODE_B, esp: STACK_B, cs: SEL.DATA }));
    expect(eax(m)).toBe(SEL.DATA);
    const np = faultOnJmp((m) => tss32(m, BASE.B, { eip: CODE_B, esp: STACK_B, data: T.NP_DATA }));
    expect(np.cpu.eventCounts[11]).toBe(1);
    expect(eax(np)).toBe(T.NP_DATA);
  });

  it("a non-conforming CS whose DPL differs from its RPL is #TS(CS) (Table 7-1)", () => {
    const m = faultOnJmp((m) => tss32(m, BASE.B, { eip: CODE_B, esp: STACK_B, cs: SEL.CODE32 | 3 }));
    expect(eax(m)).toBe(SEL.CODE32);
    expect(m.cpu.eventCounts[10]).toBe(1);
  });

  it("a data segment less privileged than its RPL demands is #TS(sel)", () => {
    // DS = DATA (DPL 0) with RPL 3 in a ring-0 task: DPL < RPL.
    const m = faultOnJmp((m) => tss32(m, BASE.B, { eip: CODE_B, esp: STACK_B, data: SEL.DATA | 3 }));
    expect(eax(m)).toBe(SEL.DATA);
  });

  it("an EIP beyond the new CS limit is #GP(0) in the new task", () => {
    const m = faultOnJmp((m) => tss32(m, BASE.B, { eip: 0x20000, esp: STACK_B, cs: SEL.CODE16 }));
    expect(tr(m)).toBe(T.B);
    expect(m.cpu.eventCounts[13]).toBe(1);
    expect(eax(m)).toBe(0);
  });
});

describe("CR3, 16-bit TSS, the T flag, virtual-8086 tasks", () => {
  it("a 32-bit TSS loads CR3 when paging is on; CR3 is not saved in the old TSS", () => {
    const m = tasks([...jmpFar(T.B), HLT]);
    for (let k = 0; k < 1024; k++) {
      m.write32(PD1 + 4 * k, ((k << 22) | 0x87) >>> 0);
      m.write32(PD2 + 4 * k, (((k === 1 ? 3 : k) << 22) | 0x87) >>> 0); // 4 MiB -> 12 MiB
    }
    const s = m.cpu.state;
    s.cr[0] = s.cr[0]! | 0x80000000;
    s.cr[8] = 0x10;
    s.cr[6] = PD1;
    tss32(m, BASE.A, { eip: 0, cr3: 0xdead000 });
    tss32(m, BASE.B, { eip: CODE_B, esp: STACK_B, cr3: PD2 });
    m.write32(0x400000, 0xaaaa);
    m.write32(0xc00000, 0xcccc);
    m.load(CODE_B, [0xa1, ...le32(0x400000), HLT]); // MOV EAX, [0x400000]
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(tr(m)).toBe(T.B);
    expect(s.cr[6]).toBe(PD2);
    expect(eax(m)).toBe(0xcccc);
    expect(m.read32(BASE.A + 0x1c)).toBe(0xdead000);
  });

  it("CALL to a 16-bit task and IRET back (SDM 7.6: 16-bit TSS)", () => {
    const m = tasks([...movEax(0xabcd_0001), ...callFar(T.D16), ...movMem(OUT, 0xa), HLT]);
    const d = BASE.D16;
    for (let k = 0; k < 0x2c; k += 2) m.write32(d + k, 0);
    const w16 = (off: number, v: number): void => {
      m.ram.bytes[d + off] = v & 0xff;
      m.ram.bytes[d + off + 1] = v >>> 8;
    };
    w16(0x0e, CODE_D16); // IP
    w16(0x10, 0x0002); // FLAGS
    w16(0x12, 0x1111); // AX
    w16(0x1a, 0x6000); // SP
    w16(0x22, T.DATA16); // ES
    w16(0x24, SEL.CODE16); // CS
    w16(0x26, T.DATA16); // SS
    w16(0x28, T.DATA16); // DS
    // MOV [0x600], AX ; MOV AX, 0x1234 ; IRET
    m.load(CODE_D16, [0xa3, 0x00, 0x06, 0xb8, 0x34, 0x12, IRET]);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(m.ram.bytes[0x600]! | (m.ram.bytes[0x601]! << 8)).toBe(0x1111); // AX from the 16-bit TSS
    expect(m.read32(OUT)).toBe(0xa);
    expect(tr(m)).toBe(T.A);
    expect(eax(m)).toBe(0xabcd_0001); // A's EAX restored from its TSS
    // The 16-bit TSS: link = A, saved IP after IRET, AX, FLAGS with NT cleared.
    const r16 = (off: number): number => m.ram.bytes[d + off]! | (m.ram.bytes[d + off + 1]! << 8);
    expect(r16(0x00)).toBe(T.A);
    expect(r16(0x0e)).toBe(CODE_D16 + 7);
    expect(r16(0x12)).toBe(0x1234);
    expect(r16(0x10) & NT).toBe(0);
    expect(r16(0x24)).toBe(SEL.CODE16);
    expect(typeOf(m, T.D16)).toBe(0x01);
  });

  it("the T flag in the new TSS raises a debug trap before its first instruction, with DR6.BT", () => {
    const m = tasks([...jmpFar(T.B), HLT]);
    tss32(m, BASE.B, { eip: CODE_B, esp: STACK_B, trap: true });
    m.load(CODE_B, [HLT]);
    m.gate(1, L.HANDLER);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(m.cpu.eventCounts[1]).toBe(1);
    expect(eax(m)).toBe(CODE_B); // the pushed EIP: B's first instruction
    expect(m.cpu.state.dr[12]! & 0x8000).toBe(0x8000);
    expect(tr(m)).toBe(T.B);
  });

  it("without the T flag there is no debug trap", () => {
    const m = tasks([...jmpFar(T.B), HLT]);
    m.load(CODE_B, [HLT]);
    m.gate(1, L.HANDLER);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(m.cpu.eventCounts[1]).toBe(0);
    expect(m.cpu.state.dr[12]! & 0x8000).toBe(0);
  });

  it("a new EFLAGS with VM = 1 loads segments the virtual-8086 way at CPL 3", () => {
    const m = tasks([...jmpFar(T.B), HLT]);
    tss32(m, BASE.B, { eip: 0x10, esp: 0x100, eflags: 0x20002, cs: 0x1000, ss: 0x2000, data: 0x3000 });
    expect(m.cpu.run(1)).toBe(StopReason.Budget);
    const s = m.cpu.state;
    expect(tr(m)).toBe(T.B);
    expect(s.rip).toBe(0x10);
    expect(s.segBase[2 * Seg.CS]).toBe(0x10000);
    expect(s.segBase[2 * Seg.SS]).toBe(0x20000);
    expect(s.segBase[2 * Seg.GS]).toBe(0x30000);
    expect(s.segLimit[Seg.DS]).toBe(0xffff);
    expect(m.cpu.cpl).toBe(3);
    expect(s.flags.read() & 0x20000).toBe(0x20000);
  });
});

describe("LTR (SDM vol. 2, LTR)", () => {
  const ltr = (sel: number): number[] => [...movEax(sel), ...LTR_AX, HLT];

  it("loads TR from an available TSS and marks the descriptor busy", () => {
    const m = tasks(ltr(T.B));
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    const s = m.cpu.state;
    expect(tr(m)).toBe(T.B);
    expect(s.segBase[2 * Seg.TR]).toBe(BASE.B);
    expect(s.segLimit[Seg.TR]).toBe(0x67);
    expect(s.segAccess[Seg.TR]! & 0xff).toBe(0x8b);
    expect(typeOf(m, T.B)).toBe(0x0b);
  });

  it.each([
    ["a busy TSS", T.A, 13, T.A],
    ["a null selector", 0, 13, 0],
    ["an LDT descriptor", T.LDT, 13, T.LDT],
    ["a task gate", T.GATE_B, 13, T.GATE_B],
    ["a selector with TI = 1", T.B | 4, 13, T.B | 4],
  ])("%s is #GP with the SDM's error code", (_name, sel, vector, code) => {
    const m = tasks(ltr(sel));
    m.gate(vector, L.HANDLER);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(m.cpu.eventCounts[vector]).toBe(1);
    expect(eax(m)).toBe(code);
    expect(tr(m)).toBe(T.A);
  });

  it("a TSS that is not present is #NP(sel)", () => {
    const m = tasks(ltr(T.B));
    setGdt(m, T.B, descriptor(BASE.B, 0x67, 0x09, 0, false));
    m.gate(11, L.HANDLER);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(eax(m)).toBe(T.B);
  });
});

describe("IA-32e mode: no task switches (SDM 7.7)", () => {
  function long(code: number[]): TestMachine {
    const m = createMachine("long");
    m.cpu.state.gdtr.limit = 0xff;
    // 0x60: a TSS descriptor (16 bytes), 0x70: a task gate.
    setGdt(m, 0x60, descriptor(BASE.B, 0x67, 0x09, 0));
    setGdt(m, 0x68, [0, 0]);
    setGdt(m, 0x70, taskGate(0x60));
    setGdt(m, 0x78, [0, 0]);
    m.load(L.HANDLER, [POP_EAX, HLT]);
    m.gate(13, L.HANDLER);
    m.load(L.CODE, code);
    return m;
  }

  it.each([
    ["a TSS descriptor", 0x60],
    ["a task gate", 0x70],
  ])("far JMP to %s is #GP(selector)", (_name, sel) => {
    // JMP FAR [abs32] (FF /5, ModRM 2C, SIB 25) with the pointer at L.DATA.
    const m = long([0xff, 0x2c, 0x25, ...le32(L.DATA), HLT]);
    m.write32(L.DATA, 0);
    m.write32(L.DATA + 4, sel);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(m.cpu.eventCounts[13]).toBe(1);
    expect(eax(m)).toBe(sel);
    expect(m.cpu.state.segSelector[Seg.TR]).toBe(SEL.TSS);
  });

  it("LTR reads the 16-byte TSS descriptor (64-bit base) and marks it busy", () => {
    const m = long([...movEax(0x60), ...LTR_AX, HLT]);
    m.write32(L.GDT + 0x68, 0x0000_7fff); // base bits 63:32
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    const s = m.cpu.state;
    expect(s.segSelector[Seg.TR]).toBe(0x60);
    expect(s.segBase[2 * Seg.TR + 1]).toBe(0x7fff);
    expect(s.segBase[2 * Seg.TR]).toBe(BASE.B);
    expect(typeOf(m, 0x60)).toBe(0x0b);
  });

  it.each([
    ["a non-zero type in the descriptor's upper half", 0, 0x0000_0100],
    ["a non-canonical base", 0x0001_0000, 0],
  ])("LTR with %s is #GP(selector)", (_name, baseHi, upper) => {
    const m = long([...movEax(0x60), ...LTR_AX, HLT]);
    m.write32(L.GDT + 0x68, baseHi);
    m.write32(L.GDT + 0x6c, upper);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(eax(m)).toBe(0x60);
    expect(m.cpu.state.segSelector[Seg.TR]).toBe(SEL.TSS);
    expect(typeOf(m, 0x60)).toBe(0x09);
  });

  it("IRET with NT = 1 is #GP(0)", () => {
    const m = long([0x48, IRET, HLT]);
    m.cpu.state.flags.write(0x2 | NT);
    m.cpu.state.gpr[0] = 0x5555;
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(m.cpu.eventCounts[13]).toBe(1);
    expect(eax(m)).toBe(0);
  });

  it("a task gate in the IDT is #GP(vector × 8 + 2)", () => {
    const m = long([0xcd, 0x40, HLT]);
    const at = L.IDT + 0x40 * 16;
    m.write32(at, 0x60 << 16);
    m.write32(at + 4, 0x8500);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(eax(m)).toBe(0x40 * 8 + 2);
  });
});

describe("malformed tasks never throw out of run", () => {
  it("random TSS contents and descriptor bits give an architectural outcome", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0x68, maxLength: 0x68 }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.constantFrom(T.B, T.GATE_B, T.D16, T.A),
        fc.boolean(),
        (bytes, attrs, target, call) => {
          const m = tasks([...(call ? callFar(target) : jmpFar(target)), HLT]);
          m.load(BASE.B, bytes);
          m.load(BASE.D16, bytes.subarray(0, 0x2c));
          // Random type/DPL/present bits for B's descriptor (limit and base kept).
          const at = L.GDT + T.B + 4;
          m.write32(at, (m.read32(at) & ~0xff00) | ((attrs & 0xff) << 8));
          for (const v of [8, 10, 11, 12, 13, 14]) idtTaskGate(m, v, T.C);
          const why = m.cpu.run(50);
          expect(Object.values(StopReason)).toContain(why);
        },
      ),
      { numRuns: 60 },
    );
  });
});
