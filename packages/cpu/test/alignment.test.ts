// Alignment checking, #AC(0) (SDM vol. 3, 6.15 "Interrupt 17—Alignment Check Exception" and
// Table 6-7 "Alignment Requirements by Data Type"): only with CR0.AM = 1, RFLAGS.AC = 1 and
// CPL 3, and never for implicit supervisor accesses.
import { describe, expect, it } from "vitest";
import { Gpr, Seg, StopReason } from "../src/index.js";
import { createMachine, L, SEL, type TestMachine } from "./modes.js";

const AM = 0x40000;
const AC = 0x40000;
// #AC handler (CPL 0): pop rax (error code); mov rbx, [rsp] (faulting RIP); hlt
const AC_HANDLER = [0x58, 0x48, 0x8b, 0x1c, 0x24, 0xf4];

/** A long-mode machine running `code` at CPL 3 with RDI = `rdi`. */
function user64(
  code: number[],
  opts: { am?: boolean; ac?: boolean; cpl?: 0 | 3; rdi?: number },
): TestMachine {
  const m = createMachine("long");
  const s = m.cpu.state;
  m.load(L.CODE, [...code, 0xcc]); // the code, then INT3
  m.load(L.HANDLER, AC_HANDLER);
  m.load(L.HANDLER + 0x100, [0xf4]); // #BP handler: hlt
  m.gate(17, L.HANDLER);
  m.gate(3, L.HANDLER + 0x100, { dpl: 3 });
  if ((opts.cpl ?? 3) === 3) {
    s.segSelector[Seg.CS] = SEL.CODE64_U;
    s.segAccess[Seg.CS] = 0xa0fb;
    s.segSelector[Seg.SS] = SEL.DATA_U;
    s.segAccess[Seg.SS] = 0xc0f3;
  }
  if (opts.am ?? true) s.cr[0] = (s.cr[0]! | AM) >>> 0;
  s.flags.write(0x2 | ((opts.ac ?? true) ? AC : 0));
  s.gpr[2 * Gpr.RDI] = opts.rdi ?? L.DATA;
  s.gpr[2 * Gpr.RSI] = opts.rdi ?? L.DATA;
  return m;
}

/** Runs and tells whether #AC(0) was raised at the first instruction. */
function acRaised(m: TestMachine): boolean {
  expect(m.cpu.run(100)).toBe(StopReason.Halted);
  const raised = m.cpu.eventCounts[17]! > 0;
  if (raised) {
    expect(m.cpu.state.lo(Gpr.RAX)).toBe(0); // error code 0
    expect(m.cpu.state.lo(Gpr.RBX)).toBe(L.CODE); // a fault: the RIP of the access
  }
  return raised;
}

const MOV_EAX = [0x8b, 0x07]; // mov eax, [rdi]
const MOV_AX = [0x66, 0x8b, 0x07]; // mov ax, [rdi]
const MOV_RAX = [0x48, 0x8b, 0x07]; // mov rax, [rdi]
const MOV_AL = [0x8a, 0x07]; // mov al, [rdi]
const STORE_EAX = [0x89, 0x07]; // mov [rdi], eax
const LODSD = [0xad];
const ADD_MEM = [0x01, 0x07]; // add [rdi], eax

