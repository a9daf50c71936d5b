// Call gates that copy parameters (SDM vol. 3, 5.8.5) and the 15-byte instruction limit
// (SDM vol. 2, 2.3.11), as the guest-kit programs found them missing.
import { describe, expect, it } from "vitest";
import { Gpr, Seg, StopReason } from "../src/index.js";
import { createMachine, L, SEL } from "./modes.js";

const GATE = 0x60;

/** A protected-mode machine running at CPL 3 with a 32-bit call gate (DPL 3) to L.HANDLER in ring 0. */
function userMachine(count: number, gateType: 0x0c | 0x04 = 0x0c, offset: number = L.HANDLER) {
  const m = createMachine("protected");
  const s = m.cpu.state;
  s.gdtr.limit = 0xff;
  m.write32(L.GDT + GATE, ((SEL.CODE32 << 16) | (offset & 0xffff)) >>> 0);
  m.write32(L.GDT + GATE + 4, ((offset & 0xffff0000) | 0x8000 | (3 << 13) | (gateType << 8) | count) >>> 0);
  s.segSelector[Seg.CS] = SEL.CODE32_U;
  s.segAccess[Seg.CS] = 0xc0fb;
  for (const seg of [Seg.ES, Seg.SS, Seg.DS, Seg.FS, Seg.GS]) {
    s.segSelector[seg] = SEL.DATA_U;
    s.segAccess[seg] = 0xc0f3;
  }
  m.load(offset, [0xf4]); // hlt (ring 0)
  return m;
}

describe("call gates with parameters", () => {
  it("a call inward copies the gate's parameter count of doublewords to the new stack, in order", () => {
    const m = userMachine(2);
    // push 0x11111111; push 0x22222222; call 0x63:0 (the gate, RPL 3)
    m.load(L.CODE, [
      0x68,
      0x11,
      0x11,
      0x11,
      0x11,
      0x68,
      0x22,
      0x22,
      0x22,
      0x22,
      0x9a,
      0,
      0,
      0,
      0,
      GATE | 3,
      0,
    ]);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(m.cpu.state.segSelector[Seg.CS]).toBe(SEL.CODE32);
    const k = L.KSTACK;
    expect(m.cpu.state.get32(Gpr.RSP)).toBe(k - 24);
    expect(m.read32(k - 24)).toBe(L.CODE + 17); // return EIP
    expect(m.read32(k - 20)).toBe(SEL.CODE32_U); // caller's CS
    expect(m.read32(k - 16)).toBe(0x22222222); // the parameters, as they lay on the caller's stack
    expect(m.read32(k - 12)).toBe(0x11111111);
    expect(m.read32(k - 8)).toBe(L.STACK - 8); // caller's ESP
    expect(m.read32(k - 4)).toBe(SEL.DATA_U); // caller's SS
  });

  it("a 16-bit gate copies words", () => {
    const m = userMachine(3, 0x04, 0x8000); // a 16-bit gate holds a 16-bit offset
    // push 0x1111; push 0x2222; push 0x3333 (16-bit pushes); call 0x63:0
    m.load(L.CODE, [
      0x66,
      0x68,
      0x11,
      0x11,
      0x66,
      0x68,
      0x22,
      0x22,
      0x66,
      0x68,
      0x33,
      0x33,
      0x9a,
      0,
      0,
      0,
      0,
      GATE | 3,
      0,
    ]);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    const k = L.KSTACK;
    const words = [0, 1, 2, 3, 4, 5, 6].map((n) => m.read32(k - 14 + 2 * n) & 0xffff);
    // IP, CS, the three parameters, SP, SS (words)
    expect(words).toEqual([
      (L.CODE + 19) & 0xffff,
      SEL.CODE32_U,
      0x3333,
      0x2222,
      0x1111,
      (L.STACK - 6) & 0xffff,
      SEL.DATA_U,
    ]);
  });

  it("a parameter beyond the caller's stack limit is the caller's #SS, nothing pushed", () => {
    const m = userMachine(4);
    m.gate(12, L.HANDLER + 0x10);
    m.load(L.HANDLER + 0x10, [0xf4]);
    // The caller's stack: the 15-byte data segment at 0x58 (limit 15), ESP = 8: parameters 2 and 3 lie beyond it.
    m.write32(L.GDT + 0x58 + 4, 0x0040f200); // DPL 3
    const s = m.cpu.state;
    s.segSelector[Seg.SS] = 0x58 | 3;
    s.segLimit[Seg.SS] = 15;
    s.segBase[2 * Seg.SS] = 0;
    s.gpr[8] = 8;
    m.load(L.CODE, [0x9a, 0, 0, 0, 0, GATE | 3, 0]);
    m.cpu.run(100);
    expect(m.cpu.eventCounts[12]).toBe(1);
    // The #SS frame (from ring 3: error, EIP, CS, EFLAGS, ESP, SS) names the CALL, with ESP as it was.
    expect(m.read32(L.KSTACK - 20)).toBe(L.CODE);
    expect(m.read32(L.KSTACK - 8)).toBe(8);
    expect(m.cpu.state.segSelector[Seg.CS]).toBe(SEL.CODE32);
  });
});

describe("instruction length", () => {
  it("an instruction of 16 bytes (15 prefixes + NOP) raises #GP(0); 15 bytes run", () => {
    const m = createMachine("protected");
    m.gate(13, L.HANDLER);
    m.load(L.HANDLER, [0xf4]);
    m.load(L.CODE, [...new Array<number>(14).fill(0x66), 0x90, ...new Array<number>(15).fill(0x66), 0x90]);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(m.cpu.eventCounts[6]).toBe(0);
    expect(m.cpu.eventCounts[13]).toBe(1);
    // The 15-byte NOP ran; the fault is reported at the 16-byte one, with error code 0.
    expect(m.read32(L.STACK - 12)).toBe(L.CODE + 15);
    expect(m.read32(L.STACK - 16)).toBe(0);
  });
});
