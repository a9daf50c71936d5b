// Block links across privilege changes in 64-bit mode: a CPL change no longer drops every link
// (cpu.ts, setCpl: the link epoch carries the CPL), so a link made at one CPL must never be
// followed at another.
import { describe, expect, it } from "vitest";
import { Gpr, StopReason } from "../src/index.js";
import { createMachine, L, SEL } from "./modes.js";

const X = 0x40_0000; // a supervisor-only 2-MiB page (PD[2] without U/S)
const P = L.CODE + 0x80; // IRETQ, reached twice: to X at CPL 0, then to X at CPL 3
const PF_HANDLER = L.CODE + 0xc0;

/** JMP rel32 from `at` to `to`. */
function jmp(at: number, to: number): number[] {
  const rel = (to - (at + 5)) | 0;
  return [0xe9, rel & 0xff, (rel >>> 8) & 0xff, (rel >>> 16) & 0xff, (rel >>> 24) & 0xff];
}

/** PUSH imm32 (sign-extended to 64 bits). */
function push32(v: number): number[] {
  return [0x68, v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

describe("block links across CPL changes in 64-bit mode", () => {
  it("a block linked at CPL 0 is not entered at CPL 3 (the user fetch from a supervisor page faults)", () => {
    const m = createMachine("long");
    m.write32(L.PD + 8 * 2, X | 0x83); // present, writable, supervisor, 2 MiB
    // First pass: IRETQ from P to X in ring 0; X jumps back to the second pass.
    const first = [0x6a, SEL.DATA64, ...push32(L.STACK), 0x9c, 0x6a, SEL.CODE64, ...push32(X)];
    // P is reached by an indirect jump, so that it is a block of its own (blocks follow JMP rel).
    const toP = [0xb8, ...push32(P).slice(1), 0xff, 0xe0]; // mov eax, P; jmp rax
    m.load(L.CODE, [...first, ...toP]);
    const secondAt = L.CODE + 0x40;
    const second = [0x6a, SEL.DATA_U, ...push32(0x9_0000), 0x9c, 0x6a, SEL.CODE64_U, ...push32(X)];
    m.load(secondAt, [...second, ...toP]);
    m.load(P, [0x48, 0xcf]); // iretq
    m.load(X, [0x48, 0xff, 0xc3, ...jmp(X + 3, secondAt)]); // inc rbx; jmp second
    m.load(PF_HANDLER, [0xf4]); // hlt
    m.gate(14, PF_HANDLER);
    expect(m.cpu.run(1000)).toBe(StopReason.Halted);
    expect(m.cpu.eventCounts[14]).toBe(1);
    expect(m.cpu.state.lo(Gpr.RBX)).toBe(1); // X ran once, at CPL 0
    expect(m.cpu.state.cr[4]).toBe(X); // CR2: the user-mode fetch at X
    const errorAt = L.KSTACK - 48; // RSP0, then the frame with its error code
    expect(m.read64(errorAt)).toBe(0x5n); // present, user, read (no I/D: EFER.NXE = 0)
    expect(m.read64(errorAt + 8)).toBe(BigInt(X)); // the faulting RIP
    expect(m.read64(errorAt + 16)).toBe(BigInt(SEL.CODE64_U));
  });

  it("SYSCALL/SYSRET round trips give the same results in any slicing", () => {
    for (const slice of [1, 3, 7, 1000]) {
      const m = createMachine("long");
      const c = m.cpu;
      const s = c.state;
      const handler = L.CODE + 0x100;
      // Ring 3 at L.CODE: inc rbx; syscall; dec r12d; jnz L.CODE; int3.
      m.load(L.CODE, [0x48, 0xff, 0xc3, 0x0f, 0x05, 0x41, 0xff, 0xcc, 0x75, 0xf6, 0xcc]);
      m.load(handler, [0x48, 0xff, 0xc2, 0x48, 0x0f, 0x07]); // inc rdx; sysretq
      m.load(L.CODE + 0x200, [0xf4]); // #BP handler: hlt
      m.gate(3, L.CODE + 0x200, { dpl: 3 });
      s.segSelector[1] = SEL.CODE64_U; // CS
      s.segAccess[1] = 0xa0fb;
      s.segSelector[2] = SEL.DATA_U; // SS
      s.segAccess[2] = 0xc0f3;
      c.msrs.star[1] = (0x28 << 16) | SEL.CODE64; // SYSCALL: CS 0x18; SYSRET: CS 0x38|3, SS 0x30|3
      c.msrs.lstar[0] = handler;
      c.msrs.lstar[1] = 0;
      c.msrs.fmask[0] = 0;
      s.set64(Gpr.R12, 50, 0);
      s.set64(Gpr.RDX, 0, 0); // reset leaves the processor signature there
      let reason: StopReason = StopReason.Budget;
      for (let k = 0; k < 10000 && reason === StopReason.Budget; k++) reason = c.run(slice);
      expect(reason).toBe(StopReason.Halted);
      expect(s.lo(Gpr.RBX)).toBe(50);
      expect(s.lo(Gpr.RDX)).toBe(50);
      expect(c.eventCounts[3]).toBe(1);
      expect(m.read32(L.KSTACK - 40)).toBe(L.CODE + 11); // the #BP frame: RIP after INT3
      expect(m.read32(L.KSTACK - 32)).toBe(SEL.CODE64_U);
    }
  });
});