describe("#AC(0)", () => {
  const cases: [string, number[], number, boolean][] = [
    ["dword at +1", MOV_EAX, 1, true],
    ["dword at +2", MOV_EAX, 2, true],
    ["dword at +4", MOV_EAX, 4, false],
    ["word at +1", MOV_AX, 1, true],
    ["word at +2", MOV_AX, 2, false],
    ["qword at +4", MOV_RAX, 4, true],
    ["qword at +8", MOV_RAX, 8, false],
    ["byte at +1", MOV_AL, 1, false],
    ["dword store at +3", STORE_EAX, 3, true],
    ["read-modify-write at +2", ADD_MEM, 2, true],
    ["LODSD at +1", LODSD, 1, true],
  ];
  for (const [name, code, offset, fault] of cases) {
    it(`${name}: ${fault ? "faults" : "does not fault"} with AM = AC = 1 at CPL 3`, () => {
      expect(acRaised(user64(code, { rdi: L.DATA + offset }))).toBe(fault);
    });
  }

  it("needs all three conditions: CR0.AM, RFLAGS.AC and CPL 3", () => {
    expect(acRaised(user64(MOV_EAX, { rdi: L.DATA + 1 }))).toBe(true);
    expect(acRaised(user64(MOV_EAX, { rdi: L.DATA + 1, am: false }))).toBe(false);
    expect(acRaised(user64(MOV_EAX, { rdi: L.DATA + 1, ac: false }))).toBe(false);
    expect(acRaised(user64(MOV_EAX, { rdi: L.DATA + 1, cpl: 0 }))).toBe(false);
  });

  it("a misaligned user stack faults on PUSH", () => {
    const m = user64([0x50], {}); // push rax
    m.cpu.state.gpr[2 * Gpr.RSP] = L.STACK + 4;
    expect(acRaised(m)).toBe(true);
  });

  it("turns on when user code sets RFLAGS.AC with POPF", () => {
    // pushfq; or dword [rsp], 40000h; popfq; mov eax, [rdi]
    const code = [0x9c, 0x81, 0x0c, 0x24, 0x00, 0x00, 0x04, 0x00, 0x9d, ...MOV_EAX];
    const m = user64(code, { ac: false, rdi: L.DATA + 1 });
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(m.cpu.eventCounts[17]).toBe(1);
    expect(m.cpu.state.lo(Gpr.RBX)).toBe(L.CODE + 9);
  });

  it("32-bit protected mode at CPL 3: checks alignment, and the segment checks still come first", () => {
    const run = (off: number, limit = 0xffffffff) => {
      const m = createMachine("protected");
      const s = m.cpu.state;
      m.load(L.CODE, [0x8b, 0x07, 0x8b, 0x1e, 0xcd, 0x30]); // mov eax, [edi]; mov ebx, [esi]; int 30h
      m.load(L.HANDLER, [0xf4]);
      m.load(L.HANDLER + 0x100, [0xf4]);
      m.load(L.HANDLER + 0x200, [0xf4]);
      m.gate(0x30, L.HANDLER, { dpl: 3 });
      m.gate(17, L.HANDLER + 0x100);
      m.gate(13, L.HANDLER + 0x200);
      s.segSelector[Seg.CS] = SEL.CODE32_U;
      s.segAccess[Seg.CS] = 0xc0fb;
      for (const seg of [Seg.SS, Seg.DS, Seg.ES]) {
        s.segSelector[seg] = SEL.DATA_U;
        s.segAccess[seg] = 0xc0f3;
      }
      s.segLimit[Seg.DS] = limit;
      s.cr[0] = (s.cr[0]! | AM) >>> 0;
      s.flags.write(0x2 | AC);
      m.write32(L.DATA + 8, 0x11223344);
      s.gpr[2 * Gpr.RDI] = L.DATA + 8;
      s.gpr[2 * Gpr.RSI] = L.DATA + off;
      expect(m.cpu.run(100)).toBe(StopReason.Halted);
      return [m.cpu.eventCounts[17], m.cpu.eventCounts[13], s.lo(Gpr.RAX)];
    };
    expect(run(8)).toEqual([0, 0, 0x11223344]);
    expect(run(9)).toEqual([1, 0, 0x11223344]);
    expect(run(9, L.DATA + 11)).toEqual([0, 1, 0x11223344]); // beyond the limit: #GP before #AC
  });

  it("checking stops when the handler runs at CPL 0 and resumes after IRET to ring 3", () => {
    // ring 3: mov eax, [rdi] (misaligned: #AC); the handler skips it, IRETQs; then mov ebx, [rdi] faults again
    const m = user64([0x8b, 0x07, 0x8b, 0x1f], { rdi: L.DATA + 1 });
    // #AC handler: add rsp, 8 (error code); add qword [rsp], 2; mov ecx, [rdi] (ring 0, misaligned); iretq
    m.load(L.HANDLER, [0x48, 0x83, 0xc4, 0x08, 0x48, 0x83, 0x04, 0x24, 0x02, 0x8b, 0x0f, 0x48, 0xcf]);
    m.write32(L.DATA + 1, 0xabcd);
    expect(m.cpu.run(100)).toBe(StopReason.Halted); // the INT3 at the end reaches the #BP handler
    expect(m.cpu.eventCounts[17]).toBe(2);
    expect(m.cpu.state.lo(Gpr.RCX)).toBe(0xabcd);
  });

  it("does not check the implicit supervisor pushes of an interrupt from ring 3 (misaligned ESP0)", () => {
    const m = createMachine("protected");
    const s = m.cpu.state;
    m.load(L.CODE, [0xcd, 0x80]); // int 80h
    m.load(L.HANDLER, [0xf4]);
    m.gate(0x80, L.HANDLER, { dpl: 3 });
    m.write32(L.TSS + 4, L.KSTACK + 2); // ESP0, misaligned
    s.segSelector[Seg.CS] = SEL.CODE32_U;
    s.segAccess[Seg.CS] = 0xc0fb;
    for (const seg of [Seg.SS, Seg.DS, Seg.ES]) {
      s.segSelector[seg] = SEL.DATA_U;
      s.segAccess[seg] = 0xc0f3;
    }
    s.cr[0] = (s.cr[0]! | AM) >>> 0;
    s.flags.write(0x2 | AC);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(m.cpu.eventCounts[0x80]).toBe(1);
    expect(m.cpu.eventCounts[17]).toBe(0);
    expect(s.rip).toBe(L.HANDLER + 1);
  });
});
