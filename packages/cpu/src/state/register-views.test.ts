// The 8/16/32/64-bit register views against a model of 16 BigInt registers (tests only).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CpuState } from "./cpu-state.js";

type Write = { reg: number; size: 8 | 16 | 32 | 64; rex: boolean; lo: number; hi: number };

const write = fc.record({
  reg: fc.integer({ min: 0, max: 15 }),
  size: fc.constantFrom(8 as const, 16 as const, 32 as const, 64 as const),
  rex: fc.boolean(),
  lo: fc.integer({ min: 0, max: 0xffffffff }),
  hi: fc.integer({ min: 0, max: 0xffffffff }),
});

/** Architectural effect of a register write (SDM vol. 1, 3.4.1.1). */
function model(regs: bigint[], w: Write): void {
  const v = (BigInt(w.hi) << 32n) | BigInt(w.lo);
  if (w.size === 64) regs[w.reg] = v;
  else if (w.size === 32) regs[w.reg] = v & 0xffffffffn;
  else if (w.size === 16) regs[w.reg] = (regs[w.reg]! & ~0xffffn) | (v & 0xffffn);
  else if (!w.rex && w.reg >= 4 && w.reg < 8) {
    const r = w.reg - 4;
    regs[r] = (regs[r]! & ~0xff00n) | ((v & 0xffn) << 8n);
  } else {
    // Without REX, 8-bit numbers 8-15 cannot be encoded; treat them as the REX form.
    regs[w.reg] = (regs[w.reg]! & ~0xffn) | (v & 0xffn);
  }
}

describe("register views", () => {
  it("any sequence of sized writes reads back as the architectural model says", () => {
    fc.assert(
      fc.property(fc.array(write, { maxLength: 40 }), (writes) => {
        const s = new CpuState();
        s.gpr.fill(0);
        const regs = Array.from({ length: 16 }, () => 0n);
        for (const w of writes) {
          s.setSized(w.reg, w.size, w.lo, w.hi, w.rex);
          model(regs, w);
        }
        for (let r = 0; r < 16; r++) {
          const v = regs[r]!;
          expect((BigInt(s.hi(r)) << 32n) | BigInt(s.lo(r))).toBe(v);
          expect(s.get32(r)).toBe(Number(v & 0xffffffffn));
          expect(s.get16(r)).toBe(Number(v & 0xffffn));
          expect(s.get8(r, true)).toBe(Number(v & 0xffn));
          if (r >= 4 && r < 8) expect(s.get8(r, false)).toBe(Number((regs[r - 4]! >> 8n) & 0xffn));
          else expect(s.get8(r, false)).toBe(Number(v & 0xffn));
        }
      }),
    );
  });
});
